"""More math primitives for ``npgrad.ops``: a table of unary elementwise functions, running
sums and products, the product reduction and scatter-add.

:class:`UnaryMath` is one op for many smooth elementwise functions (sin, cos, log1p, erf,
...): each table entry holds the forward function and its derivative side by side, so adding
a function is one line. The derivative takes ``(x, out)`` and returns dout/dx.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from npgrad.autograd.function import Function, linear_backward_graph
from npgrad.primitives.activation import sigmoid_values, softplus_values


def _safe_sqrt_pi():
    return np.sqrt(np.pi)


#: name -> (forward f(x), derivative d(x, out) = f'(x))
UNARY = {
    "sin": (np.sin, lambda x, out: np.cos(x)),
    "cos": (np.cos, lambda x, out: -np.sin(x)),
    "tan": (np.tan, lambda x, out: 1 + out * out),
    "arcsin": (np.arcsin, lambda x, out: 1 / np.sqrt(1 - x * x)),
    "arccos": (np.arccos, lambda x, out: -1 / np.sqrt(1 - x * x)),
    "arctan": (np.arctan, lambda x, out: 1 / (1 + x * x)),
    "sinh": (np.sinh, lambda x, out: np.cosh(x)),
    "cosh": (np.cosh, lambda x, out: np.sinh(x)),
    "arcsinh": (np.arcsinh, lambda x, out: 1 / np.sqrt(x * x + 1)),
    "arccosh": (np.arccosh, lambda x, out: 1 / np.sqrt(x * x - 1)),
    "arctanh": (np.arctanh, lambda x, out: 1 / (1 - x * x)),
    "log1p": (np.log1p, lambda x, out: 1 / (1 + x)),
    "expm1": (np.expm1, lambda x, out: out + 1),
    "log2": (np.log2, lambda x, out: 1 / (x * np.log(2))),
    "log10": (np.log10, lambda x, out: 1 / (x * np.log(10))),
    "exp2": (np.exp2, lambda x, out: out * np.log(2)),
    "cbrt": (np.cbrt, lambda x, out: 1 / (3 * out * out)),
    "reciprocal": (np.reciprocal, lambda x, out: -out * out),
    "rsqrt": (lambda x: 1 / np.sqrt(x), lambda x, out: -0.5 * out / x),
    # d erf(x)/dx = 2/sqrt(pi) exp(-x^2); erfc = 1 - erf
    "erf": (special.erf, lambda x, out: 2 / _safe_sqrt_pi() * np.exp(-x * x)),
    "erfc": (special.erfc, lambda x, out: -2 / _safe_sqrt_pi() * np.exp(-x * x)),
    # erfinv: derivative is 1 / erf'(out)
    "erfinv": (special.erfinv, lambda x, out: _safe_sqrt_pi() / 2 * np.exp(out * out)),
    # log sigmoid = -softplus(-x), derivative sigmoid(-x)
    "log_sigmoid": (lambda x: -softplus_values(-x), lambda x, out: sigmoid_values(-x)),
    "sinc": (np.sinc, lambda x, out: _sinc_derivative(x)),
    "i0": (np.i0, lambda x, out: special.i1(x)),
}


def _sinc_derivative(x):
    # sinc(x) = sin(pi x) / (pi x); derivative (cos(pi x) - sinc(x)) / x, 0 at x = 0
    safe = np.where(x == 0, 1, x)
    return np.where(x == 0, 0, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


class UnaryMath(Function):
    """One smooth elementwise function from the :data:`UNARY` table (``name`` selects it).

    Outside a function's domain the output is nan, as NumPy's; kinks do not occur.
    """

    def forward(self, x, name=None):
        function, self.derivative = UNARY[name]
        out = np.asarray(function(x)).astype(x.dtype, copy=False)
        if self.needs_input_grad[0]:
            self.save_for_backward(x, out)
        return out

    def backward(self, grad):
        x, out = self.saved
        # chain rule: dL/dx = dL/dout * f'(x)
        return ((grad * self.derivative(x, out)).astype(grad.dtype, copy=False),)


def unary(x, name):
    """Apply the table function ``name`` (see :data:`UNARY`) elementwise, differentiably."""
    if name not in UNARY:
        raise ValueError(f"unary: unknown function {name!r}; known: {sorted(UNARY)}")
    return UnaryMath.apply(x, name=name)


class Arctan2(Function):
    """The angle of the point (x2, x1), in (-pi, pi]: d/dx1 = x2 / r^2, d/dx2 = -x1 / r^2
    (r^2 = x1^2 + x2^2; both 0 at the origin, where the angle is not differentiable)."""

    def forward(self, x1, x2):
        self.save_for_backward(x1, x2)
        return np.arctan2(x1, x2)

    def backward(self, grad):
        x1, x2 = self.saved
        r2 = x1 * x1 + x2 * x2
        r2 = np.where(r2 > 0, r2, 1)  # at the origin x1 = x2 = 0: both slopes 0
        return grad * (x2 / r2), grad * (-x1 / r2)

    def backward_graph(self, grad):
        x1, x2 = self.saved
        a, b = self.graph_input(0, x1), self.graph_input(1, x2)
        r2 = a * a + b * b + (x1 * x1 + x2 * x2 == 0)  # 1 at the origin, where a = b = 0
        return grad * b / r2, -grad * a / r2


def arctan2(x1, x2):
    """Elementwise angle of (x2, x1) (NumPy's argument order), differentiable twice."""
    return Arctan2.apply(x1, x2)


class Cumsum(Function):
    """Running sum along ``axis`` (flattened first when axis is None, as NumPy)."""

    def forward(self, x, axis=None):
        self.shape, self.axis = x.shape, axis
        return np.cumsum(x if axis is not None else x.reshape(-1), axis=axis or 0)

    def backward(self, grad):
        axis = self.axis or 0
        # out_i = sum_{j<=i} x_j, so dx_j = sum_{i>=j} grad_i: a reversed running sum
        dx = np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis)
        return (dx.reshape(self.shape),)

    backward_graph = linear_backward_graph  # the map is the running sum itself

    def jvp(self, tangent):
        return self.forward(tangent, axis=self.axis)


