"""npgrad.utils.set_num_threads / get_num_threads control NumPy's OpenBLAS at run time."""

import numpy as np
import pytest

import npgrad


def test_set_then_get_round_trips_and_restores():
    before = npgrad.utils.get_num_threads()
    if before is None:  # NumPy uses another BLAS here: the setter must say so, not pretend
        with pytest.raises(RuntimeError, match="OMP_NUM_THREADS"):
            npgrad.utils.set_num_threads(1)
        return
    try:
        assert npgrad.utils.set_num_threads(1) == before
        assert npgrad.utils.get_num_threads() == 1
        a = np.random.default_rng(0).random((64, 64))
        np.testing.assert_allclose(a @ a, np.einsum("ij,jk->ik", a, a))  # still correct
    finally:
        npgrad.utils.set_num_threads(before)
    assert npgrad.utils.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="positive int"):
        npgrad.utils.set_num_threads(bad)
