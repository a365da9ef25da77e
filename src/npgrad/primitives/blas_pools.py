"""The OpenBLAS thread pools of this process: NumPy's, and SciPy's own copy.

NumPy and SciPy each ship an OpenBLAS, and each keeps its own pool of worker threads that
busy-wait for a while after every product. npgrad's GEMMs go to NumPy's: through NumPy, or
through ctypes for the accumulating GEMM (``gemm.py``, which finds NumPy's library with
:func:`numpy_library`). SciPy's serves that GEMM only where NumPy's cannot be reached. Two
pools of two spinning threads on a 2-core machine fight: the ResNet workload took 500-580
ms per step at 2 threads against 205-220 ms with SciPy's pool at one thread and NumPy's at
two, when the narrow convolutions still ran on SciPy's. So npgrad gives NumPy's pool the
threads it is asked for and runs every other OpenBLAS pool on the calling thread alone
(:func:`pin_secondary`). NumPy's pool has its work buffers written once per thread count by
one large product (:func:`warm_up`): on a VM, small products ran up to 3.4x slower before.

The pools are found as threadpoolctl finds them: the OpenBLAS libraries in
``/proc/self/maps`` (Linux; elsewhere through threadpoolctl when it is installed), called
through ctypes. Where none is found nothing is changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os

import numpy as np

_PREFIXES = ("openblas", "scipy_openblas")
_SUFFIXES = ("", "64_", "_64")
_PINNED = {"done": False}
_WARMED = {"threads": 0}
_QUIET = {"done": False}  # quiet_workers set the short timeout
# the warm-up product's side (warm_up): 384 was the smallest square one that ended the slow
# state at one thread on the machine its text describes; 512 leaves a margin (for two
# threads, each of which computes half of it)
WARM_UP_SIDE = 512


@functools.lru_cache(maxsize=1)
def _libraries():
    """[(path, ctypes handle)] of every OpenBLAS loaded, NumPy's first."""
    np.dot(np.ones(2), np.ones(2))  # make sure NumPy's BLAS is loaded
    found = []
    for path in sorted(_library_paths(), key=lambda path: "numpy" not in path):
        try:
            found.append((path, ctypes.CDLL(path)))
        except OSError:
            continue
    return found


@functools.lru_cache(maxsize=1)
def pools():
    """[(set, get)] thread-count functions of every OpenBLAS loaded, NumPy's first ([] if none)."""
    found = []
    for _, lib in _libraries():
        for prefix, suffix in ((p, s) for p in _PREFIXES for s in _SUFFIXES):
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.restype, getter.restype = None, ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                found.append((setter, getter))
                break
    return found


def numpy_library():
    """The ctypes handle of the OpenBLAS NumPy loaded (``gemm.py`` calls its GEMM), or None."""
    numpy_ones = [lib for path, lib in _libraries() if "numpy" in path]
    return numpy_ones[0] if len(numpy_ones) == 1 else None  # none, or no telling which


