"""conv2d, conv2d_transpose, conv1d: naive loops, adjoint identities, Keras reference values."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives.conv import _im2col, _transpose_output_length, window_geometry
from npgrad.primitives.conv_blocks import products_col2im


# ------------------------------------------------------------------ naive references
def _same_pads(size, span, stride):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, (total // 2, total - total // 2)


def naive_conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Direct loop over every output pixel and kernel tap (the definition, slowly)."""
    n, h, w, _ = x.shape
    kh, kw, _, f = kernel.shape
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    if padding == "same":
        oh, ph = _same_pads(h, span[0], strides[0])
        ow, pw = _same_pads(w, span[1], strides[1])
    else:
        oh, ph = (h - span[0]) // strides[0] + 1, (0, 0)
        ow, pw = (w - span[1]) // strides[1] + 1, (0, 0)
    xp = np.pad(x, ((0, 0), ph, pw, (0, 0)))
    out = np.zeros((n, oh, ow, f))
    for b in range(n):
        for r in range(oh):
            for c in range(ow):
                for i in range(kh):
                    for j in range(kw):
                        pixel = xp[b, r * strides[0] + i * dilation[0], c * strides[1] + j * dilation[1]]
                        out[b, r, c] += pixel @ kernel[i, j]
    return out if bias is None else out + bias


