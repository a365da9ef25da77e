"""The float32 GELU path (primitives/normal_cdf.py) against the exact erf form.

float64 keeps ``scipy.special.erf`` (bit for bit the old formula); float32 takes a blocked
Abramowitz-Stegun evaluation: pinned here to the float64 exact values within 4e-7 absolute
(float32 rounds 1.0 at 6e-8 steps), on odd sizes that straddle the block size, strided
input, empty input and the far tails.
"""

import math

import numpy as np
import pytest
from scipy import special

import npgrad
from npgrad.primitives import normal_cdf as module
from npgrad.primitives.activation import GELU
from npgrad.primitives.normal_cdf import gelu_derivative_from_output, gelu_float32, normal_cdf


def _exact_cdf(x):
    return 0.5 * special.erfc(-np.asarray(x, np.float64) / math.sqrt(2))


def _exact_derivative(x):
    x = np.asarray(x, np.float64)
    return _exact_cdf(x) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("size", [1, 7, module._BLOCK - 1, module._BLOCK + 3, 3 * module._BLOCK])
def test_float32_cdf_and_derivative_match_the_exact_ones(size):
    x = np.random.default_rng(size).standard_normal(size).astype(np.float32) * 4
    cdf = normal_cdf(x)
    derivative = gelu_derivative_from_output(x, x * cdf)
    assert cdf.dtype == derivative.dtype == np.float32
    np.testing.assert_allclose(cdf, _exact_cdf(x), rtol=0, atol=4e-7)
    np.testing.assert_allclose(derivative, _exact_derivative(x), rtol=0, atol=4e-7)


def test_the_whole_line_and_the_tails():
    x = np.linspace(-15, 15, 300_001).astype(np.float32)
    cdf = normal_cdf(x)
    np.testing.assert_allclose(cdf, _exact_cdf(x), rtol=0, atol=4e-7)
    assert np.all(np.diff(cdf[x < -1]) >= 0)  # monotone where the values are small
    tail = (x < -3) & (x > -10)  # keeps its relative precision (no 1 - 1 cancellation)
    np.testing.assert_allclose(cdf[tail], _exact_cdf(x[tail]), rtol=0.05)
    assert cdf[0] >= 0 and cdf[-1] == 1
    assert normal_cdf(np.array([0.0], np.float32))[0] == pytest.approx(0.5, abs=1e-7)


def test_the_derivative_at_zero_and_in_the_tails():
    x = np.array([0.0, -0.0, 1e-30, -1e-30, -30.0, 30.0, 1e-3], np.float32)
    got = gelu_derivative_from_output(x, x * normal_cdf(x))
    np.testing.assert_allclose(got, _exact_derivative(x), rtol=0, atol=4e-7)
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize("size", [5, module._BLOCK + 3, 2 * module._SHARED_BLOCK + 11])
def test_the_derivative_times_the_gradient_in_its_blocks_is_the_product(size):
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(np.float32) * 3
    y, grad = gelu_float32(x), rng.standard_normal(size).astype(np.float32)
    expected = gelu_derivative_from_output(x, y) * grad
    np.testing.assert_array_equal(gelu_derivative_from_output(x, y, grad), expected)
    xt = npgrad.Tensor(x, requires_grad=True)  # the op's backward: the same numbers
    GELU.apply(xt).backward(grad)
    np.testing.assert_array_equal(xt.grad, expected)


def test_float32_gelu_is_x_times_phi_on_both_sides():
    x = np.concatenate([np.linspace(-10, 10, 200_001), [0.0, -0.0, 1e-30, -1e-30, 40.0, -40.0]])
    x = x.astype(np.float32)
    got = gelu_float32(x)
    exact = x.astype(np.float64) * _exact_cdf(x)
    np.testing.assert_allclose(got, exact, rtol=0, atol=4e-7 * np.abs(x).max())
    assert np.all(np.abs(got - exact) <= 4e-7 * np.abs(x) + 1e-37)
    negative = (x < -2) & (x > -9)  # max(x, 0) - |x| Phi(-|x|): no cancellation below zero
    np.testing.assert_allclose(got[negative], exact[negative], rtol=0.05)
    assert gelu_float32(np.zeros((0, 2), np.float32)).shape == (0, 2)


def test_shapes_strides_and_empty_input():
    x = np.random.default_rng(0).standard_normal((5, 9, 6)).astype(np.float32)
    strided = x[:, ::2, 1:]
    np.testing.assert_array_equal(normal_cdf(strided), normal_cdf(np.ascontiguousarray(strided)))
    assert normal_cdf(strided).shape == strided.shape
    assert normal_cdf(np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_float64_keeps_the_exact_erf_bit_for_bit():
    x = np.random.default_rng(1).standard_normal((4, 5))
    np.testing.assert_array_equal(normal_cdf(x), 0.5 * (1 + special.erf(x / math.sqrt(2))))
    out = GELU.apply(npgrad.Tensor(x)).data
    np.testing.assert_array_equal(out, 0.5 * x * (1 + special.erf(x / math.sqrt(2))))


@pytest.mark.parametrize("approximate", [False, True])
def test_float32_gelu_and_its_gradient_follow_float64(approximate):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((37, 129)) * 3
    upstream = rng.standard_normal(x.shape)
    results = {}
    for dtype in (np.float32, np.float64):
        xt = npgrad.Tensor(x.astype(dtype), requires_grad=True)
        out = GELU.apply(xt, approximate=approximate)
        out.backward(upstream.astype(dtype))
        assert out.dtype == dtype and xt.grad.dtype == dtype
        results[dtype] = (out.data, xt.grad)
    for got, want in zip(results[np.float32], results[np.float64]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=3e-6)
