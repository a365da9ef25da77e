"""Tensor: an ndarray that remembers how it was made, so gradients can flow back.

Example:
    >>> x = npgrad.Tensor(np.ones((2, 3)), requires_grad=True)
    >>> y = (x * 2).sum()
    >>> y.backward()
    >>> x.grad                      # ndarray of 2s, shape (2, 3)
"""

from __future__ import annotations

import weakref

import numpy as np

from npgrad.autograd import engine

DEFAULT_FLOAT = np.float32


def default_float():
    """The float dtype given to Python numbers and lists (``npgrad.config.floatx()``)."""
    return np.dtype(DEFAULT_FLOAT)


def set_default_float(dtype):
    """Set the float dtype given to Python numbers and lists (``npgrad.config.set_floatx``)."""
    global DEFAULT_FLOAT
    DEFAULT_FLOAT = np.dtype(dtype).type


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
        _keras_mask: a slot the layers use for a timestep mask; the engine never reads it.
            Read and write it only through ``npgrad.layers.masks`` (get/set_keras_mask).
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "_keras_mask", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` defer to Tensor.__radd__
    is_op = False  # a leaf tensor is a node of the graph itself (engine.node_of)

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
        self._keras_mask = None  # owned by npgrad.layers.masks

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

    def backward(self, grad=None, retain_graph=False):
        """Compute gradients of this tensor with respect to every leaf that requires grad.

        Args:
            grad: upstream gradient, required unless this tensor has a single element.
            retain_graph: keep the graph's saved arrays for another backward pass.
        """
        engine.backward(self, grad, retain_graph=retain_graph)

    def retain_grad(self):
        """Ask backward to store ``grad`` on this non-leaf tensor too (a leaf always gets
        one): the op that made it keeps a weak reference to it and hands the gradient over."""
        if self._ctx is not None:
            self._ctx.retained = weakref.ref(self)
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

    # a single-element tensor is a Python number where Python asks for one (float(loss),
    # f"{accuracy:.4f}", if loss < best), as in Keras and PyTorch
    def _single(self, what):
        if self.data.size != 1:
            raise TypeError(f"Tensor: only a single-element tensor can be used as {what}, got "
                            f"shape {self.shape}")
        return self.data.item()

    def __float__(self):
        return float(self._single("a Python float"))

    def __int__(self):
        return int(self._single("a Python int"))

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"Tensor: only an integer tensor can be used as an index, got {self.dtype}")
        return int(self._single("an index"))

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"Tensor: the truth value of a tensor of shape {self.shape} is "
                             f"ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def __format__(self, spec):
        if not spec:
            return str(self)
        return format(self._single(f"a number to format with {spec!r}"), spec)

    def __round__(self, ndigits=None):
        return round(self._single("a number to round"), ndigits)

    def __array__(self, dtype=None, copy=None):
        # NumPy 2's protocol: np.array(t) asks for a copy (a snapshot of a variable must not
        # change with the next update), np.asarray(t) for none if it can be avoided
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            if copy is False:
                raise ValueError(f"a Tensor of dtype {self.data.dtype} cannot be viewed as "
                                 f"{np.dtype(dtype)} without a copy")
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", threshold=20)
        extras = [f"dtype={self.dtype}"]
        if self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}, {', '.join(extras)})"

    __hash__ = object.__hash__

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


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def tensor(data, requires_grad=False, dtype=None):
    """Make a :class:`Tensor` (PyTorch-style spelling of ``Tensor(...)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
