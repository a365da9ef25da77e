"""Window pooling of any rank (the public 3-D functions), channels last.

As the 2-D pooling ops (``npgrad.primitives.pool``), windows are visited one *offset* at a
time: offset k of every window is one strided (N, *O, C) view of the input, so the loops run
over the ``prod(pool_size)`` offsets, never over pixels. 'valid' floors; 'same' follows
TensorFlow (output ``ceil(in / stride)``, odd padding after), padding with -inf for max and
averaging over the valid (non-padded) cells only, as Keras documents.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import reduce as reduce_ops
from npgrad.primitives.windows import (
    crop_spatial,
    data_shape,
    int_tuple,
    pad_spatial,
    padding_mode,
    spatial_geometry,
    tap_index,
    taps,
)


class _WindowPool:
    """Geometry and gradient scatter shared by the pooling ops (a mixin, not an op)."""

    pad_value = 0.0

    def _setup(self, x, pool_size, strides, padding, op):
        if x.ndim != len(pool_size) + 2:
            raise ValueError(f"{op}: input must have rank {len(pool_size) + 2} "
                             f"(N, *spatial, C), got shape {x.shape}")
        out_sizes, pads = spatial_geometry(x.shape, pool_size, strides, padding, op)
        self.pool_size, self.strides = pool_size, strides
        self.out_sizes, self.pads = out_sizes, pads
        xp = pad_spatial(x, pads, self.pad_value)  # (N, *Sp, C)
        self.padded_shape = xp.shape
        return xp

    def _index(self, offset):
        return tap_index(offset, self.out_sizes, self.strides, (1,) * len(offset))

    def _scatter(self, contribution, dtype):
        """Put the per-offset (N, *O, C) gradients ``contribution(k)`` back onto the input.

        Windows that do not overlap (pool <= stride) write disjoint cells: plain assignment;
        overlapping windows add up.
        """
        dxp = np.zeros(self.padded_shape, dtype=dtype)
        overlapping = any(p > s for p, s in zip(self.pool_size, self.strides))
        for k, offset in enumerate(taps(self.pool_size)):
            if overlapping:
                dxp[self._index(offset)] += contribution(k)
            else:
                dxp[self._index(offset)] = contribution(k)
        return crop_spatial(dxp, self.pads)


class MaxPoolND(_WindowPool, Function):
    """Max over each window, (N, *S, C) -> (N, *O, C).

    Tie convention: each window's gradient goes to its FIRST maximum in row-major window
    order (as the 2-D op, PyTorch and TensorFlow).
    """

    pad_value = -np.inf

    def forward(self, x, pool_size=None, strides=None, padding="valid", op="max_pool"):
        xp = self._setup(x, pool_size, strides, padding, op)
        offsets = taps(pool_size)
        best = xp[self._index(offsets[0])].copy()  # (N, *O, C)
        # winner: offset index of each window's first maximum
        winner = np.zeros(best.shape, dtype=np.uint8 if len(offsets) <= 256 else np.int32)
        for k in range(1, len(offsets)):
            cell = xp[self._index(offsets[k])]
            better = cell > best  # strict: a later equal value never wins
            np.maximum(best, cell, out=best)
            # winner < k so far: max(winner, k * better) writes k exactly where cell won,
            # without a masked copy
            np.maximum(winner, better * winner.dtype.type(k), out=winner)
        self.save_for_backward(winner)
        return best

    def backward(self, grad):
        (winner,) = self.saved
        # d max / d x = 1 at the window's first maximum, 0 elsewhere
        return (self._scatter(lambda k: grad * (winner == k), grad.dtype),)


class AvgPoolND(_WindowPool, Function):
    """Mean over each window ('same': over the valid cells only), (N, *S, C) -> (N, *O, C)."""

    def forward(self, x, pool_size=None, strides=None, padding="valid", op="avg_pool"):
        xp = self._setup(x, pool_size, strides, padding, op)
        offsets = taps(pool_size)
        total = xp[self._index(offsets[0])].copy()
        for offset in offsets[1:]:
            total += xp[self._index(offset)]
        if all(p == (0, 0) for p in self.pads):
            self.count = np.asarray(len(offsets), dtype=total.dtype)
        else:
            # count: (1, *O, 1), valid cells per window, from a padded mask of ones
            ones = np.ones((1,) + x.shape[1:-1] + (1,), dtype=total.dtype)
            mask = pad_spatial(ones, self.pads)
            self.count = sum(mask[self._index(offset)] for offset in offsets)
        return total / self.count

    def backward(self, grad):
        share = grad / self.count  # d mean / d x = 1 / count for every cell of the window
        return (self._scatter(lambda k: share, grad.dtype),)


def _pool_constants(op, rank, pool_size, strides, padding):
    pool_size = int_tuple(pool_size, rank, "pool_size", op)
    strides = pool_size if strides is None else int_tuple(strides, rank, "strides", op)
    return dict(pool_size=pool_size, strides=strides, padding=padding_mode(padding, op), op=op)


def max_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling of (N, D, H, W, C) volumes (Keras's MaxPooling3D).

    Args:
        x: (N, D, H, W, C).
        pool_size: int or 3 ints.
        strides: int, 3 ints or None (= pool_size).
        padding: 'valid' or 'same' (padded with -inf).

    Returns:
        Tensor of shape (N, OD, OH, OW, C); ties send the gradient to the first maximum.

    Example:
        >>> max_pool3d(np.ones((1, 4, 4, 4, 2)), 2).shape
        (1, 2, 2, 2, 2)
    """
    return MaxPoolND.apply(x, **_pool_constants("max_pool3d", 3, pool_size, strides, padding))


def avg_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling of (N, D, H, W, C) volumes (Keras's AveragePooling3D).

    Args:
        x: (N, D, H, W, C).
        pool_size: int or 3 ints.
        strides: int, 3 ints or None (= pool_size).
        padding: 'valid' or 'same' (each window averages its valid cells only).

    Returns:
        Tensor of shape (N, OD, OH, OW, C).

    Example:
        >>> avg_pool3d(np.ones((1, 5, 5, 5, 2)), 3, strides=2, padding="same").shape
        (1, 3, 3, 3, 2)
    """
    return AvgPoolND.apply(x, **_pool_constants("avg_pool3d", 3, pool_size, strides, padding))


def _check_rank5(op, x):
    shape = data_shape(x)
    if len(shape) != 5:
        raise ValueError(f"{op}: input must have rank 5 (N, D, H, W, C), got shape {shape}")


def global_avg_pool3d(x, keepdims=False):
    """Mean over D, H and W (Keras's GlobalAveragePooling3D), composed from ``mean``.

    Args:
        x: (N, D, H, W, C).
        keepdims: keep the spatial axes with length 1.

    Returns:
        Tensor of shape (N, C), or (N, 1, 1, 1, C) with keepdims.
    """
    _check_rank5("global_avg_pool3d", x)
    return reduce_ops.mean(x, axis=(1, 2, 3), keepdims=keepdims)


def global_max_pool3d(x, keepdims=False):
    """Max over D, H and W (Keras's GlobalMaxPooling3D), composed from ``max``.

    Tied maxima share the gradient equally (the ``max`` reduction's convention).

    Args:
        x: (N, D, H, W, C).
        keepdims: keep the spatial axes with length 1.

    Returns:
        Tensor of shape (N, C), or (N, 1, 1, 1, C) with keepdims.
    """
    _check_rank5("global_max_pool3d", x)
    return reduce_ops.max(x, axis=(1, 2, 3), keepdims=keepdims)
