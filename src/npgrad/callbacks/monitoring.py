"""Callbacks that watch a monitored value: EarlyStopping, ReduceLROnPlateau; and the
learning-rate schedule and NaN guards."""

from __future__ import annotations

import inspect
import math
import numbers
import warnings

import numpy as np

from npgrad.callbacks.callback import Callback
from npgrad.utils.io_utils import print_msg


_MAXIMIZED = ("acc", "auc", "precision", "recall", "f1", "fmeasure", "iou")


def resolve_mode(callback_name, monitor, mode):
    """'min' or 'max' for ``mode`` ('auto': max for accuracy-like names, else min)."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(
            f"{callback_name}: mode {mode!r} is unknown (expected 'auto', 'min' or 'max'); "
            f"using 'auto'",
            RuntimeWarning, stacklevel=3,
        )
        mode = "auto"
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if any(part in name for part in _MAXIMIZED) else "min"


def monitor_value(callback_name, monitor, logs, what):
    """``logs[monitor]`` as a float, or None with a warning naming the available keys."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{callback_name}: {what} conditioned on metric `{monitor}` which is not "
            f"available. Available metrics are: {','.join(logs.keys())}",
            RuntimeWarning, stacklevel=3,
        )
        return None
    return float(value)


def get_learning_rate(model, callback_name):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            f"{callback_name}: the model's optimizer must have a `learning_rate` attribute "
            f"(compile the model first); got {type(optimizer).__name__}"
        )
    try:
        return float(optimizer.learning_rate)
    except TypeError:
        raise TypeError(
            f"{callback_name}: the optimizer's learning_rate is a "
            f"{type(optimizer.learning_rate).__name__}, not a number; a callback cannot change "
            f"a learning-rate schedule"
        ) from None


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    Args:
        monitor: key of the epoch logs to watch (``"val_loss"``, ``"val_accuracy"``...).
        min_delta: a change smaller than this (in absolute value) is not an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a line when it stops and when it restores weights.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        baseline: the metric must beat this value for ``wait`` to reset.
        restore_best_weights: at the end of training, set the weights of the best epoch
            (Keras 3: whenever a best epoch was seen, stopped early or not).
        start_from_epoch: epochs to let pass before watching (warm-up).

    Attributes:
        stopped_epoch: epoch (0-based) at which it stopped training, 0 if it did not.
        best: best monitored value; best_epoch: its epoch.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.mode = resolve_mode("EarlyStopping", monitor, mode)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch, logs=None):
        current = monitor_value("EarlyStopping", self.monitor, logs, "early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # until something beats it, the first watched epoch is the best one
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # restart the count only when both the previous best and the baseline are beaten
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def _accepts_two_arguments(function):
    try:
        inspect.signature(function).bind(0, 0.1)
        return True
    except TypeError:
        return False
    except ValueError:  # builtins without a signature: assume the Keras 2-argument form
        return True


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of every epoch.

    Args:
        schedule: ``schedule(epoch, lr) -> new_lr`` (epoch 0-based, lr the current rate);
            the Keras 1 form ``schedule(epoch) -> new_lr`` works too.
        verbose: 1 prints the new rate each epoch.

    The epoch logs get a ``"learning_rate"`` entry (so History records it).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._two_arguments = _accepts_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = get_learning_rate(self.model, "LearningRateScheduler")
        new_lr = self.schedule(epoch, lr) if self._two_arguments else self.schedule(epoch)
        if isinstance(new_lr, np.ndarray) and new_lr.ndim == 0:
            new_lr = new_lr.item()
        if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a float, got {new_lr!r}"
            )
        self.model.optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model, "LearningRateScheduler")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a metric stops improving.

    Args:
        monitor: logs key to watch.
        factor: new_lr = lr * factor; must be < 1.
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        min_delta: threshold for measuring a new optimum.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound on the learning rate.

    The epoch logs get a ``"learning_rate"`` entry.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau: factor must be < 1.0, got factor={factor}"
            )
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = resolve_mode("ReduceLROnPlateau", monitor, mode)
        self.min_delta = float(min_delta)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, current):
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def in_cooldown(self):
        """True while waiting ``cooldown`` epochs after a reduction."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["learning_rate"] = get_learning_rate(self.model, "ReduceLROnPlateau")
        current = monitor_value("ReduceLROnPlateau", self.monitor, logs,
                                 "learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = get_learning_rate(self.model, "ReduceLROnPlateau")
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
