"""Small conversions shared by the ``npgrad.ops`` modules: raw arrays in, Tensors out."""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor, default_float


def raw(x):
    """The ndarray behind a Tensor, or ``np.asarray(x)`` for anything else."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def wrap(array):
    """A constant Tensor (no gradient) holding ``array``, dtype kept."""
    return Tensor(np.asarray(array))


def float_dtype(dtype=None):
    """``dtype`` as a NumPy dtype, or the default float dtype (``npgrad.config.floatx()``)."""
    return default_float() if dtype is None else standardize_dtype(dtype)


def standardize_dtype(dtype):
    """A NumPy dtype from a Keras dtype name, a NumPy dtype or a Python type."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", dtype)
    if name == "bfloat16":
        raise TypeError("npgrad: bfloat16 has no NumPy dtype; use float16, float32 or float64")
    return np.dtype(dtype)


def is_float(x):
    """Whether ``x`` holds floating values."""
    return raw(x).dtype.kind == "f"


def normalize_axes(axis, ndim):
    """A sorted tuple of non-negative axes, or None (all axes)."""
    if axis is None:
        return None
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))
