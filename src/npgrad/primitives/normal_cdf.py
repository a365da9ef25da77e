"""The standard normal CDF Phi(x) for GELU, fast in float32.

``scipy.special.erf`` evaluates float32 input in double precision through a scalar routine:
about 25 ns an element, so ``Dense(512, activation="gelu")`` on a (64, 64) batch of
sequences spent 35 ms in its forward alone. In float32 this module evaluates
``erfc(z) ~ t (a1 + t (a2 + ... a5)) exp(-z^2)``, ``t = 1 / (1 + p z)``, ``z = |x| / sqrt(2)``
(Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7 in exact arithmetic, 3e-7
measured in float32, about the rounding level of float32 near 1) with NumPy's vectorized ``exp``, in cache-sized blocks so the dozen passes stay in
cache, and returns ``Phi(x) = erfc(z) / 2`` for negative x (no cancellation in the tail)
and ``1 - erfc(z) / 2`` otherwise. Other dtypes (float64, what the gradient checks use) keep
the exact ``0.5 * (1 + erf(x / sqrt(2)))``. GELU's backward in float32 takes
``Phi = y / x`` from its saved output ``y = x Phi(x)`` (:func:`gelu_derivative_from_output`)
instead of evaluating the polynomial again.

Example:
    >>> normal_cdf(np.array([0.0, 1.0], np.float32))
    array([0.5      , 0.8413447], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from npgrad.primitives import parallel as _parallel
from npgrad.primitives.rectify import rectify

_P = 0.3275911 / math.sqrt(2)  # A&S's p, for z = |x| / sqrt(2) folded into |x|
_A = tuple(a / 2 for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                           1.061405429))  # a1 .. a5, halved: the polynomial gives erfc / 2
# elements per block: the handful of float32 temporaries alive at once (128 KB each) stay
# in L2 (Xeon) or L3 (EPYC); half as many blocks as at 16,384 pay half the per-call cost:
# a (4096, 512) forward 16.2 -> 13.1 ms and backward 11.3 -> 9.6 ms, interleaved on a
# 2-core EPYC
_BLOCK = 32768
# elements per block when threads share the pass (parallel.py): every NumPy call hands
# Python's lock (the GIL) back and forth between them, so fewer, larger calls; a (4096,
# 512) forward at two threads took 20.1 ms in 32,768-element blocks (18 on one thread),
# 10.6 ms in 131,072-element ones (backward: 10.9 and 7.9; 13.9 on one thread) on a 2-core
# EPYC; on a 2-core Xeon (2 MB of L2 a core) 5.5, 4.7 and 5.7 ms with 131,072-, 262,144-
# and 524,288-element blocks (backward 3.2, 2.8, 3.4)
_SHARED_BLOCK = 262144


def _lower_tail(a):
    """Phi(-a) = erfc(a / sqrt(2)) / 2 of a float32 block ``a >= 0`` (a new array)."""
    f = np.float32
    t = a * f(_P)
    t += f(1)
    np.reciprocal(t, out=t)
    h = t * f(_A[4])
    for c in _A[3::-1]:  # Horner: ((a5 t + a4) t + a3) t ... + a1) t
        h += f(c)
        h *= t
    e = np.square(a)
    e *= f(-0.5)
    np.exp(e, out=e)  # exp(-a^2 / 2)
    h *= e
    return h


def _block(x, cdf):
    """Phi(x) of a float32 block into ``cdf``."""
    f = np.float32
    h = _lower_tail(np.abs(x))
    # Phi(x) = h for x < 0, 1 - h otherwise: s + (1 - 2 s) h with s = (x >= 0), without
    # branches (a masked copy on random signs costs as much as the whole polynomial)
    np.greater_equal(x, 0, out=cdf)
    t = cdf * f(-2)
    t += f(1)
    h *= t
    cdf += h


def _gelu_block(x, out):
    """x Phi(x) of a float32 block into ``out``: max(x, 0) - |x| Phi(-|x|), no branch."""
    a = np.abs(x)
    h = _lower_tail(a)
    h *= a
    rectify(x, out=out)
    out -= h


def _blocked(kernel, *arrays):
    """``kernel(*blocks, out_block)`` over cache-sized blocks of the flattened ``arrays``
    (float32, one shape), the blocks shared between threads (``parallel.py``); returns the
    output in the arrays' shape."""
    flats = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    out = np.empty_like(flats[0])

    step = _SHARED_BLOCK if _parallel.threads() > 1 else _BLOCK

    def span(lo, hi):
        for start in range(lo, hi, step):
            block = slice(start, min(start + step, hi))
            kernel(*(flat[block] for flat in flats), out[block])

    _parallel.for_blocks(span, out.size, out.itemsize, min_bytes=_parallel.COMPUTE_BLOCK_BYTES)
    return out.reshape(arrays[0].shape)


def gelu_float32(x):
    """Exact GELU ``x Phi(x)`` of a float32 array, by the blocked polynomial.

    ``x Phi(x) = max(x, 0) - |x| Phi(-|x|)`` for either sign, so no branch is needed and
    the negative side keeps its relative precision.

    Args:
        x: float32 ndarray.

    Returns:
        A float32 ndarray of x's shape (within 3e-7 |x| of the exact value).
    """
    return _blocked(_gelu_block, x)


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2 elementwise, in x's floating dtype.

    Args:
        x: an ndarray.

    Returns:
        An ndarray of x's shape; float32 input takes the fast blocked approximation
        (absolute error below 3e-7), other dtypes the exact ``scipy.special.erf``.
    """
    if x.dtype != np.float32:
        return (0.5 * (1 + special.erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)
    return _blocked(_block, x)


def _derivative_block(x, y, out):
    """Phi(x) + x phi(x) of a float32 block into ``out``, Phi taken as y / x (y = x Phi)."""
    f = np.float32
    zero = np.equal(x, 0, out=out)  # bool written as 0.0 / 1.0: 1 where x == 0
    e = x + zero  # x, or 1 where x == 0 (no 0 / 0)
    zero *= f(0.5)
    zero += y  # y, or Phi(0) = 0.5 where x == 0
    np.divide(zero, e, out=out)  # Phi(x)
    np.square(x, out=e)
    e *= f(-0.5)
    np.exp(e, out=e)
    e *= x
    e *= f(1 / math.sqrt(2 * math.pi))
    out += e


def _derivative_times_block(x, y, grad, out):
    """The GELU's derivative at ``x`` (from its output ``y``) times ``grad``, into ``out``."""
    _derivative_block(x, y, out)
    out *= grad


def gelu_derivative_from_output(x, y, grad=None):
    """Phi(x) + x phi(x) for float32 x, given the GELU output ``y = x Phi(x)``; times
    ``grad`` when given (the input gradient, in the same blocks: a separate product over the
    whole array took 0.33 ms more for (64, 64, 512) on two threads).

    ``Phi = y / x`` (within two roundings of Phi; 1/2 where x is 0) spares the backward the
    erfc polynomial: one exp and a dozen cheap passes, in cache-sized blocks.

    Args:
        x: float32 ndarray, the GELU input.
        y: float32 ndarray of x's shape, the GELU output.
        grad: optional float32 ndarray of x's shape.

    Returns:
        A float32 ndarray of x's shape.
    """
    if grad is None:
        return _blocked(_derivative_block, x, y)
    return _blocked(_derivative_times_block, x, y, grad)
