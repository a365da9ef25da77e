"""LeakyReLU's fast form (maximum and a factor array) equals np.where's, bit for bit."""

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
    x.flat[:3] = [0.0, -0.0, np.nan]  # the kink, a signed zero, NaN
    upstream = rng.standard_normal(x.shape).astype(dtype)
    t = Tensor(x, requires_grad=True)
    y = F.leaky_relu(t, negative_slope=slope)
    y.backward(upstream)
    s = dtype(slope)
    expected = np.where(x > 0, x, x * s)
    np.testing.assert_array_equal(y.data, expected)
    assert y.data.dtype == dtype and np.array_equal(np.signbit(y.data), np.signbit(expected))
    np.testing.assert_array_equal(t.grad, np.where(x > 0, upstream, upstream * s))
