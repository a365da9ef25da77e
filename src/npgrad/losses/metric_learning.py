"""Metric-learning losses on embeddings: Circle (Sun et al. 2020), as Keras' ``circle``."""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.layers.masks import set_keras_mask
from npgrad.losses.loss import KerasLoss, prediction_tensor, target_array


def _masked_logsumexp(values, mask):
    """``log(sum(exp(values)))`` over the row's entries where ``mask`` holds (-inf if none).

    A row without any entry gets 0 in place of -inf (its loss is then masked out).
    """
    data = np.where(mask, values.data, -np.inf)
    top = np.max(data, axis=1, keepdims=True)
    empty = ~np.isfinite(top)
    top = np.where(empty, 0, top).astype(values.dtype)
    terms = F.exp(values - top) * mask.astype(values.dtype)
    total = terms.sum(axis=1, keepdims=True) + empty.astype(values.dtype)
    return (F.log(total) + top)[:, 0], empty[:, 0]


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,
           margin=0.4):
    """Per-sample Circle loss of L2-normalized embeddings (Keras ``circle``).

    ``softplus(logsumexp(-gamma a_p (m - d_p)) + logsumexp(gamma a_n (1 - m - d_n)))`` over
    the positive pairs p (same label) and negative pairs n of each sample, with cosine
    distances ``d = max(1 - x . r, 0)`` and weights ``a_p = max(m + d_p, 0)``,
    ``a_n = max(1 + m - d_n, 0)``.

    Args:
        y_true: integer labels, shape (N,).
        y_pred: L2-normalized embeddings, shape (N, D).
        ref_labels: labels of the reference embeddings (default ``y_true``).
        ref_embeddings: reference embeddings (default ``y_pred``), shape (M, D).
        remove_diagonal: leave each sample's pair with itself out of the positives.
        gamma: scale factor.
        margin: relaxation margin m.

    Returns:
        Tensor (N,); the samples whose loss is 0 are masked out of the mean (Keras).
    """
    y_pred = prediction_tensor(y_pred)
    labels = target_array(y_true).astype(np.int64).reshape(-1)
    reference = y_pred if ref_embeddings is None else prediction_tensor(ref_embeddings)
    if ref_labels is None:
        ref_labels = labels
    else:
        ref_labels = target_array(ref_labels).astype(np.int64).reshape(-1)
    positive = labels[:, None] == ref_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(len(labels), len(ref_labels), dtype=bool)
    zero = np.zeros((), y_pred.dtype)
    distance = F.maximum(1.0 - F.matmul(y_pred, F.transpose(reference)), zero)
    positive_weight = F.maximum((distance + margin) * positive.astype(y_pred.dtype), zero)
    negative_weight = F.maximum(((1.0 + margin) - distance) * negative.astype(y_pred.dtype), zero)
    positive_logits = positive_weight * (margin - distance) * -float(gamma)
    negative_logits = negative_weight * ((1.0 - margin) - distance) * float(gamma)
    positive_lse, no_positive = _masked_logsumexp(positive_logits, positive)
    negative_lse, no_negative = _masked_logsumexp(negative_logits, negative)
    loss = F.softplus(positive_lse + negative_lse)
    loss = F.where(no_positive | no_negative, zero, loss)
    set_keras_mask(loss, loss.data > 0)
    return loss


class Circle(KerasLoss):
    """Circle loss (Keras ``Circle``).

    Args:
        gamma: scale factor (default 80).
        margin: relaxation margin (default 0.4).
        remove_diagonal: leave self-pairs out of the positives.
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, name=name, reduction=reduction, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
