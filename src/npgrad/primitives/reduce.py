"""Reductions over axes: sum, mean, max, min (fused), var and std (composed)."""

import builtins

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import last_axis


def _normalize_axis(op, axis, ndim):
    """Return a sorted tuple of non-negative axes, or None for all axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(normalized))


def _expand(grad, shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input shape."""
    if axes is None:
        return grad.reshape((1,) * len(shape)) if not keepdims else grad
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return grad


def _expand_graph(grad, shape, axes, keepdims):
    """A reduced gradient Tensor broadcast back to the input's shape, with recorded ops."""
    kept = tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))
    if not keepdims:
        grad = grad.reshape(kept)
    return grad + np.zeros(shape, dtype=grad.dtype)


def _last_only(x, axes):
    """Whether the normalized ``axes`` are the last axis alone (:mod:`last_axis`'s case)."""
    return axes is not None and x.ndim > 0 and tuple(axes) == (x.ndim - 1,)


def _drop_last(kept, keepdims):
    return kept if keepdims else kept[..., 0]


class Sum(Function):
    """Sum over axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        if _last_only(x, axis):
            return _drop_last(last_axis.total(x), keepdims)
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    def backward(self, grad):
        # every input element contributes with weight 1
        grad = _expand(grad, self.shape, self.axis, self.keepdims)
        return (np.broadcast_to(grad, self.shape),)

    def backward_graph(self, grad):
        return (_expand_graph(grad, self.shape, self.axis, self.keepdims),)


class Mean(Function):
    """Mean over axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.count = x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))
        # float32 and float64 over the last axis: a GEMV (float16 keeps NumPy's mean, which
        # sums in float32)
        if _last_only(x, axis) and x.dtype in (np.float32, np.float64):
            return _drop_last(last_axis.total(x) / x.dtype.type(self.count), keepdims)
        return np.asarray(x.mean(axis=axis, keepdims=keepdims))

    def backward(self, grad):
        grad = _expand(grad, self.shape, self.axis, self.keepdims) / self.count
        return (np.broadcast_to(grad, self.shape),)

    def backward_graph(self, grad):
        return (_expand_graph(grad, self.shape, self.axis, self.keepdims) / self.count,)


class Max(Function):
    """Maximum over axes; tied maxima share the gradient equally (as torch.amax)."""

    def forward(self, x, axis=None, keepdims=False):
        out = last_axis.amax(x) if _last_only(x, axis) else np.asarray(
            x.max(axis=axis, keepdims=True))
        self.save_for_backward(x, out)
        self.axis, self.keepdims = axis, keepdims
        return out if keepdims else np.asarray(out.squeeze(axis=axis))

    def backward(self, grad):
        x, out = self.saved
        mask = x == out
        counts = mask.sum(axis=self.axis, keepdims=True)
        grad = _expand(grad, x.shape, self.axis, self.keepdims)
        return (mask * (grad / counts),)

    def backward_graph(self, grad):
        x, out = self.saved
        mask = x == out  # piecewise constant: the maxima's share of the gradient
        share = mask / mask.sum(axis=self.axis, keepdims=True)
        return (_expand_graph(grad, x.shape, self.axis, self.keepdims) * share,)


class Min(Max):
    """Minimum over axes; tied minima share the gradient equally."""

    def forward(self, x, axis=None, keepdims=False):
        out = np.asarray(x.min(axis=axis, keepdims=True))
        self.save_for_backward(x, out)
        self.axis, self.keepdims = axis, keepdims
        return out if keepdims else np.asarray(out.squeeze(axis=axis))


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Sum of elements over ``axis`` (int, tuple or None for all)."""
    return Sum.apply(x, axis=_normalize_axis("sum", axis, np.ndim(_data(x))), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean of elements over ``axis``."""
    return Mean.apply(x, axis=_normalize_axis("mean", axis, np.ndim(_data(x))), keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Maximum over ``axis``; ties share the gradient."""
    _check_not_empty("max", x)
    return Max.apply(x, axis=_normalize_axis("max", axis, np.ndim(_data(x))), keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Minimum over ``axis``; ties share the gradient."""
    _check_not_empty("min", x)
    return Min.apply(x, axis=_normalize_axis("min", axis, np.ndim(_data(x))), keepdims=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis`` (composed: mean of squared deviations, divided by N - ddof)."""
    data = _data(x)
    axes = _normalize_axis("var", axis, np.ndim(data))
    count = np.size(data) if axes is None else int(np.prod([np.shape(data)[a] for a in axes]))
    centered = x - mean(x, axis=axes, keepdims=True)
    return sum(centered * centered, axis=axes, keepdims=keepdims) / builtins.max(count - ddof, 1)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation over ``axis`` (composed: sqrt of var)."""
    return var(x, axis=axis, keepdims=keepdims, ddof=ddof) ** 0.5


def _data(x):
    return getattr(x, "data", x)


def _check_not_empty(op, x):
    if np.size(_data(x)) == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor")
