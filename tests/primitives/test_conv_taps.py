"""The per-tap GEMM path of narrow stride-1 convolutions, pinned to the composition in float64.

conv2d runs a stride-1 correlation with 8 to 32 input channels and at most 32 output
channels as one accumulated GEMM per kernel tap over the padded image (primitives/conv_taps.py),
in the forward, the input gradient (a correlation with the flipped kernel) and, with several
BLAS threads, the kernel gradient (one GEMM per kernel row over width-im2col windows).
Where npgrad's pool of threads shares the passes (several threads, ``NPGRAD_PARALLEL`` not
0), 2-D kernels take im2col's shared blocks instead (primitives/conv_blocks.py): the tests
of the route itself turn the pool off (:func:`no_pool`). These tests check that the path is
taken for such layers and that its values and gradients equal the convolution written from
autograd primitives.
"""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import conv, conv_blocks, conv_taps
from tests.primitives.test_conv_paths import _values_and_grads, composed_conv2d


@pytest.fixture
def tap_calls(monkeypatch):
    """Record the calls of tap_correlation and tap_kernel_grad made by conv2d."""
    calls = []
    original = conv.tap_correlation

    def spy(x, kernel, pads, dilation=(1, 1)):
        calls.append((x.shape, kernel.shape))
        return original(x, kernel, pads, dilation)

    def kernel_spy(x, grad, kernel_hw, pads, dilation=(1, 1)):
        calls.append(("kernel", x.shape, grad.shape))
        return original_kernel(x, grad, kernel_hw, pads, dilation)

    original_kernel = conv.tap_kernel_grad
    monkeypatch.setattr(conv, "tap_correlation", spy)
    monkeypatch.setattr(conv, "tap_kernel_grad", kernel_spy)
    return calls


@pytest.fixture
def no_pool(monkeypatch):
    """npgrad's pool off: several BLAS threads keep the tap routes (with the pool on, 2-D
    kernels take conv_blocks.py's shared blocks)."""
    monkeypatch.setenv("NPGRAD_PARALLEL", "0")


@st.composite
def narrow_setups(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c = draw(st.integers(conv_taps.MIN_CHANNELS, conv_taps.MAX_CHANNELS))
    f = draw(st.integers(conv_taps.MIN_CHANNELS, conv_taps.MAX_CHANNELS))
    kh, kw = draw(st.sampled_from([1, 2, 3, 5])), draw(st.sampled_from([2, 3, 4]))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same"]))
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    low = span if padding == "valid" else (1, 1)
    h, w = draw(st.integers(low[0], low[0] + 6)), draw(st.integers(low[1], low[1] + 6))
    n = draw(st.integers(1, 3))
    x, kernel = rng.standard_normal((n, h, w, c)), rng.standard_normal((kh, kw, c, f))
    bias = rng.standard_normal(f) if draw(st.booleans()) else None
    return x, kernel, bias, dict(strides=1, padding=padding, dilation_rate=dilation)


@contextlib.contextmanager
def blas_threads(count):
    """NumPy's pool at ``count`` threads: the kernel gradient picks its products by it."""
    previous = npgrad.utils.get_num_threads()
    if previous is None:  # no BLAS thread control here: one route, pinned all the same
        yield
        return
    npgrad.utils.set_num_threads(count)
    try:
        yield
    finally:
        npgrad.utils.set_num_threads(previous)


@pytest.mark.parametrize("threads,pool", [(1, "1"), (2, "0"), (2, "1")])
@settings(max_examples=40, deadline=None)
@given(setup=narrow_setups(), seed=st.integers(0, 2**32 - 1))
def test_tap_path_equals_the_composition(threads, pool, setup, seed):
    # one thread; two BLAS threads alone (the tap kernel rows); two with the pool (2-D
    # kernels through conv_blocks.py, one-row kernels still through the taps)
    with blas_threads(threads), pytest.MonkeyPatch.context() as patch:
        patch.setenv("NPGRAD_PARALLEL", pool)
        _check_tap_path_equals_the_composition(setup, seed)


def test_only_several_threads_take_kernel_rows_for_the_kernel_gradient(tap_calls, no_pool):
    # on one thread the kernel gradient is im2col's (its blocks of samples win there); on
    # several, one GEMM per kernel row over width-im2col windows; both pinned by the test above
    if npgrad.utils.get_num_threads() is None:
        pytest.skip("no OpenBLAS thread control here: both runs take one route")
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((2, 7, 6, 8)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 2, 8, 9)), requires_grad=True)
    results = {}
    for threads in (1, 2):
        with blas_threads(threads):
            del tap_calls[:]
            F.conv2d(x, kernel, padding="same", dilation_rate=(1, 2)).sum().backward()
            results[threads] = [c[0] == "kernel" for c in tap_calls].count(True)
            results[threads, "grad"] = kernel.grad.copy()
            kernel.grad = None
    assert results[1] == 0 and results[2] == 1
    np.testing.assert_allclose(results[2, "grad"], results[1, "grad"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("window_bytes", [1, 3000, 2**30])
def test_kernel_rows_in_blocks_of_rows_equal_im2col(monkeypatch, window_bytes):
    # the width-im2col windows go block by block (8 MB each), partial products summed
    rng = np.random.default_rng(7)
    # (9 + 2 - 2, 8 + 1 - 4) = (9, 5) output pixels
    x, grad = rng.standard_normal((3, 9, 8, 8)), rng.standard_normal((3, 9, 5, 5))
    pads, dilation = ((1, 1), (0, 1)), (1, 2)
    with blas_threads(1):  # im2col's kernel gradient
        expected = conv.kernel_grad(x, grad, (3, 3), (1, 1), dilation, pads)
    monkeypatch.setattr(conv_taps, "_WINDOW_BYTES", window_bytes)
    got = conv_taps.tap_kernel_grad(x, grad, (3, 3), pads, dilation)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def _check_tap_path_equals_the_composition(setup, seed):
    x, kernel, bias, kwargs = setup
    fast, fast_grads = _values_and_grads(
        lambda *t: F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, **kwargs),
        x, kernel, bias, seed)
    ref, ref_grads = _values_and_grads(
        lambda *t: composed_conv2d(t[0], t[1], t[2] if len(t) > 2 else None, (1, 1),
                                   kwargs["padding"], kwargs["dilation_rate"]),
        x, kernel, bias, seed)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
    for got, expected in zip(fast_grads, ref_grads):
        assert got.shape == expected.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_narrow_layers_take_the_tap_path_forward_and_backward(tap_calls, no_pool):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 9, 7, 16)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 3, 16, 12)), requires_grad=True)
    with blas_threads(2):  # the kernel gradient takes the taps only with several threads
        several = (npgrad.utils.get_num_threads() or 1) > 1
        F.conv2d(x, kernel, padding="same").sum().backward()
    # the forward (16 -> 12 channels), the kernel gradient, the input gradient (12 -> 16,
    # flipped kernel)
    kernel_call = [("kernel", (2, 9, 7, 16), (2, 9, 7, 12))] if several else []
    assert tap_calls == [((2, 9, 7, 16), (3, 3, 16, 12)), *kernel_call,
                         ((2, 9, 7, 12), (3, 3, 12, 16))]


