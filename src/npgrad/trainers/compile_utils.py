"""What ``compile(loss=..., metrics=...)`` becomes: a CompileLoss and a CompileMetrics object.

They own the bookkeeping for one or several outputs (Keras 3's ``compile_utils``):

- :class:`CompileLoss` turns ``loss`` and ``loss_weights`` (one, a list or a dict keyed by
  output names) into one scalar Tensor per batch, and keeps a Mean tracker of each output's
  unweighted loss (logged as ``<output>_loss`` when several outputs have a loss, as Keras
  3.7 and later).
- :class:`CompileMetrics` turns ``metrics`` and ``weighted_metrics`` into Metric objects,
  built at the first batch (``'accuracy'`` is resolved from the loss and the data, as Keras
  does), updated per output and prefixed ``<output>_`` when there are several outputs.
"""

from __future__ import annotations

import numpy as np

from npgrad import losses as losses_module
from npgrad import metrics as metrics_module
from npgrad.autograd.tensor import Tensor
from npgrad.layers.masks import get_keras_mask
from npgrad.trainers.data_adapter import ArrayGroup


def _outputs_list(y_pred):
    return list(y_pred.values()) if isinstance(y_pred, dict) else list(y_pred)


def _targets_list(y):
    return y.arrays if isinstance(y, ArrayGroup) else list(y)


def _per_output(value, names, what, caller, default=None):
    """A per-output list from a dict keyed by output names, a list of one per output, or one
    value shared by every output."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{caller}: {what} keys {unknown} are not outputs {names}")
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"{caller}: the model has {len(names)} outputs {names}, got {len(value)} {what}"
            )
        return list(value)
    return [value] * len(names)


# ------------------------------------------------------------------ loss
class CompileLoss:
    """The compiled loss of a model with one output or several.

    Args:
        loss: a loss identifier (name, Loss, function), or for several outputs a list (one
            per output) or a dict keyed by output names (None: no loss for that output).
        loss_weights: a float, or per output a list or dict of floats.
        output_names: the model's output names (None or one name: a single output).
        caller: who calls (e.g. ``"model.fit"``), the prefix of error messages.

    Attributes:
        losses: one Loss (or None) per output.
        weights: one float per output.
        trackers: per output, a Mean of its unweighted loss (when several have a loss).
    """

    def __init__(self, loss, loss_weights=None, output_names=None, caller="compile"):
        self.output_names = list(output_names or [])
        self.multi_output = len(self.output_names) > 1
        if self.multi_output:
            names = self.output_names
            given = _per_output(loss, names, "losses", caller)
            if all(g is None for g in given):
                raise ValueError(f"{caller}: pass a loss for at least one output {names}")
            self.losses = [None if g is None else losses_module.as_loss(g) for g in given]
            if loss_weights is None:
                self.weights = [1.0] * len(names)
            elif isinstance(loss_weights, (dict, list, tuple)):
                self.weights = [float(w) for w in
                                _per_output(loss_weights, names, "loss_weights", caller, 1.0)]
            else:
                raise ValueError(
                    f"{caller}: loss_weights must be a list of {len(names)} floats or a dict "
                    f"keyed by the outputs {names}, got {loss_weights!r}"
                )
            # Keras 3.7+ logs each output's loss, before its weight, as "<output>_loss" when
            # several outputs have one (with one, "loss" says it all)
            several = sum(fn is not None for fn in self.losses) > 1
            self.trackers = [metrics_module.Mean(name=f"{n}_loss")
                             if fn is not None and several else None
                             for fn, n in zip(self.losses, names)]
        else:
            if isinstance(loss, (list, tuple)) and len(loss) == 1:
                loss = loss[0]
            elif isinstance(loss, dict) and list(loss) == self.output_names:
                loss = next(iter(loss.values()))
            self.losses = [losses_module.as_loss(loss)]
            self.weights = [_scalar_weight(loss_weights, caller)]
            self.trackers = []
        self.given = loss
        self._last_values = None

    @property
    def loss(self):
        """The Loss of a single-output model, or the per-output list."""
        return self.losses if self.multi_output else self.losses[0]

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted sum of the outputs' losses (a scalar Tensor); remembers each
        output's unweighted value for :meth:`update_trackers`."""
        if not self.multi_output:
            total = self.losses[0](y_true, y_pred, sample_weight=sample_weight)
            return total * self.weights[0] if self.weights[0] != 1.0 else total
        total, values = None, []
        for loss, weight, target, pred in zip(self.losses, self.weights, _targets_list(y_true),
                                              _outputs_list(y_pred)):
            if loss is None:
                values.append(None)
                continue
            term = loss(target, pred, sample_weight=sample_weight)
            values.append(float(np.asarray(term.data)))
            if weight != 1.0:
                term = term * weight
            total = term if total is None else total + term
        self._last_values = values
        return total

    def update_trackers(self, batch_size):
        """Feed the last batch's per-output losses to their trackers (several outputs)."""
        if self._last_values is None:
            return
        for tracker, value in zip(self.trackers, self._last_values):
            if tracker is not None:
                tracker.update_state(value, sample_weight=batch_size)
        self._last_values = None

    def get_config(self):
        """The loss as saved: the names the user gave, else the Loss objects' configs."""
        if not self.multi_output:
            return _serialize_loss(self.given, self.losses[0])
        given = self.given
        if isinstance(given, dict):
            given = [given.get(n) for n in self.output_names]
        elif not isinstance(given, (list, tuple)):
            given = [given] * len(self.output_names)
        return [None if loss is None else _serialize_loss(g, loss)
                for g, loss in zip(given, self.losses)]


