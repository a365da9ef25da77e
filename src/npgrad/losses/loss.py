"""The Loss base class, Keras 3's reductions and masks, and the function wrapper.

A loss class is called as ``loss(y_true, y_pred, sample_weight=None)`` and returns a scalar
Tensor you can ``backward()``: ``call`` gives per-sample losses, then sample weights and the
timestep mask are folded in and the values reduced (``reduce_loss``).

Masking: when ``y_pred`` carries a timestep mask (a sequence output of a model fed through
``Embedding(mask_zero=True)`` or ``Masking``), the masked steps do not count, as Keras 3:
the mask joins the sample weights, rescaled so that ``'sum_over_batch_size'`` averages over
the real steps only. A loss function may also attach a mask to the values it returns
(``SparseCategoricalCrossentropy(ignore_class=...)``); both masks are combined.
"""

from __future__ import annotations

import re

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.layers.masks import get_keras_mask

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def prediction_tensor(y_pred):
    """``y_pred`` as a Tensor (ndarrays of a non-float dtype become float32)."""
    if isinstance(y_pred, Tensor):
        return y_pred
    return Tensor(np.asarray(y_pred, dtype=float_dtype(y_pred)))


def float_dtype(y_pred):
    """The floating dtype losses compute in: ``y_pred``'s, else float32."""
    dtype = np.asarray(y_pred.data if isinstance(y_pred, Tensor) else y_pred).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def target_array(y_true, dtype=None):
    """``y_true`` as an ndarray (a Tensor's data), optionally cast to ``dtype``."""
    data = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    return data if dtype is None else data.astype(dtype, copy=False)


def requires_target_grad(y_true):
    """Whether ``y_true`` is a Tensor that requires a gradient.

    Keras's losses are ops on both arguments, so such a target is differentiated too: a
    consistency or mutual-learning loss between two branches trains both.
    """
    return isinstance(y_true, Tensor) and y_true.requires_grad


def target_values(y_true, dtype):
    """``y_true`` in ``dtype``: an ndarray, or, when it requires a gradient, the Tensor
    itself (cast, still recorded), so that the loss's ops differentiate it."""
    if requires_target_grad(y_true):
        return y_true if y_true.dtype == dtype else y_true.astype(dtype)
    return target_array(y_true, dtype)


def match_ranks(y_true, y_pred):
    """Keras' squeeze_or_expand_to_same_rank on a target array and a prediction shape."""
    shape = np.shape(y_pred.data if isinstance(y_pred, Tensor) else y_pred)
    if y_true.ndim == len(shape) - 1 and shape and shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_true.ndim == len(shape) + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def snake_case(name):
    """``'MeanSquaredError'`` -> ``'mean_squared_error'`` (Keras' default object names)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


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
        A scalar Tensor, or ``values`` (weighted) for ``'none'``. A mean whose sum would
        overflow although every value is finite is computed as the sum of ``value / n``, and
        clipped into the values' range when that sum still rounds past the largest float
        (values at the dtype's maximum); its gradient stays ``1 / n`` each.
    """
    weights = None
    if sample_weight is not None:
        values, weights = _weighted(values, sample_weight)
    if reduction in ("none", None):
        return values
    with np.errstate(over="ignore"):  # an overflowing mean is recomputed below
        total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        denominator = float(np.broadcast_to(weights, values.shape).sum())
        return total / max(denominator, np.finfo(values.dtype).tiny)
    count = max(values.size, 1)
    if not np.isfinite(total.data) and np.isfinite(values.data).all():
        with np.errstate(over="ignore"):
            mean = (values / float(count)).sum()
        if not np.isfinite(mean.data):
            # values at the largest float: the shares' sum rounded past it. The mean lies
            # between the smallest and the largest value, so only its rounding is off; the
            # value is clipped into that range and its gradient (1 / count each) kept
            mean.data = np.asarray(np.clip(mean.data, values.data.min(), values.data.max()))
        return mean
    return total / count


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


def _combined_mask(in_mask, out_mask):
    if in_mask is None or out_mask is None:
        return out_mask if in_mask is None else in_mask
    in_mask, out_mask = np.asarray(in_mask, bool), np.asarray(out_mask, bool)
    if in_mask.shape != out_mask.shape:
        return out_mask
    return in_mask & out_mask


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
        self.name = name or snake_case(type(self).__name__)
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
        in_mask = get_keras_mask(y_pred)
        y_pred = prediction_tensor(y_pred)
        # a target that requires a gradient stays a Tensor, which the losses differentiate
        keep = requires_target_grad(y_true)
        values = self.call(y_true if keep else target_array(y_true), y_pred)
        mask = _combined_mask(in_mask, get_keras_mask(values))
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


class LossFunctionWrapper(Loss):
    """Turn a per-sample loss function ``fn(y_true, y_pred, **kwargs)`` into a Loss.

    Args:
        fn: callable returning per-sample losses as a Tensor.
        name: defaults to ``fn.__name__``.
        reduction: see :class:`Loss`.
        **kwargs: extra keyword arguments for ``fn`` (e.g. ``from_logits``).
    """

    #: set by npgrad.losses: function -> registered name, for configs
    function_names = {}
    #: set by npgrad.losses: name -> function, for from_config
    functions = {}

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        # Keras's wrapper first matches the ranks (squeeze_or_expand_to_same_rank): a loss
        # written for (N, 1) targets gets (N, 1), not (N,), which would broadcast to (N, N)
        if isinstance(y_true, (np.ndarray, Tensor)) and isinstance(y_pred, Tensor):
            y_true = match_ranks(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        name = self.function_names.get(self.fn)
        if name is not None:
            config["fn"] = name
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        name = config.pop("fn")
        if name not in cls.functions:
            raise ValueError(f"LossFunctionWrapper: unknown loss function {name!r}")
        return cls(cls.functions[name], **config)


class KerasLoss(LossFunctionWrapper):
    """A built-in loss class: its config is Loss's plus the function's keyword arguments.

    Subclasses call ``super().__init__(fn, name=..., reduction=..., dtype=..., **kwargs)``
    with Keras' argument names, so ``cls(**get_config())`` rebuilds them.
    """

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        super().__init__(fn, name=name, reduction=reduction, dtype=dtype, **kwargs)
        for key, value in kwargs.items():  # loss.from_logits, loss.delta, ... as in Keras
            setattr(self, key, value)

    def call(self, y_true, y_pred):  # the functions match ranks their own way
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**Loss.get_config(self), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def check_smoothing(value, owner):
    """Raise unless ``label_smoothing`` is in [0, 1]."""
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{owner}: label_smoothing must be in [0, 1], got {value!r}")
