"""Tensor's math methods, attached from the op side when the package loads.

The autograd core (``npgrad.autograd``) knows no particular op: ``Tensor`` holds data, grad
and the graph link. Its operators (``x + y``, ``x @ w``, ``x[0]``) and methods (``x.sum()``,
``x.reshape(...)``) are the primitives below, bound onto the class by :func:`attach` (the way
DeZero's ``setup_variable`` does it). ``npgrad.primitives`` calls it on import.
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import elementwise, linalg, reduce
from npgrad.primitives import shape as shape_ops


class TensorMethods:
    """The methods :func:`attach` copies onto ``Tensor``; never instantiated."""

    @property
    def T(self):
        """The transpose (axes reversed), differentiable."""
        return shape_ops.transpose(self)

    def astype(self, dtype):
        """Cast to another floating dtype; gradients flow back in the original dtype."""
        return elementwise.cast(self, dtype=np.dtype(dtype))

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return elementwise.add(self, other)

    def __radd__(self, other):
        return elementwise.add(other, self)

    def __sub__(self, other):
        return elementwise.subtract(self, other)

    def __rsub__(self, other):
        return elementwise.subtract(other, self)

    def __mul__(self, other):
        return elementwise.multiply(self, other)

    def __rmul__(self, other):
        return elementwise.multiply(other, self)

    def __truediv__(self, other):
        return elementwise.divide(self, other)

    def __rtruediv__(self, other):
        return elementwise.divide(other, self)

    def __pow__(self, exponent):
        return elementwise.power(self, exponent)

    def __rpow__(self, base):
        return elementwise.power(base, self)

    def __matmul__(self, other):
        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __neg__(self):
        return elementwise.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise.abs(self)

    # ---------------------------------------------------------------- math methods
    def exp(self):
        """Elementwise e**x."""
        return elementwise.exp(self)

    def log(self):
        """Elementwise natural logarithm."""
        return elementwise.log(self)

    def sqrt(self):
        """Elementwise square root."""
        return elementwise.sqrt(self)

    def abs(self):
        """Elementwise absolute value (gradient 0 at 0)."""
        return elementwise.abs(self)

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy's names
        """Clamp to [min, max] (either may be None)."""
        return elementwise.clip(self, min, max)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (int, tuple or None for all), optionally keeping reduced axes."""
        return reduce.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``."""
        return reduce.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis`` (tied maxima share the gradient)."""
        return reduce.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis`` (tied minima share the gradient)."""
        return reduce.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance over ``axis`` (divided by N - ddof)."""
        return reduce.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        """Standard deviation over ``axis``."""
        return reduce.std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def argmax(self, axis=None):
        """Indices of the maxima (not differentiable), as an ndarray."""
        return self.data.argmax(axis=axis)

    # ---------------------------------------------------------------- shape methods
    def reshape(self, *shape):
        """Same elements, new shape (``x.reshape(2, -1)`` or ``x.reshape((2, -1))``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return shape_ops.reshape(self, shape)

    def transpose(self, *axes):
        """Permute axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return shape_ops.transpose(self, axes or None)

    def flatten(self):
        """All elements in one axis."""
        return shape_ops.reshape(self, (-1,))

    def squeeze(self, axis=None):
        """Remove axes of length one."""
        return shape_ops.squeeze(self, axis)

    def expand_dims(self, axis):
        """Insert an axis of length one at ``axis``."""
        return shape_ops.expand_dims(self, axis)

    def __getitem__(self, index):
        """NumPy indexing: ints, slices, None, Ellipsis, integer arrays, boolean masks."""
        return shape_ops.getitem(self, index)


def attach(tensor_cls):
    """Bind every method of :class:`TensorMethods` onto ``tensor_cls`` (idempotent)."""
    for name, value in vars(TensorMethods).items():
        if name in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"):
            continue
        setattr(tensor_cls, name, value)
