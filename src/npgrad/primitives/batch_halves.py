"""An op whose samples are independent, run on two halves of its batch at once: the first
half here, the second in the helper process (:mod:`npgrad.primitives.helper_process`).

The recurrent ops (SimpleRNN, LSTM, GRU) spend their time in a loop over the time steps, a
small product and a dozen element-wise NumPy calls a step, and NumPy runs such calls on one
core: with two BLAS threads only the products gain. PyTorch's LSTM computes each step on
every core. Here each process runs the whole op (forward and backward) on its half of the
batch with one BLAS thread, as two MPI ranks would, and the results are put together: the
outputs and the gradients of batched inputs side by side along the batch axis, the
gradients of shared inputs (the weights) summed. The helper keeps what its half's backward
needs until the graph lets go of this op.

:func:`apply` decides. It splits when every one of these holds, and otherwise runs the op
as one Function, as before:

- NumPy's BLAS pool has at least two threads (the process is meant to use two cores: not
  at one thread, as on a busy machine after ``adapt_num_threads``, or in ``DataParallel``
  ranks on two cores, which already use every core), this is not one of several MPI
  processes (:func:`under_mpi`), and ``NPGRAD_SPLIT_BATCH`` is not ``0`` (``1`` splits
  whatever the thread count and MPI, for tests);
- the op is big enough: at least :data:`MIN_BATCH` samples and :data:`MIN_FLOPS` of work;
- a helper process is there to be had (Linux), and no other thread is using it;
- the constants are plain values (names, flags, numbers) or arrays with the batch axis.

The result is the op's to float rounding (the weight gradients are two sums added instead
of one), pinned by ``tests/primitives/test_batch_halves.py``.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref

import numpy as np

from npgrad.autograd.function import Function
from npgrad.autograd.tensor import Tensor
from npgrad.primitives import blas_pools as _blas_pools
from npgrad.primitives import helper_process as _helper

ENVIRONMENT = "NPGRAD_SPLIT_BATCH"
# below these an op is too short for the hand-over (about 0.1-0.3 ms a request) to pay
MIN_BATCH = 16
MIN_FLOPS = 20e6

_OPS = {}  # name -> Function class the helper may run
_SAVED = {}  # in the helper: ticket -> the Function holding its half's saved arrays
_TICKETS = {"next": 0, "dropped": [], "live": 0}  # in this process
# a helper with more memory of its own than this (MiB) is ended by refresh_helper
REFRESH_MIB = 64
#: seconds between two reads of the helper's memory from ``fit``, ``evaluate``, ``predict``
REFRESH_EVERY = 10.0
_CHECKED = {"at": None}  # when refresh_helper last read the helper's memory


def register(op):
    """Let :func:`apply` split ``op`` (a Function class whose samples are independent)."""
    _OPS[op.__name__] = op
    return op


def wanted():
    """Whether this process splits big enough ops now (environment, BLAS threads, MPI)."""
    setting = os.environ.get(ENVIRONMENT, "")
    if setting not in ("", "0", "1"):
        raise ValueError(f"{ENVIRONMENT} must be 0, 1 or unset, got {setting!r}")
    if setting:
        return setting == "1"
    return (_blas_pools.get_threads() or 1) >= 2 and not under_mpi()


# set by MPI launchers (MPICH's Hydra, Open MPI) in every process they start
_MPI_SIZES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def under_mpi():
    """Whether an MPI launcher started this process as one of several: no helper is forked
    then (some MPI transports do not survive ``fork``, and the ranks use the cores)."""
    for name in _MPI_SIZES:
        try:
            if int(os.environ.get(name, "")) > 1:
                return True
        except ValueError:
            continue
    return False


def _plain(value):
    return value is None or isinstance(value, (str, bool, int, float))


def apply(op, inputs, batch_axes, flops, **constants):
    """``op.apply(*inputs, **constants)``, on two halves of the batch when that pays (see the
    module text). ``batch_axes``: per input its batch axis or None (shared, e.g. a weight);
    array constants are split along their first axis; ``flops``: the op's work estimate."""
    n = _batch_size(inputs, batch_axes)
    if n is None or n < MIN_BATCH or flops < MIN_FLOPS or op.__name__ not in _OPS or \
            not all(_plain(v) or isinstance(v, (np.ndarray, Tensor)) for v in
                    constants.values()) or not wanted():
        return op.apply(*inputs, **constants)
    arrays = {k: v for k, v in constants.items() if not _plain(v)}
    if any(np.shape(v)[:1] != (n,) for v in arrays.values()):
        return op.apply(*inputs, **constants)  # the op names what is wrong
    helper = _helper.get()
    if helper is None or not helper.claim():
        return op.apply(*inputs, **constants)
    try:
        return BatchHalves.apply(*inputs, op=op, batch_axes=tuple(batch_axes), helper=helper,
                                 **constants)
    finally:
        helper.release()


