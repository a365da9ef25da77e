"""Array helpers from ``keras.utils``: ``normalize``."""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit L-``order`` norm along ``axis`` (zero vectors stay zero).

    As Keras's: an array gives an array; a Tensor (or a symbolic tensor) gives a Tensor
    through ``npgrad.ops.normalize``, so a loss written with it is differentiated.

    Args:
        x: array-like or Tensor.
        axis: the axis to normalize.
        order: the norm order (2 for Euclidean).

    Returns:
        A float array of ``x``'s shape, or a Tensor for a Tensor.
    """
    if isinstance(x, Tensor) or hasattr(x, "_keras_history"):
        from npgrad import ops  # lazy: ops builds on this package

        return ops.normalize(x, axis=axis, order=order)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
