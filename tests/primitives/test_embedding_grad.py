"""The embedding gradient (a sparse one-hot product) equals np.add.at's sums, bit for bit."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad import Tensor


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 9), width=st.integers(1, 5),
       index_shape=st.lists(st.integers(0, 6), min_size=1, max_size=3), extra=st.booleans())
def test_embedding_gradient_equals_add_at(dtype, seed, rows, width, index_shape, extra):
    rng = np.random.default_rng(seed)
    shape = (rows, width, 2) if extra else (rows, width)  # tables of rank 2 and 3
    table = rng.standard_normal(shape).astype(dtype)
    indices = rng.integers(0, rows, index_shape)  # repeats are common: rows <= 9
    t = Tensor(table, requires_grad=True)
    y = F.embedding(indices, t)
    upstream = rng.standard_normal(y.shape).astype(dtype)
    y.backward(upstream)
    expected = np.zeros_like(table)
    np.add.at(expected, indices, upstream)
    assert t.grad.dtype == dtype and t.grad.shape == shape
    np.testing.assert_array_equal(t.grad, expected)
