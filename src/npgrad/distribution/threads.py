"""Data parallelism over threads of one process: a replica of the model per thread.

NumPy runs an element-wise pass (batch norm, a ReLU, a padding copy, im2col) on one core,
and two BLAS threads share only the GEMMs: on a 2-core machine a convolutional net trained
with two BLAS threads keeps the second core idle for much of a step. Two replicas, each
running the whole step on half of the batch with one BLAS thread, keep both cores busy:
NumPy releases the GIL inside every large array operation, so the two replicas' passes run
side by side, as two MPI processes would, without a second process.

``DataParallel(threads=2)`` uses this module:

- :class:`ThreadCommunicator` holds the collectives of :mod:`communicator` (allreduce,
  broadcast, gathers, barrier) for ``size`` threads, each thread's ``rank`` its own
  (the calling thread is rank 0);
- :class:`Replicas` keeps, per model, ``size - 1`` deep copies whose trainable variables
  share the model's arrays (an update by rank 0's optimizer is every replica's update), and
  whose other variables (batch-norm statistics, counters) are copies given the model's
  values before every step: the model's state is rank 0's, as with MPI. A model compiled
  again (or grown new weights) gets new copies;
- :func:`run_replicated` runs one step function on the model (calling thread) and on each
  replica (a worker thread each) and returns rank 0's result. An exception in any thread
  breaks the barrier, so no thread waits for ever, and is raised in the caller.

Each step's gradients are summed over the threads as over MPI ranks (rank order, so runs
are repeatable); the optimizer steps once, in rank 0, while the others wait.
"""

from __future__ import annotations

import copy
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from npgrad import random as npgrad_random
from npgrad.autograd import engine
from npgrad.distribution.communicator import DistributionError
from npgrad.utils.threads import shared_threads


class ThreadCommunicator:
    """Collectives among ``size`` threads of this process (rank = the calling thread's).

    A thread takes its rank with :meth:`bind`; a thread that never did is rank 0. Every
    collective must be entered by all ``size`` ranks, in the same order (as MPI's).

    Args:
        size: the number of threads, >= 1.
    """

    def __init__(self, size):
        self.size = int(size)
        self._local = threading.local()
        self._barrier = threading.Barrier(self.size)
        self._slots = [None] * self.size
        self._total = None

    @property
    def rank(self):
        return getattr(self._local, "rank", 0)

    def bind(self, rank):
        """Make the calling thread rank ``rank``."""
        self._local.rank = int(rank)

    def abort(self):
        """Break the barrier: every rank waiting in (or entering) a collective raises
        :class:`DistributionError`, until :meth:`reset`."""
        self._barrier.abort()

    def reset(self):
        self._barrier.reset()
        self._slots = [None] * self.size

    def _wait(self, what):
        try:
            self._barrier.wait()
        except threading.BrokenBarrierError:
            raise DistributionError(
                f"npgrad.distribution: thread replica {self.rank} of {self.size} stopped in "
                f"{what}: another replica raised an error") from None

    def barrier(self):
        self._wait("a barrier")

    def allreduce_sum(self, buffer):
        """Sum ``buffer`` over the threads, in place (rank 0 adds in rank order into a new
        array, which no rank writes: no third barrier is needed before the next call);
        returns it."""
        self._slots[self.rank] = buffer
        self._wait("an allreduce")
        if self.rank == 0:
            total = self._slots[0].copy()
            for other in self._slots[1:]:
                total += other
            self._total = total
        self._wait("an allreduce")
        np.copyto(buffer, self._total)
        return buffer

    def broadcast(self, buffer, root=0):
        """Overwrite ``buffer`` with ``root``'s."""
        if self.rank == root:
            self._slots[root] = buffer
        self._wait("a broadcast")
        if self.rank != root:
            np.copyto(buffer, self._slots[root])
        self._wait("a broadcast")
        return buffer

    def _gather(self, value, combine, what):
        self._slots[self.rank] = value
        self._wait(what)
        result = combine(list(self._slots))
        self._wait(what)
        return result

    def allgather_int64(self, values):
        """Every rank's ``values`` (1-D int64, one length): a (size, len) array."""
        local = np.ascontiguousarray(values, dtype=np.int64)
        return self._gather(local, np.stack, "an allgather")

    def allgather_rows(self, array):
        """Every rank's ``array`` concatenated along axis 0, in rank order."""
        return self._gather(np.asarray(array), np.concatenate, "a gather of predictions")


def _fingerprint(model):
    """What a replica copies once and must match the model in: its compiled optimizers,
    loss and metrics (``compile`` again makes new ones), and its number of weights."""
    compiled = [getattr(model, name, None) for name in ("compiled_loss", "compiled_metrics")]
    optimizers = [optimizer for optimizer, _ in model.trained_optimizers()]
    return tuple(id(part) for part in compiled + optimizers) + (len(model.weights),)


