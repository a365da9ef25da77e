"""Synchronized BatchNormalization over MPI: 2 processes train as 1 on the global batches.

Runs ``tests/distribution/sync_bn_worker.py`` alone and under ``mpiexec -n 2`` (skipped
without mpi4py or mpiexec: ``pip install "npgrad[mpi]"``). The global batch of 11 is cut into
slices of 5 and 6 samples, and the last batch of one sample leaves one rank a stand-in.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.distribution.test_data_parallel import mpiexec

WORKER = Path(__file__).resolve().parent / "sync_bn_worker.py"
SRC = Path(__file__).resolve().parents[2] / "src"


def train(scenario, out, processes=None, dtype="float64"):
    """Every rank's result of the worker (alone, or on ``processes`` MPI processes)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(WORKER), scenario, str(out), dtype]
    if processes:
        command = [mpiexec(), "-n", str(processes)] + command
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(SRC)))
    assert done.returncode == 0, done.stdout + done.stderr
    return [dict(np.load(p)) for p in sorted(out.glob("result_*.npz"))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    mpiexec()  # skip the module's MPI tests before any run without it
    found = {}
    for scenario in ("sync", "plain"):
        for processes in (None, 2):
            folder = tmp_path_factory.mktemp(f"{scenario}_{processes or 1}")
            found[scenario, processes or 1] = train(scenario, folder, processes)
    return found


def test_synchronized_batch_norm_on_two_processes_ends_as_one_process(runs):
    (reference,) = runs["sync", 1]
    ranks = runs["sync", 2]
    assert len(ranks) == 2
    assert any("moving_mean" in key for key in reference)
    for rank in ranks:  # weights, moving statistics, logged losses and predictions
        assert rank.keys() == reference.keys()
        for key in reference:
            np.testing.assert_allclose(rank[key], reference[key], rtol=0, atol=1e-10,
                                       err_msg=key)


def test_per_process_statistics_are_the_default_and_differ(runs):
    (reference,) = runs["plain", 1]
    for rank in runs["plain", 2]:
        moving = [key for key in reference if "moving" in key]
        assert max(np.abs(rank[key] - reference[key]).max() for key in moving) > 1e-3
    # each rank normalized its own slices: their moving statistics differ from each other too
    zero, one = runs["plain", 2]
    assert max(np.abs(zero[key] - one[key]).max() for key in zero if "moving" in key) > 1e-3


def test_without_a_distribution_the_flag_changes_nothing(runs):
    (synchronized,) = runs["sync", 1]
    (plain,) = runs["plain", 1]
    for key_sync, key_plain in zip(synchronized, plain):  # same weights in the same order
        np.testing.assert_array_equal(synchronized[key_sync], plain[key_plain])


def test_float32_two_processes_stay_close_to_one(tmp_path):
    mpiexec()
    (reference,) = train("sync", tmp_path / "one", dtype="float32")
    for rank in train("sync", tmp_path / "two", processes=2, dtype="float32"):
        for key, value in reference.items():
            np.testing.assert_allclose(rank[key], value, rtol=1e-4, atol=1e-4, err_msg=key)
