"""Depthwise and separable convolutions of rank 1 and 2 (any rank internally), channels last.

A depthwise convolution filters every input channel on its own: with a kernel (*K, C, M)
(``M`` = depth multiplier) input channel ``c`` makes output channels ``c*M .. c*M + M - 1``
(Keras's and TensorFlow's order). There is no reduction over channels, so no GEMM. The
input's windows are one strided view (no copy), and one ``np.einsum`` per multiplier
contracts it with the kernel's taps (:func:`_correlate`): each output value is made in one
visit, where a loop over the taps (a multiply and an add of an activation-sized array per
tap, 17 passes for a 3x3 kernel) wrote every output value 17 times. With stride 1 along
the last spatial axis, that axis and the channels are merged into one, so einsum's inner
loop runs over a whole output row of ``W * C`` values rather than over ``C``. The kernel
gradient is the same contraction against the output gradient (:func:`_tap_sums`), the
stride-1 input gradient the correlation of the padded gradient with the flipped kernel. A
strided input gradient is that correlation phase by phase (:func:`_phase_input_grad`):
along an axis of stride s the input positions s*r + q are read by the taps q + s*m alone,
so each phase is a stride-1 correlation with those taps. Side by side on a 2-core EPYC,
3x3 'same', forward / backward ms, per tap -> einsum: (32, 16, 16, 128) 12.6 / 19.0 -> 4.1
/ 9.8; (32, 56, 56, 32) 51 / 72 -> 10.5 / 27.5; (32, 112, 112, 32) 198 / 267 -> 54 / 102;
stride 2 (32, 28, 28, 96) 9.0 / 21.0 -> 5.7 / 13.9. Stride-2 input gradients, scattered
tap by tap -> by phases (2 threads, alternated, medians of 15): 3x3 (32, 32, 32, 64)
6.8 -> 3.7, (32, 112, 112, 32) 77 -> 45; 5x5 (32, 28, 28, 96) 19.7 -> 8.6.

A separable convolution is a depthwise one followed by a pointwise (1x1) one, composed here
from :class:`DepthwiseConvND` and ``dense``.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from npgrad.autograd.function import Function
from npgrad.primitives import linalg
from npgrad.primitives import parallel as _parallel
from npgrad.primitives import shape as shape_ops
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

#: channels below which the kernel gradient sums over merged (width, channel) rows: 2.1x
#: faster at 32 channels (112x112), 0.7x at 128 (16x16) on a 2-core EPYC
_WIDE_SUMS_BELOW = 64


def _windows(xp, kernel_size, out_sizes, strides, dilation):
    """(N, *O, C, *K) view of a padded (N, *Sp, C) input: ``[n, *o, c, *k]`` is the value
    output position ``o`` reads at tap ``k`` (strides pick the window starts, dilation the
    taps). No copy."""
    rank = len(kernel_size)
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilation))
    windows = sliding_window_view(xp, spans, axis=tuple(range(1, rank + 1)))
    starts = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_sizes, strides))
    return windows[(slice(None),) + starts + (slice(None),)
                   + tuple(slice(None, None, d) for d in dilation)]


def _wide_windows(xp, kernel_size, out_sizes, strides, dilation):
    """:func:`_windows` with the last output axis and the channels merged into one axis of
    ``O[-1] * C`` values, (N, *O[:-1], O[-1]*C, *K): with stride 1 along the last axis an
    output row's values, channels included, read consecutive input values at every tap.
    Each (last axis, channel) row of ``xp`` must be one run of memory (:func:`_rows`). No
    copy."""
    (n, *_, c), item = xp.shape, xp.strides
    shape = (n, *out_sizes[:-1], out_sizes[-1] * c, *kernel_size)
    steps = (item[0], *(s * item[1 + a] for a, s in enumerate(strides[:-1])), item[-1],
             *(d * item[1 + a] for a, d in enumerate(dilation)))
    return as_strided(xp, shape, steps, writeable=False)


def _rows(xp):
    """``xp`` when each of its (last spatial axis, channel) rows is one run of memory (what
    :func:`_wide_windows` needs; a slice along the spatial axes keeps it), else a copy."""
    item, c = xp.itemsize, xp.shape[-1]
    if xp.strides[-1] == item and xp.strides[-2] == c * item:
        return xp
    return np.ascontiguousarray(xp)


def _phase_input_grad(planes, kernel, padded_shape, out_sizes, strides, dilation):
    """The input gradient of a strided correlation (no dilation along a strided axis) in
    padded coordinates, phase by phase.

    Along an axis of stride s, padded position ``s * r + q`` is read by the taps
    ``q + s * m`` of outputs ``r - m``: phase q of the gradient is a stride-1 correlation of
    the output gradient (padded in front) with those taps flipped. Each phase is one
    :func:`_correlate` per multiplier, written into its strided slice of the result: every
    tap is visited once, where scattering tap by tap made a multiply and an add of an
    output-sized array per tap."""
    kernel_size = kernel.shape[:-2]
    rank = len(kernel_size)
    first_taps = [len(range(0, k, s)) for k, s in zip(kernel_size, strides)]  # phase 0's
    spans = [(m - 1) * d + 1 for m, d in zip(first_taps, dilation)]
    rows = [len(range(0, size, s)) for size, s in zip(padded_shape[1:-1], strides)]
    # front padding: the most taps (phase 0) reach span - 1 outputs back
    gpads = [(span - 1, r - o) for span, r, o in zip(spans, rows, out_sizes)]
    padded = [pad_spatial(plane, gpads) for plane in planes]
    flip = tuple(slice(None, None, -1) for _ in range(rank))
    dxp = np.empty(padded_shape, dtype=np.result_type(planes[0], kernel))
    for phase in itertools.product(*(range(s) for s in strides)):
        picks = tuple(slice(q, None, s) for q, s in zip(phase, strides))
        target = dxp[(slice(None),) + picks]
        counts = [len(range(q, k, s)) for q, k, s in zip(phase, kernel_size, strides)]
        if min(counts) == 0:  # a phase no tap reads (a kernel narrower than the stride)
            target[...] = 0
            continue
        sizes = target.shape[1:-1]
        # this phase's taps reach span_q - 1 outputs back: start later in the padded gradient
        window = (slice(None),) + tuple(
            slice(front - (m - 1) * d, front - (m - 1) * d + size + (m - 1) * d)
            for (front, _), m, d, size in zip(gpads, counts, dilation, sizes))
        total = None
        for j, gp in enumerate(padded):
            taps_c = kernel[picks + (slice(None), j)][flip]
            part = _correlate(gp[window], taps_c, sizes, (1,) * rank, dilation)
            total = part if total is None else np.add(total, part, out=total)
        target[...] = total
    return dxp


def _subscripts(rank):
    """einsum letters: the leading (batch and spatial) axes and the taps."""
    return "n" + "xyzuvw"[:rank], "ijklmo"[:rank]


def _correlate(xp, taps_c, out_sizes, strides, dilation):
    """Per-channel correlation, ``out[n, *o, c] = sum_k window(o)[k, c] * taps_c[k, c]``,
    the samples shared between threads (``parallel.py``).

    Args:
        xp: (N, *Sp, C) padded input.
        taps_c: (*K, C) one kernel plane.
        out_sizes, strides, dilation: tuples, one entry per spatial axis.

    Returns:
        A new (N, *O, C) array.
    """
    kernel_size, c = taps_c.shape[:-1], xp.shape[-1]
    lead, tap = _subscripts(len(kernel_size))
    out = np.empty(xp.shape[:1] + tuple(out_sizes) + (c,), dtype=np.result_type(xp, taps_c))
    if strides[-1] == 1:
        # the einsum's inner loop runs over O[-1] * C values, not over C (2-4x faster for
        # 32 to 128 channels: the per-channel loop pays its overhead every C values)
        tiled = np.broadcast_to(taps_c[..., None, :], (*kernel_size, out_sizes[-1], c))
        tiled = np.ascontiguousarray(tiled).reshape(*kernel_size, -1)
        wide = out.reshape(out.shape[:-2] + (-1,))

        def block(lo, hi):
            np.einsum(f"{lead[:-1]}p{tap},{tap}p->{lead[:-1]}p",
                      _wide_windows(_rows(xp[lo:hi]), kernel_size, out_sizes, strides,
                                    dilation), tiled, out=wide[lo:hi])
    else:
        taps_c = np.ascontiguousarray(taps_c)

        def block(lo, hi):
            np.einsum(f"{lead}c{tap},{tap}c->{lead}c",
                      _windows(xp[lo:hi], kernel_size, out_sizes, strides, dilation), taps_c,
                      out=out[lo:hi])

    _parallel.for_blocks(block, len(out), out.nbytes // max(len(out), 1),
                         min_bytes=_parallel.COMPUTE_BLOCK_BYTES)
    return out


def _tap_sums(xp, g, kernel_size, out_sizes, strides, dilation):
    """The kernel plane's gradient, ``d[k, c] = sum_{n, o} window(o)[k, c] * g[n, *o, c]``,
    partial sums over blocks of samples shared between threads, added in block order.

    Args:
        xp: (N, *Sp, C) padded input.
        g: (N, *O, C) gradient of the plane's output.
        kernel_size, out_sizes, strides, dilation: tuples.

    Returns:
        A new (*K, C) array.
    """
    c = xp.shape[-1]
    lead, tap = _subscripts(len(kernel_size))

    def block(lo, hi):
        xb, gb = xp[lo:hi], g[lo:hi]
        if strides[-1] == 1 and c < _WIDE_SUMS_BELOW:
            wide = _wide_windows(_rows(xb), kernel_size, out_sizes, strides, dilation)
            gb = np.ascontiguousarray(gb).reshape(wide.shape[: gb.ndim - 1])
            sums = np.einsum(f"{lead[:-1]}p{tap},{lead[:-1]}p->{tap}p", wide, gb)
            return sums.reshape(*kernel_size, out_sizes[-1], c).sum(axis=-2)
        return np.einsum(f"{lead}c{tap},{lead}c->{tap}c",
                         _windows(xb, kernel_size, out_sizes, strides, dilation), gb)

    return _parallel.total(_parallel.map_blocks(block, len(g), g.nbytes // max(len(g), 1),
                                                min_bytes=_parallel.COMPUTE_BLOCK_BYTES))


class DepthwiseConvND(Function):
    """Per-channel N-d cross-correlation.

    Shapes: x (N, *S, C), kernel (*K, C, M), bias (C*M,) -> (N, *O, C*M), output channel
    ``c*M + m`` = input channel c filtered by ``kernel[..., c, m]``.
    """

    def forward(self, x, kernel, bias=None, strides=None, padding="valid", dilation_rate=None,
                op="depthwise_conv"):
        kernel_size, (c, m) = kernel.shape[:-2], kernel.shape[-2:]
        if x.ndim != kernel.ndim or x.shape[-1] != c:
            raise ValueError(
                f"{op}: kernel of shape {kernel.shape} (layout (*K, C_in, depth_multiplier)) "
                f"expects inputs (N, *spatial, {c}), got shape {x.shape}"
            )
        if bias is not None and bias.shape != (c * m,):
            raise ValueError(f"{op}: bias must have shape ({c * m},), got {bias.shape}")
        spans = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate)]
        out_sizes, pads = spatial_geometry(x.shape, spans, strides, padding, op)
        xp = pad_spatial(x, pads)  # (N, *Sp, C)
        # one (N, *O, C) plane per multiplier: einsum's inner loop then runs over C, not
        # over a tiny trailing M axis (which is several times slower)
        planes = [_correlate(xp, kernel[..., j], out_sizes, strides, dilation_rate)
                  for j in range(m)]
        out = planes[0] if m == 1 else np.stack(planes, axis=-1).reshape(
            planes[0].shape[:-1] + (c * m,))
        if bias is not None:
            out += bias
        self.save_for_backward(xp, kernel)
        self.geometry = (pads, out_sizes, strides, dilation_rate)
        return out  # (N, *O, C*M), channel c*M + j from planes[j][..., c]

    def backward(self, grad):
        xp, kernel = self.saved
        pads, out_sizes, strides, dilation = self.geometry
        kernel_size, (c, m) = kernel.shape[:-2], kernel.shape[-2:]
        g = grad.reshape(grad.shape[:-1] + (c, m))  # (N, *O, C, M)
        planes = [g[..., j] for j in range(m)]  # M strided (N, *O, C) views
        dx = dw = db = None
        if self.needs_input_grad[1]:
            # d out[..., c, j] / d kernel[k, c, j] = x at tap k, summed over the outputs
            dw = np.stack([_tap_sums(xp, plane, kernel_size, out_sizes, strides, dilation)
                           for plane in planes], axis=-1).astype(kernel.dtype, copy=False)
        if self.needs_input_grad[0]:
            dx = self._input_grad(planes, kernel, xp.shape, pads, out_sizes, strides,
                                  dilation).astype(xp.dtype, copy=False)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = linalg.sum_rows(grad.reshape(-1, c * m))  # (C*M,)
        return dx, dw, db

    @staticmethod
    def _input_grad(planes, kernel, padded_shape, pads, out_sizes, strides, dilation):
        """d out / d x, (N, *S, C): the sum over multipliers of each gradient plane
        correlated with its flipped kernel (stride 1), phase by phase (strided, no dilation
        along a strided axis: :func:`_phase_input_grad`), or scattered back tap by tap (a
        single tap, or strides with dilation)."""
        kernel_size = kernel.shape[:-2]
        flip = tuple(slice(None, None, -1) for _ in kernel_size)
        if all(s == 1 for s in strides):
            # a stride-1 correlation's adjoint: pad the gradient by span - 1 - pad on each
            # side and correlate it with the flipped kernel (same dilation)
            spans = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation)]
            gpads = [(span - 1 - before, span - 1 - after)
                     for span, (before, after) in zip(spans, pads)]
            sizes = tuple(n - sum(p) for n, p in zip(padded_shape[1:-1], pads))
            dx = None
            for j, plane in enumerate(planes):
                part = _correlate(pad_spatial(plane, gpads), kernel[flip + (slice(None), j)],
                                  sizes, strides, dilation)
                dx = part if dx is None else np.add(dx, part, out=dx)
            return dx
        if np.prod(kernel_size) > 1 and all(d == 1 for s, d in zip(strides, dilation) if s > 1):
            return crop_spatial(_phase_input_grad(planes, kernel, padded_shape, out_sizes,
                                                  strides, dilation), pads)
        # the caller casts to the input's dtype
        dxp = np.zeros(padded_shape, dtype=np.result_type(planes[0], kernel))
        scratch = np.empty(planes[0].shape, dtype=dxp.dtype)  # (N, *O, C)
        for offset in taps(kernel_size):
            index = tap_index(offset, out_sizes, strides, dilation)
            for j, plane in enumerate(planes):
                # d out[..., c, j] / d x[..., c] = kernel[offset, c, j]
                np.multiply(plane, kernel[offset][:, j], out=scratch)
                dxp[index] += scratch
        return crop_spatial(dxp, pads)


# ------------------------------------------------------------------ public functions
def _depthwise(op, rank, x, kernel, bias, strides, padding, dilation_rate):
    x_shape, k_shape = data_shape(x), data_shape(kernel)
    if len(x_shape) != rank + 2:
        raise ValueError(f"{op}: input must have rank {rank + 2} (N, *spatial, C), "
                         f"got shape {x_shape}")
    if len(k_shape) != rank + 2:
        raise ValueError(f"{op}: kernel must have rank {rank + 2} (*K, C_in, depth_multiplier), "
                         f"got shape {k_shape}")
    constants = dict(strides=int_tuple(strides, rank, "strides", op),
                     padding=padding_mode(padding, op),
                     dilation_rate=int_tuple(dilation_rate, rank, "dilation_rate", op), op=op)
    if bias is None:
        return DepthwiseConvND.apply(x, kernel, **constants)
    return DepthwiseConvND.apply(x, kernel, bias, **constants)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """Depthwise 2-D convolution of NHWC images (Keras's DepthwiseConv2D).

    Args:
        x: (N, H, W, C).
        kernel: (KH, KW, C, M), M the depth multiplier (Keras layout).
        bias: optional (C*M,).
        strides: int or pair, positive.
        padding: 'valid' or 'same'.
        dilation_rate: int or pair, positive.

    Returns:
        Tensor of shape (N, OH, OW, C*M); channel ``c*M + m`` is channel c filtered by
        ``kernel[:, :, c, m]``.

    Example:
        >>> depthwise_conv2d(np.ones((2, 7, 7, 3)), np.ones((3, 3, 3, 2)), padding="same").shape
        (2, 7, 7, 6)
    """
    return _depthwise("depthwise_conv2d", 2, x, kernel, bias, strides, padding, dilation_rate)


def depthwise_conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """Depthwise 1-D convolution of (N, L, C) sequences (Keras's DepthwiseConv1D).

    Args:
        x: (N, L, C).
        kernel: (K, C, M), M the depth multiplier.
        bias: optional (C*M,).
        strides, padding, dilation_rate: as :func:`depthwise_conv2d`, one int each.

    Returns:
        Tensor of shape (N, OL, C*M).

    Example:
        >>> depthwise_conv1d(np.ones((2, 9, 3)), np.ones((3, 3, 1))).shape
        (2, 7, 3)
    """
    return _depthwise("depthwise_conv1d", 1, x, kernel, bias, strides, padding, dilation_rate)


def _separable(op, rank, x, depthwise_kernel, pointwise_kernel, bias, strides, padding,
               dilation_rate):
    k_shape, p_shape = data_shape(depthwise_kernel), data_shape(pointwise_kernel)
    expected = (1,) * rank + (k_shape[-2] * k_shape[-1] if len(k_shape) == rank + 2 else None,)
    if len(p_shape) != rank + 2 or p_shape[:-1] != expected:
        raise ValueError(f"{op}: pointwise_kernel must have shape {expected[:-1]} + "
                         f"(C_in * depth_multiplier = {expected[-1]}, filters), got {p_shape}")
    y = _depthwise(op, rank, x, depthwise_kernel, None, strides, padding, dilation_rate)
    # pointwise 1x1 convolution = a dense layer over the channel axis
    return linalg.dense(y, shape_ops.reshape(pointwise_kernel, p_shape[-2:]), bias)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias=None, strides=1,
                     padding="valid", dilation_rate=1):
    """Depthwise 2-D convolution followed by a pointwise (1x1) one (Keras's SeparableConv2D).

    Args:
        x: (N, H, W, C).
        depthwise_kernel: (KH, KW, C, M).
        pointwise_kernel: (1, 1, C*M, F).
        bias: optional (F,).
        strides, padding, dilation_rate: of the depthwise step (the pointwise step has
            stride 1).

    Returns:
        Tensor of shape (N, OH, OW, F).

    Example:
        >>> separable_conv2d(np.ones((2, 7, 7, 3)), np.ones((3, 3, 3, 2)),
        ...                  np.ones((1, 1, 6, 8))).shape
        (2, 5, 5, 8)
    """
    return _separable("separable_conv2d", 2, x, depthwise_kernel, pointwise_kernel, bias,
                      strides, padding, dilation_rate)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, bias=None, strides=1,
                     padding="valid", dilation_rate=1):
    """Depthwise 1-D convolution followed by a pointwise one (Keras's SeparableConv1D).

    Args:
        x: (N, L, C).
        depthwise_kernel: (K, C, M).
        pointwise_kernel: (1, C*M, F).
        bias: optional (F,).
        strides, padding, dilation_rate: of the depthwise step, one int each.

    Returns:
        Tensor of shape (N, OL, F).

    Example:
        >>> separable_conv1d(np.ones((2, 9, 3)), np.ones((3, 3, 1)), np.ones((1, 3, 4))).shape
        (2, 7, 4)
    """
    return _separable("separable_conv1d", 1, x, depthwise_kernel, pointwise_kernel, bias,
                      strides, padding, dilation_rate)
