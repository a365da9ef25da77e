"""Axis arguments shared by the normalization and preprocessing layers (public helpers).

Keras layers take ``axis`` as an int or a list of ints, negative counting from the end;
these helpers turn it into sorted positive axes for a given input rank, with the error
messages users see.
"""

from __future__ import annotations

import numpy as np

from npgrad.layers import arguments


def axis_arg(axis, layer_cls, allow_none=False):
    """Check an ``axis`` constructor argument: an int, a list/tuple of ints (or None).

    Returns:
        The int, a list of ints, or None, as Keras stores it in the config.

    Raises:
        TypeError: anything else.
    """
    if axis is None and allow_none:
        return None
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    if isinstance(axis, (list, tuple)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
    ):
        return [int(a) for a in axis]
    expected = "an int, a list of ints or None" if allow_none else "an int or a list of ints"
    raise TypeError(f"{layer_cls}: argument `axis` must be {expected}, got {axis!r}")


def positive_axes(layer, axis, shape):
    """Sorted positive axes for an input of ``shape`` (``axis``: int or list of ints).

    Raises:
        ValueError: an axis out of range for the input's rank, or repeated.
    """
    ndim = len(shape)
    items = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise arguments.incompatible(layer, f"an input with an axis {a} (axis={axis!r})", shape)
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': repeated axis in {axis!r}")
    return tuple(sorted(out))


def broadcast_shape(shape, axes):
    """``shape`` with every axis not in ``axes`` set to 1 (for per-feature parameters)."""
    return tuple(int(shape[d]) if d in axes else 1 for d in range(len(shape)))