def _copy_model(model, memo):
    """``copy.deepcopy(model, memo)``, its layers copied first, one by one in the model's
    order: copied in one call, a deep functional graph is walked node after node in one
    recursion (Keras's U-Net-like segmentation example, 72 layers, needed 1,224 frames,
    past Python's limit of 1,000: a RecursionError); copied layer by layer, each copy stops
    at the layers the memo already holds (about 50 frames for the same model)."""
    for layer in model._flatten_layers():
        if layer is not model:
            copy.deepcopy(layer, memo)
    return copy.deepcopy(model, memo)


class Replicas:
    """The ``size - 1`` thread replicas of one model (rank 0 is the model itself).

    Args:
        model: a built model.
        size: ranks in all, including the model.
    """

    def __init__(self, model, size):
        self.fingerprint = _fingerprint(model)
        shared = {id(optimizer): optimizer for optimizer, _ in model.trained_optimizers()}
        for variable in model.weights:  # the copies' variables start on the model's arrays
            shared[id(variable.data)] = variable.data
        # a random stream of its own per replica (dropout masks, a GAN's noise), derived
        # from npgrad's generator: a seeded run repeats, whatever order the threads run in
        self.generators = npgrad_random.side_streams(size - 1)
        self.models = []
        for _ in range(size - 1):
            try:
                self.models.append(_copy_model(model, dict(shared)))
            except Exception as error:
                raise TypeError(
                    f"DataParallel(threads={size}) copies the model for each extra thread, "
                    f"and copy.deepcopy({model.name}) failed: {type(error).__name__}: "
                    f"{error}. Keep objects that cannot be copied (open files, locks, "
                    f"generators) out of the model's attributes") from error
        self.synchronize(model)

    def synchronize(self, model):
        """Give every replica the model's state: its layers' and variables' ``trainable``
        flags, its trainable arrays shared (rank 0's optimizer updates them in place), its
        other variables copied into the replica's own arrays."""
        weights = model.weights
        for replica in self.models:
            for layer, twin in zip(model._flatten_layers(), replica._flatten_layers()):
                if twin.trainable != layer.trainable:
                    twin.trainable = layer.trainable
            # as many weights: a model that grew some has new replicas (_fingerprint)
            for variable, twin in zip(weights, replica.weights, strict=True):
                if twin.trainable != variable.trainable:
                    twin.trainable = variable.trainable
                if variable.trainable:
                    if twin.data is not variable.data:
                        twin.data = variable.data
                elif twin.data is variable.data or twin.data.shape != variable.data.shape:
                    twin.data = variable.data.copy()
                else:
                    np.copyto(twin.data, variable.data)


class ReplicaRunner:
    """The worker threads and the per-model replicas of a thread-parallel distribution.

    Args:
        communicator: the :class:`ThreadCommunicator` the replicas' collectives use.
    """

    def __init__(self, communicator):
        self.communicator = communicator
        self._pool = None
        self._replicas = {}  # id(model) -> (weak reference to the model, Replicas)

    def _entry(self, model):
        entry = self._replicas.get(id(model))
        return entry[1] if entry is not None and entry[0]() is model else None

    def replicas(self, model):
        """The model's :class:`Replicas` (made on first use), synchronized with it."""
        found = self._entry(model)
        if found is None or found.fingerprint != _fingerprint(model):  # new, or recompiled
            for key in [k for k, (ref, _) in self._replicas.items() if ref() is None]:
                del self._replicas[key]  # models that are gone
            found = Replicas(model, self.communicator.size)
            self._replicas[id(model)] = (weakref.ref(model), found)
        else:
            found.synchronize(model)
        return found

    def known_replicas(self, model):
        """The replica models already made for ``model`` (none made here)."""
        found = self._entry(model)
        return found.models if found is not None else []

    def _worker(self, rank, replica, generator, function, grad_enabled):
        self.communicator.bind(rank)
        engine.set_grad_enabled(grad_enabled)
        npgrad_random.set_thread_generator(generator)
        try:
            return function(replica)
        except BaseException:
            self.communicator.abort()
            raise
        finally:
            npgrad_random.set_thread_generator(None)

    def run(self, model, function):
        """``function(model)`` in this thread (rank 0) and ``function(replica)`` in one
        worker thread per replica, side by side; returns rank 0's result.

        Raises:
            The first exception in rank order that is not the broken barrier another
            thread's exception left behind.
        """
        comm = self.communicator
        found = self.replicas(model)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=comm.size - 1,
                                            thread_name_prefix="npgrad-replica")
        comm.bind(0)
        grad_enabled = engine.is_grad_enabled()
        with shared_threads(comm.size):  # one BLAS thread each on 2 cores
            futures = [self._pool.submit(self._worker, rank, replica, generator, function,
                                         grad_enabled)
                       for rank, (replica, generator)
                       in enumerate(zip(found.models, found.generators), start=1)]
            try:
                result = function(model)
            except BaseException as error:  # noqa: BLE001 - re-raised below, after the workers
                comm.abort()
                failure = error
            else:
                failure = None
            errors = [future.exception() for future in futures]  # waits for every worker
        raised = [e for e in [failure, *errors] if e is not None]
        if raised:
            comm.reset()
            # the error itself, not the broken barrier it left the other ranks in
            causes = [e for e in raised if not isinstance(e, DistributionError)]
            raise (causes or raised)[0]
        return result
