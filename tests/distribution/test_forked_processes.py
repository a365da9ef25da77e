"""DataParallel(processes=N): each fit forks N - 1 ranks, which train as one model does.

The gradient of a global batch is the sum of each slice's gradient weighted by its share,
so with float64 weights and no per-batch statistics the forked ranks must end with one
model's weights and logs, to rounding; only the calling process comes back from ``fit``, a
failure in any rank is raised in it, and no process is left behind.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
from npgrad.distribution import DataParallel, DistributionError
from npgrad.distribution import processes as forked
from tests.data_parallel_helpers import (
    assert_same_weights,
    bn_model,
    data,
    mlp,
    trained_under,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                                reason="processes= needs os.fork and a BLAS that survives it")


@pytest.fixture(autouse=True)
def no_distribution_after():
    yield
    npgrad.distribution.set_distribution(None)


def train(processes, run, build=mlp):
    """``run(model)`` under DataParallel(processes=processes) (None: no distribution)."""
    return trained_under(None if processes is None else {"processes": processes}, run, build)


def gone(pid):
    """Whether process ``pid`` has ended and been reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class PidFiles(npgrad.callbacks.Callback):
    """Every rank writes its pid at the start of training; ``fail`` raises in the named
    rank (the caller, or a fork) at the end of the second batch."""

    def __init__(self, folder, fail=None):
        super().__init__()
        self.folder, self.fail, self.caller = folder, fail, os.getpid()

    def on_train_begin(self, logs=None):
        (self.folder / str(os.getpid())).write_text("started")

    def on_train_batch_end(self, batch, logs=None):
        forked_rank = os.getpid() != self.caller
        if batch == 1 and self.fail == ("fork" if forked_rank else "caller"):
            raise ValueError(f"a callback failed in pid {os.getpid()}")


def test_two_processes_train_and_validate_as_one_model(tmp_path):
    def run(model):
        x, y = data()
        return model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2,
                         callbacks=[PidFiles(tmp_path)]).history

    one, expected = train(None, run)
    pids = {int(p.name) for p in tmp_path.iterdir()}
    two, got = train(2, run)
    forks = {int(p.name) for p in tmp_path.iterdir()} - pids
    assert len(forks) == 1 and os.getpid() not in forks  # one rank more, and it is gone
    assert all(gone(pid) for pid in forks)
    assert_same_weights(one, two)
    assert set(got) == set(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, rtol=0, atol=1e-12, err_msg=key)
    distribution = DataParallel(processes=2)
    assert distribution.num_processes == 1  # a group of one outside fit


@settings(max_examples=10, deadline=None)
@given(processes=st.integers(2, 3), n=st.integers(1, 13), batch_size=st.integers(1, 6),
       shuffle=st.booleans())
def test_any_batch_cut_and_process_count_matches_one_model(processes, n, batch_size, shuffle):
    def run(model):
        x, y = data(n, seed=n)
        return model.fit(x, y, batch_size=batch_size, epochs=2, verbose=0,
                         shuffle=shuffle).history

    one, expected = train(None, run)
    many, got = train(processes, run)
    assert_same_weights(one, many)
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, rtol=0, atol=1e-12, err_msg=key)


def test_synchronized_batch_norm_over_forked_ranks_is_batch_norm_over_the_whole_batch():
    def run(model):
        x, y = data(48)
        return model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history

    one, expected = train(None, run, lambda: bn_model(False))
    two, got = train(2, run, lambda: bn_model(True))
    assert_same_weights(one, two)  # moving statistics included: rank 0's, the whole batch's
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=0, atol=1e-12)


