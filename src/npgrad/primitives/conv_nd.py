"""Convolutions of any rank (used for 3-D and 1-D transposed), channels last; grouped conv.

Layouts follow Keras: inputs (N, *S, C); kernels (*K, C, F); transposed kernels (*K, F, C).
:class:`ConvND` gathers every receptive field into one matrix (im2col, one strided copy per
kernel tap) and multiplies it once by the reshaped kernel; its input gradient adds each
tap's columns back with one slice-add per tap (col2im), never ``np.add.at``.
:class:`ConvNDTranspose` is the adjoint: its forward is ConvND's input gradient and its
backward ConvND's forward. 2-D convolutions keep their own tuned op
(``npgrad.primitives.conv``); :func:`conv` dispatches by rank and splits ``groups``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from npgrad.autograd.function import Function
from npgrad.primitives import conv as conv2d_ops
from npgrad.primitives import conv1d as conv1d_ops
from npgrad.primitives import shape as shape_ops
from npgrad.primitives.linalg import sum_rows
from npgrad.primitives.windows import (
    crop_spatial,
    data_shape,
    int_tuple,
    pad_spatial,
    padding_mode,
    spatial_geometry,
    tap_index,
    taps,
    transpose_output_length,
)


def _check_operands(op, x, kernel, bias, transposed):
    """Check ranks, channels and bias; returns the number of output channels F."""
    rank = kernel.ndim - 2
    layout = "(*K, F_out, C_in)" if transposed else "(*K, C_in, F)"
    if x.ndim != rank + 2:
        raise ValueError(f"{op}: input must have rank {rank + 2} (N, *spatial, C) to match a "
                         f"kernel of shape {kernel.shape}, got shape {x.shape}")
    f, kc = (kernel.shape[-2], kernel.shape[-1]) if transposed else kernel.shape[:-3:-1]
    if kc != x.shape[-1]:
        raise ValueError(
            f"{op}: kernel expects {kc} input channels (kernel shape {kernel.shape}, layout "
            f"{layout}), but the input has {x.shape[-1]} (input shape {x.shape})"
        )
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"{op}: bias must have shape ({f},), got {bias.shape}")
    return f


def _im2col(xp, kernel_size, out_sizes, strides, dilation):
    """Receptive fields of a padded (N, *Sp, C) array as rows.

    Returns:
        cols: (N*prod(O), prod(K)*C), rows in (n, *o) order, columns in (*k, c) order,
        matching ``kernel.reshape(prod(K)*C, F)``. With no dilation along the last spatial
        axis, the KW taps of a window along it and the channels are one contiguous run of
        KW*C values, so one strided copy per tap of the *other* axes fills KW*C columns at
        once (long runs copy several times faster than C-long ones when C is small).
    """
    n, c = xp.shape[0], xp.shape[-1]
    rows = n * int(np.prod(out_sizes))
    if dilation[-1] == 1:
        kw, sw, ow = kernel_size[-1], strides[-1], out_sizes[-1]
        flat = xp.reshape(xp.shape[:-2] + (xp.shape[-2] * c,))  # (N, *Sp[:-1], Wp*C)
        runs = sliding_window_view(flat, kw * c, axis=-1)[..., : (ow - 1) * sw * c + 1 : sw * c, :]
        lead = taps(kernel_size[:-1])  # taps of the other axes (one empty tap for rank 1)
        cols = np.empty((n,) + tuple(out_sizes) + (len(lead), kw * c), dtype=xp.dtype)
        index = (slice(None),) * (len(out_sizes) + 1)
        for t, offset in enumerate(lead):
            # runs[...] at tap `offset`: (N, *O, KW*C), the window starts of the lead axes
            cols[index + (t,)] = runs[tap_index(offset, out_sizes[:-1], strides[:-1],
                                                dilation[:-1])]
        return cols.reshape(rows, -1)
    offsets = taps(kernel_size)
    cols = np.empty((n,) + tuple(out_sizes) + (len(offsets), c), dtype=xp.dtype)  # (N, *O, T, C)
    lead = (slice(None),) * (len(out_sizes) + 1)
    for t, offset in enumerate(offsets):
        cols[lead + (t,)] = xp[tap_index(offset, out_sizes, strides, dilation)]
    return cols.reshape(rows, len(offsets) * c)


def _col2im(tap_columns, kernel_size, padded_shape, out_sizes, strides, dilation):
    """Adjoint of :func:`_im2col`: add each tap's (N, *O, C) slab back onto the pixels it read.

    Args:
        tap_columns: (T, N, *O, C), tap-major so every slab is contiguous.
        padded_shape: (N, *Sp, C) of the padded input.

    Returns:
        (N, *Sp, C) array; one slice-add per tap.
    """
    dxp = np.zeros(padded_shape, dtype=tap_columns.dtype)
    for t, offset in enumerate(taps(kernel_size)):
        dxp[tap_index(offset, out_sizes, strides, dilation)] += tap_columns[t]
    return dxp


def _tap_products(rows, kernel_taps):
    """(T, M, C) = rows (M, F) @ kernel_taps[t]^T for every tap t, one batched GEMM."""
    return np.matmul(rows[None], kernel_taps.transpose(0, 2, 1))


class ConvND(Function):
    """N-d cross-correlation, channels last (any rank; the public 3-D one is :func:`conv3d`).

    Shapes: x (N, *S, C), kernel (*K, C, F), bias (F,) -> (N, *O, F).
    """

    def forward(self, x, kernel, bias=None, strides=None, padding="valid", dilation_rate=None):
        op = f"conv{kernel.ndim - 2}d"
        f = _check_operands(op, x, kernel, bias, transposed=False)
        kernel_size = kernel.shape[:-2]
        spans = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate)]
        out_sizes, pads = spatial_geometry(x.shape, spans, strides, padding, op)
        xp = pad_spatial(x, pads)  # (N, *Sp, C)
        cols = _im2col(xp, kernel_size, out_sizes, strides, dilation_rate)  # (N*prod(O), T*C)
        out = cols @ kernel.reshape(-1, f)  # (N*prod(O), F): the one GEMM
        if bias is not None:
            out += bias
        self.save_for_backward(cols, kernel)
        self.geometry = (xp.shape, pads, out_sizes, strides, dilation_rate)
        return out.reshape((x.shape[0],) + out_sizes + (f,))

    def backward(self, grad):
        cols, kernel = self.saved
        padded_shape, pads, out_sizes, strides, dilation = self.geometry
        kernel_size, (c, f) = kernel.shape[:-2], kernel.shape[-2:]
        g2 = grad.reshape(-1, f)  # (N*prod(O), F)
        dx = dw = db = None
        if self.needs_input_grad[0]:
            # dcols = grad @ W^T, tap-major (T, N*prod(O), C), then col2im sums the taps
            tap_columns = _tap_products(g2, kernel.reshape(-1, c, f))
            tap_columns = tap_columns.reshape((-1, grad.shape[0]) + out_sizes + (c,))
            dxp = _col2im(tap_columns, kernel_size, padded_shape, out_sizes, strides, dilation)
            dx = crop_spatial(dxp, pads)  # (N, *S, C)
        if self.needs_input_grad[1]:
            dw = (cols.T @ g2).reshape(kernel.shape)  # (T*C, F) -> (*K, C, F)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = sum_rows(g2)  # (F,)
        return dx, dw, db


class ConvNDTranspose(Function):
    """Transposed N-d convolution (the adjoint of :class:`ConvND`), Keras layout.

    Shapes: x (N, *S, C_in), kernel (*K, F, C_in), bias (F,) -> (N, *O, F); ``out_sizes`` is
    decided by the wrapper (Keras's output-length rule) and checked here: a ConvND with the
    same settings must map an image of that size back to *S.
    """

    def forward(self, x, kernel, bias=None, strides=None, padding="valid", dilation_rate=None,
                out_sizes=None):
        op = f"conv{kernel.ndim - 2}d_transpose"
        f = _check_operands(op, x, kernel, bias, transposed=True)
        kernel_size, c = kernel.shape[:-2], x.shape[-1]
        n, in_sizes = x.shape[0], x.shape[1:-1]
        spans = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate)]
        out_shape = (n,) + tuple(out_sizes) + (f,)
        back, pads = spatial_geometry(out_shape, spans, strides, padding, op)
        if back != in_sizes:
            raise ValueError(
                f"{op}: output size {tuple(out_sizes)} is inconsistent with input size "
                f"{in_sizes} for strides {strides}, padding {padding!r} and kernel "
                f"{kernel_size} (check output_padding)"
            )
        # tap_columns: (T, N*prod(S), F), x @ W[t]^T per tap, one batched GEMM
        tap_columns = _tap_products(x.reshape(-1, c), kernel.reshape(-1, f, c))
        tap_columns = tap_columns.reshape((-1, n) + in_sizes + (f,))
        padded = (n,) + tuple(o + sum(p) for o, p in zip(out_sizes, pads)) + (f,)
        outp = _col2im(tap_columns, kernel_size, padded, in_sizes, strides, dilation_rate)
        out = conv2d_ops.add_bias(crop_spatial(outp, pads), bias)  # (N, *O, F), in place
        self.save_for_backward(x, kernel)
        self.geometry = (pads, strides, dilation_rate)
        return out

    def backward(self, grad):
        x, kernel = self.saved
        pads, strides, dilation = self.geometry
        kernel_size, (f, c) = kernel.shape[:-2], kernel.shape[-2:]
        # the adjoint of col2im is im2col: gcols (N*prod(S), T*F)
        gcols = _im2col(pad_spatial(grad, pads), kernel_size, x.shape[1:-1], strides, dilation)
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = (gcols @ kernel.reshape(-1, c)).reshape(x.shape)  # ConvND forward of grad
        if self.needs_input_grad[1]:
            dw = (gcols.T @ x.reshape(-1, c)).reshape(kernel.shape)  # (T*F, C_in)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = sum_rows(grad.reshape(-1, f))  # (F,)
        return dx, dw, db


# ------------------------------------------------------------------ public functions
def _apply(op_class, x, kernel, bias, **constants):
    if bias is None:
        return op_class.apply(x, kernel, **constants)
    return op_class.apply(x, kernel, bias, **constants)


def _check_ranks(op, x, kernel, rank, kernel_layout):
    x_shape, k_shape = data_shape(x), data_shape(kernel)
    if len(x_shape) != rank + 2:
        raise ValueError(f"{op}: input must have rank {rank + 2} (N, *spatial, C), "
                         f"got shape {x_shape}")
    if len(k_shape) != rank + 2:
        raise ValueError(f"{op}: kernel must have rank {rank + 2} {kernel_layout}, "
                         f"got shape {k_shape}")
    return x_shape, k_shape


def conv3d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """3-D convolution of (N, D, H, W, C) volumes (cross-correlation, as Keras's Conv3D).

    Args:
        x: (N, D, H, W, C).
        kernel: (KD, KH, KW, C, F), Keras layout.
        bias: optional (F,).
        strides: int or 3 ints, positive.
        padding: 'valid' or 'same' (TensorFlow rule: output ceil(D / sd), odd pixel after).
        dilation_rate: int or 3 ints, positive.

    Returns:
        Tensor of shape (N, OD, OH, OW, F).

    Example:
        >>> conv3d(np.ones((1, 4, 5, 6, 2)), np.ones((3, 3, 3, 2, 4)), padding="same").shape
        (1, 4, 5, 6, 4)
    """
    op = "conv3d"
    _check_ranks(op, x, kernel, 3, "(KD, KH, KW, C_in, F)")
    return _apply(ConvND, x, kernel, bias, strides=int_tuple(strides, 3, "strides", op),
                  padding=padding_mode(padding, op),
                  dilation_rate=int_tuple(dilation_rate, 3, "dilation_rate", op))


def _conv_transpose(op, rank, x, kernel, bias, strides, padding, output_padding, dilation_rate):
    strides = int_tuple(strides, rank, "strides", op)
    padding = padding_mode(padding, op)
    dilation = int_tuple(dilation_rate, rank, "dilation_rate", op)
    x_shape, k_shape = _check_ranks(op, x, kernel, rank, "(*K, F_out, C_in)")
    if output_padding is None:
        paddings = (None,) * rank
    else:
        paddings = int_tuple(output_padding, rank, "output_padding", op, allow_zero=True)
        if any(p >= s for p, s in zip(paddings, strides)):
            raise ValueError(f"{op}: output_padding must be smaller than strides {strides} on "
                             f"every axis, got {output_padding!r}")
    out_sizes = tuple(
        transpose_output_length(x_shape[1 + a], k_shape[a], strides[a], padding, paddings[a],
                                dilation[a])
        for a in range(rank)
    )
    if min(out_sizes) <= 0:
        raise ValueError(f"{op}: output size {out_sizes} is not positive for input shape {x_shape}")
    return _apply(ConvNDTranspose, x, kernel, bias, strides=strides, padding=padding,
                  dilation_rate=dilation, out_sizes=out_sizes)


def conv3d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1):
    """Transposed 3-D convolution, the adjoint of :func:`conv3d` (Keras's Conv3DTranspose).

    Output length per axis (Keras): 'valid' ``D * sd + max(KD_eff - sd, 0)``, 'same'
    ``D * sd``; with ``output_padding``: ``(D - 1) * sd + KD_eff - 2 * pad + output_padding``
    (pad = KD_eff // 2 for 'same', else 0), KD_eff = (KD - 1) * dd + 1.

    Args:
        x: (N, D, H, W, C_in).
        kernel: (KD, KH, KW, F, C_in), Keras layout (output channels fourth).
        bias: optional (F,).
        strides: int or 3 ints.
        padding: 'valid' or 'same'.
        output_padding: None, int or 3 ints, each in [0, stride).
        dilation_rate: int or 3 ints.

    Returns:
        Tensor of shape (N, OD, OH, OW, F).

    Example:
        >>> conv3d_transpose(np.ones((1, 2, 3, 4, 2)), np.ones((3, 3, 3, 5, 2)), strides=2,
        ...                  padding="same").shape
        (1, 4, 6, 8, 5)
    """
    return _conv_transpose("conv3d_transpose", 3, x, kernel, bias, strides, padding,
                           output_padding, dilation_rate)


def conv1d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1):
    """Transposed 1-D convolution of (N, L, C) sequences (Keras's Conv1DTranspose).

    Args:
        x: (N, L, C_in).
        kernel: (K, F, C_in), Keras layout.
        bias: optional (F,).
        strides, padding, output_padding, dilation_rate: as :func:`conv3d_transpose`, one
            int each.

    Returns:
        Tensor of shape (N, OL, F).

    Example:
        >>> conv1d_transpose(np.ones((2, 5, 3)), np.ones((3, 4, 3)), strides=2).shape
        (2, 11, 4)
    """
    return _conv_transpose("conv1d_transpose", 1, x, kernel, bias, strides, padding,
                           output_padding, dilation_rate)


def conv(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """Convolution of rank 1, 2 or 3 with groups inferred from the kernel (``keras.ops.conv``).

    The kernel (*K, C / groups, F) sees ``groups = C // kernel.shape[-2]`` channel groups:
    group g reads input channels ``[g*C/groups, (g+1)*C/groups)`` and writes filters
    ``[g*F/groups, (g+1)*F/groups)``, as Keras's ``Conv*D(groups=...)``. One group calls
    :func:`~npgrad.primitives.conv1d.conv1d` / ``conv2d`` / :func:`conv3d`; several groups run
    one convolution per group and concatenate the results (autograd differentiates that).

    Args:
        x: (N, *S, C), rank 3 to 5.
        kernel: (*K, C / groups, F); F must be divisible by groups.
        bias: optional (F,).
        strides, padding, dilation_rate: as the rank's convolution ('causal' for rank 1 only).

    Returns:
        Tensor of shape (N, *O, F).

    Example:
        >>> conv(np.ones((2, 6, 6, 4)), np.ones((3, 3, 2, 6)), padding="same").shape  # 2 groups
        (2, 6, 6, 6)
    """
    x_shape, k_shape = data_shape(x), data_shape(kernel)
    rank = len(k_shape) - 2
    if rank not in (1, 2, 3) or len(x_shape) != rank + 2:
        raise ValueError(f"conv: expected an input of rank 3, 4 or 5 and a kernel of the same "
                         f"rank, got input shape {x_shape} and kernel shape {k_shape}")
    channels, group_channels, filters = x_shape[-1], k_shape[-2], k_shape[-1]
    if group_channels <= 0 or channels % group_channels:
        raise ValueError(f"conv: the input's {channels} channels are not a multiple of the "
                         f"kernel's {group_channels} input channels (kernel shape {k_shape})")
    groups = channels // group_channels
    if filters % groups:
        raise ValueError(f"conv: {filters} filters cannot be split into {groups} groups "
                         f"(input shape {x_shape}, kernel shape {k_shape})")
    single = {1: conv1d_ops.conv1d, 2: conv2d_ops.conv2d, 3: conv3d}[rank]
    kwargs = dict(strides=strides, padding=padding, dilation_rate=dilation_rate)
    if groups == 1:
        return single(x, kernel, bias, **kwargs)
    step = filters // groups
    lead = (slice(None),) * (rank + 1)
    outputs = []
    for g in range(groups):
        x_g = shape_ops.getitem(x, lead + (slice(g * group_channels, (g + 1) * group_channels),))
        k_g = shape_ops.getitem(kernel, lead + (slice(g * step, (g + 1) * step),))
        b_g = None if bias is None else shape_ops.getitem(bias, slice(g * step, (g + 1) * step))
        outputs.append(single(x_g, k_g, b_g, **kwargs))
    return shape_ops.concatenate(outputs, axis=-1)