def _scalar_weight(loss_weights, caller):
    if loss_weights is None:
        return 1.0
    if isinstance(loss_weights, dict):
        loss_weights = list(loss_weights.values())
    if isinstance(loss_weights, (list, tuple)):
        if len(loss_weights) != 1:
            raise ValueError(f"{caller}: a single-output model takes one loss weight, got "
                             f"{len(loss_weights)}")
        loss_weights = loss_weights[0]
    return float(loss_weights)


def _serialize_loss(given, loss):
    """The loss as saved: the string the user gave, else the Loss object's config."""
    if given is None or isinstance(given, str):
        return given
    try:
        return losses_module.serialize(loss)
    except ValueError:
        return None  # a custom function: the model saves without its loss


# ------------------------------------------------------------------ metrics
def log_value(result):
    """A metric's result as logged: a float, or an array for per-threshold/per-class results
    (Keras logs those as arrays too)."""
    array = np.asarray(result, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def is_accuracy_name(spec):
    return isinstance(spec, str) and spec in ("accuracy", "acc")


def _spec_name(spec):
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return (spec.get("config") or {}).get("name") or spec.get("class_name")
    return getattr(spec, "name", None) or getattr(spec, "__name__", str(spec))


def accuracy_for(name, y_true, y_pred, loss):
    """'accuracy' as Keras resolves it: from the loss, else from the shapes."""
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


def masked_metric_weight(mask, sample_weight):
    """A timestep mask (N, T) as metric weights, times per-sample weights (N,) if any."""
    weight = np.asarray(mask, dtype=np.float64)
    if sample_weight is not None:
        sample = np.asarray(sample_weight, dtype=np.float64)
        weight = weight * sample.reshape(sample.shape + (1,) * (weight.ndim - sample.ndim))
    return weight


class CompileMetrics:
    """The compiled metrics of a model with one output or several.

    Args:
        metrics, weighted_metrics: lists of metric identifiers; for several outputs, a dict
            keyed by output names or a list with one entry (a metric, a list or None) per
            output, as Keras 3. ``weighted_metrics`` also receive ``sample_weight``.
        output_names: the model's output names (several: per-output metrics).
        caller: who calls (e.g. ``"model.fit"``), the prefix of error messages.

    Attributes:
        metrics: the Metric objects (empty until the first batch builds them).
    """

    #: the name Keras 3 gives this container in ``model.metrics`` before it is built
    name = "compile_metrics"

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None, caller="compile",
                 compile_loss=None):
        self.compile_loss = compile_loss
        metrics = [] if metrics is None else metrics
        weighted_metrics = [] if weighted_metrics is None else weighted_metrics
        self.output_names = list(output_names or [])
        self.given = (metrics, weighted_metrics)
        self.specs = []  # (identifier, weighted, output index or None)
        if len(self.output_names) > 1:
            for weighted, given in enumerate((metrics, weighted_metrics)):
                what = "weighted_metrics" if weighted else "metrics"
                for index, specs in enumerate(self._per_output(given, what, caller)):
                    self.specs += [(spec, bool(weighted), index) for spec in specs]
        else:
            if not isinstance(metrics, (list, tuple)) \
                    or not isinstance(weighted_metrics, (list, tuple)):
                raise TypeError(f"{caller}: metrics must be a list, got {type(metrics).__name__}")
            self.specs = [(m, False, None) for m in metrics] \
                + [(m, True, None) for m in weighted_metrics]
        for spec, _, _ in self.specs:  # fail now on bad names, not at the first batch
            if not is_accuracy_name(spec):
                metrics_module.get(spec)
        self.metrics = []
        self.built = False

    def _per_output(self, metrics, what, caller):
        names = self.output_names
        if not metrics:
            return [[] for _ in names]
        if isinstance(metrics, dict):
            unknown = sorted(set(metrics) - set(names))
            if unknown:
                raise ValueError(f"{caller}: {what} keys {unknown} are not outputs {names}")
            entries = [metrics.get(n) for n in names]
        elif isinstance(metrics, (list, tuple)) and len(metrics) == len(names):
            entries = list(metrics)
        else:
            raise ValueError(
                f"{caller}: for a model with {len(names)} outputs {names}, {what} must be a dict "
                f"keyed by output names or a list with one entry (a metric, a list of metrics "
                f"or None) per output, as in Keras; got {metrics!r}"
            )
        return [[] if e is None else list(e) if isinstance(e, (list, tuple)) else [e]
                for e in entries]

    def _prefix(self, index):
        return "" if index is None else f"{self.output_names[index]}_"

    @property
    def names(self):
        """The metric names, as logged (known before the first batch)."""
        if self.built:
            return [m.name for m in self.metrics]
        return [self._prefix(index) + _spec_name(spec) for spec, _, index in self.specs]

    def build(self, y_true, y_pred, compile_loss):
        """Create the Metric objects from the first batch (accuracy's kind needs the data)."""
        built = []
        for spec, _, index in self.specs:
            if index is None:
                truth, pred, loss = y_true, y_pred, compile_loss.loss if compile_loss else None
            else:
                truth, pred = y_true[index], y_pred[index]
                loss = compile_loss.losses[index] if compile_loss else None
            metric = accuracy_for(spec, truth, pred, loss) if is_accuracy_name(spec) \
                else metrics_module.get(spec)
            if index is not None:
                metric.name = self._prefix(index) + metric.name
            built.append(metric)
        self.metrics = built
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Update every metric with one batch (ndarrays or Tensors; lists for several outputs).

        Timestep masks attached to the predictions (Keras masking) weight the metrics that
        average per-step values, so masked steps do not count.
        """
        if len(self.output_names) > 1:
            outputs = _outputs_list(y_pred)
            masks = [get_keras_mask(p) for p in outputs]
            y_pred = [p.data if isinstance(p, Tensor) else np.asarray(p) for p in outputs]
            y_true = _targets_list(y_true)
        elif isinstance(y_pred, Tensor):
            masks, y_pred = [get_keras_mask(y_pred)], y_pred.data
        else:
            masks, y_pred = [None], np.asarray(y_pred)
        if not self.built:
            self.build(y_true, y_pred, self.compile_loss)
        for metric, (_, weighted, index) in zip(self.metrics, self.specs):
            truth, pred, mask = (y_true, y_pred, masks[0]) if index is None \
                else (y_true[index], y_pred[index], masks[index])
            weight = sample_weight if weighted else None
            if mask is not None and isinstance(metric, metrics_module.MeanMetricWrapper):
                weight = masked_metric_weight(mask, weight)  # masked steps do not count
            metric.update_state(truth, pred, sample_weight=weight)

    def result(self):
        """Each metric's result so far, as a dict of floats (empty before the first batch)."""
        return {m.name: log_value(m.result()) for m in self.metrics}

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def get_config(self):
        """``(metrics, weighted_metrics)`` as saved, keeping a multi-output structure."""
        return tuple(_serialize_metric_structure(m) for m in self.given)


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
