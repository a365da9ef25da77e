"""Data parallelism over processes forked for one ``fit``, ``evaluate`` or ``predict`` call:
``DataParallel(processes=N)``.

Two MPI processes train a convolutional net on a 2-core machine faster than one process
with two BLAS threads: each runs the whole step on its half of the batch, so every
element-wise pass (batch norm, ReLU, padding, im2col) has a core of its own, where two BLAS
threads share only the GEMMs (docs/performance.md). ``processes=N`` gives one plain
``python train.py`` that layout without MPI:

- ``fit`` forks ``N - 1`` copies of this process when it starts. Each copy is one more rank
  of the same ``fit`` call: the same model, data and callbacks (it was forked after the
  arguments were checked), its own slice of every batch, its own random stream (dropout
  masks, from :func:`npgrad.random.side_streams`), one BLAS thread on 2 cores. It runs
  silently (its ``sys.stdout`` and ``sys.stderr``, and the descriptors 1 and 2 under them,
  go to ``os.devnull``: a logging handler made before ``fit`` prints from the caller
  alone) and leaves with
  ``os._exit`` when ``fit`` ends: only the calling process returns from ``fit``.
- The ranks talk through :class:`ProcessCommunicator`: the collectives of
  :mod:`npgrad.distribution.communicator` on a block of shared memory (one slot per rank),
  each step of them separated by a barrier of one byte per rank written to pipes. Nothing
  is pickled. A rank that dies closes its pipes: the others see it at their next barrier
  and raise :class:`~npgrad.distribution.DistributionError` with its traceback. A barrier
  waits at most ``NPGRAD_MPI_TIMEOUT`` seconds (default 120).
- Every rank sums the slots in rank order, so every process computes the same gradient sum
  to the bit and the processes' weights stay equal, as with MPI.

``evaluate`` and ``predict`` fork the same way (each rank scores or predicts its slice of
every batch; ``predict`` gathers the slices back in every rank). Between calls, and in the
``*_on_batch`` methods, the communicator has one rank and nothing is forked. Needs ``os.fork``
and a BLAS that survives it: Linux and the other Unixes, not macOS (Apple's Accelerate, which
NumPy's macOS wheels may use, runs on a thread pool that a forked child must not touch).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import sys
import time
import traceback
import warnings

import numpy as np

from npgrad import random as npgrad_random
from npgrad.distribution.communicator import DistributionError, timeout_from_env
from npgrad.utils.threads import shared_threads

#: bytes of shared memory per rank; a collective on more moves it in pieces of this size
SLOT_BYTES = 4 << 20
#: bytes per rank for the text of the error that stopped it
_ERROR_BYTES = 64 << 10


class ProcessCommunicator:
    """Collectives among ``size`` processes forked from this one (rank 0 is this process).

    Before :meth:`fork` and after :meth:`close` it is a group of one (every collective is the
    identity), so the ``*_on_batch`` methods run as without a distribution.

    Args:
        size: the number of processes, >= 1.
        timeout: seconds a barrier may wait for another rank (default ``NPGRAD_MPI_TIMEOUT``
            or 120).
    """

    def __init__(self, size, timeout=None):
        self.processes = int(size)
        self.timeout = timeout_from_env() if timeout is None else float(timeout)
        self.rank = 0
        self.size = 1
        self._children = []  # (rank, pid) in the parent
        self._pipes = {}  # rank -> (up read, up write, down read, down write)
        self._memory = None

    # ------------------------------------------------------------- life cycle
    @property
    def forked(self):
        return self.size > 1

    def fork(self):
        """Start ranks ``1 .. processes - 1`` as forks of this process. Returns in every
        process, with :attr:`rank` set."""
        slots = self.processes * (SLOT_BYTES + _ERROR_BYTES)
        self._memory = mmap.mmap(-1, slots)  # anonymous and MAP_SHARED: the forks see it
        self._bytes = np.frombuffer(self._memory, dtype=np.uint8)
        self._pipes = {rank: os.pipe() + os.pipe() for rank in range(1, self.processes)}
        streams = npgrad_random.side_streams(self.processes - 1)
        for stream in (sys.stdout, sys.stderr):  # or their buffers print twice
            with contextlib.suppress(Exception):
                stream.flush()
        self.size = self.processes
        for rank in range(1, self.processes):
            with warnings.catch_warnings():
                # Python >= 3.12 warns about forking with threads alive: OpenBLAS's workers
                # are (it stops them around fork), and the fork runs only this thread
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:
                try:
                    self._become_child(rank, streams[rank - 1])
                except BaseException:  # noqa: BLE001 - never back into the caller's code
                    os._exit(70)
                return
            self._children.append((rank, pid))
        for up_read, up_write, down_read, down_write in self._pipes.values():
            os.close(up_write)
            os.close(down_read)

    def _become_child(self, rank, stream):
        self.rank = rank
        self._children = []
        for other, (up_read, up_write, down_read, down_write) in self._pipes.items():
            if other != rank:
                for fd in (up_read, up_write, down_read, down_write):
                    os.close(fd)
            else:
                os.close(up_read)
                os.close(down_write)
        self._pipes = {rank: self._pipes[rank]}
        npgrad_random.set_thread_generator(stream)
        quiet = open(os.devnull, "w")  # noqa: SIM115 - open until os._exit
        sys.stdout = sys.stderr = quiet
        # the descriptors too: a logging handler made before the fork holds the old stream
        # objects, and C code writes to 1 and 2 directly
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                os.dup2(quiet.fileno(), fd)

    def report(self, text):
        """Leave ``text`` (this rank's error) where rank 0 reads it when this rank is gone."""
        data = text.encode("utf-8", "replace")[-(_ERROR_BYTES - 8):]
        area = self._error_area(self.rank)
        area[:8] = np.frombuffer(np.int64(len(data)).tobytes(), dtype=np.uint8)
        area[8:8 + len(data)] = np.frombuffer(data, dtype=np.uint8)

    def _error_area(self, rank):
        start = self.processes * SLOT_BYTES + rank * _ERROR_BYTES
        return self._bytes[start:start + _ERROR_BYTES]

    def _reported(self, rank):
        area = self._error_area(rank)
        length = int(area[:8].view(np.int64)[0])
        return bytes(area[8:8 + length]).decode("utf-8", "replace") if length else ""

    def join(self):
        """Rank 0, after ``fit``: wait for every other rank to leave; raise
        :class:`DistributionError` with the error of one that failed."""
        for fds in self._pipes.values():  # a rank still waiting for rank 0 sees it left
            os.close(fds[3])
        self._pipes = {rank: fds[:1] for rank, fds in self._pipes.items()}
        deadline = time.monotonic() + self.timeout
        failures = [(rank, self._wait_exit(pid, deadline)) for rank, pid in self._children]
        self._children = []
        failures = [(rank, how) for rank, how in failures if how]
        if failures:
            raise self._failure(*failures[0])

    def _wait_exit(self, pid, deadline):
        """How the fork ``pid`` ended: "" when well; it is killed after the deadline."""
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return f"ended with status {code}" if code else ""
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return (f"did not end within {self.timeout:g} s of process 0's end and was "
                        f"killed")
            time.sleep(0.001)

    def stop_children(self):
        """Rank 0, after an error: end every other rank now."""
        for _, pid in self._children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _, pid in self._children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._children = []

    def close(self):
        """Back to a group of one (rank 0, after :meth:`join` or :meth:`stop_children`)."""
        for fds in self._pipes.values():
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._pipes = {}
        self.size = 1
        self._bytes = None
        if self._memory is not None:
            with contextlib.suppress(BufferError):  # a view still alive: freed with it
                self._memory.close()
            self._memory = None

    def _failure(self, rank, how):
        text = self._reported(rank).strip()
        detail = f":\n{text}" if text else (
            " and reported no error: its call (fit, evaluate or predict) ended before this "
            "one's (every rank must take the same steps; did a callback stop training in one "
            "rank only?)")
        return DistributionError(
            f"npgrad.distribution: process {rank} of {self.processes} (forked by "
            f"DataParallel(processes={self.processes})) {how}{detail}")

    # ------------------------------------------------------------- barrier
    def _read(self, fd, rank, what):
        """One byte from ``fd`` (the pipe from ``rank``), waiting up to the time limit."""
        poller = select.poll()  # not select.select: file numbers above 1023 are fine
        poller.register(fd, select.POLLIN)
        if not poller.poll(self.timeout * 1e3):
            raise DistributionError(
                f"npgrad.distribution: process {self.rank} of {self.size} waited "
                f"{self.timeout:g} s for process {rank} in {what}; it hung or left the "
                f"training loop (set NPGRAD_MPI_TIMEOUT to wait longer)")
        if not os.read(fd, 1):
            raise self._gone(rank, what)

    def _gone(self, rank, what):
        """The error for ``rank`` having closed its pipe (it ended) during ``what``."""
        if self.rank == 0:
            return self._failure(rank, f"stopped during {what}")
        return DistributionError(
            f"npgrad.distribution: process 0 left during {what}: its call (fit, evaluate or "
            f"predict) ended before this one's (every rank must take the same steps; did a "
            f"callback stop training in one rank only?)")

    def _write(self, fd, rank, what):
        try:
            os.write(fd, b"\x01")
        except BrokenPipeError:
            raise self._gone(rank, what) from None

    def _wait(self, what):
        """Every rank reaches this point before any leaves it (rank 0 hears from each of the
        others, then answers each)."""
        if self.rank == 0:
            for rank, fds in self._pipes.items():
                self._read(fds[0], rank, what)
            for rank, fds in self._pipes.items():
                self._write(fds[3], rank, what)
        else:
            fds = self._pipes[self.rank]
            self._write(fds[1], 0, what)
            self._read(fds[2], 0, what)

    def barrier(self):
        if self.forked:
            self._wait("a barrier")

    # ------------------------------------------------------------- collectives
    def _slot(self, rank, dtype, count):
        start = rank * SLOT_BYTES
        return self._bytes[start:start + count * np.dtype(dtype).itemsize].view(dtype)

    def _pieces(self, flat):
        step = max(1, SLOT_BYTES // flat.dtype.itemsize)
        return [(start, min(start + step, flat.size)) for start in range(0, flat.size, step)]

    def allreduce_sum(self, buffer):
        """Sum ``buffer`` (a contiguous ndarray) over the ranks, in place; returns it. Every
        rank adds the slots in rank order: the same bits everywhere."""
        if not self.forked:
            return buffer
        flat = buffer.reshape(-1)
        for start, stop in self._pieces(flat):
            count = stop - start
            self._slot(self.rank, flat.dtype, count)[...] = flat[start:stop]
            self._wait("an allreduce")
            part = flat[start:stop]
            np.add(self._slot(0, flat.dtype, count), self._slot(1, flat.dtype, count), out=part)
            for rank in range(2, self.size):
                part += self._slot(rank, flat.dtype, count)
            self._wait("an allreduce")
        return buffer

    def broadcast(self, buffer, root=0):
        """Overwrite ``buffer`` with ``root``'s (same shape and dtype on every rank)."""
        if not self.forked:
            return buffer
        flat = buffer.reshape(-1)
        for start, stop in self._pieces(flat):
            if self.rank == root:
                self._slot(root, flat.dtype, stop - start)[...] = flat[start:stop]
            self._wait("a broadcast")
            if self.rank != root:
                flat[start:stop] = self._slot(root, flat.dtype, stop - start)
            self._wait("a broadcast")
        return buffer

    def allgather_int64(self, values):
        """Every rank's ``values`` (1-D int64, one length): a (size, len) array."""
        local = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
        if not self.forked:
            return local[None]
        self._slot(self.rank, np.int64, local.size)[...] = local
        self._wait("an allgather")
        gathered = np.stack([self._slot(rank, np.int64, local.size) for rank in range(self.size)])
        self._wait("an allgather")
        return gathered

    def allgather_rows(self, array):
        """Every rank's ``array`` concatenated along axis 0, in rank order (rows may differ)."""
        array = np.ascontiguousarray(array)
        if not self.forked:
            return array
        counts = self.allgather_int64([array.shape[0]])[:, 0]
        row = array.dtype.itemsize * int(np.prod(array.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()),) + array.shape[1:], dtype=array.dtype)
        mine, into = array.reshape(-1).view(np.uint8), out.reshape(-1).view(np.uint8)
        offsets = np.concatenate([[0], np.cumsum(counts * row)])
        for start in range(0, int((counts * row).max()), SLOT_BYTES):
            piece = mine[start:start + SLOT_BYTES]
            self._slot(self.rank, np.uint8, piece.size)[...] = piece
            self._wait("a gather of predictions")
            for rank in range(self.size):
                size = int(min(SLOT_BYTES, max(0, counts[rank] * row - start)))
                first = int(offsets[rank]) + start
                into[first:first + size] = self._slot(rank, np.uint8, size)
            self._wait("a gather of predictions")
        return out


@contextlib.contextmanager
def forked_ranks(group):
    """The body runs in every rank of ``group`` (a :class:`ProcessCommunicator`), each with
    its share of the BLAS threads; only rank 0 comes out of it.

    In a forked rank an exception is left for rank 0 to raise and the process ends with
    ``os._exit`` when the body does. In rank 0 an exception ends the other ranks at once;
    a normal end waits for them and raises the first failure among them.
    """
    with shared_threads(group.processes):  # one BLAS thread each on 2 cores
        try:
            group.fork()
        except BaseException:  # os.fork failed: end the ranks already started
            if group.rank == 0:
                group.stop_children()
                group.close()
            raise
        if group.rank != 0:
            status = 0
            try:
                yield
            except BaseException:  # noqa: BLE001 - handed to rank 0; this process ends here
                group.report(traceback.format_exc())
                status = 1
            finally:
                os._exit(status)
        try:
            yield
        except BaseException:
            group.stop_children()
            raise
        else:
            group.join()
        finally:
            group.close()