def refresh_helper(limit_mib=None, interval=0.0):
    """End the helper process when it holds more than ``limit_mib`` (default
    :data:`REFRESH_MIB`) of memory of its own and no op's half: the next split op forks a
    fresh one from this process as it is now. Returns whether it ended one.

    The helper keeps the old copy of every page this process had at the fork and rewrote
    since (``helper_process``): a 400 MiB array rewritten after the fork cost 400 MiB more
    until this ran. ``fit``, ``evaluate`` and ``predict`` run it when they start, with
    ``interval`` :data:`REFRESH_EVERY`: the helper's memory is read (``smaps_rollup``, about
    2 ms for the Embedding + LSTM workload's helper, the kernel walking its page tables) at
    most that often, not on every call (a ``predict`` per sample in a loop).

    Args:
        limit_mib: the helper's own memory (MiB) above which it is ended.
        interval: seconds; a call sooner than this after the last read of the helper's
            memory reads nothing and returns False (0: read now).
    """
    helper = _helper.running()
    limit = REFRESH_MIB if limit_mib is None else limit_mib
    if helper is None or _TICKETS["live"] > 0 or helper.lock.locked():
        return False
    now = time.monotonic()
    if _CHECKED["at"] is not None and now - _CHECKED["at"] < interval:
        return False
    _CHECKED["at"] = now
    if helper.private_mib() <= limit:
        return False
    _helper.shut_down()
    return True


def _batch_size(inputs, batch_axes):
    sizes = {np.shape(x)[axis] for x, axis in zip(inputs, batch_axes)
             if axis is not None and np.ndim(x) > axis}
    return sizes.pop() if len(sizes) == 1 else None


def _part(value, axis, first, half):
    if value is None or axis is None:
        return value
    index = [slice(None)] * np.ndim(value)
    index[axis] = slice(None, half) if first else slice(half, None)
    return np.asarray(value)[tuple(index)]


class _Ticket:
    """The helper's half of one op: dropped there once this object is gone."""

    def __init__(self, number):
        self.number = number
        _TICKETS["live"] += 1
        weakref.finalize(self, _drop, number)


def _drop(number):
    _TICKETS["live"] -= 1
    _TICKETS["dropped"].append(number)


def _take_dropped():
    queued, dropped = _TICKETS["dropped"], []
    while queued:  # list.pop is atomic: a finalizer in another thread may append meanwhile
        dropped.append(queued.pop())
    return dropped