@pytest.mark.parametrize("c,f,strides,kernel_hw,dtype", [
    (3, 16, (1, 1), (3, 3), np.float32),    # too few input channels: im2col is faster
    (16, 64, (1, 1), (3, 3), np.float32),   # too many output channels
    (64, 16, (1, 1), (3, 3), np.float32),   # too many input channels
    (16, 16, (2, 2), (3, 3), np.float32),   # strided: the slabs are not contiguous
    (16, 16, (1, 1), (1, 1), np.float32),   # 1x1: already a plain GEMM
    (16, 16, (1, 1), (3, 3), np.float16),   # no BLAS GEMM for half floats
])
def test_other_shapes_keep_im2col(c, f, strides, kernel_hw, dtype):
    assert not conv_taps.use_taps(dtype, c, f, kernel_hw, strides)


@pytest.mark.parametrize("c,f,kernel_grad,expected", [
    (64, 64, False, True),     # one-row kernels take the taps at any width ...
    (256, 16, False, True),
    (257, 64, False, False),   # ... up to MAX_ROW_CHANNELS
    (64, 300, False, False),
    (4, 64, False, False),     # not below MIN_CHANNELS inputs
    (64, 64, True, False),     # and their kernel gradient keeps im2col
    (16, 16, True, False),
])
def test_one_row_kernels(c, f, kernel_grad, expected):
    assert conv_taps.use_taps(np.float32, c, f, (1, 5), (1, 1), kernel_grad=kernel_grad) is expected
    assert conv_taps.use_taps(np.float32, c, f, (1, 5), (1, 2), kernel_grad=kernel_grad) is False


def test_a_wide_conv1d_takes_the_taps_except_for_its_kernel_gradient(tap_calls):
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((2, 11, 40)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((5, 40, 48)), requires_grad=True)
    F.conv1d(x, kernel, padding="same").sum().backward()
    # the forward (40 -> 48 channels) and the input gradient (48 -> 40, flipped kernel)
    assert tap_calls == [((2, 1, 11, 40), (1, 5, 40, 48)), ((2, 1, 11, 48), (1, 5, 48, 40))]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(conv_taps.MIN_CHANNELS, 80),
       st.integers(1, 80), st.sampled_from([2, 3, 5]), st.integers(1, 2),
       st.sampled_from(["valid", "same", "causal"]), st.integers(1, 2))
