"""Callbacks: hooks into ``fit`` / ``evaluate`` / ``predict`` with the Keras 3 API.

A callback subclasses :class:`Callback` and overrides the hooks it needs. ``fit`` wraps
the user's callbacks in a :class:`CallbackList` (adding :class:`History` and, when
``verbose`` is not 0, a :class:`ProgbarLogger`) and calls every hook on each of them in
order. Epoch-end ``logs`` is one dict shared by all callbacks, so a key a callback adds
(``learning_rate``) is seen by those after it; History comes last and records it.

Example:
    >>> stop = npgrad.callbacks.EarlyStopping(monitor="val_loss", patience=2,
    ...                                       restore_best_weights=True)
    >>> history = model.fit(x, y, epochs=50, validation_split=0.2, callbacks=[stop])
    >>> history.history["val_loss"]        # one float per epoch that ran
"""

from __future__ import annotations

import collections.abc
import csv
import inspect
import math
import numbers
import os
import warnings

import numpy as np

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
    "TerminateOnNaN", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
    "LambdaCallback", "SwapEMAWeights",
]

#: every hook a callback can override, in the order a fit with validation reaches them
HOOK_NAMES = (
    "on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
    "on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end",
    "on_epoch_end", "on_train_end", "on_predict_begin", "on_predict_batch_begin",
    "on_predict_batch_end", "on_predict_end",
)


