"""Metrics that average a loss function: regression errors, cross-entropies, KL, Poisson, hinges.

Each function of this module is Keras' ``keras.metrics.<name>``: the per-sample values of
the loss of the same name, as an ndarray (computed without recording a graph). Each class is
a :class:`~npgrad.metrics.MeanMetricWrapper` averaging one of them over all samples seen.
"""

from __future__ import annotations

import numpy as np

from npgrad import losses
from npgrad.autograd import no_grad
from npgrad.metrics.metric import Mean, MeanMetricWrapper, as_array, match_ranks


def _values(loss_fn, y_true, y_pred, **kwargs):
    """Per-sample values of a loss function on ndarrays (float inputs keep their dtype)."""
    y_pred = as_array(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    with no_grad():
        return loss_fn(as_array(y_true), y_pred, **kwargs).numpy()


def mean_squared_error(y_true, y_pred):
    """Per-sample ``mean((y_true - y_pred)^2, axis=-1)`` on ndarrays."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    y_true = match_ranks(y_true, y_pred)
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Per-sample ``mean(|y_true - y_pred|, axis=-1)`` on ndarrays."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    y_true = match_ranks(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``."""
    return _values(losses.mean_absolute_percentage_error, y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean squared difference of ``log(1 + max(y, 1e-7))``."""
    return _values(losses.mean_squared_logarithmic_error, y_true, y_pred)


def log_cosh(y_true, y_pred):
    """Per-sample ``mean(log(cosh(y_pred - y_true)), axis=-1)``."""
    return _values(losses.log_cosh, y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss (see :func:`npgrad.losses.huber`)."""
    return _values(losses.huber, y_true, y_pred, delta=delta)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample cosine similarity ``sum(l2_normalize(y_true) * l2_normalize(y_pred))``."""
    return -_values(losses.cosine_similarity, y_true, y_pred, axis=axis)


def kl_divergence(y_true, y_pred):
    """Per-sample Kullback-Leibler divergence (see :func:`npgrad.losses.kl_divergence`)."""
    return _values(losses.kl_divergence, y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample Poisson loss (see :func:`npgrad.losses.poisson`)."""
    return _values(losses.poisson, y_true, y_pred)


def hinge(y_true, y_pred):
    """Per-sample hinge loss (see :func:`npgrad.losses.hinge`)."""
    return _values(losses.hinge, y_true, y_pred)


def squared_hinge(y_true, y_pred):
    """Per-sample squared hinge loss (see :func:`npgrad.losses.squared_hinge`)."""
    return _values(losses.squared_hinge, y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    """Per-sample categorical hinge loss (see :func:`npgrad.losses.categorical_hinge`)."""
    return _values(losses.categorical_hinge, y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (see :func:`npgrad.losses.binary_crossentropy`)."""
    return _values(losses.binary_crossentropy, y_true, y_pred, from_logits=from_logits,
                   label_smoothing=label_smoothing, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy (see :func:`npgrad.losses.categorical_crossentropy`)."""
    return _values(losses.categorical_crossentropy, y_true, y_pred, from_logits=from_logits,
                   label_smoothing=label_smoothing, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample sparse categorical cross-entropy (see
    :func:`npgrad.losses.sparse_categorical_crossentropy`)."""
    return _values(losses.sparse_categorical_crossentropy, y_true, y_pred,
                   from_logits=from_logits, ignore_class=ignore_class, axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary focal cross-entropy (see
    :func:`npgrad.losses.binary_focal_crossentropy`)."""
    return _values(losses.binary_focal_crossentropy, y_true, y_pred,
                   apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                   from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Per-sample categorical focal cross-entropy (see
    :func:`npgrad.losses.categorical_focal_crossentropy`)."""
    return _values(losses.categorical_focal_crossentropy, y_true, y_pred, alpha=alpha,
                   gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                   axis=axis)


# ------------------------------------------------------------------ classes
class MeanSquaredError(MeanMetricWrapper):
    """Mean over samples of the per-sample mean squared error."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean over samples of the per-sample mean absolute error."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error (Keras ``MeanAbsolutePercentageError``)."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error (Keras ``MeanSquaredLogarithmicError``)."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean log-cosh error (Keras ``LogCoshError``, logged as ``'logcosh'``)."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between targets and predictions (1: same direction).

    Args:
        axis: the axis along which the vectors lie.
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the weighted mean of every squared error seen (Keras's RMSE metric)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: targets and predictions of one shape, weights of shape (N,)."""
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        y_true = match_ranks(y_true, y_pred)
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence (Keras ``KLDivergence``)."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss (Keras ``Poisson``)."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss (Keras ``Hinge``)."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss (Keras ``SquaredHinge``)."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss (Keras ``CategoricalHinge``)."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy (Keras metric ``BinaryCrossentropy``).

    Args:
        from_logits: whether predictions are logits.
        label_smoothing: in [0, 1].
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (Keras metric ``CategoricalCrossentropy``).

    Args:
        from_logits: whether predictions are logits.
        label_smoothing: in [0, 1].
        axis: the class axis.
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (Keras metric ``SparseCategoricalCrossentropy``).

    Args:
        from_logits: whether predictions are logits.
        ignore_class: a label value whose entries count as 0 (Keras).
        axis: the class axis.
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