@contextlib.contextmanager
def _answer_owed(helper, ticket=None):
    """Around this process's half: on an error there, still read the helper's answer (the
    next request must not find it) and drop what it keeps under ``ticket``, then let the
    error go on."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(_helper.HelperError):
            helper.receive()
        if ticket is not None:
            _TICKETS["dropped"].append(ticket)
        raise


class BatchHalves(Function):
    """``op`` on the batch's first half here and its second half in the helper process."""

    def forward(self, *arrays, **constants):
        # each half gets half of the BLAS threads this process was given (one each on 2
        # cores), and no OpenBLAS worker of this process spins on the helper's core
        self.threads = max(1, (_blas_pools.get_threads() or 2) // 2)
        with _blas_pools.without_spinning(self.threads):
            return self._forward(*arrays, **constants)

    def _forward(self, *arrays, op=None, batch_axes=(), helper=None, **constants):
        n = _batch_size(arrays, batch_axes)
        half = n // 2
        values = {k: np.asarray(v.data if isinstance(v, Tensor) else v)
                  for k, v in constants.items() if not _plain(v)}
        plain = {k: v for k, v in constants.items() if _plain(v)}
        training = any(self.needs_input_grad)
        number = None
        if training:
            number = _TICKETS["next"] = _TICKETS["next"] + 1
        dropped = _take_dropped()
        second = [_part(a, axis, False, half) for a, axis in zip(arrays, batch_axes)]
        second += [v[half:] for v in values.values()]
        try:
            helper.send("batch_halves.forward", {
                "op": op.__name__, "plain": plain, "arrays": list(values),
                "inputs": len(arrays), "needs": list(self.needs_input_grad), "ticket": number,
                "dropped": dropped, "threads": self.threads,
            }, second)
        except _helper.HelperError:
            if not helper.broken:
                raise
            return self._alone(arrays, op, constants)  # the helper is gone (killed?)
        with _answer_owed(helper, number):
            first_op = op()
            first_op.saved = ()
            first_op.needs_input_grad = self.needs_input_grad
            first_out = first_op.forward(
                *[_part(a, axis, True, half) for a, axis in zip(arrays, batch_axes)],
                **plain, **{k: v[:half] for k, v in values.items()})
            out = _with_first_half(first_out, 0, n)  # while the helper finishes
        try:
            (second_out,) = helper.receive()[1]
        except _helper.HelperError:
            if not helper.broken:
                raise
            return self._alone(arrays, op, constants)  # the helper is gone (killed?)
        self.batch_axes, self.half, self.helper = batch_axes, half, helper
        if training:
            self.save_for_backward(first_op, _Ticket(number))
        out[half:] = second_out
        return out

    def _alone(self, arrays, op, constants):
        """The whole op in this process, its backward too: the helper is gone (killed?).
        ``helper_process.get`` notices, and no later op splits."""
        whole = op()
        whole.saved = ()
        whole.needs_input_grad = self.needs_input_grad
        out = whole.forward(*arrays, **{k: v.data if isinstance(v, Tensor) else v
                                        for k, v in constants.items()})
        if any(self.needs_input_grad):
            self.save_for_backward(whole, None)
        return out

    def backward(self, grad):
        first_op, ticket = self.saved
        if ticket is None:  # the op ran whole here
            return first_op.backward(grad)
        with _blas_pools.without_spinning(self.threads):
            return self._backward(grad, first_op, ticket)

    def _backward(self, grad, first_op, ticket):
        batch_axes, half, helper = self.batch_axes, self.half, self.helper
        with helper.lock:  # another thread's request is short: wait for it
            helper.send("batch_halves.backward", {"ticket": ticket.number,
                                                  "dropped": _take_dropped(),
                                                  "threads": self.threads}, [grad[half:]])
            with _answer_owed(helper):
                first = first_op.backward(np.ascontiguousarray(grad[:half]))
                first = [a if a is None or axis is None else
                         _with_first_half(a, axis, len(grad)) for a, axis in zip(first, batch_axes)]
            second = helper.receive()[1]
        grads = []
        for a, b, axis in zip(first, second, batch_axes):
            if a is None or b is None:
                grads.append(None)
            elif axis is None:
                grads.append(a + b)
            else:
                _part(a, axis, False, half)[...] = b
                grads.append(a)
        return tuple(grads)


def _with_first_half(first, axis, rows):
    """A new array of ``rows`` along ``axis`` holding ``first`` in its first rows (the
    helper's half goes into the rest)."""
    shape = list(first.shape)
    shape[axis] = rows
    whole = np.empty(shape, dtype=first.dtype)
    _part(whole, axis, True, first.shape[axis])[...] = first
    return whole


def _copies(arrays):
    return [None if a is None else np.array(a) for a in arrays]


def _start(header):
    """In the helper, before a request's work: forget the dropped halves, take the threads."""
    for number in header["dropped"]:
        _SAVED.pop(number, None)
    threads = header.get("threads")
    if threads and threads != _blas_pools.get_threads():
        _blas_pools.set_threads(threads)


@_helper.handler("batch_halves.forward")
def _serve_forward(header, arrays):
    _start(header)
    arrays = _copies(arrays)  # the area is overwritten by the next request
    count = header["inputs"]
    op = _OPS[header["op"]]()
    op.saved = ()
    op.needs_input_grad = tuple(header["needs"])
    out = op.forward(*arrays[:count], **header["plain"],
                     **dict(zip(header["arrays"], arrays[count:])))
    if header["ticket"] is not None:
        _SAVED[header["ticket"]] = op
    return {}, [out]


@_helper.handler("batch_halves.backward")
def _serve_backward(header, arrays):
    _start(header)
    # the gradient straight from the shared area: a backward keeps nothing of it
    grads = _SAVED[header["ticket"]].backward(arrays[0])
    return {}, list(grads)


@_helper.handler("batch_halves.saved")
def _serve_saved(header, arrays):
    """How many ops' halves the helper holds (tests: the drops reach it)."""
    _start(header)
    return {"saved": len(_SAVED)}, []


def helper_holds():
    """The number of ops whose second half the helper holds for backward (after sending it
    the drops queued here); 0 when there is no helper."""
    helper = _helper.running()
    if helper is None:
        return 0
    with helper.lock:
        helper.send("batch_halves.saved", {"dropped": _take_dropped()}, [])
        header, _ = helper.receive()
    return header["saved"]
