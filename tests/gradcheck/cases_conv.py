"""Registry cases: convolutions, pooling, upsampling (small NHWC shapes, float64)."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from npgrad.primitives.conv import Conv2DKernelGrad, _transpose_output_length, window_geometry
from tests.gradcheck.registry import OpCase, floats

batches = st.integers(1, 2)
channels = st.integers(1, 3)
kernels = st.integers(1, 4)  # 2 and 4 with 'same' give asymmetric (odd total) padding
steps = st.integers(1, 2)
paddings = st.sampled_from(["valid", "same"])


def _array(draw, shape):
    return draw(hnp.arrays(np.float64, shape, elements=floats()))


def _spatial(draw, span, padding):
    """A side length in 1..7 that a window of ``span`` fits into (for 'valid')."""
    return draw(st.integers(span if padding == "valid" else 1, max(span, 7)))


def _distinct(draw, shape):
    """Tie-free values (a shuffled ramp, 0.1 apart): finite differences are meaningless at ties."""
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    return (np.asarray(order, dtype=np.float64) * 0.1 - size * 0.05).reshape(shape)


@st.composite
def _conv2d_inputs(draw):
    n, c, f = draw(batches), draw(channels), draw(channels)
    kh, kw = draw(kernels), draw(kernels)
    strides, dilation, padding = (draw(steps), draw(steps)), (draw(steps), draw(steps)), draw(paddings)
    h = _spatial(draw, (kh - 1) * dilation[0] + 1, padding)
    w = _spatial(draw, (kw - 1) * dilation[1] + 1, padding)
    arrays = [_array(draw, (n, h, w, c)), _array(draw, (kh, kw, c, f)), _array(draw, (f,))]
    return arrays, dict(strides=strides, padding=padding, dilation_rate=dilation)


@st.composite
def _kernel_grad_inputs(draw):
    (x, kernel, _), settings = draw(_conv2d_inputs())
    g = _array(draw, F.conv2d(x, kernel, **settings).shape)
    return [x, g], dict(settings, kernel_hw=kernel.shape[:2])


def _kernel_grad(x, g, **kwargs):
    return Conv2DKernelGrad.apply(x, g, **kwargs)


@st.composite
def _conv2d_relu_inputs(draw):
    # the ReLU inside the op: every pre-activation clear of its kink at 0
    arrays, kwargs = draw(_conv2d_inputs())
    assume(np.abs(F.conv2d(*arrays, **kwargs).data).min() > 1e-3)
    return arrays, dict(kwargs, relu=True)


def _conv2d_no_bias(x, kernel, **kwargs):
    return F.conv2d(x, kernel, **kwargs)


@st.composite
def _conv2d_frozen_input_inputs(draw):
    arrays, kwargs = draw(_conv2d_inputs())
    return arrays[:2], kwargs


def _inverts(size, kernel, stride, padding, output_padding, dilation):
    """True when conv2d maps the transposed conv's output length back to ``size``."""
    out = _transpose_output_length(size, kernel, stride, padding, output_padding, dilation)
    try:
        return window_geometry(out, (kernel - 1) * dilation + 1, stride, padding, "", "")[0] == size
    except ValueError:
        return False


@st.composite
def _conv2d_transpose_inputs(draw):
    n, c, f = draw(batches), draw(channels), draw(channels)
    kh, kw = draw(kernels), draw(kernels)
    strides, dilation, padding = (draw(steps), draw(steps)), (draw(steps), draw(steps)), draw(paddings)
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    output_padding = None
    if draw(st.booleans()):
        candidate = (draw(st.integers(0, strides[0] - 1)), draw(st.integers(0, strides[1] - 1)))
        # keep it only when a conv2d maps the resulting size back to (h, w) (Keras would fail)
        fits = all(
            _inverts(size, k, strides[a], padding, candidate[a], dilation[a])
            for a, (size, k) in enumerate(((h, kh), (w, kw)))
        )
        output_padding = candidate if fits else None
    arrays = [_array(draw, (n, h, w, c)), _array(draw, (kh, kw, f, c)), _array(draw, (f,))]
    return arrays, dict(strides=strides, padding=padding, output_padding=output_padding,
                        dilation_rate=dilation)


@st.composite
def _conv2d_transpose_relu_inputs(draw):
    # values away from the ReLU's kink, where finite differences would straddle it
    arrays, kwargs = draw(_conv2d_transpose_inputs())
    assume(np.abs(F.conv2d_transpose(*arrays, **kwargs).data).min() > 1e-3)
    return arrays, dict(kwargs, relu=True)


@st.composite
def _conv1d_inputs(draw):
    n, c, f, k = draw(batches), draw(channels), draw(channels), draw(kernels)
    stride, dilation = draw(steps), draw(steps)
    padding = draw(st.sampled_from(["valid", "same", "causal"]))
    length = _spatial(draw, (k - 1) * dilation + 1, "valid" if padding == "valid" else "same")
    arrays = [_array(draw, (n, length, c)), _array(draw, (k, c, f)), _array(draw, (f,))]
    return arrays, dict(strides=stride, padding=padding, dilation_rate=dilation)


def _pool_inputs(tie_free):
    @st.composite
    def _strategy(draw):
        n, c = draw(batches), draw(channels)
        pool = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        strides = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
        padding = draw(paddings)
        shape = (n, _spatial(draw, pool[0], padding), _spatial(draw, pool[1], padding), c)
        x = _distinct(draw, shape) if tie_free else _array(draw, shape)
        return [x], dict(pool_size=pool, strides=strides, padding=padding)

    return _strategy()


@st.composite
def _global_inputs(draw, tie_free):
    shape = (draw(batches), draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(channels))
    x = _distinct(draw, shape) if tie_free else _array(draw, shape)
    return [x], dict(keepdims=draw(st.booleans()))


@st.composite
def _upsampling_inputs(draw):
    shape = (draw(batches), draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(channels))
    size = draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    return [_array(draw, shape)], dict(size=size)


CASES = [
    OpCase("conv2d", F.conv2d, _conv2d_inputs()),
    OpCase("conv2d_relu", F.conv2d, _conv2d_relu_inputs()),
    # the input image asks for no gradient: Conv2D skips dx (the MNIST first layer)
    OpCase("conv2d_frozen_input", _conv2d_no_bias, _conv2d_frozen_input_inputs(),
           requires_grad=(False, True)),
    OpCase("conv2d_transpose", F.conv2d_transpose, _conv2d_transpose_inputs()),
    OpCase("conv2d_transpose_relu", F.conv2d_transpose, _conv2d_transpose_relu_inputs()),
    # conv2d's kernel gradient as an op of (x, output gradient): its recorded backward uses it
    OpCase("conv2d_kernel_grad", _kernel_grad, _kernel_grad_inputs()),
    OpCase("conv1d", F.conv1d, _conv1d_inputs()),
    OpCase("max_pool2d", F.max_pool2d, _pool_inputs(tie_free=True)),
    OpCase("avg_pool2d", F.avg_pool2d, _pool_inputs(tie_free=False)),
    OpCase("global_avg_pool2d", F.global_avg_pool2d, _global_inputs(tie_free=False)),
    OpCase("global_max_pool2d", F.global_max_pool2d, _global_inputs(tie_free=True)),
    OpCase("upsampling2d", F.upsampling2d, _upsampling_inputs()),
]