def test_evaluate_and_predict_fork_too_and_give_one_models_results(tmp_path):
    class Pids(npgrad.callbacks.Callback):
        def __init__(self, kind):
            super().__init__()
            self.kind = kind

        def on_test_begin(self, logs=None):
            (tmp_path / f"{self.kind}-{os.getpid()}").write_text("")

        on_predict_begin = on_test_begin

    def run(model):
        x, y = data()
        model.fit(x, y, batch_size=10, epochs=1, verbose=0)
        return (model.evaluate(x, y, batch_size=7, verbose=0, callbacks=[Pids("evaluate")]),
                model.predict(x, batch_size=9, verbose=0, callbacks=[Pids("predict")]))

    _, (loss_one, predictions_one) = train(None, run)
    _, (loss_two, predictions_two) = train(2, run)
    np.testing.assert_allclose(loss_two, loss_one, rtol=0, atol=1e-12)
    np.testing.assert_allclose(predictions_two, predictions_one, rtol=0, atol=1e-12)
    for kind in ("evaluate", "predict"):  # the caller (both runs: one file) and a fork
        pids = [int(p.name.split("-")[1]) for p in tmp_path.glob(f"{kind}-*")]
        assert os.getpid() in pids and len(pids) == 2 and all(gone(p) for p in pids
                                                              if p != os.getpid())


def test_only_the_caller_prints(capfd):
    class Hello(npgrad.callbacks.Callback):
        def on_train_begin(self, logs=None):
            print("hello from a rank")

    train(2, lambda model: model.fit(*data(), batch_size=10, epochs=1, verbose=2,
                                     callbacks=[Hello()]))
    out = capfd.readouterr().out
    assert out.count("hello from a rank") == 1
    assert out.count("5/5 - ") == 1  # one progress line


LOGGED = """
import logging, os, sys
import numpy as np
import npgrad
logging.basicConfig(level=logging.INFO, format="%(message)s")  # a handler on sys.stderr
npgrad.distribution.set_distribution(npgrad.distribution.DataParallel(processes=2))
model = npgrad.Sequential([npgrad.Input((6,)), npgrad.layers.Dense(2)])
model.compile("sgd", "mse")

class Log(npgrad.callbacks.Callback):
    def on_train_begin(self, logs=None):
        logging.info("logged from pid %d", os.getpid())
        os.write(1, b"written to descriptor 1\\n")

model.fit(np.zeros((8, 6)), np.zeros((8, 2)), batch_size=4, verbose=0, callbacks=[Log()])
print("caller", os.getpid())
"""


def test_a_logging_handler_made_before_fit_prints_from_the_caller_alone():
    """The handler keeps the stream object it was given, so swapping sys.stderr in the fork
    is not enough: the fork's descriptors 1 and 2 go to os.devnull as well. (A process of
    its own: pytest's capture writes to files of its own, not to the descriptors.)"""
    src = Path(__file__).resolve().parents[2] / "src"
    job = subprocess.run([sys.executable, "-c", LOGGED], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PYTHONPATH=str(src)))
    assert job.returncode == 0, job.stderr
    caller = job.stdout.split("caller ")[1].strip()
    assert job.stderr.count("logged from pid") == 1, job.stderr
    assert f"logged from pid {caller}" in job.stderr
    assert job.stdout.count("written to descriptor 1") == 1


def test_an_error_in_a_forked_rank_is_raised_in_the_caller_with_its_traceback(tmp_path):
    def run(model):
        return model.fit(*data(), batch_size=10, epochs=2, verbose=0,
                         callbacks=[PidFiles(tmp_path, fail="fork")])

    with pytest.raises(DistributionError, match=r"process 1 of 2 .*\n(.|\n)*ValueError: "
                                                r"a callback failed in pid"):
        train(2, run)
    assert all(gone(int(p.name)) for p in tmp_path.iterdir() if int(p.name) != os.getpid())


def test_an_error_in_the_caller_ends_every_fork(tmp_path):
    def run(model):
        return model.fit(*data(), batch_size=10, epochs=2, verbose=0,
                         callbacks=[PidFiles(tmp_path, fail="caller")])

    with pytest.raises(ValueError, match=f"a callback failed in pid {os.getpid()}"):
        train(3, run)
    forks = [int(p.name) for p in tmp_path.iterdir() if int(p.name) != os.getpid()]
    assert len(forks) == 2 and all(gone(pid) for pid in forks)


