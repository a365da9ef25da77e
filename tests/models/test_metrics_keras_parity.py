"""Every keras.metrics class against results Keras 3 computed after each of two batches
(tests/reference/losses_metrics/metrics.npz), plus configs and the base behaviours."""

import json
from pathlib import Path

import numpy as np
import pytest

from npgrad import metrics
from tests.reference.losses_metrics_cases import metric_cases

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "losses_metrics" / "metrics.npz"
CASES = metric_cases()


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _build(name):
    cls, kwargs, batches = CASES[name]
    return getattr(metrics, cls)(**kwargs), batches


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_match_keras(name, reference):
    metric, batches = _build(name)
    results = []
    for batch in batches:
        metric.update_state(*batch)
        results.append(np.asarray(metric.result(), dtype=np.float64))
    np.testing.assert_allclose(np.stack(results), reference[f"{name}/results"], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip_and_reset(name):
    metric, batches = _build(name)
    rebuilt = metrics.deserialize(json.loads(json.dumps(metrics.serialize(metric))))
    assert type(rebuilt) is type(metric) and rebuilt.get_config() == metric.get_config()
    fresh = np.asarray(metric.result(), dtype=np.float64)
    for batch in batches:
        metric.update_state(*batch)
        rebuilt.update_state(*batch)
    np.testing.assert_array_equal(np.asarray(metric.result()), np.asarray(rebuilt.result()))
    metric.reset_state()
    np.testing.assert_array_equal(np.asarray(metric.result(), dtype=np.float64), fresh)


def test_every_keras_metric_class_has_a_reference_case():
    from tests.test_keras_names import KERAS_NAMES

    covered = {case[0] for case in CASES.values()}
    basic = {"Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
             "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
             "MeanSquaredError", "MeanAbsoluteError"}  # tested in test_metrics.py
    classes = {name for name in KERAS_NAMES["metrics"] if name[0].isupper()}
    assert classes - basic <= covered, sorted(classes - basic - covered)


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match="Precision: thresholds"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="AUC: curve"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="IoU: target_class_ids"):
        metrics.IoU(num_classes=2, target_class_ids=[3])
    with pytest.raises(ValueError, match="PrecisionAtRecall: recall"):
        metrics.PrecisionAtRecall(recall=2.0)


def test_names_resolve():
    for name in ("auc", "precision", "recall", "f1_score", "r2_score", "mape", "logcosh",
                 "kl_divergence", "root_mean_squared_error", "true_positives"):
        assert metrics.get(name).name == name
    with pytest.raises(ValueError, match="valid names"):
        metrics.get("PrecisionAtRecall")  # needs its recall argument


def test_repr_and_fit_with_the_new_metrics():
    import npgrad

    assert "result=[0. 0.]" in repr(metrics.Recall(thresholds=[0.3, 0.6]))
    model = npgrad.Sequential([npgrad.layers.Dense(3, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["auc", "precision", metrics.F1Score(average="macro"),
                           metrics.AUC(multi_label=True, name="ml_auc"), metrics.R2Score(),
                           metrics.BinaryIoU()])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), rng.integers(0, 2, (32, 3)).astype("float32")
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)
    assert {"auc", "precision", "f1_score", "ml_auc", "r2_score", "binary_io_u",
            "val_auc"} <= set(history.history)
    assert all(np.isfinite(v).all() for v in history.history.values())
