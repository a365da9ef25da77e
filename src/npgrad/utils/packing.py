"""Packing a batch as a step receives it: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

Example (a custom ``train_step``):
    >>> def train_step(self, data):
    ...     x, y, sample_weight = npgrad.utils.unpack_x_y_sample_weight(data)
"""

from __future__ import annotations

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Pack a batch the way ``train_step`` receives it (Keras 3).

    Returns:
        ``x`` alone when there is neither ``y`` nor ``sample_weight`` (and ``x`` is not a
        tuple or list), ``(x,)`` for a tuple or list ``x`` alone, else ``(x, y)`` or ``(x, y, sample_weight)``.
    """
    if y is None and sample_weight is None:
        # several inputs travel as one list: wrap it, or unpacking would read it as (x, y)
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Unpack the ``data`` a step receives into ``(x, y, sample_weight)`` (missing: None).

    Args:
        data: ``x``, or a tuple ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Raises:
        ValueError: a tuple of more than three elements.
    """
    if isinstance(data, list):  # as Keras: a list is read as a tuple
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "data must be x, (x,), (x, y) or (x, y, sample_weight) (Keras's train_step contract), "
        f"got a tuple of {len(data)} elements"
    )
