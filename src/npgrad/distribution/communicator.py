"""The MPI collectives data-parallel training needs, on NumPy buffers, with a time limit.

Every collective is non-blocking underneath (``Iallreduce``, ``Ibcast``...) and waited for
with a deadline: a rank that died or hangs makes the others raise a clear
:class:`DistributionError` within ``timeout`` seconds (``NPGRAD_MPI_TIMEOUT``, default 120)
and abort the MPI job, instead of blocking forever. Nothing is pickled: buffers are NumPy
arrays of a fixed dtype.

:class:`LocalCommunicator` is the single-process stand-in (every collective is the identity),
so code paths are the same with or without MPI.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

_ABORT_GRACE = 0.5  # seconds between the timeout message and MPI_Abort
#: seconds a wait polls without sleeping. MPI moves a collective's data only while the ranks
#: poll, a large buffer in many pieces: with 1 ms sleeps from the first millisecond on, a
#: 1.4 MB allreduce took 6.2 ms after one rank came 5 ms late, against 0.9 ms polling
#: (2-core EPYC, MPICH); the LSTM benchmark spent 6.5-11 ms of a 37 ms step in it
_SPIN_SECONDS = 0.1
_yield_cpu = getattr(os, "sched_yield", lambda: None)  # a runnable thread may take the core

DEFAULT_TIMEOUT = 120.0


class DistributionError(RuntimeError):
    """A collective failed or timed out (another process died, hung or diverged)."""


def timeout_from_env():
    """Seconds a collective may wait: ``NPGRAD_MPI_TIMEOUT`` (a positive number), else 120."""
    value = os.environ.get("NPGRAD_MPI_TIMEOUT")
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"NPGRAD_MPI_TIMEOUT must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise ValueError(f"NPGRAD_MPI_TIMEOUT must be positive, got {value!r}")
    return seconds


class LocalCommunicator:
    """One process: rank 0 of 1; collectives return their input."""

    rank = 0
    size = 1

    def allreduce_sum(self, buffer):
        return buffer

    def broadcast(self, buffer, root=0):
        return buffer

    def allgather_int64(self, values):
        return np.asarray(values, dtype=np.int64)[None]

    def allgather_rows(self, array):
        return array

    def barrier(self):
        pass


class MPICommunicator:
    """MPI ``COMM_WORLD`` through mpi4py, every wait bounded by ``timeout`` seconds.

    Args:
        comm: an mpi4py communicator (default ``MPI.COMM_WORLD``).
        timeout: seconds a collective may wait for the other ranks (default
            ``NPGRAD_MPI_TIMEOUT`` or 120).
    """

    def __init__(self, comm=None, timeout=None):
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.timeout = timeout_from_env() if timeout is None else float(timeout)

    def _wait(self, request, what):
        """Poll ``request`` until done, up to the deadline: for :data:`_SPIN_SECONDS` without
        sleeping (yielding the core to any thread that can run), then in sleeps growing to
        1 ms (a rank waiting on a slow one leaves the CPU to other work)."""
        start = time.monotonic()
        deadline = start + self.timeout
        pause = 0.0
        while not request.Test():
            now = time.monotonic()
            if now > deadline:
                message = (
                    f"npgrad.distribution: rank {self.rank} of {self.size} waited {self.timeout:g} s "
                    f"for {what}; another process has died, hung or left the training loop "
                    f"(set NPGRAD_MPI_TIMEOUT to wait longer). Aborting the MPI job."
                )
                print(message, file=sys.stderr, flush=True)
                # Abort tears the job down at once, output forwarding included: give
                # mpiexec a moment to pass the message on (without it, lost 3 runs in 5)
                time.sleep(_ABORT_GRACE)
                self.comm.Abort(17)
                raise DistributionError(message)
            if now - start < _SPIN_SECONDS:
                _yield_cpu()
            else:
                pause = min(max(pause * 2, 1e-5), 1e-3)
                time.sleep(pause)

    def allreduce_sum(self, buffer):
        """Sum ``buffer`` (a contiguous ndarray) over the ranks, in place; returns it."""
        request = self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
        self._wait(request, f"an allreduce of {buffer.size} {buffer.dtype} values")
        return buffer

    def broadcast(self, buffer, root=0):
        """Overwrite ``buffer`` with ``root``'s (same shape and dtype on every rank)."""
        request = self.comm.Ibcast(buffer, root=root)
        self._wait(request, f"a broadcast of {buffer.size} {buffer.dtype} values")
        return buffer

    def allgather_int64(self, values):
        """Every rank's ``values`` (a 1-D int64 array of one length): (size, len) array."""
        local = np.ascontiguousarray(values, dtype=np.int64)
        gathered = np.empty((self.size, local.size), dtype=np.int64)
        request = self.comm.Iallgather(local, gathered)
        self._wait(request, "an allgather of model signatures")
        return gathered

    def allgather_rows(self, array):
        """Concatenate every rank's ``array`` along axis 0, in rank order (rows may differ)."""
        array = np.ascontiguousarray(array)
        counts = self.allgather_int64([array.shape[0]])[:, 0]
        row = int(np.prod(array.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()),) + array.shape[1:], dtype=array.dtype)
        sizes = counts * row
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        request = self.comm.Iallgatherv(array.reshape(-1),
                                        [out.reshape(-1), (sizes, offsets)])
        self._wait(request, "a gather of predictions")
        return out

    def barrier(self):
        request = self.comm.Ibarrier()
        self._wait(request, "a barrier")
