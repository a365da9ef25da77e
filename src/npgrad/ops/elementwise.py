"""Elementwise ops, as ``keras.ops`` (NumPy names): arithmetic, math, comparisons, logic.

Floating inputs are differentiable (smooth functions through the primitives; ``sign``,
``floor``, ``round`` and other step functions return constants, zero gradient as in Keras).
Integer inputs stay integer where NumPy keeps them integer (``add``, ``abs``, ``maximum``,
...), and become ``config.floatx()`` for ``exp``, ``sqrt``, ``sin``...
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.primitives import activation, elementwise
from npgrad.primitives import math as math_ops
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import float_dtype, raw, wrap


def _any_float(*xs):
    """Whether any operand holds floats (checked without converting Tensors)."""
    for x in xs:
        if type(x) is Tensor:
            if x.data.dtype.kind == "f":
                return True
        elif isinstance(x, float) or (not isinstance(x, int) and raw(x).dtype.kind == "f"):
            return True
    return False


def _binary(primitive, numpy_fn, x1, x2):
    """The primitive when a float is involved (differentiable), else NumPy on the integers."""
    if _any_float(x1, x2):
        return primitive(x1, x2)
    return wrap(numpy_fn(_operand(x1), _operand(x2)))


def _operand(x):
    """Python numbers stay Python numbers (weak types: int32 + 1 stays int32, as Keras)."""
    return x if isinstance(x, (bool, int, float)) else raw(x)


def _unary(primitive, numpy_fn, x):
    return primitive(x) if _any_float(x) else wrap(numpy_fn(raw(x)))


def _constant(numpy_fn, *xs, **kwargs):
    """A non-differentiable result (step functions, comparisons), dtype as NumPy gives it."""
    return wrap(numpy_fn(*[_operand(x) for x in xs], **kwargs))


def _float_unary(name, x):
    return math_ops.unary(x, name)


# ------------------------------------------------------------------ arithmetic
@keras_op
def add(x1, x2):
    """x1 + x2 with broadcasting."""
    return _binary(elementwise.add, np.add, x1, x2)


@keras_op
def subtract(x1, x2):
    """x1 - x2 with broadcasting."""
    return _binary(elementwise.subtract, np.subtract, x1, x2)


@keras_op
def multiply(x1, x2):
    """x1 * x2 with broadcasting."""
    return _binary(elementwise.multiply, np.multiply, x1, x2)


@keras_op
def divide(x1, x2):
    """x1 / x2 (true division: integers give floats)."""
    return elementwise.divide(x1, x2)


@keras_op
def true_divide(x1, x2):
    """Same as :func:`divide`."""
    return elementwise.divide(x1, x2)


@keras_op
def divide_no_nan(x1, x2):
    """x1 / x2, with 0 where x2 == 0 (and no gradient through those places)."""
    zero = raw(x2) == 0
    safe = elementwise.where(zero, np.ones((), dtype=float_dtype()), x2) if zero.any() else x2
    return elementwise.where(zero, np.zeros((), dtype=float_dtype()), elementwise.divide(x1, safe))


@keras_op
def floor_divide(x1, x2):
    """Floor of x1 / x2 (a constant: zero gradient)."""
    return _constant(np.floor_divide, x1, x2)


@keras_op
def mod(x1, x2):
    """x1 mod x2 with the sign of x2 (Python's %); d/dx1 = 1, d/dx2 = -floor(x1 / x2)."""
    if not _any_float(x1, x2):
        return _constant(np.mod, x1, x2)
    quotient = np.floor_divide(raw(x1), raw(x2))
    return elementwise.subtract(x1, elementwise.multiply(x2, quotient))


@keras_op
def fmod(x1, x2):
    """C-style remainder with the sign of x1 (a constant in x2, slope 1 in x1)."""
    if not _any_float(x1, x2):
        return _constant(np.fmod, x1, x2)
    quotient = np.trunc(raw(x1) / raw(x2))
    return elementwise.subtract(x1, elementwise.multiply(x2, quotient))


@keras_op
def negative(x):
    """-x."""
    return _unary(elementwise.negative, np.negative, x)


@keras_op
def power(x1, x2):
    """x1 ** x2 with broadcasting."""
    return _binary(elementwise.power, np.power, x1, x2)


@keras_op
def square(x):
    """x ** 2."""
    return _unary(elementwise.square, np.square, x)


@keras_op
def sqrt(x):
    """Square root."""
    return elementwise.sqrt(x)


@keras_op
def abs(x):  # noqa: A001 - NumPy's name
    """|x| (gradient 0 at 0)."""
    return _unary(elementwise.abs, np.abs, x)


@keras_op
def absolute(x):
    """Same as :func:`abs`."""
    return _unary(elementwise.abs, np.abs, x)


@keras_op
def fabs(x):
    """|x| as a float."""
    return elementwise.abs(x)


@keras_op
def sign(x):
    """-1, 0 or 1 (a constant: zero gradient)."""
    return _constant(np.sign, x)


@keras_op
def exp(x):
    """e ** x."""
    return elementwise.exp(x)


@keras_op
def log(x):
    """Natural logarithm."""
    return elementwise.log(x)


@keras_op
def reciprocal(x):
    """1 / x."""
    return _float_unary("reciprocal", x)


@keras_op
def clip(x, x_min, x_max):
    """``x`` clamped to [x_min, x_max] (the gradient passes at the bounds)."""
    if not _any_float(x):
        return _constant(np.clip, x, x_min, x_max)
    return elementwise.clip(x, raw(x_min), raw(x_max))


@keras_op
def maximum(x1, x2):
    """Elementwise maximum (ties send the gradient to x1)."""
    return _binary(elementwise.maximum, np.maximum, x1, x2)


@keras_op
def minimum(x1, x2):
    """Elementwise minimum (ties send the gradient to x1)."""
    return _binary(elementwise.minimum, np.minimum, x1, x2)


@keras_op
def fmax(x1, x2):
    """Elementwise maximum (NaNs are not special-cased)."""
    return _binary(elementwise.maximum, np.maximum, x1, x2)


@keras_op
def fmin(x1, x2):
    """Elementwise minimum (NaNs are not special-cased)."""
    return _binary(elementwise.minimum, np.minimum, x1, x2)


@keras_op
def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)), computed stably."""
    m = np.maximum(raw(x1), raw(x2))
    shifted = elementwise.add(elementwise.exp(elementwise.subtract(x1, m)),
                              elementwise.exp(elementwise.subtract(x2, m)))
    return elementwise.add(elementwise.log(shifted), m)


@keras_op
def logaddexp2(x1, x2):
    """log2(2 ** x1 + 2 ** x2)."""
    ln2 = np.log(2.0)
    return elementwise.divide(logaddexp(elementwise.multiply(x1, ln2),
                                        elementwise.multiply(x2, ln2)), ln2)


@keras_op
def arctan2(x1, x2):
    """Angle of the point (x2, x1): d/dx1 = x2 / r^2, d/dx2 = -x1 / r^2."""
    return math_ops.arctan2(x1, x2)


@keras_op
def hypot(x1, x2):
    """sqrt(x1 ** 2 + x2 ** 2)."""
    return elementwise.sqrt(elementwise.add(elementwise.square(x1), elementwise.square(x2)))


@keras_op
def deg2rad(x):
    """Degrees to radians."""
    return elementwise.multiply(x, np.pi / 180)


@keras_op
def rad2deg(x):
    """Radians to degrees."""
    return elementwise.multiply(x, 180 / np.pi)


@keras_op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by finite numbers (gradient 1 where x was finite)."""
    data = raw(x)
    fixed = np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf)
    if data.dtype.kind != "f":
        return wrap(fixed)
    return elementwise.where(np.isfinite(data), x, fixed)


