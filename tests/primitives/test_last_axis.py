"""Reductions along the last axis (primitives/last_axis.py): the transposed-block maximum and
the GEMV sum give NumPy's values (the maximum exactly, the sum to rounding) at every row
length on both sides of the short-row bound, for float32 and float64, with NaN and
infinities, empty leading axes, non-contiguous inputs, and other dtypes passed through to
NumPy; and the ops that use them (softmax, log-softmax, the softmax cross-entropies, sum /
mean / max over the last axis) keep their values on short class axes, the per-pixel case
they are for. The fast paths start at MIN_ROWS rows; the module lowers it to 1 so that the
small arrays here take them too."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
import npgrad.functional as F
from npgrad.primitives import last_axis

_FLOATS = st.sampled_from([np.float32, np.float64])


@pytest.fixture(autouse=True, scope="module")
def fast_paths_at_every_row_count():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(last_axis, "MIN_ROWS", 1)
        yield


def _shapes(max_length):
    lead = st.lists(st.integers(0, 9), min_size=0, max_size=2)
    return st.tuples(lead, st.integers(1, max_length)).map(lambda p: (*p[0], p[1]))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=_FLOATS)
def test_amax_is_numpys_maximum_exactly(data, dtype):
    shape = data.draw(_shapes(2 * last_axis.SHORT))
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(width=32)))
    got = last_axis.amax(x)
    assert got.shape == shape[:-1] + (1,) and got.dtype == x.dtype
    np.testing.assert_array_equal(got, x.max(axis=-1, keepdims=True))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=_FLOATS)
def test_total_is_the_sum_to_rounding(data, dtype):
    shape = data.draw(_shapes(300))
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-1e3, 1e3, width=32)))
    got = last_axis.total(x)
    assert got.shape == shape[:-1] + (1,) and got.dtype == x.dtype
    exact = x.astype(np.float64).sum(axis=-1, keepdims=True)
    scale = np.abs(x).astype(np.float64).sum(axis=-1, keepdims=True)
    # the bound of a sum of L terms in any order: (L - 1) * eps * sum(|x|)
    bound = shape[-1] * np.finfo(dtype).eps * scale + np.finfo(dtype).tiny
    assert np.all(np.abs(got - exact) <= bound)


def test_blocks_cover_every_row_of_a_large_array():
    # more rows than one transposed block holds, and a last partial block
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3 * (1 << 15) // 5 + 7, 5)).astype(np.float32)
    np.testing.assert_array_equal(last_axis.amax(x), x.max(axis=-1, keepdims=True))


def test_special_values_and_other_dtypes_follow_numpy():
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, -np.inf, -np.inf], [np.inf, 1.0, -np.inf]],
                 dtype=np.float32)
    np.testing.assert_array_equal(last_axis.amax(x), [[np.nan], [-np.inf], [np.inf]])
    with np.errstate(invalid="ignore"):  # inf - inf, as NumPy's sum
        np.testing.assert_array_equal(last_axis.total(x), [[np.nan], [-np.inf], [np.nan]])
    ints = np.arange(12).reshape(4, 3)
    assert last_axis.total(ints).dtype == ints.sum(axis=-1).dtype
    np.testing.assert_array_equal(last_axis.total(ints), ints.sum(axis=-1, keepdims=True))
    np.testing.assert_array_equal(last_axis.amax(ints), ints.max(axis=-1, keepdims=True))
    half = np.ones((5, 3), np.float16)
    np.testing.assert_array_equal(last_axis.total(half), half.sum(axis=-1, keepdims=True))


def test_non_contiguous_inputs_and_other_axes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 7, 10))
    view = x[:, ::2, 1::3]  # (6, 4, 3), strided
    np.testing.assert_array_equal(last_axis.amax(view), view.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(last_axis.total(view), view.sum(axis=-1, keepdims=True),
                               rtol=1e-14)
    for axis in (0, 1, -2):
        np.testing.assert_array_equal(last_axis.axis_max(x, axis), x.max(axis, keepdims=True))
        np.testing.assert_allclose(last_axis.axis_sum(x, axis), x.sum(axis, keepdims=True),
                                   rtol=1e-14)
    with pytest.raises(ValueError):  # an empty axis has no maximum, as in NumPy
        last_axis.amax(np.ones((3, 0)))
    assert last_axis.total(np.ones((3, 0))).shape == (3, 1)


@pytest.mark.parametrize("classes", [1, 3, 21, 200])
def test_ops_on_per_pixel_classes_match_the_reference_formulas(classes):
    rng = np.random.default_rng(classes)
    z = rng.standard_normal((2, 9, 11, classes)) * 4
    labels = rng.integers(0, classes, (2, 9, 11))
    shifted = z - z.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    probs = np.exp(log_probs)
    np.testing.assert_allclose(F.softmax(z).data, probs, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(F.log_softmax(z).data, log_probs, rtol=1e-13, atol=1e-13)
    picked = np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
    loss = F.sparse_categorical_crossentropy(labels, npgrad.Tensor(z), from_logits=True)
    np.testing.assert_allclose(loss.data, -picked, rtol=1e-12, atol=1e-13)
    onehot = np.eye(classes)[labels]
    loss = F.categorical_crossentropy(onehot, npgrad.Tensor(z), from_logits=True)
    np.testing.assert_allclose(loss.data, -picked, rtol=1e-12, atol=1e-13)
    t = npgrad.Tensor(z, requires_grad=True)
    (F.sum(t, axis=-1) + F.mean(t, axis=-1) + F.max(t, axis=-1)).sum().backward()
    expected = 1 + 1 / classes + (z == z.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(t.grad, expected, rtol=1e-14)
    np.testing.assert_allclose(F.mean(z, axis=-1, keepdims=True).data,
                               z.mean(axis=-1, keepdims=True), rtol=1e-13, atol=1e-15)


def test_sparse_cross_entropy_gradient_on_a_transposed_class_axis():
    # logits whose class axis was moved last (a non-contiguous view), per-pixel weights
    rng = np.random.default_rng(2)
    z = np.moveaxis(rng.standard_normal((2, 4, 5, 6)), 1, -1)
    labels = rng.integers(0, 4, (2, 5, 6))
    weights = rng.random((2, 5, 6))
    t = npgrad.Tensor(z, requires_grad=True)
    (F.sparse_categorical_crossentropy(labels, t, from_logits=True) * weights).sum().backward()
    probs = np.exp(z - z.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(t.grad, (probs - np.eye(4)[labels]) * weights[..., None],
                               rtol=1e-12, atol=1e-15)


def test_small_arrays_keep_numpys_reductions(monkeypatch):
    monkeypatch.setattr(last_axis, "MIN_ROWS", 128)
    x = np.random.default_rng(4).standard_normal((127, 3)).astype(np.float32)
    np.testing.assert_array_equal(last_axis.total(x), x.sum(axis=-1, keepdims=True))
    np.testing.assert_array_equal(last_axis.amax(x), x.max(axis=-1, keepdims=True))


def test_a_float16_mean_keeps_numpys_float32_accumulation():
    x = (np.random.default_rng(3).random((4, 3000)) * 10).astype(np.float16)
    got = F.mean(x, axis=-1).data
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, x.mean(axis=-1))


def _shifted_softmax(x):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), dtype=_FLOATS, centre=st.sampled_from([0.0, 60.0, 70.0, -60.0, -150.0]))
def test_softmax_matches_the_shifted_formula_on_either_side_of_its_bounds(data, dtype, centre):
    # values around 0 take the unshifted formula; above UNSHIFTED_MAX (70) and rows whose
    # exponentials underflow (-60: some rows, -150: all) take the shifted one
    shape = data.draw(_shapes(80))
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-30, 30, width=32))) + centre
    got = last_axis.softmax(x)
    assert got.shape == x.shape and got.dtype == x.dtype
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, _shifted_softmax(x), rtol=tol, atol=1e-30)
    inplace = x.copy()
    last_axis.softmax(inplace, out=inplace, refill=lambda: np.copyto(inplace, x))
    np.testing.assert_allclose(inplace, got, rtol=tol, atol=1e-30)


def test_softmax_leaves_the_maxima_out_only_where_they_change_nothing(monkeypatch):
    calls, refills = [], []
    monkeypatch.setattr(last_axis, "amax", lambda x, f=last_axis.amax: calls.append(1) or f(x))
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 64)).astype(np.float32) * 8
    np.testing.assert_allclose(last_axis.softmax(x), _shifted_softmax(x), rtol=1e-5, atol=1e-30)
    assert calls == []  # the unshifted formula
    x[7] = np.float32(65.0)  # one value above the bound: the shifted one
    np.testing.assert_allclose(last_axis.softmax(x), _shifted_softmax(x), rtol=1e-5, atol=1e-30)
    assert calls == [1]
    x[7] = -200.0 + np.arange(64, dtype=np.float32)  # exp underflows in this row alone
    y = x.copy()
    last_axis.softmax(y, out=y, refill=lambda: refills.append(1) or np.copyto(y, x))
    assert refills == [1] and calls == [1, 1]
    np.testing.assert_allclose(y, _shifted_softmax(x), rtol=1e-5, atol=1e-30)
    assert y[7, -1] > 0.6  # the row's weights, not zeros or NaN
    x[3, 5] = np.nan  # NaN stays in its row, as the shifted formula gives it
    got = last_axis.softmax(x)
    assert np.isnan(got[3]).all() and np.isfinite(np.delete(got, 3, axis=0)).all()
    # in place without a refill: the shifted formula at once (nothing to refill from)
    z = rng.standard_normal((300, 64)).astype(np.float32)
    expected = _shifted_softmax(z)
    last_axis.softmax(z, out=z)
    assert calls == [1, 1, 1, 1]
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-30)
