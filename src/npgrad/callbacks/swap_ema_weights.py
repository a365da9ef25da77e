"""SwapEMAWeights: evaluate with the optimizer's moving averages."""

from __future__ import annotations



from npgrad.callbacks.callback import Callback


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
