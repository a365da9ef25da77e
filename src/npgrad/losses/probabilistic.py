"""Probabilistic losses: the cross-entropies (plain, focal, generalized), KL divergence, Poisson.

Numerical stability: when ``y_pred`` was produced by a softmax (or a sigmoid, for binary
cross-entropy) in the graph being recorded, the plain cross-entropies read the logits that
went into it and use the stable ``from_logits=True`` form, exactly as Keras' TensorFlow
backend does with ``_keras_logits``. So a model ending in ``Dense(10, activation='softmax')``
trains on logits and never takes ``log`` of a probability that underflowed to 0. For any
finite input, in float16, float32 and float64, the cross-entropies give a finite value and
a finite gradient (see ``npgrad.primitives.loss``).

A float ``y_true`` that is a Tensor requiring a gradient is differentiated too, as Keras's
losses (ops on both arguments) do: the cross-entropies then run composed of ops
(:func:`composed_binary_crossentropy`, ``-sum(y log_softmax(z))``), since the fused ops
take their target as a constant. Integer labels are data.
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.autograd.tensor import Tensor
from npgrad.layers.masks import set_keras_mask
from npgrad.losses.loss import (
    KerasLoss,
    check_smoothing,
    float_dtype,
    match_ranks,
    prediction_tensor,
    requires_target_grad,
    target_array,
    target_values,
)
from npgrad.primitives.activation import Sigmoid, Softmax
from npgrad.primitives.loss import saturating_cast

EPSILON = 1e-7  # Keras' backend.epsilon()


# ------------------------------------------------------------------ logits recovery
def softmax_logits(y_pred):
    """The logits a last-axis softmax made ``y_pred`` from, or None.

    Only possible while the graph is recorded (inside ``fit``): ``y_pred._ctx`` is then the
    :class:`~npgrad.primitives.activation.Softmax` op, which keeps its input Tensor, the
    logits, until backward (``keeps_input_tensors``).
    """
    ctx = getattr(y_pred, "_ctx", None)
    if not isinstance(ctx, Softmax) or getattr(ctx, "saved", None) is None:
        return None
    axis = getattr(ctx, "axis", None)
    if axis is None or axis not in (-1, y_pred.ndim - 1):
        return None
    return ctx.input_tensors[0]


def sigmoid_logits(y_pred):
    """The logits a sigmoid made ``y_pred`` from (see :func:`softmax_logits`), or None."""
    ctx = getattr(y_pred, "_ctx", None)
    if not isinstance(ctx, Sigmoid) or getattr(ctx, "saved", None) is None:
        return None
    return ctx.input_tensors[0]


def _smoothed(y_true, y_pred, label_smoothing, classes=None):
    """Targets moved toward 0.5 (binary) or 1 / classes (categorical)."""
    y_true = target_values(y_true, float_dtype(y_pred))
    if not label_smoothing:
        return y_true
    uniform = 0.5 if classes is None else 1.0 / classes
    return y_true * (1.0 - label_smoothing) + uniform * label_smoothing


def _upcast(y_pred):
    """float16 predictions as float32 (the composed focal losses divide by squares of tiny
    sums and raise probabilities to powers, which under- and overflow float16); their
    gradient is saturated at float16's largest value on the way back."""
    if y_pred.dtype == np.float16:
        return saturating_cast(y_pred, np.float32), np.float16
    return y_pred, None


def _downcast(values, dtype):
    return values if dtype is None else F.cast(values, dtype)


def _last_axis(axis, ndim):
    return axis in (-1, ndim - 1)


