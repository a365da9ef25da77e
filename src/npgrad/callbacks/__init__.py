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

from npgrad.callbacks.callback import HOOK_NAMES, Callback  # noqa: F401 - HOOK_NAMES is public
from npgrad.callbacks.callback_list import CallbackList, History, ProgbarLogger
from npgrad.callbacks.csv_logger import CSVLogger, LambdaCallback
from npgrad.callbacks.model_checkpoint import ModelCheckpoint
from npgrad.callbacks.monitoring import (
    EarlyStopping,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from npgrad.callbacks.swap_ema_weights import SwapEMAWeights
from npgrad.callbacks.tensorboard import TensorBoard

__all__ = [
    "Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
    "TerminateOnNaN", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
    "LambdaCallback", "SwapEMAWeights", "TensorBoard",
]
