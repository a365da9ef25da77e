"""The Metric base class, Mean, Sum and MeanMetricWrapper; shared input helpers.

Metrics are computed on plain ndarrays (no graph).

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


def as_array(x):
    """A Tensor's data, or ``np.asarray(x)``."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def match_ranks(y_true, y_pred):
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


def sparse_labels(y_true, y_pred):
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


# ------------------------------------------------------------------ base classes
class Metric:
    """Base class of stateful metrics.

    Subclasses implement ``update_state``, ``result`` and ``reset_state``.

    Args:
        name: the key under which ``fit`` logs the metric.
        dtype: accepted for Keras compatibility (states are float64, results Python floats).
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
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
        result = np.asarray(self.result())
        shown = f"{result.item():.4g}" if result.size == 1 else np.array2string(
            np.asarray(result), precision=4)
        return f"<{type(self).__name__} name={self.name!r} result={shown}>"


def snake_case(name):
    """``'MeanSquaredError'`` -> ``'mean_squared_error'``."""
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
        values = np.asarray(as_array(values), dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
            return
        weight = np.asarray(as_array(sample_weight), dtype=np.float64)
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
        values = np.asarray(as_array(values), dtype=np.float64)
        if sample_weight is not None:
            values = values * np.asarray(as_array(sample_weight), dtype=np.float64).reshape(
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
