"""1-D convolution, composed from :func:`~npgrad.primitives.conv.conv2d` with height 1."""

from __future__ import annotations

import numpy as np

from npgrad.primitives import shape as _shape
from npgrad.primitives.conv import PADDINGS, conv2d, padding_mode, pair
from npgrad.primitives.windows import window_geometry


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, relu=False):
    """1-D convolution over the middle axis, composed from :func:`conv2d` with height 1.

    Args:
        x: (N, L, C) sequences.
        kernel: (K, C, F) weights, Keras layout.
        bias: optional (F,).
        strides: positive int.
        padding: 'valid', 'same' or 'causal' (left padding of (K - 1) * dilation, as Keras).
        dilation_rate: positive int.
        relu: apply ReLU to the output inside the op, as :func:`conv2d` does.

    Returns:
        Tensor of shape (N, OL, F).

    Example:
        >>> conv1d(np.ones((2, 10, 3)), np.ones((3, 3, 4)), padding="causal").shape
        (2, 10, 4)
    """
    op = "conv1d"
    padding = padding_mode(padding, op, PADDINGS + ("causal",))
    stride = pair(strides, "strides", op)[0] if np.isscalar(strides) else _single(strides, op)
    dilation = (
        pair(dilation_rate, "dilation_rate", op)[0]
        if np.isscalar(dilation_rate) else _single(dilation_rate, op)
    )
    x_shape = np.shape(getattr(x, "data", x))
    k_shape = np.shape(getattr(kernel, "data", kernel))
    if len(x_shape) != 3:
        raise ValueError(f"{op}: input must have rank 3 (N, L, C), got shape {x_shape}")
    if len(k_shape) != 3:
        raise ValueError(f"{op}: kernel must have rank 3 (K, C_in, F), got shape {k_shape}")
    if k_shape[1] != x_shape[2]:
        raise ValueError(
            f"{op}: kernel expects {k_shape[1]} input channels (kernel shape {k_shape}), "
            f"but the input has {x_shape[2]} (input shape {x_shape})"
        )
    n, length, c = x_shape
    if padding == "causal":
        x = _shape.pad(x, ((0, 0), ((k_shape[0] - 1) * dilation, 0), (0, 0)))
        length += (k_shape[0] - 1) * dilation
        padding = "valid"
    window_geometry(length, (k_shape[0] - 1) * dilation + 1, stride, padding, op, "length")
    x4 = _shape.reshape(x, (n, 1, length, c))  # (N, 1, L, C)
    k4 = _shape.reshape(kernel, (1,) + tuple(k_shape))  # (1, K, C, F)
    y = conv2d(x4, k4, bias, strides=(1, stride), padding=padding, dilation_rate=(1, dilation),
               relu=relu)
    return _shape.reshape(y, (n, y.shape[2], k_shape[2]))  # (N, OL, F)


def _single(value, op):
    """Accept a 1-tuple for conv1d's strides/dilation (Keras allows it)."""
    value = tuple(value)
    if len(value) != 1:
        raise TypeError(f"{op}: expected an int or a 1-tuple, got {value!r}")
    return pair(value[0], "strides/dilation_rate", op)[0]
