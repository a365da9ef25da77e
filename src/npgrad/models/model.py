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


class _Structure:
    """Several arrays of one length (the inputs of a multi-input model, or the targets of a
    multi-output one), indexed and sliced alike: ``s[index]`` is a ``_Structure`` again."""

    __slots__ = ("arrays",)

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return _Structure([a[index] for a in self.arrays])


def _as_structure(data, what, owner, names):
    """One array for a single name, else a ``_Structure`` of arrays in ``names`` order.

    ``data`` may be a list/tuple (in order) or a dict keyed by ``names``.
    """
    if data is None:
        return None
    if isinstance(data, _Structure):
        return data
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        unknown = sorted(set(data) - set(names))
        if missing or unknown:
            raise ValueError(
                f"{owner}: {what} is keyed by {sorted(data)}, the model's names are {list(names)}"
                + (f"; missing {missing}" if missing else "")
                + (f"; unexpected {unknown}" if unknown else "")
            )
        data = [data[n] for n in names]
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        got = f"a list of {len(data)}" if isinstance(data, (list, tuple)) else f"one {type(data).__name__}"
        raise ValueError(
            f"{owner}: the model has {len(names)} {'inputs' if what.endswith('x') else 'outputs'} "
            f"{list(names)}; pass {what} as a list of {len(names)} arrays or a dict keyed by these "
            f"names, got {got}"
        )
    arrays = [_as_array(a, f"{what}[{n!r}]", owner) for a, n in zip(data, names)]
    sizes = {n: len(a) for n, a in zip(names, arrays)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{owner}: the arrays of {what} must have the same number of samples; "
                         f"got {sizes}")
    return _Structure(arrays)


