"""rows_times (an N-D @ 2-D product as one GEMM: Dense, MatMul) and the ops' relu flag."""

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import linalg


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=0, max_size=3), st.integers(0, 5), st.integers(0, 5),
       st.sampled_from([np.float32, np.float64, np.int64]), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_equals_matmul(leading, k, n, dtype, transposed, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(leading) + (k, 3)
    a = (rng.standard_normal(shape) * 4).astype(dtype)
    if transposed:  # a non-contiguous operand: the reshape copies it
        a = np.swapaxes(a, -1, -2)
    else:
        a = a.reshape(tuple(leading) + (3, k))
    b = (rng.standard_normal((k, n)) * 4).astype(dtype)
    got, expected = linalg.rows_times(a, b), np.matmul(a, b)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_dense_and_matmul_on_sequences_run_one_gemm(monkeypatch):
    shapes = []

    def matmul(a, b, *args, **kwargs):
        shapes.append((a.shape, b.shape))
        return np.matmul(a, b, *args, **kwargs)

    spy = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np)
                                   if not name.startswith("__")})
    spy.matmul = matmul
    monkeypatch.setattr(linalg, "np", spy)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 5, 3)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    for op in (F.dense, F.matmul):
        shapes.clear()
        x.grad = None
        op(x, kernel).sum().backward()
        # the forward and the input gradient are each one (20, .) @ (., .) GEMM
        assert ((20, 3), (3, 2)) in shapes, (op, shapes)
        assert all(len(a) == 2 for a, _ in shapes), (op, shapes)
        np.testing.assert_allclose(x.grad, np.broadcast_to(kernel.data.sum(axis=1), (4, 5, 3)))


def test_a_relu_flag_that_is_not_a_bool_is_refused():
    x, kernel = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(TypeError, match=r"dense: relu must be True or False, got 'yes'"):
        F.dense(x, kernel, relu="yes")
    with pytest.raises(TypeError, match=r"conv2d: relu must be True or False, got 1"):
        F.conv2d(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 2)), relu=1)
    with pytest.raises(TypeError, match=r"conv2d: relu must be True or False, got None"):
        F.conv1d(np.ones((1, 5, 2)), np.ones((3, 2, 2)), relu=None)
    assert F.dense(x, kernel, relu=np.bool_(True)).shape == (2, 4)
