"""``out = a @ b + beta * out`` in NumPy's own OpenBLAS: an accumulating GEMM.

NumPy's ``matmul`` always overwrites its output, so an op that sums several products
(the per-tap GEMMs of ``conv_taps.py``) would pay a full extra pass per product to add
them up. BLAS's ``beta = 1`` accumulates for free. SciPy's wrappers (``scipy.linalg.blas``)
expose it, but they run on SciPy's own OpenBLAS, whose thread pool npgrad keeps at one
thread (``blas_pools.py``), and they hold the GIL. So :func:`accumulate` calls the
``cblas_?gemm`` of the OpenBLAS NumPy loaded, through ctypes: the product then uses the
threads :func:`npgrad.utils.set_num_threads` gave NumPy's pool, and other Python threads run
meanwhile (ctypes releases the GIL). Measured on a 2-core AMD EPYC, the nine tap GEMMs of a
16 -> 16-channel 3x3 conv at 32x32, batch 64: 12.5 ms on one thread either way; at two
threads 7.2 ms this way against 11.7 ms through SciPy.

Where NumPy's BLAS is not an OpenBLAS with a known ``cblas_sgemm`` symbol (an MKL build,
another OS), :func:`accumulate` falls back to SciPy's wrapper: the same values.

Example:
    >>> a, b = np.ones((4, 3), np.float32), np.ones((3, 2), np.float32)
    >>> out = np.ones((4, 2), np.float32)
    >>> accumulate(a, b, out, beta=1.0)[0]
    array([4., 4.], dtype=float32)
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from scipy.linalg import blas as _scipy_blas

from npgrad.primitives import blas_pools as _blas_pools

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
#: (symbol prefix, symbol suffix, integer type): NumPy >= 2 wheels ship ``scipy_openblas64``
#: (prefix ``scipy_``, suffix ``64_``, 64-bit ints); NumPy 1.x wheels ``openblas64_``.
_SYMBOLS = (("scipy_cblas_", "64_", ctypes.c_int64), ("cblas_", "64_", ctypes.c_int64),
            ("scipy_cblas_", "", ctypes.c_int), ("cblas_", "", ctypes.c_int))
_SCALARS = {np.dtype(np.float32): ("s", ctypes.c_float), np.dtype(np.float64): ("d", ctypes.c_double)}
_SCIPY = {np.dtype(np.float32): _scipy_blas.sgemm, np.dtype(np.float64): _scipy_blas.dgemm}

DTYPES = frozenset(_SCALARS)  #: the dtypes :func:`accumulate` takes


@functools.cache
def cblas_routine(routine, signature, dtype):
    """The ctypes ``cblas_`` routine of NumPy's OpenBLAS for ``dtype`` (``"gemm"`` finds
    ``cblas_sgemm`` for float32, under the names NumPy's wheels give it), or None.

    Args:
        routine: the name without its type letter (``"gemm"``, ``"axpy"``).
        signature: the argument types as letters: ``e`` an enum (C int), ``i`` a BLAS
            integer (32 or 64 bits, as the library takes them), ``s`` a scalar of ``dtype``,
            ``p`` a pointer.
        dtype: float32 or float64.
    """
    lib = _blas_pools.numpy_library()
    if lib is None or np.dtype(dtype) not in _SCALARS:
        return None
    letter, scalar = _SCALARS[np.dtype(dtype)]
    ilp64_library = "64" in getattr(lib, "_name", "")
    for prefix, suffix, integer in _SYMBOLS:
        if integer is ctypes.c_int and ilp64_library:
            continue  # an unsuffixed name in a 64-bit-int library may take 64-bit ints
        function = getattr(lib, f"{prefix}{letter}{routine}{suffix}", None)
        if function is None:
            continue
        types = {"e": ctypes.c_int, "i": integer, "s": scalar, "p": ctypes.c_void_p}
        function.argtypes = [types[code] for code in signature]
        function.restype = None
        return function
    return None


def _cblas_gemm(dtype):
    """The ctypes ``cblas_?gemm`` of NumPy's OpenBLAS for ``dtype``, or None."""
    return cblas_routine("gemm", "eeeiiispipispi", dtype)


