"""Label encoding helpers."""

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    Args:
        y: array-like of integer labels, any shape (a trailing axis of size 1 is dropped).
        num_classes: number of classes (default: ``max(y) + 1``).
        dtype: output dtype.

    Returns:
        Array of shape ``y.shape + (num_classes,)``.

    Raises:
        ValueError: for negative or fractional labels, or labels >= num_classes.
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical: labels must be whole numbers")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: expected integer labels, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be non-negative, got {int(y.min())}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {int(y.max())} is out of range for num_classes={num_classes}"
        )
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return out
