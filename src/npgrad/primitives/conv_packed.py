"""Narrow stride-1 convolutions with several output pixels to a row of their product.

im2col makes one row per output pixel, KH*KW*C values, and multiplies it by the (KH*KW*C,
F) kernel matrix. With few output channels (F = 16: a CIFAR ResNet's first stage) the
product has 16 columns, a shape OpenBLAS runs at about half its rate, and the copy of nine
values per input value costs as much as the product. Here ``P`` horizontally adjacent
output pixels share a row: their receptive fields overlap, so together they read a
KH x (KW + P - 1) window, the receptive field of a convolution with stride (1, P), and the
kernel matrix becomes (KH*(KW+P-1)*C, P*F), output pixel p's kernel placed at column
offset p with zeros around it. The product's (N*OH*OW/P, P*F) rows are, value for value in
memory, the (N, OH, OW, F) output: nothing is copied back. For a 3x3 kernel and P = 2 the
columns hold 12 values per output pixel pair where im2col copies 18, a third fewer, and
the product, with a third more multiply-adds (the zeros), runs at a higher rate on its 32
columns.

The kernel gradient is the same product transposed, (KH*(KW+P-1)*C, P*F), whose P kernel
placements are added back into one kernel; a stride-1 input gradient is a correlation too
(of the padded output gradient with the flipped kernel) and goes the same way.

:func:`pixels_per_row` gives the bounds, measured on a 2-core Intel Xeon (Sapphire Rapids,
AVX-512), batch 64, 'same' 3x3 kernels at 32x32, milliseconds, forward / kernel gradient
(P = 1 is plain im2col): two threads, 16 -> 16 channels P = 1 3.9-4.1 / 4.0-4.1, P = 2
3.3-3.5 / 3.6, P = 4 3.7-3.9 / 4.1; 3 -> 16 P = 1 1.4-1.6 / 2.2-2.3, P = 2 1.3-1.6 /
1.3-1.5, P = 4 1.1-1.2 / 1.2; 16 -> 32 P = 1 4.9-5.3 / 5.0-5.1, P = 2 4.7-4.8 / 4.8-4.9;
32 -> 32 at 16x16 2.6 / 2.6-2.7 either way. One thread: 3 -> 16 2.5 / 2.8 -> 1.7 / 2.0
(P = 4); 8 -> 8 3.6 / 3.4 (per-tap GEMMs, :mod:`conv_taps`) -> 2.3 / 2.6 with P = 2, 2.5 /
2.6 with P = 4; 16 -> 16 6.3 / 7.3 -> 6.3 / 6.6 (P = 2).

Example:
    >>> x = np.ones((2, 4, 4, 3), np.float32)
    >>> correlation(x, np.ones((3, 3, 3, 8), np.float32), (4, 4), (1, 1), (1, 1),
    ...             ((1, 1), (1, 1))).shape
    (32, 8)
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives.conv_blocks import columns_t_times, columns_times
from npgrad.primitives.gemm import DTYPES

#: at most this many output pixels a row
MAX_PIXELS = 4
#: a row's output columns, P * F, up to this many; up to twice as many for receptive fields
#: of at most :data:`SMALL_FIELD` values, where the copy, not the product, sets the pace
WIDTH, SMALL_FIELD = 32, 32


def pixels_per_row(dtypes, in_channels, out_channels, kernel_hw, strides, dilation, out_w):
    """How many output pixels share a row of the product (1: plain im2col).

    Args:
        dtypes: tuple of the operands' dtypes: one BLAS dtype (float32 or float64) for all.
        in_channels, out_channels: C and F of the correlation.
        kernel_hw: (KH, KW).
        strides, dilation: pairs; stride 1 and dilation 1 only.
        out_w: the output's width, which P divides.

    Returns:
        int P in {1, 2, 4}: the largest with ``P * F <= WIDTH`` (``2 * WIDTH`` for a small
        receptive field) that divides ``out_w``.
    """
    kinds = {np.dtype(d) for d in dtypes}
    if tuple(strides) != (1, 1) or tuple(dilation) != (1, 1) or len(kinds) != 1 or \
            not kinds <= DTYPES or kernel_hw[1] < 2:
        return 1
    width = WIDTH * (2 if kernel_hw[0] * kernel_hw[1] * in_channels <= SMALL_FIELD else 1)
    p = MAX_PIXELS
    while p > 1 and (p * out_channels > width or out_w % p):
        p //= 2
    return p


def packed_kernel(kernel, p):
    """(KH, KW, C, F) -> the (KH*(KW+P-1)*C, P*F) matrix of ``p`` adjacent output pixels:
    column block q holds the kernel shifted right by q taps, zeros elsewhere."""
    kh, kw, c, f = kernel.shape
    wide = np.zeros((kh, kw + p - 1, c, p, f), dtype=kernel.dtype)
    for q in range(p):
        wide[:, q : q + kw, :, q, :] = kernel
    return wide.reshape(kh * (kw + p - 1) * c, p * f)


def correlation(x, kernel, out_hw, strides, dilation, pads):
    """im2col(x) @ kernel, (N*OH*OW, F), with :func:`pixels_per_row` output pixels to a
    row (:func:`conv_blocks.columns_times` itself when that is 1).

    Args:
        x: (N, H, W, C) unpadded.
        kernel: (KH, KW, C, F).
        out_hw, strides, dilation: pairs.
        pads: ((top, bottom), (left, right)).

    Returns:
        A fresh C-contiguous (N*OH*OW, F) array.
    """
    kh, kw, c, f = kernel.shape
    oh, ow = out_hw
    p = pixels_per_row((x.dtype, kernel.dtype), c, f, (kh, kw), strides, dilation, ow)
    if p == 1:
        return columns_times(x, kernel.reshape(kh * kw * c, f), (kh, kw), out_hw, strides,
                             dilation, pads)
    out = columns_times(x, packed_kernel(kernel, p), (kh, kw + p - 1), (oh, ow // p), (1, p),
                        (1, 1), pads)  # (N*OH*OW/P, P*F): the output's memory
    return out.reshape(-1, f)


def kernel_gradient(x, grad, kernel_hw, strides, dilation, pads):
    """im2col(x)^T @ grad as a (KH, KW, C, F) kernel gradient, with :func:`pixels_per_row`
    output pixels to a row (their P kernel placements added back into one).

    Args:
        x: (N, H, W, C) unpadded.
        grad: (N, OH, OW, F) output gradient.
        kernel_hw, strides, dilation, pads: as :func:`correlation`.

    Returns:
        A fresh (KH, KW, C, F) array.
    """
    (kh, kw), (c, f) = kernel_hw, (x.shape[-1], grad.shape[-1])
    _, oh, ow, _ = grad.shape
    p = pixels_per_row((x.dtype, grad.dtype), c, f, kernel_hw, strides, dilation, ow)
    if p == 1:
        dw = columns_t_times(x, grad.reshape(-1, f), kernel_hw, (oh, ow), strides, dilation,
                             pads)
        return dw.reshape(kh, kw, c, f)
    wide = columns_t_times(x, grad.reshape(-1, p * f), (kh, kw + p - 1), (oh, ow // p),
                           (1, p), (1, 1), pads).reshape(kh, kw + p - 1, c, p, f)
    dw = wide[:, :kw, :, 0].copy()
    for q in range(1, p):
        dw += wide[:, q : q + kw, :, q]
    return dw
