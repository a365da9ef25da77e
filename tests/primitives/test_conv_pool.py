"""The fused conv + relu + max-pool op equals the unfused ops, values and gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import conv_pool
from tests.gradcheck import registry  # noqa: F401  (loads every cases_* module first)
from tests.gradcheck.cases_conv_pool import conv_pool_inputs
from tests.primitives.pool_jobs import share


def _both(arrays, kwargs, upstream_seed=0):
    fused_in = [Tensor(a, requires_grad=True) for a in arrays]
    ref_in = [Tensor(a, requires_grad=True) for a in arrays]
    fused = F.conv2d_max_pool2d(*fused_in, **kwargs)
    conv = F.conv2d(*ref_in, padding=kwargs["padding"])
    ref = F.max_pool2d(F.relu(conv) if kwargs["relu"] else conv, 2)
    upstream = np.random.default_rng(upstream_seed).standard_normal(ref.shape)
    fused.backward(upstream)
    ref.backward(upstream)
    return fused, ref, fused_in, ref_in


@st.composite
def _well_posed_inputs(draw):
    """Inputs on which "the same gradients" is a well-posed demand.

    Max-pool routes a window's gradient to its first maximum, so fused and unfused ops can
    only agree where both see the same maximum. The GEMMs sum the same products in different
    orders, so two window values equal in exact arithmetic (a constant image near a 'same'
    border, say) may round apart differently in each: a tie broken by rounding, not by the
    op. Either every window's maximum is clear of its runner-up by far more than rounding
    (``tie_free``), or the values are multiples of 1/4 (in [-3, 3]): then every product and
    sum is exact in float64, in any order, and ties (common) are exact ties in both ops.
    """
    if draw(st.booleans()):
        return draw(conv_pool_inputs(tie_free=True))
    arrays, kwargs = draw(conv_pool_inputs(tie_free=False))
    return [np.round(a * 4) / 4 for a in arrays], kwargs


@given(inputs=_well_posed_inputs())
def test_fused_equals_unfused_float64(inputs):
    arrays, kwargs = inputs
    fused, ref, fused_in, ref_in = _both(arrays, kwargs)
    assert fused.shape == ref.shape
    np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(fused_in, ref_in):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("keep_bytes", [0, 2**40])
@given(inputs=_well_posed_inputs())
def test_both_backward_routes_equal_unfused_float64(keep_bytes, inputs):
    # columns too large to keep (keep_bytes 0): conv2d's own input and kernel gradients;
    # else the kept columns, tap-major products and col2im
    arrays, kwargs = inputs
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv_pool, "_KEEP_COLUMNS_BYTES", keep_bytes)
        probe = F.conv2d_max_pool2d(*[Tensor(a, requires_grad=True) for a in arrays], **kwargs)
        assert (probe._ctx.saved[-1] is not None) is (keep_bytes > 0)
        fused, ref, fused_in, ref_in = _both(arrays, kwargs)
    np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(fused_in, ref_in):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-10)


def test_large_columns_are_not_kept():
    # a 32 -> 32-channel layer at 32x32, batch 64, would keep 75 MB of columns
    x = Tensor(np.zeros((64, 32, 32, 32), np.float32), requires_grad=True)
    kernel = Tensor(np.zeros((3, 3, 32, 32), np.float32), requires_grad=True)
    y = F.conv2d_max_pool2d(x, kernel, padding="same", relu=True)
    assert y._ctx.saved[-1] is None and y._ctx.saved[0] is x.data
    small = F.conv2d_max_pool2d(x[:2], kernel, padding="same", relu=True)
    assert small._ctx.saved[-1].shape == (4 * 2 * 16 * 16, 288)


@given(seed=st.integers(0, 2**16), relu=st.booleans(), padding=st.sampled_from(["valid", "same"]))
def test_tied_windows_route_to_the_first_maximum_like_max_pool(seed, relu, padding):
    # quantized inputs and kernels make exact ties common, as MNIST's blank background does
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (2, 7, 6, 2)).astype(np.float64)
    kernel = rng.integers(0, 2, (2, 2, 2, 3)).astype(np.float64)
    bias = np.zeros(3)
    fused, ref, fused_in, ref_in = _both([x, kernel, bias], {"padding": padding, "relu": relu})
    for a, b in zip(fused_in, ref_in):  # a mis-routed tie would differ by O(1), not by rounding
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)
    # each window passes exactly its upstream gradient on (no multiplication at ties)
    t = Tensor(x, requires_grad=True)
    k = Tensor(np.ones((1, 1, 2, 1)))
    F.conv2d_max_pool2d(t, k, padding="valid", relu=False).backward(np.ones((2, 3, 3, 1)))
    assert t.grad.sum() == pytest.approx(2 * 3 * 3 * 2)  # 18 windows, 2 channels feed each


@given(seed=st.integers(0, 2**16), relu=st.booleans(), padding=st.sampled_from(["valid", "same"]),
       channels=st.sampled_from([1, 4]), kernel_size=st.sampled_from([2, 3]))
def test_bias_inside_and_outside_the_gemm_equal_the_unfused_layers(seed, relu, padding, channels,
                                                                   kernel_size):
    # receptive fields of at most 32 values put the bias in the GEMM (a column of ones), larger
    # ones add it after; pin both paths, with quantized values so that ties are common and a
    # nonzero bias so that the bias gradient is exercised
    from npgrad.primitives import conv_pool

    rng = np.random.default_rng(seed)
    c = channels * (1 if channels == 1 else 3)  # 1 -> field 4 or 9, 12 -> field 48 or 108
    x = rng.integers(-1, 2, (2, 6, 7, c)).astype(np.float64)
    kernel = rng.integers(-1, 2, (kernel_size, kernel_size, c, 3)).astype(np.float64)
    bias = rng.integers(-2, 3, 3).astype(np.float64)
    in_gemm = kernel_size * kernel_size * c <= conv_pool._BIAS_IN_GEMM_MAX
    assert in_gemm == (c == 1)
    fused, ref, fused_in, ref_in = _both([x, kernel, bias], {"padding": padding, "relu": relu},
                                         upstream_seed=seed)
    np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(fused_in, ref_in):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_odd_sizes_crop_the_last_row_and_column():
    x = Tensor(np.random.default_rng(1).standard_normal((1, 7, 7, 1)), requires_grad=True)
    k = Tensor(np.ones((1, 1, 1, 1)))
    out = F.conv2d_max_pool2d(x, k, relu=False)
    assert out.shape == (1, 3, 3, 1)
    out.sum().backward()
    assert not x.grad[0, 6, :, 0].any() and not x.grad[0, :, 6, 0].any()


def test_float32_in_float32_out_and_input_gradient_skipped():
    x = Tensor(np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32))
    k = Tensor(np.ones((3, 3, 1, 4), dtype=np.float32), requires_grad=True)
    out = F.conv2d_max_pool2d(x, k, relu=True)
    assert out.dtype == np.float32 and out.shape == (2, 3, 3, 4)
    out.sum().backward()
    assert x.grad is None and k.grad.dtype == np.float32


def test_errors_name_the_op():
    with pytest.raises(ValueError, match="conv2d_max_pool2d: kernel expects 2 input channels"):
        F.conv2d_max_pool2d(np.ones((1, 6, 6, 1)), np.ones((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="smaller than the 2x2 pool"):
        F.conv2d_max_pool2d(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="padding"):
        F.conv2d_max_pool2d(np.ones((1, 6, 6, 1)), np.ones((3, 3, 1, 1)), padding="full")
    with pytest.raises(ValueError, match="rank 4"):
        F.conv2d_max_pool2d(np.ones((6, 6, 1)), np.ones((3, 3, 1, 1)))


def test_public_and_documented():
    assert "conv2d_max_pool2d" in F.__all__ and F.conv2d_max_pool2d.__doc__
    assert npgrad.functional.conv2d_max_pool2d is F.conv2d_max_pool2d


def test_inference_in_batch_slices_equals_the_training_forward():
    # 500 images of 10x10x16 need three ~8 MB slices when no gradient is recorded
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 10, 10, 16)).astype(np.float32)
    k = rng.standard_normal((3, 3, 16, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    with npgrad.no_grad():
        sliced = F.conv2d_max_pool2d(x, k, b, relu=True)
    assert sliced._ctx is None
    with pytest.MonkeyPatch.context() as patch:  # the training forward of kept columns
        patch.setattr(conv_pool, "_KEEP_COLUMNS_BYTES", 2**40)
        whole = F.conv2d_max_pool2d(x, Tensor(k, requires_grad=True), b, relu=True)
    np.testing.assert_array_equal(sliced.numpy(), whole.numpy())
    # the other training route (conv2d's own forward, then the quarters) sums in another order
    other = F.conv2d_max_pool2d(x, Tensor(k, requires_grad=True), b, relu=True)
    assert other._ctx.saved[-1] is None
    np.testing.assert_allclose(sliced.numpy(), other.numpy(), rtol=1e-5, atol=1e-5)


@given(inputs=_well_posed_inputs())
def test_a_first_layer_without_input_gradient_gets_the_unfused_kernel_and_bias_gradients(inputs):
    # the data needs no gradient: the routed gradient is never put back in conv-output order
    (x, kernel, bias), kwargs = inputs
    fused_in = [Tensor(kernel, requires_grad=True), Tensor(bias, requires_grad=True)]
    ref_in = [Tensor(kernel, requires_grad=True), Tensor(bias, requires_grad=True)]
    fused = F.conv2d_max_pool2d(x, *fused_in, **kwargs)
    conv = F.conv2d(x, *ref_in, padding=kwargs["padding"])
    ref = F.max_pool2d(F.relu(conv) if kwargs["relu"] else conv, 2)
    upstream = np.random.default_rng(1).standard_normal(ref.shape)
    fused.backward(upstream)
    ref.backward(upstream)
    np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(fused_in, ref_in):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_one_channel_columns_match_the_image_windows(padding):
    # grey images (a first layer on MNIST): the transposed columns' rows are the windows'
    # pixels; slices for inference, kept columns for training, and the unfused layers agree
    rng = np.random.default_rng(5)
    x = rng.random((300, 13, 11, 1), dtype=np.float32)
    k = rng.standard_normal((3, 2, 1, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    ref = F.max_pool2d(F.relu(F.conv2d(x, k, b, padding=padding)), 2).numpy()
    with npgrad.no_grad():
        sliced = F.conv2d_max_pool2d(x, k, b, padding=padding, relu=True).numpy()
    kernel = Tensor(k, requires_grad=True)
    trained = F.conv2d_max_pool2d(x, kernel, b, padding=padding, relu=True)
    cols = trained._ctx.saved[-1]
    assert cols is not None and cols.shape[1] == 3 * 2 + 1  # six taps and the bias's ones
    np.testing.assert_array_equal(sliced, trained.numpy())
    np.testing.assert_allclose(trained.numpy(), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("channels, relu", [(1, True), (1, False), (4, True)])
def test_a_first_layers_gradients_routed_block_by_block_equal_the_unfused_layers(
        channels, relu, monkeypatch):
    # with several blocks of windows on the pool, a first layer's routed gradient is made
    # and multiplied block by block (never whole); one channel puts the bias in the GEMM,
    # four (a 36-value field) add it apart. Quantized values: ties are common and exact.
    rng = np.random.default_rng(channels)
    x = np.round(rng.standard_normal((3, 9, 8, channels)) * 2) / 4
    kernel = np.round(rng.standard_normal((3, 3, channels, 5)) * 2) / 4
    bias = np.round(rng.standard_normal(5) * 2) / 4
    share(monkeypatch)  # the pool on at two threads, blocks of any size
    calls = []
    original = conv_pool.Conv2DMaxPool2D._routed_kernel_grads

    def spy(self, *args):
        calls.append(args[0].shape)
        return original(self, *args)

    monkeypatch.setattr(conv_pool.Conv2DMaxPool2D, "_routed_kernel_grads", spy)
    fused_in = [Tensor(kernel, requires_grad=True), Tensor(bias, requires_grad=True)]
    ref_in = [Tensor(kernel, requires_grad=True), Tensor(bias, requires_grad=True)]
    F.conv2d_max_pool2d(x, *fused_in, relu=relu).backward(np.linspace(-1, 1, 3 * 3 * 3 * 5)
                                                         .reshape(3, 3, 3, 5))
    conv = F.conv2d(x, *ref_in)
    ref = F.max_pool2d(F.relu(conv) if relu else conv, 2)
    ref.backward(np.linspace(-1, 1, 3 * 3 * 3 * 5).reshape(3, 3, 3, 5))
    assert calls == [(27, 5)]  # the blocks' route: 3 images of 3 x 3 windows, 5 channels
    for a, b in zip(fused_in, ref_in):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)
