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


@pytest.fixture
def auto(monkeypatch):
    """adapt_num_threads with a chosen core count and load, no explicit choice, no env vars."""
    from npgrad.utils import threads

    if threads.get_num_threads() is None:
        pytest.skip("no BLAS reachable here")
    before = threads.get_num_threads()
    monkeypatch.setitem(threads._EXPLICIT, "set", False)
    for name in threads._ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)

    def run(cores, load):
        monkeypatch.setattr(threads, "_usable_cores", lambda: cores)
        monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
        return threads.adapt_num_threads()

    yield run
    threads._apply(before)


@pytest.mark.parametrize("cores,load,expected", [
    (2, 0.1, 2),   # idle: every core
    (2, 1.0, 1),   # one other CPU-bound process: one thread
    (2, 9.0, 1),   # a crowded machine: one thread, never zero
    (4, 1.2, 3),
])
def test_adapt_uses_the_idle_cores(auto, cores, load, expected):
    assert auto(cores, load) == expected


def test_adapt_leaves_an_explicit_choice_alone(auto, monkeypatch):
    npgrad.utils.set_num_threads(1)
    assert auto(2, 0.0) == 1
    from npgrad.utils import threads

    monkeypatch.setitem(threads._EXPLICIT, "set", False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert auto(2, 0.0) == 1


def test_fit_adapts_the_threads_at_its_start(monkeypatch):
    import numpy as np

    import npgrad

    calls = []
    monkeypatch.setattr("npgrad.trainers.trainer.adapt_num_threads", lambda: calls.append(1))
    model = npgrad.Sequential([npgrad.Input((2,)), npgrad.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0)
    assert calls == [1]
