"""im2col and its GEMM in blocks shared between threads (primitives/conv_blocks.py): pinned
to the convolution written from autograd primitives (float64, values and gradients) and to
the one-thread im2col, in pieces of whole samples and of image rows; and the route each
convolution takes with and without npgrad's pool."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import conv, conv_blocks, conv_packed, parallel
from tests.primitives.test_conv_paths import check_conv2d_equals_the_composition
from tests.primitives.pool_jobs import share


def _shared(monkeypatch, block_bytes):
    """The pool on at two threads with blocks of any size (pool_jobs.share),
    pieces of ``block_bytes``; returns the block counts of the pool's calls."""
    monkeypatch.setattr(conv_blocks, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(conv_blocks, "PRODUCT_BYTES", block_bytes)
    return share(monkeypatch)


@st.composite
def setups(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c, f = draw(st.integers(2, 40)), draw(st.integers(1, 12))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (1, 1) if strides != (1, 1) else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same"]))
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    h, w = draw(st.integers(span[0], span[0] + 7)), draw(st.integers(span[1], span[1] + 7))
    n = draw(st.integers(1, 5))
    x, kernel = rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, f))
    bias = rng.standard_normal(f) if draw(st.booleans()) else None
    return x, kernel, bias, dict(strides=strides, padding=padding, dilation_rate=dilation)


# pieces: image rows of one sample (1 byte, 3 KB) or several whole samples (1 MB)
@settings(max_examples=60, deadline=None)
@given(setup=setups(), seed=st.integers(0, 2**32 - 1),
       block_bytes=st.sampled_from([1, 3000, 2**20]))
def test_shared_blocks_equal_the_composition(setup, seed, block_bytes):
    x, kernel, bias, kwargs = setup
    with pytest.MonkeyPatch.context() as patch:
        _shared(patch, block_bytes)
        check_conv2d_equals_the_composition(x, kernel, bias, kwargs, seed)


@pytest.mark.parametrize("block_bytes", [1, 5000, 2**20])
def test_columns_products_equal_one_im2col(monkeypatch, block_bytes):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 9, 8, 6)).astype(np.float32)
    pads, strides, out_hw = ((1, 1), (0, 1)), (2, 1), (5, 7)
    matrix = rng.standard_normal((3 * 2 * 6, 4)).astype(np.float32)
    g2 = rng.standard_normal((5 * 5 * 7, 4)).astype(np.float32)
    cols = conv._im2col(np.pad(x, ((0, 0), *pads, (0, 0))), (3, 2), out_hw, strides, (1, 1))
    jobs = _shared(monkeypatch, block_bytes)
    got = conv_blocks.columns_times(x, matrix, (3, 2), out_hw, strides, (1, 1), pads)
    np.testing.assert_allclose(got, cols @ matrix, rtol=1e-5, atol=1e-5)
    got = conv_blocks.columns_t_times(x, g2, (3, 2), out_hw, strides, (1, 1), pads)
    np.testing.assert_allclose(got, cols.T @ g2, rtol=1e-5, atol=1e-4)
    assert jobs and min(jobs) > 1  # the samples were shared between the threads


def test_with_the_pool_narrow_2d_kernels_take_the_shared_blocks(monkeypatch):
    if npgrad.utils.get_num_threads() is None:
        pytest.skip("no OpenBLAS thread control here: one thread, one route")
    calls = []
    for module, name in ((conv_packed, "columns_times"), (conv_packed, "columns_t_times"),
                         (conv, "tap_correlation"), (conv, "tap_kernel_grad")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=original, _n=name, **k:
                            calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 9, 7, 16)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 3, 16, 12)), requires_grad=True)
    previous = npgrad.utils.get_num_threads()
    npgrad.utils.set_num_threads(2)
    try:
        for pool in ("1", "0"):
            monkeypatch.setenv("NPGRAD_PARALLEL", pool)
            F.conv2d(x, kernel, padding="same").sum().backward()
            calls.append("|")
    finally:
        npgrad.utils.set_num_threads(previous)
    # forward, kernel gradient, input gradient; without the pool the per-tap GEMMs
    assert calls == ["columns_times", "columns_t_times", "columns_times", "|",
                     "tap_correlation", "tap_kernel_grad", "tap_correlation", "|"]


def test_one_channel_and_one_thread_keep_their_routes(monkeypatch):
    monkeypatch.setenv("NPGRAD_PARALLEL", "1")
    monkeypatch.setattr(parallel, "threads", lambda: 2)
    assert conv_blocks.use_blocks(np.zeros((2, 5, 5, 3)))
    assert not conv_blocks.use_blocks(np.zeros((2, 5, 5, 1)))  # conv.py's one-channel copy
    monkeypatch.setattr(parallel, "threads", lambda: 1)
    assert not conv_blocks.use_blocks(np.zeros((2, 5, 5, 3)))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), c=st.integers(1, 12), f=st.integers(1, 12),
       kernel=st.integers(1, 4), strides=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), block_bytes=st.sampled_from([1, 2**20]))
def test_shared_transposed_convolution_equals_one_thread(seed, c, f, kernel, strides, padding,
                                                          block_bytes):
    # the forward adds each tap's products back by blocks of samples on both threads; on
    # one thread it takes the sub-pixel classes (c <= f) or the same products
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((3, 4, 5, c))
    k0 = rng.standard_normal((kernel, kernel, f, c))

    def run():
        x, k = Tensor(x0, requires_grad=True), Tensor(k0, requires_grad=True)
        y = F.conv2d_transpose(x, k, strides=strides, padding=padding)
        (y * np.cos(np.arange(y.data.size)).reshape(y.shape)).sum().backward()
        return y.data, x.grad, k.grad

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NPGRAD_PARALLEL", "0")
        expected = run()
    with pytest.MonkeyPatch.context() as patch:
        jobs = _shared(patch, block_bytes)
        got = run()
    assert jobs or strides == 1
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10)
