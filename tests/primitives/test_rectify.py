"""rectify (primitives/rectify.py): np.maximum(x, 0) through NumPy 2's vectorized clip (or the
row-of-zeros loop on NumPy 1), capped or not, pinned to np.maximum / np.minimum value for
value on both routes and taken by every ReLU-carrying op; the mask helpers pinned to the
boolean product they replace."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from npgrad.primitives import parallel
from npgrad.primitives import rectify as rectify_module
from npgrad.primitives.rectify import (
    WIDTH,
    bias_relu_in_place,
    fusable_bias,
    masked,
    rectify,
    relu_backward,
    relu_mask,
)

floats = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64]),
                    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=40),
                    elements=st.floats(allow_nan=True, allow_infinity=True, width=32))


@pytest.fixture(params=["clip", "rows"])
def route(request, monkeypatch):
    """Both routes on any NumPy: the clip (NumPy 2) and the row of zeros (NumPy 1)."""
    monkeypatch.setattr(rectify_module, "_FAST_CLIP", request.param == "clip")
    return request.param


# the route fixture patches a module flag, the same for every example of the test
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(floats, st.booleans(), st.sampled_from([None, 0.0, 1.5, 6.0]))
def test_rectify_equals_np_maximum(route, x, in_place, cap):
    expected = np.maximum(x, 0)
    if cap is not None:
        expected = np.minimum(expected, x.dtype.type(cap))
    got = rectify(x, out=x, max_value=cap) if in_place else rectify(x, max_value=cap)
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, expected)  # NaN where x is NaN
    if in_place:
        assert got is x


@settings(max_examples=40, deadline=None)
@given(floats, st.sampled_from([None, 1.5, 6.0]))
def test_the_mask_and_the_masked_gradient(x, cap):
    """relu_mask: 0 < x (< cap); the same from the ReLU's output as from its input; masked
    equals the product with the boolean mask, in the gradient's dtype."""
    expected = (x > 0) if cap is None else (x > 0) & (x < cap)
    np.testing.assert_array_equal(relu_mask(x, cap), expected)
    np.testing.assert_array_equal(relu_mask(rectify(x, max_value=cap), cap), expected)
    grad = np.linspace(-2, 2, x.size).reshape(x.shape).astype(x.dtype)
    got = masked(grad, expected)
    assert got.dtype == grad.dtype
    np.testing.assert_array_equal(got, grad * expected)
    out = np.empty_like(grad)
    assert masked(grad, expected.reshape(-1), out=out) is out
    np.testing.assert_array_equal(out, grad * expected)


@settings(max_examples=40, deadline=None)
@given(floats, st.sampled_from([None, 1.5, 6.0]), st.booleans())
def test_the_relu_backward_in_one_pass_is_the_masked_gradient(x, cap, shared):
    """relu_backward: masked(grad, relu_mask(values)), from the ReLU's input or output, the
    pool on (blocks of any size) or off, into ``out`` when given."""
    grad = np.linspace(-2, 2, x.size).reshape(x.shape).astype(x.dtype)
    expected = masked(grad, relu_mask(x, cap))
    with pytest.MonkeyPatch.context() as monkeypatch:
        if shared:
            monkeypatch.setattr(parallel, "MIN_BLOCK_BYTES", 8)
            monkeypatch.setattr(parallel, "threads", lambda: 2)
        for values in (x, rectify(x, max_value=cap)):
            got = relu_backward(grad, values, cap)
            assert got.dtype == grad.dtype
            np.testing.assert_array_equal(got, expected)
        out = np.empty_like(grad)
        assert relu_backward(grad, x, cap, out=out) is out
        np.testing.assert_array_equal(out, expected)


def test_odd_sizes_cover_the_tail_past_the_last_full_row(route):
    x = np.linspace(-3, 3, 3 * WIDTH + 17, dtype=np.float32)
    np.testing.assert_array_equal(rectify(x), np.maximum(x, 0))


def test_other_arrays_fall_back_to_np_maximum(route):
    ints = np.arange(-300, 300)
    np.testing.assert_array_equal(rectify(ints), np.maximum(ints, 0))
    strided = np.linspace(-1, 1, 4 * WIDTH)[::2]
    np.testing.assert_array_equal(rectify(strided), np.maximum(strided, 0))
    assert rectify(np.float32(-2.0)) == 0


@pytest.mark.parametrize("op", ["relu", "add_relu", "batch_norm_relu"])
def test_relu_ops_take_it(op, monkeypatch):
    calls = []
    original = rectify_module.rectify

    def spy(x, out=None, max_value=None):
        calls.append(x.shape)
        return original(x, out, max_value)

    # the ops import the function by name: patch it where each of them looks it up
    for module in ("activation", "elementwise", "nn"):
        monkeypatch.setattr(f"npgrad.primitives.{module}.rectify", spy)
    x = np.random.default_rng(0).standard_normal((4, 8, 8, 16)).astype(np.float32)
    if op == "relu":
        out = F.relu(x)
    elif op == "add_relu":
        out = F.add_relu(x, x[::-1].copy())
    else:
        c = x.shape[-1]
        out = F.batch_norm(x, None, None, np.zeros(c, np.float32), np.ones(c, np.float32),
                           training=True, relu=True)
    assert len(calls) == 1 and (np.asarray(out.data if hasattr(out, "data") else out) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3), relu=st.booleans(),
       with_bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       shared=st.booleans(), seed=st.integers(0, 2**16))
def test_bias_and_relu_in_one_pass_equal_the_two_steps(shape, relu, with_bias, dtype, shared,
                                                        seed):
    # the add and the clip in one pass by blocks of rows (shared between two threads when
    # ``shared``): the very values of out + bias, then max(., 0), and its mask
    rng = np.random.default_rng(seed)
    out = rng.standard_normal(shape).astype(dtype)
    bias = rng.standard_normal(shape[-1]).astype(dtype) if with_bias else None
    expected = out + bias if with_bias else out.copy()
    with pytest.MonkeyPatch.context() as patch:
        if shared:
            patch.setattr(parallel, "threads", lambda: 2)
            patch.setattr(parallel, "MIN_BLOCK_BYTES", 8)
        positive = bias_relu_in_place(out, bias, relu)
    if relu:
        np.testing.assert_array_equal(positive, expected > 0)
        expected = np.maximum(expected, 0)
    else:
        assert positive is None
    np.testing.assert_array_equal(out, expected)


def test_a_bias_of_another_dtype_or_shape_is_refused_by_name():
    out = np.zeros((2, 3), np.float32)
    assert fusable_bias(out, None) and fusable_bias(out, np.ones(3, np.float32))
    assert not fusable_bias(out, np.ones(3)) and not fusable_bias(out, np.ones(2, np.float32))
    with pytest.raises(ValueError, match="bias_relu_in_place: a .* bias of dtype float32"):
        bias_relu_in_place(out, np.ones(3))


@pytest.mark.parametrize("relu", [False, True])
def test_bias_and_relu_on_integers(relu):
    # integer outputs (a dense op on integer arrays) take the same add; no float bounds
    out = np.arange(-6, 6, dtype=np.int64).reshape(3, 4)
    bias = np.array([1, -2, 3, 0], dtype=np.int64)
    expected = out + bias
    positive = bias_relu_in_place(out, bias, relu)
    if relu:
        np.testing.assert_array_equal(positive, expected > 0)
        expected = np.maximum(expected, 0)
    np.testing.assert_array_equal(out, expected)
