"""Pooling and upsampling on NHWC images.

Pooling windows are visited one *offset* at a time: for offset (i, j) of a (PH, PW) window,
``x[:, i::SH, j::SW, :]`` (cropped to the output size) holds that cell of every window at
once, so the loops run over PH*PW offsets, never over pixels, and no transposed copy or
argmax over a big window tensor is made. 'valid' padding floors (extra rows/columns are
dropped and get zero gradient); 'same' follows TensorFlow (output ``ceil(in / stride)``,
the odd padding pixel after), padding with -inf for max and averaging over the valid
(non-padded) cells only, like Keras.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function, linear_backward_graph
from npgrad.primitives import reduce as _reduce
from npgrad.primitives.conv import crop_hw, pad_hw, padding_mode, pair, window_geometry


def _offsets(pool_size):
    """Window offsets (i, j) in row-major order (the order that decides max-pool ties)."""
    return [(i, j) for i in range(pool_size[0]) for j in range(pool_size[1])]


def _window_slice(offset, out_hw, strides):
    """Index of cell ``offset`` of every window: a strided (N, OH, OW, C) view of the input."""
    (i, j), (oh, ow), (sh, sw) = offset, out_hw, strides
    return (slice(None), slice(i, i + (oh - 1) * sh + 1, sh), slice(j, j + (ow - 1) * sw + 1, sw))


class _PoolGeometry:
    """Window geometry shared by the pooling ops (a mixin, not an op by itself)."""

    op = "pool2d"
    pad_value = 0.0

    def _setup(self, x, pool_size, strides, padding):
        if x.ndim != 4:
            raise ValueError(
                f"{self.op}: input must have rank 4 (N, H, W, C), got shape {x.shape} (rank {x.ndim})"
            )
        oh, pads_h = window_geometry(x.shape[1], pool_size[0], strides[0], padding, self.op, "height")
        ow, pads_w = window_geometry(x.shape[2], pool_size[1], strides[1], padding, self.op, "width")
        self.pool_size, self.strides, self.out_hw = pool_size, strides, (oh, ow)
        self.pads = (pads_h, pads_w)
        xp = pad_hw(x, pads_h, pads_w, self.pad_value)  # (N, Hp, Wp, C)
        self.padded_shape = xp.shape
        return xp

    def _scatter(self, contributions, dtype):
        """Put per-offset (N, OH, OW, C) gradients back on the input: (N, H, W, C).

        ``contributions(k)`` returns the gradient of offset k, or writes it into ``out=``.
        Non-overlapping windows (pool <= stride) are assigned slice by slice; overlapping
        windows are summed, so a pixel shared by several windows gets all their gradients.
        """
        (ph, pw), (sh, sw), (oh, ow) = self.pool_size, self.strides, self.out_hw
        n, hp, wp, c = self.padded_shape
        overlapping = ph > sh or pw > sw
        covers_all = (ph, pw) == (sh, sw) and (oh * sh, ow * sw) == (hp, wp)
        # every pixel is written exactly once only for tiling windows with nothing cropped
        dxp = (np.empty if covers_all else np.zeros)((n, hp, wp, c), dtype=dtype)
        for k, offset in enumerate(_offsets(self.pool_size)):
            target = dxp[_window_slice(offset, self.out_hw, self.strides)]  # (N, OH, OW, C) view
            if overlapping:
                target += contributions(k)
            else:
                contributions(k, out=target)
        return crop_hw(dxp, *self.pads)


class MaxPool2D(_PoolGeometry, Function):
    """Max over each window; NHWC (N, H, W, C) -> (N, OH, OW, C).

    Tie convention: each window's gradient goes to exactly one element, its FIRST maximum in
    row-major window order (as PyTorch and TensorFlow), so tied windows (a blank image
    background) never multiply the gradient.
    """

    op = "max_pool2d"
    pad_value = -np.inf

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        xp = self._setup(x, pool_size, strides, padding)
        offsets = _offsets(pool_size)
        # winner: (N, OH, OW, C), the offset index of each window's first maximum
        winner = np.zeros((x.shape[0],) + self.out_hw + (x.shape[3],),
                          dtype=np.uint8 if len(offsets) <= 256 else np.int32)
        best = xp[_window_slice(offsets[0], self.out_hw, strides)].copy()  # (N, OH, OW, C)
        for k in range(1, len(offsets)):
            cell = xp[_window_slice(offsets[k], self.out_hw, strides)]  # (N, OH, OW, C) view
            better = cell > best  # strict: an equal later value never displaces an earlier one
            np.maximum(best, cell, out=best)
            # winner < k everywhere so far, so max(winner, k * better) writes k exactly where
            # cell won; arithmetic instead of a masked copy, which mispredicts on random masks
            np.maximum(winner, better * winner.dtype.type(k), out=winner)
        self.save_for_backward(winner)
        return best

    def backward(self, grad):
        (winner,) = self.saved

        def contribution(k, out=None):
            # d max / d x = 1 at the window's first maximum, 0 elsewhere
            return np.multiply(grad, winner == k, out=out)

        return (self._scatter(contribution, grad.dtype),)

    backward_graph = linear_backward_graph

    def jvp(self, tangent):
        """Each window's value at its winner (the derivative of the max, as a map of x)."""
        (winner,) = self.saved
        tp = pad_hw(tangent, *self.pads, 0.0)
        out = np.zeros(winner.shape, dtype=tangent.dtype)
        for k, offset in enumerate(_offsets(self.pool_size)):
            np.copyto(out, tp[_window_slice(offset, self.out_hw, self.strides)],
                      where=winner == k)
        return out


