"""Tensor: an ndarray that remembers how it was made, so gradients can flow back.

Example:
    >>> x = npgrad.Tensor(np.ones((2, 3)), requires_grad=True)
    >>> y = (x * 2).sum()
    >>> y.backward()
    >>> x.grad                      # ndarray of 2s, shape (2, 3)
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd import engine

DEFAULT_FLOAT = np.float32


def _to_array(data, dtype):
    """Convert user data to an ndarray; Python numbers and lists become float32 by default."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        return array if dtype is None else array.astype(dtype, copy=False)
    try:
        array = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Tensor: cannot make a numeric array from {type(data).__name__}") from exc
    if dtype is None:
        if array.dtype.kind in "biuf":
            array = array.astype(DEFAULT_FLOAT)
        else:
            raise TypeError(f"Tensor: expected numeric data, got an array of dtype {array.dtype}")
    return array


class Tensor:
    """A NumPy array with reverse-mode automatic differentiation.

    Args:
        data: array-like. NumPy arrays keep their dtype; Python numbers and (nested)
            lists become float32 unless ``dtype`` is given.
        requires_grad: record operations on this tensor so ``backward`` can compute
            ``self.grad``. Only floating tensors can require grad.
        dtype: optional dtype to convert the data to.
        name: optional label, shown in ``repr`` (layers name their weights).

    Attributes:
        data: the underlying ndarray.
        grad: ndarray of the same shape, accumulated by ``backward`` until zeroed, or None.
        _keras_mask: the (N, T) boolean timestep mask a layer attached to its output (Keras
            masking: ``Embedding(mask_zero=True)``, ``Masking``), or None.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "_retain_grad", "_keras_mask",
                 "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` defer to Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if type(data) is np.ndarray and dtype is None:
            self.data = data
        else:
            self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating tensors can require gradients, got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.name = name
        self._ctx = None
        self._retain_grad = False
        self._keras_mask = None  # (N, T) bool timestep mask a layer attached (Keras masking)

    # ---------------------------------------------------------------- basics
    @property
    def shape(self):
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self):
        """Number of axes."""
        return self.data.ndim

    @property
    def dtype(self):
        """The NumPy dtype."""
        return self.data.dtype

    @property
    def size(self):
        """Number of elements."""
        return self.data.size

    @property
    def T(self):
        """The transpose (axes reversed), differentiable."""
        return _shape.transpose(self)

    @property
    def is_leaf(self):
        """True for tensors made by the user (not by an op)."""
        return self._ctx is None

    def numpy(self):
        """Return the underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """Return the single element as a Python number."""
        return self.data.item()

    def detach(self):
        """A tensor sharing the data but cut from the graph (requires_grad=False)."""
        return Tensor(self.data)

    def astype(self, dtype):
        """Cast to another floating dtype; gradients flow back in the original dtype."""
        return _elementwise.cast(self, dtype=np.dtype(dtype))

    def backward(self, grad=None, retain_graph=False):
        """Compute gradients of this tensor with respect to every leaf that requires grad.

        Args:
            grad: upstream gradient, required unless this tensor has a single element.
            retain_graph: keep the graph's saved arrays for another backward pass.
        """
        engine.backward(self, grad, retain_graph=retain_graph)

    def retain_grad(self):
        """Ask backward to store ``grad`` on this non-leaf tensor too."""
        self._retain_grad = True
        return self

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self.grad = None

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating tensors can require gradients, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def __len__(self):
        return len(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", threshold=20)
        extras = [f"dtype={self.dtype}"]
        if self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}, {', '.join(extras)})"

    __hash__ = object.__hash__

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return _elementwise.add(self, other)

    def __radd__(self, other):
        return _elementwise.add(other, self)

    def __sub__(self, other):
        return _elementwise.subtract(self, other)

    def __rsub__(self, other):
        return _elementwise.subtract(other, self)

    def __mul__(self, other):
        return _elementwise.multiply(self, other)

    def __rmul__(self, other):
        return _elementwise.multiply(other, self)

    def __truediv__(self, other):
        return _elementwise.divide(self, other)

    def __rtruediv__(self, other):
        return _elementwise.divide(other, self)

    def __pow__(self, exponent):
        return _elementwise.power(self, exponent)

    def __rpow__(self, base):
        return _elementwise.power(base, self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _elementwise.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _elementwise.abs(self)

    # comparisons give plain boolean tensors: not differentiable
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    def __eq__(self, other):
        return Tensor(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor(self.data != _raw(other))

    # ---------------------------------------------------------------- math methods
    def exp(self):
        """Elementwise e**x."""
        return _elementwise.exp(self)

    def log(self):
        """Elementwise natural logarithm."""
        return _elementwise.log(self)

    def sqrt(self):
        """Elementwise square root."""
        return _elementwise.sqrt(self)

    def abs(self):
        """Elementwise absolute value (gradient 0 at 0)."""
        return _elementwise.abs(self)

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy's names
        """Clamp to [min, max] (either may be None)."""
        return _elementwise.clip(self, min, max)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (int, tuple or None for all), optionally keeping reduced axes."""
        return _reduce.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``."""
        return _reduce.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis`` (tied maxima share the gradient)."""
        return _reduce.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis`` (tied minima share the gradient)."""
        return _reduce.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance over ``axis`` (divided by N - ddof)."""
        return _reduce.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        """Standard deviation over ``axis``."""
        return _reduce.std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def argmax(self, axis=None):
        """Indices of the maxima (not differentiable), as an ndarray."""
        return self.data.argmax(axis=axis)

    # ---------------------------------------------------------------- shape methods
    def reshape(self, *shape):
        """Same elements, new shape (``x.reshape(2, -1)`` or ``x.reshape((2, -1))``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _shape.reshape(self, shape)

    def transpose(self, *axes):
        """Permute axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _shape.transpose(self, axes or None)

    def flatten(self):
        """All elements in one axis."""
        return _shape.reshape(self, (-1,))

    def squeeze(self, axis=None):
        """Remove axes of length one."""
        return _shape.squeeze(self, axis)

    def expand_dims(self, axis):
        """Insert an axis of length one at ``axis``."""
        return _shape.expand_dims(self, axis)

    def __getitem__(self, index):
        """NumPy indexing: ints, slices, None, Ellipsis, integer arrays, boolean masks."""
        return _shape.getitem(self, index)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def tensor(data, requires_grad=False, dtype=None):
    """Make a :class:`Tensor` (PyTorch-style spelling of ``Tensor(...)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# The ops import this module for the Tensor class; bind them late to avoid an import cycle.
from npgrad.ops import elementwise as _elementwise  # noqa: E402
from npgrad.ops import linalg as _linalg  # noqa: E402
from npgrad.ops import reduce as _reduce  # noqa: E402
from npgrad.ops import shape as _shape  # noqa: E402
