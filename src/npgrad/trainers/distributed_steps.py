"""One batch under a data-parallel distribution: the part of the trainer that shards.

Without a distribution a batch goes to ``train_step``/``test_step``/``predict_step`` as is.
Under :class:`~npgrad.distribution.DataParallel` each rank (an MPI process, or a thread
replica with ``threads=``) runs the step on its slice of the global batch: the optimizer
sums the gradients over the ranks, the logs come from metric states summed over the ranks,
predictions are gathered back in order. With ``threads=`` the calling thread runs rank 0 on
the model itself and the replicas run beside it (:mod:`npgrad.distribution.threads`).
"""

from __future__ import annotations

import weakref

import numpy as np

from npgrad.distribution import current as distribution_state
from npgrad.utils.packing import unpack_x_y_sample_weight


class DistributedSteps:
    """Mixin of :class:`~npgrad.trainers.trainer.Trainer`: one batch, sharded over ranks."""

    def _train_batch(self, data, data_parallel):
        """``train_step`` on one batch; with a data-parallel distribution on this rank's
        slice of it (:meth:`_distributed_train_step`), with ``threads=`` on every thread
        replica side by side."""
        if data_parallel is None:
            return flat_logs(self.train_step(data))
        return flat_logs(self._on_every_rank("_distributed_train_step", data, data_parallel))

    def _on_every_rank(self, method, data, data_parallel):
        """``method(data_parallel, data)`` on this rank; with ``threads=``, on the model
        (rank 0) and on every thread replica side by side, rank 0's result returned."""
        if not data_parallel.threaded:
            return getattr(self, method)(data_parallel, data)
        if not self.built:  # the replicas copy a built model
            self._build_for(data_parallel.shard(data)[0])
        return data_parallel.run_replicated(
            self, lambda model: getattr(model, method)(data_parallel, data))

    def _build_for(self, local):
        """Build the weights from a batch's input shape (before the first update, the ranks
        must hold the same model)."""
        if not self.built:
            x, _, _ = unpack_x_y_sample_weight(local)
            self.build((None,) + tuple(np.shape(x)[1:]))

    def _distributed_train_step(self, data_parallel, data):
        """``train_step`` on this rank's slice of the global batch; gradients are summed over
        ranks by the optimizer, logs from metric states summed over ranks."""
        local, share = data_parallel.shard(data)
        synchronized = getattr(self, "_synchronized_with", None)  # a weak reference
        if synchronized is None or synchronized() is not data_parallel:
            self._build_for(local)
            data_parallel.synchronize_model(self)
            self._synchronized_with = weakref.ref(data_parallel)
        snapshot = data_parallel.snapshot_metrics(self._built_metrics()) if share == 0 else None
        data_parallel.gradient_scale = share
        try:
            logs = self.train_step(local)
        finally:
            data_parallel.gradient_scale = 1.0 / data_parallel.num_processes
        if snapshot is not None:  # an empty slice: the stand-in sample must not count
            data_parallel.restore_metrics(snapshot)
            before = {id(metric) for metric, _, _ in snapshot}
            for metric in self._built_metrics():  # built by this very step: nothing counted
                if id(metric) not in before:
                    metric.reset_state()
            logs = self.get_metrics_result()
        return data_parallel.global_logs(self._built_metrics(), logs)

    def _test_batch(self, data, data_parallel):
        """``test_step`` on one batch (under no_grad); with a data-parallel distribution each
        rank scores its slice and the logs come from the metric states summed over ranks."""
        if data_parallel is None:
            return flat_logs(self.test_step(data))
        return flat_logs(self._on_every_rank("_sharded_test_batch", data, data_parallel))

    def _sharded_test_batch(self, data_parallel, data):
        local, share = data_parallel.shard(data)
        logs = self.test_step(local) if share else self.get_metrics_result()
        return data_parallel.global_logs(self._built_metrics(), logs)

    def _predict_batch(self, data):
        data_parallel = distribution_state.active()
        if data_parallel is None:
            return self.predict_step(data)
        return self._on_every_rank("_sharded_predict_batch", data, data_parallel)

    def _sharded_predict_batch(self, data_parallel, data):
        local, share = data_parallel.shard(data)  # each rank predicts its slice, then all
        out = self.predict_step(local)            # ranks gather the slices in order
        if not share:
            out = _take_rows(out, 0)
        return data_parallel.gather_outputs(out)


def flat_logs(logs):
    """A step's logs with nested dicts merged into the top level, as Keras flattens them: a
    ``train_step`` may return ``{"loss": l, "compile_metrics": {"mae": m}}``."""
    if not isinstance(logs, dict) or not any(isinstance(v, dict) for v in logs.values()):
        return logs
    flat = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(flat_logs(value))
        else:
            flat[key] = value
    return flat


def _take_rows(out, count):
    if isinstance(out, dict):
        return {k: v[:count] for k, v in out.items()}
    if isinstance(out, list):
        return [v[:count] for v in out]
    return out[:count]
