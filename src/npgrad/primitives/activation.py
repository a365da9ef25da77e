"""Activation functions. Fused where they are hot (relu, sigmoid, silu, tanh, softmax, ...).

Speed notes (2-core AMD EPYC, Zen 4, NumPy 2.4, 2**21 float32 values): NumPy's ``exp``,
``expm1``, ``log1p`` and ``tanh`` loops are vectorized (0.8-1.4 ms), ``np.clip`` with scalar
bounds too (0.5 ms); ``scipy.special.expit`` is not (11.7 ms), nor ``np.logaddexp`` (46.6 ms)
or ``np.where`` (10.5 ms). So the sigmoid is :func:`logistic` (four passes at ``exp``'s
speed), softplus ``max(x, 0) + log1p(exp(-|x|))`` and ELU ``max(x, 0) + alpha *
expm1(min(x, 0))``, each with no ``where``.

The passes of exponentials and ``tanh`` (sigmoid, SiLU, tanh, softplus, ELU and SELU, the
tanh GELU, forward and backward) run on every core in blocks of the flat arrays
(:func:`_shared`): each block evaluates the same expression as the whole array would, so
the values are the same bits on any number of threads.
"""

import math

import numpy as np
from scipy import special

from npgrad.autograd.function import Function, composed_backward_graph
from npgrad.autograd.tensor import Tensor
from npgrad.primitives import elementwise, last_axis
from npgrad.primitives import parallel as _parallel
from npgrad.primitives.normal_cdf import gelu_derivative_from_output, gelu_float32
from npgrad.primitives.rectify import masked, rectify, relu_backward, relu_mask


class ReLU(Function):
    """max(x, 0), or min(max(x, 0), max_value) with a cap (``ReLU(max_value=6)``); by
    convention the gradient at exactly 0, and at exactly the cap, is 0.

    The output is kept for backward (as PyTorch's ReLU keeps it; the next layer usually
    keeps it anyway, but a max-pool after it keeps only where its maxima were, and there
    this costs the output where a boolean mask took a quarter of it): it is positive, and
    below the cap, exactly where the input is, so the backward makes its mask from it in the
    same shared pass as the product (``rectify.relu_backward``), and the forward is one pass.
    """

    def forward(self, x, max_value=None):
        out = rectify(x, max_value=max_value)
        self.max_value = max_value
        if self.needs_input_grad[0]:
            self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        if out.dtype.kind != "f":  # integers: the boolean product, in the gradient's dtype
            return (masked(grad, relu_mask(out, self.max_value)),)
        return (relu_backward(grad, out, self.max_value),)

    def backward_graph(self, grad):  # the mask is piecewise constant
        return (grad * relu_mask(self.saved[0], self.max_value),)


class LeakyReLU(Function):
    """x for x > 0, negative_slope * x otherwise (gradient at 0 is negative_slope).

    For a float input and a slope in [0, 1] (the usual case) the output is
    ``maximum(x * slope, x)`` in one shared pass, kept for backward (the next layer keeps it
    anyway): it is positive exactly where x is, so the backward builds its factor, 1 or the
    slope (``clip(y > 0, slope, inf)``, exact), from it in the same shared pass as the
    product: the same numbers as ``np.where``, which is over ten times slower on float32
    arrays. Against keeping a factor array made in the forward (four passes): a (128, 14, 14,
    64) float32 forward and backward 1.98 -> 1.72 ms on two threads, and no factor array.
    """

    def forward(self, x, negative_slope=0.2):
        slope = x.dtype.type(negative_slope)
        self.slope = negative_slope
        if 0 <= negative_slope <= 1 and x.dtype.kind == "f":

            def block(out, x):  # shared between threads (parallel.py)
                np.multiply(x, slope, out=out)
                np.maximum(out, x, out=out)

            out = _parallel.elementwise(block, np.empty(x.shape, x.dtype), x)
            if self.needs_input_grad[0]:
                self.save_for_backward(out)
            return out
        if 0 <= negative_slope <= 1:
            out = x * slope
            np.maximum(out, x, out=out)
            if self.needs_input_grad[0]:
                self.save_for_backward(out)
            return out
        self.positive = x > 0
        return np.where(self.positive, x, x * slope)

    def _factor(self, dtype):
        """1 where the output is positive, else the slope, as ``dtype`` (the whole array)."""
        (out,) = self.saved
        return np.clip((out > 0).astype(dtype), dtype.type(self.slope), dtype.type(np.inf))

    def backward(self, grad):
        if not 0 <= self.slope <= 1:
            return (np.where(self.positive, grad, grad * grad.dtype.type(self.slope)),)
        (out,) = self.saved
        if out.dtype.kind == "f" and _same(out, grad):
            slope, top = grad.dtype.type(self.slope), grad.dtype.type(np.inf)

            def block(dx, y, g):  # the factor from the output, then the product
                np.greater(y, 0, out=dx)
                np.clip(dx, slope, top, out=dx)
                np.multiply(g, dx, out=dx)

            return (_parallel.elementwise(block, np.empty(grad.shape, grad.dtype), out, grad),)
        return (grad * self._factor(np.result_type(grad, out)),)

    def backward_graph(self, grad):
        if 0 <= self.slope <= 1:
            return (grad * self._factor(self.saved[0].dtype),)
        return (elementwise.where(self.positive, grad, grad * self.slope),)


