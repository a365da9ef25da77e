"""Fused Conv2D (+ bias, + ReLU) + 2x2 max-pool: the hot path of a classic CNN in one op.

``conv2d_max_pool2d(x, k, b, padding, relu)`` equals
``max_pool2d(relu(conv2d(x, k, b, padding=padding)), 2)`` (stride-1 convolution, 2x2 pool with
stride 2, 'valid' pooling), value for value and gradient for gradient, but does less work:

- im2col rows are ordered by *position inside the pooling window*: block q = (dy, dx) holds
  the receptive fields of the conv outputs at (2*ph + dy, 2*pw + dx). After the one GEMM the
  pool is an elementwise maximum of four contiguous blocks, with no window gathering.
- Conv outputs that a floor-mode pool crops away (the last row/column of an odd size) are
  never computed.
- ReLU commutes with the maximum (relu(max(a)) = max(relu(a))), so it runs on the pooled
  output, a quarter of the conv output. The bias is added before the maximum: max(a) + b
  equals max(a + b) in exact arithmetic, but rounding can tie a + b values that a alone does
  not, and the first-maximum rule must see the same ties as the unfused layers do.

- For a small receptive field (``KH*KW*C <= 32``, a first layer on gray or RGB images) the
  bias rides in the GEMM as an extra column of ones: a separate add over the conv output
  would cost almost as much as the product. (The bias gradient is the sum of the routed
  gradients, one GEMV.)

Those columns are kept for the kernel gradient while they are small (up to 16 MB: the seed
CNN's layers). Larger ones (a 32 -> 32-channel layer at 32x32, batch 64: 66 MB) would be a
fresh block of memory every step, and there conv2d's own forward is faster (per-tap GEMMs
for narrow layers): the op then runs it, copies the conv output's four quarters into the
same layout, keeps ``x``, and its backward calls conv2d's input and kernel gradients.

Ties inside a window send the gradient to the first maximum in row-major window order,
like ``max_pool2d`` (and PyTorch/Keras).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from npgrad.autograd.function import Function, composed_backward_graph
from npgrad.primitives import activation, conv, pool
from npgrad.primitives import parallel as _parallel
from npgrad.primitives import workspace as _workspace
from npgrad.primitives.conv import (
    add_bias,
    check_conv_operands,
    crop_hw,
    padding_mode,
    window_geometry,
)
from npgrad.primitives.conv_blocks import products_col2im
from npgrad.primitives.linalg import sum_rows
from npgrad.primitives.rectify import rectify

# window positions in row-major order: the first maximum wins ties in this order
_QUARTERS = ((0, 0), (0, 1), (1, 0), (1, 1))
# receptive fields up to this many values get the bias as a column of the GEMM
_BIAS_IN_GEMM_MAX = 32
# columns up to this size are kept for backward (see Conv2DMaxPool2D.forward)
_KEEP_COLUMNS_BYTES = 16 * 2**20


class Conv2DMaxPool2D(Function):
    """max_pool2d(relu?(conv2d(x, kernel, bias)), 2): stride-1 conv, 2x2/2 'valid' pool, NHWC.

    Shapes: x (N, H, W, C), kernel (KH, KW, C, F), bias (F,) -> (N, OH // 2, OW // 2, F), where
    OH, OW are the conv output sizes for ``padding``.
    """

    def forward(self, x, kernel, bias=None, padding="valid", relu=True):
        op = "conv2d_max_pool2d"
        kh, kw, f = check_conv_operands(op, x, kernel, bias)
        n, h, w, c = x.shape
        oh, pads_h = window_geometry(h, kh, 1, padding, op, "height")
        ow, pads_w = window_geometry(w, kw, 1, padding, op, "width")
        ph, pw = oh // 2, ow // 2
        if ph == 0 or pw == 0:
            raise ValueError(f"{op}: the conv output {oh}x{ow} is smaller than the 2x2 pool window")
        xp = _workspace.zero_padded(x, pads_h, pads_w)  # (N, Hp, Wp, C), a reused buffer
        self.relu, self.pads = relu, (pads_h, pads_w)
        if not any(self.needs_input_grad):
            # inference: nothing to keep for backward, so work through the batch in slices
            # whose columns stay cache- and allocator-friendly (about 8 MB)
            out = np.empty((n, ph, pw, f), dtype=np.result_type(x, kernel))
            per_image = 4 * ph * pw * kh * kw * c * x.dtype.itemsize
            step = max(1, (8 * 2**20) // per_image)
            in_gemm = bias is not None and kh * kw * c <= _BIAS_IN_GEMM_MAX
            for start in range(0, n, step):
                # otherwise the bias after the pool: rounding is monotonic, so max(a) + b ==
                # max(a + b) value for value (only which tied element is the maximum could
                # differ, and no gradient is routed here)
                pooled = _conv_pool_block(xp[start : start + step], kernel,
                                          bias if in_gemm else None, False, ph, pw)[-1]
                if bias is not None and not in_gemm:
                    pooled += bias
                if relu:
                    rectify(pooled, out=pooled)
                out[start : start + step] = pooled.reshape(-1, ph, pw, f)
            return out
        # Small columns (a classic CNN on small images) are kept for the kernel gradient, and
        # the input gradient goes through per-tap products added back. Large ones would
        # cost a fresh block of memory each step (66 MB for a 32 -> 32-channel layer at
        # 32x32, batch 64), and conv2d's own forward is faster there (one GEMM per tap for
        # narrow layers, im2col by blocks of samples otherwise): the conv output's quarters
        # are copied into the same (4, M, F) layout, x is kept, and backward runs conv2d's
        # own gradients.
        n_cols = 4 * n * ph * pw * (kh * kw * c + 1)
        if n_cols * np.result_type(x, kernel).itemsize <= _KEEP_COLUMNS_BYTES:
            cols, z, out = _conv_pool_block(xp, kernel, bias, relu, ph, pw, fresh=True)
        else:
            cols = None
            image = conv.correlate(x, kernel, (oh, ow), (1, 1), (1, 1), self.pads)
            image = add_bias(image, bias).reshape(n, oh, ow, f)  # the conv output
            z = np.empty((4, n, ph, pw, f), dtype=image.dtype)  # by quarter, contiguous
            out = np.empty((n, ph, pw, f), dtype=image.dtype)

            def quarters(lo, hi):  # these samples' quarters, their maximum and its relu
                for q, (dy, dx) in enumerate(_QUARTERS):
                    z[q, lo:hi] = image[lo:hi, dy : 2 * ph : 2, dx : 2 * pw : 2]
                part = np.maximum(z[0, lo:hi], z[1, lo:hi], out=out[lo:hi])
                np.maximum(part, np.maximum(z[2, lo:hi], z[3, lo:hi]), out=part)
                if relu:
                    rectify(part, out=part)

            _parallel.for_blocks(quarters, n, 4 * z[0, 0].nbytes)
            z, out = z.reshape(4, n * ph * pw, f), out.reshape(n * ph * pw, f)
        self.save_for_backward(x, kernel, z, out, cols)
        self.conv_hw, self.bias, self.padding = (oh, ow), bias, padding
        return out.reshape(n, ph, pw, f)

    def backward(self, grad):
        x, kernel, z, out, cols = self.saved
        n, ph, pw, f = grad.shape
        m = n * ph * pw
        g = grad.reshape(m, f)  # (M, F)
        row_bytes = 4 * f * g.dtype.itemsize
        if cols is not None and not self.needs_input_grad[0] and \
                len(_parallel.block_bounds(m, row_bytes, _parallel.threads())) > 1:
            return (None,) + self._routed_kernel_grads(g, z, out, cols, kernel)
        dz = np.empty((4, m, f), dtype=g.dtype)  # by window quarter, one of four nonzero

        def route(lo, hi):  # these rows' windows, shared between threads (parallel.py)
            _route(g[lo:hi], z[:, lo:hi], out[lo:hi], self.relu, dz[:, lo:hi])

        _parallel.for_blocks(route, m, row_bytes)
        dz = dz.reshape(4, n, ph, pw, f)
        db = None
        if cols is None:
            dx, dw = self._conv_grads(x, kernel, _conv_order(dz))
        else:
            dx, dw, db = self._kept_columns_grads(x, kernel, dz, cols)
        dz = dz.reshape(4 * m, f)
        if db is None and len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = sum_rows(dz)  # (F,): every routed gradient
        return dx, dw, db

    def _routed_kernel_grads(self, g, z, out, cols, kernel):
        """(dw, db) of a layer whose input needs no gradient (a first layer), each block of
        windows routed into a scratch buffer of its thread and multiplied by its columns
        there, the blocks' products added in block order; db None unless wanted.

        A first layer's routed gradient serves only its kernel gradient, so it is never
        made whole: (4, M, F) written by the routing and read back by one long product
        (21632 x 10 @ 32 for the seed CNN at batch 32) cost more than the routing and four
        short products per block while the block is in cache (two threads: the layer's
        backward 1.22-1.26 -> 0.87-0.89 ms). On one block (one thread, a small batch) the whole
        product stays: there the two take the same time, or the blocks a little longer.
        """
        kh, kw, c, f = kernel.shape
        k, m, width = kh * kw * c, g.shape[0], cols.shape[1]
        wants_db = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        in_gemm = width > k and wants_db  # the bias's column of ones: db is the last row
        used = k + 1 if in_gemm else k
        by_quarter = cols.reshape(4, m, width)  # a view: cols' rows are by window quarter

        def block(lo, hi):
            dz = _workspace.scratch(_workspace.TEMP, (4, hi - lo, f), g.dtype)
            _route(g[lo:hi], z[:, lo:hi], out[lo:hi], self.relu, dz)
            # (4, used, rows) @ (4, rows, F): one product per quarter, summed
            product = np.matmul(by_quarter[:, lo:hi, :used].transpose(0, 2, 1), dz).sum(axis=0)
            return product, (sum_rows(dz.reshape(-1, f)) if wants_db and not in_gemm else None)

        parts = _parallel.map_blocks(block, m, 4 * f * g.dtype.itemsize, blas=True)
        full = _parallel.total([p for p, _ in parts])  # (used, F)
        db = None
        if in_gemm:
            db = full[k].copy()
        elif wants_db:
            db = _parallel.total([b for _, b in parts])
        dw = full[:k].reshape(kernel.shape) if self.needs_input_grad[1] else None
        return dw, db

    def _kept_columns_grads(self, x, kernel, dz, cols):
        """dx by the per-tap products added onto the image, dw = cols^T @ dz (and db, where
        the bias rode in the GEMM, else None); ``dz`` is
        (4, N, PH, PW, F), the gradient by window quarter."""
        kh, kw, c, f = kernel.shape
        dx = dw = None
        if self.needs_input_grad[0]:  # not for a first layer: its input is the data
            dconv = _conv_order(dz)  # (N, 2PH, 2PW, F)
            padded_hw = tuple(x.shape[i + 1] + sum(self.pads[i]) for i in range(2))
            dxp = products_col2im(dconv, kernel, padded_hw, (1, 1), (1, 1))
            dx = crop_hw(dxp, *self.pads)  # (N, H, W, C)
        db = None
        if self.needs_input_grad[1]:
            k = kh * kw * c
            if cols.shape[1] > k and self.needs_input_grad[2]:
                # the bias rode in the GEMM as a column of ones: its gradient, the sum of
                # the routed gradients, is the product's last row (no separate sum)
                full = cols.T @ dz.reshape(-1, f)  # (K + 1, F)
                dw, db = full[:k].reshape(kernel.shape), full[k].copy()
            else:
                dw = (cols[:, :k].T @ dz.reshape(-1, f)).reshape(kernel.shape)
        return dx, dw, db

    def _conv_grads(self, x, kernel, dconv):
        """conv2d's input and kernel gradients for the conv-output gradient ``dconv``."""
        (oh, ow), (n, ph2, pw2, f) = self.conv_hw, dconv.shape
        if (oh, ow) != (ph2, pw2):  # zero where the pool cropped
            full = np.zeros((n, oh, ow, f), dtype=dconv.dtype)
            full[:, :ph2, :pw2] = dconv
            dconv = full
        dx = dw = None
        if self.needs_input_grad[0]:
            dx = conv.input_grad(dconv, kernel, x.shape[1:3], (1, 1), (1, 1), self.pads)
        if self.needs_input_grad[1]:
            dw = conv.kernel_grad(x, dconv, kernel.shape[:2], (1, 1), (1, 1), self.pads)
        return dx, dw

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        return [self.saved[0], self.saved[1]] + ([] if self.bias is None else [self.bias])

    def composed(self, x, kernel, *bias):
        z = conv.conv2d(x, kernel, *bias, padding=self.padding)
        return pool.max_pool2d(activation.relu(z) if self.relu else z, 2)


def conv2d_max_pool2d(x, kernel, bias=None, padding="valid", relu=False):
    """Fused ``max_pool2d(activation(conv2d(x, kernel, bias, padding=padding)), 2)``.

    The convolution has stride 1 and no dilation; the pool is 2x2 with stride 2 and 'valid'
    (floor) padding; the activation is ReLU when ``relu`` is True, else the identity. This is
    what ``Sequential`` runs for a ``Conv2D(..., activation='relu')`` followed by
    ``MaxPooling2D((2, 2))``; results and gradients equal the unfused layers'.

    Args:
        x: (N, H, W, C) images.
        kernel: (KH, KW, C, F) Keras layout.
        bias: optional (F,).
        padding: the convolution's padding, 'valid' or 'same'.
        relu: apply ReLU between the convolution and the pool.

    Returns:
        Tensor of shape (N, OH // 2, OW // 2, F).
    """
    mode = padding_mode(padding, "conv2d_max_pool2d")
    if bias is None:
        return Conv2DMaxPool2D.apply(x, kernel, padding=mode, relu=bool(relu))
    return Conv2DMaxPool2D.apply(x, kernel, bias, padding=mode, relu=bool(relu))


def _route(g, z, out, relu, dz):
    """Each window's gradient to its first maximum, into ``dz`` (4, rows, F) by window
    quarter, one of the four nonzero; ``g`` (rows, F) the pooled gradient, ``z`` (4, rows,
    F) the conv outputs by quarter, ``out`` (rows, F) the pool (after ReLU with ``relu``).

    With ReLU, windows whose pooled value is <= 0 get no gradient (relu'(0) = 0): they start
    out "taken". Elsewhere ``out`` is the window maximum, so comparing with it finds the
    maximum, and ties go to the first quarter in row-major window order.
    """
    free = out > 0 if relu else np.ones(out.shape, dtype=bool)  # not yet routed
    for q in range(3):
        wins = np.equal(z[q], out)
        wins &= free
        np.multiply(g, wins, out=dz[q])
        free ^= wins  # wins is inside free: free & ~wins
    np.multiply(g, free, out=dz[3])


def _conv_order(dz):
    """The gradient by window quarter, (4, N, PH, PW, F), back in conv-output order: a fresh
    (N, 2PH, 2PW, F), without the row or column the pool cropped."""
    _, n, ph, pw, f = dz.shape
    return dz.reshape(2, 2, n, ph, pw, f).transpose(2, 3, 0, 4, 1, 5).reshape(n, 2 * ph, 2 * pw, f)


def _conv_pool_block(xp, kernel, bias, relu, ph, pw, fresh=False):
    """Forward of a batch slice: (cols, z, out) with M = N * PH * PW rows.

    cols (4M, KH*KW*C), with a last column of ones when the bias rides in the GEMM, a fresh
    array when ``fresh`` (to be kept), else in the ``TEMP`` scratch buffer (to be used before
    the next op runs); z (4, M, F) conv outputs by window quarter; out (M, F) their maximum
    over the quarters (the pool), after ReLU when ``relu``.
    """
    n, c = xp.shape[0], xp.shape[-1]
    kh, kw, _, f = kernel.shape
    m = n * ph * pw
    k = kh * kw * c
    in_gemm = bias is not None and k <= _BIAS_IN_GEMM_MAX
    shape = (4 * m, k + 1 if in_gemm else k)
    if c == 1:
        # one channel: the columns are made transposed, (K, 4M), and used as the
        # Fortran-ordered transpose of that array: tap t's values over every window form one
        # contiguous row, all copied from one strided view of the image (its element
        # (i, j, dy, dx, n, p, q) is pixel (n, 2p + dy + i, 2q + dx + j), inside the image
        # since 2*PH + KH - 1 <= Hp). Batch 32 of 28x28 images, 3x3 kernel: 0.39 -> 0.22 ms
        # for the copy, and the product and the kernel gradient's as fast or faster.
        store = np.empty(shape[::-1], xp.dtype) if fresh else \
            _workspace.scratch(_workspace.TEMP, shape[::-1], xp.dtype)
        s_n, s_h, s_w = xp.strides[:3]
        windows = as_strided(xp, (kh, kw, 2, 2, n, ph, pw),
                             (s_h, s_w, s_h, s_w, s_n, 2 * s_h, 2 * s_w), writeable=False)
        np.copyto(store[:k].reshape(windows.shape), windows)
        matrix = store.T  # (4M, K): rows by quarter (dy, dx), then sample and pooled pixel
    else:  # windows: (N, OH, OW, C, KH, KW), a view; one copy per quarter (3x faster)
        matrix = np.empty(shape, xp.dtype) if fresh else \
            _workspace.scratch(_workspace.TEMP, shape, xp.dtype)
        # cols: (4, N, PH, PW, KH, KW, C) view of the first k columns; block q = im2col at
        # stride 2 from offset (dy, dx)
        cols = matrix[:, :k].reshape(4, n, ph, pw, kh, kw, c)
        windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))
        for q, (dy, dx) in enumerate(_QUARTERS):
            quarter = windows[:, dy : dy + 2 * ph - 1 : 2, dx : dx + 2 * pw - 1 : 2]
            cols[q] = quarter.transpose(0, 1, 2, 4, 5, 3)
    weights = kernel.reshape(k, f)
    if in_gemm:
        matrix[:, k] = 1
        weights = np.concatenate([weights, bias.reshape(1, f).astype(weights.dtype)])
    z = matrix @ weights  # (4M, F) conv outputs
    if not in_gemm:
        z = add_bias(z, bias)
    z = z.reshape(4, m, f)  # by quarter
    out = np.maximum(z[0], z[1])  # (M, F): the pool, then ReLU, in one buffer
    np.maximum(out, np.maximum(z[2], z[3]), out=out)
    if relu:
        rectify(out, out=out)
    return matrix, z, out
