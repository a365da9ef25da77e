"""Losses by Keras 3 name: classes that reduce to a scalar, per-sample functions, and ``get``.

A loss class is called as ``loss(y_true, y_pred, sample_weight=None)`` and returns a scalar
Tensor you can ``backward()``; a loss function (``mse``, ``binary_crossentropy``...) returns
the per-sample losses, shape ``y_pred.shape[:-1]``. The maths lives in the fused ops of
``npgrad.primitives.loss`` (through ``npgrad.functional``); this module adds Keras' names, label
smoothing, reductions and sample weights.

Masking: when ``y_pred`` carries a timestep mask (a sequence output of a model fed through
``Embedding(mask_zero=True)`` or ``Masking``), the masked steps do not count, as Keras 3:
the mask joins the sample weights, rescaled so that ``'sum_over_batch_size'`` averages over
the real steps only.

Numerical stability: when ``y_pred`` was produced by a softmax (or a sigmoid, for binary
cross-entropy) in the graph being recorded, the cross-entropies read the logits that went
into it and use the stable ``from_logits=True`` form, exactly as Keras' TensorFlow backend
does with ``_keras_logits``. So a model ending in ``Dense(10, activation='softmax')``
trains on logits and never takes ``log`` of a probability that underflowed to 0.

Example:
    >>> import numpy as np, npgrad
    >>> loss = npgrad.losses.SparseCategoricalCrossentropy()
    >>> probs = npgrad.Tensor(np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]]), requires_grad=True)
    >>> value = loss(np.array([1, 0]), probs)        # mean of -log 0.7 and -log 0.8
    >>> value.backward()
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.autograd.tensor import Tensor
from npgrad.layers.masks import get_keras_mask
from npgrad.primitives.activation import Sigmoid, Softmax

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ------------------------------------------------------------------ logits recovery
def _softmax_logits(y_pred):
    """The logits a last-axis softmax made ``y_pred`` from, or None.

    Only possible while the graph is recorded (inside ``fit``): ``y_pred._ctx`` is then the
    :class:`~npgrad.primitives.activation.Softmax` op and its first input holds the logits.
    """
    ctx = getattr(y_pred, "_ctx", None)
    if not isinstance(ctx, Softmax) or getattr(ctx, "saved", None) is None:
        return None
    axis = getattr(ctx, "axis", None)
    if axis is None or axis not in (-1, y_pred.ndim - 1):
        return None
    return ctx.inputs[0]


def _sigmoid_logits(y_pred):
    """The logits a sigmoid made ``y_pred`` from (see :func:`_softmax_logits`), or None."""
    ctx = getattr(y_pred, "_ctx", None)
    if not isinstance(ctx, Sigmoid) or getattr(ctx, "saved", None) is None:
        return None
    return ctx.inputs[0]


def _as_pred(y_pred):
    return y_pred if isinstance(y_pred, Tensor) else Tensor(np.asarray(y_pred, dtype=_dtype_of(y_pred)))


def _dtype_of(y_pred):
    dtype = np.asarray(y_pred).dtype
    return dtype if dtype.kind == "f" else np.float32


# ------------------------------------------------------------------ per-sample functions
def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error, ``mean((y_true - y_pred)^2, axis=-1)``.

    Args:
        y_true: targets, shape of ``y_pred`` (a trailing axis of 1 is added/dropped).
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    return F.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error, ``mean(|y_true - y_pred|, axis=-1)``.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).

    Returns:
        Tensor of shape (N, ...).
    """
    return F.mean_absolute_error(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss: quadratic for ``|d| <= delta``, linear beyond, mean over last axis.

    Args:
        y_true: targets, shape of ``y_pred``.
        y_pred: predictions, shape (N, ..., d).
        delta: positive float where the loss turns linear.

    Returns:
        Tensor of shape (N, ...).
    """
    return F.huber(y_true, y_pred, delta=delta)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample binary cross-entropy, mean over the last axis (Keras semantics).

    Args:
        y_true: targets in [0, 1], shape of ``y_pred`` (or without its trailing axis of 1).
        y_pred: probabilities (clipped to [1e-7, 1 - 1e-7]) or logits, shape (N, ..., d).
        from_logits: whether ``y_pred`` holds logits. A sigmoid output in the graph is
            detected and its logits used automatically.
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + 0.5 * s``.

    Returns:
        Tensor of shape (N, ...).
    """
    if label_smoothing:
        y_true = np.asarray(y_true, dtype=_dtype_of(y_pred))
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if not from_logits:
        logits = _sigmoid_logits(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    return F.binary_crossentropy(y_true, y_pred, from_logits=from_logits)


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
        y_true = np.asarray(y_true, dtype=_dtype_of(y_pred))
        classes = np.shape(y_pred)[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if not from_logits and axis in (-1, np.ndim(getattr(y_pred, "data", y_pred)) - 1):
        logits = _softmax_logits(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    return F.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample categorical cross-entropy with integer labels.

    Args:
        y_true: integer labels in [0, C), shape (N, ...) or (N, ..., 1).
        y_pred: probabilities or logits, shape (N, ..., C). A softmax output in the graph
            is detected and its logits used.
        from_logits: whether ``y_pred`` holds logits.
        axis: the class axis.

    Returns:
        Tensor of shape (N, ...).

    Raises:
        ValueError: naming the first label outside [0, C).
    """
    if not from_logits and axis in (-1, np.ndim(getattr(y_pred, "data", y_pred)) - 1):
        logits = _softmax_logits(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    return F.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# ------------------------------------------------------------------ reduction
def _weighted(values, sample_weight):
    """values * sample_weight, the weight's rank matched to the values' (Keras squeeze/expand)."""
    weight = np.asarray(sample_weight, dtype=values.dtype)
    while weight.ndim > values.ndim and weight.shape[-1] == 1:
        weight = weight[..., 0]
    while weight.ndim < values.ndim:
        weight = weight[..., None]
    try:
        np.broadcast_shapes(weight.shape, values.shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {np.shape(sample_weight)} does not match per-sample "
            f"losses of shape {values.shape}"
        ) from None
    return values * weight, weight


def reduce_loss(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Weight and reduce per-sample losses as Keras 3 does.

    Args:
        values: Tensor of per-sample losses, shape (N, ...).
        sample_weight: optional array broadcastable to ``values`` (usually shape (N,)).
        reduction: ``'sum_over_batch_size'`` / ``'mean'`` (sum divided by the number of
            elements), ``'mean_with_sample_weight'`` (divided by the sum of the weights),
            ``'sum'``, or ``'none'`` / None (no reduction).

    Returns:
        A scalar Tensor, or ``values`` (weighted) for ``'none'``.
    """
    weights = None
    if sample_weight is not None:
        values, weights = _weighted(values, sample_weight)
    if reduction in ("none", None):
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        denominator = float(np.broadcast_to(weights, values.shape).sum())
        return total / max(denominator, np.finfo(values.dtype).tiny)
    return total / max(values.size, 1)


def _mask_weights(mask, values, sample_weight, reduction):
    """Fold a timestep mask into the sample weights (Keras 3's ``apply_mask``).

    For the mean reductions each real entry weighs ``total / valid``, so that the mean over
    all entries equals the mean over the real ones. Returns the new sample weights (or the
    old ones when the mask does not match the per-sample losses' leading axes).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim > values.ndim or tuple(values.shape[: mask.ndim]) != mask.shape:
        return sample_weight
    weight = mask.astype(values.dtype)
    while weight.ndim < values.ndim:
        weight = weight[..., None]
    weight = np.broadcast_to(weight, values.shape)
    if reduction in ("sum_over_batch_size", "mean"):
        weight = weight * (weight.size / (weight.sum() + 1e-7))
    if sample_weight is not None:
        sample = np.asarray(sample_weight, dtype=values.dtype)
        while sample.ndim > values.ndim and sample.shape[-1] == 1:
            sample = sample[..., 0]
        while sample.ndim < values.ndim:
            sample = sample[..., None]
        weight = weight * sample
    return weight


# ------------------------------------------------------------------ classes
class Loss:
    """Base class of losses: per-sample ``call`` then Keras 3's reduction.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: name used in logs and configs.
        reduction: one of ``'sum_over_batch_size'`` (default: mean over samples), ``'sum'``,
            ``'mean'``, ``'mean_with_sample_weight'``, ``'none'`` or None.
        dtype: accepted for Keras compatibility; the computation follows ``y_pred``'s dtype.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {list(REDUCTIONS)}, "
                f"got {reduction!r}"
            )
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss.

        Args:
            y_true: targets (ndarray), shape depends on the loss.
            y_pred: predictions (Tensor or ndarray), shape (N, ...).
            sample_weight: optional per-sample weights, shape (N,) or broadcastable.

        Returns:
            Scalar Tensor (or per-sample Tensor with ``reduction='none'``). A timestep mask
            carried by ``y_pred`` leaves the masked steps out (see the module docstring).
        """
        mask = get_keras_mask(y_pred)
        y_pred = _as_pred(y_pred)
        values = self.call(_raw_target(y_true), y_pred)
        if mask is not None:
            sample_weight = _mask_weights(mask, values, sample_weight, self.reduction)
        return reduce_loss(values, sample_weight, self.reduction)

    def get_config(self):
        """JSON-able constructor arguments."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """Create the loss from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _raw_target(y_true):
    return y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)


def _snake(name):
    import re

    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class LossFunctionWrapper(Loss):
    """Turn a per-sample loss function ``fn(y_true, y_pred, **kwargs)`` into a Loss.

    Args:
        fn: callable returning per-sample losses as a Tensor.
        name: defaults to ``fn.__name__``.
        reduction: see :class:`Loss`.
        **kwargs: extra keyword arguments for ``fn`` (e.g. ``from_logits``).
    """

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        name = _function_name(self.fn)
        if name is not None:
            config["fn"] = name
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = get(config.pop("fn"))
        return cls(fn, **config)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of ``(y_true - y_pred)^2`` (Keras ``MeanSquaredError``).

    Args:
        reduction: see :class:`Loss`. name: defaults to ``'mean_squared_error'``.
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of ``|y_true - y_pred|`` (Keras ``MeanAbsoluteError``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Huber(LossFunctionWrapper):
    """Huber loss (Keras ``Huber``).

    Args:
        delta: positive float where the loss turns from quadratic to linear.
        reduction, name: see :class:`Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self):
        return {**Loss.get_config(self), "delta": self.delta}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (Keras ``BinaryCrossentropy``).

    Args:
        from_logits: whether predictions are logits (a sigmoid output is detected anyway).
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + 0.5 * s``.
        reduction, name: see :class:`Loss`.

    Shapes:
        y_true and y_pred (N, d) (or (N,) with y_pred (N, 1)); the loss averages over d.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        _check_smoothing(label_smoothing, type(self).__name__)
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with one-hot targets (Keras ``CategoricalCrossentropy``).

    Args:
        from_logits: whether predictions are logits (a softmax output is detected anyway).
        label_smoothing: in [0, 1]; targets become ``y * (1 - s) + s / C``.
        axis: the class axis.
        reduction, name: see :class:`Loss`.

    Shapes:
        y_true and y_pred (N, C).
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        _check_smoothing(label_smoothing, type(self).__name__)
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with integer labels (Keras ``SparseCategoricalCrossentropy``).

    Args:
        from_logits: whether predictions are logits (a softmax output is detected anyway).
        reduction, name: see :class:`Loss`.

    Shapes:
        y_true (N,) or (N, 1) integers in [0, C); y_pred (N, C).
    """

    def __init__(self, from_logits=False, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits)
        self.from_logits = from_logits

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_smoothing(value, owner):
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{owner}: label_smoothing must be in [0, 1], got {value!r}")


# ------------------------------------------------------------------ lookup
_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "MAE": mean_absolute_error, "huber": huber, "huber_loss": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}  # fmt: skip
_CLASSES = {
    cls.__name__: cls
    for cls in (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, Huber,
                BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
}
# the Loss class each function corresponds to (for compile(loss='mse') -> a Loss object)
_CLASS_OF_FUNCTION = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    huber: Huber, binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}  # fmt: skip


def _function_name(fn):
    for name, candidate in _FUNCTIONS.items():
        if candidate is fn:
            return name
    return None


def get(identifier):
    """Resolve a loss as Keras does.

    Args:
        identifier: a function name (``'mse'``, ``'sparse_categorical_crossentropy'``) ->
            the function; a class name (``'MeanSquaredError'``) -> a default instance; a
            ``{"class_name", "config"}`` dict -> an instance; a Loss or a callable -> itself;
            None -> None.

    Returns:
        A Loss instance, a per-sample loss function, or None.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: anything else.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES and identifier not in ("Loss", "LossFunctionWrapper"):
            return _CLASSES[identifier]()
        raise ValueError(
            f"unknown loss {identifier!r}; valid names: "
            f"{sorted(set(_FUNCTIONS) | set(_CLASSES) - {'Loss', 'LossFunctionWrapper'})}"
        )
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"loss must be a name, a dict, a Loss or a callable, got {type(identifier).__name__}")


def as_loss(identifier):
    """Like :func:`get`, but always a :class:`Loss` object (what ``Model.compile`` stores).

    Built-in functions become their class (``'mse'`` -> ``MeanSquaredError()``, named
    ``'mean_squared_error'``); other callables are wrapped in :class:`LossFunctionWrapper`.
    """
    loss = get(identifier)
    if loss is None or isinstance(loss, Loss):
        return loss
    if loss in _CLASS_OF_FUNCTION:
        return _CLASS_OF_FUNCTION[loss]()
    return LossFunctionWrapper(loss)


def serialize(loss):
    """``{"class_name", "config"}`` for a Loss, the name for a built-in function (JSON-able).

    Raises:
        ValueError: a custom function, which cannot be named in a file.
    """
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    name = _function_name(loss)
    if name is None:
        raise ValueError(f"cannot serialize custom loss {loss!r}; use a built-in loss to save")
    return name


def deserialize(config):
    """Inverse of :func:`serialize`."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"loss config must be a name or a dict with 'class_name', got {config!r}")
    name = config["class_name"]
    if name not in _CLASSES or name == "Loss":
        raise ValueError(f"unknown loss class {name!r}; valid: {sorted(set(_CLASSES) - {'Loss'})}")
    return _CLASSES[name].from_config(config.get("config", {}))
