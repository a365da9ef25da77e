"""Elementwise arithmetic and math, with NumPy broadcasting.

Every backward returns gradients in the broadcast output shape; the engine sums them
back to each input's shape.
"""

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import parallel as _parallel
from npgrad.primitives.rectify import masked, rectify, relu_backward


def _check_broadcast(op, a, b):
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: operands with shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


class Add(Function):
    """a + b."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("add", a, b)
        return a + b

    def backward(self, grad):
        # d(a+b)/da = d(a+b)/db = 1
        return grad, grad

    backward_graph = backward  # the same ops on Tensors


class AddReLU(Function):
    """max(a + b, 0): a residual join and its ReLU in one op (gradient 0 where a + b <= 0).

    The sum is clipped in place, and the backward masks the gradient once for both inputs:
    one activation-sized array and one pass fewer than Add then ReLU.
    """

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("add_relu", a, b)
            out = np.add(a, b)
            rectify(out, out=out)
        else:  # one pass, shared between threads (primitives/parallel.py)
            out = _parallel.elementwise(lambda o, x, y: rectify(np.add(x, y, out=o), out=o),
                                        np.empty(a.shape, np.result_type(a, b)), a, b)
        self.save_for_backward(out)  # its zeros are the mask; the next layer keeps it anyway
        return out

    def backward(self, grad):
        (out,) = self.saved
        through = relu_backward(grad, out)
        return through, through

    def backward_graph(self, grad):  # the mask is piecewise constant
        (out,) = self.saved
        through = grad * (out > 0)
        return through, through


class Subtract(Function):
    """a - b."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("subtract", a, b)
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)

    backward_graph = backward  # the same ops on Tensors


class Multiply(Function):
    """a * b."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("multiply", a, b)
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        # d(a*b)/da = b, d(a*b)/db = a
        da = grad * b if self.needs_input_grad[0] else None
        db = grad * a if self.needs_input_grad[1] else None
        return da, db

    def backward_graph(self, grad):
        a, b = self.saved
        da = grad * self.graph_input(1, b) if self.needs_input_grad[0] else None
        db = grad * self.graph_input(0, a) if self.needs_input_grad[1] else None
        return da, db


class Divide(Function):
    """a / b."""

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("divide", a, b)
        out = a / b
        self.save_for_backward(b, out)
        return out

    def backward(self, grad):
        b, out = self.saved
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
        da = grad / b if self.needs_input_grad[0] else None
        db = -grad * out / b if self.needs_input_grad[1] else None
        return da, db

    def backward_graph(self, grad):
        b, out = self.saved
        b_t = self.graph_input(1, b)
        da = grad / b_t if self.needs_input_grad[0] else None
        db = -grad * self.graph_output(out) / b_t if self.needs_input_grad[1] else None
        return da, db


class Negative(Function):
    """-x."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, x):
        return -x

    def backward(self, grad):
        return (-grad,)

    backward_graph = backward


class Power(Function):
    """a ** b for tensors a and b (b is usually a constant exponent)."""

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("power", a, b)
        out = a**b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved
        da = db = None
        if self.needs_input_grad[0]:
            # d(a^b)/da = b a^(b-1)
            da = grad * b * a ** (b - 1)
        if self.needs_input_grad[1]:
            # d(a^b)/db = a^b log(a), defined for a > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                db = grad * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return da, db

    def backward_graph(self, grad):
        a, b, out = self.saved
        a_t, b_t = self.graph_input(0, a), self.graph_input(1, b)
        da = db = None
        if self.needs_input_grad[0]:
            da = grad * b_t * a_t ** (b_t - 1)
        if self.needs_input_grad[1]:
            positive = a > 0
            log_a = where(positive, log(where(positive, a_t, np.ones((), a.dtype))), 0.0)
            db = grad * self.graph_output(out) * log_a
        return da, db


