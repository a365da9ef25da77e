"""Adam's largest variables updated as whole vectors on every core (BLAS's axpy and scal,
``primitives/blas_level1.py``): the same maths as the slices, to float rounding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.optimizers as optimizers
from npgrad.optimizers import optimizer as base
from npgrad.primitives import blas_level1, parallel
from tests.primitives.pool_jobs import share


def _steps(make, dtype, steps=3, shape=(300, 450), seed=0):
    rng = np.random.default_rng(seed)
    var = npgrad.Tensor(rng.standard_normal(shape).astype(dtype))
    opt = make()
    for _ in range(steps):
        opt.apply_gradients([(rng.standard_normal(shape).astype(dtype), var)])
    return var.data, opt.get_state()


def _adam_float64(shape=(300, 450), steps=3, seed=0, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    """Keras's Adam in float64, written out."""
    rng = np.random.default_rng(seed)
    var = rng.standard_normal(shape)
    m, v = np.zeros(shape), np.zeros(shape)
    for t in range(1, steps + 1):
        g = rng.standard_normal(shape)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        var = var - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    return var, m, v


@pytest.fixture
def whole(monkeypatch):
    """Whole-vector updates from 1,000 values on, the pool on; the BLAS calls recorded."""
    share(monkeypatch)
    monkeypatch.setattr(optimizers, "WHOLE_VECTOR_SIZE", 1000)
    monkeypatch.setattr(blas_level1, "available", lambda dtype: True)  # NumPy's maths if not
    calls = []
    for name in ("axpy", "scal"):
        original = getattr(blas_level1, name)
        monkeypatch.setattr(blas_level1, name,
                            lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    return calls


def test_adam_on_a_large_variable_goes_whole_and_matches_float64(whole):
    var, state = _steps(optimizers.Adam, np.float64)
    assert whole == ["scal", "axpy", "scal", "axpy", "axpy"] * 3  # m, v, then the step
    expected, m, v = _adam_float64()
    np.testing.assert_allclose(var, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(state["slots/0/momentum"], m, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(state["slots/0/velocity"], v, rtol=1e-12, atol=1e-15)


@settings(max_examples=10, deadline=None)
@given(rows=st.integers(40, 90), cols=st.integers(30, 70), seed=st.integers(0, 2**16))
def test_whole_and_sliced_float32_adam_agree_to_rounding(rows, cols, seed):
    calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "CHUNK_BYTES", 1024)  # slices of 256 values
        patch.setattr(optimizers, "WHOLE_VECTOR_SIZE", 10**12)
        sliced, sliced_state = _steps(optimizers.Adam, np.float32, shape=(rows, cols), seed=seed)
        share(patch)
        patch.setattr(optimizers, "WHOLE_VECTOR_SIZE", 1000)
        axpy = blas_level1.axpy
        patch.setattr(blas_level1, "axpy", lambda *a: calls.append(1) or axpy(*a))
        merged, merged_state = _steps(optimizers.Adam, np.float32, shape=(rows, cols), seed=seed)
    assert len(calls) == 3 * 3 or not blas_level1.available(np.float32)
    # float32 rounding of terms of size 0.1 (the moments' new parts) and 1 (the weights)
    np.testing.assert_allclose(merged, sliced, rtol=2e-6, atol=1e-7)
    for key in sliced_state:
        np.testing.assert_allclose(merged_state[key], sliced_state[key], rtol=2e-6, atol=1e-7)


def test_amsgrad_adamw_and_rules_of_their_own(whole):
    # AMSGrad keeps the slices (its running maximum is not a BLAS pass); AdamW goes whole
    # after its decay; a subclass with its own rule keeps it
    _steps(lambda: optimizers.Adam(amsgrad=True), np.float32)
    assert whole == []
    decayed, _ = _steps(lambda: optimizers.AdamW(weight_decay=0.5), np.float64, steps=1)
    assert whole == ["scal", "axpy", "scal", "axpy", "axpy"]
    rng = np.random.default_rng(0)
    start = rng.standard_normal((300, 450))
    g = rng.standard_normal((300, 450))
    start = start - start * 0.5 * 1e-3  # the decay, then Adam's first step
    root = np.sqrt(1 - 0.999)  # sqrt(v) = root * |g|, alpha * m = 1e-3 * root * g
    np.testing.assert_allclose(decayed, start - 1e-3 * root * g / (root * np.abs(g) + 1e-7),
                               rtol=1e-10)
    seen = []

    class Halved(optimizers.Adam):
        def _update(self, var, grad, slots, lr):
            seen.append(var.size)
            super()._update(var, grad * 0.5, slots, lr)

    whole.clear()
    _steps(Halved, np.float32, steps=1)
    assert whole == [] and sum(seen) == 300 * 450


def test_one_thread_keeps_the_slices(monkeypatch):
    monkeypatch.setattr(optimizers, "WHOLE_VECTOR_SIZE", 1000)
    monkeypatch.setattr(parallel, "threads", lambda: 1)
    calls = []
    monkeypatch.setattr(blas_level1, "axpy", lambda *a: calls.append(a))
    _steps(optimizers.Adam, np.float32, steps=1)
    assert calls == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_axpy_and_scal_match_numpy(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(50_000).astype(dtype)
    y = rng.standard_normal(50_000).astype(dtype)
    expected = y.astype(np.float64) + 0.3 * x.astype(np.float64)
    tolerance = 1e-3 if dtype == np.float16 else 1e-6
    assert blas_level1.axpy(0.3, x, y) is y
    np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance)
    assert blas_level1.scal(-2.0, y) is y
    np.testing.assert_allclose(y, -2 * expected, rtol=tolerance, atol=2 * tolerance)


def test_axpy_refuses_strided_or_mismatched_arrays():
    with pytest.raises(ValueError, match="axpy: expected C-contiguous"):
        blas_level1.axpy(1.0, np.ones(10)[::2], np.ones(5))
    with pytest.raises(ValueError, match="axpy: expected C-contiguous"):
        blas_level1.axpy(1.0, np.ones(5, np.float32), np.ones(5))
    with pytest.raises(ValueError, match="scal: the array written must be writeable"):
        frozen = np.ones(5)
        frozen.flags.writeable = False
        blas_level1.scal(2.0, frozen)
