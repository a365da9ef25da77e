"""Convolutions with a few output channels through the narrow side (primitives/conv_narrow.py):
the correlation and its kernel gradient against a float64 reference written with NumPy's
sliding windows, at odd sizes, both paddings, dilations, one-row (1-D) kernels and 1 to 16
output channels; conv2d, conv1d and a stride-1 conv2d_transpose that take the route give
the values and gradients of the composition; and the route's bounds."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import conv_narrow
from tests.primitives.conv_reference import composed_conv


def _windows(x, kernel_hw, pads, dilation):
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    spans = [(k - 1) * d + 1 for k, d in zip(kernel_hw, dilation)]
    windows = sliding_window_view(xp, spans, axis=(1, 2))  # (N, OH, OW, C, span_h, span_w)
    return windows[..., :: dilation[0], :: dilation[1]]


@st.composite
def cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    f = draw(st.integers(1, conv_narrow.MAX_CHANNELS))
    c = draw(st.integers(4 * f, 4 * f + 9))
    kh = draw(st.sampled_from([1, 2, 3, 5]))
    kw = draw(st.sampled_from([2, 3, 4]))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    spans = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    pads = tuple((draw(st.integers(0, s - 1)), draw(st.integers(0, s - 1))) for s in spans)
    h = draw(st.integers(max(1, spans[0] - sum(pads[0])), 9))
    w = draw(st.integers(max(1, spans[1] - sum(pads[1])), 9))
    x = rng.standard_normal((draw(st.integers(1, 3)), h, w, c))
    kernel = rng.standard_normal((kh, kw, c, f))
    return rng, x, kernel, pads, dilation


@settings(max_examples=60, deadline=None)
@given(cases())
def test_correlation_and_kernel_gradient_match_the_windows(case):
    rng, x, kernel, pads, dilation = case
    windows = _windows(x, kernel.shape[:2], pads, dilation)
    expected = np.einsum("nyxcij,ijcf->nyxf", windows, kernel)
    got = conv_narrow.narrow_correlation(x, kernel, pads, dilation)
    assert got.shape == expected.shape and got.flags.c_contiguous
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    grad = rng.standard_normal(expected.shape)
    np.testing.assert_allclose(
        conv_narrow.narrow_kernel_grad(x, grad, kernel.shape[:2], pads, dilation),
        np.einsum("nyxcij,nyxf->ijcf", windows, grad), rtol=1e-12, atol=1e-12)


def test_bounds():
    use = conv_narrow.use_narrow
    f64 = (np.float64, np.float64)
    assert use(f64, 32, 3, (3, 3), (1, 1)) and use(f64, 64, 16, (1, 5), (1, 1))
    assert not use(f64, 32, 3, (3, 3), (2, 1))  # strided
    assert not use(f64, 32, 3, (1, 1), (1, 1))  # one tap: a plain GEMM
    assert not use(f64, 8, 3, (3, 3), (1, 1))  # not four times narrower
    assert not use(f64, 128, 17, (3, 3), (1, 1))  # too wide
    assert not use((np.float32, np.float64), 32, 3, (3, 3), (1, 1))
    assert not use((np.float16, np.float16), 32, 3, (3, 3), (1, 1))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("shape,kernel_hw,f", [((2, 7, 6, 12), (3, 3), 3),
                                              ((2, 1, 11, 8), (1, 5), 2),
                                              ((1, 5, 9, 20), (3, 5), 1)])
def test_conv2d_through_the_narrow_side_keeps_values_and_gradients(padding, shape, kernel_hw, f):
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal(shape), rng.standard_normal((*kernel_hw, shape[-1], f))
    bias = rng.standard_normal(f)
    results = []
    for fn in (lambda a, k, b: F.conv2d(a, k, b, padding=padding),
               lambda a, k, b: composed_conv(a, k, padding) + b):
        tensors = [Tensor(v, requires_grad=True) for v in (x, kernel, bias)]
        y = fn(*tensors)
        (y * np.cos(np.arange(y.size).reshape(y.shape))).sum().backward()
        results.append([y.data] + [t.grad for t in tensors])
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)


def test_conv1d_and_a_stride_one_transposed_convolution_with_few_outputs():
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((3, 13, 16)), rng.standard_normal((5, 16, 2))
    windows = sliding_window_view(np.pad(x, ((0, 0), (2, 2), (0, 0))), 5, axis=1)
    np.testing.assert_allclose(F.conv1d(x, kernel, padding="same").data,
                               np.einsum("ntck,kcf->ntf", windows, kernel), rtol=1e-12)
    # conv2d_transpose(x, K) with 24 -> 3 channels is the input gradient of conv2d(z, K)
    images, k = rng.standard_normal((2, 6, 7, 24)), rng.standard_normal((3, 3, 3, 24))
    z = Tensor(np.zeros((2, 6, 7, 3)), requires_grad=True)
    (F.conv2d(z, Tensor(k), padding="same") * images).sum().backward()
    np.testing.assert_allclose(F.conv2d_transpose(images, k, padding="same").data, z.grad,
                               rtol=1e-12, atol=1e-12)