def _layout(array, name):
    """(transposed, leading dimension) of a 2-D operand as BLAS reads it: rows contiguous
    (``transposed`` False) or columns contiguous (a transposed view, ``True``)."""
    item = array.dtype.itemsize
    rows, cols = array.shape
    if (array.strides[1] == item or cols == 1) and array.strides[0] >= 0:
        return False, max(array.strides[0] // item, cols, 1)
    if (array.strides[0] == item or rows == 1) and array.strides[1] >= 0:
        return True, max(array.strides[1] // item, rows, 1)
    raise ValueError(f"accumulate: '{name}' must have contiguous rows or columns, got shape "
                     f"{array.shape} and strides {array.strides}")


def accumulate(a, b, out, beta=1.0):
    """``out[...] = a @ b + beta * out`` in place, and return ``out``.

    Args:
        a: (M, K) array whose rows or columns are contiguous (any stride between them: a
            slab of a larger matrix, or its transpose).
        b: (K, N) array, any layout (copied when neither its rows nor its columns are
            contiguous; it is small).
        out: (M, N) array whose rows are contiguous, written in place.
        beta: 0.0 overwrites ``out`` (its old values, even NaN, are ignored), 1.0 adds.

    Returns:
        ``out``. All three share one dtype, float32 or float64.
    """
    dtype = out.dtype
    if dtype not in DTYPES or a.dtype != dtype or b.dtype != dtype:
        raise TypeError(f"accumulate: a, b and out must share one dtype of float32/float64, "
                        f"got {a.dtype}, {b.dtype} and {out.dtype}")
    if a.ndim != 2 or b.ndim != 2 or out.ndim != 2:
        raise ValueError(f"accumulate: a, b and out must be 2-D, got shapes {a.shape}, "
                         f"{b.shape} and {out.shape}")
    (m, k), n = a.shape, b.shape[1]
    if b.shape[0] != k or out.shape != (m, n):
        raise ValueError(f"accumulate: cannot add a {a.shape} @ {b.shape} product into an "
                         f"array of shape {out.shape}")
    if m == 0 or n == 0:
        return out
    gemm = _cblas_gemm(dtype)
    if gemm is None:
        return _scipy_accumulate(a, b, out, beta)
    item = dtype.itemsize
    if not (b.strides[1] == item or b.strides[0] == item) or min(b.strides) < 0:
        b = np.ascontiguousarray(b)
    (trans_a, lda), (trans_b, ldb) = _layout(a, "a"), _layout(b, "b")
    transposed_out, ldc = _layout(out, "out")
    if transposed_out:
        raise ValueError(f"accumulate: 'out' must have contiguous rows, got strides {out.strides}")
    gemm(_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS, _TRANS if trans_b else _NO_TRANS,
         m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, float(beta), out.ctypes.data, ldc)
    return out


def _scipy_accumulate(a, b, out, beta):
    """:func:`accumulate` through SciPy's wrapper: ``out^T = b^T @ a^T + beta * out^T``, the
    transposed product on Fortran-ordered views, so SciPy writes ``out`` in place."""
    _blas_pools.pin_secondary_once()  # SciPy's OpenBLAS pool must not fight NumPy's
    if not out.flags.c_contiguous:
        out[...] = _scipy_accumulate(a, b, np.ascontiguousarray(out), beta)
        return out
    target = out.T  # (N, M), Fortran-ordered
    result = _SCIPY[out.dtype](1.0, b.T, a.T, beta=float(beta), c=target, overwrite_c=True)
    if result.ctypes.data != target.ctypes.data:  # a wrapper that copied c
        target[...] = result
    return out
