"""Matrix products: batched matmul and the fused dense (x @ kernel + bias)."""

import math

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import parallel as _parallel
from npgrad.primitives import shape as shape_ops
from npgrad.primitives import workspace as _workspace
from npgrad.primitives.rectify import (
    bias_relu_in_place,
    fusable_bias,
    masked,
    rectify_in_place,
    relu_flag,
)


class MatMul(Function):
    """a @ b with NumPy's rules: 1-D operands are promoted, leading (batch) axes broadcast."""

    integer_kinds = "iu"  # exact on integers: they stay integers

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: operands must have at least one dimension, got a scalar")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: inner dimensions differ: a has shape {a.shape} (last axis {k_a}), "
                f"b has shape {b.shape} ({'first' if b.ndim == 1 else 'second-to-last'} axis {k_b})"
            )
        self.save_for_backward(a, b)
        return rows_times(a, b)

    def backward(self, grad):
        a, b = self.saved
        # promote 1-D operands to matrices so one formula serves every case
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        da = db = None
        if self.needs_input_grad[0]:
            # dL/da = g @ b^T
            da = rows_times(g, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                da = da.reshape(da.shape[:-2] + (a.shape[0],))
        if self.needs_input_grad[1]:
            # dL/db = a^T @ g; for a 2-D b under a batched a, fold the batch into one GEMM
            if b2.ndim == 2 and a2.ndim > 2:
                db = a2.reshape(-1, a2.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            else:
                db = np.matmul(np.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                db = db.reshape(db.shape[:-2] + (b.shape[0],))
        return da, db

    def backward_graph(self, grad):
        a, b = self.saved
        a_t, b_t = self.graph_input(0, a), self.graph_input(1, b)
        a2 = a_t.reshape((1, a.shape[0])) if a.ndim == 1 else a_t
        b2 = b_t.reshape((b.shape[0], 1)) if b.ndim == 1 else b_t
        g = grad
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        da = db = None
        if self.needs_input_grad[0]:
            da = matmul(g, _swap_last(b2))
            if a.ndim == 1:
                da = da.reshape(da.shape[:-2] + (a.shape[0],))
        if self.needs_input_grad[1]:
            db = matmul(_swap_last(a2), g)  # the engine sums broadcast batch axes
            if b.ndim == 1:
                db = db.reshape(db.shape[:-2] + (b.shape[0],))
        return da, db


def rows_times(a, b):
    """``a @ b``, as one GEMM when ``b`` is a matrix and ``a`` has leading (batch) axes.

    NumPy's ``matmul`` runs an (B, M, K) @ (K, N) product as B separate GEMMs of M rows;
    folding the leading axes makes it one GEMM of B*M rows, which BLAS runs faster (a
    Dense(512) on (64, 64, 128) sequences, 2-core EPYC, 2 threads: 4.4 -> 3.1 ms). A
    non-contiguous ``a`` is copied by the reshape, as ``matmul`` copies each of its
    blocks.
    """
    if a.ndim <= 2 or b.ndim != 2:
        return np.matmul(a, b)
    rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
    return np.matmul(rows, b).reshape(a.shape[:-1] + (b.shape[1],))


def sum_rows(g2):
    """Column sums of a (M, F) matrix as a GEMV (``np.dot(ones, g2)``): several times faster
    than ``g2.sum(axis=0)`` for the tall gradients of a bias (a (4096, 128) Dense gradient:
    0.12 -> 0.02 ms).

    ``np.dot`` rather than ``ones @ g2``: the same BLAS call and the same values, but NumPy's
    ``matmul`` (2.4) holds Python's lock (the GIL) through a vector-matrix product, and
    ``np.dot`` lets it go, so another thread (a pool block, a ``DataParallel`` replica)
    runs meanwhile: a (8192, 192) float32 sum took a spinning Python thread's speed to 0.53
    of its own with ``@`` beside it, 1.02 with ``np.dot``.
    """
    return np.dot(np.ones(g2.shape[0], dtype=g2.dtype), g2)


def _swap_last(t):
    axes = list(range(t.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return shape_ops.transpose(t, axes)


class Dense(Function):
    """x @ kernel + bias over the last axis of x (any number of leading axes).

    Shapes: x (..., in), kernel (in, units), bias (units,) -> (..., units). With ``relu`` the
    ReLU is applied in place to the fresh output (one activation-sized array fewer than a
    separate op) and backward masks the gradient where it was positive, as ``Conv2D`` does.
    """

    def forward(self, x, kernel, bias=None, relu=False):
        if x.ndim < 1 or kernel.ndim != 2 or x.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f"dense: input of shape {x.shape} does not match kernel {kernel.shape} "
                f"(expected input's last axis = {kernel.shape[0] if kernel.ndim == 2 else '?'})"
            )
        self.save_for_backward(x, kernel)
        out = rows_times(x, kernel)  # fresh
        if fusable_bias(out, bias):  # the add and the relu in one shared pass
            self.positive = bias_relu_in_place(out, bias, relu)
            return out
        out += bias
        self.positive = rectify_in_place(out) if relu else None
        return out

    def backward(self, grad):
        x, kernel = self.saved
        x2 = x.reshape(-1, x.shape[-1])  # (N, in)
        if self.positive is not None:  # through the ReLU: no gradient where it clipped
            g2 = grad.reshape(-1, grad.shape[-1])
            row_bytes = g2.shape[1] * g2.itemsize
            if len(_parallel.block_bounds(g2.shape[0], row_bytes, _parallel.threads())) > 1:
                return self._relu_grads_by_blocks(x, x2, kernel, g2)
            grad = masked(grad, self.positive)
        g2 = grad.reshape(-1, grad.shape[-1])  # (N, units)
        dx = (g2 @ kernel.T).reshape(x.shape) if self.needs_input_grad[0] else None
        dw = x2.T @ g2 if self.needs_input_grad[1] else None  # (in, units)
        db = sum_rows(g2) if len(self.needs_input_grad) > 2 and self.needs_input_grad[2] else None
        return dx, dw, db

    def _relu_grads_by_blocks(self, x, x2, kernel, g2):
        """dx, dw, db through the fused ReLU, block by block of rows on the pool's threads:
        each block's masked gradient made in a scratch buffer of its thread and multiplied
        there (its rows of dx, its part of dw and db, the parts added in block order), so
        the masked gradient is never made whole.

        The whole one was written by a pass and read back by two products: a Dense(512) +
        ReLU backward on (4096, 128) float32 rows took 6.7-7.0 ms on two threads of a 2-core
        Xeon that way, 6.3-6.4 by blocks ((4096, 512) -> 128: 5.5-5.7 -> 5.2-5.4; (8192,
        256) -> 1024: 41-43 -> 39.5-40.5).
        """
        needs = self.needs_input_grad
        rows, units = g2.shape
        positive = self.positive.reshape(rows, units)
        dx = np.empty((rows, kernel.shape[0]), dtype=np.result_type(g2, kernel)) \
            if needs[0] else None
        wants_db = len(needs) > 2 and needs[2]

        def block(lo, hi):
            gm = masked(g2[lo:hi], positive[lo:hi],
                        out=_workspace.scratch(_workspace.TEMP, (hi - lo, units), g2.dtype))
            if dx is not None:
                np.matmul(gm, kernel.T, out=dx[lo:hi])
            return (x2[lo:hi].T @ gm if needs[1] else None), (sum_rows(gm) if wants_db else None)

        parts = _parallel.map_blocks(block, rows, units * g2.itemsize, blas=True)
        dw = _parallel.total([w for w, _ in parts]) if needs[1] else None
        db = _parallel.total([b for _, b in parts]) if wants_db else None
        return (None if dx is None else dx.reshape(x.shape)), dw, db

    def backward_graph(self, grad):
        x, kernel = self.saved
        if self.positive is not None:  # the ReLU's mask is a constant of the recorded backward
            grad = grad * self.positive.astype(kernel.dtype)
        g2 = grad.reshape((-1, grad.shape[-1]))
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = matmul(grad, self.graph_input(1, kernel).T)
        if self.needs_input_grad[1]:
            dw = matmul(self.graph_input(0, x).reshape((-1, x.shape[-1])).T, g2)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            db = g2.sum(axis=0)
        return dx, dw, db


def matmul(a, b):
    """Matrix product with broadcasting over leading axes (``a @ b``)."""
    return MatMul.apply(a, b)


def dense(x, kernel, bias=None, relu=False):
    """Fused ``x @ kernel + bias`` (bias optional).

    Args:
        x: (..., in) input.
        kernel: (in, units) weights, Keras layout.
        bias: optional (units,) vector.
        relu: apply ReLU to the output inside the op (what ``Dense(activation='relu')``
            runs): the same values and gradients as ``relu(dense(...))``, one array fewer.

    Returns:
        Tensor of shape (..., units).
    """
    relu = relu_flag(relu, "dense")
    if bias is None:
        return Dense.apply(x, kernel, relu=relu)
    return Dense.apply(x, kernel, bias, relu=relu)
