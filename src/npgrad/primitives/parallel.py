"""Element-wise passes on every core: a small pool of threads that shares one op's blocks.

NumPy runs a product on every thread of its BLAS pool, but an element-wise pass (a batch
norm, a ReLU, a padding copy, im2col) on the calling thread alone: with two threads one
process of npgrad left the second core idle for most of a convolutional net's step.
NumPy lets go of Python's lock (the GIL) inside every ufunc loop over more than a few
hundred values and every copy, so threads can share a pass over a large array: cut its
leading axis into blocks, and each thread runs the same NumPy calls on its own blocks.

:func:`map_blocks` does that with as many threads as NumPy's BLAS pool has (so the
thread count :func:`npgrad.utils.set_num_threads` sets, or ``adapt_num_threads`` picks on a
busy machine, rules both), the calling thread taking blocks too. Its workers sleep between
calls, on a queue, so they leave the cores to BLAS. BLAS's own workers do not sleep: after
every product OpenBLAS's threads busy-wait for about 0.13 s of CPU time on the other core,
where this pool's worker would then get half of its time. A (64, 32, 32, 16) batch norm
pass + ReLU after a product, two threads, 2-core AMD EPYC (Zen 1): 3.3 ms on one thread,
3.3 ms split with OpenBLAS's default, 1.9 ms split once its workers go to sleep at once
(:func:`npgrad.primitives.blas_pools.quiet_workers`, which ``import npgrad`` runs).

Rules: one block per call (the caller's own code path, the same values bit for bit) at
one thread, for arrays under :data:`MIN_BLOCK_BYTES` a block (1 MiB: a copy or a ReLU of
2 MB or less runs faster on one thread than split, 0.09 against 0.19 ms for 1 MB on the
EPYC above; 256 KiB, :data:`COMPUTE_BLOCK_BYTES`, for the passes that compute more per
byte), inside a block already
(no nesting), while another thread uses the pool (``DataParallel(threads=n)`` replicas,
which run one BLAS thread each anyway), and with ``NPGRAD_PARALLEL=0``. A block's function
must only write its own rows of arrays made before the call: scratch buffers
(``workspace.scratch``) are per thread, so a caller takes them before and slices them.

Example:
    >>> x = np.arange(12.0).reshape(6, 2)
    >>> float(sum(map_blocks(lambda lo, hi: x[lo:hi].sum(), 6, x[0].nbytes)))
    66.0
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading

import numpy as np

from npgrad.primitives import blas_pools as _blas_pools

#: below this many bytes a block, a pass stays on one thread: waking a worker and handing
#: the GIL back and forth costs 45-100 us a call, more than a copy, a ReLU or a max-pool's
#: routing of 1 MB takes (see the module text)
MIN_BLOCK_BYTES = 2**20
#: the smaller blocks worth a thread for passes that compute more per byte, or run several
#: calls a block (``min_bytes=`` of the GELU, attention, depthwise convolutions): with 1 MiB
#: blocks there too the MobileNet-style net's step took 1.035 of its time (2-core Zen 4
#: EPYC); on a 2-core Xeon the exact GELU of 512 KiB took 0.65 ms shared in these blocks,
#: 1.0 in 1 MiB ones or on one thread. Batch and layer norm's passes, a few cheap calls a
#: block, take :data:`MIN_BLOCK_BYTES` (see ``nn.BatchNorm``, ``layer_norm``)
COMPUTE_BLOCK_BYTES = 256 * 2**10
BLOCKS_PER_THREAD = 2  #: more blocks than threads evens out a core that another job slows
_STATE = {"workers": [], "lock": threading.Lock()}
_local = threading.local()


def enabled():
    """Whether ``NPGRAD_PARALLEL`` allows the pool (unset or ``1``; ``0`` turns it off)."""
    value = os.environ.get("NPGRAD_PARALLEL", "1")
    if value not in ("0", "1"):
        raise ValueError(f"NPGRAD_PARALLEL must be '0' or '1', got {value!r}")
    return value == "1"


def threads():
    """How many threads :func:`map_blocks` would use from this thread now (1: no pool)."""
    if getattr(_local, "inside", False) or not enabled():
        return 1
    return max(1, _blas_pools.get_threads() or 1)


def block_bounds(n, row_bytes, parts, min_bytes=None):
    """[(lo, hi)] covering ``range(n)``: up to ``parts * BLOCKS_PER_THREAD`` blocks of about
    equal size, each at least ``min_bytes`` (default :data:`MIN_BLOCK_BYTES`; rows of
    ``row_bytes``), one block at least."""
    min_bytes = MIN_BLOCK_BYTES if min_bytes is None else min_bytes
    most = max(1, int(n * row_bytes // max(min_bytes, 1)))
    count = max(1, min(n, parts * BLOCKS_PER_THREAD if parts > 1 else 1, most))
    edges = [n * i // count for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


class _Job:
    """One call's blocks, taken in order by whichever thread is free.

    The caller takes blocks too and, once none is left, waits only for the blocks a worker
    is still running: a worker that wakes after the caller took every block finds the job
    closed and runs nothing (waking a sleeping worker and handing Python's lock back costs
    tens of microseconds, more than a small pass takes), so a pass too small to share is
    not held up by the worker it woke.
    """

    def __init__(self, fn, bounds):
        self.fn, self.bounds = fn, bounds
        self.results = [None] * len(bounds)
        self.errors = []
        self.finished = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.next = self.running = 0  # the next block to take; blocks being run
        self.closed = self.waiting = False

    def _take(self):
        with self.lock:
            if self.closed or self.errors or self.next >= len(self.bounds):
                return None
            self.next += 1
            self.running += 1
            return self.next - 1

    def _done(self):
        with self.lock:
            self.running -= 1
            wake = self.waiting and self.running == 0
        if wake:
            self.finished.put(True)

    def work(self):
        while (index := self._take()) is not None:
            try:
                self.results[index] = self.fn(*self.bounds[index])
            except BaseException as error:  # handed to the caller, who raises it
                self.errors.append(error)
            finally:
                self._done()

    def close(self):
        """No more blocks start; returns once the running ones have finished."""
        with self.lock:
            self.closed = True
            self.waiting = self.running > 0
        if self.waiting:
            self.finished.get()


def _serve(inbox):
    _local.inside = True
    while True:
        job = inbox.get()
        if job is None:
            return
        job.work()


def _workers(count):
    """``count`` idle worker threads (started the first time they are needed)."""
    workers = _STATE["workers"]
    while len(workers) < count:
        inbox = queue.SimpleQueue()
        thread = threading.Thread(target=_serve, args=(inbox,), daemon=True,
                                  name=f"npgrad-pass-{len(workers) + 1}")
        thread.start()
        workers.append(inbox)
    return workers[:count]


def _forget_workers():
    """In a forked child: the parent's threads do not exist here (the next call starts new
    ones)."""
    _STATE["workers"] = []
    _STATE["lock"] = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def map_blocks(fn, n, row_bytes, blas=False, min_bytes=None):
    """``[fn(lo, hi) for (lo, hi) in blocks]`` over blocks of ``range(n)``, shared between
    this thread and the pool's; the results in block order.

    Args:
        fn: called with the bounds of one block of rows; writes only those rows of the
            arrays it shares with other blocks.
        n: rows (the leading axis of the arrays the pass reads).
        row_bytes: bytes one row of the largest array the pass touches.
        blas: ``fn`` calls BLAS: NumPy's pool then runs on one thread during the call (each
            block's product on its own thread instead of two threads on one product).
        min_bytes: the smallest block worth a thread (default :data:`MIN_BLOCK_BYTES`).

    Returns:
        A list with one result per block: one block, ``[fn(0, n)]``, whenever the pool is
        not used (see the module text).
    """
    parts = threads()
    bounds = block_bounds(n, row_bytes, parts, min_bytes) if parts > 1 else [(0, n)]
    lock = _STATE["lock"]
    if len(bounds) == 1 or not lock.acquire(blocking=False):
        return [fn(0, n)]
    try:
        job = _Job(fn, bounds)
        helpers = _workers(min(parts, len(bounds)) - 1)
        with _blas_pools.capped_threads(1) if blas else contextlib.nullcontext():
            for inbox in helpers:
                inbox.put(job)
            _local.inside = True
            try:
                job.work()
            finally:
                _local.inside = False
                job.close()
    finally:
        lock.release()
    if job.errors:
        raise job.errors[0]
    return job.results


def for_blocks(fn, n, row_bytes, blas=False, min_bytes=None):
    """:func:`map_blocks` for a pass whose blocks return nothing."""
    map_blocks(fn, n, row_bytes, blas=blas, min_bytes=min_bytes)


def total(parts):
    """The sum of a pass's per-block partial sums, added in block order (the same sum
    whichever thread ran which block); the one part itself for one block."""
    result = parts[0]
    for part in parts[1:]:
        result = result + part
    return result


def elementwise(fn, out, *operands, min_bytes=None):
    """``fn(out, *operands)`` (which writes ``out`` in place), shared between threads in
    blocks of the flattened arrays; returns ``out``.

    Args:
        fn: called as ``fn(out_block, *operand_blocks)``; element by element, so any block
            of the flat arrays gives that block of the result (and it may write its blocks
            of the operands too: a second output).
        out: the C-contiguous array written.
        operands: arrays of ``out``'s size, C-contiguous (each cut like ``out``), or
            scalars and 0-d arrays (passed whole). Anything else (a broadcast row, a
            strided view) runs the whole call on this thread.
        min_bytes: as :func:`map_blocks` (:data:`COMPUTE_BLOCK_BYTES` for a pass of
            exponentials or other costly functions).
    """
    sized = [isinstance(a, np.ndarray) and a.ndim > 0 for a in operands]
    cut = [a.size == out.size and a.flags.c_contiguous for a, s in zip(operands, sized) if s]
    if not out.flags.c_contiguous or not all(cut):
        fn(out, *operands)
        return out
    flat_out = out.reshape(-1)
    flats = [a.reshape(-1) if s else a for a, s in zip(operands, sized)]

    def block(lo, hi):
        fn(flat_out[lo:hi], *(a[lo:hi] if s else a for a, s in zip(flats, sized)))

    widest = max([out.itemsize] + [a.itemsize for a, s in zip(operands, sized) if s])
    for_blocks(block, flat_out.size, widest, min_bytes=min_bytes)
    return out


def copy_rows(target, source):
    """``target[...] = source`` (arrays of one shape, any strides), shared between threads
    in blocks of the leading axis; returns ``target``."""
    n = target.shape[0] if target.ndim else 1
    if target.ndim == 0 or n <= 1:
        np.copyto(target, source)
        return target
    row_bytes = target[0].nbytes
    for_blocks(lambda lo, hi: np.copyto(target[lo:hi], source[lo:hi]), n, row_bytes)
    return target
