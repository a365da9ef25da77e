"""SciPy's OpenBLAS pool runs at one thread whatever NumPy's runs at, the code that asks for
one thread (the recurrent loops) gets it and gives it back, and every thread count npgrad
runs at has its work buffers warmed once (primitives/blas_pools.py)."""

import contextlib
import inspect
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from scipy.linalg import blas  # noqa: F401 - loads SciPy's OpenBLAS

import npgrad
from npgrad.primitives import blas_pools, gemm


def test_numpy_pool_gets_the_threads_and_the_others_one():
    found = blas_pools.pools()
    if not found:
        pytest.skip("no OpenBLAS reachable in this process (another BLAS or OS)")
    previous = npgrad.utils.get_num_threads()
    try:
        npgrad.utils.set_num_threads(2)
        assert blas_pools.get_threads() == 2
        assert all(getter() == 1 for _, getter in found[1:])
        found[-1][0](2)  # somebody raises SciPy's pool again...
        npgrad.utils.adapt_num_threads()  # ...the next adaptation (every epoch) pins it back
        assert all(getter() == 1 for _, getter in found[1:])
    finally:
        npgrad.utils.set_num_threads(previous)


def test_the_scipy_fallback_pins_the_scipy_pool_before_its_first_gemm(monkeypatch):
    # where NumPy's BLAS has no reachable cblas GEMM, the narrow convolution's accumulating
    # GEMMs go to SciPy's OpenBLAS (primitives/gemm.py): its pool is pinned first, once
    calls = []
    monkeypatch.setattr(gemm, "_cblas_gemm", lambda dtype: None)
    monkeypatch.setitem(blas_pools._PINNED, "done", False)
    monkeypatch.setattr(blas_pools, "pin_secondary", lambda: calls.append(1)
                        or blas_pools._PINNED.__setitem__("done", True))
    x, kernel = np.ones((1, 5, 5, 8), np.float32), np.ones((1, 3, 8, 8), np.float32)
    npgrad.functional.conv2d(x, kernel, padding="same")
    npgrad.functional.conv2d(x, kernel, padding="same")
    assert calls == [1]


def test_one_thread_runs_numpys_pool_at_one_thread_and_gives_the_threads_back():
    if not blas_pools.pools():
        pytest.skip("no OpenBLAS reachable in this process (another BLAS or OS)")
    previous = npgrad.utils.get_num_threads()
    try:
        npgrad.utils.set_num_threads(2)
        with pytest.raises(RuntimeError), blas_pools.one_thread():
            assert blas_pools.get_threads() == 1
            raise RuntimeError("the count comes back on errors too")
        assert blas_pools.get_threads() == 2
    finally:
        npgrad.utils.set_num_threads(previous)


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_loops_run_their_step_products_at_one_thread(monkeypatch, layer):
    # a step's small product is read at once by the step's element-wise calls: its loop
    # runs with NumPy's pool at one thread (forward and backward), and gives it back after
    previous = npgrad.utils.get_num_threads()
    if previous is None:
        pytest.skip("no OpenBLAS thread control here")
    seen = []
    original = blas_pools.one_thread

    @contextlib.contextmanager
    def spy():
        with original():
            seen.append(blas_pools.get_threads())
            yield

    monkeypatch.setattr(blas_pools, "one_thread", spy)
    rng = np.random.default_rng(0)
    x = npgrad.Tensor(rng.standard_normal((3, 5, 4)).astype(np.float32), requires_grad=True)
    cell = getattr(npgrad.layers, layer)(6)
    try:
        npgrad.utils.set_num_threads(2)
        cell(x).sum().backward()
        assert npgrad.utils.get_num_threads() == 2
    finally:
        npgrad.utils.set_num_threads(previous)
    assert seen == [1, 1] and x.grad is not None


def test_warm_up_runs_once_per_thread_count_and_again_when_it_grows(monkeypatch):
    counts = iter([1, 1, 2, 1, 2, 3])
    monkeypatch.setattr(blas_pools, "get_threads", lambda: next(counts))
    monkeypatch.setattr(blas_pools, "_WARMED", {"threads": 0})
    monkeypatch.setattr(blas_pools, "WARM_UP_SIDE", 8)
    assert [blas_pools.warm_up() for _ in range(6)] == [True, False, True, False, False, True]


def test_raising_the_thread_count_warms_the_new_threads_buffers(monkeypatch):
    if not blas_pools.pools():
        pytest.skip("no OpenBLAS reachable in this process (another BLAS or OS)")
    previous = npgrad.utils.get_num_threads()
    monkeypatch.setattr(blas_pools, "_WARMED", {"threads": 1})
    try:
        npgrad.utils.set_num_threads(1)
        assert blas_pools._WARMED["threads"] == 1
        npgrad.utils.set_num_threads(2)
        assert blas_pools._WARMED["threads"] == 2
    finally:
        npgrad.utils.set_num_threads(previous)


