"""Stateful metrics by Keras name, computed on plain ndarrays (no graph).

A metric accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``
adds a batch, ``result()`` returns the value so far as a Python float, ``reset_state()``
starts again (``fit`` resets at each epoch). Calling a metric updates it and returns the
result, as in Keras.

Example:
    >>> import numpy as np, npgrad
    >>> m = npgrad.metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    >>> m.result()
    0.5
"""

from __future__ import annotations

import re

import numpy as np

from npgrad.autograd.tensor import Tensor


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _match_ranks(y_true, y_pred):
    """Drop or add a trailing axis of size 1 on y_true so its rank equals y_pred's (Keras)."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    try:
        np.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
        raise ValueError(
            f"targets of shape {y_true.shape} do not match predictions of shape {y_pred.shape} "
            f"(integer class labels need an accuracy or a sparse_* metric)"
        ) from None
    return y_true


def _sparse_labels(y_true, y_pred):
    """Integer labels of shape y_pred.shape[:-1] from (N,) or (N, 1) labels."""
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"labels of shape {y_true.shape} do not match predictions of shape {y_pred.shape} "
            f"(expected {y_pred.shape[:-1]} or {y_pred.shape[:-1] + (1,)})"
        )
    return y_true.astype(np.int64)


# ------------------------------------------------------------------ per-sample functions
def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` elementwise, else 0.0 (ranks matched first)."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = _match_ranks(y_true, y_pred)
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``y_true == (y_pred > threshold)``.

    Shapes: y_pred (N, ..., d), y_true the same (or without a trailing 1); returns (N, ...).
    """
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = _match_ranks(y_true, y_pred)
    predicted = (y_pred > threshold).astype(np.float32)
    return np.mean(y_true.astype(np.float32) == predicted, axis=-1).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """``argmax(y_true) == argmax(y_pred)`` along the last axis; shapes (N, C) -> (N,)."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """``y_true == argmax(y_pred)``; labels (N,) or (N, 1), predictions (N, C) -> (N,)."""
    y_pred = _array(y_pred)
    labels = _sparse_labels(_array(y_true), y_pred)
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(labels, y_pred, k):
    """True where the label's score is among the k largest (ties count in favour, as TF)."""
    label_scores = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    better = np.sum(y_pred > label_scores, axis=-1)
    return (better < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where ``argmax(y_true)`` is among the top ``k`` predictions; (N, C) -> (N,)."""
    y_pred = _array(y_pred)
    return _in_top_k(np.argmax(_array(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the top ``k`` predictions; (N, C) -> (N,)."""
    y_pred = _array(y_pred)
    return _in_top_k(_sparse_labels(_array(y_true), y_pred), y_pred, k)


def mean_squared_error(y_true, y_pred):
    """Per-sample ``mean((y_true - y_pred)^2, axis=-1)`` on ndarrays."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = _match_ranks(y_true, y_pred)
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Per-sample ``mean(|y_true - y_pred|, axis=-1)`` on ndarrays."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = _match_ranks(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


# ------------------------------------------------------------------ base classes
class Metric:
    """Base class of stateful metrics.

    Subclasses implement ``update_state``, ``result`` and ``reset_state``.

    Args:
        name: the key under which ``fit`` logs the metric.
        dtype: accepted for Keras compatibility (states are float64, results Python floats).
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype

    def update_state(self, y_true, y_pred, sample_weight=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_state(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """JSON-able constructor arguments."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """Create a metric from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4g}>"


def _snake(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class Mean(Metric):
    """Weighted mean of all values seen: ``sum(w * v) / sum(w)``.

    Args:
        name: defaults to ``'mean'``.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """Add values (any shape) with optional weights broadcastable to them.

        A weight of shape (N,) applies to every value of sample n (Keras broadcasting).
        """
        values = np.asarray(_array(values), dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
            return
        weight = np.asarray(_array(sample_weight), dtype=np.float64)
        while weight.ndim > values.ndim and weight.shape[-1] == 1:
            weight = weight[..., 0]
        while weight.ndim < values.ndim:
            weight = weight[..., None]
        try:
            weight = np.broadcast_to(weight, values.shape)
        except ValueError:
            raise ValueError(
                f"{self.name}: sample_weight of shape {np.shape(sample_weight)} does not match "
                f"values of shape {values.shape}"
            ) from None
        self.total += float((values * weight).sum())
        self.count += float(weight.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """Weighted sum of all values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(_array(values), dtype=np.float64)
        if sample_weight is not None:
            values = values * np.asarray(_array(sample_weight), dtype=np.float64).reshape(
                np.shape(sample_weight) + (1,) * (values.ndim - np.ndim(sample_weight))
            )
        self.total += float(values.sum())

    def result(self):
        return self.total


class MeanMetricWrapper(Mean):
    """Mean over samples of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Args:
        fn: function of ndarrays returning per-sample values.
        name: defaults to ``fn.__name__``.
        **kwargs: extra arguments for ``fn``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: y_true and y_pred as ``fn`` expects, sample_weight of shape (N,)."""
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (Keras ``Accuracy``)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels.

    Args:
        threshold: decision threshold on probabilities (use 0.0 for logits).
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches ``argmax`` of one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the ``k`` highest predictions.

    Args:
        k: number of top predictions considered.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions.

    Args:
        k: number of top predictions considered.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """Mean over samples of the per-sample mean squared error."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean over samples of the per-sample mean absolute error."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class _ConfusionMetric(Metric):
    """Counts true/false positives/negatives of ``y_pred > threshold`` against binary labels."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.thresholds = 0.5 if thresholds is None else thresholds
        if not np.isscalar(self.thresholds) or not 0.0 <= float(self.thresholds) <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: thresholds must be one float in [0, 1], got {thresholds!r}"
            )
        self.reset_state()

    def reset_state(self):
        self.true_positives = 0.0
        self.false_positives = 0.0
        self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: y_true binary labels, y_pred probabilities of the same shape."""
        y_pred = _array(y_pred)
        y_true = _match_ranks(_array(y_true), y_pred).astype(bool)
        predicted = y_pred > self.thresholds
        weight = np.ones(y_pred.shape)
        if sample_weight is not None:
            w = np.asarray(_array(sample_weight), dtype=np.float64)
            weight = np.broadcast_to(w.reshape(w.shape + (1,) * (y_pred.ndim - w.ndim)), y_pred.shape)
        self.true_positives += float(weight[predicted & y_true].sum())
        self.false_positives += float(weight[predicted & ~y_true].sum())
        self.false_negatives += float(weight[~predicted & y_true].sum())

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}


class Precision(_ConfusionMetric):
    """``tp / (tp + fp)`` of binary predictions (0.0 before any positive prediction).

    Args:
        thresholds: probability above which a prediction is positive (default 0.5).
    """

    def __init__(self, thresholds=None, name="precision", dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        denominator = self.true_positives + self.false_positives
        return self.true_positives / denominator if denominator else 0.0


class Recall(_ConfusionMetric):
    """``tp / (tp + fn)`` of binary predictions (0.0 before any positive label).

    Args:
        thresholds: probability above which a prediction is positive (default 0.5).
    """

    def __init__(self, thresholds=None, name="recall", dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        denominator = self.true_positives + self.false_negatives
        return self.true_positives / denominator if denominator else 0.0


# ------------------------------------------------------------------ lookup
_CLASSES = {
    cls.__name__: cls
    for cls in (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy,
                SparseCategoricalAccuracy, TopKCategoricalAccuracy,
                SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
                Precision, Recall)
}
# Keras function names (and their short aliases) -> the class computing them
_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "precision": Precision, "recall": Recall,
}  # fmt: skip


def get(identifier):
    """Resolve a metric to a :class:`Metric` instance.

    Args:
        identifier: a Keras name (``'accuracy'``, ``'mae'``, ``'sparse_categorical_accuracy'``)
            or class name (``'Precision'``); the instance is named by the string given, so
            ``'acc'`` logs as ``"acc"``. A ``{"class_name", "config"}`` dict, a Metric
            (returned as is) or a per-sample function of ndarrays (wrapped in
            :class:`MeanMetricWrapper`).

    Note:
        ``Model.compile`` resolves ``'accuracy'``/``'acc'`` further from the loss and the
        output shape (binary, categorical or sparse categorical), as Keras does.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(
            f"unknown metric {identifier!r}; valid names: {sorted(set(_BY_NAME) | set(_CLASSES))}"
        )
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"metric must be a name, a dict, a Metric or a function, got {type(identifier).__name__}"
    )


def serialize(metric):
    """``{"class_name", "config"}`` of a built-in Metric (JSON-able)."""
    if type(metric).__name__ not in _CLASSES:
        raise ValueError(f"cannot serialize custom metric {metric!r}; use a built-in metric to save")
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """Inverse of :func:`serialize` (a name is passed to :func:`get`)."""
    if isinstance(config, str):
        return get(config)
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _CLASSES:
        raise ValueError(f"unknown metric config {config!r}; valid classes: {sorted(_CLASSES)}")
    return _CLASSES[name].from_config(config.get("config", {}))
