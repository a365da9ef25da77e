"""ModelCheckpoint: save the model (or its weights) during training."""

from __future__ import annotations

import math
import os
import warnings


from npgrad.callbacks.callback import Callback
from npgrad.callbacks import monitoring
from npgrad.utils.io_utils import print_msg


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during training, with npgrad.saving.

    Args:
        filepath: where to save; may hold ``str.format`` fields filled from the epoch
            (1-based), the batch (1-based, when ``save_freq`` is an int) and the logs:
            ``"ckpt/model-{epoch:02d}-{val_loss:.2f}.npgrad"``. Missing folders are created.
        monitor: logs key deciding "best" when ``save_best_only``.
        verbose: 1 prints a line per save decision.
        save_best_only: save only when ``monitor`` improves on the best so far.
        save_weights_only: write weights only (:func:`npgrad.saving.save_weights`), else
            the whole model with its optimizer state (:func:`npgrad.saving.save_model`).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        save_freq: ``"epoch"``, or an int: save every that many training batches.
        initial_value_threshold: a first value the metric has to beat to be saved.
    """

    chief_only = True  # only rank 0 writes in a data-parallel run

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got {save_freq!r}"
            )
        self.save_freq = save_freq
        self.mode = monitoring.resolve_mode("ModelCheckpoint", monitor, mode)
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = math.inf if self.mode == "min" else -math.inf
        self._batches_seen = 0
        self._current_epoch = 0

    def _improved(self, current):
        return current < self.best if self.mode == "min" else current > self.best

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs):
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise KeyError(
                f'ModelCheckpoint: failed to format the filepath "{self.filepath}" with '
                f"epoch, batch and the logs keys {sorted(logs or {})}. Reason: {error!r}"
            ) from None

    def _save(self, epoch, batch, logs):
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = (logs or {}).get(self.monitor)
            if current is None:
                warnings.warn(
                    f"ModelCheckpoint: can save best model only with {self.monitor} available, "
                    f"skipping. Available metrics are: {','.join((logs or {}).keys())}",
                    RuntimeWarning, stacklevel=2,
                )
                return
            current = float(current)
            if not self._improved(current):
                if self.verbose > 0:
                    print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
