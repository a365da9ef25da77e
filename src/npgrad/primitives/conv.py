"""Convolutions on NHWC images: im2col + one GEMM, col2im by slice-adds.

Layouts follow Keras: images (N, H, W, C); conv2d kernels (KH, KW, C, F); conv2d_transpose
kernels (KH, KW, F_out, C_in). ``'same'`` padding follows TensorFlow: the output has
``ceil(in / stride)`` positions and the total padding ``max((out - 1) * stride + eff_k - in, 0)``
is split ``total // 2`` before and the rest after (one more after when the total is odd).

The forward of :class:`Conv2D` gathers every receptive field into a matrix (im2col) and
multiplies it once by the reshaped kernel (by blocks of samples: ``conv_blocks.py``). Its
strided input gradient adds every tap's products back onto the pixels they came from
(col2im, ``conv_blocks.products_col2im``) with one slice-add per kernel offset, never
``np.add.at``. :class:`Conv2DTranspose`
is the adjoint: its forward is Conv2D's input gradient, its backward Conv2D's forward.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from npgrad.autograd.function import Function
from npgrad.primitives import channels as _channels
from npgrad.primitives import parallel as _parallel
from npgrad.primitives.conv_blocks import (
    columns,
    columns_times,
    products_col2im,
    receptive_fields,
)
from npgrad.primitives.conv_narrow import narrow_correlation, narrow_kernel_grad, use_narrow
from npgrad.primitives.conv_packed import correlation, kernel_gradient, pixels_per_row
from npgrad.primitives.conv_taps import tap_correlation, tap_kernel_grad, use_taps
from npgrad.primitives.linalg import sum_rows
from npgrad.primitives.rectify import (
    bias_relu_copy,
    bias_relu_in_place,
    fusable_bias,
    masked,
    rectify_in_place,
    relu_flag,
)
from npgrad.primitives.windows import window_geometry  # noqa: F401 - pool.py and tests use it from here too

PADDINGS = ("valid", "same")
#: :func:`_scatter_copies_less`'s bounds. Batch 64 unless noted, 3x3, two threads, the
#: input gradient in ms, correlation -> products added back: 32 -> 64 'valid' at 13x13 (batch
#: 32) 1.60-1.65 -> 1.31-1.39 (ratio 0.36), 64 -> 128 'valid' at 7x7 2.65 -> 1.72 (0.26),
#: 16 -> 64 'same' at 14x14 2.82 -> 2.44 (0.25), 32 -> 128 'same' at 32x32 (batch 16) 8.49
#: -> 7.27 (0.25), 32 -> 96 'valid' at 26x26 (batch 32) 8.35 -> 6.68 (0.28); kept: 32 -> 64
#: 'same' at 13x13 1.59-1.68 against 1.74-1.78 (0.5), 16 -> 32 'valid' at 28x28 2.67 against
#: 2.93 (0.43), 16 -> 32 'same' at 32x32 5.78 against 9.39 (0.5), 16 -> 16 3.04 against 7.77;
#: one thread, 8 -> 32 'valid' at 24x24 1.98 against 2.98 (8 channels, adds of 8 values)
SCATTER_RATIO, SCATTER_MIN_CHANNELS = 0.4, 16


# ------------------------------------------------------------------ argument checks
def pair(value, name, op):
    """Normalize an int or a pair of ints to a pair of positive ints.

    Raises:
        TypeError: when the value is not an int or a pair of ints.
        ValueError: when an entry is not positive.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
        if len(pair) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair
        ):
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        pair = (int(pair[0]), int(pair[1]))
    if pair[0] <= 0 or pair[1] <= 0:
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return pair


