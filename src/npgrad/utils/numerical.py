"""Array helpers from ``keras.utils``: ``normalize``."""

from __future__ import annotations

import numpy as np


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit L-``order`` norm along ``axis`` (zero vectors stay zero).

    Args:
        x: array-like or Tensor (for a differentiable version use ``npgrad.ops.normalize``).
        axis: the axis to normalize.
        order: the norm order (2 for Euclidean).

    Returns:
        A float array of ``x``'s shape.
    """
    x = np.asarray(getattr(x, "data", x))
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