class Exp(Function):
    """e^x."""

    def forward(self, x):
        out = np.exp(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return (grad * out,)

    def backward_graph(self, grad):
        return (grad * self.graph_output(self.saved[0]),)


class Log(Function):
    """Natural logarithm; -inf at 0 and nan below, as NumPy."""

    def forward(self, x):
        self.save_for_backward(x)
        return np.log(x)

    def backward(self, grad):
        (x,) = self.saved
        return (grad / x,)

    def backward_graph(self, grad):
        return (grad / self.graph_input(0, self.saved[0]),)


class Sqrt(Function):
    """Square root."""

    def forward(self, x):
        out = np.sqrt(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        return (grad / (2 * out),)

    def backward_graph(self, grad):
        return (grad / (2 * self.graph_output(self.saved[0])),)


class Abs(Function):
    """|x|; the gradient at exactly 0 is 0 (sign(0) = 0)."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, grad):
        (x,) = self.saved
        return (grad * np.sign(x),)

    backward_graph = backward  # sign(x) is piecewise constant


class Clip(Function):
    """Clamp to [low, high]; gradient 1 strictly inside, 0 outside and at the bounds' far side.

    At a value exactly equal to a bound the gradient passes (like PyTorch's clamp).
    """

    def forward(self, x, low=None, high=None):
        self.save_for_backward(x)
        self.low, self.high = low, high
        if x.dtype.kind == "f":  # infinite bounds for None: NumPy's vectorized scalar clip
            low = -np.inf if low is None else low
            high = np.inf if high is None else high
        return np.clip(x, low, high)

    def _inside(self):
        (x,) = self.saved
        inside = np.ones(x.shape, dtype=bool) if self.low is None else x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return inside

    def backward(self, grad):
        return (masked(grad, self._inside()),)

    def backward_graph(self, grad):  # the mask is piecewise constant
        return (grad * self._inside(),)


class Maximum(Function):
    """Elementwise max(a, b); on ties the gradient goes to a."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("maximum", a, b)
        self.a_wins = a >= b
        return np.maximum(a, b)

    def backward(self, grad):
        return grad * self.a_wins, grad * ~self.a_wins

    backward_graph = backward


class Minimum(Function):
    """Elementwise min(a, b); on ties the gradient goes to a."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, a, b):
        if a.shape != b.shape:
            _check_broadcast("minimum", a, b)
        self.a_wins = a <= b
        return np.minimum(a, b)

    def backward(self, grad):
        return grad * self.a_wins, grad * ~self.a_wins

    backward_graph = backward


class Where(Function):
    """Select a where condition holds, else b (condition is a constant boolean array)."""

    def forward(self, a, b, condition=None):
        try:
            np.broadcast_shapes(condition.shape, a.shape, b.shape)
        except ValueError:
            raise ValueError(
                f"where: condition {condition.shape}, x {a.shape} and y {b.shape} cannot be "
                "broadcast together"
            ) from None
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad):
        zero = np.zeros((), dtype=grad.dtype)
        return np.where(self.condition, grad, zero), np.where(self.condition, zero, grad)

    def backward_graph(self, grad):
        zero = np.zeros((), dtype=grad.dtype)
        return where(self.condition, grad, zero), where(self.condition, zero, grad)


class Cast(Function):
    """Change the floating dtype; the gradient is cast back by the engine."""

    def forward(self, x, dtype=None):
        return x.astype(dtype)

    def backward(self, grad):
        return (grad,)

    backward_graph = backward  # the engine casts the gradient back


def add(a, b):
    """a + b with broadcasting."""
    return Add.apply(a, b)


def add_relu(a, b):
    """``relu(a + b)`` as one op (the end of a residual block), with broadcasting.

    Example:
        >>> add_relu(np.array([1.0, -2.0]), np.array([0.5, 1.0])).numpy()
        array([1.5, 0. ])
    """
    return AddReLU.apply(a, b)


def subtract(a, b):
    """a - b with broadcasting."""
    return Subtract.apply(a, b)


def multiply(a, b):
    """a * b with broadcasting."""
    return Multiply.apply(a, b)


def divide(a, b):
    """a / b with broadcasting."""
    return Divide.apply(a, b)


def negative(x):
    """-x."""
    return Negative.apply(x)


def power(a, b):
    """a ** b with broadcasting (the exponent may be a number or a tensor)."""
    return Power.apply(a, b)


def square(x):
    """x ** 2."""
    return Multiply.apply(x, x)


def exp(x):
    """e ** x."""
    return Exp.apply(x)


def log(x):
    """Natural logarithm."""
    return Log.apply(x)


def sqrt(x):
    """Square root."""
    return Sqrt.apply(x)


def abs(x):  # noqa: A001 - NumPy's name
    """Absolute value (gradient 0 at 0)."""
    return Abs.apply(x)


def clip(x, min=None, max=None):  # noqa: A002 - NumPy's names
    """Clamp x to [min, max]; either bound may be None."""
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min ({min}) must not exceed max ({max})")
    return Clip.apply(x, low=min, high=max)


def maximum(a, b):
    """Elementwise maximum (ties send the gradient to a)."""
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum (ties send the gradient to a)."""
    return Minimum.apply(a, b)


def where(condition, x, y):
    """Elementwise ``x if condition else y``; the condition is not differentiated."""
    condition = np.asarray(getattr(condition, "data", condition), dtype=bool)
    return Where.apply(x, y, condition=condition)


def cast(x, dtype):
    """Cast x to a floating dtype, differentiably."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"cast: only floating dtypes are differentiable, got {dtype}")
    return Cast.apply(x, dtype=dtype)