def _library_paths():
    """Paths of the OpenBLAS libraries loaded: from ``/proc/self/maps`` (Linux), else from
    threadpoolctl when it is installed (macOS, Windows), else none."""
    try:
        with open("/proc/self/maps") as maps:
            return {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        pass
    try:
        import threadpoolctl
    except ImportError:
        return set()
    return {info["filepath"] for info in threadpoolctl.threadpool_info()
            if info.get("internal_api") == "openblas"}


def warm_up():
    """Run one float32 product big enough to write every page of OpenBLAS's work buffers
    that its kernels read ahead into, once per thread count (again when the count grows).

    Measured on a 2-core AMD EPYC (Zen 1) KVM guest, one thread: a (256, 5120) @ (5120, 65)
    product (an LSTM's kernel gradient) took 14.0 ms in a fresh process and 5.2 ms after
    one (512, 512) @ (512, 512) product, for the rest of the process; products of other
    shapes a small model runs took 1.4-3.4x as long before (a (576, 4096) @ (4096, 64)
    kernel gradient 24.7 against 9.1 ms). Products of such shapes never end the slow state
    themselves, however often they run: only one with both output sides of about 384 or
    more does, which a small model may never run. OpenBLAS maps a 32 MiB work buffer per
    thread and packs each product's blocks into its start; the small products had left 100
    KiB of it resident, the warm-up 768 KiB. What we believe happens: the kernels' prefetches
    reach into pages of the buffer nothing has written yet, and each such prefetch costs a
    page-table walk that finds nothing, expensive under a hypervisor's nested paging, and
    repeated on every call since those pages stay unwritten. The warm-up costs about 10 ms
    and runs at the pool's thread count, which writes each worker's buffer too; ``import
    npgrad`` runs it, and so does every change of the count that goes above the counts run
    so far.

    Returns:
        True when it ran the product, False when this thread count was already warmed.
    """
    threads = get_threads() or 1
    if threads <= _WARMED["threads"]:
        return False
    _WARMED["threads"] = threads
    square = np.ones((WARM_UP_SIDE, WARM_UP_SIDE), dtype=np.float32)
    np.matmul(square, square)
    return True


def get_threads():
    """Threads of NumPy's OpenBLAS pool, or None when none was found."""
    found = pools()
    return int(found[0][1]()) if found else None


def set_threads(n):
    """``n`` threads for NumPy's pool, one for every other OpenBLAS pool."""
    found = pools()
    if found:
        found[0][0](int(n))
    pin_secondary()
    warm_up()


@contextlib.contextmanager
def capped_threads(limit):
    """At most ``limit`` threads for NumPy's pool inside the block, then its threads back.

    Switching the count costs about a microsecond. The count is the process's: every
    thread's products inside the block use it.
    """
    previous = get_threads() or 1
    capped = previous > limit
    if capped:
        pools()[0][0](limit)
    try:
        yield
    finally:
        if capped:
            pools()[0][0](previous)


def one_thread():
    """Run NumPy's pool at one thread inside the block (:func:`capped_threads`), then give
    its threads back.

    For products too small to gain from a second thread: a recurrent op's step products
    (``recurrent_common.step_loop``), whose output the step's element-wise calls read at
    once. Not for code that other threads run BLAS beside: the count is the process's.
    """
    return capped_threads(1)


def stop_workers():
    """End the worker threads of NumPy's pool now; its next product on more than one thread
    starts them again (about 0.3 ms). Returns whether there was a way to.

    OpenBLAS ends its workers this way around every ``fork`` (``blas_thread_shutdown_``);
    the thread count set stays.
    """
    found = _libraries()
    shutdown = getattr(found[0][1], "blas_thread_shutdown_", None) if found else None
    if shutdown is None:
        return False
    shutdown()
    return True


@contextlib.contextmanager
def without_spinning(limit):
    """At most ``limit`` threads for NumPy's pool inside the block (as
    :func:`capped_threads`), and at one thread no worker busy-waiting on another core.

    After a product on two threads, and after every change of the thread count (which starts
    the workers), OpenBLAS's workers busy-wait for about 0.13 s of CPU time unless
    :func:`quiet_workers` shortened that. A helper process computing meanwhile
    (``batch_halves``) has to share its core with them: an LSTM after a two-thread Dense
    took 128 ms a step split in halves, 99 ms whole, 87 ms split with the workers told to
    sleep at once (``OPENBLAS_THREAD_TIMEOUT=4``). Where :func:`quiet_workers` could not
    set that (the user set the variable, or OpenBLAS cannot read it again), the workers are
    ended at one thread on the way in, and again on the way out, after the count is given
    back. Where it did, they are left asleep: ending them and starting them again costs
    about 0.22 ms a block (a thread joined, one started and joined), and on a 2-core Xeon
    the Embedding + LSTM workload's step took 0.943 of its time with them left asleep
    (0.912-0.961, 6 alternated process pairs; the GRU's 0.960).
    """
    stopping = limit == 1 and not _QUIET["done"]
    given_back = stopping and (get_threads() or 1) > 1
    try:
        with capped_threads(limit):
            if stopping:
                stop_workers()
            yield
    finally:
        if given_back:
            stop_workers()


#: OPENBLAS_THREAD_TIMEOUT that :func:`quiet_workers` sets: 2**4 cycles of busy-waiting
#: (OpenBLAS's least; its default, 2**28, is about 0.1 s)
QUIET_TIMEOUT = "4"


def quiet_workers():
    """Have NumPy's OpenBLAS workers sleep as soon as a product ends instead of busy-waiting
    for the next one (about 0.13 s of CPU time after every product on several threads).

    npgrad's own threads need that core between products: its element-wise passes
    (:mod:`parallel`) and the recurrent ops' helper process (``batch_halves``). OpenBLAS
    reads ``OPENBLAS_THREAD_TIMEOUT`` when it loads, long before npgrad does, and again
    when it starts its workers: this sets the variable, has OpenBLAS read its environment
    again (``openblas_read_env``), ends the workers (the next product starts them with the
    new timeout) and takes the variable back out of the environment (child processes get
    the user's). Waking the sleeping workers costs each product a few microseconds: the
    ResNet workload's step moved within noise (0.88-0.99 s against 0.90-1.03 s a round of
    four steps, two threads, alternated), its CPU time went from 1.76 to 1.37 s.

    Does nothing where the user set ``OPENBLAS_THREAD_TIMEOUT`` or the function is missing.

    Returns:
        Whether the timeout was changed.
    """
    found = _libraries()
    lib = found[0][1] if found else None
    read_env = getattr(lib, "openblas_read_env", None)
    if read_env is None or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = QUIET_TIMEOUT
    try:
        read_env()
    finally:
        del os.environ["OPENBLAS_THREAD_TIMEOUT"]
    stop_workers()
    _QUIET["done"] = True
    return True


def pin_secondary():
    """Run every OpenBLAS pool but NumPy's on the calling thread (see the module text)."""
    for setter, getter in pools()[1:]:
        if getter() != 1:
            setter(1)
    _PINNED["done"] = True


def pin_secondary_once():
    """:func:`pin_secondary` the first time only: what an op calls before using SciPy's BLAS."""
    if not _PINNED["done"]:
        pin_secondary()
