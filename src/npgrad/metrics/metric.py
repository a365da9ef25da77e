"""The Metric base class, Mean, Sum and MeanMetricWrapper; shared input helpers.

Metrics are computed on plain ndarrays (no graph).

A metric accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``
adds a batch, ``result()`` returns the value so far as a Python float (an array for
per-class or per-threshold metrics), ``reset_state()`` starts again (``fit`` resets at each
epoch). Calling a metric updates it and returns the result, as in Keras. Keras's
``result()`` is a tensor, so custom loops write ``metric.result().numpy()``: npgrad's value
answers that too (:class:`MetricResult`, a float with ``numpy()``).

Example:
    >>> import numpy as np, npgrad
    >>> m = npgrad.metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    >>> m.result()
    0.5
"""

from __future__ import annotations

import functools
import re

import numpy as np

from npgrad import initializers
from npgrad.autograd.tensor import Tensor
from npgrad.autograd.variable import Variable


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


# ------------------------------------------------------------------ results
class MetricResult(float):
    """A metric's value: a Python float that also answers ``numpy()`` (and ``shape``,
    ``dtype``), as the 0-d tensor Keras's ``result()`` returns does."""

    __slots__ = ()
    shape = ()
    ndim = 0
    dtype = np.dtype(np.float32)

    def numpy(self):
        """The value as a 0-d float32 array (what ``tensor.numpy()`` gives in Keras)."""
        return np.array(float(self), dtype=np.float32)


class MetricResultArray(np.ndarray):
    """A per-class or per-threshold result: an ndarray that also answers ``numpy()``."""

    def numpy(self):
        """The values as a plain ndarray."""
        return np.asarray(self).view(np.ndarray)


def _answering_numpy(result):
    """Wrap a ``result`` method so that a number or array it returns answers ``numpy()``
    (a Tensor or Variable already does)."""
    if getattr(result, "answers_numpy", False):
        return result

    @functools.wraps(result)
    def wrapped(self):
        value = result(self)
        if isinstance(value, (float, int, np.floating, np.integer)) \
                and not isinstance(value, (bool, MetricResult)):
            return MetricResult(value)
        if type(value) is np.ndarray:
            return value.view(MetricResultArray)
        return value

    wrapped.answers_numpy = True
    return wrapped


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

    def __init_subclass__(cls, **kwargs):
        # every result() answers .numpy(), custom metrics' included (see MetricResult)
        super().__init_subclass__(**kwargs)
        if "result" in cls.__dict__:
            cls.result = _answering_numpy(cls.__dict__["result"])

    def update_state(self, y_true, y_pred, sample_weight=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_state(self):
        """Set every state variable (:meth:`add_variable`) back to zeros, as Keras 3's default
        does; a metric that keeps other state overrides this."""
        if not self.variables:
            raise NotImplementedError(f"{type(self).__name__}: override reset_state, or keep the "
                                      f"metric's state in add_variable() variables")
        for variable in self.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    @property
    def variables(self):
        """The state variables made by :meth:`add_variable` / :meth:`add_weight`, in order."""
        return list(self.__dict__.get("_state_variables", ()))

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """A state variable of the metric (Keras 3): a non-trainable Variable, listed in
        :attr:`variables` and set back to zeros by the default :meth:`reset_state`.

        Args:
            shape: tuple of ints (default a scalar).
            initializer: name or callable (default ``'zeros'``).
            dtype: default the metric's ``dtype``, else float32.
            aggregation: accepted for Keras compatibility (one process sums nothing).
            name: the variable's name (default ``variable``, numbered).
        """
        dtype = np.dtype(dtype or self.dtype or "float32")
        try:
            shape = tuple(int(n) for n in shape)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}.add_variable: shape must be a tuple of ints, got "
                            f"{shape!r}") from None
        value = initializers.initial_value(initializer or "zeros", shape, dtype)
        state = self.__dict__.setdefault("_state_variables", [])
        if name is None:
            name = "variable" if not state else f"variable_{len(state)}"
        variable = Variable(value, trainable=False, name=f"{self.name}/{name}")
        state.append(variable)
        return variable

    def add_weight(self, *args, shape=(), initializer=None, dtype=None, aggregation="sum",
                   name=None):
        """Keras's other spelling of :meth:`add_variable`; a first positional string is the
        name (Keras 2: ``add_weight("count", initializer="zeros")``), else the shape."""
        args = list(args)
        if args and isinstance(args[0], str):
            name = args.pop(0)
        if args:
            shape = args.pop(0)
        if args:
            raise TypeError(f"{self.name}.add_weight: give initializer, dtype and name by keyword")
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype,
                                 aggregation=aggregation, name=name)

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