def padding_mode(padding, op, allowed=PADDINGS):
    """Lower-case the padding string and check it is one of ``allowed``."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"{op}: padding must be one of {list(allowed)}, got {padding!r}")
    return mode


def _check_rank(array, ndim, what, layout, op):
    if array.ndim != ndim:
        raise ValueError(
            f"{op}: {what} must have rank {ndim} {layout}, got shape {array.shape} (rank {array.ndim})"
        )


def check_conv_operands(op, x, kernel, bias, transposed=False):
    """Check ranks, channels and bias of a conv's operands.

    Returns:
        (kh, kw, f): kernel size and number of output channels.
    """
    layout = "(KH, KW, F_out, C_in)" if transposed else "(KH, KW, C_in, F)"
    _check_rank(x, 4, "input", "(N, H, W, C)", op)
    _check_rank(kernel, 4, "kernel", layout, op)
    kh, kw = kernel.shape[:2]
    f, kc = kernel.shape[2:] if transposed else kernel.shape[:1:-1]
    if kc != x.shape[-1]:
        raise ValueError(
            f"{op}: kernel expects {kc} input channels (kernel shape {kernel.shape}, layout "
            f"{layout}), but the input has {x.shape[-1]} (input shape {x.shape})"
        )
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"{op}: bias must have shape ({f},), got {bias.shape}")
    return kh, kw, f


# ------------------------------------------------------------------ im2col / col2im
def pad_hw(x, pads_h, pads_w, value=0.0):
    """Pad the spatial axes of an NHWC array; no copy when there is nothing to pad."""
    if pads_h == (0, 0) and pads_w == (0, 0):
        return x
    return np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)), constant_values=value)


def _im2col(xp, kernel_hw, out_hw, strides, dilation):
    """Gather every receptive field of a padded NHWC array into one matrix.

    Args:
        xp: (N, Hp, Wp, C) padded input.
        kernel_hw: (KH, KW).
        out_hw: (OH, OW).
        strides, dilation: pairs.

    Returns:
        cols: (N*OH*OW, KH*KW*C), rows in (n, oh, ow) order, columns in (kh, kw, c) order,
        matching ``kernel.reshape(KH*KW*C, F)``. One copy of the data, no Python loop over pixels.
    """
    n, _, _, c = xp.shape
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel_hw, out_hw, strides, dilation
    if c == 1:
        # One channel (the first layer on grey images): copying one strided (N, OH, OW) slice
        # per kernel offset is ~3x faster than the 6-D window copy, whose inner axes are tiny.
        cols = np.empty((n, oh, ow, kh, kw, c), dtype=xp.dtype)  # (N, OH, OW, KH, KW, 1)
        for i in range(kh):
            rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
            for j in range(kw):
                cols[:, :, :, i, j, :] = xp[:, rows, j * dw : j * dw + (ow - 1) * sw + 1 : sw, :]
        return cols.reshape(n * oh * ow, kh * kw * c)
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    # windows: (N, Hp-span_h+1, Wp-span_w+1, C, span_h, span_w), a view
    windows = sliding_window_view(xp, (span_h, span_w), axis=(1, 2))
    # windows: (N, OH, OW, C, KH, KW), still a view: strides pick window starts, dilation taps
    windows = windows[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :, ::dh, ::dw]
    # (N, OH, OW, KH, KW, C) view -> cols (N*OH*OW, KH*KW*C): the single copy
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * c)


def _columns(x, kernel_hw, out_hw, strides, dilation, pads):
    """im2col of ``x`` padded by ``pads``, into a reused buffer: the forward's and backward's
    columns, which live only until their GEMM has run.

    Args:
        x: (N, H, W, C), unpadded.
        kernel_hw, out_hw, strides, dilation: pairs.
        pads: ((top, bottom), (left, right)).

    Returns:
        (N*OH*OW, KH*KW*C) matrix, columns in (kh, kw, c) order. For a 1x1 kernel it is the
        input itself seen as a matrix (no copy at stride 1; the strided pixels otherwise).
        Else a view of the ``TEMP`` scratch buffer (see :mod:`workspace`): use it
        before the next call.
    """
    n, _, _, c = x.shape
    (kh, kw), (oh, ow), (sh, sw) = kernel_hw, out_hw, strides
    if kh == 1 and kw == 1 and pads == ((0, 0), (0, 0)):
        # a 1x1 conv reads one pixel per output: the columns are the (strided) pixels
        pixels = x[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :]
        return pixels.reshape(n * oh * ow, c)
    return columns(receptive_fields(x, kernel_hw, out_hw, strides, dilation, pads), share=True)


def _taps_first(dtypes, c, f, kernel_hw, strides, dilation, out_w, kernel_grad=False):
    """Whether a correlation that is not narrow-side runs as per-tap GEMMs: where
    :func:`conv_taps.use_taps` says, unless a 2-D kernel's output pixels pack into rows
    (:func:`conv_packed.pixels_per_row`), which won against the taps there (one thread, 8
    -> 8 channels at 32x32, batch 64: 2.3 ms against 3.6 forward; 16 -> 16 the same time).
    One-row kernels keep their taps (one thread, a 16 -> 16 conv1d of kernel 5 over 200
    steps: 0.59-0.65 ms forward against 0.69-0.70 packed; a 32 -> 16 input gradient 0.44-0.47
    against 0.63)."""
    return use_taps(dtypes, c, f, kernel_hw, strides, kernel_grad=kernel_grad) and (
        kernel_hw[0] == 1 or pixels_per_row(dtypes, c, f, kernel_hw, strides, dilation,
                                            out_w) == 1)


def correlate(x, kernel, out_hw, strides, dilation, pads):
    """The product of conv2d's forward, a fresh (N*OH*OW, F) array: through the narrow side
    for a few output channels (:func:`conv_narrow.narrow_correlation`), one GEMM per tap for
    narrow stride-1 layers on one thread and for 1-D kernels
    (:func:`conv_taps.tap_correlation`), else im2col(x) @ kernel, (N*OH*OW, KH*KW*C) @
    (KH*KW*C, F), block by block over the samples (each thread its own blocks when the pool
    shares passes: :mod:`conv_blocks`), several output pixels to a row for a few output
    channels (:mod:`conv_packed`)."""
    kh, kw, c, f = kernel.shape
    dtypes = (x.dtype, kernel.dtype)
    if use_narrow(dtypes, c, f, (kh, kw), strides):
        return narrow_correlation(x, kernel, pads, dilation).reshape(-1, f)
    if _taps_first(dtypes, c, f, (kh, kw), strides, dilation, out_hw[1]):
        return tap_correlation(x, kernel, pads, dilation).reshape(-1, f)
    return correlation(x, kernel, out_hw, strides, dilation, pads)


def kernel_grad(x, grad, kernel_hw, strides, dilation, pads):
    """d conv2d / d kernel: (KH, KW, C, F) from the input ``x`` (N, H, W, C), unpadded, and
    the output gradient ``grad`` (N, OH, OW, F): through the narrow side for a few output
    channels (:func:`conv_narrow.narrow_kernel_grad`), one GEMM per tap for narrow stride-1
    layers (:func:`conv_taps.tap_kernel_grad`), else im2col(x)^T @ grad block by block
    (:func:`conv_packed.kernel_gradient`)."""
    c, f = x.shape[-1], grad.shape[-1]
    dtypes = (x.dtype, grad.dtype)
    if use_narrow(dtypes, c, f, kernel_hw, strides):
        return narrow_kernel_grad(x, grad, kernel_hw, pads, dilation)
    if _taps_first(dtypes, c, f, kernel_hw, strides, dilation, grad.shape[2], kernel_grad=True):
        return tap_kernel_grad(x, grad, kernel_hw, pads, dilation)
    return kernel_gradient(x, grad, kernel_hw, strides, dilation, pads)


def input_grad(grad, kernel, in_hw, strides, dilation, pads):
    """d conv2d / d x: the gradient image, (N, H, W, C).

    - stride 1: a correlation of the gradient, padded by ``span - 1 - pad`` on each side,
      with the flipped kernel: one im2col and one GEMM whose inner dimension is KH*KW*F
      (a well-shaped product, no scatter); or, when the gradient is much smaller than the
      image (fewer output pixels, fewer channels: :func:`_scatter_copies_less`), the
      per-tap products added back as below, which copy less;
    - 1x1 kernel, strided: ``grad @ W^T`` lands on every stride-th pixel, zeros elsewhere;
    - otherwise each tap's products are added back onto the pixels (col2im, by blocks of
      samples: :func:`conv_blocks.products_col2im`), or on one thread, when the gradient has
      no more channels than the input or narrow ones, by output-pixel classes
      (:func:`_strided_adjoint`).
    """
    kh, kw, c, f = kernel.shape
    n, oh, ow, _ = grad.shape
    h, w = in_hw
    (sh, sw), (dh, dw) = strides, dilation
    if (sh, sw) == (1, 1):
        span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        gpads = ((span_h - 1 - pads[0][0], span_h - 1 - pads[0][1]),
                 (span_w - 1 - pads[1][0], span_w - 1 - pads[1][1]))
        if kh == 1 and kw == 1:
            return (grad.reshape(n * oh * ow, f) @ kernel.reshape(c, f).T).reshape(n, h, w, c)
        if _scatter_copies_less(oh * ow, h * w, c, f):
            dxp = products_col2im(grad, kernel, (h + sum(pads[0]), w + sum(pads[1])), strides,
                                  dilation)
            return crop_hw(dxp, *pads)
        # the kernel rotated by 180 degrees, its channel axes swapped: (KH, KW, F, C)
        flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)
        if use_narrow((grad.dtype, kernel.dtype), f, c, (kh, kw), strides):  # few outputs
            return narrow_correlation(grad, flipped, gpads, dilation)
        if _taps_first((grad.dtype, kernel.dtype), f, c, (kh, kw), strides, dilation, w):
            # the same correlation, one accumulated GEMM per tap (narrow layers)
            return tap_correlation(grad, flipped, gpads, dilation)
        # im2col(padded grad) @ flipped kernel: (N*H*W, KH*KW*F) @ (KH*KW*F, C)
        return correlation(grad, flipped, (h, w), (1, 1), dilation, gpads).reshape(n, h, w, c)
    g2 = grad.reshape(n * oh * ow, f)  # (N*OH*OW, F)
    if kh == 1 and kw == 1 and pads == ((0, 0), (0, 0)):
        dx = np.zeros((n, h, w, c), dtype=grad.dtype)
        dx[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :] = (
            (g2 @ kernel.reshape(c, f).T).reshape(n, oh, ow, c))
        return dx
    padded_hw = (h + sum(pads[0]), w + sum(pads[1]))
    if _sub_pixel(f, c, dilation, use_taps((grad.dtype, kernel.dtype), f, c, (kh, kw), (1, 1))):
        dxp = _strided_adjoint(grad, kernel.transpose(0, 1, 3, 2), padded_hw, strides)
        return crop_hw(dxp, *pads)
    dxp = products_col2im(grad, kernel, padded_hw, strides, dilation)  # (N, Hp, Wp, C)
    return crop_hw(dxp, *pads)


def _scatter_copies_less(out_pixels, in_pixels, c, f):
    """Whether a stride-1 input gradient takes the per-tap products added back onto the
    image (:func:`conv_blocks.products_col2im`: KH*KW*C values made per output pixel) over
    the correlation of the padded gradient (its im2col: KH*KW*F values per input pixel): when
    the products are at most :data:`SCATTER_RATIO` of the correlation's columns, and the
    image has :data:`SCATTER_MIN_CHANNELS` channels or more (narrower, its adds pay per
    pixel). An expanding layer, or a 'valid' one that shrinks the image."""
    return c >= SCATTER_MIN_CHANNELS and out_pixels * c <= SCATTER_RATIO * in_pixels * f


def _sub_pixel(c_in, c_out, dilation, narrow=False):
    """Whether a strided adjoint from C_in into C_out channels takes
    :func:`_strided_adjoint`'s classes rather than :func:`conv_blocks.products_col2im`: on
    one thread, dilation 1, C_in <= C_out or ``narrow`` (channels narrow enough for per-tap
    GEMMs). With several threads the products' blocks win at every width (a 2-core
    Xeon, batch 64: the input gradient of a 64 -> 32 3x3 stride-2 conv at 16x16 2.1 ms
    against 2.9, a 32 -> 64 4x4 stride-2 transposed conv at 8x8 3.7 against 3.7)."""
    if _parallel.threads() > 1 or tuple(dilation) != (1, 1):
        return False
    return c_in <= c_out or narrow


def _strided_adjoint(x, kernel_map, padded_hw, strides):
    """col2im of per-tap products without the taps: ``out[:, y*sh + i, x*sw + j] +=
    x[:, y, x] @ kernel_map[i, j]`` summed over every pixel and kernel offset, dilation 1.

    Sub-pixel decomposition: the output pixels with row ``rh`` and column ``rw`` modulo
    the strides receive only the taps ``i = rh + sh*m``, ``j = rw + sw*n``; for each such
    class the sum is a stride-1 correlation of ``x`` with those taps flipped, i.e. one
    im2col and one GEMM with inner dimension (taps in the class) * C_in, written straight
    into every stride-th output pixel. No tap-major buffer, no read-modify-write passes.
    It copies KH*KW*C_in values per input pixel where the tap-major route writes
    KH*KW*C_out, so callers take it when C_in <= C_out (a 16 -> 32-channel 3x3 stride-2
    adjoint: 0.71x the tap-major time; 128 -> 64 at 4x4: 1.44x, so the taps stay there),
    or when the channels are narrow enough for each class to be a per-tap GEMM with no copy
    at all (:mod:`conv_taps`; the input gradient of a 16 -> 32 stride-2 conv at 32x32:
    0.88x the tap-major time, 8 -> 16: 0.71x).

    Args:
        x: (N, H, W, C_in).
        kernel_map: (KH, KW, C_in, C_out), the matrix each tap multiplies a pixel by.
        padded_hw: (Hp, Wp) of the output grid.
        strides: (sh, sw).

    Returns:
        (N, Hp, Wp, C_out).
    """
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = kernel_map.shape
    (sh, sw), (hp, wp) = strides, padded_hw
    out = np.empty((n, hp, wp, c_out), dtype=np.result_type(x, kernel_map))
    for rh in range(min(sh, hp)):
        taps_h, rows = -(-(kh - rh) // sh), -(-(hp - rh) // sh)  # taps, output rows in class
        for rw in range(min(sw, wp)):
            taps_w, cols_out = -(-(kw - rw) // sw), -(-(wp - rw) // sw)
            target = out[:, rh::sh, rw::sw, :]  # (N, rows, cols_out, C_out)
            if taps_h <= 0 or taps_w <= 0:
                target[...] = 0  # a stride larger than the kernel: no tap lands here
                continue
            # out[q] = sum_m x[q - m] @ map[r + s*m] = correlation of x padded by (taps - 1)
            # before with the class's taps in reverse order
            pads = ((taps_h - 1, max(rows - h, 0)), (taps_w - 1, max(cols_out - w, 0)))
            sub = kernel_map[rh::sh, rw::sw][::-1, ::-1]  # (taps_h, taps_w, C_in, C_out)
            if use_taps((x.dtype, kernel_map.dtype), c_in, c_out, (taps_h, taps_w), (1, 1)):
                target[...] = tap_correlation(x, sub, pads)  # narrow: one GEMM per tap
                continue
            matrix = np.ascontiguousarray(sub).reshape(taps_h * taps_w * c_in, c_out)
            target[...] = columns_times(x, matrix, (taps_h, taps_w), (rows, cols_out), (1, 1),
                                        (1, 1), pads).reshape(n, rows, cols_out, c_out)
    return out


def crop_hw(xp, pads_h, pads_w):
    """Remove spatial padding (a view)."""
    hp, wp = xp.shape[1], xp.shape[2]
    return xp[:, pads_h[0] : hp - pads_h[1], pads_w[0] : wp - pads_w[1], :]


def add_bias(out, bias):
    """out + bias over the last axis, in place when the dtypes allow it (out is fresh).

    A bias of a few dozen channels is added to wide rows of several copies of it at once
    (:mod:`channels`): NumPy's broadcast loop pays per row, and 256-wide rows make the add
    about 1.6x faster than 32-wide ones.
    """
    if bias is None:
        return out
    if np.result_type(out, bias) != out.dtype:
        return out + bias
    f = bias.shape[-1] if bias.ndim else 1
    rows = _channels.pixel_rows(out, f) if bias.ndim == 1 and f and out.shape[-1] == f else None
    if rows is None:
        out += bias
    else:
        rows += _channels.tile(bias, rows.shape[-1] // f)
    return out


# ------------------------------------------------------------------ ops
class Conv2D(Function):
    """2-D cross-correlation (what deep-learning libraries call convolution), NHWC.

    Shapes: x (N, H, W, C), kernel (KH, KW, C, F), bias (F,) -> (N, OH, OW, F). With
    ``relu`` the ReLU is applied in place to the fresh output (one activation-sized array
    fewer than a separate op), and backward masks the gradient where it was positive.
    """

    def forward(self, x, kernel, bias=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                relu=False):
        op = "conv2d"
        kh, kw, f = check_conv_operands(op, x, kernel, bias)
        n, h, w, _ = x.shape
        (dh, dw) = dilation_rate
        oh, pads_h = window_geometry(h, (kh - 1) * dh + 1, strides[0], padding, op, "height")
        ow, pads_w = window_geometry(w, (kw - 1) * dw + 1, strides[1], padding, op, "width")
        self.geometry = ((h, w), (oh, ow), strides, dilation_rate, (pads_h, pads_w))
        self.padding = padding
        out = correlate(x, kernel, (oh, ow), strides, dilation_rate, (pads_h, pads_w))  # fresh
        # the ReLU's mask is kept as booleans, a quarter of the output's size (the output may
        # be freed long before backward: a max-pool keeps only where its maxima were)
        if fusable_bias(out, bias):  # the bias and the relu in one shared pass, in place
            self.positive = bias_relu_in_place(out, bias, relu)
        else:
            out = add_bias(out, bias)
            self.positive = rectify_in_place(out) if relu else None
        # x, not the columns (KH*KW times larger): backward redoes im2col in its scratch buffer
        self.save_for_backward(x if self.needs_input_grad[1] else None, kernel)
        return out.reshape(n, oh, ow, f)

    def backward(self, grad):
        x, kernel = self.saved
        if self.positive is not None:  # through the ReLU: no gradient where it clipped
            grad = masked(grad, self.positive)
        kh, kw, _, f = kernel.shape
        in_hw, out_hw, strides, dilation, pads = self.geometry
        n = grad.shape[0]
        g2 = grad.reshape(-1, f)  # (N*OH*OW, F)
        dx = dw = db = None
        if self.needs_input_grad[1]:
            dw = kernel_grad(x, grad.reshape(n, *out_hw, f), (kh, kw), strides, dilation, pads)
        if self.needs_input_grad[0]:
            dx = input_grad(grad.reshape(n, *out_hw, f), kernel, in_hw, strides, dilation, pads)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = sum_rows(g2)  # (F,)
        return dx, dw, db

    def backward_graph(self, grad):
        x, kernel = self.saved
        if self.positive is not None:  # the ReLU's mask is a constant of the recorded backward
            grad = grad * self.positive.reshape(grad.shape).astype(kernel.dtype)
        in_hw, _, strides, dilation, _ = self.geometry
        settings = {"strides": strides, "padding": self.padding, "dilation_rate": dilation}
        dx = dw = db = None
        if self.needs_input_grad[0]:  # the input gradient is the transposed convolution
            dx = Conv2DTranspose.apply(grad, self.graph_input(1, kernel), out_hw=in_hw, **settings)
        if self.needs_input_grad[1]:
            dw = Conv2DKernelGrad.apply(self.graph_input(0, x), grad, kernel_hw=kernel.shape[:2],
                                        **settings)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = grad.sum(axis=(0, 1, 2))
        return dx, dw, db


class Conv2DKernelGrad(Function):
    """The kernel gradient of a :class:`Conv2D` as an op of its two operands, the input
    ``x`` (N, H, W, C) and the output gradient ``g`` (N, OH, OW, F): (KH, KW, C, F).

    Conv2D's recorded backward (second-order gradients) uses it. It is bilinear, and its
    adjoint in each operand is a convolution: for an upstream H of the kernel's shape,
    d<H, dW>/dx = the input gradient of conv2d(x, H) for g (a transposed convolution of g by
    H), and d<H, dW>/dg = conv2d(x, H).
    """

    def forward(self, x, g, kernel_hw=None, strides=(1, 1), padding="valid",
                dilation_rate=(1, 1)):
        self.save_for_backward(x, g)
        self.settings = {"strides": strides, "padding": padding, "dilation_rate": dilation_rate}
        kh, kw = kernel_hw
        (dh, dw) = dilation_rate
        _, pads_h = window_geometry(x.shape[1], (kh - 1) * dh + 1, strides[0], padding,
                                    "conv2d", "height")
        _, pads_w = window_geometry(x.shape[2], (kw - 1) * dw + 1, strides[1], padding,
                                    "conv2d", "width")
        return kernel_grad(x, g, (kh, kw), strides, dilation_rate, (pads_h, pads_w))

    def _adjoints(self, grad, x, g):
        dx = dg = None
        if self.needs_input_grad[0]:
            dx = Conv2DTranspose.apply(g, grad, out_hw=x.shape[1:3], **self.settings)
        if self.needs_input_grad[1]:
            dg = Conv2D.apply(x, grad, **self.settings)
        return dx, dg

    def backward(self, grad):  # the same convolutions on arrays (nothing is recorded)
        return tuple(None if t is None else t.data for t in self._adjoints(grad, *self.saved))

    def backward_graph(self, grad):
        x, g = self.saved
        return self._adjoints(grad, self.graph_input(0, x), self.graph_input(1, g))


class Conv2DTranspose(Function):
    """Transposed 2-D convolution (the adjoint of :class:`Conv2D`), NHWC, Keras layout.

    Shapes: x (N, H, W, C_in), kernel (KH, KW, F, C_in), bias (F,) -> (N, OH, OW, F).
    ``out_hw`` is decided by the wrapper (Keras's output-size rule); the op checks that a
    Conv2D with the same settings maps an (OH, OW) image back to (H, W). With ``relu`` the
    ReLU is applied in place to an output of the op's own, or as the output leaves the padded
    grid it was computed on (``rectify.bias_relu_copy``), and backward masks the gradient
    where it was positive, as Conv2D's.
    """

    def forward(self, x, kernel, bias=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                out_hw=None, relu=False):
        op = "conv2d_transpose"
        kh, kw, f = check_conv_operands(op, x, kernel, bias, transposed=True)
        n, h, w, c = x.shape
        (dh, dw) = dilation_rate
        out_h, out_w = out_hw
        # the conv2d this op is the adjoint of maps (out_h, out_w) -> (h, w)
        oh, pads_h = window_geometry(out_h, (kh - 1) * dh + 1, strides[0], padding, op, "height")
        ow, pads_w = window_geometry(out_w, (kw - 1) * dw + 1, strides[1], padding, op, "width")
        if (oh, ow) != (h, w):
            raise ValueError(
                f"{op}: output size {(out_h, out_w)} is inconsistent with input size {(h, w)} for "
                f"strides {strides}, padding {padding!r} and kernel {(kh, kw)} (check output_padding)"
            )
        padded_hw = (out_h + sum(pads_h), out_w + sum(pads_w))
        if tuple(strides) == (1, 1) and (c <= f or use_narrow((x.dtype, kernel.dtype), c, f,
                                                                (kh, kw), strides)):
            # conv2d's stride-1 input gradient: the (OH, OW) output alone, where the adjoint
            # below fills and crops the padded grid (4x4 'same': 16 of 36 positions)
            out = input_grad(x, kernel, out_hw, strides, dilation_rate, (pads_h, pads_w))
        elif _sub_pixel(c, f, dilation_rate):
            # one GEMM per output-pixel class modulo the strides
            outp = _strided_adjoint(x, kernel.transpose(0, 1, 3, 2), padded_hw, strides)
            out = crop_hw(outp, pads_h, pads_w)  # (N, OH, OW, F)
        else:  # x @ W[i, j]^T per kernel offset, added onto the pixels (conv_blocks.py)
            outp = products_col2im(x, kernel, padded_hw, strides, dilation_rate)
            out = crop_hw(outp, pads_h, pads_w)  # (N, OH, OW, F)
        self.positive = None
        if relu and out.flags.c_contiguous and fusable_bias(out, bias):  # this op's own array
            self.positive = bias_relu_in_place(out, bias, relu=True)
        elif relu and out.dtype.kind == "f" and (bias is None or bias.dtype == out.dtype):
            out, self.positive = bias_relu_copy(out, bias)  # off the grid, C-contiguous
        else:
            out = add_bias(out, bias)  # in place: out is this op's own array, or a crop of it
            if relu:
                out = np.ascontiguousarray(out)
                self.positive = rectify_in_place(out)
        self.save_for_backward(x, kernel)
        self.geometry = ((kh, kw), (h, w), strides, dilation_rate, pads_h, pads_w)
        self.padding = padding
        return out

    def backward(self, grad):
        x, kernel = self.saved
        if self.positive is not None:  # through the ReLU: no gradient where it clipped
            grad = masked(grad, self.positive)
        kernel_hw, hw, strides, dilation, pads_h, pads_w = self.geometry
        kh, kw, f, c = kernel.shape
        n = x.shape[0]
        # the adjoint of col2im is im2col: gcols (N*H*W, KH*KW*F), a scratch buffer
        gcols = _columns(grad, kernel_hw, hw, strides, dilation, (pads_h, pads_w))
        w2 = kernel.reshape(kh * kw * f, c)  # (KH*KW*F, C_in)
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = (gcols @ w2).reshape(n, hw[0], hw[1], c)  # conv2d forward of grad
        if self.needs_input_grad[1]:
            dw = (gcols.T @ x.reshape(-1, c)).reshape(kernel.shape)  # (KH*KW*F, C_in)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = sum_rows(grad.reshape(-1, f))  # (F,)
        return dx, dw, db

    def backward_graph(self, grad):
        x, kernel = self.saved
        if self.positive is not None:  # the ReLU's mask is a constant of the recorded backward
            grad = grad * self.positive.astype(kernel.dtype)
        kernel_hw, _, strides, dilation, _, _ = self.geometry
        settings = {"strides": strides, "padding": self.padding, "dilation_rate": dilation}
        dx = dw = db = None
        if self.needs_input_grad[0]:  # the adjoint's input gradient is the convolution
            dx = Conv2D.apply(grad, self.graph_input(1, kernel), **settings)
        if self.needs_input_grad[1]:  # and its kernel gradient, conv2d's with the roles swapped
            dw = Conv2DKernelGrad.apply(grad, self.graph_input(0, x), kernel_hw=kernel_hw,
                                        **settings)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = grad.sum(axis=(0, 1, 2))
        return dx, dw, db


# ------------------------------------------------------------------ public functions
def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, relu=False):
    """2-D convolution of NHWC images (cross-correlation, as Keras and PyTorch).

    Args:
        x: (N, H, W, C) images.
        kernel: (KH, KW, C, F) weights, Keras layout.
        bias: optional (F,) vector.
        strides: int or (sh, sw), positive.
        padding: 'valid' (no padding) or 'same' (TensorFlow rule: output ceil(H / sh), padding
            split with the odd pixel after).
        dilation_rate: int or (dh, dw), positive: spacing between kernel taps.
        relu: apply ReLU to the output inside the op (what ``Conv2D(activation='relu')``
            runs): the same values and gradients as ``relu(conv2d(...))``, one array fewer.

    Returns:
        Tensor of shape (N, OH, OW, F); 'valid': OH = (H - (KH-1)*dh - 1) // sh + 1.

    Raises:
        ValueError: wrong ranks, channel mismatch, kernel larger than the padded input,
            non-positive strides or dilation, unknown padding.

    Example:
        >>> y = conv2d(np.ones((2, 5, 5, 1)), np.ones((3, 3, 1, 4)), padding="same")
        >>> y.shape
        (2, 5, 5, 4)
    """
    op = "conv2d"
    constants = dict(
        strides=pair(strides, "strides", op),
        padding=padding_mode(padding, op),
        dilation_rate=pair(dilation_rate, "dilation_rate", op),
        relu=relu_flag(relu, op),
    )
    if bias is None:
        return Conv2D.apply(x, kernel, **constants)
    return Conv2D.apply(x, kernel, bias, **constants)


def _transpose_output_length(size, kernel, stride, padding, output_padding, dilation):
    """Keras's ``deconv_output_length``: the output length of a transposed convolution."""
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(span - stride, 0)
        return size * stride
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, relu=False):
    """Transposed 2-D convolution ("deconvolution"), the adjoint of :func:`conv2d`.

    Output size follows Keras: 'valid': ``H * sh + max(KH_eff - sh, 0)`` (that is
    ``(H - 1) * sh + KH_eff`` whenever the kernel is at least as large as the stride);
    'same': ``H * sh``; with ``output_padding`` given:
    ``(H - 1) * sh + KH_eff - 2 * pad + output_padding`` (pad = KH_eff // 2 for 'same', else 0),
    where KH_eff = (KH - 1) * dh + 1. The values are those of TensorFlow's conv2d_transpose:
    the input gradient of ``conv2d`` on an image of the output size.

    Args:
        x: (N, H, W, C_in).
        kernel: (KH, KW, F, C_in), Keras's Conv2DTranspose layout (output channels third).
        bias: optional (F,).
        strides: int or pair, positive.
        padding: 'valid' or 'same'.
        output_padding: None, int or pair; each entry in [0, stride).
        dilation_rate: int or pair, positive.
        relu: also apply ``max(y, 0)`` inside the op (the values and gradients of a ReLU
            after it), as ``Conv2DTranspose(activation="relu")`` does.

    Returns:
        Tensor of shape (N, OH, OW, F).

    Example:
        >>> conv2d_transpose(np.ones((1, 5, 5, 3)), np.ones((3, 3, 4, 3)), strides=2,
        ...                  padding="same").shape
        (1, 10, 10, 4)
    """
    op = "conv2d_transpose"
    strides = pair(strides, "strides", op)
    padding = padding_mode(padding, op)
    dilation = pair(dilation_rate, "dilation_rate", op)
    x_shape = np.shape(getattr(x, "data", x))
    k_shape = np.shape(getattr(kernel, "data", kernel))
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must have rank 4 (N, H, W, C), got shape {x_shape}")
    if len(k_shape) != 4:
        raise ValueError(f"{op}: kernel must have rank 4 (KH, KW, F_out, C_in), got shape {k_shape}")
    if output_padding is None:
        paddings = (None, None)
    else:
        paddings = (output_padding,) * 2 if np.isscalar(output_padding) else tuple(output_padding)
        if len(paddings) != 2 or any(not 0 <= p < s for p, s in zip(paddings, strides)):
            raise ValueError(
                f"{op}: output_padding must be an int or pair with 0 <= value < stride "
                f"{strides}, got {output_padding!r}"
            )
    out_hw = tuple(
        _transpose_output_length(x_shape[1 + a], k_shape[a], strides[a], padding, paddings[a],
                                 dilation[a])
        for a in range(2)
    )
    if min(out_hw) <= 0:
        raise ValueError(f"{op}: output size {out_hw} is not positive for input shape {x_shape}")
    constants = dict(strides=strides, padding=padding, dilation_rate=dilation, out_hw=out_hw,
                     relu=relu_flag(relu, op))
    if bias is None:
        return Conv2DTranspose.apply(x, kernel, **constants)
    return Conv2DTranspose.apply(x, kernel, bias, **constants)
