"""Property tests of the confusion, IoU and F-score metrics against brute-force definitions."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad import metrics
from npgrad.metrics.confusion_metrics import confusion_counts


@st.composite
def _binary_batch(draw, columns=1):
    n = draw(st.integers(1, 12))
    labels = draw(hnp.arrays(np.int64, (n, columns), elements=st.integers(0, 1)))
    scores = draw(hnp.arrays(np.float32, (n, columns), elements=st.floats(0, 1, width=32)))
    weights = draw(hnp.arrays(np.float32, (n,), elements=st.floats(0, 2, width=32)))
    return labels, scores, weights


def _brute(labels, scores, weights, thresholds):
    w = np.broadcast_to(weights[:, None], labels.shape)
    out = []
    for t in thresholds:
        predicted = scores > np.float32(t)
        positive = labels != 0
        out.append([np.sum(w[predicted & positive]), np.sum(w[predicted & ~positive]),
                    np.sum(w[~predicted & ~positive]), np.sum(w[~predicted & positive])])
    return np.array(out).T


@given(batch=_binary_batch(3),
       thresholds=st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_counts_at_any_thresholds_are_the_definition(batch, thresholds):
    labels, scores, weights = batch
    counts = np.array(confusion_counts(labels, scores, thresholds, sample_weight=weights))
    np.testing.assert_allclose(counts, _brute(labels, scores, weights, thresholds),
                               rtol=1e-6, atol=1e-6)


@given(batch=_binary_batch(2), n=st.integers(3, 30))
def test_bucketed_counts_equal_the_definition_away_from_the_thresholds(batch, n):
    labels, scores, weights = batch
    thresholds = np.linspace(0, 1, n)
    # a score within float rounding of a threshold may land in either bucket (as in Keras)
    gap = np.min(np.abs(scores.reshape(-1, 1) - thresholds[None, :]))
    if gap < 1e-5:
        return
    fast = np.array(confusion_counts(labels, scores, thresholds, sample_weight=weights,
                                     evenly=True))
    np.testing.assert_allclose(fast, _brute(labels, scores, weights, thresholds), rtol=1e-6,
                               atol=1e-6)


@given(batch=_binary_batch(1))
def test_auc_of_a_perfect_and_a_reversed_ranking(batch):
    labels, scores, _ = batch
    if labels.min() == labels.max():
        return
    perfect = labels * 0.9 + 0.05
    assert metrics.AUC(num_thresholds=1000)(labels, perfect) > 0.999
    assert metrics.AUC(num_thresholds=1000)(labels, 1 - perfect) < 0.001


@given(data=st.data())
def test_mean_iou_is_the_definition(data):
    k = data.draw(st.integers(2, 4))
    y_true = data.draw(hnp.arrays(np.int64, (10,), elements=st.integers(0, k - 1)))
    y_pred = data.draw(hnp.arrays(np.int64, (10,), elements=st.integers(0, k - 1)))
    ious = []
    for c in range(k):
        union = np.sum((y_true == c) | (y_pred == c))
        if union:
            ious.append(np.sum((y_true == c) & (y_pred == c)) / union)
    np.testing.assert_allclose(metrics.MeanIoU(k)(y_true, y_pred), np.mean(ious), rtol=1e-6)


@given(batch=_binary_batch(3))
def test_micro_f1_is_the_harmonic_mean_of_pooled_precision_and_recall(batch):
    labels, scores, _ = batch
    f1 = metrics.F1Score(average="micro", threshold=0.5)(labels.astype(np.float32), scores)
    predicted = scores > 0.5
    tp = np.sum(predicted & (labels == 1))
    precision = tp / (np.sum(predicted) + 1e-7)
    recall = tp / (np.sum(labels == 1) + 1e-7)
    expected = 2 * precision * recall / (precision + recall + 1e-7)
    np.testing.assert_allclose(f1, expected, rtol=1e-5, atol=1e-6)