# ------------------------------------------------------------------ cross-entropies
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy, mean over ``axis`` (Keras semantics).

    Args:
        y_true: targets in [0, 1], shape of ``y_pred`` (or without its trailing axis of 1).
        y_pred: probabilities (clipped to [1e-7, 1 - 1e-7]) or logits, shape (N, ..., d).
        from_logits: whether ``y_pred`` holds logits. A sigmoid output in the graph is
            detected and its logits used automatically.
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged over.

    Returns:
        Tensor of shape (N, ...).
    """
    y_true = _smoothed(y_true, y_pred, label_smoothing)
    if not from_logits:
        logits = sigmoid_logits(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    if requires_target_grad(y_true):
        return composed_binary_crossentropy(y_true, y_pred, from_logits, axis)
    ndim = np.ndim(y_pred.data if isinstance(y_pred, Tensor) else y_pred)
    if not _last_axis(axis, ndim):
        y_pred = prediction_tensor(y_pred)
        y_true = np.moveaxis(np.broadcast_to(match_ranks(y_true, y_pred), y_pred.shape), axis, -1)
        y_pred = F.transpose(y_pred, tuple(i for i in range(ndim) if i != axis % ndim)
                             + (axis % ndim,))
    return F.binary_crossentropy(y_true, y_pred, from_logits=from_logits)


def composed_binary_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Binary cross-entropy composed of ops, which differentiate ``y_true`` too (the fused
    op takes it as a constant): ``softplus(z) - z y`` of logits, else
    ``-(y log p + (1 - y) log(1 - p))`` of ``p`` clipped to [1e-7, 1 - 1e-7]; mean over
    ``axis``."""
    y_pred, original = _upcast(prediction_tensor(y_pred))
    y_true = match_ranks(target_values(y_true, y_pred.dtype), y_pred)
    if from_logits:
        values = F.softplus(y_pred) - y_pred * y_true
    else:
        p = F.clip(y_pred, EPSILON, 1.0 - EPSILON)
        values = -(y_true * F.log(p) + (1.0 - y_true) * F.log(1.0 - p))
    return _downcast(values.mean(axis=axis), original)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy with one-hot (or soft) targets.

    Args:
        y_true: one-hot targets, shape (N, ..., C).
        y_pred: probabilities (re-normalized, clipped to [1e-7, 1 - 1e-7]) or logits,
            shape (N, ..., C). A softmax output in the graph is detected and its logits used.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + s / C``.
        axis: the class axis.

    Returns:
        Tensor of shape (N, ...).
    """
    if label_smoothing:
        y_true = _smoothed(y_true, y_pred, label_smoothing, np.shape(target_array(y_true))[-1])
    if not from_logits and _last_axis(axis, np.ndim(getattr(y_pred, "data", y_pred))):
        logits = softmax_logits(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    if requires_target_grad(y_true):  # composed, as the fused op's target is a constant
        y_pred, original = _upcast(prediction_tensor(y_pred))
        y_true = target_values(y_true, y_pred.dtype)
        log_probs = F.log_softmax(y_pred, axis=axis) if from_logits else \
            F.log(_normalized_probabilities(y_pred, axis))
        return _downcast(-(y_true * log_probs).sum(axis=axis), original)
    return F.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample categorical cross-entropy with integer labels.

    Args:
        y_true: integer labels in [0, C), shape (N, ...) or (N, ..., 1).
        y_pred: probabilities or logits, shape (N, ..., C). A softmax output in the graph
            is detected and its logits used.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value (e.g. -1 or 255, a "void" class) whose entries give a
            loss of 0 and are left out of the mean (the returned Tensor carries them as its
            ``_keras_mask``, as Keras).
        axis: the class axis.

    Returns:
        Tensor of shape (N, ...).

    Raises:
        ValueError: naming the first label outside [0, C).
    """
    if not from_logits and _last_axis(axis, np.ndim(getattr(y_pred, "data", y_pred))):
        logits = softmax_logits(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    if ignore_class is None:
        return F.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                                 axis=axis)
    y_pred = prediction_tensor(y_pred)
    labels = target_array(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    valid = labels != ignore_class
    values = F.sparse_categorical_crossentropy(np.where(valid, labels, 0), y_pred,
                                               from_logits=from_logits, axis=axis)
    values = F.where(valid, values, np.zeros((), values.dtype))
    set_keras_mask(values, valid)
    return values


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary focal cross-entropy (Lin et al. 2018), mean over ``axis``.

    ``(1 - p_t)^gamma * bce`` with ``p_t = y p + (1 - y)(1 - p)``; with class balancing,
    also times ``alpha`` for positives and ``1 - alpha`` for negatives.

    Args:
        y_true: targets in [0, 1], shape of ``y_pred``.
        y_pred: probabilities or (``from_logits``) logits, shape (N, ..., d).
        apply_class_balancing: weigh positives by ``alpha`` and negatives by ``1 - alpha``.
        alpha: the positive class' weight.
        gamma: focusing parameter >= 0 (0 gives plain binary cross-entropy).
        from_logits: whether ``y_pred`` holds logits (a sigmoid is applied first).
        label_smoothing: in [0, 1], as :func:`binary_crossentropy`.
        axis: the axis averaged over.

    Returns:
        Tensor of shape (N, ...).
    """
    y_pred, original = _upcast(prediction_tensor(y_pred))
    y_true = match_ranks(_smoothed(y_true, y_pred, label_smoothing), y_pred)
    probs = F.sigmoid(y_pred) if from_logits else y_pred
    if requires_target_grad(y_true):
        y_true = F.broadcast_to(y_true, y_pred.shape)
        bce = composed_binary_crossentropy(y_true.expand_dims(-1), probs.expand_dims(-1))
    else:
        y_true = np.broadcast_to(y_true, y_pred.shape)
        bce = F.binary_crossentropy(y_true[..., None], probs.expand_dims(-1))  # elementwise
    p_t = probs * y_true + (1.0 - probs) * (1.0 - y_true)
    focal = F.power(1.0 - p_t, np.asarray(gamma, y_true.dtype)) * bce
    if apply_class_balancing:
        focal = focal * (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)).astype(y_true.dtype)
    return _downcast(focal.mean(axis=axis), original)


def _normalized_probabilities(y_pred, axis):
    """``clip(p / sum(p), 1e-7, 1 - 1e-7)`` along ``axis``; a zero sum is taken as tiny."""
    total = y_pred.sum(axis=axis, keepdims=True)
    tiny = np.finfo(y_pred.dtype).tiny
    small = np.abs(total.data) < tiny
    if small.any():
        total = F.where(small, np.asarray(tiny, y_pred.dtype), total)
    return F.clip(y_pred / total, EPSILON, 1.0 - EPSILON)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Per-sample categorical focal cross-entropy, ``sum(alpha (1 - q)^gamma * -y log q)``.

    Args:
        y_true: one-hot targets, shape (N, ..., C).
        y_pred: probabilities (re-normalized and clipped as :func:`categorical_crossentropy`)
            or (``from_logits``) logits.
        alpha: class weight (a float, or one per class).
        gamma: focusing parameter >= 0.
        from_logits: whether ``y_pred`` holds logits (a softmax is applied first).
        label_smoothing: in [0, 1], as :func:`categorical_crossentropy`.
        axis: the class axis.

    Returns:
        Tensor of ``y_pred``'s shape without ``axis``.
    """
    y_pred, original = _upcast(prediction_tensor(y_pred))
    y_true = _smoothed(y_true, y_pred, label_smoothing, y_pred.shape[axis])
    probs = F.softmax(y_pred, axis=axis) if from_logits else y_pred
    q = _normalized_probabilities(probs, axis)
    cce = F.log(q) * (-y_true)
    weight = F.power(1.0 - q, np.asarray(gamma, y_true.dtype)) * np.asarray(alpha, y_true.dtype)
    return _downcast((weight * cce).sum(axis=axis), original)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized cross-entropy (Zhang & Sabuncu 2018), ``(1 - p_label^q) / q``.

    Args:
        y_true: integer labels, shape (N,) or (N, 1).
        y_pred: probabilities, shape (N, C).
        q: in (0, 1): near 0 behaves like cross-entropy, near 1 like mean absolute error.

    Returns:
        Tensor of shape (N,).
    """
    y_pred = prediction_tensor(y_pred)
    labels = target_array(y_true).astype(np.int64).reshape(y_pred.shape[:-1])
    onehot = np.eye(y_pred.shape[-1], dtype=y_pred.dtype)[labels]
    p = (y_pred * onehot).sum(axis=-1)
    return (1.0 - F.power(p, np.asarray(q, y_pred.dtype))) / float(q)


def kl_divergence(y_true, y_pred):
    """Per-sample ``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to [1e-7, 1].

    Args:
        y_true: target distribution, shape of ``y_pred``.
        y_pred: predicted distribution, shape (N, ..., C).

    Returns:
        Tensor of shape (N, ...).
    """
    y_pred = prediction_tensor(y_pred)
    y_true = F.clip(match_ranks(target_values(y_true, y_pred.dtype), y_pred), EPSILON, 1.0)
    return ((F.log(y_true) - F.log(F.clip(y_pred, EPSILON, 1.0))) * y_true).sum(axis=-1)


def poisson(y_true, y_pred):
    """Per-sample ``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``.

    Args:
        y_true: counts, shape of ``y_pred``.
        y_pred: predicted rates (positive), shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    y_pred = prediction_tensor(y_pred)
    y_true = match_ranks(target_values(y_true, y_pred.dtype), y_pred)
    return (y_pred - F.log(y_pred + EPSILON) * y_true).mean(axis=-1)


# ------------------------------------------------------------------ classes
class BinaryCrossentropy(KerasLoss):
    """Binary cross-entropy (Keras ``BinaryCrossentropy``).

    Args:
        from_logits: whether predictions are logits (a sigmoid output is detected anyway).
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged over.
        reduction, name: see :class:`~npgrad.losses.Loss`.

    Shapes:
        y_true and y_pred (N, d) (or (N,) with y_pred (N, 1)); the loss averages over d.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        check_smoothing(label_smoothing, type(self).__name__)
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(KerasLoss):
    """Categorical cross-entropy with one-hot targets (Keras ``CategoricalCrossentropy``).

    Args:
        from_logits: whether predictions are logits (a softmax output is detected anyway).
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + s / C``.
        axis: the class axis.
        reduction, name: see :class:`~npgrad.losses.Loss`.

    Shapes:
        y_true and y_pred (N, C).
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        check_smoothing(label_smoothing, type(self).__name__)
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(KerasLoss):
    """Categorical cross-entropy with integer labels (Keras ``SparseCategoricalCrossentropy``).

    Args:
        from_logits: whether predictions are logits (a softmax output is detected anyway).
        ignore_class: a label value left out of the loss (see
            :func:`sparse_categorical_crossentropy`).
        axis: the class axis.
        reduction, name: see :class:`~npgrad.losses.Loss`.

    Shapes:
        y_true (N,) or (N, 1) integers in [0, C); y_pred (N, C).
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)


class BinaryFocalCrossentropy(KerasLoss):
    """Binary focal cross-entropy (Keras ``BinaryFocalCrossentropy``).

    Args:
        apply_class_balancing, alpha, gamma, from_logits, label_smoothing, axis: see
            :func:`binary_focal_crossentropy`.
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        check_smoothing(label_smoothing, type(self).__name__)
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(KerasLoss):
    """Categorical focal cross-entropy (Keras ``CategoricalFocalCrossentropy``).

    Args:
        alpha, gamma, from_logits, label_smoothing, axis: see
            :func:`categorical_focal_crossentropy`.
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        check_smoothing(label_smoothing, type(self).__name__)
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalGeneralizedCrossEntropy(KerasLoss):
    """Generalized cross-entropy for noisy labels (Keras ``CategoricalGeneralizedCrossEntropy``).

    Args:
        q: in (0, 1), see :func:`categorical_generalized_cross_entropy`.
        reduction, name: see :class:`~npgrad.losses.Loss`.
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in (0, 1), got {q!r}")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction,
                         dtype=dtype, q=q)


class KLDivergence(KerasLoss):
    """Kullback-Leibler divergence (Keras ``KLDivergence``)."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(KerasLoss):
    """Poisson loss, ``y_pred - y_true * log(y_pred)`` (Keras ``Poisson``)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)
