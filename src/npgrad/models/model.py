"""Model: a Layer that trains. ``compile`` chooses optimizer, loss and metrics; ``fit`` loops.

``train_step`` is one batch (forward with ``training=True``, loss, backward, optimizer
step, zeroed grads, metrics); ``fit`` is the loop around it: epochs, shuffling from
npgrad's seeded generator, validation, callbacks, progress bar, History. ``evaluate`` and
``predict`` run without a graph (``no_grad``) and with ``training=False``.

Subclass it Keras style (layers as attributes, maths in ``call``) or use ``Sequential``:

Example:
    >>> class TwoLayer(npgrad.models.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = npgrad.layers.Dense(16, activation="relu")
    ...         self.out = npgrad.layers.Dense(3, activation="softmax")
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
    >>> model = TwoLayer()
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=5, validation_split=0.2, verbose=0)
    >>> loss, acc = model.evaluate(x, y, verbose=0)
"""

from __future__ import annotations

import math

import numpy as np

from npgrad import losses as losses_module
from npgrad import metrics as metrics_module
from npgrad import random as npgrad_random
from npgrad.autograd.engine import no_grad
from npgrad.autograd.tensor import Tensor
from npgrad.layers.layer import Layer
from npgrad.utils.allocator import keep_freed_memory

_COMPILE_KEYWORDS = ("steps_per_execution", "auto_scale_loss")


def _as_array(data, what, owner):
    """A NumPy array from an array, a Tensor or nested lists; None stays None."""
    if data is None:
        return None
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, np.ndarray):
        return data
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {what} must be a NumPy array, got {type(data).__name__}") from None
    if array.dtype == object:
        raise TypeError(
            f"{owner}: {what} must be one NumPy array (ragged lists or several inputs are not "
            f"supported), got {type(data).__name__}"
        )
    return array


def _check_lengths(owner, **arrays):
    """All arrays hold the same number of samples; else ValueError naming every size."""
    sizes = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"{owner}: x and y must have the same number of samples; {listed}")


def _batches(n, batch_size, order=None):
    """Index slices (contiguous) or index arrays (shuffled) of consecutive batches."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def _positive_int(value, name, owner):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _verbosity(verbose, owner):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"{owner}: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights ``class_weight[label]`` (1.0 for classes not in the dict), as Keras."""
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = labels[..., 0] if labels.shape[-1] == 1 else np.argmax(labels, axis=-1)
    labels = np.round(labels).astype(np.int64).reshape(len(labels))
    weights = np.ones(len(labels), dtype=np.float32)
    for cls, weight in class_weight.items():
        weights[labels == int(cls)] = float(weight)
    return weights


