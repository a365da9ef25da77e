"""The accumulating GEMM (primitives/gemm.py): NumPy's OpenBLAS through ctypes, SciPy's
wrapper where that is not reachable; both pinned to ``a @ b + beta * out``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npgrad.primitives import blas_pools, gemm


@pytest.fixture(params=["numpy's OpenBLAS", "SciPy fallback"])
def route(request, monkeypatch):
    if request.param == "SciPy fallback":
        monkeypatch.setattr(gemm, "_cblas_gemm", lambda dtype: None)
    elif gemm._cblas_gemm(np.dtype(np.float32)) is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS with a reachable cblas_sgemm here")
    return request.param


def test_numpy_openblas_gemm_is_found_where_numpy_ships_openblas():
    # NumPy's wheels ship OpenBLAS; when blas_pools finds it, gemm must find its GEMM too
    # (else every narrow conv silently runs on SciPy's one-thread pool)
    if blas_pools.numpy_library() is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS found in /proc/self/maps")
    assert gemm._cblas_gemm(np.dtype(np.float32)) is not None
    assert gemm._cblas_gemm(np.dtype(np.float64)) is not None


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 40), k=st.integers(1, 12), n=st.integers(1, 9),
       dtype=st.sampled_from([np.float32, np.float64]), beta=st.sampled_from([0.0, 1.0]),
       a_layout=st.sampled_from(["rows", "transposed", "slab"]),
       b_layout=st.sampled_from(["rows", "transposed", "strided"]), seed=st.integers(0, 99))
def test_accumulate_is_a_times_b_plus_beta_out(m, k, n, dtype, beta, a_layout, b_layout, seed):
    rng = np.random.default_rng(seed)
    if a_layout == "rows":
        a = rng.standard_normal((m, k)).astype(dtype)
    elif a_layout == "transposed":
        a = rng.standard_normal((k, m)).astype(dtype).T
    else:  # rows of a wider matrix: a leading dimension larger than k
        a = rng.standard_normal((m, k + 3)).astype(dtype)[:, 1 : k + 1]
    if b_layout == "rows":
        b = rng.standard_normal((k, n)).astype(dtype)
    elif b_layout == "transposed":
        b = rng.standard_normal((n, k)).astype(dtype).T
    else:  # neither rows nor columns contiguous: copied first
        b = rng.standard_normal((2 * k, 2 * n)).astype(dtype)[::2, ::2]
    out = rng.standard_normal((m, n)).astype(dtype)
    expected = a.astype(np.float64) @ b.astype(np.float64) + beta * out.astype(np.float64)
    result = gemm.accumulate(a, b, out, beta=beta)
    assert result is out
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_both_routes_agree_and_beta_zero_ignores_nan(route):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 3))
    out = np.full((7, 3), np.nan)
    gemm.accumulate(a, b, out, beta=0.0)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    gemm.accumulate(a, b, out, beta=1.0)
    np.testing.assert_allclose(out, 2 * (a @ b), rtol=1e-12)


def test_a_rows_only_output_view_is_written_in_place(route):
    rng = np.random.default_rng(1)
    grid = np.zeros((10, 4), np.float32)
    a, b = rng.standard_normal((6, 3), np.float32), rng.standard_normal((3, 4), np.float32)
    gemm.accumulate(a, b, grid[2:8], beta=0.0)
    np.testing.assert_allclose(grid[2:8], a @ b, rtol=1e-5, atol=1e-6)
    assert not grid[:2].any() and not grid[8:].any()


def test_mixed_dtypes_and_wrong_shapes_are_named():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float64)
    with pytest.raises(TypeError, match="float32.*float64"):
        gemm.accumulate(a, b, np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(3, 4\).*\(4, 2\)"):
        gemm.accumulate(a, b.astype(np.float32), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="'out' must have contiguous rows"):
        gemm.accumulate(a, b.astype(np.float32), np.ones((4, 2), np.float32).T)


def test_operands_that_are_not_matrices_are_named():
    with pytest.raises(ValueError, match=r"2-D.*\(2, 3, 1\)"):
        gemm.accumulate(np.ones((2, 3, 1)), np.ones((3, 4)), np.ones((2, 4)))
