"""Variable: a Tensor that holds state (a layer's weight, a metric's total), as Keras 3 has.

A Variable is a leaf Tensor with Keras's state API: ``assign``, ``assign_add``,
``assign_sub`` write in place (no graph), ``value`` and ``numpy()`` read, ``trainable``
says whether training updates it, and an optional ``constraint`` (a callable) is applied
by the optimizers after each update (``MaxNorm``, ``NonNeg``...).

Example:
    >>> v = npgrad.Variable(np.zeros(3), name="counts")
    >>> v.assign_add(np.ones(3)); v.numpy()
    array([1., 1., 1.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor


class Variable(Tensor):
    """A stateful leaf Tensor (Keras 3 ``keras.Variable``).

    Args:
        initializer: the initial value (array-like), or a callable ``(shape, dtype)``
            returning it (``shape`` is then required).
        shape: the shape, for a callable initializer.
        dtype: the dtype (default: the value's, float32 for Python numbers).
        trainable: whether training updates it (float dtypes only).
        name: its name.
        constraint: None, or a callable ``array -> array`` applied after each optimizer update.
    """

    __slots__ = ("constraint", "_trainable")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable=True, name=None,
                 constraint=None):
        if callable(initializer):
            if shape is None:
                raise ValueError(f"Variable {name!r}: a callable initializer needs shape=")
            value = initializer(tuple(shape), dtype=np.dtype(dtype or "float32"))
        else:
            value = initializer
            if shape is not None and tuple(np.shape(value)) != tuple(shape):
                raise ValueError(f"Variable {name!r}: value of shape {np.shape(value)} does not "
                                 f"match shape={tuple(shape)}")
        array = np.array(value.data if isinstance(value, Tensor) else value,
                         dtype=None if dtype is None else np.dtype(dtype))
        if dtype is None and array.dtype.kind in "iu" and not isinstance(value, np.ndarray):
            array = array.astype(np.float32)
        if dtype is None and array.dtype == np.float64 and not isinstance(value, np.ndarray):
            array = array.astype(np.float32)
        trainable = bool(trainable) and array.dtype.kind == "f"
        super().__init__(array, requires_grad=trainable, name=name)
        self._trainable = trainable
        if constraint is not None and not callable(constraint):
            raise TypeError(f"Variable {name!r}: constraint must be callable, got {constraint!r}")
        self.constraint = constraint

    @property
    def trainable(self):
        """Whether training updates this variable."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        self.requires_grad = self._trainable

    @property
    def value(self):
        """The current value, as a Tensor (this variable itself: reads see later writes)."""
        return self

    @property
    def path(self):
        """The full name (``"<layer>/<weight>"``), as Keras 3's ``variable.path``."""
        return self.name

    def _check(self, value, what):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        try:
            return np.broadcast_to(array, self.data.shape).astype(self.data.dtype, copy=False)
        except ValueError:
            raise ValueError(f"Variable {self.name!r}: cannot {what} a value of shape "
                             f"{array.shape} to a variable of shape {self.data.shape}") from None

    def assign(self, value):
        """Overwrite the value in place (shapes must match); returns the variable."""
        self.data[...] = self._check(value, "assign")
        return self

    def assign_add(self, delta):
        """Add ``delta`` in place; returns the variable."""
        self.data += self._check(delta, "add")
        return self

    def assign_sub(self, delta):
        """Subtract ``delta`` in place; returns the variable."""
        self.data -= self._check(delta, "subtract")
        return self

    def __repr__(self):
        return f"<Variable path={self.name!r}, shape={self.shape}, dtype={self.dtype}>"