class AvgPool2D(_PoolGeometry, Function):
    """Mean over each window; with 'same' padding, over the valid (non-padded) cells only.

    Shapes: (N, H, W, C) -> (N, OH, OW, C).
    """

    op = "avg_pool2d"

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        xp = self._setup(x, pool_size, strides, padding)
        offsets = _offsets(pool_size)
        total = xp[_window_slice(offsets[0], self.out_hw, strides)].copy()  # (N, OH, OW, C)
        for offset in offsets[1:]:
            total += xp[_window_slice(offset, self.out_hw, strides)]
        if self.pads == ((0, 0), (0, 0)):
            self.count = np.asarray(pool_size[0] * pool_size[1], dtype=total.dtype)
        else:
            # count: (1, OH, OW, 1), valid cells per window, from a padded mask of ones
            mask = pad_hw(np.ones((1,) + x.shape[1:3] + (1,), dtype=total.dtype), *self.pads)
            count = np.zeros((1,) + self.out_hw + (1,), dtype=total.dtype)
            for offset in offsets:
                count += mask[_window_slice(offset, self.out_hw, strides)]
            self.count = count
        total /= self.count
        return total

    def backward(self, grad):
        # d mean / d x = 1 / count for every cell of the window
        share = grad / self.count  # (N, OH, OW, C)

        def contribution(k, out=None):
            if out is None:
                return share
            out[...] = share
            return out

        return (self._scatter(contribution, grad.dtype),)

    backward_graph = linear_backward_graph

    def jvp(self, tangent):
        """The average pool itself (it is linear in x)."""
        tp = pad_hw(tangent, *self.pads, 0.0)
        offsets = _offsets(self.pool_size)
        total = tp[_window_slice(offsets[0], self.out_hw, self.strides)].copy()
        for offset in offsets[1:]:
            total += tp[_window_slice(offset, self.out_hw, self.strides)]
        return total / self.count


def _sum_of(parts):
    """The sum of equally shaped arrays, in a new array."""
    parts = iter(parts)
    first = next(parts)
    second = next(parts, None)
    if second is None:
        return first.copy()
    total = np.add(first, second)
    for part in parts:
        total += part
    return total


class UpSampling2D(Function):
    """Nearest-neighbour upsampling: each pixel becomes an (SH, SW) block.

    Shapes: (N, H, W, C) -> (N, H*SH, W*SW, C).
    """

    def forward(self, x, size=(2, 2)):
        if x.ndim != 4:
            raise ValueError(
                f"upsampling2d: input must have rank 4 (N, H, W, C), got shape {x.shape}"
            )
        n, h, w, c = x.shape
        sh, sw = size
        self.size = size
        # (N, H, 1, W, 1, C) broadcast to (N, H, SH, W, SW, C), then one copy into the image
        blocks = np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c))
        return blocks.reshape(n, h * sh, w * sw, c)

    def backward(self, grad):
        n, hs, ws, c = grad.shape
        sh, sw = self.size
        h, w = hs // sh, ws // sw
        # each input pixel fed a whole block: sum the block's gradients, its rows first (adds
        # of whole image rows), then its columns; NumPy's sum over the two block axes ran
        # its loop over C values at a time, 1.3-2.3x slower
        rows = grad.reshape(n, h, sh, ws * c)
        total = _sum_of(rows[:, :, i] for i in range(sh)).reshape(n, h, w, sw, c)
        return (_sum_of(total[:, :, :, j] for j in range(sw)),)

    backward_graph = linear_backward_graph

    def jvp(self, tangent):
        return self.forward(tangent, size=self.size)


