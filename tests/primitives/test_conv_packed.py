"""Several output pixels to a row of the product (primitives/conv_packed.py): the packed
correlation and kernel gradient against a float64 reference written with NumPy's sliding
windows (odd heights, both paddings, asymmetric pads, 1 to 16 output channels, 1, 2 and 4
pixels a row, one thread and the pool's blocks); conv2d's forward, kernel and input
gradients take the route (spied) and keep the composition's values; and the bounds."""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import npgrad
import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import conv, conv_packed
from tests.primitives.conv_reference import composed_conv


@contextlib.contextmanager
def _threads(count):
    """One thread (the pool off), or two sharing im2col's blocks (where NumPy's OpenBLAS
    can be told its threads)."""
    previous = npgrad.utils.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NPGRAD_PARALLEL", "1" if count > 1 else "0")
        if previous is not None:
            npgrad.utils.set_num_threads(count)
        try:
            yield
        finally:
            if previous is not None:
                npgrad.utils.set_num_threads(previous)


def _windows(x, kernel_hw, pads):
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    return sliding_window_view(xp, kernel_hw, axis=(1, 2))  # (N, OH, OW, C, KH, KW)


@st.composite
def cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    f = draw(st.integers(1, 16))
    c = draw(st.integers(1, 20))
    kh, kw = draw(st.sampled_from([1, 2, 3, 5])), draw(st.sampled_from([2, 3, 4]))
    pads = tuple((draw(st.integers(0, s - 1)), draw(st.integers(0, s - 1))) for s in (kh, kw))
    h = draw(st.integers(max(1, kh - sum(pads[0])), 7))
    ow = draw(st.integers(1, 4)) * draw(st.sampled_from([1, 2, 4]))
    w = ow + kw - 1 - sum(pads[1])
    if w < 1:
        ow, w = ow + 1 - w, 1
    x = rng.standard_normal((draw(st.integers(1, 3)), h, w, c))
    kernel = rng.standard_normal((kh, kw, c, f))
    return rng, x, kernel, pads, draw(st.sampled_from([1, 2]))


@settings(max_examples=60, deadline=None)
@given(cases())
def test_packed_correlation_and_kernel_gradient_match_the_windows(case):
    rng, x, kernel, pads, threads = case
    windows = _windows(x, kernel.shape[:2], pads)
    expected = np.einsum("nyxcij,ijcf->nyxf", windows, kernel)
    grad = rng.standard_normal(expected.shape)
    with _threads(threads):
        got = conv_packed.correlation(x, kernel, expected.shape[1:3], (1, 1), (1, 1), pads)
        dw = conv_packed.kernel_gradient(x, grad, kernel.shape[:2], (1, 1), (1, 1), pads)
    assert got.shape == (expected.size // expected.shape[-1], expected.shape[-1])
    assert got.flags.c_contiguous
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nyxcij,nyxf->ijcf", windows, grad),
                               rtol=1e-12, atol=1e-12)


def test_packed_kernel_places_each_pixel_kernel_at_its_offset():
    kernel = np.arange(2 * 3 * 1 * 2, dtype=np.float64).reshape(2, 3, 1, 2)
    wide = conv_packed.packed_kernel(kernel, 2).reshape(2, 4, 1, 2, 2)
    np.testing.assert_array_equal(wide[:, :3, :, 0], kernel)
    np.testing.assert_array_equal(wide[:, 1:, :, 1], kernel)
    assert not wide[:, 3, :, 0].any() and not wide[:, 0, :, 1].any()


def test_bounds():
    per_row = conv_packed.pixels_per_row
    f32 = (np.float32, np.float32)
    assert per_row(f32, 16, 16, (3, 3), (1, 1), (1, 1), 32) == 2  # 32 columns a row
    assert per_row(f32, 8, 8, (3, 3), (1, 1), (1, 1), 32) == 4
    assert per_row(f32, 3, 16, (3, 3), (1, 1), (1, 1), 32) == 4  # a small receptive field
    assert per_row(f32, 16, 16, (3, 3), (1, 1), (1, 1), 30) == 2
    assert per_row(f32, 8, 8, (3, 3), (1, 1), (1, 1), 30) == 2  # 4 does not divide 30
    assert per_row(f32, 16, 16, (3, 3), (1, 1), (1, 1), 31) == 1
    assert per_row(f32, 32, 32, (3, 3), (1, 1), (1, 1), 32) == 1  # wide enough already
    assert per_row(f32, 16, 16, (3, 3), (2, 2), (1, 1), 32) == 1  # strided
    assert per_row(f32, 16, 16, (3, 3), (1, 1), (2, 1), 32) == 1  # dilated
    assert per_row(f32, 16, 16, (3, 1), (1, 1), (1, 1), 32) == 1  # one column of taps
    assert per_row((np.float32, np.float64), 16, 16, (3, 3), (1, 1), (1, 1), 32) == 1
    assert per_row((np.float16, np.float16), 16, 16, (3, 3), (1, 1), (1, 1), 32) == 1


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("shape,f", [((2, 7, 10, 16), 16), ((2, 5, 10, 3), 16),
                                     ((3, 6, 6, 8), 8)])
def test_conv2d_takes_the_packed_route_and_keeps_values_and_gradients(monkeypatch, threads,
                                                                       padding, shape, f):
    calls = []
    for name in ("correlation", "kernel_gradient"):
        original = getattr(conv_packed, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(f"npgrad.primitives.conv.{name}", spy)
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal(shape), rng.standard_normal((3, 3, shape[-1], f))
    out_w = shape[2] - (2 if padding == "valid" else 0)
    assert conv_packed.pixels_per_row((x.dtype,), shape[-1], f, (3, 3), (1, 1), (1, 1),
                                      out_w) > 1
    results = []
    with _threads(threads):
        for fn in (lambda a, k: F.conv2d(a, k, padding=padding),
                   lambda a, k: composed_conv(a, k, padding)):
            tensors = [Tensor(v, requires_grad=True) for v in (x, kernel)]
            y = fn(*tensors)
            (y * np.cos(np.arange(y.size).reshape(y.shape))).sum().backward()
            results.append([y.data] + [t.grad for t in tensors])
    # forward, kernel gradient and (a correlation with the flipped kernel) input gradient;
    # into 3 channels the input gradient goes through the narrow side (conv_narrow.py)
    assert calls.count("correlation") == (1 if shape[-1] == 3 else 2)
    assert calls.count("kernel_gradient") == 1
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)


def test_one_row_kernels_keep_their_per_tap_products_on_one_thread(monkeypatch):
    # conv1d's forward and input gradient: the taps won there (conv.py's _taps_first)
    calls = []
    for name in ("tap_correlation", "correlation"):
        original = getattr(conv, name)
        monkeypatch.setattr(conv, name, lambda *a, _f=original, _n=name, **k:
                            calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 12, 16)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((5, 16, 16)), requires_grad=True)
    with _threads(1):
        F.conv1d(x, kernel, padding="same").sum().backward()
    assert calls == ["tap_correlation", "tap_correlation"]
    windows = sliding_window_view(np.pad(x.data, ((0, 0), (2, 2), (0, 0))), 5, axis=1)
    np.testing.assert_allclose(kernel.grad, np.einsum("ntck->kc", windows)[:, :, None]
                               * np.ones(16), rtol=1e-12)