@keras_op
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with only ``condition``, its nonzero indices."""
    if x1 is None and x2 is None:
        return [wrap(i.astype("int32")) for i in np.nonzero(raw(condition))]
    if not _any_float(x1, x2):
        return wrap(np.where(raw(condition), raw(x1), raw(x2)))
    return elementwise.where(raw(condition), x1, x2)


@keras_op
def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, per element (as ``np.select``)."""
    out = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = where(condition, choice, out)
    return out if isinstance(out, Tensor) else wrap(np.broadcast_to(out, raw(condlist[0]).shape))


@keras_op
def heaviside(x1, x2):
    """0 for x1 < 0, x2 for x1 == 0, 1 for x1 > 0 (a constant)."""
    return _constant(np.heaviside, x1, x2)


def _define_unary(name, doc):
    def op(x):
        return _float_unary(name, x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    op.__module__ = __name__
    return keras_op(op)


sin = _define_unary("sin", "Sine.")
cos = _define_unary("cos", "Cosine.")
tan = _define_unary("tan", "Tangent.")
arcsin = _define_unary("arcsin", "Inverse sine.")
arccos = _define_unary("arccos", "Inverse cosine.")
arctan = _define_unary("arctan", "Inverse tangent.")
sinh = _define_unary("sinh", "Hyperbolic sine.")
cosh = _define_unary("cosh", "Hyperbolic cosine.")
arcsinh = _define_unary("arcsinh", "Inverse hyperbolic sine.")
arccosh = _define_unary("arccosh", "Inverse hyperbolic cosine.")
arctanh = _define_unary("arctanh", "Inverse hyperbolic tangent.")
log1p = _define_unary("log1p", "log(1 + x), accurate for small x.")
expm1 = _define_unary("expm1", "exp(x) - 1, accurate for small x.")
log2 = _define_unary("log2", "Base-2 logarithm.")
log10 = _define_unary("log10", "Base-10 logarithm.")
exp2 = _define_unary("exp2", "2 ** x.")
cbrt = _define_unary("cbrt", "Cube root.")
sinc = _define_unary("sinc", "sin(pi x) / (pi x), 1 at 0.")
i0 = _define_unary("i0", "Modified Bessel function of the first kind, order 0.")


@keras_op
def tanh(x):
    """Hyperbolic tangent."""
    return activation.tanh(x)


def _define_constant(name, numpy_fn, doc):
    def op(*xs, **kwargs):
        return _constant(numpy_fn, *xs, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " (A constant: no gradient.)"
    op.__module__ = __name__
    return keras_op(op)


floor = _define_constant("floor", np.floor, "Largest integer <= x.")
ceil = _define_constant("ceil", np.ceil, "Smallest integer >= x.")
trunc = _define_constant("trunc", np.trunc, "x rounded toward zero.")
signbit = _define_constant("signbit", np.signbit, "Whether the sign bit is set.")
equal = _define_constant("equal", np.equal, "x1 == x2, elementwise.")
not_equal = _define_constant("not_equal", np.not_equal, "x1 != x2, elementwise.")
less = _define_constant("less", np.less, "x1 < x2, elementwise.")
less_equal = _define_constant("less_equal", np.less_equal, "x1 <= x2, elementwise.")
greater = _define_constant("greater", np.greater, "x1 > x2, elementwise.")
greater_equal = _define_constant("greater_equal", np.greater_equal, "x1 >= x2, elementwise.")
isclose = _define_constant("isclose", np.isclose, "|x1 - x2| <= atol + rtol |x2|, elementwise.")
isnan = _define_constant("isnan", np.isnan, "Whether x is NaN.")
isinf = _define_constant("isinf", np.isinf, "Whether x is +-inf.")
isfinite = _define_constant("isfinite", np.isfinite, "Whether x is finite.")
isneginf = _define_constant("isneginf", np.isneginf, "Whether x is -inf.")
isposinf = _define_constant("isposinf", np.isposinf, "Whether x is +inf.")
isreal = _define_constant("isreal", np.isreal, "Whether x has no imaginary part.")
logical_and = _define_constant("logical_and", np.logical_and, "x1 and x2, elementwise.")
logical_or = _define_constant("logical_or", np.logical_or, "x1 or x2, elementwise.")
logical_xor = _define_constant("logical_xor", np.logical_xor, "x1 xor x2, elementwise.")
logical_not = _define_constant("logical_not", np.logical_not, "not x, elementwise.")
bitwise_and = _define_constant("bitwise_and", np.bitwise_and, "Bitwise and of integers.")
bitwise_or = _define_constant("bitwise_or", np.bitwise_or, "Bitwise or of integers.")
bitwise_xor = _define_constant("bitwise_xor", np.bitwise_xor, "Bitwise xor of integers.")
bitwise_not = _define_constant("bitwise_not", np.invert, "Bitwise not of integers.")
bitwise_invert = _define_constant("bitwise_invert", np.invert, "Bitwise not of integers.")
bitwise_left_shift = _define_constant("bitwise_left_shift", np.left_shift, "x1 << x2.")
bitwise_right_shift = _define_constant("bitwise_right_shift", np.right_shift, "x1 >> x2.")
left_shift = _define_constant("left_shift", np.left_shift, "x1 << x2.")
right_shift = _define_constant("right_shift", np.right_shift, "x1 >> x2.")
gcd = _define_constant("gcd", np.gcd, "Greatest common divisor.")
lcm = _define_constant("lcm", np.lcm, "Least common multiple.")
real = _define_constant("real", np.real, "Real part.")
imag = _define_constant("imag", np.imag, "Imaginary part.")
conjugate = _define_constant("conjugate", np.conjugate, "Complex conjugate.")
conj = _define_constant("conj", np.conjugate, "Complex conjugate.")
angle = _define_constant("angle", np.angle, "Argument of complex numbers.")
nextafter = _define_constant("nextafter", np.nextafter, "The next float after x1 toward x2.")
ldexp = _define_constant("ldexp", np.ldexp, "x1 * 2 ** x2.")


@keras_op
def round(x, decimals=0):  # noqa: A001 - NumPy's name
    """x rounded to ``decimals`` (half to even, as NumPy; a constant)."""
    return _constant(np.round, x, decimals=decimals)


@keras_op
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether every element is close (a scalar boolean tensor)."""
    return wrap(np.allclose(raw(x1), raw(x2), rtol=rtol, atol=atol, equal_nan=equal_nan))


def _tensor_operators():
    """Tensor's ``//``, ``%``, ``&``, ``|``, ``^`` and ``~``: the ops above, bound here
    where they live (``primitives.tensor_methods`` binds the arithmetic ones), as Keras's
    tensors have them. ``&``, ``|``, ``^`` and ``~`` are bitwise, hence logical on booleans."""
    pairs = {"floordiv": floor_divide, "mod": mod, "and": bitwise_and, "or": bitwise_or,
             "xor": bitwise_xor}
    for name, op in pairs.items():
        setattr(Tensor, f"__{name}__", lambda self, other, op=op: op(self, other))
        setattr(Tensor, f"__r{name}__", lambda self, other, op=op: op(other, self))
    Tensor.__invert__ = lambda self: bitwise_invert(self)


_tensor_operators()

__all__ = [
    "abs", "absolute", "add", "allclose", "angle", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctan2", "arctanh", "bitwise_and", "bitwise_invert", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "cbrt", "ceil", "clip",
    "conj", "conjugate", "cos", "cosh", "deg2rad", "divide", "divide_no_nan", "equal", "exp",
    "exp2", "expm1", "fabs", "floor", "floor_divide", "fmax", "fmin", "fmod", "gcd", "greater",
    "greater_equal", "heaviside", "hypot", "i0", "imag", "isclose", "isfinite", "isinf",
    "isnan", "isneginf", "isposinf", "isreal", "lcm", "ldexp", "left_shift", "less",
    "less_equal", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2", "logical_and",
    "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "mod", "multiply",
    "nan_to_num", "negative", "nextafter", "not_equal", "power", "rad2deg", "real",
    "reciprocal", "right_shift", "round", "select", "sign", "signbit", "sin", "sinc", "sinh",
    "sqrt", "square", "subtract", "tan", "tanh", "true_divide", "trunc", "where",
]  # fmt: skip
