"""Layer normalization over the last axis in the fewest passes over the activations.

``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` with the mean and biased variance of
each row (every leading index) over the last axis: the layout of every Transformer's
LayerNormalization. The general op (:class:`npgrad.primitives.nn.LayerNorm`, any axes) makes
about eight passes forward and eleven backward; this one works on the (rows, features) view,
keeps the centred rows as the saved ``xhat`` (normalized in place), computes the row sums of
products with ``np.einsum`` (one pass, no temporary) and the row means with a GEMV, and
finishes the input gradient in place, each block of rows on a thread of the pool (rows are
independent: ``parallel.py``), blocks of 1 MiB at least (a few cheap calls each: on a 2-core
Xeon, forward and backward of (64, 64, 128) float32 took 2.77 ms in 256 KiB blocks, 2.22
in 1 MiB ones; (32, 64, 128) 1.84 and 1.53). :func:`npgrad.primitives.nn.layer_norm` picks it
whenever the normalized axis is the last one; the tests pin it to the general op in float64.

Example:
    >>> x = npgrad.Tensor(np.random.randn(4, 7, 16), requires_grad=True)
    >>> y = layer_norm_last_axis(x, np.ones(16), np.zeros(16), epsilon=1e-3)
    >>> y.shape
    (4, 7, 16)
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function, composed_backward_graph
from npgrad.primitives import last_axis
from npgrad.primitives import parallel as _parallel
from npgrad.primitives.linalg import sum_rows


def normalize_recorded(x, gamma, beta, axes, epsilon, shape=None, inv=None):
    """The normalization written with recorded ops (Tensor methods), the composition the
    fused ops' second-order gradients differentiate (``composed_backward_graph``).

    ``x`` is given centred or not (the statistics ignore a shift along ``axes``, and so do
    all their derivatives); with ``inv``, the constant 1 / sqrt(var + eps) of batch norm at
    inference, x must be centred by its constant mean and is scaled by ``inv`` instead.
    gamma and beta broadcast after a reshape to ``shape`` (when given).
    """
    if inv is None:
        centred = x - x.mean(axis=axes, keepdims=True)
        xhat = centred / ((centred * centred).mean(axis=axes, keepdims=True) + epsilon) ** 0.5
    else:
        xhat = x * inv
    if gamma is not None:
        xhat = xhat * (gamma if shape is None else gamma.reshape(shape))
    if beta is not None:
        xhat = xhat + (beta if shape is None else beta.reshape(shape))
    return xhat


def _row_means(a):
    """Mean of each row of a 2-D array, as a column (rows, 1): :func:`last_axis.total`'s
    GEMV, one pass."""
    return last_axis.total(a) / a.dtype.type(a.shape[1])


def _row_dots(a, b):
    """sum(a * b) of each row, as a column (rows, 1), without the product array."""
    return np.einsum("ij,ij->i", a, b)[:, None]


class LayerNormLastAxis(Function):
    """Layer normalization over the last axis of x, gamma and beta of shape (features,).

    Positional inputs: x, then gamma if ``has_gamma``, then beta if ``has_beta``.
    Constants: ``epsilon``, ``has_gamma``, ``has_beta``.
    """

    def forward(self, x, *params, epsilon=1e-3, has_gamma=True, has_beta=True):
        features = x.shape[-1]
        if x.dtype.kind != "f":  # integers normalize in float64, as NumPy's arithmetic does
            x = x.astype(np.float64)
        rows = x.reshape(-1, features)
        params = list(params)
        gamma = params.pop(0).astype(x.dtype, copy=False) if has_gamma else None
        beta = params.pop(0).astype(x.dtype, copy=False) if has_beta else None
        xhat = np.empty(rows.shape, dtype=x.dtype)  # centred, then normalized in place
        inv = np.empty((rows.shape[0], 1), dtype=x.dtype)
        out = np.empty(rows.shape, dtype=x.dtype)
        eps = x.dtype.type(epsilon)

        def block(lo, hi):  # these rows, shared between threads (parallel.py)
            centred = np.subtract(rows[lo:hi], _row_means(rows[lo:hi]), out=xhat[lo:hi])
            part = 1.0 / np.sqrt(_row_dots(centred, centred) / features + eps)
            inv[lo:hi] = part
            centred *= inv[lo:hi]
            if gamma is not None:
                np.multiply(centred, gamma, out=out[lo:hi])
            else:
                out[lo:hi] = centred
            if beta is not None:
                out[lo:hi] += beta

        _parallel.for_blocks(block, rows.shape[0], features * x.dtype.itemsize, blas=True,
                             min_bytes=_parallel.MIN_BLOCK_BYTES)
        self.save_for_backward(xhat, inv, gamma)
        self.has_gamma, self.has_beta, self.epsilon = has_gamma, has_beta, epsilon
        self.beta = beta  # for composed_inputs
        self.in_shape = x.shape
        return out.reshape(x.shape)

    def backward(self, grad):
        xhat, inv, gamma = self.saved
        needs = self.needs_input_grad
        g = grad.reshape(xhat.shape)
        features = xhat.shape[1]
        dx = np.empty(xhat.shape, dtype=np.result_type(g, xhat)) if needs[0] else None

        def block(lo, hi):  # these rows' input gradient, and their parts of dgamma, dbeta
            gb, xb = g[lo:hi], xhat[lo:hi]
            if dx is not None:
                # dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), per row
                d = dx[lo:hi]
                if gamma is not None:
                    np.multiply(gb, gamma, out=d)
                else:
                    d[...] = gb
                m2 = _row_dots(d, xb) / d.dtype.type(features)
                d -= _row_means(d)
                d -= xb * m2
                d *= inv[lo:hi]
            dgamma = np.einsum("ij,ij->j", gb, xb) if self.has_gamma and needs[1] else None
            dbeta = sum_rows(gb) if self.has_beta and needs[-1] else None
            return dgamma, dbeta

        parts = _parallel.map_blocks(block, xhat.shape[0], features * xhat.itemsize, blas=True,
                                     min_bytes=_parallel.MIN_BLOCK_BYTES)
        grads = [None if dx is None else dx.reshape(grad.shape)]
        dgammas, dbetas = zip(*parts)
        if self.has_gamma:
            grads.append(_parallel.total(list(dgammas)) if needs[1] else None)
        if self.has_beta:
            grads.append(_parallel.total(list(dbetas)) if needs[-1] else None)
        return tuple(grads)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        xhat, inv, gamma = self.saved  # x - mean = xhat / inv: the statistics ignore the shift
        return [(xhat / inv).reshape(self.in_shape)] + [p for p in (gamma, self.beta)
                                                        if p is not None]

    def composed(self, x, *params):
        params = list(params)
        gamma = params.pop(0) if self.has_gamma else None
        beta = params.pop(0) if self.has_beta else None
        return normalize_recorded(x, gamma, beta, -1, self.epsilon)


def layer_norm_last_axis(x, gamma=None, beta=None, epsilon=1e-3):
    """Layer normalization over the last axis (see the module docstring).

    Args:
        x: Tensor or array (..., features).
        gamma: optional scale (features,).
        beta: optional offset (features,).
        epsilon: added to the variance.

    Returns:
        Tensor of ``x``'s shape.
    """
    inputs = [p for p in (gamma, beta) if p is not None]
    return LayerNormLastAxis.apply(x, *inputs, epsilon=float(epsilon),
                                   has_gamma=gamma is not None, has_beta=beta is not None)