class Callback:
    """Base class of callbacks: every hook does nothing until a subclass overrides it.

    Attributes:
        model: the model being trained, set by ``fit`` through :meth:`set_model`.
        params: ``fit`` parameters (``verbose``, ``epochs``, ``steps``), set through
            :meth:`set_params`.

    Hooks receive ``logs``, a dict of metric name -> float: at epoch end it holds the
    training metrics and the ``val_`` ones; at batch end the running training metrics.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_params(self, params):
        """Store the ``fit`` parameters dict."""
        self.params = params

    def set_model(self, model):
        """Store the model the callback acts on."""
        self.model = model

    # Keras 2 names: on_train_batch_* call these, so old callbacks still work.
    def on_batch_begin(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_begin` (Keras 2 name)."""

    def on_batch_end(self, batch, logs=None):
        """Alias of :meth:`on_train_batch_end` (Keras 2 name)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based) during ``fit``."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of epoch ``epoch`` with training and validation metrics."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch ``batch`` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after training batch ``batch`` with the running metrics."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before evaluation batch ``batch`` (``evaluate`` and validation)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after evaluation batch ``batch``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction batch ``batch``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction batch ``batch``."""

    def on_train_begin(self, logs=None):
        """Called once at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called once at the end of ``fit`` (also after an early stop)."""

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` (and of each validation pass)."""

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate`` (and of each validation pass)."""

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""


class CallbackList(Callback):
    """A list of callbacks behaving as one: each hook is called on every callback in order.

    Args:
        callbacks: a Callback or an iterable of them (None: none).
        add_history: append a :class:`History` unless one is already in the list.
        add_progbar: put a :class:`ProgbarLogger` first unless one is already there.
        model: the model, passed to every callback.
        **params: ``fit`` parameters (``verbose``, ``epochs``, ``steps``) for every callback.

    As in Keras, the progress bar runs first (it prints before other callbacks do) and
    History last (it records keys other callbacks add to the epoch logs).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks: expected npgrad.callbacks.Callback instances, got "
                    f"{type(cb).__name__}"
                )
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger(count_mode="steps")
            self.callbacks.insert(0, self._progbar)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    @property
    def history(self):
        """The :class:`History` callback in the list (None when there is none)."""
        return self._history

    def append(self, callback):
        """Add a callback at the end."""
        self.callbacks.append(callback)

    def set_params(self, params):
        """Give ``params`` to every callback."""
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        """Give ``model`` to every callback (and set ``model.history`` as Keras does)."""
        self.model = model
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def _dispatch(self, hook, *args, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)  # positional, as Keras calls them

    def on_batch_begin(self, batch, logs=None):
        self._dispatch("on_train_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._dispatch("on_train_batch_end", batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._dispatch("on_train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._dispatch("on_test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._dispatch("on_predict_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs=logs)

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", logs=logs)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


class History(Callback):
    """Records the epoch-end logs; ``fit`` returns it.

    Attributes:
        history: dict metric name -> list with one value per epoch (``"loss"``,
            ``"val_loss"``, ``"accuracy"``...).
        epoch: list of the epoch indices recorded (0-based).
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        # Keras keeps ``history`` across fits of the same History object, resets ``epoch``.
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the per-epoch progress bar of ``fit`` (and of ``evaluate``/``predict``).

    Args:
        count_mode: ``"steps"`` (batches; the only mode, as in Keras 3).

    Reads ``verbose`` (0 silent, 1 bar, 2 one line per epoch), ``epochs`` and ``steps``
    from ``params`` and drives :class:`npgrad.utils.progbar.Progbar`.
    """

    def __init__(self, count_mode="steps"):
        super().__init__()
        if count_mode != "steps":
            raise ValueError(f"ProgbarLogger: count_mode must be 'steps', got {count_mode!r}")
        self.count_mode = count_mode
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None and self.verbose:
            from npgrad.utils.progbar import Progbar  # lazy: utils is above callbacks

            self.progbar = Progbar(self.target, verbose=self.verbose)

    def _update_progbar(self, batch, logs):
        self.seen = batch + 1
        self._maybe_init_progbar()  # started at the first batch: verbose=2 times from there
        if self.verbose == 1:
            self.progbar.update(self.seen, values=list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        if not self.verbose:
            return
        if self.target is None:
            self.target = self.seen
        self._maybe_init_progbar()
        self.progbar.target = self.target
        # the epoch logs (validation included) are shown as given, not averaged
        self.progbar.update(self.target, values=list((logs or {}).items()), finalize=True)


# ----------------------------------------------------------------------------- monitoring
_MAXIMIZED = ("acc", "auc", "precision", "recall", "f1", "fmeasure", "iou")


def _resolve_mode(callback_name, monitor, mode):
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


def _monitor_value(callback_name, monitor, logs, what):
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


def _get_learning_rate(model, callback_name):
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
        self.mode = _resolve_mode("EarlyStopping", monitor, mode)
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
        current = _monitor_value("EarlyStopping", self.monitor, logs, "early stopping")
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
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


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
        self.mode = _resolve_mode("ModelCheckpoint", monitor, mode)
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
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
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
        lr = _get_learning_rate(self.model, "LearningRateScheduler")
        new_lr = self.schedule(epoch, lr) if self._two_arguments else self.schedule(epoch)
        if isinstance(new_lr, np.ndarray) and new_lr.ndim == 0:
            new_lr = new_lr.item()
        if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a float, got {new_lr!r}"
            )
        self.model.optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _get_learning_rate(self.model, "LearningRateScheduler")


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
        self.mode = _resolve_mode("ReduceLROnPlateau", monitor, mode)
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
        logs["learning_rate"] = _get_learning_rate(self.model, "ReduceLROnPlateau")
        current = _monitor_value("ReduceLROnPlateau", self.monitor, logs,
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
                old_lr = _get_learning_rate(self.model, "ReduceLROnPlateau")
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file, one row per epoch.

    Args:
        filename: the CSV file.
        separator: field separator.
        append: append to an existing file (no second header) instead of overwriting it.

    The header is ``epoch`` then the log keys sorted; as in Keras 3, when the first
    epoch has no ``val_`` keys a ``val_`` column is added per key (filled with ``NA``).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, newline="") as file:
                    self.append_header = not file.readline()
            mode = "a"
        else:
            mode = "w"
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _format(value):
        if isinstance(value, str):
            return value
        if isinstance(value, collections.abc.Iterable) and not (
            isinstance(value, np.ndarray) and value.ndim == 0
        ):
            return f"[{', '.join(map(str, value))}]"
        return value

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += ["val_" + key for key in self.keys]
        if self.writer is None:
            dialect = type("NpgradDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, self._format(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None
        self.writer = None


class LambdaCallback(Callback):
    """A callback made of plain functions, for quick one-off hooks.

    Args:
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_train_begin, on_train_end: ``f(logs)``.
        on_train_batch_begin, on_train_batch_end: ``f(batch, logs)``.
        **kwargs: any other hook by name (``on_test_end=f``, ``on_batch_end=f``...).

    Example:
        >>> LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        allowed = set(HOOK_NAMES) | {"on_batch_begin", "on_batch_end"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"LambdaCallback: unknown hook(s) {unknown}; expected some of {sorted(allowed)}"
            )
        hooks.update(kwargs)
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(
                    f"LambdaCallback: {name} must be callable, got {type(function).__name__}"
                )
            setattr(self, name, function)


class SwapEMAWeights(Callback):
    """Evaluate (and optionally checkpoint) with the optimizer's moving-average weights.

    For an optimizer built with ``use_ema=True``. During ``evaluate``, ``predict`` and
    ``fit``'s validation the model holds the moving averages of its trainable weights; the
    raw weights come back afterwards, so training is unaffected (Keras's callback).

    Args:
        swap_on_epoch: also hold the averages between epochs, from each epoch's end to the
            next one's start, so that callbacks after this one (``ModelCheckpoint``) see them.

    Example:
        >>> model.compile(optimizer=npgrad.optimizers.Adam(use_ema=True), loss="mse")
        >>> model.fit(x, y, validation_data=(xv, yv), callbacks=[SwapEMAWeights()])

    Raises:
        ValueError: at the start of training, when the optimizer has ``use_ema=False``.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._raw = None  # the raw weights while the model holds the averages

    def _optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights: the model's optimizer must be built with use_ema=True, got "
                f"{'no optimizer' if optimizer is None else type(optimizer).__name__ + ' without it'}"
            )
        return optimizer

    def _load_averages(self):
        if self._raw is not None:
            return
        optimizer = self._optimizer()
        self._raw = []
        for var in self.model.trainable_weights:
            average = optimizer.moving_average(var)
            if average is not None:  # variables never updated keep their value
                self._raw.append((var, var.data.copy()))
                var.data[...] = average

    def _restore_raw(self):
        if self._raw is None:
            return
        for var, value in self._raw:
            var.data[...] = value
        self._raw = None

    def on_train_begin(self, logs=None):
        self._optimizer()  # fail early, before the first epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._restore_raw()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._load_averages()

    def on_train_end(self, logs=None):
        self._raw = None  # fit has copied the averages into the weights: keep them

    def on_test_begin(self, logs=None):
        self._load_averages()

    def on_test_end(self, logs=None):
        self._restore_raw()

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end
