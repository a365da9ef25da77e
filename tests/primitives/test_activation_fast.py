"""The sigmoid, silu, softplus, log_sigmoid, ELU and SELU ops (primitives/activation.py),
written with NumPy's vectorized loops (exp, expm1, log1p, clip) instead of scipy's expit,
logaddexp and where, pinned to those references: float64 inputs to 1e-12 relative, float32
inputs to float32 rounding, in both tails (relative precision for tiny outputs, no overflow
for huge inputs) and with NaN propagated.

The derivatives are taken from the outputs, as Keras's and PyTorch's are: the sigmoid's
``s (1 - s)`` and ELU's ``y + alpha`` cancel where the output nears its limit (1, or
-alpha), so they are pinned to the references within a few units of rounding of 1 rather
than relatively (sigmoid'(30) comes out 0 in float32, not 9.4e-14)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import npgrad
import npgrad.functional as F

ALPHA, SCALE = 1.6732632423543772, 1.0507009873554805


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _elu_slope(x, alpha=1.0):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


# name: (op, reference value, reference derivative), references in float64
REFERENCES = {
    "sigmoid": (F.sigmoid, special.expit, lambda x: special.expit(x) * special.expit(-x)),
    "silu": (F.silu, lambda x: x * special.expit(x),
             lambda x: special.expit(x) * (1 + x * special.expit(-x))),
    "softplus": (F.softplus, lambda x: np.logaddexp(0, x), special.expit),
    "elu": (F.elu, _elu, _elu_slope),
    "selu": (F.selu, lambda x: SCALE * _elu(x, ALPHA), lambda x: SCALE * _elu_slope(x, ALPHA)),
    "log_sigmoid": (npgrad.ops.log_sigmoid, lambda x: -np.logaddexp(0, -x),
                    lambda x: special.expit(-x)),
}

values = st.floats(-120, 120, allow_nan=False, width=32)


def _run(op, x):
    t = npgrad.Tensor(x, requires_grad=True)
    y = op(t)
    y.backward(np.ones(x.shape, x.dtype))
    return y.numpy(), t.grad


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=9), elements=values))
def test_float64_values_and_gradients_equal_the_references(name, x):
    op, value, slope = REFERENCES[name]
    y, dx = _run(op, x)
    assert y.dtype == np.float64 and dx.dtype == np.float64
    np.testing.assert_allclose(y, value(x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(dx, slope(x), rtol=1e-12, atol=8 * np.finfo(np.float64).eps)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_float32_keeps_its_dtype_and_relative_precision_in_the_tails(name):
    op, value, slope = REFERENCES[name]
    x = np.array([-100, -87, -30, -5, -1e-3, 0, 1e-3, 5, 30, 87, 100], dtype=np.float32)
    y, dx = _run(op, x)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    exact = x.astype(np.float64)
    # float32 rounding, relative down to the smallest normal number: sigmoid(-30) = 9.4e-14
    # must not come out as 0 (below about -88 exp overflows and the result is the limit 0)
    tiny = np.finfo(np.float32).tiny
    np.testing.assert_allclose(y, value(exact), rtol=3e-6, atol=tiny)
    np.testing.assert_allclose(dx, slope(exact), rtol=3e-6, atol=8 * np.finfo(np.float32).eps)
    if name in ("sigmoid", "softplus"):
        assert y[2] > 0 and abs(y[2] / value(exact[2]) - 1) < 3e-6


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_huge_inputs_give_the_limits_without_warnings(name, recwarn):
    op = REFERENCES[name][0]
    x = np.array([-1e30, -1e4, 1e4, 1e30], dtype=np.float32)
    y, dx = _run(op, x)
    assert np.isfinite(y).all() and np.isfinite(dx).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_nan_stays_nan(name):
    y, dx = _run(REFERENCES[name][0], np.array([np.nan, 1.0]))
    assert np.isnan(y[0]) and np.isnan(dx[0]) and np.isfinite(y[1])


def test_silu_and_selu_are_one_op_each():
    from npgrad.autograd.engine import graph_ops

    x = npgrad.Tensor(np.linspace(-2, 2, 5), requires_grad=True)
    for fn in (F.silu, F.selu, npgrad.activations.swish):
        assert len(graph_ops(fn(x))) == 1


@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(max_dims=3),
                    elements=st.sampled_from([-1.0, 0.0, 3.0, 6.0, 7.5])
                    | st.floats(-10, 10, width=32)))
def test_relu6_is_the_capped_relu_op_with_no_gradient_on_its_bounds(x):
    """activations.relu6 and ops.relu6 are one op each, the ReLU(max_value=6) layer's: the
    values of np.clip, the gradient 1 strictly inside (0, 6) and 0 at exactly 0 and 6, as
    Keras's relu6 on its TensorFlow and PyTorch backends."""
    from npgrad.autograd.engine import graph_ops

    for fn in (npgrad.activations.relu6, npgrad.ops.relu6):
        t = npgrad.Tensor(x, requires_grad=True)
        y = fn(t)
        assert len(graph_ops(y)) == 1
        y.backward(np.full(x.shape, 2, x.dtype))
        np.testing.assert_array_equal(y.numpy(), np.clip(x, 0, 6))
        assert t.grad.dtype == x.dtype
        np.testing.assert_array_equal(t.grad, 2 * ((x > 0) & (x < 6)))


