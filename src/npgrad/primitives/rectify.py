"""``max(x, 0)``, the forward of every ReLU, and the mask its backward multiplies by.

NumPy 2 runs ``np.maximum(x, 0)`` (an array and a scalar) through a slow loop, and
``np.clip`` with two scalar bounds through a vectorized one: on a 2-core AMD EPYC (Zen 4)
with NumPy 2.4, float32, ``np.clip(x, 0, inf)`` took 0.16 ms for 2**20 values where
``np.maximum`` against a broadcast row of zeros (this module's earlier route, itself a
third of the time of ``np.maximum(x, 0)``) took 0.34 ms, and 1.3 against 2.7 ms for 2**22
values (float64: 0.44 against 1.21 ms). So :func:`rectify` clips, with ``inf`` or a cap as
the upper bound (the same values; NaN stays NaN). NumPy 1.x keeps the row of zeros.

The backward's mask is a boolean array (``x > 0``, one byte per value); multiplying a float
gradient by booleans casts them element by element inside the product, and copying the mask
into a float array first, then multiplying in place, costs less: :func:`masked` took 1.76 ms
where ``grad * (y > 0)`` took 2.24 ms for 2.4 M float32 values (medians of 25, alternated).

Every ReLU-carrying op uses them: the ReLU op (capped too, for ``ReLU(max_value=6)``),
batch norm + ReLU, add + ReLU, the fused convolution + ReLU + pooling, and (through
:func:`rectify_in_place`) the convolution and dense ops with their ``relu`` flag.

Example:
    >>> rectify(np.array([-1.0, 2.0, np.nan]))
    array([ 0.,  2., nan])
    >>> rectify(np.array([-1.0, 2.0, 7.0]), max_value=6.0)
    array([0., 2., 6.])
"""

from __future__ import annotations

import functools

import numpy as np

from npgrad.primitives import channels as _channels
from npgrad.primitives import parallel as _parallel

WIDTH = 256  #: values per row: wide enough that the per-row cost of the broadcast vanishes
#: NumPy 2's clip with scalar bounds runs a vectorized loop (measured, see the module text)
_FAST_CLIP = int(np.__version__.split(".")[0]) >= 2


