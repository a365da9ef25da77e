"""The strided depthwise input gradient, computed phase by phase, against its definition.

Along an axis of stride s, input position s*r + q is read only by the taps q + s*m; the op
computes each phase as a stride-1 correlation. These tests pin it to the scatter that
defines the gradient (every output's gradient times each tap's weight, added back onto the
input pixel the tap read), in float64, for kernels wider, equal to and narrower than the
stride, odd sizes, both paddings, depth multipliers and dilation along the unstrided axes.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F


def _pads(size, span, stride, padding):
    if padding == "valid":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def scatter_input_grad(x_shape, kernel, g, strides, padding, dilation):
    """dx[n, p, c] = sum over outputs o and taps k with o*s + k*d - pad = p of
    g[n, o, c*M + j] * kernel[k, c, j]: the definition, one output and tap at a time."""
    rank = len(strides)
    ksize, (c, m) = kernel.shape[:rank], kernel.shape[rank:]
    spans = [(k - 1) * d + 1 for k, d in zip(ksize, dilation)]
    pads = [_pads(n, sp, s, padding) for n, sp, s in zip(x_shape[1:-1], spans, strides)]
    padded = [n + sum(p) for n, p in zip(x_shape[1:-1], pads)]
    dxp = np.zeros((x_shape[0], *padded, c))
    gm = g.reshape(g.shape[:-1] + (c, m))
    for out in itertools.product(*(range(n) for n in g.shape[1:-1])):
        for tap in itertools.product(*map(range, ksize)):
            pixel = tuple(o * s + t * d for o, s, t, d in zip(out, strides, tap, dilation))
            dxp[(slice(None),) + pixel] += np.einsum(
                "ncm,cm->nc", gm[(slice(None),) + out], kernel[tap])
    return dxp[(slice(None),) + tuple(slice(b, b + n) for (b, _), n in
                                      zip(pads, x_shape[1:-1]))]


@st.composite
def strided_geometries(draw, rank):
    """Strides 1-3 with at least one > 1; dilation 1-2 along the unstrided axes only."""
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    if all(s == 1 for s in strides):
        strides = (2,) + strides[1:]
    kernel = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    dilation = tuple(1 if s > 1 else draw(st.integers(1, 2)) for s in strides)
    padding = draw(st.sampled_from(["valid", "same"]))
    sizes = tuple(draw(st.integers((k - 1) * d + 1, (k - 1) * d + 7))
                  for k, d in zip(kernel, dilation))
    return kernel, strides, dilation, padding, sizes


@pytest.mark.parametrize("rank", [1, 2])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_strided_input_grad_equals_the_scatter(rank, data):
    kernel_size, strides, dilation, padding, sizes = data.draw(strided_geometries(rank))
    c, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = npgrad.Tensor(rng.standard_normal((2, *sizes, c)), requires_grad=True)
    kernel = rng.standard_normal(kernel_size + (c, m))
    w = npgrad.Tensor(kernel, requires_grad=True)
    fn = F.depthwise_conv1d if rank == 1 else F.depthwise_conv2d
    y = fn(x, w, strides=strides, padding=padding, dilation_rate=dilation)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    expected = scatter_input_grad(x.shape, kernel, g, strides, padding, dilation)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-10, atol=1e-10)


def test_a_kernel_narrower_than_the_stride_leaves_unread_pixels_at_zero():
    """A 2x2 kernel at stride 3: the phases no tap reads (every third row and column) get
    an exact zero, written, not left from an uninitialized buffer."""
    rng = np.random.default_rng(0)
    x = npgrad.Tensor(rng.standard_normal((2, 9, 9, 3)), requires_grad=True)
    kernel = rng.standard_normal((2, 2, 3, 1))
    y = F.depthwise_conv2d(x, npgrad.Tensor(kernel), strides=3)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    assert np.all(x.grad[:, 2::3] == 0) and np.all(x.grad[:, :, 2::3] == 0)
    np.testing.assert_allclose(
        x.grad, scatter_input_grad(x.shape, kernel, g, (3, 3), "valid", (1, 1)), rtol=1e-12)


def test_float32_input_gives_a_float32_gradient_close_to_float64():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((4, 15, 15, 8))
    kernel = rng.standard_normal((3, 3, 8, 1))
    grads = []
    for dtype in (np.float32, np.float64):
        x = npgrad.Tensor(data.astype(dtype), requires_grad=True)
        y = F.depthwise_conv2d(x, npgrad.Tensor(kernel.astype(dtype)), strides=2,
                               padding="same")
        y.backward(np.ones(y.shape, dtype))
        grads.append(x.grad)
    assert grads[0].dtype == np.float32
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
