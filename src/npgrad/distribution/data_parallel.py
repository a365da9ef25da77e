"""DataParallel: every rank holds the whole model and trains on its slice of each batch.

The ranks are MPI processes, with ``processes=N`` copies of this process forked by each
``fit``, ``evaluate`` and ``predict`` (:mod:`npgrad.distribution.processes`), or with
``threads=N`` replicas of the model in threads of this process (:mod:`npgrad.distribution.threads`, which shares the trainable
arrays instead of broadcasting them). Horovod's design, on MPI:

- when training starts, rank 0's weights and optimizer state are broadcast, after a check
  that every rank built the same model (same weight shapes and dtypes);
- each global batch is cut into per-rank slices (contiguous, sizes differing by at most one);
  rank r's gradient is scaled by ``n_r / n`` (its share of the batch) and one fused
  allreduce per step sums them, which equals the gradient of the whole batch on one process,
  the last partial batch included;
- metric states (totals, counts, confusion counts) are summed over ranks before the logs are
  made, so progress bars, History and callbacks see global values; ``evaluate`` shards each
  batch the same way and ``predict`` gathers the slices back in order.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import threading
import time
import zlib

import numpy as np

from npgrad.distribution import current
from npgrad.distribution import processes as _processes
from npgrad.distribution import threads as _threads
from npgrad.distribution.communicator import DistributionError


def _rows(length, rank, size):
    """This rank's contiguous part of ``length`` rows: sizes differ by at most one."""
    return slice(length * rank // size, length * (rank + 1) // size)


def _count(value, name):
    """A positive int option of DataParallel (None when not given)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"DataParallel: {name} must be a positive int, got {value!r}")
    return int(value)


def _batch_length(x):
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, dict):
        return _batch_length(next(iter(x.values())))
    return len(x)


def _take(structure, index):
    """Rows ``index`` of every array in a batch structure (x, (x, y), dicts, lists)."""
    if structure is None:
        return None
    if isinstance(structure, tuple):
        return tuple(_take(part, index) for part in structure)
    if isinstance(structure, list):
        return [_take(part, index) for part in structure]
    if isinstance(structure, dict):
        return {key: _take(part, index) for key, part in structure.items()}
    return structure[index]


# ------------------------------------------------------------------ metric states
_STATE_NAMES = {}


def metric_state_names(metric):
    """The attributes ``reset_state`` assigns: the metric's additive state (cached per class).

    Metrics that declare ``variables`` (Keras 3 style) use those names instead.
    """
    declared = getattr(metric, "state_names", None)
    if declared:
        return list(declared)
    cls = type(metric)
    if cls not in _STATE_NAMES:
        names = []

        class Recorder(cls):
            def __setattr__(self, key, value):
                names.append(key)
                object.__setattr__(self, key, value)

        probe = copy.copy(metric)
        probe.__class__ = Recorder
        probe.reset_state()
        _STATE_NAMES[cls] = list(dict.fromkeys(names))
    return _STATE_NAMES[cls]


def _metric_states(metrics):
    """[(metric, name, value as float64 array)] for every state of every metric."""
    states = []
    for metric in metrics:
        for name in metric_state_names(metric):
            states.append((metric, name, np.asarray(getattr(metric, name), dtype=np.float64)))
    return states


class DataParallel:
    """Data-parallel training over MPI processes, over processes that ``fit`` forks, or over
    threads of this process (Keras 3's ``keras.distribution.DataParallel``).

    Args:
        devices: accepted for Keras compatibility; with MPI, each process is one device.
        communicator: the process group (default: the one :func:`initialize` joined).
        processes: each ``fit`` forks ``processes - 1`` copies of this process and trains
            on slices of every batch in all of them, as ``mpiexec -n processes`` would
            (:mod:`npgrad.distribution.processes`): a plain ``python train.py`` uses every
            core without MPI. ``evaluate`` and ``predict`` fork the same way; the
            ``*_on_batch`` methods run in this process alone. Linux (and the other Unixes
            with ``os.fork``), not macOS or Windows; not with MPI processes or ``threads``.
        threads: run ``threads`` replicas of the model in this process, one thread each, on
            slices of every batch (:mod:`npgrad.distribution.threads`): both cores of a
            2-core machine busy on a conv net or a Transformer without a second process.
            Not with MPI processes. None (the default): one replica per process.

    Attributes:
        gradient_scale: the factor this rank's gradients get before the sum over ranks
            (its share of the current global batch; ``1 / num_processes`` outside ``fit``,
            i.e. an average, as Horovod). Each thread has its own.
    """

    def __init__(self, devices=None, communicator=None, threads=None, processes=None,
                 **kwargs):
        self.communicator = current.communicator() if communicator is None else communicator
        self.devices = devices
        self.runner = None
        self.process_group = None
        threads, processes = _count(threads, "threads"), _count(processes, "processes")
        if threads is not None and processes is not None:
            raise ValueError(f"DataParallel: threads={threads} and processes={processes}; "
                             f"use one or the other")
        for name, value in (("threads", threads), ("processes", processes)):
            if value is not None and self.communicator.size > 1:
                raise ValueError(
                    f"DataParallel: {name}={value} with {self.communicator.size} MPI "
                    f"processes; use one or the other (one thread per process under mpiexec)")
        if processes is not None:
            if not hasattr(os, "fork") or sys.platform == "darwin":
                raise NotImplementedError(
                    f"DataParallel: processes={processes} forks this process, which needs "
                    f"os.fork and a BLAS that survives it (Linux, not {sys.platform}); use "
                    f"mpiexec or threads= instead")
            self.communicator = self.process_group = _processes.ProcessCommunicator(processes)
        if threads is not None:
            self.communicator = _threads.ThreadCommunicator(threads)
            self.runner = _threads.ReplicaRunner(self.communicator)
        self._local = threading.local()
        self.seconds_in_allreduce = 0.0
        self.allreduce_calls = 0

    def forked_ranks(self):
        """The context ``fit``, ``evaluate`` and ``predict`` run in: with ``processes=``,
        every rank forked for the call (:func:`npgrad.distribution.processes.forked_ranks`;
        nothing when already forked), else nothing."""
        group = self.process_group
        if group is None or group.processes == 1 or group.forked:
            return contextlib.nullcontext()
        return _processes.forked_ranks(group)

    @property
    def gradient_scale(self):
        return getattr(self._local, "gradient_scale", 1.0 / self.num_processes)

    @gradient_scale.setter
    def gradient_scale(self, value):
        self._local.gradient_scale = value

    @property
    def threaded(self):
        """Whether the ranks are threads of this process (``threads=``), not MPI processes."""
        return self.runner is not None

    @property
    def updates_weights(self):
        """Whether this rank's optimizer steps update weights: every MPI process (each holds
        its model), only rank 0 among threads (the replicas share its trainable arrays)."""
        return self.runner is None or self.communicator.rank == 0

    def after_update(self):
        """Every rank's optimizer calls this after its (possibly skipped) update: the thread
        replicas wait there until rank 0's update is done."""
        if self.runner is not None:
            self.communicator.barrier()

    def run_replicated(self, model, function):
        """``function(model)`` on every thread replica side by side (``threads=`` only);
        rank 0's result."""
        return self.runner.run(model, function)

    def replicas_of(self, model):
        """The thread replicas made so far for ``model`` (empty without ``threads=``)."""
        return self.runner.known_replicas(model) if self.runner is not None else []

    @property
    def rank(self):
        """This process's index (0 is the chief: it prints and writes files); among threads,
        this thread's."""
        return self.communicator.rank

    @property
    def num_processes(self):
        """The ranks: MPI processes, or threads with ``threads=``."""
        return self.communicator.size

    @property
    def is_chief(self):
        return self.communicator.rank == 0

    # ------------------------------------------------------------- data
    def shard(self, data):
        """This rank's slice of a global batch, and its share ``n_r / n`` of the batch.

        A rank whose slice would be empty (a last batch smaller than the number of ranks)
        gets the batch's first sample with share 0: it computes, but contributes nothing.
        """
        length = _batch_length(data if not isinstance(data, tuple) else data[0])
        part = _rows(length, self.rank, self.num_processes)
        count = part.stop - part.start
        if count == 0:
            return _take(data, slice(0, 1)), 0.0
        return _take(data, part), count / length

    def broadcast_order(self, order):
        """Rank 0's shuffle order (so every rank cuts the same global batches)."""
        order = np.ascontiguousarray(order, dtype=np.int64)
        if self.runner is not None:  # one process, one order (made by the calling thread)
            return order
        return self.communicator.broadcast(order)

    # ------------------------------------------------------------- model
    def _signature(self, arrays):
        text = ";".join(f"{a.shape}:{a.dtype.str}" for a in arrays)
        return np.array([len(arrays), zlib.crc32(text.encode())], dtype=np.int64), text

    def _check_same(self, arrays, what):
        signature, _ = self._signature(arrays)
        gathered = self.communicator.allgather_int64(signature)
        differing = [r for r in range(len(gathered)) if not np.array_equal(gathered[r], gathered[0])]
        if differing:
            counts = ", ".join(f"rank {r}: {int(gathered[r][0])}" for r in differing)
            raise DistributionError(
                f"npgrad.distribution: the {what} differ across processes: rank(s) {differing} "
                f"hold other weight shapes or dtypes than rank 0 (arrays: rank 0: "
                f"{int(gathered[0][0])}, {counts}); every process must build the same model"
            )

    def _broadcast_arrays(self, arrays):
        """Overwrite every array (in place) with rank 0's, one fused broadcast per dtype."""
        by_dtype = {}
        for array in arrays:
            by_dtype.setdefault(array.dtype.str, []).append(array)
        for group in by_dtype.values():
            flat = np.concatenate([a.reshape(-1) for a in group]) if group else None
            self.communicator.broadcast(flat)
            offset = 0
            for array in group:
                array[...] = flat[offset:offset + array.size].reshape(array.shape)
                offset += array.size

    def synchronize_model(self, model):
        """Check that every rank holds the same architecture, then give every rank rank 0's
        weights and optimizer state (called by ``fit`` before the first update). Thread
        replicas are synchronized before every step instead (:meth:`run_replicated`)."""
        if self.runner is not None:
            return
        weights = [w.data for w in model.weights]
        self._check_same(weights, "models")
        self._broadcast_arrays(weights)
        for optimizer, trained in getattr(model, "trained_optimizers", list)():
            state = optimizer.get_state(list(trained.trainable_weights))
            arrays = [np.atleast_1d(np.asarray(state[k])) for k in sorted(state)]
            self._check_same(arrays, "optimizer states")
            self._broadcast_arrays(arrays)
            restored = {k: a.reshape(np.shape(state[k])) for k, a in zip(sorted(state), arrays)}
            optimizer.set_state(restored, list(trained.trainable_weights))

    # ------------------------------------------------------------- gradients
    def reduce_gradients(self, grads):
        """Scale this rank's gradients by its share and sum them over the ranks: one fused
        allreduce per dtype (the gradients are flattened into one buffer)."""
        start = time.perf_counter()
        by_dtype = {}
        for index, grad in enumerate(grads):
            by_dtype.setdefault(grad.dtype.str, []).append(index)
        reduced = list(grads)
        for indices in by_dtype.values():
            flat = np.concatenate([np.ravel(grads[i]) for i in indices])
            if self.gradient_scale != 1.0:
                flat *= flat.dtype.type(self.gradient_scale)
            self.communicator.allreduce_sum(flat)
            offset = 0
            for i in indices:
                size = grads[i].size
                reduced[i] = flat[offset:offset + size].reshape(grads[i].shape)
                offset += size
        self.seconds_in_allreduce += time.perf_counter() - start
        self.allreduce_calls += 1
        return reduced

    # ------------------------------------------------------------- metrics and outputs
    def snapshot_metrics(self, metrics):
        """The metrics' states, to undo a step that must not count (:meth:`restore_metrics`)."""
        return [(metric, name, copy.deepcopy(getattr(metric, name)))
                for metric in metrics for name in metric_state_names(metric)]

    def restore_metrics(self, snapshot):
        for metric, name, value in snapshot:
            setattr(metric, name, value)

    def global_logs(self, metrics, logs):
        """``logs`` with every metric's value computed from the states summed over ranks;
        other numeric log values are averaged over ranks. Local states are left as they were."""
        states = _metric_states(metrics)
        others = [k for k, v in logs.items()
                  if k not in {m.name for m in metrics} and isinstance(v, (int, float, np.number))]
        flat = np.concatenate([s.reshape(-1) for _, _, s in states]
                              + [np.array([float(logs[k]) for k in others])]) if states or others \
            else np.zeros(0)
        self.communicator.allreduce_sum(flat)
        offset, saved = 0, []
        for metric, name, local in states:
            value = flat[offset:offset + local.size].reshape(local.shape)
            offset += local.size
            saved.append((metric, name, getattr(metric, name)))
            setattr(metric, name, float(value) if local.ndim == 0 else value)
        result = dict(logs)
        try:
            for metric in metrics:
                if metric.name in logs:
                    value = metric.result()
                    result[metric.name] = value if isinstance(value, dict) else float(value)
        finally:
            for metric, name, value in saved:
                setattr(metric, name, value)
        for key in others:
            result[key] = float(flat[offset]) / self.num_processes
            offset += 1
        return result

    def gather_outputs(self, outputs):
        """Concatenate every rank's predictions for one batch, in rank (= sample) order."""
        if isinstance(outputs, dict):
            return {k: self.gather_outputs(v) for k, v in outputs.items()}
        if isinstance(outputs, (list, tuple)):
            return [self.gather_outputs(v) for v in outputs]
        return self.communicator.allgather_rows(np.asarray(outputs))