@st.composite
def conv_setups(draw, max_side=7):
    """(x, kernel, bias, kwargs) with kernels 1-4 (even ones exercise asymmetric 'same')."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same"]))
    low = lambda k, d: (k - 1) * d + 1 if padding == "valid" else 1  # noqa: E731
    h = draw(st.integers(low(kh, dilation[0]), max(max_side, low(kh, dilation[0]))))
    w = draw(st.integers(low(kw, dilation[1]), max(max_side, low(kw, dilation[1]))))
    x = rng.standard_normal((n, h, w, c))
    kernel = rng.standard_normal((kh, kw, c, f))
    bias = rng.standard_normal(f)
    return x, kernel, bias, dict(strides=strides, padding=padding, dilation_rate=dilation)


# ------------------------------------------------------------------ conv2d forward
@given(conv_setups())
def test_conv2d_matches_naive_loop(setup):
    x, kernel, bias, kwargs = setup
    expected = naive_conv2d(x, kernel, bias, kwargs["strides"], kwargs["padding"],
                            kwargs["dilation_rate"])
    np.testing.assert_allclose(F.conv2d(x, kernel, bias, **kwargs).data, expected, rtol=1e-10,
                               atol=1e-10)


def test_conv2d_same_even_kernel_pads_more_after():
    # H = 4, kernel 2, stride 1: total padding 1 -> 0 before, 1 after (TensorFlow rule)
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    kernel = np.zeros((2, 2, 1, 1))
    kernel[0, 0] = 1.0  # picks the window's top-left pixel: the unpadded image itself
    y = F.conv2d(x, kernel, padding="same").data
    np.testing.assert_array_equal(y, x)


@given(conv_setups(), st.integers(0, 2**32 - 1))
def test_col2im_is_the_adjoint_of_im2col(setup, seed):
    # the per-tap products added back (products_col2im) are the adjoint of im2col @ kernel
    x, kernel, _, kwargs = setup
    kh, kw = kernel.shape[:2]
    strides, dilation = kwargs["strides"], kwargs["dilation_rate"]
    # pad as the op does, so 'same' geometries smaller than the kernel are covered too
    oh, pads_h = window_geometry(x.shape[1], (kh - 1) * dilation[0] + 1, strides[0],
                                  kwargs["padding"], "t", "h")
    ow, pads_w = window_geometry(x.shape[2], (kw - 1) * dilation[1] + 1, strides[1],
                                  kwargs["padding"], "t", "w")
    x = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)))
    n, h, w, c = x.shape
    cols = _im2col(x, (kh, kw), (oh, ow), strides, dilation)  # (N*OH*OW, KH*KW*C)
    y = cols @ kernel.reshape(kh * kw * c, -1)  # (N*OH*OW, F)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    back = products_col2im(g.reshape(n, oh, ow, -1), kernel, (h, w), strides, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * back), rtol=1e-10)


def test_im2col_single_and_multi_channel_paths_agree():
    # C == 1 takes a per-offset slice path, C > 1 the sliding-window path: same layout
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3))
    args = ((3, 2), (3, 2), (2, 2), (1, 2))
    stacked = np.stack([_im2col(x[..., i : i + 1], *args) for i in range(3)], axis=-1)
    np.testing.assert_array_equal(_im2col(x, *args), stacked.reshape(stacked.shape[0], -1))


# ------------------------------------------------------------------ Keras references
CONV2D_CASES = {
    "conv2d_valid": {},
    "conv2d_same_s2": dict(strides=2, padding="same"),
    "conv2d_same_even": dict(strides=2, padding="same"),
    "conv2d_dilated": dict(dilation_rate=2),
    "conv2d_s21": dict(strides=(2, 1)),
}
CONV2D_TRANSPOSE_CASES = {
    "conv2dT_s2_same": dict(strides=2, padding="same"),
    "conv2dT_s2_valid": dict(strides=2, padding="valid"),
    "conv2dT_s1_same": dict(strides=1, padding="same"),
}


@pytest.mark.parametrize("case", sorted(CONV2D_CASES))
def test_conv2d_matches_keras(keras_ref, case):
    x, w0, w1 = (keras_ref[f"{case}/{k}"] for k in ("x", "w0", "w1"))
    y = F.conv2d(x, w0, w1, **CONV2D_CASES[case])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, keras_ref[f"{case}/y"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CONV2D_TRANSPOSE_CASES))
def test_conv2d_transpose_matches_keras(keras_ref, case):
    x, w0, w1 = (keras_ref[f"{case}/{k}"] for k in ("x", "w0", "w1"))
    y = F.conv2d_transpose(x, w0, w1, **CONV2D_TRANSPOSE_CASES[case])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, keras_ref[f"{case}/y"], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ conv2d_transpose
@given(conv_setups(max_side=4), st.integers(0, 2**32 - 1))
def test_conv2d_transpose_is_the_adjoint_of_conv2d(setup, seed):
    """<conv2d(x, k), y> == <x, conv2d_transpose(y, k)> with the same kernel array."""
    y_small, kernel, _, kwargs = setup
    rng = np.random.default_rng(seed)
    # x gets the size that conv2d_transpose produces from y (Keras's output-size rule)
    out_hw = [
        _transpose_output_length(y_small.shape[1 + a], kernel.shape[a], kwargs["strides"][a],
                                 kwargs["padding"], None, kwargs["dilation_rate"][a])
        for a in range(2)
    ]
    # conv2d kernel (KH, KW, C, F) is a transpose kernel (KH, KW, F_out=C, C_in=F)
    y = rng.standard_normal(y_small.shape[:3] + (kernel.shape[3],))
    x = rng.standard_normal((y.shape[0], *out_hw, kernel.shape[2]))
    forward = F.conv2d(x, kernel, **kwargs).data
    assert forward.shape == y.shape
    transposed = F.conv2d_transpose(y, kernel, **kwargs).data
    assert transposed.shape == x.shape
    np.testing.assert_allclose(np.sum(forward * y), np.sum(x * transposed), rtol=1e-9, atol=1e-9)


def test_conv2d_transpose_equals_conv2d_input_gradient():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 7, 6, 3)), requires_grad=True)
    kernel = rng.standard_normal((3, 3, 3, 4))
    out = F.conv2d(x, kernel, strides=2, padding="same")  # (2, 4, 3, 4)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    # Keras size rule: H = (4 - 1) * 2 + 3 - 2 + 0 = 7, W = (3 - 1) * 2 + 3 - 2 + 1 = 6
    np.testing.assert_allclose(
        F.conv2d_transpose(g, kernel, strides=2, padding="same", output_padding=(0, 1)).data,
        x.grad, rtol=1e-12, atol=1e-12,
    )


@pytest.mark.parametrize(
    "h, k, s, padding, output_padding, expected",
    [
        (5, 3, 2, "valid", None, 11),  # (5 - 1) * 2 + 3
        (5, 3, 2, "same", None, 10),  # 5 * 2
        (5, 1, 3, "valid", None, 15),  # kernel < stride: 5 * 3 (Keras: in*s + max(k - s, 0))
        (5, 3, 2, "valid", 1, 12),
        (5, 3, 2, "same", 1, 10),  # (5 - 1) * 2 + 3 - 2 * 1 + 1
    ],
)
def test_conv2d_transpose_output_size(h, k, s, padding, output_padding, expected):
    y = F.conv2d_transpose(np.ones((1, h, h, 2)), np.ones((k, k, 3, 2)), strides=s,
                           padding=padding, output_padding=output_padding)
    assert y.shape == (1, expected, expected, 3)


# ------------------------------------------------------------------ conv1d
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2)])
def test_conv1d_matches_conv2d_loop(padding, stride, dilation):
    rng = np.random.default_rng(2)
    x, kernel = rng.standard_normal((2, 9, 3)), rng.standard_normal((3, 3, 4))
    bias = rng.standard_normal(4)
    x2 = x[:, None]
    if padding == "causal":  # causal = left padding of (K - 1) * dilation, then valid
        x2 = np.pad(x2, ((0, 0), (0, 0), (2 * dilation, 0), (0, 0)))
    expected = naive_conv2d(x2, kernel[None], bias, (1, stride),
                            "valid" if padding == "causal" else padding, (1, dilation))[:, 0]
    y = F.conv1d(x, kernel, bias, strides=stride, padding=padding, dilation_rate=dilation)
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ dtypes and gradients
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["conv2d", "conv2d_transpose", "conv1d"])
def test_dtype_is_preserved_forward_and_backward(dtype, op):
    rng = np.random.default_rng(3)
    shapes = {"conv2d": ((2, 6, 5, 3), (3, 3, 3, 4)), "conv2d_transpose": ((2, 4, 4, 3), (3, 3, 4, 3)),
              "conv1d": ((2, 7, 3), (3, 3, 4))}[op]
    x = Tensor(rng.standard_normal(shapes[0]).astype(dtype), requires_grad=True)
    kernel = Tensor(rng.standard_normal(shapes[1]).astype(dtype), requires_grad=True)
    bias = Tensor(np.zeros(4, dtype=dtype), requires_grad=True)
    y = getattr(F, op)(x, kernel, bias, strides=2, padding="same")
    assert y.dtype == dtype
    y.sum().backward()
    for t in (x, kernel, bias):
        assert t.grad.dtype == dtype and t.grad.shape == t.shape


def test_input_that_needs_no_gradient_gets_none():
    x = Tensor(np.ones((1, 5, 5, 1), dtype=np.float32))
    kernel = Tensor(np.ones((3, 3, 1, 2), dtype=np.float32), requires_grad=True)
    F.conv2d(x, kernel).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(kernel.grad, np.full((3, 3, 1, 2), 9.0))


def test_no_grad_forward_keeps_no_graph():
    with npgrad.no_grad():
        y = F.conv2d(np.ones((1, 4, 4, 1)), Tensor(np.ones((2, 2, 1, 1)), requires_grad=True))
    assert not y.requires_grad and y.shape == (1, 3, 3, 1)


# ------------------------------------------------------------------ errors
X, K = np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 3, 2))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.conv2d(np.zeros((5, 5, 3)), K), r"conv2d: input must have rank 4"),
        (lambda: F.conv2d(X, np.zeros((3, 3, 3))), r"conv2d: kernel must have rank 4"),
        (lambda: F.conv2d(X, np.zeros((3, 3, 2, 2))), r"conv2d: kernel expects 2 input channels.*has 3"),
        (lambda: F.conv2d(X, np.zeros((7, 3, 3, 2))), r"conv2d: window of effective size 7.*height 5"),
        (lambda: F.conv2d(X, K, dilation_rate=3), r"conv2d: window of effective size 7"),
        (lambda: F.conv2d(X, K, strides=0), r"conv2d: strides must be positive, got 0"),
        (lambda: F.conv2d(X, K, strides=(1, -1)), r"conv2d: strides must be positive"),
        (lambda: F.conv2d(X, K, dilation_rate=0), r"conv2d: dilation_rate must be positive"),
        (lambda: F.conv2d(X, K, padding="full"), r"conv2d: padding must be one of .*'full'"),
        (lambda: F.conv2d(X, K, np.zeros(3)), r"conv2d: bias must have shape \(2,\), got \(3,\)"),
        (lambda: F.conv2d_transpose(X, np.zeros((3, 3, 2, 4))), r"conv2d_transpose: kernel expects 4"),
        (lambda: F.conv2d_transpose(X[0], K), r"conv2d_transpose: input must have rank 4"),
        (lambda: F.conv2d_transpose(X, np.zeros((3, 3, 2, 3)), strides=2, output_padding=2),
         r"conv2d_transpose: output_padding must be .*< stride"),
        (lambda: F.conv2d_transpose(X, np.zeros((3, 3, 2, 3)), padding="causal"),
         r"conv2d_transpose: padding must be one of"),
        (lambda: F.conv1d(np.zeros((1, 5, 3)), np.zeros((3, 2, 4))), r"conv1d: kernel expects 2"),
        (lambda: F.conv1d(np.zeros((1, 5, 3)), np.zeros((6, 3, 4))), r"conv1d: window of effective size 6"),
        (lambda: F.conv1d(X, np.zeros((3, 3, 4))), r"conv1d: input must have rank 3"),
        (lambda: F.conv1d(np.zeros((1, 5, 3)), np.zeros((3, 3, 4)), strides=0),
         r"conv1d: strides must be positive"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_op(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_integer_strides_raise_type_error():
    with pytest.raises(TypeError, match=r"conv2d: strides must be an int or a pair of ints"):
        F.conv2d(X, K, strides=1.5)


# ------------------------------------------------------------------ PyTorch (optional)
@pytest.mark.slow  # importing torch alone takes seconds
def test_conv2d_and_transpose_match_pytorch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn.functional
    rng = np.random.default_rng(4)
    x, kernel = rng.standard_normal((2, 8, 7, 3)), rng.standard_normal((3, 3, 3, 5))
    nchw = lambda a: torch.tensor(a).permute(0, 3, 1, 2)  # noqa: E731
    nhwc = lambda t: t.permute(0, 2, 3, 1).numpy()  # noqa: E731
    # symmetric padding 1 by hand ('same' with stride 2 on H = 8 would pad (0, 1))
    expected = nhwc(tnn.conv2d(nchw(x), torch.tensor(kernel).permute(3, 2, 0, 1), stride=2,
                               padding=1, dilation=2))
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    got = F.conv2d(xp, kernel, strides=2, dilation_rate=2).data
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    # transposed: Keras kernel (KH, KW, F_out, C_in) -> torch weight (C_in, F_out, KH, KW)
    y = rng.standard_normal((2, 4, 3, 5))
    expected = nhwc(tnn.conv_transpose2d(nchw(y), torch.tensor(kernel).permute(3, 2, 0, 1), stride=2))
    got = F.conv2d_transpose(y, kernel, strides=2, padding="valid").data
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
