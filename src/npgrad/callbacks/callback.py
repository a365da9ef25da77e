"""The Callback base class and the names of its hooks."""

from __future__ import annotations





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

    #: True for callbacks that write files: in a data-parallel run only rank 0 runs them
    chief_only = False

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
