"""Stride-1 convolutions with a few output channels: copy the narrow side, not the wide one.

The last layer of an image-to-image network maps many channels to a few: a segmentation
head's classes, a denoiser's or autoencoder's 1 or 3 colour channels. im2col copies the
wide input KH*KW times (288 values per pixel for 32 channels and a 3x3 kernel) to feed a
GEMM whose output has only F columns, and the per-tap GEMMs of :mod:`conv_taps` read the
whole input nine times to write an (rows, F) strip each. Here the product runs the other
way round, on the zero-padded image seen as one (Np, C) matrix of pixels (Np = N*Hp*Wp):

- forward: ``P = K^T @ pixels^T``, (KH*KW*F, C) @ (C, Np), one GEMM over the input, read
  once; an output pixel at flat grid position q is the sum over taps t of
  ``P[t, :, q + offset(t)]``, KH*KW additions of (F, Np) slabs, contiguous in q; one
  transposed copy makes the (N, OH, OW, F) output;
- kernel gradient: the output gradient on the grid (zeros on the dropped border positions),
  shifted by each tap's offset into a (KH*KW*F, Np) matrix (KH*KW*F values per pixel, 27
  where im2col copies 288), then one GEMM with the pixels, (KH*KW*F, Np) @ (Np, C).

The input gradient is already narrow-side: conv2d's stride-1 input gradient is an im2col
of the F-channel output gradient. Both routes are pinned to conv2d's im2col route in float64
(``tests/primitives/test_conv_narrow.py``); :func:`use_narrow` gives their bounds.
Measured on a 2-core EPYC (Zen 4), one thread, CPU time, 3x3 'same', batch 16 at 64x64
unless noted, narrow / im2col-or-taps time: see docs/performance.md.
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import workspace as _workspace
from npgrad.primitives.gemm import DTYPES

#: outputs at most this wide, and at most 1 / _RATIO of the input's width, go this way
MAX_CHANNELS, _RATIO = 16, 4


def use_narrow(dtypes, in_channels, out_channels, kernel_hw, strides):
    """Whether a correlation of this shape runs as :func:`narrow_correlation` (and its
    kernel gradient as :func:`narrow_kernel_grad`).

    Args:
        dtypes: tuple of the operands' dtypes: one BLAS dtype (float32 or float64) for all.
        in_channels, out_channels: C and F.
        kernel_hw: (KH, KW): more than one tap.
        strides: (sh, sw): stride 1 only (the grid's positions are the outputs).

    Returns:
        bool.
    """
    kinds = {np.dtype(d) for d in dtypes}
    return (tuple(strides) == (1, 1) and kernel_hw[0] * kernel_hw[1] > 1 and len(kinds) == 1
            and kinds <= DTYPES and out_channels <= MAX_CHANNELS
            and out_channels * _RATIO <= in_channels)


def _grid(x, kernel_hw, pads, dilation):
    """The zero-padded image as (Np, C) pixels, its (N, Hp, Wp) and the tap offsets."""
    xp = _workspace.zero_padded(x, *pads)  # (N, Hp, Wp, C), a reused buffer
    n, hp, wp, c = xp.shape
    (kh, kw), (dh, dw) = kernel_hw, dilation
    offsets = [i * dh * wp + j * dw for i in range(kh) for j in range(kw)]
    return xp.reshape(n * hp * wp, c), (n, hp, wp), offsets


def narrow_correlation(x, kernel, pads, dilation=(1, 1)):
    """Stride-1 cross-correlation of NHWC images through the narrow side (module text).

    Args:
        x: (N, H, W, C) float32 or float64 images, unpadded.
        kernel: (KH, KW, C, F) of the same dtype.
        pads: ((top, bottom), (left, right)) zero padding.
        dilation: (dh, dw).

    Returns:
        A fresh C-contiguous (N, OH, OW, F) array.
    """
    kh, kw, c, f = kernel.shape
    pixels, (n, hp, wp), offsets = _grid(x, (kh, kw), pads, dilation)
    oh, ow = hp - (kh - 1) * dilation[0], wp - (kw - 1) * dilation[1]
    # (KH*KW*F, C) @ (C, Np): every tap's F outputs per grid position, in one GEMM
    taps = _workspace.scratch(_workspace.TEMP, (kh * kw * f, pixels.shape[0]), x.dtype)
    np.matmul(kernel.reshape(kh * kw, c, f).transpose(0, 2, 1).reshape(kh * kw * f, c),
              pixels.T, out=taps)
    taps = taps.reshape(kh * kw, f, -1)
    rows = pixels.shape[0] - offsets[-1]  # grid positions whose window lies in the grid
    grid = np.empty((f, n * hp * wp), dtype=x.dtype)  # positions from rows on: never read
    np.copyto(grid[:, :rows], taps[0, :, offsets[0] : offsets[0] + rows])
    for t, offset in enumerate(offsets[1:], start=1):
        grid[:, :rows] += taps[t, :, offset : offset + rows]
    # one channel at a time: a transposed copy would run NumPy's loop over F values a pixel
    out = np.empty((n, oh, ow, f), dtype=x.dtype)
    for channel, plane in enumerate(grid.reshape(f, n, hp, wp)):
        out[..., channel] = plane[:, :oh, :ow]
    return out


def narrow_kernel_grad(x, grad, kernel_hw, pads, dilation=(1, 1)):
    """The kernel gradient of :func:`narrow_correlation`, a fresh (KH, KW, C, F) array, from
    its unpadded input ``x`` (N, H, W, C) and output gradient ``grad`` (N, OH, OW, F), with
    the arguments of :func:`npgrad.primitives.conv_taps.tap_kernel_grad`."""
    (kh, kw), f = kernel_hw, grad.shape[-1]
    pixels, (n, hp, wp), offsets = _grid(x, kernel_hw, pads, dilation)
    _, oh, ow, _ = grad.shape
    # the gradient on the grid, (F, Np): zeros where the grid has no output
    on_grid = np.zeros((f, n, hp, wp), dtype=grad.dtype)
    on_grid[:, :, :oh, :ow] = grad.transpose(3, 0, 1, 2)
    on_grid = on_grid.reshape(f, -1)
    rows = pixels.shape[0] - offsets[-1]
    # shifted[t, :, q + offset(t)] = grad at grid position q: the pixel tap t reads there
    shifted = _workspace.scratch(_workspace.TEMP, (kh * kw, f, pixels.shape[0]), grad.dtype)
    for t, offset in enumerate(offsets):
        shifted[t, :, :offset] = 0
        shifted[t, :, offset : offset + rows] = on_grid[:, :rows]
        shifted[t, :, offset + rows :] = 0
    dk = shifted.reshape(kh * kw * f, -1) @ pixels  # (KH*KW*F, C)
    return np.ascontiguousarray(dk.reshape(kh, kw, f, -1).transpose(0, 1, 3, 2))
