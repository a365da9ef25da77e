"""im2col and its GEMM block by block on every core: each thread its own blocks of samples.

On one thread (or with ``NPGRAD_PARALLEL=0``) im2col and its GEMM run over blocks of
samples on the calling thread (the columns of a block still in cache when the GEMM reads
them), and OpenBLAS splits each block's GEMM between its threads. With several threads
that leaves the copy on one core, and each block's product is short: OpenBLAS's threads
meet (and wait for each other) once per block. So there the blocks themselves are
shared: the padded input is made once, then each thread copies the
columns of its own blocks into a buffer of its own (about :data:`BLOCK_BYTES`, in its
cache) and multiplies them at one BLAS thread, writing its rows of the output (the
forward, a stride-1 input gradient) or its part of the kernel gradient, the parts added
in block order afterwards.

Two NumPy calls a piece, a copy and a product: every call hands Python's lock (the GIL) to
the other thread and back, so the pieces are whole samples where they fit, and each thread
pads nothing itself (a first version padded each block on its own thread, three calls a
piece, and ran slower than one thread: 6.2 ms against 3.5 for the forward below).

Measured on a 2-core Intel Xeon (Sapphire Rapids, AVX-512) at two threads, batch 64,
'same' 3x3 kernels, milliseconds (shared blocks / the route used before: per-tap GEMMs for
narrow layers, else im2col with OpenBLAS's two threads on each block): 16 -> 16 channels
at 32x32 forward 3.5 / 4.8, kernel gradient 3.6 / 3.9, input gradient 3.5 / 4.6; 32 -> 32
at 16x16 2.3 / 2.8, 2.5 / 4.2, 2.4 / 2.8; 64 -> 64 at 8x8 1.7 / 2.3, 1.8 / 2.5, 1.8 / 2.4.
(On a 2-core Zen 1 EPYC the per-block-padding version lost, see docs/performance.md.)

:func:`products_col2im` is the adjoint's counterpart (a strided input gradient, a
transposed convolution's forward): each block of samples makes its per-tap products as
one GEMM and adds them back onto its own samples' pixels.

Example:
    >>> x = np.ones((4, 5, 5, 2), np.float32)
    >>> columns_times(x, np.ones((18, 3), np.float32), (3, 3), (5, 5), (1, 1), (1, 1),
    ...               ((1, 1), (1, 1))).shape
    (100, 3)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from npgrad.primitives import blas_pools as _blas_pools
from npgrad.primitives import parallel as _parallel
from npgrad.primitives import workspace as _workspace

#: the columns one thread copies and multiplies at a time (its cache, not the whole batch)
BLOCK_BYTES = 2**20
#: the products one thread makes and adds back at a time in :func:`products_col2im`: their
#: GEMM's inner dimension is short (the output channels), and larger blocks amortize
#: OpenBLAS's packing of its wide right operand (2-core Xeon, two threads, batch 64: the
#: input gradient of a 16 -> 32 3x3 stride-2 conv at 32x32 3.0 ms with 1 MB, 2.5 with 4 MB;
#: a 128 -> 64 4x4 stride-2 transposed conv at 7x7 5.9 and 5.0)
PRODUCT_BYTES = 4 * 2**20
#: on one thread: the columns made and multiplied at a time, per thread of NumPy's BLAS pool
#: (on a 2-core Zen 4 EPYC, batch 64, 3x3 kernels, the forward and kernel gradient of 16- to
#: 64-channel layers took 0.65-0.9x the time at one thread with 2 MB rather than 8 MB, and
#: about 0.9x at two BLAS threads with 4 MB)
CHUNK_BYTES = 2 * 2**20


def use_blocks(x):
    """Whether :func:`columns_times` and :func:`columns_t_times` share their blocks between
    threads for the images (or windows) ``x``: several threads in the pool and more than one
    input channel (one channel is a first layer, whose few columns one thread copies)."""
    return _parallel.threads() > 1 and x.shape[-1] > 1


def receptive_fields(x, kernel_hw, out_hw, strides, dilation, pads):
    """The (N, OH, OW, KH, KW, C) receptive fields of ``x`` (N, H, W, C) padded by ``pads``:
    a view of the padded image, made once in the ``PAD`` scratch buffer of the calling
    thread (see :mod:`workspace`), so used before the next padding."""
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel_hw, out_hw, strides, dilation
    xp = _workspace.zero_padded(x, *pads)
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    windows = sliding_window_view(xp, (span_h, span_w), axis=(1, 2))
    windows = windows[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :, ::dh, ::dw]
    return windows.transpose(0, 1, 2, 4, 5, 3)


def _pieces(windows, lo, hi, piece_bytes):
    """The pieces of samples ``lo:hi``: ``(windows piece, first output row, rows)``, whole
    samples of about ``piece_bytes`` of columns, or image rows of one sample when a
    sample's columns are larger."""
    _, oh, ow, kh, kw, c = windows.shape
    row_bytes = ow * kh * kw * c * windows.itemsize  # the columns of one image row
    if oh * row_bytes <= piece_bytes:
        per = max(1, piece_bytes // max(oh * row_bytes, 1))
        for s in range(lo, hi, per):
            e = min(s + per, hi)
            yield windows[s:e], s * oh * ow, (e - s) * oh * ow
        return
    per = max(1, piece_bytes // row_bytes)
    for s in range(lo, hi):
        for r in range(0, oh, per):
            e = min(r + per, oh)
            yield windows[s, r:e], (s * oh + r) * ow, (e - r) * ow


def columns(piece, share=False):
    """The receptive fields ``piece`` (..., KH, KW, C) copied into this thread's ``TEMP``
    scratch buffer, as a (rows, KH*KW*C) matrix (im2col): used before the next call.

    ``share``: the copy split between the pool's threads by its leading axis (a whole
    batch's columns); the blocks of :func:`columns_times` copy their own pieces.
    """
    cols = _workspace.scratch(_workspace.TEMP, piece.shape, piece.dtype)
    if piece.shape[-1] == 1:
        # one channel (a first layer on grey images): one strided slice per kernel offset
        # copies ~3x faster than the window copy, whose inner axes are tiny
        for i in range(piece.shape[-3]):
            for j in range(piece.shape[-2]):
                cols[..., i, j, :] = piece[..., i, j, :]
    elif share:
        _parallel.copy_rows(cols, piece)
    else:
        np.copyto(cols, piece)
    return cols.reshape(-1, math.prod(piece.shape[-3:]))


def _map(fn, windows):
    """:func:`_map_samples` over the samples of ``windows``, shared where
    :func:`use_blocks` says."""
    per_sample = np.prod(windows.shape[1:]) * windows.itemsize
    return _map_samples(fn, windows.shape[0], per_sample, use_blocks(windows))


def _map_samples(fn, n, per_sample, shared, piece_bytes=None):
    """``[fn(lo, hi, piece_bytes)]`` over blocks of the ``n`` samples: shared between the
    pool's threads at one BLAS thread each (pieces of ``piece_bytes``, by default
    :data:`BLOCK_BYTES`), else one block on this thread, whose products OpenBLAS splits
    between its threads."""
    if not shared:
        return [fn(0, n, CHUNK_BYTES * (_blas_pools.get_threads() or 1))]
    piece_bytes = BLOCK_BYTES if piece_bytes is None else piece_bytes
    return _parallel.map_blocks(lambda lo, hi: fn(lo, hi, piece_bytes), n, per_sample,
                                blas=True, min_bytes=_parallel.COMPUTE_BLOCK_BYTES)


def columns_times(x, matrix, kernel_hw, out_hw, strides, dilation, pads):
    """``im2col(x) @ matrix``, (N*OH*OW, matrix columns), its blocks on every thread.

    Args:
        x: (N, H, W, C) unpadded.
        matrix: (KH*KW*C, F), rows in (kh, kw, c) order.
        kernel_hw, out_hw, strides, dilation: pairs.
        pads: ((top, bottom), (left, right)).

    Returns:
        A fresh C-contiguous array, the same values as one im2col and one GEMM.
    """
    (kh, kw), (oh, ow), (sh, sw) = kernel_hw, out_hw, strides
    if kh == 1 and kw == 1 and pads == ((0, 0), (0, 0)):  # the columns are the pixels
        pixels = x[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :]
        return pixels.reshape(-1, x.shape[-1]) @ matrix
    windows = receptive_fields(x, kernel_hw, out_hw, strides, dilation, pads)
    n = windows.shape[0]
    out = np.empty((n * oh * ow, matrix.shape[1]), dtype=np.result_type(x, matrix))

    def block(lo, hi, piece_bytes):
        for piece, start, rows in _pieces(windows, lo, hi, piece_bytes):
            np.matmul(columns(piece), matrix, out=out[start : start + rows])

    _map(block, windows)
    return out


def columns_t_times(x, g2, kernel_hw, out_hw, strides, dilation, pads):
    """``im2col(x)^T @ g2`` (a kernel gradient), (KH*KW*C, F): each thread sums its blocks'
    products, and the threads' parts are added in block order.

    Args:
        x: (N, H, W, C) unpadded.
        g2: (N*OH*OW, F) output gradient rows.
        kernel_hw, out_hw, strides, dilation, pads: as :func:`columns_times`.

    Returns:
        A fresh (KH*KW*C, F) array.
    """
    windows = receptive_fields(x, kernel_hw, out_hw, strides, dilation, pads)

    def block(lo, hi, piece_bytes):
        total = None
        for piece, start, rows in _pieces(windows, lo, hi, piece_bytes):
            part = columns(piece).T @ g2[start : start + rows]
            total = part if total is None else np.add(total, part, out=total)
        return total

    return _parallel.total(_map(block, windows))


def products_col2im(g, kernel_taps, padded_hw, strides, dilation):
    """col2im of the per-tap products ``g @ kernel_taps[i, j]^T``: every product added onto
    the pixel of the padded image its tap reads (a strided convolution's input gradient, a
    transposed convolution's forward), block by block over the samples.

    Each block makes its products as one GEMM, (rows, F) @ (F, KH*KW*C), into a buffer of
    its thread (in cache), and adds them onto its own samples of the image, so the products
    of the whole batch (KH*KW times the image) never exist at once, and with several
    threads each thread has blocks of its own (the samples' images do not overlap).

    Args:
        g: (N, OH, OW, F).
        kernel_taps: (KH, KW, C, F), the matrix of each tap.
        padded_hw: (Hp, Wp) of the image the taps read.
        strides, dilation: pairs.

    Returns:
        A fresh (N, Hp, Wp, C) array.
    """
    n, oh, ow, f = g.shape
    kh, kw, c, _ = kernel_taps.shape
    (sh, sw), (dh, dw) = strides, dilation
    dtype = np.result_type(g, kernel_taps)
    # (F, KH*KW*C): a row of g times it gives every tap's product, tap by tap
    matrix = np.ascontiguousarray(kernel_taps.transpose(3, 0, 1, 2)).reshape(f, kh * kw * c)
    g2, out = g.reshape(n * oh * ow, f), np.empty((n,) + tuple(padded_hw) + (c,), dtype=dtype)
    per_sample = oh * ow * kh * kw * c * dtype.itemsize

    def block(lo, hi, piece_bytes):
        # whole samples: their images do not overlap
        per = max(1, piece_bytes // max(per_sample, 1))
        for s in range(lo, hi, per):
            e = min(s + per, hi)
            products = _workspace.scratch(_workspace.TEMP, ((e - s) * oh * ow, kh * kw * c),
                                          dtype)
            np.matmul(g2[s * oh * ow : e * oh * ow], matrix, out=products)
            products = products.reshape(e - s, oh, ow, kh, kw, c)
            image = out[s:e]
            image[...] = 0
            for i in range(kh):
                rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
                for j in range(kw):
                    cols = slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)
                    image[:, rows, cols, :] += products[:, :, :, i, j, :]

    _map_samples(block, n, per_sample, _parallel.threads() > 1, PRODUCT_BYTES)
    return out
