"""Square-matrix primitives: inverse, determinant and linear solve, batched over leading axes."""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives.shape import expand_dims, squeeze


def _t(a):
    return np.swapaxes(a, -1, -2)


class Inv(Function):
    """Matrix inverse of (..., n, n)."""

    def forward(self, a):
        out = np.linalg.inv(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (inv,) = self.saved
        # d(A^-1) = -A^-1 dA A^-1  =>  dL/dA = -A^-T G A^-T
        return (-_t(inv) @ grad @ _t(inv),)


class Det(Function):
    """Determinant of (..., n, n)."""

    def forward(self, a):
        out = np.asarray(np.linalg.det(a))
        self.save_for_backward(a, out)
        return out

    def backward(self, grad):
        a, det = self.saved
        # Jacobi's formula: d det(A) / dA = det(A) A^-T
        return ((grad * det)[..., None, None] * _t(np.linalg.inv(a)),)


class Solve(Function):
    """x solving a @ x = b for (..., n, n) a and (..., n, k) b."""

    def forward(self, a, b):
        x = np.linalg.solve(a, b)
        self.save_for_backward(a, x)
        return x

    def backward(self, grad):
        a, x = self.saved
        # x = A^-1 b:  dL/db = A^-T G,  dL/dA = -(A^-T G) x^T
        db = np.linalg.solve(_t(a), grad)
        da = -db @ _t(x) if self.needs_input_grad[0] else None
        return da, db


def _check_square(op, a):
    shape = np.shape(getattr(a, "data", a))
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{op}: expected square matrices (..., n, n), got shape {shape}")
    return shape


def inv(a):
    """Inverse of square matrices (..., n, n)."""
    _check_square("inv", a)
    return Inv.apply(a)


def det(a):
    """Determinant of square matrices (..., n, n)."""
    _check_square("det", a)
    return Det.apply(a)


def solve(a, b):
    """Solve ``a @ x = b`` for x; ``b`` is (..., n, k) (a vector (n,) is taken as (n, 1))."""
    shape = _check_square("solve", a)
    b_shape = np.shape(getattr(b, "data", b))
    if len(b_shape) == len(shape) - 1:
        return squeeze(Solve.apply(a, expand_dims(b, -1)), -1)
    return Solve.apply(a, b)