def test_hard_silu_of_integers_is_float64_from_either_name():
    x = np.arange(-5, 6)
    expected = x * np.clip(x / 6 + 0.5, 0, 1)
    for fn in (npgrad.ops.hard_silu, npgrad.activations.hard_silu):
        y = fn(npgrad.Tensor(x)).numpy()
        assert y.dtype.kind == "f"
        np.testing.assert_allclose(y, expected, rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(max_dims=3),
                    elements=st.floats(-10, 10, width=32)),
       low=st.sampled_from([None, -1.0, 0.0]), high=st.sampled_from([None, 0.0, 6.0]))
def test_clip_with_a_missing_bound_equals_np_clip_and_passes_the_gradient_on_the_bounds(
        x, low, high):
    """Clip's None bound becomes an infinite one (NumPy's vectorized scalar clip); the
    gradient is 1 on [low, high], bounds included, 0 outside, in the input's dtype."""
    t = npgrad.Tensor(x, requires_grad=True)
    y = F.clip(t, low, high)
    y.backward(np.full(x.shape, 2, x.dtype))
    np.testing.assert_array_equal(y.numpy(), np.clip(x, low, high))
    inside = np.ones(x.shape, bool)
    if low is not None:
        inside &= x >= low
    if high is not None:
        inside &= x <= high
    assert t.grad.dtype == x.dtype
    np.testing.assert_array_equal(t.grad, 2 * inside)


@pytest.mark.parametrize("name", ["hard_sigmoid", "hard_silu"])
@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(max_dims=3),
                    elements=st.sampled_from([-4.0, -3.0, -2.5, 0.0, 1.0, 3.0, 3.5])
                    | st.floats(-5, 5, width=32)))
def test_hard_sigmoid_and_hard_silu_equal_their_compositions(name, x):
    """One op each (MobileNetV3's activations), pinned to the compositions they replaced:
    the same values, and gradients to rounding, at the bounds -3 and 3 too (where the
    composition's clip passes the gradient)."""
    from npgrad.autograd.engine import graph_ops
    from npgrad.primitives.activation import hard_sigmoid_composed
    from npgrad.primitives.elementwise import clip

    composed = {"hard_sigmoid": hard_sigmoid_composed,
                "hard_silu": lambda t: t * clip(t + 3.0, 0.0, 6.0) / 6.0}[name]
    fused = npgrad.activations.get(name)
    results = []
    for fn in (fused, composed):
        t = npgrad.Tensor(x, requires_grad=True)
        y = fn(t)
        y.backward(np.ones(x.shape, x.dtype))
        results.append((y, t.grad))
    assert len(graph_ops(results[0][0])) == 1
    np.testing.assert_array_equal(results[0][0].numpy(), results[1][0].numpy())
    assert results[0][1].dtype == x.dtype
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=4 * np.finfo(x.dtype).eps,
                               atol=4 * np.finfo(x.dtype).eps)
