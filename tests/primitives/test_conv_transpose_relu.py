"""Conv2DTranspose with its ReLU inside the op (``relu=True``, what
``Conv2DTranspose(activation="relu")`` runs): pinned to the transposed convolution followed
by a separate ReLU, in float64, values and every gradient; and the pass that takes the
output off the padded grid (``rectify.bias_relu_copy``) against NumPy on any crop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad.primitives import rectify
from tests.primitives.pool_jobs import share

SETTINGS = [  # (C_in, F, kernel, strides, padding, bias, dilation)
    (5, 3, 3, 2, "same", True, 1),
    (5, 3, 3, 2, "valid", False, 1),
    (3, 7, 4, 2, "same", True, 1),
    (7, 5, 3, 1, "same", True, 1),  # stride 1: conv2d's input gradient, a fresh array
    (6, 2, 3, 1, "valid", True, 1),
    (4, 4, 2, 3, "valid", True, 1),
    (3, 5, 3, 1, "same", True, 2),
    (9, 6, 5, (2, 1), "same", False, 1),
]


def _run(x0, w0, b0, strides, padding, dilation, fused):
    x = npgrad.Tensor(x0, requires_grad=True)
    w = npgrad.Tensor(w0, requires_grad=True)
    b = None if b0 is None else npgrad.Tensor(b0, requires_grad=True)
    settings_ = dict(strides=strides, padding=padding, dilation_rate=dilation)
    if fused:
        y = F.conv2d_transpose(x, w, b, relu=True, **settings_)
    else:
        y = F.relu(F.conv2d_transpose(x, w, b, **settings_))
    g = np.cos(np.arange(y.size, dtype=np.float64)).reshape(y.shape)
    y.backward(g)
    return y.numpy(), x.grad, w.grad, None if b is None else b.grad


@pytest.mark.parametrize("c, f, k, strides, padding, bias, dilation", SETTINGS)
@pytest.mark.parametrize("threads", [1, 2])
def test_the_fused_relu_is_the_relu_after_the_op(c, f, k, strides, padding, bias, dilation,
                                                  threads, monkeypatch):
    if threads == 1:
        monkeypatch.setenv("NPGRAD_PARALLEL", "0")
    else:  # blocks of one sample: the pool shares the pass whatever the size
        share(monkeypatch)
    rng = np.random.default_rng(c * 100 + f)
    x0 = rng.standard_normal((3, 5, 6, c))
    w0 = rng.standard_normal((k, k, f, c))
    b0 = rng.standard_normal(f) if bias else None
    fused = _run(x0, w0, b0, strides, padding, dilation, fused=True)
    plain = _run(x0, w0, b0, strides, padding, dilation, fused=False)
    assert fused[0].flags.c_contiguous
    assert (fused[0] == 0).any() and (fused[0] > 0).any()  # both sides of the kink
    for a, b in zip(fused, plain):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_layer_runs_its_relu_inside_the_op():
    layer = npgrad.layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")
    x = npgrad.Tensor(np.random.default_rng(1).standard_normal((2, 4, 4, 3)).astype(np.float32),
                      requires_grad=True)
    y = layer(x)
    assert type(y._ctx).__name__ == "Conv2DTranspose"  # no separate ReLU op
    expected = F.relu(F.conv2d_transpose(x.numpy(), layer.kernel.numpy(), layer.bias.numpy(),
                                         strides=2, padding="same")).numpy()
    np.testing.assert_array_equal(y.numpy(), expected)  # float32, the same operations


def test_relu_must_be_a_flag():
    with pytest.raises(TypeError, match="conv2d_transpose: relu must be True or False"):
        F.conv2d_transpose(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), relu="yes")


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 5), features=st.integers(1, 6), pad=st.integers(0, 2),
       step=st.integers(1, 2), biased=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_bias_relu_copy_of_a_crop(size, features, pad, step, biased, dtype, seed):
    # a crop of a padded grid; with step 2 every other pixel (the per-pixel route)
    rng = np.random.default_rng(seed)
    grid = rng.standard_normal((3, size + 2 * pad, step * size + 2 * pad, features)).astype(dtype)
    crop = grid[:, pad : pad + size, pad : pad + step * size : step]
    bias = rng.standard_normal(features).astype(dtype) if biased else None
    before = grid.copy()
    out, positive = rectify.bias_relu_copy(crop, bias)
    expected = crop + (0 if bias is None else bias)
    np.testing.assert_array_equal(out, np.maximum(expected, 0))
    np.testing.assert_array_equal(positive, expected > 0)
    assert out.flags.c_contiguous and out.dtype == dtype
    np.testing.assert_array_equal(grid, before)  # the grid is read, not written


def test_bias_relu_copy_wants_image_rows():
    with pytest.raises(ValueError, match=r"bias_relu_copy: \(N, \.\.\., W, F\) expected"):
        rectify.bias_relu_copy(np.ones((4, 3)))