def test_importing_npgrad_warms_the_pool_at_its_thread_count():
    code = ("import npgrad\nfrom npgrad.primitives import blas_pools\n"
            "print(blas_pools._WARMED['threads'], blas_pools.get_threads())")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    if out[1] == "None":
        pytest.skip("no OpenBLAS reachable in this process (another BLAS or OS)")
    assert out == ["1", "1"]


def _threads_of_this_process():
    return len(os.listdir("/proc/self/task"))


def _others_cpu_ticks():
    """CPU ticks of this process's threads other than the main one (OpenBLAS's workers)."""
    ticks = 0
    for task in os.listdir("/proc/self/task"):
        if int(task) != os.getpid():
            with open(f"/proc/self/task/{task}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_without_spinning_ends_the_workers_when_they_would_busy_wait(monkeypatch):
    if not blas_pools.pools() or not blas_pools.stop_workers():
        pytest.skip("no OpenBLAS whose workers can be stopped in this process")
    monkeypatch.setitem(blas_pools._QUIET, "done", False)  # as when the user set the timeout
    previous = npgrad.utils.get_num_threads()
    square = np.ones((512, 512), dtype=np.float32)
    try:
        npgrad.utils.set_num_threads(2)
        square @ square  # the workers run, then busy-wait
        running = _threads_of_this_process()
        with blas_pools.without_spinning(1):
            assert blas_pools.get_threads() == 1
            assert _threads_of_this_process() == running - 1  # the worker ended
            square @ square
        assert blas_pools.get_threads() == 2  # the count is given back...
        assert _threads_of_this_process() == running - 1  # ...and no worker started by it
        _assert_no_other_thread_busy()
        square @ square  # the next two-thread product starts the worker again
        assert _threads_of_this_process() == running
    finally:
        npgrad.utils.set_num_threads(previous)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_without_spinning_leaves_quiet_workers_asleep():
    if not blas_pools.pools() or not blas_pools._QUIET["done"]:
        pytest.skip("the BLAS workers of this process were not told to sleep at once")
    previous = npgrad.utils.get_num_threads()
    square = np.ones((512, 512), dtype=np.float32)
    try:
        npgrad.utils.set_num_threads(2)
        square @ square  # the workers run, then sleep
        running = _threads_of_this_process()
        with blas_pools.without_spinning(1):
            assert blas_pools.get_threads() == 1
            square @ square
            assert _threads_of_this_process() == running  # no worker ended (0.2 ms a block)
        assert blas_pools.get_threads() == 2
        assert _threads_of_this_process() == running
        _assert_no_other_thread_busy()  # ...and none of them spins
    finally:
        npgrad.utils.set_num_threads(previous)


def _assert_no_other_thread_busy():
    before = _others_cpu_ticks()  # 0.1 s without products: no other thread may spin
    deadline = time.perf_counter() + 0.1
    while time.perf_counter() < deadline:
        pass
    assert _others_cpu_ticks() - before <= 2


_SPIN_PROBE = """
import os, time
import numpy as np
import npgrad
from npgrad.primitives import blas_pools
npgrad.utils.set_num_threads(2)
square = np.ones((512, 512), dtype=np.float32)
square @ square  # the workers run, then wait for the next product
""" + inspect.getsource(_others_cpu_ticks) + """
before = _others_cpu_ticks()
deadline = time.perf_counter() + 0.1
while time.perf_counter() < deadline:
    pass
print(_others_cpu_ticks() - before, "OPENBLAS_THREAD_TIMEOUT" in os.environ)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_import_has_the_blas_workers_sleep_between_products_unless_the_user_said_otherwise():
    if not blas_pools.pools() or not hasattr(blas_pools.numpy_library(), "openblas_read_env"):
        pytest.skip("no OpenBLAS that reads its environment again in this process")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    src = os.path.join(os.path.dirname(npgrad.__file__), os.pardir)
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])

    def probe(extra):
        done = subprocess.run([sys.executable, "-c", _SPIN_PROBE], env={**env, **extra},
                              capture_output=True, text=True, timeout=120, check=True)
        ticks, leaked = done.stdout.split()
        return int(ticks), leaked == "True"

    quiet, leaked = probe({})
    assert quiet <= 2 and not leaked  # asleep at once, and the variable not left behind
    spinning, _ = probe({"OPENBLAS_THREAD_TIMEOUT": "28"})  # the user's own setting wins
    assert spinning >= 5  # 0.1 s of busy-waiting is about 10 ticks
