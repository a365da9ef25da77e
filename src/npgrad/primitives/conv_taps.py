"""Stride-1 convolutions of narrow layers as one GEMM per kernel tap, accumulated by BLAS.

im2col copies every input value KH*KW times (nine for a 3x3 kernel) before its one GEMM.
For a layer of few channels that copy, and BLAS packing the copy again, cost more than the
product itself. Here the zero-padded image is seen as one (N*Hp*Wp, C) matrix of pixels:
the output pixel at flat position ``q`` of the padded grid reads pixel ``q + i*dh*Wp + j*dw``
for kernel tap ``(i, j)``, so each tap's operand is a contiguous slab of rows of that
matrix (no copy), and its GEMM adds into one output grid in place (BLAS's ``beta = 1``).

The grid has Hp*Wp positions per image where the output has OH*OW: the rows in between
(the right and bottom border of each image) are computed and dropped. That is 13 % more
work at 32x32 with a 3x3 kernel, 27 % at 16x16, and the per-tap GEMMs have an inner
dimension of only C, so wide layers keep im2col. Measured side by side on one thread
(forward of a batch of 64, 'same' 3x3 kernel, taps / im2col time): 16 -> 16 channels at
32x32 0.66-0.69, 32 -> 16 at 16x16 0.63, 24 -> 24 at 32x32 0.81, 32 -> 32 at 16x16
0.79-1.19, 64 -> 32 at 8x8 0.99, 16 -> 64 at 32x32 1.65, 3 -> 16 at 32x32 1.25: hence
:func:`use_taps`'s bounds.

A one-row kernel (every 1-D convolution: ``conv1d`` is a conv2d of height 1) drops only
the ``KW - 1`` padded columns of each row, 2 % of a 200-step sequence, so the taps win at
any width there: forward of a batch of 64 on a 2-core EPYC, two threads, taps / im2col time,
64 -> 64 channels, kernel 5, 200 steps 0.72; 16 -> 16 0.41; 64 -> 128, kernel 7, 256
steps 0.80; 128 -> 128, kernel 3, 128 steps 1.02; 256 -> 256, kernel 3, 32 steps 0.92.
Their kernel gradient is another matter (1.07-1.13 of im2col's time at the same sizes):
it keeps im2col.

The GEMMs accumulate into their output (BLAS's ``beta``), which NumPy's ``matmul`` cannot
do: they go to NumPy's own OpenBLAS through ctypes (``gemm.py``), so they use the threads
NumPy's pool has (a 2-thread forward of the 16 -> 16 conv above: 7.2 ms against 12.5 ms on
one thread).
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import blas_pools as _blas_pools
from npgrad.primitives import gemm as _gemm
from npgrad.primitives import parallel as _parallel
from npgrad.primitives import workspace as _workspace

MIN_CHANNELS, MAX_CHANNELS = 8, 32  # taps win inside these bounds (see the module text)
MAX_ROW_CHANNELS = 256  # and up to this width for one-row kernels (1-D convolutions)
_WINDOW_BYTES = 8 * 2**20  # the kernel gradient's width-im2col windows, per block of rows


def use_taps(dtypes, in_channels, out_channels, kernel_hw, strides, kernel_grad=False):
    """Whether a correlation of this shape runs faster as per-tap GEMMs than as im2col.

    Args:
        dtypes: the operands' dtype, or a tuple of their dtypes: one dtype with a BLAS
            GEMM (float32 or float64) shared by all of them.
        in_channels, out_channels: C and F of the correlation.
        kernel_hw: (KH, KW).
        strides: (sh, sw); only stride 1 reads contiguous slabs.
        kernel_grad: asking for :func:`tap_kernel_grad` rather than :func:`tap_correlation`:
            only with several threads in NumPy's BLAS pool and a kernel several taps wide
            (on one thread, im2col's blocks of samples win; see :func:`tap_kernel_grad`).

    Returns:
        bool.
    """
    kinds = {np.dtype(d) for d in (dtypes if isinstance(dtypes, tuple) else (dtypes,))}
    if not (tuple(strides) == (1, 1) and kernel_hw[0] * kernel_hw[1] > 1
            and len(kinds) == 1 and kinds <= _gemm.DTYPES and in_channels >= MIN_CHANNELS):
        return False
    if kernel_hw[0] == 1:  # one row: few dropped grid rows at any width (see the module text)
        return not kernel_grad and max(in_channels, out_channels) <= MAX_ROW_CHANNELS
    if _parallel.threads() > 1:
        # several threads: im2col's blocks shared between the threads win at every width
        # (conv_blocks.py); a 2-core Xeon, batch 64 at 32x32, 8 -> 8 channels forward 3.1 ->
        # 2.1 ms, 16 -> 32 kernel gradient 8.4 -> 4.8
        return False
    if kernel_grad and (kernel_hw[1] == 1 or (_blas_pools.get_threads() or 1) == 1):
        return False
    return in_channels <= MAX_CHANNELS and out_channels <= MAX_CHANNELS


def tap_correlation(x, kernel, pads, dilation=(1, 1)):
    """Stride-1 cross-correlation of NHWC images, one accumulated GEMM per kernel tap.

    Args:
        x: (N, H, W, C) float32 or float64 images, unpadded.
        kernel: (KH, KW, C, F) of the same dtype (any strides: a flipped view is fine).
        pads: ((top, bottom), (left, right)) zero padding.
        dilation: (dh, dw) spacing of the taps.

    Returns:
        A fresh C-contiguous (N, OH, OW, F) array, ``OH = H + top + bottom - (KH-1)*dh``
        and likewise ``OW``: the same values as im2col followed by one GEMM.
    """
    kh, kw, c, f = kernel.shape
    dh, dw = dilation
    xp = _workspace.zero_padded(x, *pads)  # (N, Hp, Wp, C), a reused buffer
    n, hp, wp, _ = xp.shape
    oh, ow = hp - (kh - 1) * dh, wp - (kw - 1) * dw
    pixels = xp.reshape(n * hp * wp, c)
    # the last valid output sits at flat position rows - 1 (see the module text)
    rows = n * hp * wp - ((kh - 1) * dh * wp + (kw - 1) * dw)
    grid = _workspace.scratch(_workspace.TEMP, (n * hp * wp, f), x.dtype)
    target, kernel = grid[:rows], np.ascontiguousarray(kernel)
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        offset = i * dh * wp + j * dw
        # grid += pixels[offset : offset + rows] (rows, C) @ kernel[i, j] (C, F)
        _gemm.accumulate(pixels[offset : offset + rows], kernel[i, j], target,
                         beta=0.0 if t == 0 else 1.0)
    # always a copy: the crop of a one-row grid is contiguous, and the grid is scratch
    crop = grid.reshape(n, hp, wp, f)[:, :oh, :ow, :]
    return _parallel.copy_rows(np.empty(crop.shape, dtype=crop.dtype), crop)


def tap_kernel_grad(x, grad, kernel_hw, pads, dilation=(1, 1)):
    """The kernel gradient of :func:`tap_correlation`, without the full im2col: one GEMM per
    kernel row over width-im2col windows (:func:`_row_windows`), for several BLAS threads.

    ``dkernel[i, j] = pixels[q + offset(i, j)]^T @ grad[q]`` summed over the output pixels
    ``q`` of the padded grid, where the gradient sits in the top-left (OH, OW) corner of
    each (Hp, Wp) image with zeros around it (so the grid's dropped rows add nothing). A
    kernel row's KW taps side by side make one (KW*C, rows) @ (rows, F) product, whose
    (KW*C, F) output OpenBLAS splits well between its threads (a single tap's (C, F) output
    it does not). On one thread im2col in blocks of samples is faster (the columns of a
    block stay in cache): on a 2-core Zen 4 EPYC, one thread, CPU time, the nine per-tap
    GEMMs this function used to run on one thread took 1.0-1.28x the time of im2col's 2 MB
    blocks for 8- to 32-channel layers, so :func:`use_taps` sends the one-thread kernel
    gradient to im2col; at two threads this route took 0.35-0.9x im2col's time at 8-16
    channels. Where npgrad's pool shares passes (the default with several threads), im2col's
    blocks shared between the threads win instead (:mod:`conv_blocks`): this route serves
    several BLAS threads with ``NPGRAD_PARALLEL=0``.

    Args:
        x: (N, H, W, C) input of the correlation, unpadded.
        grad: (N, OH, OW, F) gradient of its output, same dtype.
        kernel_hw: (KH, KW).
        pads: ((top, bottom), (left, right)) zero padding of ``x``.
        dilation: (dh, dw).

    Returns:
        A fresh (KH, KW, C, F) array.
    """
    (kh, kw), (dh, dw) = kernel_hw, dilation
    xp = _workspace.zero_padded(x, *pads)  # (N, Hp, Wp, C)
    n, hp, wp, c = xp.shape
    _, oh, ow, f = grad.shape
    # (N, Hp, Wp, F), in the other buffer (the padded x is in use)
    grid = _workspace.zero_padded(grad, (0, hp - oh), (0, wp - ow), name=_workspace.TEMP)
    rows = n * hp * wp - ((kh - 1) * dh * wp + (kw - 1) * dw)
    pixels, grads = xp.reshape(n * hp * wp, c), grid.reshape(n * hp * wp, f)[:rows]
    out = np.empty((kh, kw * c, f), dtype=x.dtype)
    # in blocks of rows whose windows take about _WINDOW_BYTES: the windows of a whole
    # batch would be a scratch buffer of KW times the padded image (28 MB for 32 channels
    # at 32x32, batch 64, a quarter of the CIFAR CNN's peak memory)
    span = (kh - 1) * dh * wp  # the rows kernel row i reads past the block: i*dh*wp
    block = max(1, _WINDOW_BYTES // (kw * c * pixels.itemsize) - span)
    part = np.empty_like(out) if rows > block else None
    for first in range(0, rows, block):
        size = min(block, rows - first)
        taps_w = _row_windows(pixels[first:], kw, dw, size + span)
        target = out if first == 0 else part
        for i in range(kh):
            start = i * dh * wp
            np.matmul(taps_w[start : start + size].T, grads[first : first + size],
                      out=target[i])
        if first:
            out += part
    return out.reshape(kh, kw, c, f)


def _row_windows(pixels, kw, dw, count):
    """(count, KW*C) matrix whose row ``q`` is pixels ``q, q + dw, ..., q + (KW-1)*dw`` side
    by side: im2col along the width only (KW copies of the image, not KH*KW), in the
    ``TEMP2`` scratch buffer.

    The per-tap kernel gradient has a (C, F) output, 16 x 16 for a narrow layer, which
    OpenBLAS splits between its threads so that each packs both whole operands: at two
    threads it runs slower than on one. A kernel row's KW taps side by side make a
    (KW*C, F) output that it splits well. Interleaved on a 2-core EPYC (Zen 3), batch 64,
    3x3 kernel, kernel gradient: 16 -> 16 channels at 32x32, 13.3 ms for the nine per-tap
    GEMMs at one thread, 9.8 ms this way at two; 32 -> 32 at 16x16, 8.9 -> 6.2 ms.
    """
    c = pixels.shape[1]
    item = pixels.strides[1]
    windows = np.lib.stride_tricks.as_strided(
        pixels, (count, kw, c), (pixels.strides[0], dw * pixels.strides[0], item),
        writeable=False)  # every read stays inside pixels: count + (KW-1)*dw <= its rows
    out = _workspace.scratch(_workspace.TEMP2, (count, kw * c), pixels.dtype)
    _parallel.copy_rows(out.reshape(count, kw, c), windows)
    return out
