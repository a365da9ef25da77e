"""Adaptive pooling: a fixed output size whatever the input size (PyTorch's bins, as Keras).

Along an axis of length L pooled to O bins, bin i covers ``[floor(i*L/O), ceil((i+1)*L/O))``,
so the bins cover the axis, have at most two lengths and may overlap by one cell. Pooling a
box is pooling each axis in turn (mean of means over equal-length rows is the box mean, max
of maxes is the box max), so one op, :class:`AdaptivePoolAxis`, pools one axis and the public
functions apply it axis by axis.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives.windows import data_shape, int_tuple


def adaptive_bins(length, output_size):
    """(start, stop) of each of the ``output_size`` bins over an axis of ``length`` cells."""
    return [(i * length // output_size, -(-(i + 1) * length // output_size))
            for i in range(output_size)]


class AdaptivePoolAxis(Function):
    """Mean or max over adaptive bins of one axis: (..., L, ...) -> (..., O, ...).

    Tie convention (max): a bin's gradient goes to its first maximum.
    """

    def forward(self, x, axis=1, output_size=1, mode="average"):
        self.axis, self.mode, self.shape = axis, mode, x.shape
        self.bins = adaptive_bins(x.shape[axis], output_size)
        before = (slice(None),) * axis
        pooled, self.winners = [], []
        for start, stop in self.bins:
            window = x[before + (slice(start, stop),)]  # (..., size, ...)
            if mode == "average":
                pooled.append(window.mean(axis=axis, keepdims=True))
            else:
                first = window.argmax(axis=axis)[(slice(None),) * axis + (None,)]  # (..., 1, ...)
                self.winners.append(first)
                pooled.append(np.take_along_axis(window, first, axis=axis))
        return np.concatenate(pooled, axis=axis)

    def backward(self, grad):
        axis, before = self.axis, (slice(None),) * self.axis
        dx = np.zeros(self.shape, dtype=grad.dtype)
        for i, (start, stop) in enumerate(self.bins):
            g = grad[before + (slice(i, i + 1),)]  # (..., 1, ...)
            target = dx[before + (slice(start, stop),)]  # (..., size, ...) view
            if self.mode == "average":
                target += g / (stop - start)  # d mean / d x = 1 / size
            else:
                positions = np.arange(stop - start).reshape((-1,) + (1,) * (g.ndim - axis - 1))
                target += g * (positions == self.winners[i])  # 1 at the first maximum
        return (dx,)


def _adaptive(op, mode, x, output_size):
    shape = data_shape(x)
    rank = len(shape) - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{op}: input must have rank 3, 4 or 5 (N, *spatial, C), "
                         f"got shape {shape}")
    sizes = int_tuple(output_size, rank, "output_size", op)
    for axis, size in enumerate(sizes, start=1):
        if shape[axis] < 1:
            raise ValueError(f"{op}: cannot pool an empty axis {axis} (input shape {shape})")
        x = AdaptivePoolAxis.apply(x, axis=axis, output_size=size, mode=mode)
    return x


def adaptive_average_pool(x, output_size):
    """Adaptive average pooling of rank 1, 2 or 3, channels last (``keras.ops`` name).

    Args:
        x: (N, L, C), (N, H, W, C) or (N, D, H, W, C).
        output_size: int or one int per spatial axis: the output's spatial shape. Bin i of
            an axis of length L covers ``[floor(i*L/O), ceil((i+1)*L/O))`` (PyTorch, Keras).

    Returns:
        Tensor of shape (N, *output_size, C).

    Example:
        >>> adaptive_average_pool(np.ones((2, 10, 7, 3)), (3, 2)).shape
        (2, 3, 2, 3)
    """
    return _adaptive("adaptive_average_pool", "average", x, output_size)


def adaptive_max_pool(x, output_size):
    """Adaptive max pooling of rank 1, 2 or 3, channels last (``keras.ops`` name).

    Args:
        x: (N, L, C), (N, H, W, C) or (N, D, H, W, C).
        output_size: int or one int per spatial axis (bins as :func:`adaptive_average_pool`).

    Returns:
        Tensor of shape (N, *output_size, C); a bin's gradient goes to its first maximum.

    Example:
        >>> adaptive_max_pool(np.ones((2, 10, 3)), 4).shape
        (2, 4, 3)
    """
    return _adaptive("adaptive_max_pool", "max", x, output_size)
