"""Shape ops and indexing: reshape, transpose, getitem, concatenate, stack, pad, broadcast_to."""

import math

import numpy as np

from npgrad.autograd.function import Function, linear_backward_graph
from npgrad.primitives import parallel as _parallel


class Reshape(Function):
    """View the same elements with another shape."""

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, x, shape=None):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {tuple(shape)}"
            ) from None

    def backward(self, grad):
        return (grad.reshape(self.in_shape),)

    backward_graph = backward  # Tensor.reshape is this op


class Transpose(Function):
    """Permute axes (reverse them when ``axes`` is None)."""

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, x, axes=None):
        if axes is not None and sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of {x.ndim} dims")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad):
        if self.axes is None:
            return (grad.transpose(),)
        return (grad.transpose(tuple(np.argsort([int(a) % grad.ndim for a in self.axes]).tolist())),)

    backward_graph = backward  # ndarray.transpose and Tensor.transpose take the same axes


class GetItem(Function):
    """x[index] for basic and advanced (integer array, boolean mask) indexing.

    Repeated indices accumulate their gradients.
    """

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, x, index=None):
        self.in_shape, self.dtype, self.index = x.shape, x.dtype, index
        try:
            return np.asarray(x[index])
        except IndexError as exc:
            raise IndexError(f"getitem: {exc} (tensor shape {x.shape})") from None

    def backward(self, grad):
        dx = np.zeros(self.in_shape, dtype=grad.dtype)
        if _is_basic(self.index):
            dx[self.index] = grad
        else:
            np.add.at(dx, self.index, grad)  # duplicates in an index array must add up
        return (dx,)

    backward_graph = linear_backward_graph

    def jvp(self, tangent):
        return np.asarray(tangent[self.index])


#: rows below which :func:`join_rows` leaves the copy to NumPy (its few calls cost more than
#: NumPy's per-row loop saves: two (1024, 16) float32 inputs 23 us here against 19 us, two
#: (4096, 16) 39 us against 67)
JOIN_MIN_ROWS = 2048


def join_rows(arrays):
    """``np.concatenate(arrays, axis=-1)`` copying whole rows, or None where it does not apply.

    NumPy copies each input into its columns of the output one row at a time: its inner loop
    runs over the input's last axis, a few values for a channels-last image of 16 channels
    (64 bytes a row), and pays its fixed cost per row (a concatenation of two (64, 32, 32,
    16) float32 images took 3.7x the time of copying the same bytes flat). Here each row of
    an input is one element of a ``void`` dtype as wide as the row, so the copy is one loop
    over the rows, each moved whole, in blocks of rows shared between threads
    (``parallel.py``): on a 2-core Xeon, two threads, two (32, 32, 32, 64) float32 images
    1.97 -> 1.25 ms (``np.concatenate`` 1.67-1.83), two (16, 64, 64, 16) 0.97 -> 0.71-0.75
    (0.99-1.04).

    Args:
        arrays: C-contiguous arrays of one dtype (no objects) and rank >= 2 that agree on every
            axis but the last, each with a non-empty last axis.

    Returns:
        A new array, or None when ``arrays`` break one of those conditions or have fewer than
        :data:`JOIN_MIN_ROWS` rows (the caller then calls ``np.concatenate``, which also
        reports shapes that do not agree).
    """
    first = arrays[0]
    if len(arrays) < 2 or first.ndim < 2 or first.dtype.hasobject:
        return None
    lead, dtype = first.shape[:-1], first.dtype
    if math.prod(lead) < JOIN_MIN_ROWS or any(
            a.dtype != dtype or a.shape[:-1] != lead or a.shape[-1] == 0
            or not a.flags.c_contiguous for a in arrays):
        return None
    widths = [a.shape[-1] for a in arrays]
    out = np.empty(lead + (sum(widths),), dtype=dtype)
    rows = out.reshape(-1, out.shape[-1])
    pairs, start = [], 0
    for a, width in zip(arrays, widths):
        row = np.dtype((np.void, width * dtype.itemsize))
        # a (rows, width) slice with a contiguous last axis views as (rows, 1) whole rows
        pairs.append((rows[:, start : start + width].view(row), a.reshape(-1, width).view(row)))
        start += width

    def block(lo, hi):  # these rows of every input
        for target, source in pairs:
            target[lo:hi] = source[lo:hi]

    _parallel.for_blocks(block, rows.shape[0], rows.shape[1] * dtype.itemsize)
    return out


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class Concatenate(Function):
    """Join tensors along an existing axis."""

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.splits = np.cumsum([x.shape[axis] for x in xs])[:-1]
        if xs and axis % max(xs[0].ndim, 1) == xs[0].ndim - 1:
            joined = join_rows(xs)
            if joined is not None:
                return joined
        return np.concatenate(xs, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.splits, axis=self.axis))

    def backward_graph(self, grad):
        bounds = [0, *self.splits.tolist(), grad.shape[self.axis]]
        lead = (slice(None),) * self.axis
        return tuple(getitem(grad, lead + (slice(a, b),)) for a, b in zip(bounds, bounds[1:]))


