"""The convolution's fast paths pinned to the unfused composition, in float64.

conv2d picks a path by geometry: a 1x1 kernel is a plain GEMM on the (strided) pixels, a
stride-1 input gradient is a correlation with the flipped kernel, other strides go through
tap-major col2im; columns and padded images live in reused scratch buffers. Each is compared
here with the same convolution written from autograd primitives (pad, slices, matmul, add),
whose gradients come from the engine: values and gradients of x, kernel and bias, odd sizes,
strides, dilations, both paddings.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import shape as _shape
from npgrad.primitives import conv, workspace
from npgrad.primitives.conv import window_geometry


def composed_conv2d(x, kernel, bias, strides, padding, dilation):
    """Σ over kernel taps of (shifted, strided pixels) @ kernel[i, j], from autograd ops."""
    _, h, w, _ = x.shape
    kh, kw = kernel.shape[:2]
    oh, ph = window_geometry(h, (kh - 1) * dilation[0] + 1, strides[0], padding, "ref", "h")
    ow, pw = window_geometry(w, (kw - 1) * dilation[1] + 1, strides[1], padding, "ref", "w")
    xp = _shape.pad(x, ((0, 0), ph, pw, (0, 0)))
    out = None
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation[0], j * dilation[1]
            pixels = xp[:, r0 : r0 + (oh - 1) * strides[0] + 1 : strides[0],
                        c0 : c0 + (ow - 1) * strides[1] + 1 : strides[1], :]
            term = pixels @ kernel[i, j]  # (N, OH, OW, C) @ (C, F)
            out = term if out is None else out + term
    return out if bias is None else out + bias


@st.composite
def setups(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = draw(st.sampled_from([1, 1, 2, 3, 4])), draw(st.sampled_from([1, 1, 2, 3, 5]))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same"]))
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    low = span if padding == "valid" else (1, 1)
    h = draw(st.integers(low[0], low[0] + 7))
    w = draw(st.integers(low[1], low[1] + 7))
    use_bias = draw(st.booleans())
    x = rng.standard_normal((n, h, w, c))
    kernel = rng.standard_normal((kh, kw, c, f))
    bias = rng.standard_normal(f) if use_bias else None
    return rng, x, kernel, bias, dict(strides=strides, padding=padding, dilation_rate=dilation)


def _values_and_grads(fn, x, kernel, bias, upstream_seed):
    tensors = [Tensor(x, requires_grad=True), Tensor(kernel, requires_grad=True)]
    if bias is not None:
        tensors.append(Tensor(bias, requires_grad=True))
    y = fn(*tensors)
    upstream = np.random.default_rng(upstream_seed).standard_normal(y.shape)
    (y * upstream).sum().backward()
    return y.data, [t.grad for t in tensors]


@settings(max_examples=60, deadline=None)
@given(setups(), st.integers(0, 2**32 - 1))
def test_conv2d_paths_equal_the_composition(setup, seed):
    _, x, kernel, bias, kwargs = setup
    check_conv2d_equals_the_composition(x, kernel, bias, kwargs, seed)


def check_conv2d_equals_the_composition(x, kernel, bias, kwargs, seed):
    """conv2d's values and gradients (float64) against :func:`composed_conv2d`'s."""
    fast, fast_grads = _values_and_grads(
        lambda *t: F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, **kwargs),
        x, kernel, bias, seed)
    ref, ref_grads = _values_and_grads(
        lambda *t: composed_conv2d(t[0], t[1], t[2] if len(t) > 2 else None,
                                   kwargs["strides"], kwargs["padding"], kwargs["dilation_rate"]),
        x, kernel, bias, seed)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
    for got, expected in zip(fast_grads, ref_grads):
        assert got.shape == expected.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(setups(), st.integers(0, 2**32 - 1))
def test_stride_one_input_gradients_by_products_added_back(setup, seed):
    # every stride-1 input gradient takes the products here (any channel count and ratio,
    # so the small drawn layers reach the route), against the composition
    _, x, kernel, bias, kwargs = setup
    assume(kernel.shape[:2] != (1, 1))
    kwargs = dict(kwargs, strides=(1, 1))
    taken = []
    real = conv.products_col2im
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conv, "SCATTER_MIN_CHANNELS", 1)
        patch.setattr(conv, "SCATTER_RATIO", 1e9)
        patch.setattr(conv, "products_col2im", lambda *a: taken.append(1) or real(*a))
        check_conv2d_equals_the_composition(x, kernel, bias, kwargs, seed)
    assert taken


def test_an_expanding_valid_layer_adds_its_products_back(monkeypatch):
    # 32 -> 64 channels, 3x3 'valid' at 13x13: the products (121 pixels x 9 x 32 values a
    # sample) are 0.36 of the correlation's columns (169 x 9 x 64)
    taken = []
    real = conv.products_col2im
    monkeypatch.setattr(conv, "products_col2im", lambda *a: taken.append(1) or real(*a))
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal((2, 13, 13, 32)), rng.standard_normal((3, 3, 32, 64))
    check_conv2d_equals_the_composition(x, kernel, None, dict(strides=(1, 1), padding="valid",
                                                              dilation_rate=(1, 1)), 1)
    assert taken
    taken.clear()  # the same layer 'same': 0.5, the correlation stays
    check_conv2d_equals_the_composition(x, kernel, None, dict(strides=(1, 1), padding="same",
                                                              dilation_rate=(1, 1)), 1)
    assert not taken


def test_scratch_buffers_do_not_leak_between_convolutions():
    # a second convolution (other shapes, same scratch buffers) runs between the first's
    # forward and backward: the first's output and gradients must be untouched
    rng = np.random.default_rng(0)
    x1, k1 = rng.standard_normal((2, 9, 9, 3)), rng.standard_normal((3, 3, 3, 4))
    x2, k2 = rng.standard_normal((3, 6, 5, 2)), rng.standard_normal((3, 2, 2, 5))
    expected, expected_grads = _values_and_grads(
        lambda a, b: F.conv2d(a, b, padding="same"), x1, k1, None, 1)
    t1, tk1 = Tensor(x1, requires_grad=True), Tensor(k1, requires_grad=True)
    y1 = F.conv2d(t1, tk1, padding="same")
    snapshot = y1.data.copy()
    t2 = Tensor(x2, requires_grad=True)
    F.conv2d(t2, Tensor(k2, requires_grad=True), padding="same").sum().backward()
    np.testing.assert_array_equal(y1.data, snapshot)
    (y1 * np.random.default_rng(1).standard_normal(y1.shape)).sum().backward()
    np.testing.assert_array_equal(y1.data, expected)
    np.testing.assert_array_equal(t1.grad, expected_grads[0])
    np.testing.assert_array_equal(tk1.grad, expected_grads[1])


def test_kernel_gradient_not_needed_keeps_no_input():
    x = np.ones((1, 4, 4, 2))
    y = F.conv2d(Tensor(x, requires_grad=True), np.ones((3, 3, 2, 1)), padding="same")
    assert y._ctx.saved[0] is None  # only the kernel, no copy of x, is kept for backward


def test_zero_padded_keeps_a_zero_border_across_calls():
    a = workspace.zero_padded(np.full((1, 2, 3, 1), 5.0), (1, 2), (0, 1))
    assert a.shape == (1, 5, 4, 1) and a.sum() == 30.0
    b = workspace.zero_padded(np.full((1, 2, 3, 1), 7.0), (1, 2), (0, 1))
    assert b.sum() == 42.0 and b[0, 0].sum() == 0 and b[0, :, 3].sum() == 0
    workspace.clear()


@settings(max_examples=40, deadline=None)
@given(setups())
def test_conv2d_transpose_equals_the_composed_input_gradient(setup):
    # conv2d_transpose(x, K) = d <conv2d(z, K), x> / dz for z of the transposed output's size;
    # covers the stride-1 correlation route (C_in <= C_out), the sub-pixel one (strided,
    # dilation 1) and the tap-major one
    rng, z_like, kernel, _, kwargs = setup
    strides, padding, dilation = kwargs["strides"], kwargs["padding"], kwargs["dilation_rate"]
    z = Tensor(np.zeros_like(z_like), requires_grad=True)  # (N, H, W, F): the output's size
    y = composed_conv2d(z, Tensor(kernel), None, strides, padding, dilation)  # (N, OH, OW, C)
    x = rng.standard_normal(y.shape)
    (y * x).sum().backward()
    output_padding = _output_padding(z.shape, y.shape, kernel.shape, strides, padding, dilation)
    # sizes Keras's output rule cannot reach (an even kernel, 'same', stride 1) are skipped
    assume(all(0 <= p < s for p, s in zip(output_padding, strides)))
    # conv2d_transpose's kernel layout is (KH, KW, F_out, C_in): the conv kernel as is
    out = F.conv2d_transpose(x, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                             output_padding=output_padding)
    np.testing.assert_allclose(out.data, z.grad, rtol=1e-10, atol=1e-10)


def _output_padding(z_shape, y_shape, k_shape, strides, padding, dilation):
    """The output_padding that makes conv2d_transpose's output exactly z's size."""
    pads = []
    for a in range(2):
        span = (k_shape[a] - 1) * dilation[a] + 1
        pad = span // 2 if padding == "same" else 0
        pads.append(z_shape[1 + a] - ((y_shape[1 + a] - 1) * strides[a] + span - 2 * pad))
    return tuple(pads)


@pytest.mark.parametrize("kernel_hw,strides,padding,dilation", [
    ((3, 3), (1, 1), "same", (1, 1)), ((2, 3), (2, 1), "valid", (1, 1)),
    ((3, 2), (1, 1), "valid", (2, 1)), ((1, 1), (2, 2), "same", (1, 1)),
])
def test_blocks_of_samples_equal_the_composition(monkeypatch, kernel_hw, strides, padding,
                                                 dilation):
    # im2col + GEMM run over blocks of samples when the columns are large: force one sample
    # per block (and a last, smaller block) on a small batch
    from npgrad.primitives import blas_pools, conv_blocks

    # 3x3: blocks of 2, 2, 1 (one BLAS thread: the calling thread's blocks, conv_blocks.py)
    monkeypatch.setattr(conv_blocks, "CHUNK_BYTES", 20000)
    monkeypatch.setattr(blas_pools, "get_threads", lambda: 1)
    rng = np.random.default_rng(7)
    x, kernel = rng.standard_normal((5, 7, 6, 3)), rng.standard_normal(kernel_hw + (3, 4))
    kwargs = dict(strides=strides, padding=padding, dilation_rate=dilation)
    fast, fast_grads = _values_and_grads(lambda a, b: F.conv2d(a, b, **kwargs), x, kernel,
                                         None, 3)
    ref, ref_grads = _values_and_grads(
        lambda a, b: composed_conv2d(a, b, None, strides, padding, dilation), x, kernel, None, 3)
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
    for got, expected in zip(fast_grads, ref_grads):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_zero_padded_border_survives_other_uses_of_its_buffer():
    # the same padding twice skips zeroing the border; any other use of the buffer in
    # between (scratch, another padding) must not leave garbage in it
    pads = ((1, 2), (2, 1))
    workspace.zero_padded(np.ones((2, 3, 3, 2)), *pads)
    workspace.scratch(workspace.PAD, (2, 6, 6, 2), np.float64)[...] = 9.0
    a = workspace.zero_padded(np.ones((2, 3, 3, 2)), *pads)
    assert a.sum() == 36.0
    workspace.zero_padded(np.full((2, 4, 4, 2), 3.0), (1, 1), (1, 1))
    b = workspace.zero_padded(np.ones((2, 3, 3, 2)), *pads)
    assert b.sum() == 36.0 and b.shape == (2, 6, 6, 2)
    workspace.clear()