def logistic(x, out=None):
    """``1 / (1 + exp(-x))`` into ``out`` (which may be ``x``) or a new array, float ``x``.

    Four passes at the speed of ``exp``. Where ``exp(-x)`` overflows (x below about -88 in
    float32) the result is the exact limit 0; the caller silences that overflow warning
    (``np.errstate(over="ignore")``). Relative precision holds in both tails: for very
    negative x the result is ``1 / exp(-x)``, not a difference of nearly equal numbers."""
    out = np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _shared(fn, out, *operands):
    """``fn(out, *operands)``, element by element, in blocks shared between threads
    (``parallel.elementwise``, with the smaller blocks of passes bound by computing)."""
    return _parallel.elementwise(fn, out, *operands, min_bytes=_parallel.COMPUTE_BLOCK_BYTES)


def _same(*arrays):
    """Whether the arrays share one float dtype and one shape (the shared passes' case)."""
    first = arrays[0]
    return first.dtype.kind == "f" and all(a.dtype == first.dtype and a.shape == first.shape
                                           for a in arrays[1:])


def _softplus_block(out, x):
    np.abs(x, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += rectify(x)


def softplus_values(x):
    """``log(1 + exp(x))`` of an array as ``max(x, 0) + log1p(exp(-|x|))`` (floats; other
    dtypes through ``np.logaddexp``)."""
    if x.dtype.kind != "f":
        return np.logaddexp(0, x)
    return _shared(_softplus_block, np.empty(x.shape, x.dtype), x)


def _logistic_block(out, x):
    with np.errstate(over="ignore"):  # per thread: exp's overflow gives the limit 0
        logistic(x, out=out)


def sigmoid_values(x):
    """The sigmoid of an array: :func:`logistic` for floats, ``expit`` otherwise."""
    if x.dtype.kind != "f":
        return special.expit(x)
    return _shared(_logistic_block, np.empty(x.shape, x.dtype), x)


def _times(grad, factor):
    """``grad * factor``, in ``factor`` (a fresh array) when that loses no precision."""
    if factor.dtype == np.result_type(grad, factor) and factor.shape == np.broadcast_shapes(
            grad.shape, factor.shape):
        return np.multiply(factor, grad, out=factor)
    return grad * factor


class ELU(Function):
    """x for x > 0, alpha * (exp(x) - 1) otherwise, times ``scale`` (SELU's constant).

    ``max(x, 0) + alpha * expm1(min(x, 0))``: each branch is exact where it applies (the other
    term is 0 there), with clips instead of ``where``. The derivative is 1 for x > 0 and
    ``negative + alpha`` (``alpha * exp(x)``) otherwise, built from the boolean mask."""

    def forward(self, x, alpha=1.0, scale=1.0):
        self.alpha, self.scale = alpha, scale
        if x.dtype.kind != "f":
            x = x.astype(np.float64)  # integers: the float64 result
        self.positive = np.empty(x.shape, dtype=bool)
        negative = np.empty(x.shape, x.dtype)

        def block(out, x, positive, negative):
            np.greater(x, 0, out=positive)
            np.clip(x, x.dtype.type(-np.inf), x.dtype.type(0), out=negative)
            np.expm1(negative, out=negative)
            negative *= negative.dtype.type(alpha)
            rectify(x, out=out)
            out += negative
            if scale != 1.0:
                out *= out.dtype.type(scale)

        out = _shared(block, np.empty(x.shape, x.dtype), x, self.positive, negative)
        self.save_for_backward(negative)
        return out

    def backward(self, grad):
        (negative,) = self.saved

        def slope(out, negative, positive, grad=None):  # times grad when given
            # d/dx alpha (e^x - 1) = alpha e^x = negative + alpha; 1 where x > 0 (negative =
            # 0 there, so add 1 - alpha on the mask)
            np.add(negative, out.dtype.type(self.alpha), out=out)
            step = positive.astype(out.dtype)  # 1 - alpha where x > 0, else 0
            step *= out.dtype.type(1.0 - self.alpha)
            out += step
            if self.scale != 1.0:
                out *= out.dtype.type(self.scale)
            if grad is not None:
                np.multiply(out, grad, out=out)

        if _same(negative, grad):
            return (_shared(slope, np.empty(grad.shape, grad.dtype), negative, self.positive,
                            grad),)
        factor = np.empty(negative.shape, negative.dtype)
        slope(factor, negative, self.positive)
        return (_times(grad, factor),)

    def backward_graph(self, grad):
        # where x <= 0 the output is scale times the saved negative branch: as a tensor made
        # by this op it carries the op's derivative, so slope = output / scale + alpha
        (negative,) = self.saved
        if self.scale == 1.0:
            slope = self.graph_output(negative) + self.alpha
            return (elementwise.where(self.positive, grad, grad * slope),)
        output = self.graph_output(negative * negative.dtype.type(self.scale))
        slope = output / self.scale + self.alpha
        return (elementwise.where(self.positive, grad, grad * slope) * self.scale,)


class GELU(Function):
    """x * Phi(x) (exact, erf form) or the tanh approximation."""

    def forward(self, x, approximate=False):
        self.save_for_backward(x)
        self.approximate = approximate
        if approximate and x.dtype.kind == "f":
            return _shared(_gelu_tanh_block, np.empty(x.shape, x.dtype), x)
        if approximate:
            return _gelu_tanh_block(None, x).astype(x.dtype)
        if x.dtype == np.float32:  # Phi by the fast float32 path (primitives/normal_cdf.py)
            out = gelu_float32(x)
            self.save_for_backward(x, out)  # the output is kept by the next layer anyway
            return out
        return (0.5 * x * (1 + special.erf(x / math.sqrt(2)))).astype(x.dtype)

    def backward(self, grad):
        x = self.saved[0]
        if self.approximate and _same(x, grad):
            return (_shared(_gelu_tanh_grad_block, np.empty(x.shape, x.dtype), x, grad),)
        if self.approximate:
            dx = _gelu_tanh_grad_block(None, x)
        elif len(self.saved) == 2:  # float32: d/dx x Phi(x) = Phi(x) + x phi(x), Phi = y / x
            if grad.dtype == np.float32 and grad.shape == x.shape:
                return (gelu_derivative_from_output(*self.saved, grad),)
            dx = gelu_derivative_from_output(*self.saved)
            dx *= grad
            return (dx.astype(grad.dtype, copy=False),)
        else:
            # d/dx x Phi(x) = Phi(x) + x phi(x)
            cdf = 0.5 * (1 + special.erf(x / math.sqrt(2)))
            pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            dx = cdf + x * pdf
        return ((grad * dx).astype(grad.dtype),)

    def backward_graph(self, grad):
        x = self.graph_input(0, self.saved[0])
        if self.approximate:
            c = math.sqrt(2 / math.pi)
            t = Tanh.apply(c * (x + 0.044715 * (x * x * x)))
            dx = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * (x * x))
        else:
            dx = NormalCDF.apply(x) + x * _normal_pdf(x)
        return (grad * dx,)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _gelu_tanh_block(out, x):
    """The tanh GELU of ``x`` into ``out`` (a new array when None)."""
    inner = _SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))  # x**3 is a slow pow
    return np.multiply(0.5 * x, 1 + np.tanh(inner), out=out)


