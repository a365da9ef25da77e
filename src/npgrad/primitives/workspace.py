"""Scratch buffers that ops reuse from one call to the next (a caching allocator in miniature).

A convolution's columns are several times larger than its input (nine times for a 3x3
kernel) and live only for the duration of one forward or backward. Allocated fresh, a block
of tens of MB comes from ``mmap`` and every page faults back in, zero-filled by the kernel,
on every call; a buffer kept between calls costs that once. The ops that use these buffers
never return them and never keep them past their own call, so one buffer per purpose
(``name``) is enough.

Example:
    >>> cols = scratch(TEMP, (6, 4), np.float32)   # uninitialized, reused next time
    >>> padded = zero_padded(np.ones((1, 2, 2, 1)), (1, 1), (1, 1))   # in a reused buffer
    >>> padded[0, :, :, 0].sum()
    4.0
"""

from __future__ import annotations

import math
import threading

import numpy as np

from npgrad.primitives import parallel as _parallel

#: The names ops share for their activation-sized temporaries. An op's temporaries live
#: only during its own forward or backward, and no op runs inside another's, so every op
#: can use the same buffers: a ResNet then keeps two temporaries in all (sized for its
#: largest layer), not one per purpose (its peak memory: 126 -> 112 MiB). An op (with the
#: helpers it calls) uses each name for one array at a time.
TEMP, TEMP2 = "activation_temp", "activation_temp_2"
PAD = "padded_image"  #: the buffer of :func:`zero_padded`

_local = threading.local()


def _pool():
    if not hasattr(_local, "scratch"):
        _local.scratch = {}
    return _local.scratch


def _borders():
    """{buffer name: the (shape, pads, dtype) whose zero border it holds}."""
    if not hasattr(_local, "borders"):
        _local.borders = {}
    return _local.borders


def scratch(name, shape, dtype):
    """An uninitialized C-contiguous array of ``shape`` and ``dtype`` for temporary use.

    The memory is shared with every earlier and later call with the same ``name`` (in this
    thread): the caller must be done with the array before anything asks for ``name`` again,
    and must never hand it out (return it from an op, save it for backward).

    Args:
        name: the buffer, usually :data:`TEMP` or :data:`TEMP2`.
        shape: tuple of ints.
        dtype: NumPy dtype.

    Returns:
        ndarray view of the shared buffer.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize  # (np.prod costs 60 times as much)
    _borders().pop(name, None)  # whatever zero border it held may be overwritten now
    pool = _pool()
    buffer = pool.get(name)
    if buffer is None or buffer.nbytes < nbytes:
        pool.pop(name, None)  # let the old block go before the larger one is allocated
        buffer = np.empty(max(nbytes, dtype.itemsize), dtype=np.uint8)
        pool[name] = buffer
    return buffer[:nbytes].view(dtype).reshape(shape)


def zero_padded(x, pads_h, pads_w, name=None):
    """``x`` (N, H, W, C) with zero rows and columns around it, in a reused buffer.

    The padded image lives in the scratch buffer ``name`` (:data:`PAD` by default): the
    interior is copied and the border zeroed (a few rows and columns, and only when the
    buffer's last use was not this same padding), instead of ``np.pad``'s fresh array.
    One buffer serves every shape, so a network with a dozen padded shapes keeps one
    padded image, not one per shape. The same rules as
    :func:`scratch` apply to the result. No copy at all when there is nothing to pad.

    Args:
        x: (N, H, W, C) array.
        pads_h, pads_w: (before, after) pairs of non-negative ints.
        name: the scratch buffer to use.

    Returns:
        (N, H + sum(pads_h), W + sum(pads_w), C) array.
    """
    if pads_h == (0, 0) and pads_w == (0, 0):
        return x
    n, h, w, c = x.shape
    (top, bottom), (left, right) = pads_h, pads_w
    name = PAD if name is None else name
    shape = (n, h + top + bottom, w + left + right, c)
    key = (shape, tuple(pads_h), tuple(pads_w), x.dtype.str)
    zeroed = _borders().get(name) == key  # the last call left this very border zero
    buffer = scratch(name, shape, x.dtype)
    if not zeroed:
        buffer[:, :top] = 0
        buffer[:, top + h :] = 0
        buffer[:, top : top + h, :left] = 0
        buffer[:, top : top + h, left + w :] = 0
    _parallel.copy_rows(buffer[:, top : top + h, left : left + w], x)
    _borders()[name] = key
    return buffer


def clear():
    """Free every buffer of this thread (they are made again on demand)."""
    _pool().clear()
    _borders().clear()
