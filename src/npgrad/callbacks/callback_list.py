"""CallbackList (what fit calls), History and the progress-bar logger."""

from __future__ import annotations



from npgrad.callbacks.callback import Callback
from npgrad.utils.io_utils import print_msg


class CallbackList(Callback):
    """A list of callbacks behaving as one: each hook is called on every callback in order.

    Args:
        callbacks: a Callback or an iterable of them (None: none).
        add_history: append a :class:`History` unless one is already in the list.
        add_progbar: put a :class:`ProgbarLogger` first unless one is already there.
        model: the model, passed to every callback.
        chief: False in the processes of a data-parallel run other than rank 0: callbacks
            that write files (``chief_only = True``: checkpoints, CSV logs, images) are left
            out there, so only rank 0 writes.
        **params: ``fit`` parameters (``verbose``, ``epochs``, ``steps``) for every callback.

    As in Keras, the progress bar runs first (it prints before other callbacks do) and
    History last (it records keys other callbacks add to the epoch logs).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 chief=True, **params):
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
        if not chief:
            self.callbacks = [cb for cb in self.callbacks if not cb.chief_only]
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
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_begin(self, batch, logs=None):
        self._maybe_init_progbar()

    def on_test_batch_begin(self, batch, logs=None):
        if not self._called_in_fit:
            self._maybe_init_progbar()

    def on_predict_batch_begin(self, batch, logs=None):
        self._maybe_init_progbar()

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
        self._maybe_init_progbar()  # started when the first batch began (its time counts)
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