def _single(data, names):
    """Unwrap ``[array]`` or ``{name: array}`` given for a model with one input or output."""
    if isinstance(data, (list, tuple)) and len(data) == 1 and isinstance(data[0], (np.ndarray, Tensor)):
        return data[0]
    if isinstance(data, dict) and names is not None and list(data) == list(names):
        return data[names[0]]
    return data


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

    def __new__(cls, *args, **kwargs):
        # Keras: Model(inputs, outputs) makes a functional model
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from npgrad.models.functional import Functional

            cls = Functional
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(
                f"{type(self).__name__}: a subclassed Model cannot take inputs/outputs in npgrad; "
                f"build npgrad.Model(inputs, outputs) (functional) or write call()"
            )
        super().__init__(**kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.compile_config = None
        self.stop_training = False
        self.history = None
        self._loss_weight = 1.0
        self._output_losses = None  # per output (Loss or None) for a multi-output model
        self._output_loss_trackers = []  # per output with a loss: Mean of its weighted loss
        self._batch_output_losses = None  # the last batch's weighted loss per output
        self._output_loss_weights = None
        self._metric_specs = []  # (identifier, weighted) as given to compile
        self._compiled_metrics = None  # Metric objects, created at the first batch
        self._metric_weighted = []  # per compiled metric: does it receive sample_weight
        self._metric_outputs = []  # per metric spec: its output index (several outputs) or None
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

    def _n_inputs(self):
        return 1

    def _n_outputs(self):
        return 1

    def _as_inputs(self, data, what, owner):
        """x as one array, or a ``_Structure`` for a multi-input model (list or dict of arrays)."""
        names = getattr(self, "input_names", None)
        if self._n_inputs() == 1:
            return _as_array(_single(data, names), what, owner)
        return _as_structure(data, what, owner, names)

    def _as_targets(self, data, what, owner):
        """y as one array, or a ``_Structure`` for a multi-output model (list or dict of arrays)."""
        names = getattr(self, "output_names", None)
        if self._n_outputs() == 1:
            return _as_array(_single(data, names), what, owner)
        return _as_structure(data, what, owner, names)

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
        metrics = [] if metrics is None else metrics
        weighted_metrics = [] if weighted_metrics is None else weighted_metrics
        if self._n_outputs() > 1:
            self._compile_outputs(loss, loss_weights)
        else:
            if isinstance(loss, (list, tuple)) and len(loss) == 1:
                loss = loss[0]
            elif isinstance(loss, dict) and list(loss) == list(getattr(self, "output_names", [])):
                loss = next(iter(loss.values()))
            self.loss = losses_module.as_loss(loss)
            self._loss_weight = self._scalar_loss_weight(loss_weights)
            self._output_losses = self._output_loss_weights = None
            self._output_loss_trackers = []
        if self._output_losses is not None:  # several outputs: metrics per output
            per_output = [self._metrics_per_output(metrics, "metrics"),
                          self._metrics_per_output(weighted_metrics, "weighted_metrics")]
            self._metric_specs, self._metric_outputs = [], []
            for weighted, given in enumerate(per_output):
                for index, specs in enumerate(given):
                    self._metric_specs += [(spec, bool(weighted)) for spec in specs]
                    self._metric_outputs += [index] * len(specs)
        else:
            if not isinstance(metrics, (list, tuple)) \
                    or not isinstance(weighted_metrics, (list, tuple)):
                raise TypeError(
                    f"{self.name}.compile: metrics must be a list, got {type(metrics).__name__}"
                )
            self._metric_specs = [(m, False) for m in metrics] + [(m, True) for m in weighted_metrics]
            self._metric_outputs = [None] * len(self._metric_specs)
        for spec, _ in self._metric_specs:  # fail now on bad names, not at the first batch
            if not _is_accuracy_name(spec):
                metrics_module.get(spec)
        self._compiled_metrics = None
        self.compiled = True
        self.stop_training = False
        self.compile_config = {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": _serialize_loss(loss, self.loss) if self._output_losses is None
            else _serialize_output_losses(loss, self._output_losses, self.output_names),
            "metrics": _serialize_metric_structure(metrics),
            "weighted_metrics": _serialize_metric_structure(weighted_metrics),
            "loss_weights": loss_weights,
        }

    def _metrics_per_output(self, metrics, what):
        """Keras 3's metrics of a multi-output model: a dict keyed by output names, or a list
        with one entry per output; an entry is None, one metric, or a list of metrics.

        Returns:
            A list (one per output) of lists of metric identifiers.
        """
        names = list(self.output_names)
        if not metrics:
            return [[] for _ in names]
        if isinstance(metrics, dict):
            unknown = sorted(set(metrics) - set(names))
            if unknown:
                raise ValueError(f"{self.name}.compile: {what} keys {unknown} are not outputs {names}")
            entries = [metrics.get(n) for n in names]
        elif isinstance(metrics, (list, tuple)) and len(metrics) == len(names):
            entries = list(metrics)
        else:
            raise ValueError(
                f"{self.name}.compile: for a model with {len(names)} outputs {names}, {what} must "
                f"be a dict keyed by output names or a list with one entry (a metric, a list of "
                f"metrics or None) per output, as in Keras; got {metrics!r}"
            )
        return [[] if e is None else list(e) if isinstance(e, (list, tuple)) else [e]
                for e in entries]

    def _compile_outputs(self, loss, loss_weights):
        """Per-output losses and weights of a multi-output model (summed as Keras does)."""
        names = list(self.output_names)
        if isinstance(loss, dict):
            unknown = sorted(set(loss) - set(names))
            if unknown:
                raise ValueError(f"{self.name}.compile: loss keys {unknown} are not outputs {names}")
            given = [loss.get(n) for n in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != len(names):
                raise ValueError(
                    f"{self.name}.compile: the model has {len(names)} outputs {names}, got "
                    f"{len(loss)} losses"
                )
            given = list(loss)
        else:  # one loss for every output (Keras)
            given = [loss] * len(names)
        if all(g is None for g in given):
            raise ValueError(f"{self.name}.compile: pass a loss for at least one output {names}")
        self._output_losses = [None if g is None else losses_module.as_loss(g) for g in given]
        if loss_weights is None:
            weights = [1.0] * len(names)
        elif isinstance(loss_weights, dict):
            unknown = sorted(set(loss_weights) - set(names))
            if unknown:
                raise ValueError(
                    f"{self.name}.compile: loss_weights keys {unknown} are not outputs {names}"
                )
            weights = [float(loss_weights.get(n, 1.0)) for n in names]
        elif isinstance(loss_weights, (list, tuple)) and len(loss_weights) == len(names):
            weights = [float(w) for w in loss_weights]
        else:
            raise ValueError(
                f"{self.name}.compile: loss_weights must be a list of {len(names)} floats or a "
                f"dict keyed by the outputs {names}, got {loss_weights!r}"
            )
        self._output_loss_weights = weights
        # Keras 3 logs each output's (weighted) loss as "<output>_loss"
        self._output_loss_trackers = [None if fn is None else metrics_module.Mean(name=f"{n}_loss")
                                      for fn, n in zip(self._output_losses, names)]
        self.loss = self._output_losses
        self._loss_weight = 1.0

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
        """The loss tracker, the per-output loss trackers (several outputs), then the
        compiled metrics (once the first batch ran)."""
        return ([self._loss_tracker] + [t for t in self._output_loss_trackers if t is not None]
                + list(self._compiled_metrics or []))

    @property
    def metrics_names(self):
        """``['loss', <metric names>...]``: the order of ``evaluate``'s list."""
        losses = ["loss"] + [t.name for t in self._output_loss_trackers if t is not None]
        if self._compiled_metrics is not None:
            return losses + [m.name for m in self._compiled_metrics]
        return losses + [self._output_prefix(index) + _spec_name(spec)
                           for (spec, _), index in zip(self._metric_specs, self._metric_outputs)]

    def _output_prefix(self, index):
        """'' for a single output, else ``'<output name>_'`` (Keras 3's metric names)."""
        return "" if index is None else f"{self.output_names[index]}_"

    def reset_metrics(self):
        """Reset the loss tracker and every compiled metric."""
        for metric in self.metrics:
            metric.reset_state()

    def _build_metrics(self, y_true, y_pred):
        """The Metric objects, at the first batch (accuracy's kind depends on the data).

        For several outputs ``y_true`` and ``y_pred`` are lists, one entry per output.
        """
        built = []
        for (spec, _), index in zip(self._metric_specs, self._metric_outputs):
            if index is None:
                truth, pred, loss = y_true, y_pred, self.loss
            else:
                truth, pred, loss = y_true[index], y_pred[index], self._output_losses[index]
            if _is_accuracy_name(spec):
                metric = self._accuracy_for(spec, truth, pred, loss)
            else:
                metric = metrics_module.get(spec)
            if index is not None:
                metric.name = self._output_prefix(index) + metric.name
            built.append(metric)
        self._metric_weighted = [weighted for _, weighted in self._metric_specs]
        self._compiled_metrics = built

    def _accuracy_for(self, name, y_true, y_pred, loss=None):
        """'accuracy' as Keras resolves it: from the loss, else from the shapes."""
        loss = self.loss if loss is None else loss
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
        if self._output_losses is not None:  # several outputs: lists, one entry per output
            outputs = list(y_pred.values()) if isinstance(y_pred, dict) else list(y_pred)
            masks = [getattr(p, "_keras_mask", None) for p in outputs]
            y_pred = [p.data if isinstance(p, Tensor) else np.asarray(p) for p in outputs]
            y = y.arrays if isinstance(y, _Structure) else list(y)
        elif isinstance(y_pred, Tensor):
            masks, y_pred = [y_pred._keras_mask], y_pred.data
        else:
            masks, y_pred = [None], np.asarray(y_pred)
        if loss is not None:
            self._loss_tracker.update_state(float(np.asarray(getattr(loss, "data", loss))),
                                            sample_weight=len(x))
            if self._batch_output_losses is not None:
                for tracker, value in zip(self._output_loss_trackers, self._batch_output_losses):
                    if tracker is not None:
                        tracker.update_state(value, sample_weight=len(x))
                self._batch_output_losses = None
        if self._compiled_metrics is None:
            self._build_metrics(y, y_pred)
        for metric, weighted, index in zip(self._compiled_metrics, self._metric_weighted,
                                           self._metric_outputs):
            truth, pred, mask = (y, y_pred, masks[0]) if index is None \
                else (y[index], y_pred[index], masks[index])
            weight = sample_weight if weighted else None
            if mask is not None and isinstance(metric, metrics_module.MeanMetricWrapper):
                weight = _masked_metric_weight(mask, weight)  # masked steps do not count
            metric.update_state(truth, pred, sample_weight=weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The current result of every compiled metric, then the loss (dict of floats)."""
        logs = {m.name: float(m.result()) for m in self._compiled_metrics or []}
        logs["loss"] = float(self._loss_tracker.result())
        for tracker in self._output_loss_trackers:
            if tracker is not None:
                logs[tracker.name] = float(tracker.result())
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
        if self._output_losses is not None:
            total = self._multi_output_loss(y, y_pred, sample_weight)
        else:
            total = self.loss(y, y_pred, sample_weight=sample_weight)
        if self._loss_weight != 1.0:
            total = total * self._loss_weight
        for penalty in self.losses:
            total = total + penalty
        return total

    def _multi_output_loss(self, y, y_pred, sample_weight):
        """Sum over outputs of weight * loss(y_i, y_pred_i) (outputs without a loss skipped)."""
        targets = y.arrays if isinstance(y, _Structure) else list(y)
        predictions = list(y_pred.values()) if isinstance(y_pred, dict) else list(y_pred)
        total = None
        values = []
        for loss, weight, target, pred in zip(self._output_losses, self._output_loss_weights,
                                              targets, predictions):
            if loss is None:
                values.append(None)
                continue
            term = loss(target, pred, sample_weight=sample_weight)
            if weight != 1.0:
                term = term * weight
            values.append(float(np.asarray(term.data)))
            total = term if total is None else total + term
        self._batch_output_losses = values  # logged by compute_metrics as "<output>_loss"
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
        """The model's output for one batch, as an ndarray (``training=False``); a list or
        dict of them for several outputs."""
        out = self(x, training=False)
        if isinstance(out, Tensor):
            return out.data
        return {k: v.data for k, v in out.items()} if isinstance(out, dict) else [v.data for v in out]

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
        x, y = self._as_inputs(x, "x", owner), self._as_targets(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        if x is None or y is None:
            raise ValueError(f"{owner}: x and y are required (got {'no x' if x is None else 'no y'})")
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        if class_weight is not None:
            weights = _class_weights_to_sample_weights(_one(y, owner, "class_weight"), class_weight)
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

        steps, callbacks = self._begin_training(len(x), batch_size, steps_per_epoch, callbacks,
                                                verbose, epochs, owner)
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
        if epochs > int(initial_epoch):
            self._finalize_variable_values()
        callbacks.on_train_end(logs)
        return callbacks.history

    def _begin_training(self, n, batch_size, steps_per_epoch, callbacks, verbose, epochs, owner):
        """Steps per epoch (all batches, or ``steps_per_epoch`` if fewer) and the callback
        list (History included), ``on_train_begin`` called; shared by every ``fit``."""
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(_positive_int(steps_per_epoch, "steps_per_epoch", owner), steps)
        callbacks = self._callback_list(callbacks, verbose, epochs, steps, add_history=True)
        self.stop_training = False
        callbacks.on_train_begin()
        return steps, callbacks

    def _finalize_variable_values(self):
        """When training ends, an optimizer with ``use_ema`` copies its averages into the
        weights (Keras's ``fit``)."""
        if self.optimizer is not None:
            self.optimizer.finalize_variable_values(self.trainable_weights)

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
        x_val = self._as_inputs(validation_data[0], "validation x", owner)
        y_val = self._as_targets(validation_data[1], "validation y", owner)
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
        x, y = self._as_inputs(x, "x", owner), self._as_targets(y, "y", owner)
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
        x = self._as_inputs(x, "x", owner)
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
        if isinstance(outputs[0], np.ndarray):
            return np.concatenate(outputs, axis=0)
        if isinstance(outputs[0], dict):
            return {k: np.concatenate([o[k] for o in outputs], axis=0) for k in outputs[0]}
        return [np.concatenate(parts, axis=0) for parts in zip(*outputs)]

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
        x, y = self._as_inputs(x, "x", owner), self._as_targets(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        if class_weight is not None:
            weights = _class_weights_to_sample_weights(_one(y, owner, "class_weight"), class_weight)
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
        x, y = self._as_inputs(x, "x", owner), self._as_targets(y, "y", owner)
        sample_weight = _as_array(sample_weight, "sample_weight", owner)
        _check_lengths(owner, x=x, y=y, sample_weight=sample_weight)
        self.reset_metrics()
        with no_grad():
            logs = self.test_step(x, y, sample_weight)
        return self._batch_logs(logs, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as an ndarray (no graph, ``training=False``)."""
        with no_grad():
            return self.predict_step(self._as_inputs(x, "x", f"{self.name}.predict_on_batch"))

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
def _masked_metric_weight(mask, sample_weight):
    """A timestep mask (N, T) as metric weights, times per-sample weights (N,) if any."""
    weight = np.asarray(mask, dtype=np.float64)
    if sample_weight is not None:
        sample = np.asarray(sample_weight, dtype=np.float64)
        weight = weight * sample.reshape(sample.shape + (1,) * (weight.ndim - sample.ndim))
    return weight


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


def _serialize_output_losses(given, losses, names):
    """Per-output losses as saved: a list in output order (None where an output has none)."""
    if isinstance(given, dict):
        given = [given.get(n) for n in names]
    elif not isinstance(given, (list, tuple)):
        given = [given] * len(names)
    return [None if loss is None else _serialize_loss(g, loss) for g, loss in zip(given, losses)]


def _one(y, owner, what):
    if isinstance(y, _Structure):
        raise NotImplementedError(f"{owner}: {what} is not supported for a model with several outputs")
    return y


def _serialize_metric_structure(metrics):
    """Metrics as saved, keeping a multi-output structure (dict, or one entry per output)."""
    if isinstance(metrics, dict):
        return {name: _serialize_metrics(m if isinstance(m, (list, tuple)) else [m])
                for name, m in metrics.items() if m is not None}
    if isinstance(metrics, (list, tuple)) and any(isinstance(m, (list, tuple)) for m in metrics):
        return [None if m is None else _serialize_metrics(m if isinstance(m, (list, tuple)) else [m])
                for m in metrics]
    return _serialize_metrics(metrics or [])


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