# ------------------------------------------------------------------ public functions
def _pool_arguments(op, pool_size, strides, padding):
    pool_size = pair(pool_size, "pool_size", op)
    strides = pool_size if strides is None else pair(strides, "strides", op)
    return dict(pool_size=pool_size, strides=strides, padding=padding_mode(padding, op))


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling of NHWC images (Keras MaxPooling2D).

    Backward routes each window's gradient to exactly one element: its first maximum in
    row-major window order. Overlapping windows add their gradients.

    Args:
        x: (N, H, W, C).
        pool_size: int or (ph, pw), positive.
        strides: int or (sh, sw), positive; None means pool_size.
        padding: 'valid' (floor: trailing rows/columns that fill no window are dropped) or
            'same' (output ceil(H / sh), padded with -inf).

    Returns:
        Tensor of shape (N, OH, OW, C).

    Example:
        >>> max_pool2d(np.ones((2, 28, 28, 8)), 2).shape
        (2, 14, 14, 8)
    """
    return MaxPool2D.apply(x, **_pool_arguments("max_pool2d", pool_size, strides, padding))


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling of NHWC images (Keras AveragePooling2D).

    Args:
        x: (N, H, W, C).
        pool_size: int or (ph, pw), positive.
        strides: int or (sh, sw), positive; None means pool_size.
        padding: 'valid' or 'same'; with 'same' each window averages only its valid
            (non-padded) cells, like Keras.

    Returns:
        Tensor of shape (N, OH, OW, C).

    Example:
        >>> avg_pool2d(np.ones((1, 5, 5, 2)), 3, strides=2, padding="same").shape
        (1, 3, 3, 2)
    """
    return AvgPool2D.apply(x, **_pool_arguments("avg_pool2d", pool_size, strides, padding))


def _check_global(op, x):
    shape = np.shape(getattr(x, "data", x))
    if len(shape) != 4:
        raise ValueError(f"{op}: input must have rank 4 (N, H, W, C), got shape {shape}")


def global_avg_pool2d(x, keepdims=False):
    """Mean over H and W (Keras GlobalAveragePooling2D), composed from ``mean``.

    Args:
        x: (N, H, W, C).
        keepdims: keep the spatial axes as length 1.

    Returns:
        Tensor of shape (N, C), or (N, 1, 1, C) with keepdims.
    """
    _check_global("global_avg_pool2d", x)
    return _reduce.mean(x, axis=(1, 2), keepdims=keepdims)


def global_max_pool2d(x, keepdims=False):
    """Max over H and W (Keras GlobalMaxPooling2D), composed from the ``max`` reduction.

    Tie convention: inherited from ``max``: tied maxima share the gradient equally (unlike
    :func:`max_pool2d`, which picks the first maximum); the sum per channel is unchanged.

    Args:
        x: (N, H, W, C).
        keepdims: keep the spatial axes as length 1.

    Returns:
        Tensor of shape (N, C), or (N, 1, 1, C) with keepdims.
    """
    _check_global("global_max_pool2d", x)
    return _reduce.max(x, axis=(1, 2), keepdims=keepdims)


def upsampling2d(x, size=2):
    """Nearest-neighbour upsampling (Keras UpSampling2D, interpolation='nearest').

    Args:
        x: (N, H, W, C).
        size: int or (sh, sw), positive repeat factors.

    Returns:
        Tensor of shape (N, H*sh, W*sw, C).

    Example:
        >>> upsampling2d(np.ones((1, 5, 5, 3)), 2).shape
        (1, 10, 10, 3)
    """
    return UpSampling2D.apply(x, size=pair(size, "size", "upsampling2d"))
