"""DataParallel over MPI: 2 processes train exactly as 1 process on the same global batches.

The MPI tests run ``tests/distribution/worker.py`` under ``mpiexec -n 2`` (mpi4py and the
MPICH wheel: ``pip install "npgrad[mpi]"``, which .ci/run installs) and alone, and compare.
"""

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
from npgrad.distribution import DataParallel
from npgrad.distribution.communicator import LocalCommunicator

WORKER = Path(__file__).resolve().parent / "worker.py"
SRC = Path(__file__).resolve().parents[2] / "src"


def mpiexec():
    pytest.importorskip("mpi4py", reason="mpi4py not installed: pip install 'npgrad[mpi]'")
    found = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec on PATH: pip install 'npgrad[mpi]' brings MPICH's")
    return found


def run(scenario, out, processes=None, dtype="float64", timeout=120, extra=(), env=None):
    """Run the worker alone or under mpiexec; return (returncode, output, seconds)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(WORKER), scenario, str(out), dtype]
    if processes:
        command = [mpiexec(), *extra, "-n", str(processes)] + command
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(SRC), **(env or {}))
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=environment)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def results(out):
    return {p.stem: dict(np.load(p)) for p in sorted(out.glob("result_*.npz"))}


@pytest.fixture(scope="module")
def single_and_double(tmp_path_factory):
    """The fit scenario alone and on 2 processes, float64 and float32."""
    found = {}
    for dtype in ("float64", "float32"):
        one, two = tmp_path_factory.mktemp(f"one_{dtype}"), tmp_path_factory.mktemp(f"two_{dtype}")
        code, output, _ = run("fit", one, dtype=dtype)
        assert code == 0, output
        code, output, _ = run("fit", two, processes=2, dtype=dtype)
        assert code == 0, output
        found[dtype] = (results(one), results(two), two)
    return found


def test_two_processes_end_with_the_weights_of_one_in_float64(single_and_double):
    one, two, _ = single_and_double["float64"]
    reference = one["result_0"]
    assert set(two) == {"result_0", "result_1"}
    for rank in two.values():  # every rank holds the same model, equal to one process's
        for key in reference:
            np.testing.assert_allclose(rank[key], reference[key], rtol=0, atol=1e-10,
                                       err_msg=key)


def test_logged_loss_metrics_evaluate_and_predict_are_global(single_and_double):
    one, two, _ = single_and_double["float64"]
    for key in ("h_loss", "h_accuracy", "h_val_loss", "h_val_accuracy", "evaluation"):
        np.testing.assert_allclose(two["result_1"][key], one["result_0"][key], atol=1e-12)
    assert two["result_0"]["predictions"].shape == (70, 2)  # gathered in sample order


def test_float32_two_processes_stay_close_to_one(single_and_double):
    one, two, _ = single_and_double["float32"]
    for key, value in one["result_0"].items():
        np.testing.assert_allclose(two["result_0"][key], value, rtol=1e-4, atol=1e-5, err_msg=key)


def test_only_rank_0_runs_callbacks_that_write_files(single_and_double):
    _, _, folder = single_and_double["float64"]
    assert sorted(p.name for p in folder.glob("written_by_*")) == ["written_by_0"]


def test_a_custom_train_step_is_data_parallel_too(tmp_path):
    assert run("custom_step", tmp_path / "one")[0] == 0
    code, output, _ = run("custom_step", tmp_path / "two", processes=2)
    assert code == 0, output
    reference = results(tmp_path / "one")["result_0"]
    for rank in results(tmp_path / "two").values():
        for key in reference:
            np.testing.assert_allclose(rank[key], reference[key], atol=1e-10, err_msg=key)


def test_a_loop_of_on_batch_calls_cuts_global_batches_as_fit(tmp_path):
    # each rank builds its model from another seed: without the first call's broadcast the
    # ranks would train two different models (and each would differ from one process's)
    assert run("on_batch", tmp_path / "one")[0] == 0
    code, output, _ = run("on_batch", tmp_path / "two", processes=2)
    assert code == 0, output
    reference = results(tmp_path / "one")["result_0"]
    ranks = results(tmp_path / "two")
    assert set(ranks) == {"result_0", "result_1"}
    for rank in ranks.values():
        for key in reference:  # weights, every logged loss, the evaluation, the predictions
            np.testing.assert_allclose(rank[key], reference[key], rtol=0, atol=1e-10,
                                       err_msg=key)
    assert reference["predictions"].shape == (11, 2)


def test_the_gan_trains_data_parallel_with_ranks_in_step(tmp_path):
    code, output, _ = run("gan", tmp_path, processes=2)
    assert code == 0, output
    ranks = results(tmp_path)
    for key in ranks["result_0"]:  # latent draws differ per rank; the updates do not
        np.testing.assert_array_equal(ranks["result_0"][key], ranks["result_1"][key])
    assert np.isfinite(ranks["result_0"]["h_d_loss"]).all()


def test_different_models_on_the_ranks_are_refused_at_start(tmp_path):
    code, output, _ = run("mismatch", tmp_path, processes=2, dtype="float32")
    assert code != 0
    assert "the models differ across processes: rank(s) [1]" in output


def test_a_hung_rank_ends_the_job_with_a_clear_error(tmp_path):
    code, output, seconds = run("hang", tmp_path, processes=2, env={"NPGRAD_MPI_TIMEOUT": "4"})
    assert code != 0 and seconds < 60
    assert "rank 0 of 2 waited 4 s" in output and "died, hung" in output


def test_a_dead_rank_ends_the_job(tmp_path):
    code, _, seconds = run("die", tmp_path, processes=2, env={"NPGRAD_MPI_TIMEOUT": "4"})
    assert code != 0 and seconds < 120  # mpiexec stops the others at once
    code, output, seconds = run("die", tmp_path, processes=2, extra=["-disable-auto-cleanup"],
                                env={"NPGRAD_MPI_TIMEOUT": "4"})
    assert code != 0 and seconds < 120  # left running, rank 0 times out with a message
    assert "rank 0 of 2 waited 4 s" in output


# ---------------------------------------------------------------- without MPI
class FakeRank(LocalCommunicator):
    def __init__(self, rank, size):
        self.rank, self.size = rank, size


class DoneAfter:
    """A stand-in for an MPI request that completes ``seconds`` after it was made."""

    def __init__(self, seconds):
        self.at = time.monotonic() + seconds

    def Test(self):  # mpi4py's name
        return time.monotonic() >= self.at


@pytest.mark.parametrize("seconds, sleeps", [(0.03, False), (0.2, True)])
def test_a_wait_polls_without_sleeping_before_it_leaves_the_cpu(monkeypatch, seconds, sleeps):
    # MPI moves a collective's pieces only while both ranks poll: a rank that slept 1 ms between
    # polls from the first millisecond on made a 1.4 MB allreduce take 6 ms instead of 1 ms
    module = importlib.import_module("npgrad.distribution.communicator")

    slept = []
    monkeypatch.setattr(module.time, "sleep", slept.append)
    waiting = object.__new__(module.MPICommunicator)  # no MPI needed for the wait itself
    waiting.rank, waiting.size, waiting.timeout = 0, 2, 10.0
    waiting._wait(DoneAfter(seconds), "a test")
    assert bool(slept) is sleeps
    assert all(0 < pause <= 1e-3 for pause in slept)


@given(length=st.integers(1, 50), size=st.integers(1, 6))
def test_slices_cover_the_batch_in_order_and_shares_sum_to_one(length, size):
    x = np.arange(length)
    parts, shares = [], []
    for rank in range(size):
        (local, y), share = DataParallel(communicator=FakeRank(rank, size)).shard((x, x * 2))
        np.testing.assert_array_equal(y, local * 2)
        if share:
            parts.append(local)
            assert abs(len(local) - length / size) < 1
        else:  # an empty slice gets a stand-in sample that counts for nothing
            assert length < size and len(local) == 1
        shares.append(share)
    np.testing.assert_array_equal(np.concatenate(parts), x)
    assert sum(shares) == pytest.approx(1.0)


def test_one_process_api():
    communicator = npgrad.distribution.initialize()
    assert (communicator.rank, communicator.size) == (0, 1)
    assert npgrad.distribution.list_devices() == ["cpu:0"]
    assert npgrad.distribution.process_id() == 0 and npgrad.distribution.num_processes() == 1
    strategy = DataParallel()
    npgrad.distribution.set_distribution(strategy)
    try:
        assert npgrad.distribution.distribution() is strategy
        model = npgrad.Sequential([npgrad.Input((2,)), npgrad.layers.Dense(1)])
        model.compile("sgd", "mse")
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)  # one process: plain training
    finally:
        npgrad.distribution.set_distribution(None)
    with pytest.raises(ValueError, match="num_processes=3"):
        npgrad.distribution.initialize(num_processes=3)
    with pytest.raises(ValueError, match="hostfile"):
        npgrad.distribution.initialize(job_addresses="a:1,b:1")
    with pytest.raises(TypeError, match="DataParallel"):
        npgrad.distribution.set_distribution("data")


def test_metric_states_are_found_for_every_metric_kind():
    from npgrad.distribution.data_parallel import metric_state_names

    assert metric_state_names(npgrad.metrics.Mean()) == ["total", "count"]
    assert set(metric_state_names(npgrad.metrics.SparseCategoricalAccuracy())) == {"total", "count"}
    assert metric_state_names(npgrad.metrics.Precision())


@pytest.mark.example
@pytest.mark.skipif(not os.environ.get("NPGRAD_DATA"),
                    reason="real MNIST not found: set NPGRAD_DATA to a folder holding the MNIST IDX files")
def test_the_mnist_data_parallel_example_runs_on_two_processes(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "mnist_data_parallel.py"
    command = [mpiexec(), "-n", "2", sys.executable, str(example), "--quick", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(SRC)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "processes 2" in done.stdout
    accuracy = float(done.stdout.split("test accuracy ")[-1].split()[0])
    assert accuracy > 0.5  # 2,000 images, one epoch at batch 128
    assert (tmp_path / "model.npgrad").exists()
