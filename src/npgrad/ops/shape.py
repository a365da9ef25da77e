"""Shape, indexing and products, as ``keras.ops`` (NumPy names): reshape, split, take, tile,
einsum, tensordot...

Everything here that moves or combines floats is differentiable: gathers (take, repeat,
tile, roll, flip) are one indexing op whose backward adds the gradients of repeated picks.
"""

from __future__ import annotations

import builtins

import numpy as np

from npgrad.primitives import elementwise, linalg, reduce, shape as shape_ops
from npgrad.primitives.einsum import einsum as einsum_primitive
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import raw, wrap


def _ndim(x):
    return raw(x).ndim


def _along(axis, index, ndim):
    """An index tuple selecting ``index`` on ``axis`` and everything on the others."""
    return (builtins.slice(None),) * (axis % ndim) + (index,)


@keras_op
def reshape(x, newshape):
    """Same elements, new shape (one entry may be -1)."""
    return shape_ops.reshape(x, newshape)


@keras_op
def transpose(x, axes=None):
    """Permute axes (reversed when ``axes`` is None)."""
    return shape_ops.transpose(x, axes)


@keras_op
def swapaxes(x, axis1, axis2):
    """Exchange two axes."""
    axes = list(range(_ndim(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return shape_ops.transpose(x, axes)


@keras_op
def moveaxis(x, source, destination):
    """Move axes to new positions (as ``np.moveaxis``)."""
    n = _ndim(x)
    source = [int(a) % n for a in ((source,) if np.isscalar(source) else source)]
    destination = [int(a) % n for a in ((destination,) if np.isscalar(destination) else destination)]
    order = [a for a in range(n) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return shape_ops.transpose(x, order)


@keras_op
def expand_dims(x, axis):
    """Insert axes of length one at ``axis`` (an int or a tuple)."""
    return shape_ops.reshape(x, np.expand_dims(np.empty(raw(x).shape, bool), axis).shape)


@keras_op
def squeeze(x, axis=None):
    """Remove axes of length one (all when ``axis`` is None)."""
    return shape_ops.squeeze(x, axis)


@keras_op
def ravel(x):
    """All elements in one axis."""
    return shape_ops.reshape(x, (-1,))


@keras_op
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``."""
    return shape_ops.broadcast_to(x, shape)


def _float_or_numpy(tensors, primitive, numpy_fn, **kwargs):
    if builtins.any(raw(t).dtype.kind == "f" for t in tensors):
        return primitive(tensors, **kwargs)
    return wrap(numpy_fn([raw(t) for t in tensors], **kwargs))


@keras_op
def concatenate(xs, axis=0):
    """Join tensors along an existing ``axis`` (Keras ops default 0)."""
    return _float_or_numpy(list(xs), shape_ops.concatenate, np.concatenate, axis=axis)


@keras_op
def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when None)."""
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([x1, x2], axis=axis)


@keras_op
def stack(x, axis=0):
    """Join same-shape tensors along a new ``axis``."""
    return _float_or_numpy(list(x), shape_ops.stack, np.stack, axis=axis)


@keras_op
def hstack(xs):
    """Join along axis 1 (axis 0 for 1-D tensors)."""
    return concatenate(xs, axis=0 if _ndim(xs[0]) == 1 else 1)


@keras_op
def vstack(xs):
    """Join along axis 0 (1-D tensors become rows)."""
    return concatenate([atleast(x, 2) for x in xs], axis=0)


@keras_op
def dstack(xs):
    """Join along axis 2 (as ``np.dstack``)."""
    return concatenate([atleast(x, 3) for x in xs], axis=2)


@keras_op
def column_stack(xs):
    """1-D tensors become columns, then join along axis 1."""
    return concatenate([shape_ops.reshape(x, (-1, 1)) if _ndim(x) == 1 else x for x in xs], 1)


def atleast(x, ndim):
    """``x`` reshaped as NumPy's ``atleast_2d``/``atleast_3d`` do."""
    shape = raw(x).shape
    if len(shape) >= ndim:
        return x
    if ndim == 2:
        return shape_ops.reshape(x, (1,) * (2 - len(shape)) + shape)
    new = {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]
    return shape_ops.reshape(x, new)


@keras_op
def split(x, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices, as ``np.split``."""
    n = raw(x).shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of length {n} does not divide into "
                             f"{indices_or_sections} equal sections")
        size = n // indices_or_sections
        bounds = [size * i for i in range(1, indices_or_sections)]
    else:
        bounds = [int(i) for i in indices_or_sections]
    edges = [0] + bounds + [n]
    return [shape_ops.getitem(x, _along(axis, builtins.slice(a, b), _ndim(x)))
            for a, b in zip(edges[:-1], edges[1:])]


@keras_op
def array_split(x, indices_or_sections, axis=0):
    """Split into nearly equal sections (the first ones one longer), as ``np.array_split``."""
    n = raw(x).shape[axis]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    k = int(indices_or_sections)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return split(x, np.cumsum(sizes)[:-1].tolist(), axis)


@keras_op
def hsplit(x, indices_or_sections):
    """Split along axis 1 (axis 0 for 1-D)."""
    return split(x, indices_or_sections, axis=0 if _ndim(x) == 1 else 1)


@keras_op
def vsplit(x, indices_or_sections):
    """Split along axis 0."""
    return split(x, indices_or_sections, axis=0)


@keras_op
def dsplit(x, indices_or_sections):
    """Split along axis 2."""
    return split(x, indices_or_sections, axis=2)


@keras_op
def get_item(x, key):
    """``x[key]`` with NumPy indexing (differentiable)."""
    return shape_ops.getitem(x, key)


def _gather(x, index):
    """Differentiable ``x[index]`` for floats, NumPy for other dtypes."""
    if raw(x).dtype.kind == "f":
        return shape_ops.getitem(x, index)
    return wrap(raw(x)[index])


@keras_op
def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (flattened when None); negative indices
    count from the end."""
    index = np.asarray(raw(indices)).astype(np.intp)
    if axis is None:
        return _gather(ravel(x), index)
    return _gather(x, _along(axis, index, _ndim(x)))


@keras_op
def take_along_axis(x, indices, axis=None):
    """``np.take_along_axis``: pick with ``indices`` shaped like ``x`` along ``axis``."""
    index = np.asarray(raw(indices)).astype(np.intp)
    if axis is None:
        return _gather(ravel(x), index.reshape(-1))
    ndim = _ndim(x)
    axis %= ndim
    shape = np.broadcast_shapes(
        tuple(1 if a == axis else n for a, n in enumerate(raw(x).shape)),
        tuple(1 if a == axis else n for a, n in enumerate(index.shape)))
    index = np.broadcast_to(index, shape[:axis] + (index.shape[axis],) + shape[axis + 1:])
    if raw(x).shape != tuple(shape[:axis]) + (raw(x).shape[axis],) + tuple(shape[axis + 1:]):
        x = broadcast_to(x, shape[:axis] + (raw(x).shape[axis],) + shape[axis + 1:])
    grids = list(np.ix_(*[np.arange(n) for n in index.shape]))
    grids[axis] = index
    return _gather(x, tuple(grids))


@keras_op
def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (flattened when None)."""
    if axis is None:
        x, axis = ravel(x), 0
    n = raw(x).shape[axis]
    return take(x, np.repeat(np.arange(n), raw(repeats)), axis=axis)


@keras_op
def tile(x, repeats):
    """``x`` repeated ``repeats`` times along each axis, as ``np.tile``."""
    reps = (int(repeats),) if np.isscalar(repeats) else tuple(int(r) for r in repeats)
    shape = raw(x).shape
    ndim = builtins.max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    x = shape_ops.reshape(x, shape)
    index = np.ix_(*[np.tile(np.arange(n), r) for n, r in zip(shape, reps)])
    return _gather(x, index)


@keras_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad with a constant (``mode="constant"``) or by reflection/edge copies (gather modes)."""
    ndim = _ndim(x)
    width = np.broadcast_to(np.asarray(pad_width, dtype=int), (ndim, 2))
    if mode == "constant":
        value = 0.0 if constant_values is None else float(raw(constant_values))
        if raw(x).dtype.kind != "f":
            return wrap(np.pad(raw(x), width, constant_values=value))
        return shape_ops.pad(x, width, value=value)
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        raise ValueError(f"pad: mode must be constant, reflect, symmetric, edge or wrap, got {mode!r}")
    # pad the index grid of each axis the same way, then gather: gradients add up correctly
    index = np.ix_(*[np.pad(np.arange(n), tuple(w), mode=mode) for n, w in zip(raw(x).shape, width)])
    return _gather(x, index)


@keras_op
def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    axes = range(_ndim(x)) if axis is None else ((axis,) if np.isscalar(axis) else axis)
    index = [builtins.slice(None)] * _ndim(x)
    for a in axes:
        index[a] = builtins.slice(None, None, -1)
    return _gather(x, tuple(index))


@keras_op
def fliplr(x):
    """Reverse axis 1."""
    return flip(x, 1)


@keras_op
def flipud(x):
    """Reverse axis 0."""
    return flip(x, 0)


@keras_op
def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (as ``np.rot90``)."""
    k %= 4
    a0, a1 = axes
    out = array
    for _ in range(k):
        out = swapaxes(flip(out, a1), a0, a1)
    return out


@keras_op
def roll(x, shift, axis=None):
    """Shift elements cyclically along ``axis`` (flattened when None)."""
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), raw(x).shape)
    shifts = (shift,) if np.isscalar(shift) else tuple(shift)
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    out = x
    for s, a in zip(shifts, axes):
        n = raw(x).shape[a]
        out = take(out, (np.arange(n) - int(s)) % n, axis=a)
    return out


@keras_op
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of ``x`` over ``axis1``/``axis2``, moved to the last axis."""
    moved = moveaxis(x, (axis1, axis2), (-2, -1))
    rows, cols = raw(moved).shape[-2:]
    i = np.arange(builtins.max(0, -offset), builtins.min(rows, cols - offset))
    return _gather(moved, (Ellipsis, i, i + offset))


@keras_op
def diag(x, k=0):
    """The k-th diagonal of a matrix, or a matrix with vector ``x`` on its k-th diagonal."""
    if _ndim(x) == 2:
        return diagonal(x, k)
    n = raw(x).shape[0] + builtins.abs(k)
    i = np.arange(raw(x).shape[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    mask = np.zeros((n, n), dtype=bool)
    mask[rows, cols] = True
    picks = np.zeros((n, n), dtype=np.intp)
    picks[rows, cols] = i
    gathered = _gather(x, picks)
    zero = np.zeros((), dtype=raw(x).dtype)
    return elementwise.where(mask, gathered, zero) if raw(x).dtype.kind == "f" \
        else wrap(np.where(mask, raw(gathered), zero))


@keras_op
def diagflat(x, k=0):
    """A matrix with the flattened ``x`` on its k-th diagonal."""
    return diag(ravel(x), k)


@keras_op
def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal."""
    d = diagonal(x, offset, axis1, axis2)
    return reduce.sum(d, axis=-1) if raw(d).dtype.kind == "f" else wrap(raw(d).sum(-1))


@keras_op
def ndim(x):
    """Number of axes."""
    return len(x.shape) if hasattr(x, "shape") else np.ndim(x)


@keras_op
def size(x):
    """Number of elements."""
    return int(np.prod(raw(x).shape))


@keras_op
def nonzero(x):
    """Indices of the nonzero elements, one int32 tensor per axis."""
    return tuple(wrap(i.astype("int32")) for i in np.nonzero(raw(x)))


@keras_op
def unravel_index(indices, shape):
    """Flat indices to coordinate tensors (as ``np.unravel_index``)."""
    return tuple(wrap(i.astype("int32")) for i in np.unravel_index(raw(indices), shape))


@keras_op
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` is in ``x2``."""
    return wrap(np.isin(raw(x1), raw(x2), assume_unique=assume_unique, invert=invert))


# ------------------------------------------------------------------ products
@keras_op
def einsum(subscripts, *operands):
    """Einstein summation (differentiable in every operand), as ``np.einsum``."""
    return einsum_primitive(subscripts, *operands)


@keras_op
def matmul(x1, x2):
    """Matrix product with batch broadcasting (``x1 @ x2``)."""
    return linalg.matmul(x1, x2)


@keras_op
def dot(x1, x2):
    """``np.dot``: scalars multiply, 1-D/2-D multiply as matrices, N-D contract last with
    second-to-last."""
    if _ndim(x1) == 0 or _ndim(x2) == 0:
        return elementwise.multiply(x1, x2)
    if _ndim(x2) <= 2:
        return linalg.matmul(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-2]))


@keras_op
def vdot(x1, x2):
    """Dot product of the flattened tensors."""
    return reduce.sum(elementwise.multiply(ravel(x1), ravel(x2)))


@keras_op
def inner(x1, x2):
    """Sum product over the last axes."""
    if _ndim(x1) == 0 or _ndim(x2) == 0:
        return elementwise.multiply(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-1]))


@keras_op
def outer(x1, x2):
    """Outer product of the flattened tensors."""
    return elementwise.multiply(shape_ops.reshape(x1, (-1, 1)), shape_ops.reshape(x2, (1, -1)))


@keras_op
def tensordot(x1, x2, axes=2):
    """Sum products over the given axes (an int n: the last n of x1 with the first n of x2)."""
    n1, n2 = _ndim(x1), _ndim(x2)
    if isinstance(axes, (int, np.integer)):
        a1, a2 = list(range(n1 - axes, n1)), list(range(axes))
    else:
        a1, a2 = ([axes[0]] if np.isscalar(axes[0]) else list(axes[0]),
                  [axes[1]] if np.isscalar(axes[1]) else list(axes[1]))
    a1 = [a % n1 for a in a1]
    a2 = [a % n2 for a in a2]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    t1 = [next(letters) for _ in range(n1)]
    t2 = [next(letters) for _ in range(n2)]
    for i, j in zip(a1, a2):
        t2[j] = t1[i]
    out = [c for i, c in enumerate(t1) if i not in a1] + [c for j, c in enumerate(t2) if j not in a2]
    return einsum_primitive(f"{''.join(t1)},{''.join(t2)}->{''.join(out)}", x1, x2)


@keras_op
def kron(x1, x2):
    """Kronecker product."""
    a, b = raw(x1), raw(x2)
    nd = builtins.max(a.ndim, b.ndim)
    x1 = shape_ops.reshape(x1, (1,) * (nd - a.ndim) + a.shape)
    x2 = shape_ops.reshape(x2, (1,) * (nd - b.ndim) + b.shape)
    sa, sb = raw(x1).shape, raw(x2).shape
    left = shape_ops.reshape(x1, [d for n in sa for d in (n, 1)])
    right = shape_ops.reshape(x2, [d for n in sb for d in (1, n)])
    return shape_ops.reshape(elementwise.multiply(left, right), [p * q for p, q in zip(sa, sb)])


@keras_op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the last axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(x1, axisa, -1), moveaxis(x2, axisb, -1)
    comp = [shape_ops.getitem(a, (Ellipsis, i)) for i in range(3)]
    other = [shape_ops.getitem(b, (Ellipsis, i)) for i in range(3)]
    m, s = elementwise.multiply, elementwise.subtract
    out = shape_ops.stack([s(m(comp[1], other[2]), m(comp[2], other[1])),
                           s(m(comp[2], other[0]), m(comp[0], other[2])),
                           s(m(comp[0], other[1]), m(comp[1], other[0]))], axis=-1)
    return moveaxis(out, -1, axisc)


@keras_op
def diff(a, n=1, axis=-1):
    """The n-th discrete difference along ``axis``."""
    out = a
    for _ in range(n):
        length = raw(out).shape[axis]
        upper = _gather(out, _along(axis, builtins.slice(1, length), _ndim(out)))
        lower = _gather(out, _along(axis, builtins.slice(0, length - 1), _ndim(out)))
        out = elementwise.subtract(upper, lower) if raw(out).dtype.kind == "f" \
            else wrap(raw(upper) - raw(lower))
    return out


@keras_op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule."""
    n = raw(y).shape[axis]
    upper = shape_ops.getitem(y, _along(axis, builtins.slice(1, n), _ndim(y)))
    lower = shape_ops.getitem(y, _along(axis, builtins.slice(0, n - 1), _ndim(y)))
    widths = np.diff(raw(x), axis=axis) if x is not None else dx
    return reduce.sum(elementwise.multiply(elementwise.add(upper, lower), np.asarray(widths) / 2),
                      axis=axis)


@keras_op
def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's name
    """Vandermonde matrix of 1-D ``x`` (columns are powers of x)."""
    n = raw(x).shape[0] if N is None else int(N)
    if raw(x).dtype.kind != "f":
        return wrap(np.vander(raw(x), n, increasing))
    columns = [np.ones(raw(x).shape, dtype=raw(x).dtype)]
    for _ in range(n - 1):  # repeated products: exact gradients, also at x = 0
        columns.append(elementwise.multiply(columns[-1], x))
    return shape_ops.stack(columns if increasing else columns[::-1], axis=1)


@keras_op
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors (``np.correlate``; differentiable)."""
    a, v = raw(x1), raw(x2)
    n, m = a.shape[0], v.shape[0]
    if mode == "valid":
        pad_left = 0
        length = builtins.max(n, m) - builtins.min(n, m) + 1
    elif mode == "same":
        pad_left = (m - 1) // 2 if n >= m else (n - 1) // 2
        length = builtins.max(n, m)
    elif mode == "full":
        pad_left = m - 1
        length = n + m - 1
    else:
        raise ValueError(f"correlate: mode must be valid, same or full, got {mode!r}")
    if n < m:  # np.correlate swaps and reverses when the kernel is longer
        return flip(correlate(x2, x1, mode), 0)
    padded = shape_ops.pad(x1, ((pad_left, builtins.max(0, length + m - 1 - n - pad_left)),))
    windows = np.arange(length)[:, None] + np.arange(m)[None, :]
    return linalg.matmul(shape_ops.getitem(padded, windows), x2)


@keras_op
def view(x, dtype=None):
    """The same bytes read as another dtype (a constant)."""
    return wrap(raw(x).view(dtype))


__all__ = [
    "append", "array_split", "broadcast_to", "column_stack", "concatenate", "correlate",
    "cross", "diag", "diagflat", "diagonal", "diff", "dot", "dsplit", "dstack", "einsum",
    "expand_dims", "flip", "fliplr", "flipud", "get_item", "hsplit", "hstack", "inner", "isin",
    "kron", "matmul", "moveaxis", "ndim", "nonzero", "outer", "pad", "ravel", "repeat",
    "reshape", "roll", "rot90", "size", "split", "squeeze", "stack", "swapaxes", "take",
    "take_along_axis", "tensordot", "tile", "trace", "transpose", "trapezoid", "unravel_index",
    "vander", "vdot", "view", "vsplit", "vstack",
]  # fmt: skip