class Model(Layer):
    """A Layer with a training loop (Keras ``Model``).

    Args:
        name: model name (default ``'model'``, numbered); other Layer arguments as Layer.

    Attributes:
        optimizer: the Optimizer set by ``compile``.
        loss: the Loss object set by ``compile``.
        compile_config: JSON-able arguments that re-create the ``compile`` call (saving).
        history: the :class:`~npgrad.callbacks.History` of the last ``fit``.
        stop_training: set it to True (from a callback) to end ``fit`` after the batch.
    """

    # inputs reach the first layer as given: each layer casts (Embedding keeps integers)
    cast_inputs = False

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(
                "Model(inputs, outputs): the functional API is not supported by npgrad; use "
                "npgrad.models.Sequential or subclass Model and write call()"
            )
        super().__init__(**kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.compile_config = None
        self.stop_training = False
        self.history = None
        self._loss_weight = 1.0
        self._metric_specs = []  # (identifier, weighted) as given to compile
        self._compiled_metrics = None  # Metric objects, created at the first batch
        self._metric_weighted = []  # per compiled metric: does it receive sample_weight
        self._loss_tracker = metrics_module.Mean(name="loss")

    # ------------------------------------------------------------- structure
    @property
    def layers(self):
        """The direct sub-layers (for a subclassed model: the Layer attributes)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """A sub-layer by name or by index (position in ``layers``).

        Raises:
            ValueError: no layer of that name, or an index out of range.
        """
        if isinstance(name, (int, np.integer)) and index is None:
            name, index = None, int(name)
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{self.name}: get_layer index {index} is out of range for {len(layers)} layers"
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"{self.name}: no layer named {name!r}; layers: {[layer.name for layer in layers]}"
        )

    def build(self, input_shape):
        """Create every weight by running the model once on a zero batch of one sample.

        Args:
            input_shape: input shape with the batch axis first (it may be None).
        """
        shape = (1,) + tuple(input_shape)[1:]
        if any(n is None for n in shape):
            raise ValueError(f"{self.name}: cannot build from input shape {tuple(input_shape)}")
        with no_grad():
            self.call(Tensor(np.zeros(shape, dtype=self.dtype)), training=False)
        self.built = True
        self.input_shape_built = tuple(input_shape)

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Print a table of the layers: name (type), output shape, parameter count, totals.

        Args:
            line_length: total width of the table.
            positions: accepted for Keras compatibility (ignored).
            print_fn: function called with each line (default ``print``).
        """
        from npgrad.utils.summary import print_summary

        print_summary(self, self._summary_rows(), line_length=line_length, print_fn=print_fn)

    def _summary_rows(self):
        return [(layer, None) for layer in self.layers]

    # ------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, jit_compile=None, **kwargs):
        """Configure the model for training.

        Args:
            optimizer: name (``'adam'``), config dict or Optimizer instance.
            loss: name (``'sparse_categorical_crossentropy'``, ``'mse'``...), Loss instance,
                config dict or a per-sample function ``fn(y_true, y_pred)``.
            metrics: list of names (``'accuracy'``, ``'mae'``...), Metric instances or
                functions. ``'accuracy'``/``'acc'`` becomes binary, categorical or sparse
                categorical accuracy from the loss (or else the output shape), as in Keras.
            loss_weights: a float (or a one-element list/dict) scaling the loss.
            weighted_metrics: metrics that also receive ``sample_weight``.
            run_eagerly, jit_compile: accepted for Keras compatibility (npgrad is eager).
            **kwargs: ``steps_per_execution``, ``auto_scale_loss`` (accepted, ignored).

        Raises:
            ValueError: unknown optimizer, loss or metric names (listing valid ones).
        """
        unknown = sorted(set(kwargs) - set(_COMPILE_KEYWORDS))
        if unknown:
            raise TypeError(f"{self.name}.compile: unexpected keyword argument(s) {unknown}")
        from npgrad import optimizers

        self.optimizer = optimizers.get(optimizer)
        self.loss = losses_module.as_loss(loss)
        self._loss_weight = self._scalar_loss_weight(loss_weights)
        metrics = [] if metrics is None else metrics
        weighted_metrics = [] if weighted_metrics is None else weighted_metrics
        if not isinstance(metrics, (list, tuple)) or not isinstance(weighted_metrics, (list, tuple)):
            raise TypeError(f"{self.name}.compile: metrics must be a list, got {type(metrics).__name__}")
        self._metric_specs = [(m, False) for m in metrics] + [(m, True) for m in weighted_metrics]
        for spec, _ in self._metric_specs:  # fail now on bad names, not at the first batch
            if not _is_accuracy_name(spec):
                metrics_module.get(spec)
        self._compiled_metrics = None
        self.compiled = True
        self.stop_training = False
        self.compile_config = {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": _serialize_loss(loss, self.loss),
            "metrics": _serialize_metrics(metrics),
            "weighted_metrics": _serialize_metrics(weighted_metrics),
            "loss_weights": loss_weights,
        }

    def _scalar_loss_weight(self, loss_weights):
        if loss_weights is None:
            return 1.0
        if isinstance(loss_weights, dict):
            loss_weights = list(loss_weights.values())
        if isinstance(loss_weights, (list, tuple)):
            if len(loss_weights) != 1:
                raise ValueError(
                    f"{self.name}.compile: a single-output model takes one loss weight, got "
                    f"{len(loss_weights)}"
                )
            loss_weights = loss_weights[0]
        return float(loss_weights)

    def _assert_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {method}()")

    # ------------------------------------------------------------- metrics
    @property
    def metrics(self):
        """The loss tracker followed by the compiled metrics (once the first batch ran)."""
        return [self._loss_tracker] + list(self._compiled_metrics or [])

    @property
    def metrics_names(self):
        """``['loss', <metric names>...]``: the order of ``evaluate``'s list."""
        if self._compiled_metrics is not None:
            return ["loss"] + [m.name for m in self._compiled_metrics]
        return ["loss"] + [_spec_name(spec) for spec, _ in self._metric_specs]

    def reset_metrics(self):
        """Reset the loss tracker and every compiled metric."""
        for metric in self.metrics:
            metric.reset_state()

    def _build_metrics(self, y_true, y_pred):
        built = []
        for spec, _ in self._metric_specs:
            if _is_accuracy_name(spec):
                built.append(self._accuracy_for(spec, y_true, y_pred))
            else:
                built.append(metrics_module.get(spec))
        self._metric_weighted = [weighted for _, weighted in self._metric_specs]
        self._compiled_metrics = built

    def _accuracy_for(self, name, y_true, y_pred):
        """'accuracy' as Keras resolves it: from the loss, else from the shapes."""
        loss = self.loss
        fn = getattr(loss, "fn", None)
        if isinstance(loss, losses_module.SparseCategoricalCrossentropy) \
                or fn is losses_module.sparse_categorical_crossentropy:
            return metrics_module.SparseCategoricalAccuracy(name=name)
        if isinstance(loss, losses_module.CategoricalCrossentropy) \
                or fn is losses_module.categorical_crossentropy:
            return metrics_module.CategoricalAccuracy(name=name)
        if isinstance(loss, losses_module.BinaryCrossentropy) \
                or fn is losses_module.binary_crossentropy:
            # on logits the decision boundary is 0, not 0.5 (Keras keeps 0.5: a known trap)
            threshold = 0.0 if getattr(loss, "from_logits", False) else 0.5
            return metrics_module.BinaryAccuracy(name=name, threshold=threshold)
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if y_pred.shape[-1] == 1:
            return metrics_module.BinaryAccuracy(name=name)
        if y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
            return metrics_module.SparseCategoricalAccuracy(name=name)
        return metrics_module.CategoricalAccuracy(name=name)

    def compute_metrics(self, x, y, y_pred, sample_weight=None, loss=None):
        """Update the loss tracker and the metrics with one batch; return the logs so far.

        Args:
            x: the batch inputs (their length weights the loss tracker, as in Keras).
            y: targets (ndarray).
            y_pred: predictions (ndarray or Tensor).
            sample_weight: per-sample weights for ``weighted_metrics``.
            loss: the batch's total loss (scalar Tensor or float).

        Returns:
            dict of floats: each metric's result so far, then ``"loss"``.
        """
        y_pred = y_pred.data if isinstance(y_pred, Tensor) else np.asarray(y_pred)
        if loss is not None:
            self._loss_tracker.update_state(float(np.asarray(getattr(loss, "data", loss))),
                                            sample_weight=len(x))
        if self._compiled_metrics is None:
            self._build_metrics(y, y_pred)
        for metric, weighted in zip(self._compiled_metrics, self._metric_weighted):
            weight = sample_weight if weighted else None
            metric.update_state(y, y_pred, sample_weight=weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The current result of every compiled metric, then the loss (dict of floats)."""
        logs = {m.name: float(m.result()) for m in self._compiled_metrics or []}
        logs["loss"] = float(self._loss_tracker.result())
        return logs

    # ------------------------------------------------------------- steps
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss times its weight, plus the layers' regularization penalties.

        Returns:
            Scalar Tensor.
        """
        if self.loss is None:
            raise ValueError(
                f"{self.name}: no loss to compute; pass loss= to compile() (or override train_step)"
            )
        total = self.loss(y, y_pred, sample_weight=sample_weight)
        if self._loss_weight != 1.0:
            total = total * self._loss_weight
        for penalty in self.losses:
            total = total + penalty
        return total

    def train_step(self, x, y, sample_weight=None):
        """One training step on one batch.

        Forward with ``training=True``, loss (plus regularization), ``backward``,
        ``optimizer.apply_gradients`` over the trainable weights that received a gradient,
        gradients zeroed, metrics updated.

        Args:
            x: input batch (ndarray), shape (N, ...).
            y: targets for the batch.
            sample_weight: optional per-sample weights, shape (N,).

        Returns:
            Logs: dict of floats (metrics and ``"loss"`` averaged over the epoch so far).
        """
        built = self.built
        variables = self.trainable_weights if built else []
        for var in variables:  # gradients accumulate: start from none
            var.grad = None
        y_pred = self(x, training=True)
        if not built:  # a lazy model builds its weights in the call
            variables = self.trainable_weights
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
        loss.backward()
        self.optimizer.apply_gradients([(var.grad, var) for var in variables if var.grad is not None])
        for var in variables:
            var.grad = None
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def test_step(self, x, y, sample_weight=None):
        """One evaluation step (call it under ``no_grad``): loss and metrics with ``training=False``.

        Returns:
            Logs: dict of floats accumulated since the last reset.
        """
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def predict_step(self, x):
        """The model's output for one batch, as an ndarray (``training=False``)."""
        return self(x, training=False).data

    # ------------------------------------------------------------- loops
    def _callback_list(self, callbacks, verbose, epochs, steps, add_history=False):
        from npgrad.callbacks import CallbackList

        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(callbacks, add_history=add_history, add_progbar=verbose != 0,
                            model=self, verbose=verbose, epochs=epochs, steps=steps)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for a number of epochs (Keras semantics).

        Args:
            x: inputs, ndarray of shape (N, ...).
            y: targets, length N.
            batch_size: samples per step (default 32).
            epochs: index of the last epoch (training runs ``initial_epoch .. epochs - 1``).
            verbose: ``'auto'`` (= 1), 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: list of :class:`~npgrad.callbacks.Callback`.
            validation_split: fraction in [0, 1) of the data held out for validation: the
                LAST samples, taken before shuffling.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``;
                overrides ``validation_split``.
            shuffle: reshuffle the training samples each epoch (npgrad's seeded generator,
                so ``npgrad.utils.set_random_seed`` makes the run reproducible).
            class_weight: dict class index -> weight, folded into the sample weights.
            sample_weight: per-sample weights, shape (N,).
            initial_epoch: epoch to start from (to resume training).
            steps_per_epoch: batches per epoch (default: all of the data).
            validation_steps: batches of validation data per evaluation (default: all).
            validation_batch_size: batch size for validation (default ``batch_size``).
            validation_freq: validate every this many epochs.

        Returns:
            The :class:`~npgrad.callbacks.History`: ``history.history["loss"]`` etc., one
            value per epoch; the epoch ``loss`` is the mean of the batch losses weighted by
            batch size.

        Raises:
            RuntimeError: the model was not compiled.
            ValueError: x and y lengths differ (both are named), bad argument values, or
                input of the wrong feature shape (the first layer's error).
        """
        keep_freed_memory()  # reuse big blocks across steps (see npgrad.utils.allocator)
        self._assert_compiled("fit")
        owner = f"{self.name}.fit"
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size", owner)
        epochs = int(epochs)
        verbose = _verbosity(verbose, owner)
        x, y = _as_array(x, "x", owner), _as_array(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        if x is None or y is None:
            raise ValueError(f"{owner}: x and y are required (got {'no x' if x is None else 'no y'})")
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        if class_weight is not None:
            weights = _class_weights_to_sample_weights(y, class_weight)
            sample_weight = weights if sample_weight is None else sample_weight * weights

        val = None
        if validation_data is not None:
            val = self._unpack_validation(validation_data, owner)
        elif validation_split:
            if not 0.0 < float(validation_split) < 1.0:
                raise ValueError(f"{owner}: validation_split must be in [0, 1), got {validation_split!r}")
            split_at = int(len(x) * (1.0 - float(validation_split)))
            if split_at == 0 or split_at == len(x):
                raise ValueError(
                    f"{owner}: validation_split={validation_split} of {len(x)} samples leaves "
                    f"{split_at} for training and {len(x) - split_at} for validation"
                )
            val = (x[split_at:], y[split_at:],
                   None if sample_weight is None else sample_weight[split_at:])
            x, y = x[:split_at], y[:split_at]
            sample_weight = None if sample_weight is None else sample_weight[:split_at]
        if len(x) == 0:
            raise ValueError(f"{owner}: x is empty")

        steps = math.ceil(len(x) / batch_size)
        if steps_per_epoch is not None:
            steps = min(_positive_int(steps_per_epoch, "steps_per_epoch", owner), steps)
        callbacks = self._callback_list(callbacks, verbose, epochs, steps, add_history=True)
        self.stop_training = False
        callbacks.on_train_begin()
        logs = {}
        def train_batch(index):
            batch_weight = None if sample_weight is None else sample_weight[index]
            return self.train_step(x[index], y[index], batch_weight)

        for epoch in range(int(initial_epoch), epochs):
            logs = self._train_epoch(epoch, len(x), batch_size, steps, shuffle, callbacks,
                                     train_batch) or logs
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_loop(
                    *val, batch_size=validation_batch_size or batch_size, callbacks=callbacks,
                    steps=validation_steps,
                )
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        if epochs > int(initial_epoch) and self.optimizer is not None:  # Keras: EMA -> weights
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callbacks.on_train_end(logs)
        return callbacks.history

    def _train_epoch(self, epoch, n, batch_size, steps, shuffle, callbacks, train_batch):
        """One epoch of ``train_batch(index)`` calls over shuffled batches; the last logs.

        Shuffling draws from npgrad's seeded generator; stops early after ``steps`` batches
        or when a callback sets ``stop_training``.
        """
        self.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        order = npgrad_random.generator().permutation(n) if shuffle else None
        logs = None
        for step, index in enumerate(_batches(n, batch_size, order)):
            if step >= steps:
                break
            callbacks.on_train_batch_begin(step)
            logs = train_batch(index)
            callbacks.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        return logs

    def _unpack_validation(self, validation_data, owner):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                f"{owner}: validation_data must be (x_val, y_val) or (x_val, y_val, "
                f"sample_weight_val), got {type(validation_data).__name__}"
            )
        x_val = _as_array(validation_data[0], "validation x", owner)
        y_val = _as_array(validation_data[1], "validation y", owner)
        w_val = _as_array(validation_data[2], "validation sample_weight", owner) \
            if len(validation_data) == 3 else None
        _check_lengths(f"{owner} (validation_data)", x=x_val, y=y_val, sample_weight=w_val)
        return x_val, y_val, w_val

    def _evaluate_loop(self, x, y, sample_weight, batch_size, callbacks, steps=None):
        """Reset the metrics, run test_step over every batch under no_grad, return the logs."""
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = {}
        with no_grad():
            for step, index in enumerate(_batches(len(x), batch_size)):
                if steps is not None and step >= steps:
                    break
                callbacks.on_test_batch_begin(step)
                weight = None if sample_weight is None else sample_weight[index]
                logs = self.test_step(x[index], y[index], weight)
                callbacks.on_test_batch_end(step, logs)
        callbacks.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on data, with ``training=False`` and no graph.

        Args:
            x: inputs (N, ...). y: targets, length N.
            batch_size: samples per batch (default 32).
            verbose: ``'auto'`` (= 1), 0 or 1/2 (a progress bar).
            sample_weight: optional per-sample weights (N,).
            steps: number of batches to run (default: all).
            callbacks: list of callbacks (their ``on_test_*`` hooks run).
            return_dict: return ``{name: value}`` instead of a list.

        Returns:
            The loss (float) when no metrics were compiled, else ``[loss, *metrics]`` in
            ``metrics_names`` order, or a dict with ``return_dict=True``.
        """
        keep_freed_memory()
        self._assert_compiled("evaluate")
        owner = f"{self.name}.evaluate"
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size", owner)
        verbose = _verbosity(verbose, owner)
        x, y = _as_array(x, "x", owner), _as_array(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        if x is None or y is None:
            raise ValueError(f"{owner}: x and y are required")
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        if len(x) == 0:
            raise ValueError(f"{owner}: x is empty")
        n_steps = math.ceil(len(x) / batch_size) if steps is None else int(steps)
        callbacks = self._callback_list(callbacks, verbose, 1, n_steps)
        logs = self._evaluate_loop(x, y, sample_weight, batch_size, callbacks, steps=steps)
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[name] for name in self.metrics_names[1:]]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, in batches, with ``training=False`` and no graph.

        Args:
            x: inputs, shape (N, ...).
            batch_size: samples per batch (default 32).
            verbose: ``'auto'`` (= 1), 0 or 1/2.
            steps: number of batches to run (default: all).
            callbacks: list of callbacks (their ``on_predict_*`` hooks run).

        Returns:
            ndarray of shape (N, ...) (the outputs concatenated along the batch axis).
        """
        keep_freed_memory()
        owner = f"{self.name}.predict"
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size", owner)
        verbose = _verbosity(verbose, owner)
        x = _as_array(x, "x", owner)
        if x is None or len(x) == 0:
            raise ValueError(f"{owner}: x is empty")
        n_steps = math.ceil(len(x) / batch_size) if steps is None else int(steps)
        callbacks = self._callback_list(callbacks, verbose, 1, n_steps)
        callbacks.on_predict_begin()
        outputs = []
        with no_grad():
            for step, index in enumerate(_batches(len(x), batch_size)):
                if step >= n_steps:
                    break
                callbacks.on_predict_batch_begin(step)
                out = self.predict_step(x[index])
                outputs.append(out)
                callbacks.on_predict_batch_end(step, {"outputs": out})
        callbacks.on_predict_end()
        return np.concatenate(outputs, axis=0)

    # ------------------------------------------------------------- single batches
    def _batch_logs(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[name] for name in self.metrics_names[1:]]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One ``train_step`` on exactly this batch (metrics reset first).

        Returns:
            The loss (float) without metrics, else ``[loss, *metrics]`` (or a dict).
        """
        self._assert_compiled("train_on_batch")
        owner = f"{self.name}.train_on_batch"
        x, y = _as_array(x, "x", owner), _as_array(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        if class_weight is not None:
            weights = _class_weights_to_sample_weights(y, class_weight)
            sample_weight = weights if sample_weight is None else sample_weight * weights
        self.reset_metrics()
        return self._batch_logs(self.train_step(x, y, sample_weight), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One ``test_step`` on this batch (metrics reset first, no graph).

        Returns:
            The loss (float) without metrics, else ``[loss, *metrics]`` (or a dict).
        """
        self._assert_compiled("test_on_batch")
        owner = f"{self.name}.test_on_batch"
        x, y = _as_array(x, "x", owner), _as_array(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        self.reset_metrics()
        with no_grad():
            logs = self.test_step(x, y, sample_weight)
        return self._batch_logs(logs, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as an ndarray (no graph, ``training=False``)."""
        with no_grad():
            return self.predict_step(_as_array(x, "x", f"{self.name}.predict_on_batch"))

    # ------------------------------------------------------------- saving
    def save(self, filepath, overwrite=True, **kwargs):
        """Save architecture, weights, compile config and optimizer state (``npgrad.saving``)."""
        from npgrad import saving

        return saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Save only the weights, in ``weights`` order."""
        from npgrad import saving

        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load weights written by ``save_weights`` or ``save`` into this (built) model."""
        from npgrad import saving

        return saving.load_weights(self, filepath)


# ------------------------------------------------------------------ compile helpers
def _is_accuracy_name(spec):
    return isinstance(spec, str) and spec in ("accuracy", "acc")


def _spec_name(spec):
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return (spec.get("config") or {}).get("name") or spec.get("class_name")
    return getattr(spec, "name", None) or getattr(spec, "__name__", str(spec))


def _serialize_loss(given, loss):
    """The loss as saved: the string the user gave, else the Loss object's config."""
    if given is None or isinstance(given, str):
        return given
    try:
        return losses_module.serialize(loss)
    except ValueError:
        return None  # a custom function: the model saves without its loss


def _serialize_metrics(metrics):
    """Names as given, built-in Metric objects as configs; custom ones are left out."""
    out = []
    for metric in metrics:
        if isinstance(metric, str):
            out.append(metric)
            continue
        try:
            out.append(metrics_module.serialize(metrics_module.get(metric)))
        except ValueError:
            continue
    return out or None