@functools.lru_cache(maxsize=8)
def _zeros(dtype):
    zeros = np.zeros(WIDTH, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def rectify(x, out=None, max_value=None):
    """``max(x, 0)``, or ``min(max(x, 0), max_value)`` (into ``out`` when given, which may be
    ``x``); returns the result.

    Args:
        x: ndarray. Float arrays take NumPy's vectorized clip (NumPy 2), or, of at least
            :data:`WIDTH` contiguous values, the maximum against a row of zeros (NumPy 1);
            anything else goes to ``np.maximum(x, 0)`` as is.
        out: optional array of ``x``'s shape and dtype.
        max_value: optional upper bound (``ReLU(max_value=...)``).

    Returns:
        ``out``, or a new array of ``x``'s shape and dtype.
    """
    if x.dtype.kind == "f" and _FAST_CLIP:
        zero, top = x.dtype.type(0), x.dtype.type(np.inf if max_value is None else max_value)
        if out is None:
            out = np.empty(x.shape, dtype=x.dtype)
        return _parallel.elementwise(lambda o, a: np.clip(a, zero, top, out=o), out, x)
    if (x.dtype.kind != "f" or x.size < WIDTH or not x.flags.c_contiguous
            or (out is not None and (not out.flags.c_contiguous or out.dtype != x.dtype
                                     or out.shape != x.shape))):
        out = np.maximum(x, 0, out=out, dtype=x.dtype if out is None else None)
    else:
        if out is None:
            out = np.empty_like(x)
        flat, target = x.reshape(-1), out.reshape(-1)
        bulk = flat.size - flat.size % WIDTH
        zeros = _zeros(x.dtype)
        np.maximum(flat[:bulk].reshape(-1, WIDTH), zeros, out=target[:bulk].reshape(-1, WIDTH))
        if bulk < flat.size:
            np.maximum(flat[bulk:], zeros[: flat.size - bulk], out=target[bulk:])
    if max_value is not None:
        np.minimum(out, out.dtype.type(max_value), out=out)
    return out


def relu_mask(values, max_value=None):
    """Where a ReLU passes its gradient: ``values > 0``, and ``values < max_value`` with a
    cap (the gradient is 0 at exactly 0 and at exactly the cap, as ``ReLU``'s layer).

    ``values`` may be the ReLU's input or its output: both give the same mask."""
    cap = None if max_value is None else values.dtype.type(max_value)

    def fill(mask, v):
        np.greater(v, 0, out=mask)
        if cap is not None:
            mask &= v < cap

    return _parallel.elementwise(fill, np.empty(np.shape(values), dtype=bool), values)


def masked(grad, mask, out=None):
    """``grad`` where ``mask`` (booleans of ``grad``'s size) holds, 0 elsewhere, into ``out``
    (which must not overlap ``grad``) or a new array: the mask is copied into it as floats,
    then multiplied by ``grad`` in place (see the module text)."""
    if out is None:
        out = np.empty(grad.shape, dtype=grad.dtype)

    def fill(o, g, m):
        np.copyto(o, m)
        np.multiply(g, o, out=o)

    return _parallel.elementwise(fill, out, grad, mask.reshape(grad.shape))


def relu_backward(grad, values, max_value=None, out=None):
    """``grad`` where a ReLU passed it (``0 < values``, and ``values < max_value`` with a
    cap), 0 elsewhere, into ``out`` (which must not overlap ``grad``) or a new array:
    :func:`masked` of :func:`relu_mask`, in one pass shared between threads, each block's
    mask made where it is used (written straight into the output as 0.0 / 1.0 without a
    cap). For a ReLU's own output or input as ``values``; a residual join + ReLU's
    (64, 32, 32, 16) float32 gradient on two threads: 1.15 -> 0.59 ms."""
    if out is None:
        out = np.empty(grad.shape, dtype=grad.dtype)
    cap = None if max_value is None else values.dtype.type(max_value)

    def fill(o, g, v):
        if cap is None:
            np.greater(v, 0, out=o)  # booleans cast to 0.0 / 1.0 as they are stored
        else:
            mask = np.greater(v, 0)
            mask &= v < cap
            np.copyto(o, mask)
        np.multiply(g, o, out=o)

    return _parallel.elementwise(fill, out, grad, values.reshape(grad.shape))


def rectify_in_place(out):
    """ReLU of a fresh array, in place; returns where it was positive (booleans), the mask a
    backward multiplies its gradient by (relu'(0) = 0): what Dense and Conv2D keep with their
    fused ReLU."""
    positive = out > 0
    rectify(out, out=out)
    return positive


def fusable_bias(out, bias):
    """Whether :func:`bias_relu_in_place` takes ``bias`` for ``out``: None, or a vector of
    ``out``'s last axis and dtype, ``out`` C-contiguous."""
    return bias is None or (bias.ndim == 1 and out.ndim >= 1 and bias.shape[0] == out.shape[-1]
                            and bias.dtype == out.dtype and out.flags.c_contiguous)


def bias_relu_in_place(out, bias=None, relu=False):
    """``out += bias`` over the last axis, then the ReLU in place, on a fresh ``out`` (with a
    bias :func:`fusable_bias` accepts); returns where it was positive (booleans, the
    backward's mask) with ``relu``, else None.

    One pass shared between threads by blocks of rows (parallel.py): each block's add, mask
    and clip run while the block is in cache, where the add on one thread, then the mask and
    the clip over the whole array read it from memory three times (a Dense(512) + ReLU
    output of 64 x 64 rows, 8 MB, on a 2-core Xeon, two threads: 1.2 -> 0.45 ms). A bias
    of a few dozen channels is added to wide rows of several copies of it (``channels``).
    """
    if not fusable_bias(out, bias):
        raise ValueError(f"bias_relu_in_place: a {out.shape[-1:]} bias of dtype {out.dtype} "
                         f"expected, got {np.shape(bias)} {np.asarray(bias).dtype}")
    if (bias is None and not relu) or out.size == 0:
        return np.zeros(out.shape, dtype=bool) if relu else None
    if relu and not (out.dtype.kind == "f" and _FAST_CLIP):  # NumPy 1: rectify's own route
        if bias is not None:
            out += bias
        return rectify_in_place(out)
    f = out.shape[-1]
    copies = _channels.wide_copies(out.size // f, f)
    rows = out.reshape(-1, f * copies)
    tiled = None if bias is None else _channels.tile(bias, copies)
    positive = np.empty(rows.shape, dtype=bool) if relu else None
    zero, top = (out.dtype.type(0), out.dtype.type(np.inf)) if relu else (None, None)

    def block(lo, hi):
        part = rows[lo:hi]
        if tiled is not None:
            part += tiled
        if relu:
            np.greater(part, 0, out=positive[lo:hi])
            np.clip(part, zero, top, out=part)

    _parallel.for_blocks(block, rows.shape[0], rows.shape[1] * out.itemsize)
    return None if positive is None else positive.reshape(out.shape)


def bias_relu_copy(src, bias=None):
    """``max(src + bias, 0)`` of a channels-last ``src`` (N, ..., W, F) that is not C-contiguous
    (a transposed convolution's crop of its padded grid) into a fresh C-contiguous array;
    returns ``(out, positive)``, ``positive`` the booleans where it was above 0 (the
    backward's mask). A float ``src``, a bias of its dtype (see :func:`fusable_bias`).

    One pass shared between threads by blocks of samples: each block's crop is read once in
    image rows (``channels.pixel_rows``) with the bias added on the way, and masked and
    clipped while it is in cache. A separate ReLU op after the in-place bias read the crop
    a second time, on one thread (strided views do not split: ``parallel.elementwise``).
    """
    if src.ndim < 3:
        raise ValueError(f"bias_relu_copy: (N, ..., W, F) expected, got shape {src.shape}")
    out = np.empty(src.shape, dtype=src.dtype)
    positive = np.empty(src.shape, dtype=bool)
    n, f = src.shape[0], src.shape[-1]
    rows_out = out.reshape(src.shape[:-2] + (src.shape[-2] * f,))  # image rows
    rows_src = src.reshape(rows_out.shape) if src.flags.c_contiguous else \
        _channels.pixel_rows(src, f)
    tiled = None if bias is None or rows_src is None else \
        _channels.tile(bias, rows_out.shape[-1] // f)

    def block(lo, hi):
        if rows_src is None:  # pixels not side by side: NumPy's per-pixel broadcast
            rows = out[lo:hi]
            np.copyto(rows, src[lo:hi])
            if bias is not None:
                rows += bias
        else:
            rows = rows_out[lo:hi]
            if tiled is None:
                np.copyto(rows, rows_src[lo:hi])
            else:
                np.add(rows_src[lo:hi], tiled, out=rows)
        np.greater(rows, 0, out=positive[lo:hi].reshape(rows.shape))
        rectify(rows, out=rows)

    _parallel.for_blocks(block, n, out[0].nbytes if n else 0)
    return out, positive


def relu_flag(relu, op):
    """``relu`` as a bool, or a TypeError naming ``op`` for anything but True or False."""
    if not isinstance(relu, (bool, np.bool_)):
        raise TypeError(f"{op}: relu must be True or False, got {relu!r}")
    return bool(relu)
