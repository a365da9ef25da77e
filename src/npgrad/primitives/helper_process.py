"""A helper process for ops that split their batch: a fork of this process that runs one
part of an op while this process runs the other, so an op made of many small NumPy calls
uses two cores.

NumPy runs an element-wise call on one core, and Python threads cannot share an op made of
many short calls: each call takes Python's lock (the GIL) back, and handing it between two
threads costs more than the call (an LSTM's step loop over two half batches in two threads
took as long as one thread over the whole batch, 18.7 against 19.0 ms). Two processes have
no such lock. The helper is forked once, the first time an op asks for it, and lives until
this process ends; it waits on a pipe for a request, runs it, answers, and waits again.

The fork shares this process's memory as it was then. A page that this process writes later
is copied for it, and the helper keeps the old one: a large array made before the fork and
rewritten after it costs its size twice (``batch_halves.refresh_helper``, run when ``fit``,
``evaluate`` or ``predict`` starts, ends such a helper; the next op forks a fresh one).

A request is a small header (JSON: the handler's name and plain values) and a list of
arrays. The arrays travel through one shared memory area (a ``memfd`` both processes map,
grown when a request needs more): the caller's arrays are copied in, the answer's arrays
are read out, nothing is pickled. Requests are handled one at a time, in order; a thread
that finds the helper busy runs its op alone (:meth:`Helper.claim`).

The helper is a fork: it has this process's modules, so a handler is any function
registered with :func:`handler` before the fork (by name, in this process). A process forked
later (``DataParallel(processes=2)``'s ranks, a user's ``multiprocessing``) does not share
this process's helper; it would start its own.

Linux only (``os.fork`` and ``os.memfd_create``); elsewhere :func:`available` is False.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import mmap
import os
import signal
import struct
import sys
import threading
import traceback
import warnings

import numpy as np

from npgrad.primitives import blas_pools as _blas_pools

_HANDLERS = {}
_ALIGN = 64
_FIRST_SIZE = 4 << 20
_LENGTH = struct.Struct("<Q")


class HelperError(RuntimeError):
    """The helper process failed a request, or is gone."""


def handler(name):
    """Register ``function(header, arrays) -> (header, arrays)`` as the handler ``name``."""
    def register(function):
        _HANDLERS[name] = function
        return function
    return register


def available():
    """Whether this platform can run a helper (Linux: ``os.fork`` and ``os.memfd_create``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and \
        hasattr(os, "memfd_create")


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(fd, count):
    chunks, left = [], count
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(fd, header):
    data = json.dumps(header).encode()
    _write_all(fd, _LENGTH.pack(len(data)) + data)


def _receive(fd):
    return json.loads(_read_all(fd, _LENGTH.unpack(_read_all(fd, _LENGTH.size))[0]))


class _Area:
    """The shared memory both processes map: arrays laid out one after another."""

    def __init__(self, fd, size):
        self.fd, self.size = fd, 0
        self.memory = None
        self.remap(size)

    def grow(self, need):
        """Make the area at least ``need`` bytes (both processes remap it on their next use)."""
        size = max(need, 2 * self.size)
        os.ftruncate(self.fd, size)
        self.remap(size)

    def remap(self, size):
        if size != self.size:
            if self.memory is not None:
                with contextlib.suppress(BufferError):  # a view still alive: freed with it
                    self.memory.close()
            self.memory = mmap.mmap(self.fd, size)
            self.size = size

    def put(self, arrays, start=0):
        """Copy ``arrays`` (ndarrays or None) in from ``start``: their specs, and the end."""
        specs, offset = [], start
        for array in arrays:
            if array is None:
                specs.append(None)
                continue
            array = np.asarray(array)
            specs.append([offset, list(array.shape), array.dtype.str])
            view = np.ndarray(array.shape, array.dtype, self.memory, offset)
            np.copyto(view, array)
            offset += _aligned(array.nbytes)
        return specs, offset

    def views(self, specs):
        """The arrays ``specs`` describe, as views of the area (valid until the next request)."""
        return [None if spec is None else
                np.ndarray(tuple(spec[1]), np.dtype(spec[2]), self.memory, spec[0])
                for spec in specs]


def _aligned(nbytes):
    return -(-nbytes // _ALIGN) * _ALIGN


def _nbytes(arrays):
    return sum(_aligned(np.asarray(a).nbytes) for a in arrays if a is not None)


class Helper:
    """The forked helper process and the two pipes to it (see the module text)."""

    def __init__(self):
        self.fd = os.memfd_create("npgrad-helper")
        os.ftruncate(self.fd, _FIRST_SIZE)
        self.area = _Area(self.fd, _FIRST_SIZE)
        self.lock = threading.Lock()
        self.pending = None  # the reply a sent request still owes
        self.broken = False  # a pipe to the helper failed: it is gone
        down_read, self.down = os.pipe()
        self.up, up_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper: serve until the pipe closes, never return
            code = 0
            try:
                os.close(self.down)
                os.close(self.up)
                _serve(self.area, down_read, up_write)
            except BaseException:  # noqa: BLE001 - never back into the caller's code
                code = 70
            os._exit(code)
        os.close(down_read)
        os.close(up_write)

    def claim(self):
        """Take the helper for one request (non-blocking): False when another thread has it."""
        return self.lock.acquire(blocking=False)

    def release(self):
        self.lock.release()

    def send(self, name, header, arrays):
        """Start request ``name`` (the caller holds :attr:`lock`, e.g. through
        :meth:`claim`); answer it with :meth:`receive`."""
        need = _nbytes(arrays) + _ALIGN
        if need > self.area.size:
            self.area.grow(need)
        specs, end = self.area.put(arrays)
        try:
            _send(self.down, {"name": name, "header": header, "specs": specs, "end": end,
                              "size": self.area.size})
        except OSError as error:
            self.broken = True
            raise HelperError(f"npgrad helper process {self.pid} is gone ({error})") from None
        self.pending = name

    def receive(self):
        """The answer to the request :meth:`send` started: (header, arrays); the arrays are
        views of the shared area, valid until the next request (copy what you keep)."""
        name, self.pending = self.pending, None
        try:
            reply = _receive(self.up)
        except (OSError, EOFError, ValueError):
            self.broken = True
            raise HelperError(f"npgrad helper process {self.pid} ended during {name!r}") \
                from None
        if "error" in reply:
            raise HelperError(f"npgrad helper process, in {name!r}:\n{reply['error']}")
        self.area.remap(reply["size"])  # the helper grew it for a large answer
        return reply["header"], self.area.views(reply["specs"])

    def cpu_seconds(self):
        """The helper's CPU time so far (user + system), or 0.0 when it cannot be read."""
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def private_mib(self):
        """The helper's memory of its own (private pages, MiB), or 0.0 when it cannot be
        read. It grows with the halves it keeps, and with every page of this process that
        existed at the fork and that this process writes afterwards: the helper keeps the
        old copy."""
        try:
            with open(f"/proc/{self.pid}/smaps_rollup", encoding="ascii") as rollup:
                fields = dict(line.split()[:2] for line in rollup if line.startswith("Private"))
            return sum(int(kib) for kib in fields.values()) / 1024
        except (OSError, ValueError):
            return 0.0

    def close(self):
        """End the helper (it sees its pipe close) and wait for it."""
        for fd in (self.down, self.up):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _serve(area, down, up):
    """The helper's loop: one request at a time until this process's pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which ends us
    _blas_pools.set_threads(1)  # one core each: this process and its parent
    while True:
        try:
            request = _receive(down)
        except EOFError:
            return
        area.remap(request["size"])
        try:
            header, arrays = _HANDLERS[request["name"]](request["header"],
                                                        area.views(request["specs"]))
            need = request["end"] + _nbytes(arrays) + _ALIGN
            if need > area.size:
                area.grow(need)
            specs, _ = area.put(arrays, request["end"])
            reply = {"header": header, "specs": specs, "size": area.size}
        except Exception:  # noqa: BLE001 - the parent raises it
            reply = {"error": traceback.format_exc()}
        _send(up, reply)


_STATE = {"helper": None, "failed": False}
_STARTING = threading.Lock()


def get():
    """This process's helper, forked on the first call; None where there is none to have
    (:func:`available` is False, or starting it failed once)."""
    helper = _STATE["helper"]
    if helper is not None and helper.broken:  # it died (killed?): carry on without one
        shut_down()
        _STATE["failed"] = True
        return None
    if helper is not None or _STATE["failed"] or not available():
        return helper
    with _STARTING:
        if _STATE["helper"] is None and not _STATE["failed"]:
            try:
                for stream in (sys.stdout, sys.stderr):  # or their buffers print twice
                    with contextlib.suppress(Exception):
                        stream.flush()
                with warnings.catch_warnings():
                    # Python >= 3.12 warns about forking with threads alive: OpenBLAS's
                    # workers are (it stops them around fork), and the fork runs only
                    # this thread
                    warnings.simplefilter("ignore", DeprecationWarning)
                    _STATE["helper"] = Helper()
            except OSError:
                _STATE["failed"] = True
    return _STATE["helper"]


def running():
    """This process's helper when one was started, else None (starts nothing)."""
    return _STATE["helper"]


def shut_down():
    """End this process's helper, if any; the next :func:`get` starts a new one."""
    helper, _STATE["helper"] = _STATE["helper"], None
    if helper is not None:
        helper.close()


def _forget_after_fork():
    """In a process forked from one with a helper: that helper is not this process's."""
    helper = _STATE["helper"]
    _STATE["helper"] = None
    if helper is not None:
        for fd in (helper.down, helper.up, helper.fd):
            with contextlib.suppress(OSError):
                os.close(fd)


atexit.register(shut_down)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
