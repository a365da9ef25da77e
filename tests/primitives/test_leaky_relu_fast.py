"""LeakyReLU's and ReLU's fast forms (a maximum; the backward's mask or factor made from the
output) equal np.where's, bit for bit, and keep nothing but the output."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad import Tensor


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slope", [0.0, 0.2, 0.3, 1.0, 1.5, -0.5])
@given(seed=st.integers(0, 2**32 - 1))
def test_leaky_relu_equals_the_where_form(dtype, slope, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5, 3)).astype(dtype)
    x.flat[:4] = [0.0, -0.0, np.nan, np.finfo(dtype).smallest_subnormal]  # kink, signs, NaN
    upstream = rng.standard_normal(x.shape).astype(dtype)
    t = Tensor(x, requires_grad=True)
    y = F.leaky_relu(t, negative_slope=slope)
    if 0 <= slope <= 1:  # the backward's factor comes from the output: nothing else kept
        assert [a is y.data for a in y._ctx.saved] == [True]
    y.backward(upstream)
    s = dtype(slope)
    expected = np.where(x > 0, x, x * s)
    np.testing.assert_array_equal(y.data, expected)
    assert y.data.dtype == dtype and np.array_equal(np.signbit(y.data), np.signbit(expected))
    np.testing.assert_array_equal(t.grad, np.where(x > 0, upstream, upstream * s))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cap", [None, 6.0])
@given(seed=st.integers(0, 2**32 - 1))
def test_relu_backward_from_its_output_equals_the_where_form(dtype, cap, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((4, 5, 3)) * 5).astype(dtype)
    x.flat[:5] = [0.0, -0.0, np.nan, np.finfo(dtype).smallest_subnormal, 6.0]
    upstream = rng.standard_normal(x.shape).astype(dtype)
    t = Tensor(x, requires_grad=True)
    y = F.relu(t, max_value=cap)
    assert [a is y.data for a in y._ctx.saved] == [True]  # the mask comes from the output
    y.backward(upstream)
    passes = (x > 0) if cap is None else (x > 0) & (x < cap)
    np.testing.assert_array_equal(t.grad, np.where(passes, upstream, dtype(0)))