class Cumprod(Function):
    """Running product along ``axis``.

    The gradient is computed exactly, zeros included: for each position j, the products of
    the prefix before j and of the factors after j are formed without dividing by x_j.
    """

    def forward(self, x, axis=None):
        self.shape, self.axis = x.shape, axis
        x = x if axis is not None else x.reshape(-1)
        out = np.cumprod(x, axis=axis or 0)
        if self.needs_input_grad[0]:
            self.save_for_backward(x)
        return out

    def backward(self, grad):
        (x,) = self.saved
        axis = self.axis or 0
        x = np.moveaxis(x, axis, -1)
        g = np.moveaxis(grad, axis, -1)
        n = x.shape[-1]
        dx = np.zeros_like(x)
        # dout_i/dx_j = prod_{k<=i, k!=j} x_k for i >= j
        exclusive = np.concatenate([np.ones_like(x[..., :1]), np.cumprod(x, -1)[..., :-1]], -1)
        for j in range(n):  # O(n^2) with no division: exact at zeros
            after = np.cumprod(x[..., j + 1:], -1)
            partial = np.concatenate([np.ones_like(x[..., :1]), after], -1)
            dx[..., j] = exclusive[..., j] * (g[..., j:] * partial).sum(-1)
        return (np.moveaxis(dx, -1, axis).reshape(self.shape),)


class Prod(Function):
    """Product over axes (a tuple of non-negative axes or None); exact at zeros."""

    def forward(self, x, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims
        if self.needs_input_grad[0]:
            self.save_for_backward(x)
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdims))

    def backward(self, grad):
        (x,) = self.saved
        axes = tuple(range(x.ndim)) if self.axis is None else self.axis
        if not self.keepdims:
            grad = np.expand_dims(grad, axes)
        # d prod / dx_j = prod of the other factors: the product with x_j replaced by 1
        moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
        flat = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))
        before = np.concatenate([np.ones_like(flat[..., :1]), np.cumprod(flat, -1)[..., :-1]], -1)
        after = np.flip(np.concatenate(
            [np.ones_like(flat[..., :1]), np.cumprod(np.flip(flat, -1), -1)[..., :-1]], -1), -1)
        others = (before * after).reshape(moved.shape)
        others = np.moveaxis(others, tuple(range(x.ndim - len(axes), x.ndim)), axes)
        return (grad * others,)


class ScatterAdd(Function):
    """Add ``values`` into a zero array of ``shape`` at ``indices`` (duplicates add up).

    ``indices`` is a tuple of integer index arrays (NumPy advanced indexing).
    """

    def forward(self, values, indices=None, shape=None):
        self.indices, self.shape = indices, shape
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, indices, values)
        return out

    def backward(self, grad):
        # each value lands at one place: its gradient is read back from there
        return (grad[self.indices],)

    backward_graph = linear_backward_graph

    def jvp(self, tangent):
        out = np.zeros(self.shape, dtype=tangent.dtype)
        np.add.at(out, self.indices, tangent)
        return out


def cumsum(x, axis=None):
    """Running sum along ``axis`` (over the flattened array when None)."""
    return Cumsum.apply(x, axis=axis)


def cumprod(x, axis=None):
    """Running product along ``axis`` (over the flattened array when None)."""
    return Cumprod.apply(x, axis=axis)


def prod(x, axis=None, keepdims=False):
    """Product of the elements over ``axis`` (int, tuple or None)."""
    ndim = np.ndim(getattr(x, "data", x))
    if axis is not None:
        axes = (axis,) if np.isscalar(axis) else tuple(axis)
        axis = tuple(sorted(int(a) % max(ndim, 1) for a in axes))
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def scatter_add(values, indices, shape):
    """A zero array of ``shape`` with ``values`` added at ``indices`` (a tuple of index arrays)."""
    return ScatterAdd.apply(values, indices=tuple(np.asarray(i, dtype=np.intp) for i in indices),
                            shape=tuple(int(n) for n in shape))