class Batches(npgrad.utils.PyDataset):
    """The data in batches of 10, built in Python (each rank iterates its own copy)."""

    def __init__(self):
        super().__init__()
        self.x, self.y = data()

    def __len__(self):
        return 5

    def __getitem__(self, index):
        return self.x[index * 10:(index + 1) * 10], self.y[index * 10:(index + 1) * 10]


@pytest.mark.parametrize("source", ["PyDataset", "generator"])
def test_a_pydataset_or_a_generator_trains_as_one_model(source):
    def run(model):
        if source == "PyDataset":
            return model.fit(Batches(), epochs=2, verbose=0).history
        batches = Batches()
        endless = (batches[i % 5] for i in range(10))
        return model.fit(endless, steps_per_epoch=5, epochs=2, verbose=0).history

    one, expected = train(None, run)
    two, got = train(2, run)
    assert_same_weights(one, two)
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=0, atol=1e-12)


def test_no_file_or_shared_memory_is_left_open():
    descriptors = sorted(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for processes in (2, 3):
        train(processes, lambda model: model.fit(*data(), batch_size=10, verbose=0))
    if descriptors is not None:
        assert sorted(os.listdir("/proc/self/fd")) == descriptors


def test_a_failed_fork_ends_the_ranks_already_started(monkeypatch):
    real_fork, started = os.fork, []

    def fork_once():
        if started:
            raise OSError("no more processes")
        pid = real_fork()
        if pid:
            started.append(pid)
        return pid

    descriptors = sorted(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    monkeypatch.setattr(os, "fork", fork_once)
    with pytest.raises(OSError, match="no more processes"):
        train(3, lambda model: model.fit(*data(), batch_size=10, verbose=0))
    assert len(started) == 1 and gone(started[0])
    if descriptors is not None:
        assert sorted(os.listdir("/proc/self/fd")) == descriptors


def test_a_fork_that_does_not_end_is_killed_after_the_time_limit(monkeypatch):
    caller = os.getpid()

    class Linger(npgrad.callbacks.Callback):
        def on_train_end(self, logs=None):
            if os.getpid() != caller:
                time.sleep(30)

    monkeypatch.setenv("NPGRAD_MPI_TIMEOUT", "0.5")
    started = time.monotonic()
    with pytest.raises(DistributionError, match=r"process 1 of 2 .* did not end within 0\.5 s "
                                                r"of process 0's end and was killed"):
        train(2, lambda model: model.fit(*data(), batch_size=10, verbose=0,
                                         callbacks=[Linger()]))
    assert time.monotonic() - started < 10


INTERRUPTED = """
import os, sys, time
import numpy as np
import npgrad
npgrad.distribution.set_distribution(npgrad.distribution.DataParallel(processes=2))
model = npgrad.Sequential([npgrad.Input((6,)), npgrad.layers.Dense(2)])
model.compile("sgd", "mse")

class Started(npgrad.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            print("started", flush=True)
        time.sleep(0.01)

model.fit(np.zeros((64, 6)), np.zeros((64, 2)), batch_size=2, epochs=1000, verbose=0,
          callbacks=[Started()])
"""


def test_ctrl_c_ends_every_process_of_the_group():
    src = Path(__file__).resolve().parents[2] / "src"
    job = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True,
                           env=dict(os.environ, PYTHONPATH=str(src)))
    try:
        assert job.stdout.readline().strip() == "started"
        os.killpg(job.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, err = job.communicate(timeout=60)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode != 0 and "KeyboardInterrupt" in err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the fork goes with its parent
        try:
            os.killpg(job.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("a process of the interrupted group is still alive")


@pytest.mark.parametrize("stopper", ["caller", "fork"])
def test_a_rank_that_stops_alone_fails_the_fit_instead_of_hanging(stopper):
    caller = os.getpid()

    class StopAlone(npgrad.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1 and (os.getpid() == caller) == (stopper == "caller"):
                self.model.stop_training = True

    def run(model):
        return model.fit(*data(), batch_size=10, epochs=1, verbose=0, callbacks=[StopAlone()])

    expected = r"(?s)process 1 of 2 .*did a callback stop training in one rank only\?"
    with pytest.raises(DistributionError, match=expected):
        train(2, run)


def test_the_model_can_fit_again_and_the_group_is_reset():
    def run(model):
        x, y = data()
        first = model.fit(x, y, batch_size=10, epochs=1, verbose=0).history["loss"]
        second = model.fit(x, y, batch_size=10, epochs=1, verbose=0).history["loss"]
        return first + second

    one, expected = train(None, run)
    two, got = train(2, run)
    assert_same_weights(one, two)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_processes_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match=f"processes must be a positive int, got {bad!r}"):
        DataParallel(processes=bad)


def test_macos_is_refused_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(NotImplementedError, match=r"processes=2 forks this process, which "
                                                  r"needs os.fork .* not darwin\); use mpiexec"):
        DataParallel(processes=2)


def test_processes_and_threads_exclude_each_other():
    with pytest.raises(ValueError, match="threads=2 and processes=2; use one or the other"):
        DataParallel(threads=2, processes=2)


# ------------------------------------------------------------------ the communicator
def in_every_rank(processes, body, timeout=None):
    """``body(group)`` in every rank of a fresh group; an assertion failing in a fork is
    raised here as DistributionError."""
    group = forked.ProcessCommunicator(processes, timeout=timeout)
    with forked.forked_ranks(group):
        body(group)


@settings(max_examples=8, deadline=None)
@given(processes=st.integers(2, 3), size=st.integers(1, 300),
       dtype=st.sampled_from(["float32", "float64", "int64"]), slot=st.sampled_from([64, 1000]))
def test_collectives_move_buffers_larger_than_a_slot(processes, size, dtype, slot):
    """Slots of 64 or 1,000 bytes: every collective goes in pieces."""
    def body(group):
        rank = group.rank
        values = np.arange(size, dtype=dtype) * (rank + 1)
        total = group.allreduce_sum(values.copy())
        np.testing.assert_array_equal(total, np.arange(size, dtype=dtype)
                                      * sum(range(1, processes + 1)))
        shared = group.broadcast(values.copy(), root=processes - 1)
        np.testing.assert_array_equal(shared, np.arange(size, dtype=dtype) * processes)
        rows = np.full((rank + size % 4, 3), rank, dtype=dtype)
        gathered = group.allgather_rows(rows)
        expected = np.concatenate([np.full((r + size % 4, 3), r, dtype=dtype)
                                   for r in range(processes)])
        np.testing.assert_array_equal(gathered, expected)
        np.testing.assert_array_equal(group.allgather_int64([rank, size]),
                                      [[r, size] for r in range(processes)])
        group.barrier()

    previous = forked.SLOT_BYTES
    forked.SLOT_BYTES = slot
    try:
        in_every_rank(processes, body)
    finally:
        forked.SLOT_BYTES = previous


def test_every_rank_adds_in_the_same_order_so_sums_agree_to_the_bit():
    def body(group):
        rng = np.random.default_rng(group.rank)
        total = group.allreduce_sum(rng.normal(size=1000).astype("float32") * 1e6)
        mine = total.view(np.int64).copy()
        np.testing.assert_array_equal(group.allgather_int64(mine[:40])[0],
                                      group.allgather_int64(mine[:40])[-1])

    in_every_rank(3, body)


def test_a_hung_rank_times_out_with_a_clear_error():
    def body(group):
        if group.rank == 1:
            time.sleep(30)
        group.barrier()

    started = time.monotonic()
    with pytest.raises(DistributionError, match=r"process 0 of 2 waited 0\.5 s for process 1 "
                                                r"in a barrier"):
        in_every_rank(2, body, timeout=0.5)
    assert time.monotonic() - started < 10


def test_a_fork_never_returns_into_the_caller():
    """After its body a fork ends (``os._exit``): the code after the block runs once."""
    def body(group):
        group.barrier()

    marker = os.getpid()
    in_every_rank(2, body)
    assert os.getpid() == marker and sys.stdout is not None
