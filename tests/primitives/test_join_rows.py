"""Concatenation along the last axis by whole rows (``primitives/shape.join_rows``): the same
array as ``np.concatenate``, and Concatenate's gradients through it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad.primitives import shape
from npgrad.primitives.shape import join_rows
from tests.primitives.pool_jobs import share

DTYPES = (np.float32, np.float64, np.float16, np.int64, np.int8, np.bool_, np.complex64)


@pytest.fixture(autouse=True)
def every_size(monkeypatch):
    """Whole rows at any size (the cutoff keeps small arrays on NumPy's path)."""
    monkeypatch.setattr(shape, "JOIN_MIN_ROWS", 0)


@settings(max_examples=60, deadline=None)
@given(lead=st.lists(st.integers(0, 4), min_size=1, max_size=3),
       widths=st.lists(st.integers(1, 9), min_size=2, max_size=4),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_join_rows_is_numpy_concatenate(lead, widths, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal((*lead, w)) * 50).astype(dtype) for w in widths]
    joined = join_rows(arrays)
    expected = np.concatenate(arrays, axis=-1)
    assert joined.dtype == expected.dtype and joined.shape == expected.shape
    assert joined.flags.c_contiguous
    np.testing.assert_array_equal(joined, expected)
    for a in arrays:  # fresh memory: nothing shared with the inputs (none when empty)
        assert not np.shares_memory(joined, a)


@pytest.mark.parametrize("arrays", [
    [np.ones((2, 3), np.float32)],  # one input: nothing to join
    [np.ones(3), np.ones(2)],  # rank 1
    [np.ones((2, 3), np.float32), np.ones((2, 3), np.float64)],  # dtypes differ
    [np.ones((2, 3)), np.ones((3, 3))],  # leading axes differ
    [np.ones((2, 0)), np.ones((2, 3))],  # an empty last axis
    [np.ones((3, 2)).T, np.ones((2, 3))],  # not C-contiguous
    [np.array([[None]], dtype=object), np.array([[1]], dtype=object)],
])
def test_join_rows_declines_what_it_cannot_copy_by_rows(arrays):
    assert join_rows(arrays) is None


def test_concatenate_through_rows_matches_numpy_values_and_gradients():
    rng = np.random.default_rng(0)
    a = npgrad.Tensor(rng.standard_normal((2, 5, 4, 16)), requires_grad=True)
    b = npgrad.Tensor(rng.standard_normal((2, 5, 4, 3)), requires_grad=True)
    out = F.concatenate([a, b], axis=-1)
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, b.data], axis=-1))
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    np.testing.assert_array_equal(a.grad, weights[..., :16])
    np.testing.assert_array_equal(b.grad, weights[..., 16:])


def test_concatenate_along_the_last_axis_goes_by_rows(monkeypatch):
    calls = []

    def spy(arrays):
        calls.append(len(arrays))
        return join_rows(arrays)

    monkeypatch.setattr(shape, "join_rows", spy)
    x = np.ones((4, 8, 8, 16), np.float32)
    F.concatenate([x, x], axis=-1)
    F.concatenate([x, x], axis=0)  # another axis: NumPy's
    assert calls == [2]


def test_small_arrays_stay_on_numpys_path(monkeypatch):
    monkeypatch.setattr(shape, "JOIN_MIN_ROWS", 2048)
    small = [np.ones((2047, 3), np.float32), np.ones((2047, 2), np.float32)]
    assert join_rows(small) is None
    large = [np.ones((2048, 3), np.float32), np.ones((2048, 2), np.float32)]
    np.testing.assert_array_equal(join_rows(large), np.concatenate(large, axis=-1))


def test_concatenate_mismatched_shapes_still_names_the_op():
    with pytest.raises(ValueError, match="concatenate"):
        F.concatenate([np.ones((2, 3)), np.ones((3, 3))], axis=-1)


def test_blocks_of_rows_shared_between_threads_give_numpys_array(monkeypatch):
    jobs = share(monkeypatch)  # many blocks, even for small rows
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((5, 7, 11, w)).astype(np.float32) for w in (3, 16, 1)]
    np.testing.assert_array_equal(join_rows(arrays), np.concatenate(arrays, axis=-1))
    assert jobs and jobs[0] > 1  # the rows went out in several blocks
