"""The last-axis layer norm (primitives/layer_norm.py) is the general LayerNorm op, faster.

Pinned in float64 to the general op (values and every gradient) on odd sizes, with and
without gamma and beta, and checked to be the path ``F.layer_norm`` takes for the last axis.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad.primitives.layer_norm import LayerNormLastAxis, layer_norm_last_axis
from npgrad.primitives.nn import LayerNorm


def _general(x, gamma, beta, epsilon):
    axis = (x.ndim - 1,)
    params = [p for p in (gamma, beta) if p is not None]
    return LayerNorm.apply(x, *params, stat_axes=axis, param_axes=axis, epsilon=epsilon,
                           has_gamma=gamma is not None, has_beta=beta is not None)


def _run(fn, arrays, upstream):
    tensors = [None if a is None else npgrad.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * npgrad.Tensor(upstream)).sum().backward()
    return [out.data] + [None if t is None else t.grad for t in tensors]


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       features=st.integers(2, 13), affine=st.sampled_from(["both", "gamma", "beta", "none"]),
       epsilon=st.sampled_from([1e-3, 1e-5]), seed=st.integers(0, 2**16))
def test_last_axis_layer_norm_matches_the_general_op(shape, features, affine, epsilon, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(shape) + (features,)) * 3 + rng.standard_normal()
    gamma = rng.uniform(0.5, 2, features) if affine in ("both", "gamma") else None
    beta = rng.standard_normal(features) if affine in ("both", "beta") else None
    upstream = rng.standard_normal(x.shape)
    fast = _run(lambda *a: layer_norm_last_axis(*a, epsilon=epsilon), [x, gamma, beta], upstream)
    slow = _run(lambda *a: _general(*a, epsilon), [x, gamma, beta], upstream)
    for got, want in zip(fast, slow):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_functional_layer_norm_takes_the_fast_path_for_the_last_axis_only():
    x = npgrad.Tensor(np.random.default_rng(0).standard_normal((3, 4, 5)), requires_grad=True)
    g, b = np.ones(5), np.zeros(5)
    assert isinstance(F.layer_norm(x, g, b)._ctx, LayerNormLastAxis)
    assert isinstance(F.layer_norm(x, g, b, axis=2)._ctx, LayerNormLastAxis)
    assert isinstance(F.layer_norm(x, np.ones((4, 5)), None, axis=(1, 2))._ctx, LayerNorm)


def test_float32_stays_float32_and_close_to_float64():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 128)).astype(np.float32) * 5 + 2
    gamma, beta = rng.uniform(0.5, 2, 128), rng.standard_normal(128)
    out32 = layer_norm_last_axis(x, gamma.astype(np.float32), beta.astype(np.float32))
    out64 = layer_norm_last_axis(x.astype(np.float64), gamma, beta)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-4, atol=1e-4)


def test_inference_gives_a_tensor_outside_the_graph():
    with npgrad.no_grad():
        out = layer_norm_last_axis(np.ones((2, 3)), np.ones(3), np.zeros(3))
    assert out._ctx is None
    np.testing.assert_array_equal(out.data, np.zeros((2, 3)))  # constant rows: zero


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True)])
def test_only_the_needed_gradients_are_made(needs):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6)]
    tensors = [npgrad.Tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    layer_norm_last_axis(*tensors).sum().backward()
    for t, n in zip(tensors, needs):
        assert (t.grad is not None) == n
