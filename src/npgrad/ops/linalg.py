"""Linear algebra, as ``keras.ops.linalg``: inv, det, solve, norm (differentiable) and the
factorizations NumPy/SciPy offer (cholesky, qr, svd, eig, eigh, lu_factor: constants).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from npgrad.primitives import elementwise, linalg as linalg_ops, matrix, reduce
from npgrad.primitives import shape as shape_ops
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import normalize_axes, raw, wrap


@keras_op
def inv(x):
    """Inverse of square matrices (..., n, n)."""
    return matrix.inv(x)


@keras_op
def det(x):
    """Determinant of square matrices (..., n, n)."""
    return matrix.det(x)


@keras_op
def solve(a, b):
    """x with ``a @ x = b``."""
    return matrix.solve(a, b)


@keras_op
def solve_triangular(a, b, lower=False):
    """x with ``a @ x = b`` for triangular ``a`` (solved as a general system: differentiable)."""
    return matrix.solve(a, b)


@keras_op
def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a @ x = b`` (a of full column rank; normal equations)."""
    at = shape_ops.transpose(a)
    return matrix.solve(linalg_ops.matmul(at, a), linalg_ops.matmul(at, b))


@keras_op
def matrix_power(x, n):
    """``x`` multiplied by itself ``n`` times (negative n: powers of the inverse)."""
    n = int(n)
    if n < 0:
        x, n = matrix.inv(x), -n
    size = raw(x).shape[-1]
    out = np.broadcast_to(np.eye(size, dtype=raw(x).dtype), raw(x).shape)
    result = None
    for _ in range(n):
        result = x if result is None else linalg_ops.matmul(result, x)
    return wrap(out.copy()) if result is None else result


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    """Vector or matrix norm, as ``np.linalg.norm`` (the 2-, 1-, inf- and Frobenius norms are
    differentiable; nuclear and spectral norms are constants)."""
    data = raw(x)
    axes = normalize_axes(axis, data.ndim)
    if axes is None:
        axes = tuple(range(data.ndim)) if ord is None or data.ndim == 1 else (0, 1)
        if ord is not None and data.ndim > 2:
            raise ValueError("norm: give axis for an ord on a tensor of more than 2 dims")
    if len(axes) == 1 or ord is None or ord == "fro":
        if ord in (None, 2, "fro") or len(axes) != 1 and ord in (None, "fro"):
            return elementwise.sqrt(reduce.sum(elementwise.square(x), axis=axes, keepdims=keepdims))
        if ord == 1:
            return reduce.sum(elementwise.abs(x), axis=axes, keepdims=keepdims)
        if ord == np.inf:
            return reduce.max(elementwise.abs(x), axis=axes, keepdims=keepdims)
        if ord == -np.inf:
            return reduce.min(elementwise.abs(x), axis=axes, keepdims=keepdims)
        if ord == 0:
            return wrap(np.sum(data != 0, axis=axes, keepdims=keepdims).astype(data.dtype))
        p = float(ord)
        return elementwise.power(reduce.sum(elementwise.power(elementwise.abs(x), p), axis=axes,
                                            keepdims=keepdims), 1.0 / p)
    a0, a1 = axes
    if ord in (1, -1):  # max/min absolute column sum
        sums = reduce.sum(elementwise.abs(x), axis=a0, keepdims=True)
        pick = reduce.max if ord == 1 else reduce.min
        out = pick(sums, axis=a1, keepdims=True)
    elif ord in (np.inf, -np.inf):
        sums = reduce.sum(elementwise.abs(x), axis=a1, keepdims=True)
        pick = reduce.max if ord == np.inf else reduce.min
        out = pick(sums, axis=a0, keepdims=True)
    else:
        return wrap(np.linalg.norm(data, ord=ord, axis=axes, keepdims=keepdims))
    return out if keepdims else shape_ops.squeeze(out, axes)


@keras_op
def cholesky(x, upper=False):
    """Cholesky factor of symmetric positive-definite matrices (a constant)."""
    factor = np.linalg.cholesky(raw(x))
    return wrap(np.swapaxes(factor, -1, -2) if upper else factor)


@keras_op
def cholesky_inverse(x, upper=False):
    """Inverse of ``A`` given its Cholesky factor (differentiable in the factor)."""
    factor = x
    t = shape_ops.transpose(factor, list(range(raw(x).ndim - 2)) + [-1, -2])
    product = linalg_ops.matmul(t, factor) if upper else linalg_ops.matmul(factor, t)
    return matrix.inv(product)


@keras_op
def qr(x, mode="reduced"):
    """``(q, r)`` of the QR decomposition (constants)."""
    q, r = np.linalg.qr(raw(x), mode=mode)
    return wrap(q), wrap(r)


@keras_op
def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` of the singular value decomposition (constants), or ``s`` alone."""
    result = np.linalg.svd(raw(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(wrap(r) for r in result) if compute_uv else wrap(result)


@keras_op
def eig(x):
    """``(eigenvalues, eigenvectors)`` of square matrices (constants)."""
    w, v = np.linalg.eig(raw(x))
    return wrap(w), wrap(v)


@keras_op
def eigh(x):
    """``(eigenvalues, eigenvectors)`` of symmetric matrices, ascending (constants)."""
    w, v = np.linalg.eigh(raw(x))
    return wrap(w), wrap(v)


@keras_op
def lu_factor(x):
    """``(lu, pivots)`` of the LU factorization, as SciPy (constants)."""
    lu, pivots = scipy.linalg.lu_factor(raw(x))
    return wrap(lu), wrap(pivots.astype("int32"))


@keras_op
def matrix_rank(x, tol=None):
    """Rank by SVD (a constant)."""
    return wrap(np.asarray(np.linalg.matrix_rank(raw(x), tol=tol)).astype("int32"))


@keras_op
def pinv(x, rcond=1e-15):
    """Moore-Penrose pseudo-inverse (a constant)."""
    return wrap(np.linalg.pinv(raw(x), rcond=rcond))


@keras_op
def slogdet(x):
    """``(sign, log|det|)``; the log-determinant is differentiable."""
    sign = np.sign(np.linalg.det(raw(x)))
    return wrap(sign), elementwise.log(elementwise.abs(matrix.det(x)))


__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq", "lu_factor",
    "matrix_power", "matrix_rank", "norm", "pinv", "qr", "slogdet", "solve",
    "solve_triangular", "svd",
]  # fmt: skip