def test_wide_conv1d_equals_the_composition(seed, c, f, k, dilation, padding, stride):
    # conv1d is conv2d of height 1: taps for the forward and the input gradient (the stride
    # classes of a strided one), im2col for the kernel gradient
    rng = np.random.default_rng(seed)
    length = int(rng.integers((k - 1) * dilation + 1, (k - 1) * dilation + 9))
    x = rng.standard_normal((2, length, c))
    kernel = rng.standard_normal((k, c, f))
    bias = rng.standard_normal(f)
    kwargs = dict(strides=stride, padding=padding, dilation_rate=dilation)
    fast, fast_grads = _values_and_grads(lambda a, b, d: F.conv1d(a, b, d, **kwargs), x, kernel,
                                         bias, seed)

    def composed(a, b, d):
        if padding == "causal":
            a = npgrad.ops.pad(a, ((0, 0), ((k - 1) * dilation, 0), (0, 0)))
        y = composed_conv2d(a.reshape((2, 1, a.shape[1], c)), b.reshape((1, k, c, f)), d,
                            (1, stride), "valid" if padding == "causal" else padding,
                            (1, dilation))
        return y.reshape((2, y.shape[2], f))

    ref, ref_grads = _values_and_grads(composed, x, kernel, bias, seed)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
    for got, expected in zip(fast_grads, ref_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_float32_matches_im2col_and_leaves_no_scratch_view():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 11, 10, 16)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 16, 8)).astype(np.float32)
    pads = ((1, 1), (1, 1))
    out = conv_taps.tap_correlation(x, kernel, pads)
    ref = conv_blocks.columns_times(x, kernel.reshape(-1, 8), (3, 3), (11, 10), (1, 1), (1, 1),
                                    pads)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.flags.owndata
    np.testing.assert_allclose(out, ref.reshape(out.shape), rtol=1e-5, atol=1e-4)
    snapshot = out.copy()
    conv_taps.tap_correlation(x[:2], kernel[:, :, :, :4], pads)  # reuses the scratch grid
    np.testing.assert_array_equal(out, snapshot)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(2, 2), (2, 1), (3, 2)]),
       st.sampled_from(["valid", "same"]), st.sampled_from([(3, 3), (2, 4), (1, 3)]))
def test_strided_input_gradient_of_narrow_layers_equals_the_composition(seed, strides, padding,
                                                                        kernel_hw):
    # the stride classes of the input gradient run as per-tap GEMMs when narrow
    rng = np.random.default_rng(seed)
    c, f = (int(v) for v in rng.integers(conv_taps.MIN_CHANNELS, conv_taps.MAX_CHANNELS + 1, 2))
    x = rng.standard_normal((2, int(rng.integers(5, 10)), int(rng.integers(5, 10)), c))
    kernel = rng.standard_normal(kernel_hw + (c, f))
    kwargs = dict(strides=strides, padding=padding)
    fast, fast_grads = _values_and_grads(lambda a, b: F.conv2d(a, b, **kwargs), x, kernel,
                                         None, seed)
    ref, ref_grads = _values_and_grads(
        lambda a, b: composed_conv2d(a, b, None, strides, padding, (1, 1)), x, kernel, None, seed)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
    for got, expected in zip(fast_grads, ref_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_a_strided_narrow_layer_takes_the_tap_path_in_its_input_gradient(tap_calls, no_pool):
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 8, 8, 16)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 3, 16, 32)), requires_grad=True)
    F.conv2d(x, kernel, strides=2, padding="same").sum().backward()
    # four stride classes of the input gradient: taps (2, 2), (2, 1), (1, 2); (1, 1) is a GEMM
    assert [call[1][:2] for call in tap_calls] == [(2, 2, ), (2, 1), (1, 2)]


def test_narrow_conv2d_transpose_is_the_conv_input_gradient():
    # conv2d_transpose's forward shares the stride-class route (8 -> 16 channels, stride 2)
    rng = np.random.default_rng(4)
    kernel = rng.standard_normal((3, 3, 16, 8))  # (KH, KW, F_out, C_in) of the transpose
    z = Tensor(np.zeros((2, 10, 9, 16)), requires_grad=True)
    y = composed_conv2d(z, Tensor(kernel), None, (2, 2), "same", (1, 1))  # (2, 5, 5, 8)
    x = rng.standard_normal(y.shape)
    (y * x).sum().backward()
    out = F.conv2d_transpose(x, kernel, strides=2, padding="same", output_padding=(1, 0))
    np.testing.assert_allclose(out.data, z.grad, rtol=1e-10, atol=1e-10)
