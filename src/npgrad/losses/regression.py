"""Regression losses: squared, absolute, percentage, logarithmic, Huber, log-cosh, cosine.

Each function returns per-sample losses, the mean over the last axis (shape
``y_pred.shape[:-1]``), except ``cosine_similarity`` (summed over ``axis``). ``y_pred`` is
differentiated, and so is ``y_true`` when it is a Tensor that requires a gradient, as
Keras's losses (written with ops) do: a consistency loss ``mse(prediction_a,
prediction_b)`` trains both branches. mse, mae and huber are fused ops
(``npgrad.primitives.loss``) whose target is a constant: with such a target they (and
log_cosh) are taken of ``y_pred - y_true`` against zero. The others are composed from
elementwise ops, which differentiate the target as they find it.
"""

from __future__ import annotations

import math

import numpy as np

import npgrad.functional as F
from npgrad.losses.loss import (
    KerasLoss,
    float_dtype,
    match_ranks,
    prediction_tensor,
    requires_target_grad,
    target_values,
)

EPSILON = 1e-7  # Keras' backend.epsilon()


def _of_difference(y_true, y_pred):
    """``(y_true, y_pred)`` unchanged, or ``(0, y_pred - y_true)`` when ``y_true`` is a Tensor
    that requires a gradient (ranks matched as Keras does, in its dtype cast to y_pred's)."""
    if not requires_target_grad(y_true):
        return y_true, y_pred
    y_pred = prediction_tensor(y_pred)
    target = y_true if y_true.dtype == y_pred.dtype else y_true.astype(y_pred.dtype)
    return np.zeros((), dtype=y_pred.dtype), y_pred - match_ranks(target, y_pred)


def _pair(y_true, y_pred):
    """(target of y_pred's dtype and rank, prediction Tensor); the target an ndarray, or a
    Tensor when it requires a gradient (``target_values``)."""
    y_pred = prediction_tensor(y_pred)
    y_true = match_ranks(target_values(y_true, float_dtype(y_pred)), y_pred)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error, ``mean((y_true - y_pred)^2, axis=-1)``.

    Args:
        y_true: targets, shape of ``y_pred`` (a trailing axis of 1 is added/dropped).
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    return F.mean_squared_error(*_of_difference(y_true, y_pred))


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error, ``mean(|y_true - y_pred|, axis=-1)``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    return F.mean_absolute_error(*_of_difference(y_true, y_pred))


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    scale = 100.0 / F.maximum(F.abs(y_true), np.asarray(EPSILON, y_true.dtype))
    return (F.abs(y_pred - y_true) * scale).mean(axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample ``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2, axis=-1)``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_log = F.log(F.maximum(y_true, np.asarray(EPSILON, y_true.dtype)) + 1.0)
    pred_log = F.log(F.maximum(y_pred, np.asarray(EPSILON, y_true.dtype)) + 1.0)
    return F.square(pred_log - true_log).mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss: quadratic for ``|d| <= delta``, linear beyond, mean over last axis.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).
        delta: positive float where the loss turns linear.

    Returns:
        Tensor of shape (N, ...).
    """
    return F.huber(*_of_difference(y_true, y_pred), delta=delta)


def log_cosh(y_true, y_pred):
    """Per-sample ``mean(log(cosh(y_pred - y_true)), axis=-1)``, as ``x + softplus(-2x) - log 2``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...); stable for any difference.
    """
    y_true, y_pred = _pair(*_of_difference(y_true, y_pred))
    diff = y_pred - y_true
    return (diff + F.softplus(diff * -2.0) - math.log(2.0)).mean(axis=-1)


def l2_normalize(x, axis=-1):
    """``x / max(||x||, 1e-7)`` along ``axis`` (Keras' ``ops.normalize``), differentiable."""
    x = prediction_tensor(x)
    square_sum = F.square(x).sum(axis=axis, keepdims=True)
    return x / F.sqrt(F.maximum(square_sum, np.asarray(EPSILON * EPSILON, x.dtype)))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample negative cosine similarity, ``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).
        axis: the axis along which the vectors lie.

    Returns:
        Tensor of ``y_pred``'s shape without ``axis``: -1 for the same direction, 0 for
        orthogonal vectors (or a zero vector), 1 for opposite ones.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    unit_true = l2_normalize(y_true, axis=axis)
    return -(l2_normalize(y_pred, axis=axis) * unit_true).sum(axis=axis)


# ------------------------------------------------------------------ classes
class MeanSquaredError(KerasLoss):
    """Mean of ``(y_true - y_pred)^2`` (Keras ``MeanSquaredError``).

    Args:
        reduction: see :class:`~npgrad.losses.Loss`. name: defaults to ``'mean_squared_error'``.
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(KerasLoss):
    """Mean of ``|y_true - y_pred|`` (Keras ``MeanAbsoluteError``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(KerasLoss):
    """``100 * |y_true - y_pred| / |y_true|`` averaged (Keras ``MeanAbsolutePercentageError``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction,
                         dtype=dtype)


class MeanSquaredLogarithmicError(KerasLoss):
    """Squared difference of ``log(1 + y)`` (Keras ``MeanSquaredLogarithmicError``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction,
                         dtype=dtype)


class CosineSimilarity(KerasLoss):
    """Negative cosine similarity (Keras ``CosineSimilarity``).

    Args:
        axis: the axis along which the vectors lie.
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)


class Huber(KerasLoss):
    """Huber loss (Keras ``Huber``).

    Args:
        delta: positive float where the loss turns from quadratic to linear.
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(KerasLoss):
    """Logarithm of the hyperbolic cosine of the error (Keras ``LogCosh``)."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)
