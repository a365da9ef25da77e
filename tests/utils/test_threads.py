"""npgrad.utils.set_num_threads / get_num_threads control NumPy's OpenBLAS at run time."""

import math

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

    for name in threads._LOCAL_PROCESSES:
        monkeypatch.delenv(name, raising=False)

    def run(cores, load, own=0.0, processes=None, machine=None):
        if processes is not None:  # what mpiexec tells the processes it started here
            monkeypatch.setenv("MPI_LOCALNRANKS", str(processes))
        monkeypatch.setattr(threads.os, "cpu_count", lambda: machine or cores)
        monkeypatch.setattr(threads, "_usable_cores", lambda: cores)
        monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(threads, "own_load", lambda: own)
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


@pytest.mark.parametrize("cores,load,own,expected", [
    (2, 1.0, 1.0, 2),   # the only load is this process's own training: every core
    (2, 2.0, 1.0, 1),   # itself plus one other CPU-bound process: one thread
    (2, 0.3, 1.0, 2),   # its own share overestimated: never below zero others
    (4, 3.0, 2.0, 3),
])
def test_adapt_does_not_count_its_own_process_as_load(auto, cores, load, own, expected):
    assert auto(cores, load, own) == expected


@pytest.mark.parametrize("cores,load,own,processes,expected", [
    (2, 0.0, 0.0, 2, 1),   # mpiexec -n 2 on 2 idle cores, before the load shows: one each
    (2, 2.0, 1.0, 2, 1),   # the two processes themselves are the load: still one each
    (8, 2.0, 1.0, 2, 4),   # ... on 8 cores: half each, the other process not counted
    (8, 4.0, 1.0, 2, 3),   # two foreign busy threads besides: 3 each
    (8, 0.0, 0.0, 3, 2),   # 3 processes on 8 cores: 2 each, never more than the share
    (2, 0.0, 0.0, 4, 1),   # more processes than cores: one each, never zero
])
def test_processes_of_one_job_on_one_machine_split_its_cores(auto, cores, load, own, processes,
                                                             expected):
    assert auto(cores, load, own, processes=processes) == expected


def test_processes_bound_to_cores_of_their_own_count_only_those(auto):
    # affinity of 2 cores out of 8: the launcher already split the machine
    assert auto(2, 0.0, processes=4, machine=8) == 2


@pytest.fixture
def clock(monkeypatch):
    """own_load with a fake wall clock, CPU clock and process age, from a fresh start."""
    from npgrad.utils import threads

    state = {"wall": 1000.0, "cpu": 0.0, "age": None}
    monkeypatch.setattr(threads.time, "monotonic", lambda: state["wall"])
    monkeypatch.setattr(threads, "_cpu_seconds", lambda: state["cpu"])
    monkeypatch.setattr(threads, "_process_age", lambda: state["age"])
    monkeypatch.setattr(threads, "_OWN", {"wall": None, "cpu": 0.0, "load": 0.0})
    return state


def test_own_load_follows_the_load_average_of_the_cpu_rate(clock):
    from npgrad.utils import threads

    clock.update(age=600.0, cpu=600.0)  # one busy thread for ten minutes: about 1
    assert threads.own_load() == pytest.approx(1 - math.exp(-10), rel=1e-9)
    clock["wall"] += 60.0  # a minute idle: decays by e
    assert threads.own_load() == pytest.approx((1 - math.exp(-10)) / math.e, rel=1e-9)
    for _ in range(60):  # then two busy threads for long: tends to 2
        clock["wall"] += 10.0
        clock["cpu"] += 20.0
        load = threads.own_load()
    assert load == pytest.approx(2.0, abs=1e-3)
    assert threads.own_load() == load  # no time passed: the same estimate


def test_own_load_starts_at_zero_without_a_process_age(clock):
    from npgrad.utils import threads

    clock["cpu"] = 50.0
    assert threads.own_load() == 0.0
    clock["wall"] += 30.0
    clock["cpu"] += 30.0  # one busy thread for 30 s
    assert threads.own_load() == pytest.approx(1 - math.exp(-0.5), rel=1e-9)


def test_own_load_reads_this_process(monkeypatch):
    from npgrad.utils import threads

    monkeypatch.setattr(threads, "_OWN", {"wall": None, "cpu": 0.0, "load": 0.0})
    age = threads._process_age()
    assert age is None or age > 0
    assert threads.own_load() >= 0.0


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


def test_evaluate_predict_and_custom_loop_steps_adapt_the_threads_too(monkeypatch):
    # a custom loop (a GAN's train_on_batch steps) on a busy machine must leave two spinning
    # BLAS threads too, without a load-average read per step: at most one per interval
    import numpy as np

    import npgrad
    from npgrad.trainers import trainer

    calls, clock = [], [1000.0]
    monkeypatch.setattr(trainer, "adapt_num_threads", lambda: calls.append(clock[0]))
    monkeypatch.setattr(trainer.time, "monotonic", lambda: clock[0])
    monkeypatch.setitem(trainer._ADAPTED, "at", None)
    model = npgrad.Sequential([npgrad.Input((2,)), npgrad.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    for _ in range(5):
        model.train_on_batch(x, y)
        model.test_on_batch(x, y)
        model.predict_on_batch(x)
    assert calls == [1000.0]  # the first step adapts; the next ones within the interval not
    clock[0] += trainer._BATCH_INTERVAL
    model.train_on_batch(x, y)
    assert calls == [1000.0, 1000.0 + trainer._BATCH_INTERVAL]
    model.evaluate(x, y, verbose=0)  # evaluate and predict adapt at their start, as fit
    model.predict(x, verbose=0)
    assert len(calls) == 4
