"""Hinge (maximum-margin) losses: hinge, squared hinge, categorical hinge.

``y_true`` holds -1/1 labels; labels that are all 0 or 1 are converted to -1/1 first, as
Keras does. Per-sample losses are means over the last axis.
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.losses.loss import (
    KerasLoss,
    match_ranks,
    prediction_tensor,
    target_array,
    target_values,
)


def hinge_labels(y_true):
    """0/1 labels as -1/1 (labels holding anything else are returned unchanged)."""
    data = target_array(y_true)
    if np.all((data == 0) | (data == 1)):
        return 2.0 * y_true - 1.0
    return y_true


def _margins(y_true, y_pred):
    y_pred = prediction_tensor(y_pred)
    y_true = hinge_labels(match_ranks(target_values(y_true, y_pred.dtype), y_pred))
    zero = np.zeros((), y_pred.dtype)
    return F.maximum(1.0 - y_pred * y_true.astype(y_pred.dtype), zero)


def hinge(y_true, y_pred):
    """Per-sample ``mean(max(1 - y_true * y_pred, 0), axis=-1)``.

    Args:
        y_true: -1/1 (or 0/1) labels, shape of ``y_pred``.
        y_pred: scores, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    return _margins(y_true, y_pred).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """Per-sample ``mean(max(1 - y_true * y_pred, 0)^2, axis=-1)``.

    Args:
        y_true: -1/1 (or 0/1) labels, shape of ``y_pred``.
        y_pred: scores, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    return F.square(_margins(y_true, y_pred)).mean(axis=-1)


def categorical_hinge(y_true, y_pred):
    """Per-sample ``max(neg - pos + 1, 0)``, ``pos = sum(y y_pred)``, ``neg = max((1 - y) y_pred)``.

    Args:
        y_true: one-hot targets, shape (N, ..., C).
        y_pred: scores, shape (N, ..., C).

    Returns:
        Tensor of shape (N, ...).
    """
    y_pred = prediction_tensor(y_pred)
    y_true = target_values(y_true, y_pred.dtype)
    positive = (y_pred * y_true).sum(axis=-1)
    negative = (y_pred * (1.0 - y_true)).max(axis=-1)
    return F.maximum(negative - positive + 1.0, np.zeros((), y_pred.dtype))


class Hinge(KerasLoss):
    """Hinge loss (Keras ``Hinge``)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(KerasLoss):
    """Squared hinge loss (Keras ``SquaredHinge``)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(KerasLoss):
    """Categorical hinge loss (Keras ``CategoricalHinge``)."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)
