"""Correlation metrics: Pearson's and Lin's concordance correlation, per sample then averaged."""

from __future__ import annotations

import numpy as np

from npgrad.metrics.metric import MeanMetricWrapper, as_array, match_ranks

EPSILON = 1e-7  # Keras' backend.epsilon()


def _pair(y_true, y_pred):
    y_pred = as_array(y_pred)
    y_pred = y_pred if y_pred.dtype.kind == "f" else y_pred.astype(np.float32)
    y_true = match_ranks(as_array(y_true).astype(y_pred.dtype), y_pred)
    return y_true, y_pred


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of each sample's targets and predictions along ``axis``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, d).
        axis: the axis along which the correlation is taken.

    Returns:
        ndarray of ``y_pred``'s shape without ``axis`` (NaN for a constant row, as Keras).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_centered = y_true - np.mean(y_true, axis=axis, keepdims=True)
    pred_centered = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        true_centered = true_centered / np.std(true_centered, axis=axis, keepdims=True)
        pred_centered = pred_centered / np.std(pred_centered, axis=axis, keepdims=True)
    return np.mean(true_centered * pred_centered, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation of each sample along ``axis``, as Keras computes it.

    ``mean(2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred)
    + (mean(y_true) - mean(y_pred))^2 + 1e-7))`` (Keras centres y_true on y_pred's mean).

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, d).
        axis: the axis along which the correlation is taken.

    Returns:
        ndarray of ``y_pred``'s shape without ``axis``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_mean = np.mean(y_true, axis=axis, keepdims=True)
    pred_mean = np.mean(y_pred, axis=axis, keepdims=True)
    true_var = np.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = np.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + np.square(true_mean - pred_mean)
    return np.mean(2 * covariance / (norm + EPSILON), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of Pearson's correlation (Keras ``PearsonCorrelation``).

    Args:
        axis: the axis along which the correlation is taken.
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of the concordance correlation (Keras ``ConcordanceCorrelation``).

    Args:
        axis: the axis along which the correlation is taken.
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
