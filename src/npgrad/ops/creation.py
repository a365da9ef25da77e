"""Creating tensors, as ``keras.ops``: ones, zeros, full, arange, eye, linspace, *_like, ...

Float results take ``npgrad.config.floatx()`` unless ``dtype`` is given; every result is a
constant Tensor (creation has no inputs to differentiate; ``tril``/``triu`` of a tensor do).
"""

from __future__ import annotations

import numpy as np

from npgrad.ops.core import convert_to_tensor
from npgrad.primitives import elementwise
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import float_dtype, raw, standardize_dtype, wrap


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in raw(shape).tolist()) if not isinstance(shape, (list, tuple)) \
        else tuple(int(n) for n in shape)


def _like_dtype(x, dtype):
    return standardize_dtype(dtype) if dtype is not None else raw(x).dtype


def ones(shape, dtype=None):
    """A tensor of ones of ``shape`` (``dtype`` default: ``config.floatx()``)."""
    return wrap(np.ones(_shape(shape), dtype=float_dtype(dtype)))


def zeros(shape, dtype=None):
    """A tensor of zeros of ``shape``."""
    return wrap(np.zeros(_shape(shape), dtype=float_dtype(dtype)))


def empty(shape, dtype=None):
    """A tensor of ``shape`` (npgrad fills it with zeros: no uninitialized memory)."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (dtype inferred like NumPy, floats
    taking ``config.floatx()``)."""
    value = raw(fill_value)
    if dtype is None:
        dtype = float_dtype() if value.dtype.kind == "f" else (
            np.dtype("int32") if value.dtype.kind in "iu" else value.dtype)
    return wrap(np.full(_shape(shape), value, dtype=standardize_dtype(dtype)))


@keras_op
def ones_like(x, dtype=None):
    """Ones of the shape and dtype of ``x``."""
    return wrap(np.ones(raw(x).shape, dtype=_like_dtype(x, dtype)))


@keras_op
def zeros_like(x, dtype=None):
    """Zeros of the shape and dtype of ``x``."""
    return wrap(np.zeros(raw(x).shape, dtype=_like_dtype(x, dtype)))


@keras_op
def empty_like(x, dtype=None):
    """Zeros of the shape and dtype of ``x`` (no uninitialized memory)."""
    return zeros_like(x, dtype)


@keras_op
def full_like(x, fill_value, dtype=None):
    """``fill_value`` in the shape and dtype of ``x``."""
    return wrap(np.full(raw(x).shape, raw(fill_value), dtype=_like_dtype(x, dtype)))


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop): int32 when all arguments are ints, else floatx."""
    values = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        integral = all(raw(v).dtype.kind in "iub" for v in values)
        dtype = np.dtype("int32") if integral else float_dtype()
    if stop is None:
        start, stop = 0, start
    return wrap(np.arange(raw(start), raw(stop), raw(step)).astype(standardize_dtype(dtype)))


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras's names
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    return wrap(np.eye(int(N), None if M is None else int(M), int(k), dtype=float_dtype(dtype)))


def identity(n, dtype=None):
    """The n x n identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras's names
    """Ones at and below the ``k``-th diagonal."""
    return wrap(np.tri(int(N), None if M is None else int(M), int(k), dtype=float_dtype(dtype)))


@keras_op
def tril(x, k=0):
    """``x`` with the elements above the ``k``-th diagonal zeroed (differentiable)."""
    keep = np.tri(*raw(x).shape[-2:], k=k, dtype=bool)
    return _masked(x, keep)


@keras_op
def triu(x, k=0):
    """``x`` with the elements below the ``k``-th diagonal zeroed (differentiable)."""
    keep = ~np.tri(*raw(x).shape[-2:], k=k - 1, dtype=bool)
    return _masked(x, keep)


def _masked(x, keep):
    data = raw(x)
    if data.dtype.kind != "f":
        return wrap(np.where(keep, data, 0).astype(data.dtype))
    return elementwise.where(keep, x, np.zeros((), dtype=data.dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (as ``np.linspace``)."""
    values, step = np.linspace(raw(start), raw(stop), int(num), endpoint=endpoint, retstep=True,
                               axis=axis)
    out = wrap(values.astype(float_dtype(dtype)))
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    values = np.logspace(raw(start), raw(stop), int(num), endpoint=endpoint, base=base, axis=axis)
    return wrap(values.astype(float_dtype(dtype)))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Numbers spaced evenly on a log scale from ``start`` to ``stop``."""
    values = np.geomspace(raw(start), raw(stop), int(num), endpoint=endpoint, axis=axis)
    return wrap(values.astype(float_dtype(dtype)))


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D coordinate vectors (as ``np.meshgrid``), a list of tensors."""
    return [wrap(g) for g in np.meshgrid(*[raw(v) for v in x], indexing=indexing)]


def array(x, dtype=None):
    """A tensor holding ``x`` (as :func:`npgrad.ops.convert_to_tensor`)."""
    return convert_to_tensor(x, dtype=dtype)


@keras_op
def copy(x):
    """A copy of ``x`` (the gradient flows through)."""
    return elementwise.multiply(x, 1) if raw(x).dtype.kind == "f" else wrap(raw(x).copy())


def _window(numpy_fn):
    def window(x):
        return wrap(numpy_fn(int(raw(x))).astype(float_dtype()))

    window.__name__ = numpy_fn.__name__
    window.__doc__ = f"The {numpy_fn.__name__.capitalize()} window of ``x`` points (as ``np.{numpy_fn.__name__}``)."
    return window


bartlett = _window(np.bartlett)
blackman = _window(np.blackman)
hamming = _window(np.hamming)
hanning = _window(np.hanning)


def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return wrap(np.kaiser(int(raw(x)), float(raw(beta))).astype(float_dtype()))


__all__ = [
    "arange", "array", "bartlett", "blackman", "copy", "empty", "empty_like", "eye", "full",
    "full_like", "geomspace", "hamming", "hanning", "identity", "kaiser", "linspace", "logspace",
    "meshgrid", "ones", "ones_like", "tri", "tril", "triu", "zeros", "zeros_like",
]  # fmt: skip
