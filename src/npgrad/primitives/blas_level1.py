"""``y += a * x`` and ``x *= a`` over long vectors, in NumPy's own OpenBLAS (level-1 BLAS).

NumPy computes ``y += a * x`` as two passes (the product into a temporary, then the sum) on
the calling thread. OpenBLAS's ``axpy`` makes it one pass of fused multiply-adds, and on a
vector of more than ten thousand values it shares the pass between the threads of NumPy's
BLAS pool, with Python's lock released (ctypes lets go of it). On the 2-core Xeon, float32,
two threads: 2.56 M values 0.47 ms against 1.56 for NumPy's two passes (one thread 0.77);
at 64 Ki values, in cache, NumPy's two passes are as fast (11.8 against 11.5 us on one
thread) and the two threads' hand-over costs more than it gains (37 us): so this is for
arrays far larger than the caches (:mod:`npgrad.optimizers` updates its largest variables
this way).

The fused multiply-add rounds once where NumPy rounds twice: the results agree to float
rounding, not bit for bit. Where NumPy's BLAS is not an OpenBLAS with the ``cblas_``
symbols :func:`npgrad.primitives.gemm.cblas_routine` knows, both functions run NumPy's
arithmetic instead.

Example:
    >>> y = np.ones(4, np.float32)
    >>> axpy(2.0, np.arange(4, dtype=np.float32), y)
    array([1., 3., 5., 7.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives.gemm import cblas_routine

# each routine's C arguments (gemm.cblas_routine's letters): n, alpha, x, incx[, y, incy]
_AXPY, _SCAL = ("axpy", "ispipi"), ("scal", "ispi")


def available(dtype):
    """Whether :func:`axpy` and :func:`scal` run in OpenBLAS for ``dtype`` here."""
    return all(cblas_routine(*routine, dtype) is not None for routine in (_AXPY, _SCAL))


def _checked(name, *arrays):
    """C-contiguous arrays of one shape and dtype, the last (the one written) writeable."""
    first = arrays[0]
    if not all(isinstance(a, np.ndarray) and a.flags.c_contiguous and a.dtype == first.dtype
               and a.shape == first.shape for a in arrays):
        raise ValueError(f"{name}: expected C-contiguous arrays of one shape and dtype, "
                         f"got {[(np.shape(a), getattr(a, 'dtype', None)) for a in arrays]}")
    if not arrays[-1].flags.writeable:
        raise ValueError(f"{name}: the array written must be writeable")


def axpy(alpha, x, y):
    """``y += alpha * x`` in place; returns ``y``.

    Args:
        alpha: a number.
        x, y: C-contiguous arrays of one shape and dtype (float32 or float64 go to BLAS).
    """
    _checked("axpy", x, y)
    routine = cblas_routine(*_AXPY, y.dtype) if y.size else None
    if routine is None:
        y += y.dtype.type(alpha) * x
        return y
    routine(y.size, float(alpha), x.ctypes.data, 1, y.ctypes.data, 1)
    return y


def scal(alpha, x):
    """``x *= alpha`` in place; returns ``x``.

    Args:
        alpha: a number.
        x: a C-contiguous array (float32 or float64 go to BLAS).
    """
    _checked("scal", x)
    routine = cblas_routine(*_SCAL, x.dtype) if x.size else None
    if routine is None:
        x *= x.dtype.type(alpha)
        return x
    routine(x.size, float(alpha), x.ctypes.data, 1)
    return x
