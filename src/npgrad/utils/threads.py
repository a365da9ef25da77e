"""How many threads NumPy's BLAS (OpenBLAS) uses, settable at run time.

Example:
    >>> npgrad.utils.set_num_threads(1)   # like torch.set_num_threads(1)
    >>> npgrad.utils.get_num_threads()
    1

The GEMMs of small models at batch 32 are short, and OpenBLAS's worker threads wait for each
other on every call: on a machine whose cores are busy with other work that wait can cost
far more than the product itself (see docs/performance.md). One thread is then faster.
NumPy offers no switch for this, so this module finds the OpenBLAS library NumPy loaded
(through ``/proc/self/maps`` on Linux) and calls its ``set_num_threads`` entry point, as
threadpoolctl does. Where no OpenBLAS is found (another BLAS, another OS) the functions
report that instead of guessing; the ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``
environment variables, set before Python starts, work everywhere.

When `threadpoolctl <https://github.com/joblib/threadpoolctl>`_ is installed (the optional
extra ``npgrad[threads]``), :func:`set_num_threads` also goes through it, so every BLAS in
the process follows (SciPy's own OpenBLAS, an MKL or BLIS NumPy build), not only the one
this module finds by hand.

:func:`adapt_num_threads` picks the count from how busy the machine is: two OpenBLAS threads
on a machine whose cores other processes already use wait for each other for milliseconds
per product (the seed CNN step went from 49 to 354 ms on a busy 2-core machine; PyTorch from
75 to 649 ms), so it uses only the cores the load average leaves free, at least one. The load
average counts this process too (a second ``fit`` in a process that has been training sees
its own earlier work as load); :func:`own_load` estimates that share from the process's CPU
time, and only the rest counts as other programs' load.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from npgrad.primitives import blas_pools as _blas_pools
from npgrad.primitives import helper_process as _helper_process


def _openblas():
    """(set, get) thread-count functions of NumPy's OpenBLAS, or None when none was found.

    The setter also keeps every other OpenBLAS pool (SciPy's) at one thread: see
    ``primitives/blas_pools.py`` for why.
    """
    if not _blas_pools.pools():
        return None
    return _blas_pools.set_threads, _blas_pools.get_threads


def _threadpoolctl():
    """The threadpoolctl module when installed, else None."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


_EXPLICIT = {"set": False}  # set_num_threads was called: adapt_num_threads leaves it alone
_ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def get_num_threads():
    """Threads NumPy's OpenBLAS uses for one product (through threadpoolctl, the largest count
    of any BLAS, when no OpenBLAS is found), or None when no BLAS can be reached."""
    functions = _openblas()
    if functions is not None:
        return int(functions[1]())
    controller = _threadpoolctl()
    if controller is not None:
        counts = [d["num_threads"] for d in controller.threadpool_info() if d["user_api"] == "blas"]
        return max(counts) if counts else None
    return None


def set_num_threads(n):
    """Set the threads NumPy's OpenBLAS uses (for this process, from now on).

    Args:
        n: a positive int.

    Returns:
        The previous number of threads.

    Raises:
        ValueError: ``n`` is not a positive int.
        RuntimeError: NumPy is not using OpenBLAS here (set ``OMP_NUM_THREADS`` or the
            variable of your BLAS before starting Python instead).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _EXPLICIT["set"] = True
    return _apply(int(n))


def _apply(n):
    """Set ``n`` threads in NumPy's OpenBLAS (and every BLAS, through threadpoolctl)."""
    functions = _openblas()
    controller = _threadpoolctl()
    if controller is not None and (functions is not None or get_num_threads() is not None):
        previous = get_num_threads()
        controller.threadpool_limits(limits=n, user_api="blas")  # stays until changed
        _blas_pools.pin_secondary()  # SciPy's pool back to one thread (blas_pools.py)
        _blas_pools.warm_up()  # the new threads' work buffers (blas_pools.warm_up)
        if previous is not None:
            return previous
        return n
    if functions is None:
        raise RuntimeError(
            "set_num_threads: NumPy's BLAS is not an OpenBLAS this process can reach; set "
            "OMP_NUM_THREADS (or your BLAS's variable) before starting Python instead"
        )
    setter, getter = functions
    previous = int(getter())
    setter(int(n))  # blas_pools.set_threads: also warms new threads' buffers
    return previous


def _usable_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: what MPI launchers set to the number of processes they started on this machine (MPICH's
#: Hydra, Open MPI)
_LOCAL_PROCESSES = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")


def processes_sharing_cores():
    """How many processes of this job share this machine's cores: the number an MPI launcher
    started here (``mpiexec -n 2`` on one machine: 2), else 1. Also 1 when the launcher
    bound each process to cores of its own (the affinity mask is then smaller than the
    machine, and :func:`adapt_num_threads` counts only those cores)."""
    for name in _LOCAL_PROCESSES:
        try:
            count = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if count > 1 and _usable_cores() >= (os.cpu_count() or 1):
            return count
    return 1


_LOAD_WINDOW = 60.0  # seconds: the time constant of the kernel's one-minute load average
_OWN = {"wall": None, "cpu": 0.0, "load": 0.0}  # the last own_load estimate and when it was made


def _cpu_seconds():
    """CPU time of this process so far, every thread, user and system, and of its helper
    process (``npgrad.primitives.helper_process``: this process's work on a second core)."""
    times = os.times()
    helper = _helper_process.running()
    return times.user + times.system + (helper.cpu_seconds() if helper is not None else 0.0)


def _process_age():
    """Seconds since this process started (Linux ``/proc``), or None where unknown."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after the command name
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def own_load():
    """This process's share of the one-minute load average, estimated from its CPU time.

    The kernel's load average is an exponential moving average (time constant one minute)
    of the runnable threads; a thread that computes is runnable, so this process adds about
    the moving average of its CPU rate (CPU seconds per second, 2.0 for two busy threads).
    Each call folds the CPU time since the previous call into that average; the first call
    starts from the process's age and CPU time so far (as if spent at an even rate). Where
    the age is unknown the first estimate is 0 (the whole load then counts as other
    programs', the cautious side).

    Returns:
        A float >= 0.
    """
    now, cpu = time.monotonic(), _cpu_seconds()
    if _OWN["wall"] is None:
        age = _process_age()
        load = cpu / age * -math.expm1(-age / _LOAD_WINDOW) if age and age > 0 else 0.0
    else:
        elapsed = now - _OWN["wall"]
        if elapsed <= 0:
            return _OWN["load"]
        decay = math.exp(-elapsed / _LOAD_WINDOW)
        rate = (cpu - _OWN["cpu"]) / elapsed
        load = _OWN["load"] * decay + rate * (1 - decay)
    _OWN.update(wall=now, cpu=cpu, load=max(load, 0.0))
    return _OWN["load"]


def adapt_num_threads():
    """Use as many BLAS threads as the machine has idle cores (at least 1).

    ``cores - others``, rounded, where ``others`` is the one-minute load average (the
    runnable threads) less this process's own share (:func:`own_load`): on an idle machine
    all cores, also in a process that has been training for minutes; with one other
    CPU-bound process on a 2-core machine one thread. When an MPI launcher started several
    processes of this job on the machine (:func:`processes_sharing_cores`), each takes its
    share, ``(cores - others) / processes`` and at most ``cores // processes``, where
    ``others`` no longer counts the job's processes: ``mpiexec -n 2`` on 2 cores gives each
    one thread from the first step (two threads each made the ResNet benchmark's data-parallel
    rounds 2.3x slower, 1.32 s against 0.57 s, until the load average caught up). Does
    nothing after an explicit
    :func:`set_num_threads`, or when ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
    ``MKL_NUM_THREADS`` is set: the user's choice wins. Cheap enough to call at the start of
    every epoch (the load average changes slowly).

    Returns:
        The number of threads now in force (None when no BLAS could be reached).
    """
    _blas_pools.pin_secondary()  # SciPy's pool at one thread, whatever else is decided
    if _EXPLICIT["set"] or any(os.environ.get(v) for v in _ENVIRONMENT):
        return get_num_threads()
    if _openblas() is None and _threadpoolctl() is None:
        return None
    cores, processes = _usable_cores(), processes_sharing_cores()
    share = max(1, cores // processes)  # the most each of the job's processes here may take
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # not on this platform: only the job's own split
        return _apply_if_changed(share) if processes > 1 else get_num_threads()
    others = max(0.0, load - own_load() * processes)  # the job's processes load alike
    wanted = max(1, min(share, math.floor((cores - others) / processes + 0.5)))
    return _apply_if_changed(wanted)


def _apply_if_changed(wanted):
    if get_num_threads() != wanted:
        _apply(wanted)
    return get_num_threads()


def shared_threads(parts):
    """BLAS threads for ``parts`` threads of this process computing side by side.

    Inside, each product uses ``max(1, threads // parts)`` BLAS threads (the thread
    replicas of ``DataParallel(threads=2)`` on 2 cores: one each), and the count in force
    before comes back after (``blas_pools.capped_threads``). Does nothing where NumPy's
    OpenBLAS cannot be reached.

    Args:
        parts: the number of threads sharing the cores, >= 1.
    """
    return _blas_pools.capped_threads(max(1, (_blas_pools.get_threads() or 1) // parts))
