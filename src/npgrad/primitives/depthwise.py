"""Depthwise and separable convolutions of rank 1 and 2 (any rank internally), channels last.

A depthwise convolution filters every input channel on its own: with a kernel (*K, C, M)
(``M`` = depth multiplier) input channel ``c`` makes output channels ``c*M .. c*M + M - 1``
(Keras's and TensorFlow's order). There is no reduction over channels, so no GEMM: the op
visits the ``prod(K)`` kernel taps and, per tap, multiplies a strided (N, *O, C) view of the
input by that tap's (C, M) weights. A separable convolution is a depthwise one followed by a
pointwise (1x1) one, composed here from :class:`DepthwiseConvND` and ``dense``.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import linalg
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
        # one (N, *O, C) plane per multiplier m: NumPy's inner loop then runs over C, not
        # over a tiny trailing M axis (which is several times slower)
        shape, dtype = (x.shape[0],) + out_sizes + (c,), np.result_type(x, kernel)
        planes = [np.zeros(shape, dtype=dtype) for _ in range(m)]
        product = np.empty(shape, dtype=dtype)  # one scratch buffer for every tap
        for offset in taps(kernel_size):
            view = xp[tap_index(offset, out_sizes, strides, dilation_rate)]  # (N, *O, C)
            for j, plane in enumerate(planes):
                np.multiply(view, kernel[offset][:, j], out=product)
                plane += product
        out = planes[0] if m == 1 else np.stack(planes, axis=-1).reshape(shape[:-1] + (c * m,))
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
        dxp = np.zeros_like(xp) if self.needs_input_grad[0] else None
        dw = np.empty_like(kernel) if self.needs_input_grad[1] else None
        scratch = np.empty(g.shape[:-1], dtype=grad.dtype)  # (N, *O, C)
        lead = "abcdefgh"[: grad.ndim - 1]  # N and the spatial axes, summed over
        contraction = f"{lead}z,{lead}z->z"
        for offset in taps(kernel_size):
            index = tap_index(offset, out_sizes, strides, dilation)
            view = xp[index]  # (N, *O, C)
            for j, plane in enumerate(planes):
                if dxp is not None:
                    # d out[..., c, j] / d x[..., c] = kernel[offset, c, j]
                    np.multiply(plane, kernel[offset][:, j], out=scratch)
                    dxp[index] += scratch
                if dw is not None:
                    # d out[..., c, j] / d kernel[offset, c, j] = x at that tap, summed
                    dw[offset + (slice(None), j)] = np.einsum(contraction, view, plane)
        dx = None if dxp is None else crop_spatial(dxp, pads)
        db = None
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = grad.reshape(-1, c * m).sum(axis=0)  # (C*M,)
        return dx, dw, db


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
