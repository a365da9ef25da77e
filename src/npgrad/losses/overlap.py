"""Overlap losses for segmentation: Dice and Tversky (1 - a soft overlap score).

With ``axis=None`` (Keras' default) the overlap is computed over the whole batch and the
loss is one scalar; with e.g. ``axis=(1, 2)`` it is one value per sample.
"""

from __future__ import annotations

from npgrad.losses.loss import KerasLoss, prediction_tensor, target_values

EPSILON = 1e-7  # Keras' backend.epsilon()


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def dice(y_true, y_pred, axis=None):
    """``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)`` over ``axis``.

    Args:
        y_true: targets in [0, 1], shape of ``y_pred``.
        y_pred: predicted probabilities.
        axis: the axes summed over (None: all, giving a scalar).

    Returns:
        Tensor of ``y_pred``'s shape without ``axis``.
    """
    y_pred = prediction_tensor(y_pred)
    y_true = target_values(y_true, y_pred.dtype)
    axis = _axis(axis)
    intersection = (y_pred * y_true).sum(axis=axis)
    denominator = y_pred.sum(axis=axis) + (y_true.sum(axis=axis) + EPSILON).astype(y_pred.dtype)
    return 1.0 - intersection * 2.0 / denominator


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha FP + beta FN + 1e-7)`` with soft counts over ``axis``.

    ``TP = sum(y_true y_pred)``, ``FP = sum((1 - y_pred) y_true)``,
    ``FN = sum(y_pred (1 - y_true))`` (Keras' definitions); alpha = beta = 0.5 is Dice.

    Args:
        y_true: targets in [0, 1], shape of ``y_pred``.
        y_pred: predicted probabilities.
        alpha: weight of the false positives.
        beta: weight of the false negatives.
        axis: the axes summed over (None: all, giving a scalar).

    Returns:
        Tensor of ``y_pred``'s shape without ``axis``.
    """
    y_pred = prediction_tensor(y_pred)
    y_true = target_values(y_true, y_pred.dtype)
    axis = _axis(axis)
    intersection = (y_pred * y_true).sum(axis=axis)
    false_positive = ((1.0 - y_pred) * y_true).sum(axis=axis)
    false_negative = (y_pred * (1.0 - y_true)).sum(axis=axis)
    denominator = intersection + false_positive * alpha + false_negative * beta + EPSILON
    return 1.0 - intersection / denominator


class Dice(KerasLoss):
    """Dice loss (Keras ``Dice``).

    Args:
        axis: the axes summed over (None: the whole batch).
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)


class Tversky(KerasLoss):
    """Tversky loss (Keras ``Tversky``).

    Args:
        alpha: weight of the false positives.
        beta: weight of the false negatives.
        axis: the axes summed over (None: the whole batch).
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)