class Stack(Function):
    """Join same-shape tensors along a new axis."""

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, *xs, axis=0):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))

    def backward_graph(self, grad):
        lead = (slice(None),) * self.axis
        return tuple(getitem(grad, lead + (k,)) for k in range(grad.shape[self.axis]))


class Pad(Function):
    """Pad with a constant (``pad_width`` as in ``np.pad``, one (before, after) per axis)."""

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, x, pad_width=None, value=0.0):
        self.crop = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
        return np.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, grad):
        return (grad[self.crop],)

    backward_graph = backward  # the same slicing on a Tensor


class BroadcastTo(Function):
    """Broadcast to a larger shape (the engine sums the gradient back)."""

    integer_kinds = "iub"  # moves values: integers and booleans stay as they are

    def forward(self, x, shape=None):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None

    def backward(self, grad):
        return (grad,)

    backward_graph = backward  # the engine sums the gradient back with recorded ops


def reshape(x, shape):
    """Reshape to ``shape`` (one entry may be -1)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    return Reshape.apply(x, shape=tuple(int(n) for n in shape))


def transpose(x, axes=None):
    """Permute axes; reverses them when ``axes`` is None."""
    return Transpose.apply(x, axes=None if axes is None else tuple(axes))


def getitem(x, index):
    """Index like NumPy: ints, slices, None, Ellipsis, integer arrays, boolean masks."""
    return GetItem.apply(x, index=_raw_index(index))


def _raw_index(index):
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if hasattr(index, "data") and not isinstance(index, (np.ndarray, memoryview)):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def concatenate(tensors, axis=-1):
    """Join a sequence of tensors along ``axis`` (Keras's default axis is -1)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    shapes = [np.shape(getattr(t, "data", t)) for t in tensors]
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes) or ndim == 0:
        raise ValueError(f"concatenate: all tensors need the same (non-zero) rank, got shapes {shapes}")
    axis = axis % ndim
    for s in shapes:
        if s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :]:
            raise ValueError(
                f"concatenate: shapes {shapes} differ outside the concatenation axis {axis}"
            )
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Stack same-shape tensors along a new ``axis``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    shapes = {np.shape(getattr(t, "data", t)) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    ndim = len(shapes.pop()) + 1
    return Stack.apply(*tensors, axis=axis % ndim)


def pad(x, pad_width, value=0.0):
    """Pad with a constant value; ``pad_width`` is an int or one (before, after) per axis."""
    ndim = np.ndim(getattr(x, "data", x))
    width = np.broadcast_to(np.asarray(pad_width, dtype=int), (ndim, 2))
    if (width < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width}")
    return Pad.apply(x, pad_width=tuple(map(tuple, width.tolist())), value=value)


def broadcast_to(x, shape):
    """Broadcast x to ``shape``."""
    return BroadcastTo.apply(x, shape=tuple(shape))


def squeeze(x, axis=None):
    """Remove axes of length one (all of them when ``axis`` is None)."""
    shape = np.shape(getattr(x, "data", x))
    if axis is None:
        new_shape = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in ((axis,) if np.isscalar(axis) else axis)}
        bad = [a for a in axes if shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad[0]} has length {shape[bad[0]]}, not 1")
        new_shape = tuple(n for i, n in enumerate(shape) if i not in axes)
    return reshape(x, new_shape)


def expand_dims(x, axis):
    """Insert an axis of length one at ``axis``."""
    shape = np.shape(getattr(x, "data", x))
    return reshape(x, np.expand_dims(np.broadcast_to(False, shape), axis).shape)