def _gelu_tanh_grad_block(out, x, grad=None):
    """The tanh GELU's derivative at ``x``, times ``grad`` when given, into ``out``."""
    t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))
    # d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)
    dx = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
    if grad is None:
        return dx if out is None else np.copyto(out, dx)
    return np.multiply(grad, dx, out=out)


def _normal_pdf(x):
    """The standard normal density of a Tensor, with recorded ops."""
    return elementwise.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


class NormalCDF(Function):
    """Phi(x), the standard normal distribution function (the exact GELU's recorded backward
    uses it); its derivative is the density phi(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return special.ndtr(x).astype(x.dtype, copy=False)

    def backward(self, grad):
        (x,) = self.saved
        return (grad * (np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)).astype(x.dtype),)

    def backward_graph(self, grad):
        return (grad * _normal_pdf(self.graph_input(0, self.saved[0])),)


class Sigmoid(Function):
    """1 / (1 + e^-x) (:func:`logistic`: the exact limits where exp overflows)."""

    keeps_input_tensors = True  # the logits, for the losses (losses.probabilistic)

    def forward(self, x):
        out = sigmoid_values(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        if _same(out, grad):
            return (_shared(_sigmoid_grad_block, np.empty(out.shape, out.dtype), out, grad),)
        return (_times(grad, _sigmoid_grad_block(np.empty(out.shape, out.dtype), out)),)

    def backward_graph(self, grad):
        out = self.graph_output(self.saved[0])
        return (grad * out * (1 - out),)


def _sigmoid_grad_block(dx, out, grad=None):  # out (1 - out), times grad when given
    np.subtract(1, out, out=dx)
    dx *= out
    if grad is not None:
        np.multiply(dx, grad, out=dx)
    return dx


class SiLU(Function):
    """x * sigmoid(x) (Keras's silu and swish) in one op: the sigmoid by :func:`logistic`,
    kept for backward, whose derivative ``s (1 + x (1 - s))`` takes four passes."""

    def forward(self, x):
        if x.dtype.kind != "f":
            s = sigmoid_values(x)
            self.save_for_backward(x, s)
            return x * s
        s = np.empty(x.shape, x.dtype)
        out = _shared(_silu_block, np.empty(x.shape, x.dtype), x, s)
        self.save_for_backward(x, s)
        return out

    def backward(self, grad):
        x, s = self.saved
        if _same(s, x, grad):
            return (_shared(_silu_grad_block, np.empty(s.shape, s.dtype), s, x, grad),)
        slope = np.empty(s.shape, s.dtype)
        _silu_grad_block(slope, s, x)
        return (_times(grad, slope),)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        return [self.saved[0]]

    def composed(self, x):
        return x * Sigmoid.apply(x)


def _silu_block(out, x, s):  # s = sigmoid(x), out = x s
    _logistic_block(s, x)
    np.multiply(x, s, out=out)


def _silu_grad_block(slope, s, x, grad=None):  # s (1 + x (1 - s)), times grad when given
    np.subtract(1, s, out=slope)
    slope *= x
    slope += 1
    slope *= s
    if grad is not None:
        np.multiply(slope, grad, out=slope)


class HardSigmoid(Function):
    """clip(x / 6 + 0.5, 0, 1) (Keras 3's hard_sigmoid) in one op: the same numbers as the
    composition, whose clip passes the gradient at the bounds (slope 1/6 on [-3, 3]). Both
    directions run in blocks shared between threads (``parallel.elementwise``): (32, 32, 32,
    64) float32 on two threads of a 2-core Xeon, forward 2.4 -> 1.7 ms, backward 1.8 ->
    1.1 (one thread before)."""

    def forward(self, x):
        self.save_for_backward(x)  # for the recorded backward only (the graph holds x)
        if x.dtype.kind != "f":  # integers: the float64 quotient, as np.divide gives
            x = x.astype(np.float64)
        self.inside = np.empty(x.shape, dtype=bool)  # 0 <= x / 6 + 0.5 <= 1

        def block(z, x, inside):
            np.divide(x, 6, out=z)
            z += z.dtype.type(0.5)
            np.greater_equal(z, 0, out=inside)
            inside &= z <= 1
            np.clip(z, z.dtype.type(0), z.dtype.type(1), out=z)

        return _shared(block, np.empty(x.shape, x.dtype), x, self.inside)

    def backward(self, grad):
        def block(out, grad, inside):
            np.copyto(out, inside)
            np.multiply(grad, out, out=out)
            out /= 6

        if grad.dtype.kind == "f" and grad.shape == self.inside.shape:
            return (_shared(block, np.empty(grad.shape, grad.dtype), grad, self.inside),)
        out = masked(grad, self.inside)
        out /= 6
        return (out,)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        return [self.saved[0]]

    def composed(self, x):
        return hard_sigmoid_composed(x)


class Tanh(Function):
    """Hyperbolic tangent."""

    def forward(self, x):
        if x.dtype.kind == "f":
            out = _shared(lambda o, a: np.tanh(a, out=o), np.empty(x.shape, x.dtype), x)
        else:
            out = np.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        if _same(out, grad):
            return (_shared(_tanh_grad_block, np.empty(out.shape, out.dtype), out, grad),)
        return (grad * (1 - out * out),)

    def backward_graph(self, grad):
        out = self.graph_output(self.saved[0])
        return (grad * (1 - out * out),)


def _tanh_grad_block(dx, out, grad):  # grad (1 - out^2)
    np.multiply(out, out, out=dx)
    np.subtract(1, dx, out=dx)
    np.multiply(grad, dx, out=dx)


class Softplus(Function):
    """log(1 + e^x) as ``max(x, 0) + log1p(exp(-|x|))``: no overflow, and relative precision
    in the negative tail (log1p of a tiny exp)."""

    def forward(self, x):
        self.save_for_backward(x)
        return softplus_values(x)

    def backward(self, grad):
        (x,) = self.saved
        return (_times(grad, sigmoid_values(x)),)

    def backward_graph(self, grad):
        return (grad * sigmoid(self.graph_input(0, self.saved[0])),)


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along ``axis``."""

    keeps_input_tensors = True  # the logits, for the losses (losses.probabilistic)

    def forward(self, x, axis=-1):
        self.axis = axis
        if _rows_shared(axis, x):  # the same steps on blocks of rows, on every core
            out = np.empty(x.shape, x.dtype)
            _by_rows(_softmax_rows, out, x)
        else:
            out = _softmax_rows(None, x, axis)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        if _rows_shared(self.axis, out, grad):
            return (_by_rows(_softmax_grad_rows, np.empty(out.shape, out.dtype), out, grad),)
        return (_softmax_grad_rows(None, out, grad, self.axis),)

    def backward_graph(self, grad):
        out = self.graph_output(self.saved[0])
        return (out * (grad - (grad * out).sum(axis=self.axis, keepdims=True)),)


def _softmax_rows(out, x, axis=-1):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` into ``out`` (a new array when
    None: ``x - max``, the rest in place); along the last axis without the maxima where they
    change nothing (:func:`last_axis.softmax`)."""
    if last_axis.is_last(x, axis):
        return last_axis.softmax(x, out=out)
    out = np.subtract(x, last_axis.axis_max(x, axis), out=out)
    np.exp(out, out=out)
    out /= last_axis.axis_sum(out, axis)
    return out


def _softmax_grad_rows(dx, out, grad, axis=-1):
    """``dx = s * (g - sum(g * s))`` along ``axis``, into ``dx`` (a new array when None)."""
    dx = np.multiply(grad, out, out=dx)
    total = last_axis.axis_sum(dx, axis)
    np.subtract(grad, total, out=dx)
    dx *= out
    return dx


def _rows_shared(axis, *arrays):
    """Whether a pass along ``axis`` over ``arrays`` can be shared by blocks of rows: the
    last axis of C-contiguous float arrays of one shape and dtype."""
    return (_same(*arrays) and arrays[0].ndim > 0 and isinstance(axis, (int, np.integer))
            and axis in (-1, arrays[0].ndim - 1) and all(a.flags.c_contiguous for a in arrays))


def _by_rows(fn, out, *arrays):
    """``fn(out_rows, *rows)`` on blocks of the last axis's rows, shared between threads
    (BLAS at one thread inside: the row sums are GEMVs); returns ``out``."""
    length = out.shape[-1]
    flat_out, flats = out.reshape(-1, length), [a.reshape(-1, length) for a in arrays]
    _parallel.for_blocks(lambda lo, hi: fn(flat_out[lo:hi], *(a[lo:hi] for a in flats)),
                         flat_out.shape[0], flat_out[0].nbytes, blas=True,
                         min_bytes=_parallel.COMPUTE_BLOCK_BYTES)
    return out


class LogSoftmax(Function):
    """x - logsumexp(x) along ``axis``."""

    def forward(self, x, axis=-1):
        shifted = x - last_axis.axis_max(x, axis)
        out = shifted - np.log(last_axis.axis_sum(np.exp(shifted), axis))
        self.save_for_backward(out)
        self.axis = axis
        return out

    def backward(self, grad):
        (out,) = self.saved
        # dx = g - softmax * sum(g)
        return (grad - np.exp(out) * last_axis.axis_sum(grad, self.axis),)

    def backward_graph(self, grad):
        probabilities = elementwise.exp(self.graph_output(self.saved[0]))
        return (grad - probabilities * grad.sum(axis=self.axis, keepdims=True),)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, max(x, 0), with Keras' options (composed when they are used).

    Args:
        x: input.
        negative_slope: slope below ``threshold``: ``negative_slope * (x - threshold)``.
        max_value: saturation value (None: no cap). With no slope and no threshold the
            capped ReLU is one op whose gradient is 0 at exactly 0 and at exactly
            ``max_value`` (as the ``ReLU`` layer's).
        threshold: values at or below it are damped.
    """
    if negative_slope == 0 and threshold == 0:
        return ReLU.apply(x) if max_value is None else ReLU.apply(x, max_value=float(max_value))
    if max_value is None and threshold == 0:
        return leaky_relu(x, negative_slope=negative_slope)
    if not isinstance(x, Tensor):
        array = np.asarray(x)
        x = Tensor(array if array.dtype.kind == "f" else array.astype(np.float32))
    out = elementwise.where(x.data > threshold, x, np.zeros((), x.dtype))
    if max_value is not None:
        out = elementwise.clip(out, 0.0, float(max_value))
    if negative_slope != 0:
        out = out - ReLU.apply(threshold - x) * float(negative_slope)
    return out


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else negative_slope * x (Keras ops default slope 0.2)."""
    return LeakyReLU.apply(x, negative_slope=float(negative_slope))


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return ELU.apply(x, alpha=float(alpha))


def selu(x):
    """Scaled ELU with the self-normalizing constants (one ELU op with its scale)."""
    return ELU.apply(x, alpha=1.6732632423543772, scale=1.0507009873554805)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact erf form by default, as Keras)."""
    return GELU.apply(x, approximate=bool(approximate))


def sigmoid(x):
    """Logistic sigmoid."""
    return Sigmoid.apply(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid, clip(x / 6 + 0.5, 0, 1) as Keras 3 (one op)."""
    return HardSigmoid.apply(x)


def hard_sigmoid_composed(x):
    """:func:`hard_sigmoid` written with recorded ops (its second-order reference)."""
    return elementwise.clip(x / 6.0 + 0.5, 0.0, 1.0)


def silu(x):
    """x * sigmoid(x), also called swish (one op)."""
    return SiLU.apply(x)


def softsign(x):
    """x / (1 + |x|) (composed)."""
    return x / (elementwise.abs(x) + 1.0)


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def softplus(x):
    """log(1 + exp(x)), stable."""
    return Softplus.apply(x)


def softmax(x, axis=-1):
    """Softmax along ``axis``, stable (max subtracted)."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """Log of softmax along ``axis``, via log-sum-exp."""
    return LogSoftmax.apply(x, axis=axis)


def linear(x):
    """Identity activation."""
    return x
