"""Weight constraints with Keras 3 names: projections applied after each optimizer update.

A constraint is a callable ``new_w = constraint(w)`` on an ndarray. A layer given
``kernel_constraint=`` / ``bias_constraint=`` stores it on the weight (``weight.constraint``),
and every optimizer's ``apply_gradients`` ends, as Keras's ``apply`` does, with
``w = w.constraint(w)`` for each updated weight that has one.

Example:
    >>> layer = npgrad.layers.Dense(8, kernel_constraint=npgrad.constraints.MaxNorm(2.0))
    >>> # after every optimizer step, each column of layer.kernel has L2 norm <= 2
"""

import numpy as np

from npgrad.autograd import Tensor
from npgrad.utils.config import Configurable, resolve

EPSILON = 1e-7  # Keras' backend.epsilon()


def _array(w):
    return w.data if isinstance(w, Tensor) else np.asarray(w)


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def _check_axis(axis, who):
    if isinstance(axis, (list, tuple)):
        if not all(isinstance(a, (int, np.integer)) for a in axis):
            raise ValueError(f"{who}: axis must be an int or a list of ints, got {axis!r}")
        return list(axis)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise ValueError(f"{who}: axis must be an int or a list of ints, got {axis!r}")
    return int(axis)


def _check_number(value, name, who, low=0.0):
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool) \
            or not value >= low:
        raise ValueError(f"{who}: {name} must be a number >= {low}, got {value!r}")
    return value


class Constraint(Configurable):
    """Base class: subclasses implement ``__call__(w) -> projected w`` (default: unchanged)."""

    def __call__(self, w):
        return _array(w)

    def get_config(self):
        """JSON-able constructor arguments."""
        return {}


class MaxNorm(Constraint):
    """Scale each slice along ``axis`` down to an L2 norm of at most ``max_value``.

    ``w * clip(n, 0, max_value) / (1e-7 + n)`` with ``n`` the norms over ``axis``.

    Args:
        max_value: the largest norm (default 2).
        axis: the axis (or axes) the norms are taken over: 0 for a Dense kernel (one norm
            per unit), ``[0, 1, 2]`` for a Conv2D kernel (one per filter).
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_number(max_value, "max_value", "MaxNorm")
        self.axis = _check_axis(axis, "MaxNorm")

    def __call__(self, w):
        w = _array(w)
        norms = _norms(w, _axes(self.axis))
        desired = np.clip(norms, 0, self.max_value)
        return (w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's L2 norm into ``[min_value, max_value]`` at speed ``rate``.

    ``desired = rate * clip(n, min_value, max_value) + (1 - rate) * n``;
    ``w * desired / (1e-7 + n)``.

    Args:
        min_value: the smallest norm (default 0.0).
        max_value: the largest norm (default 1.0).
        rate: 1.0 enforces the bounds at once, smaller values move toward them gradually.
        axis: the axis (or axes) the norms are taken over (see :class:`MaxNorm`).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_number(min_value, "min_value", "MinMaxNorm")
        self.max_value = _check_number(max_value, "max_value", "MinMaxNorm")
        if self.max_value < self.min_value:
            raise ValueError(
                f"MinMaxNorm: max_value ({max_value!r}) must be >= min_value ({min_value!r})"
            )
        self.rate = _check_number(rate, "rate", "MinMaxNorm")
        self.axis = _check_axis(axis, "MinMaxNorm")

    def __call__(self, w):
        w = _array(w)
        norms = _norms(w, _axes(self.axis))
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) \
            + (1 - self.rate) * norms
        return (w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """``max(w, 0)``: negative weights become 0."""

    def __call__(self, w):
        w = _array(w)
        return np.maximum(w, 0).astype(w.dtype, copy=False)


class UnitNorm(Constraint):
    """Scale each slice along ``axis`` to unit L2 norm, ``w / (1e-7 + n)``.

    Args:
        axis: the axis (or axes) the norms are taken over (see :class:`MaxNorm`).
    """

    def __init__(self, axis=0):
        self.axis = _check_axis(axis, "UnitNorm")

    def __call__(self, w):
        w = _array(w)
        return (w / (EPSILON + _norms(w, _axes(self.axis)))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


def _axes(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# lowercase aliases, as keras.constraints exposes them
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

ALL_OBJECTS = {
    "Constraint": Constraint, "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg,
    "UnitNorm": UnitNorm, "constraint": Constraint, "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
}  # fmt: skip


def _lookup(name):
    if name not in ALL_OBJECTS:
        raise ValueError(
            f"Unknown constraint {name!r}. Valid names: {', '.join(sorted(ALL_OBJECTS))}"
        )
    return ALL_OBJECTS[name]


def serialize(constraint):
    """Return ``{"class_name": ..., "config": ...}`` for a constraint (JSON-able; None for None).

    Raises:
        TypeError: for a plain callable, which a saved config cannot name.
    """
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise TypeError(
            f"constraints.serialize: cannot serialize {constraint!r}; use an "
            "npgrad.constraints object to save the layer's config"
        )
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def deserialize(config):
    """Rebuild a constraint from :func:`serialize`'s dict (or a name)."""
    if isinstance(config, str):
        return _lookup(config)()
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"constraints.deserialize: expected a dict with 'class_name', got {config!r}"
        )
    return _lookup(config["class_name"]).from_config(dict(config.get("config") or {}))


def get(identifier):
    """Turn a name, config dict, class, instance or callable into a constraint.

    Args:
        identifier: None, a string ('max_norm', 'MaxNorm', 'non_neg', ...: Keras defaults),
            a dict ``{"class_name": ..., "config": {...}}``, a Constraint class or instance,
            or any callable ``ndarray -> ndarray``.

    Returns:
        A constraint, or None for None.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or another kind of value.
    """
    return resolve(identifier, Constraint, _lookup, deserialize, "constraint")
