"""Weight regularizers with Keras 3 names: penalties built from Tensor ops.

A regularizer is a callable ``penalty = regularizer(weight)`` returning a scalar Tensor made
of differentiable ops, so adding it to the loss puts its gradient on the weight through
autograd.

Example:
    >>> reg = npgrad.regularizers.L2(1e-4)
    >>> loss = data_loss + reg(layer.kernel)          # d(penalty)/d(kernel) = 2e-4 * kernel
"""

import math

import numpy as np

from npgrad.autograd import Tensor
from npgrad.utils.config import Configurable, resolve


def _check_factor(value, name, who):
    if (not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{who}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _as_tensor(weight, who):
    if isinstance(weight, Tensor):
        return weight
    if isinstance(weight, np.ndarray):
        return Tensor(weight)
    raise TypeError(f"{who}: expected a weight Tensor or ndarray, got {type(weight).__name__}")


class Regularizer(Configurable):
    """Base class: subclasses implement ``__call__(weight) -> scalar Tensor`` and ``get_config``."""

    def __call__(self, weight):
        raise NotImplementedError


class L1(Regularizer):
    """``l1 * sum(|w|)`` (gradient ``l1 * sign(w)``, 0 at w = 0).

    Args:
        l1: factor, a finite float >= 0 (default 0.01).
    """

    def __init__(self, l1=0.01):
        self.l1 = _check_factor(l1, "l1", "L1")

    def __call__(self, weight):
        return _as_tensor(weight, "L1").abs().sum() * self.l1

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w ** 2)`` (gradient ``2 * l2 * w``).

    Args:
        l2: factor, a finite float >= 0 (default 0.01).
    """

    def __init__(self, l2=0.01):
        self.l2 = _check_factor(l2, "l2", "L2")

    def __call__(self, weight):
        weight = _as_tensor(weight, "L2")
        return (weight * weight).sum() * self.l2

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``.

    Args:
        l1: L1 factor (default 0.0).
        l2: L2 factor (default 0.0).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor(l1, "l1", "L1L2")
        self.l2 = _check_factor(l2, "l2", "L1L2")

    def __call__(self, weight):
        weight = _as_tensor(weight, "L1L2")
        penalty = weight.abs().sum() * self.l1
        return penalty + (weight * weight).sum() * self.l2

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Push the rows (or columns) of a 2-D weight towards orthogonality (Keras 3).

    ``factor * 0.5 * sum(|P - diag(P)|) / (n (n - 1) / 2)`` with ``P`` the products of the
    L2-normalized rows (``mode='rows'``) or columns (``mode='columns'``), ``n`` their count.

    Args:
        factor: finite float >= 0 (default 0.01).
        mode: ``'rows'`` or ``'columns'`` (for a Dense kernel (in, units), columns are units).
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _check_factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got {mode!r}"
            )
        self.mode = mode

    def __call__(self, weight):
        weight = _as_tensor(weight, "OrthogonalRegularizer")
        if weight.ndim != 2:
            raise ValueError(
                f"OrthogonalRegularizer: expected a 2-D weight, got shape {weight.shape}"
            )
        axis = 1 if self.mode == "rows" else 0
        square_sum = (weight * weight).sum(axis=axis, keepdims=True)
        # x / max(||x||, 1e-7), as Keras's normalize
        unit = weight / square_sum.clip(1e-14, None) ** 0.5
        product = unit @ unit.T if self.mode == "rows" else unit.T @ unit
        size = product.shape[0]
        off_diagonal = product * (1.0 - np.eye(size, dtype=weight.dtype))
        pairs = size * (size - 1.0) / 2.0
        return off_diagonal.abs().sum() * (self.factor * 0.5 / pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 3 spells the classes in lowercase too.
l1, l2, l1_l2 = L1, L2, L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS = {
    "L1": L1, "L2": L2, "L1L2": L1L2,
    "l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def serialize(regularizer):
    """Return ``{"class_name": ..., "config": ...}`` for a regularizer (JSON-able; None for None)."""
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise TypeError(
            f"regularizers.serialize: expected a Regularizer, got {type(regularizer).__name__}"
        )
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def _lookup(name):
    if name not in ALL_OBJECTS:
        raise ValueError(
            f"Unknown regularizer {name!r}. Valid names: {', '.join(sorted(ALL_OBJECTS))}"
        )
    return ALL_OBJECTS[name]


def deserialize(config):
    """Rebuild a regularizer from :func:`serialize`'s dict."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"regularizers.deserialize: expected a dict with 'class_name', got {config!r}")
    return _lookup(config["class_name"]).from_config(dict(config.get("config") or {}))


def get(identifier):
    """Turn a name, config dict, class, instance or callable into a regularizer.

    Args:
        identifier: None, a string ('l1', 'l2', 'l1_l2', 'L1', ...: Keras defaults), a dict
            ``{"class_name": ..., "config": {...}}``, a Regularizer class or instance, or any
            callable ``weight -> scalar Tensor``.

    Returns:
        A regularizer, or None for None.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or another kind of value.
    """
    return resolve(identifier, Regularizer, _lookup, deserialize, "regularizer")
