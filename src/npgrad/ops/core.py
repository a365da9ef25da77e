"""Core ops, as ``keras.ops`` core: conversion, casting, control flow, slices and scatters.

Control flow runs eagerly in Python (``cond`` calls one branch, ``fori_loop`` loops), so
gradients flow through whatever the branches compute.
"""

from __future__ import annotations

import builtins

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.primitives import elementwise, math as math_ops, shape as shape_ops
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import float_dtype, raw, standardize_dtype, wrap


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A Tensor holding ``x`` (a Tensor is returned as is when the dtype already matches).

    Python floats and float lists become ``config.floatx()``, Python ints int32 (Keras);
    NumPy arrays keep their dtype unless ``dtype`` is given. Symbolic tensors pass through.

    Args:
        x: Tensor, array, number or nested list.
        dtype: optional target dtype.
        sparse, ragged: accepted for Keras compatibility; npgrad tensors are dense.
    """
    if hasattr(x, "_keras_history"):  # a symbolic tensor
        return x
    dtype = standardize_dtype(dtype)
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else cast(x, dtype)
    if isinstance(x, (np.ndarray, np.generic)):
        return Tensor(np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype))
    array = np.asarray(x if not isinstance(x, (list, tuple)) else [raw(v) for v in x])
    if dtype is None:
        if array.dtype.kind == "f":
            dtype = float_dtype()
        elif array.dtype.kind in "iu":
            dtype = np.dtype("int32")
    return Tensor(array if dtype is None else array.astype(dtype))


def convert_to_numpy(x):
    """The value of ``x`` as a NumPy array (shared with a Tensor, not copied)."""
    if hasattr(x, "_keras_history"):
        raise TypeError(f"convert_to_numpy: {x!r} is symbolic and holds no data")
    return raw(x)


def is_tensor(x):
    """Whether ``x`` is an npgrad Tensor."""
    return isinstance(x, Tensor)


def shape(x):
    """The shape of ``x`` as a tuple (``None`` for unknown sizes of symbolic tensors)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x):
    """The dtype name of ``x``, e.g. ``"float32"``."""
    return standardize_dtype(getattr(x, "dtype", None) or raw(x).dtype).name


@keras_op
def cast(x, dtype):
    """``x`` converted to ``dtype``; float -> float casts are differentiable, others constant."""
    dtype = standardize_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype == dtype:
        return x
    if x.dtype.kind == "f" and dtype.kind == "f":
        return elementwise.cast(x, dtype)
    return wrap(x.data.astype(dtype))


@keras_op
def saturate_cast(x, dtype):
    """Cast after clipping ``x`` to the range of ``dtype`` (no wrap-around for integers)."""
    dtype = standardize_dtype(dtype)
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    data = raw(x)
    return wrap(np.clip(data, info.min, info.max).astype(dtype))


@keras_op
def stop_gradient(x):
    """``x`` cut from the graph: the same values, no gradient flows back."""
    return Tensor(raw(x))


@keras_op
def slice(inputs, start_indices, shape):  # noqa: A001 - Keras's name
    """The block of ``shape`` starting at ``start_indices`` (differentiable)."""
    index = tuple(builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape))
    return shape_ops.getitem(inputs, index)


@keras_op
def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (a new tensor;
    differentiable in both)."""
    full = raw(inputs).shape
    update_shape = raw(updates).shape
    width = [(int(s), n - int(s) - u) for s, n, u in zip(start_indices, full, update_shape)]
    inside = np.zeros(full, dtype=bool)
    inside[tuple(builtins.slice(a, a + u) for (a, _), u in zip(width, update_shape))] = True
    padded = shape_ops.pad(updates, width)
    return elementwise.where(inside, padded, inputs)


@keras_op
def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (an (N, rank) or (N,)
    integer array; duplicates add up); differentiable in ``values``."""
    indices = np.asarray(raw(indices), dtype=np.intp)
    if indices.ndim == 1:
        indices = indices[:, None]
    return math_ops.scatter_add(values, tuple(indices.T), shape)


@keras_op
def scatter_update(inputs, indices, updates):
    """``inputs`` with the entries (or slices) at ``indices`` ((N, k) integers) replaced by
    ``updates``; differentiable in both."""
    indices = np.asarray(raw(indices), dtype=np.intp)
    if indices.ndim == 1:
        indices = indices[:, None]
    where = tuple(indices.T)
    full = raw(inputs).shape
    hit = np.zeros(full, dtype=bool)
    hit[where] = True
    return elementwise.where(hit, math_ops.scatter_add(updates, where, full), inputs)


@keras_op
def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list of tensors."""
    n = raw(x).shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: num={num} but axis {axis} has length {n}")
    return [shape_ops.getitem(x, (builtins.slice(None),) * (axis % raw(x).ndim) + (i,))
            for i in range(n)]


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (evaluated eagerly)."""
    return true_fn() if bool(raw(pred)) else false_fn()


def switch(index, branches, *operands):
    """Call the branch at ``index`` (clipped into range, as Keras) with ``operands``."""
    i = int(np.clip(int(raw(index)), 0, len(branches) - 1))
    return branches[i](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i in ``range(lower, upper)``; returns the last ``val``."""
    value = init_val
    for i in range(int(raw(lower)), int(raw(upper))):
        value = body_fun(i, value)
    return value


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds.

    ``loop_vars`` is a tuple/list (unpacked into the calls) or a single value.
    """
    single = not isinstance(loop_vars, (list, tuple))
    values = (loop_vars,) if single else tuple(loop_vars)
    count = 0
    while bool(raw(cond(*values))) and (maximum_iterations is None or count < maximum_iterations):
        out = body(*values)
        values = (out,) if single else tuple(out)
        count += 1
    return values[0] if single else type(loop_vars)(values)


def map(f, xs):  # noqa: A001 - Keras's name
    """``stack([f(x) for x in xs])`` over the first axis of ``xs``."""
    return shape_ops.stack([f(x) for x in _rows(xs)], axis=0)


def vectorized_map(function, elements):
    """Same as :func:`map` (npgrad runs it as a loop)."""
    return map(function, elements)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the first axis of ``xs``, as ``jax.lax.scan``.

    Returns:
        ``(final carry, stacked ys)`` (ys None when ``f`` returns None for them).
    """
    items = list(_rows(xs)) if xs is not None else [None] * int(length)
    if reverse:
        items = items[::-1]
    carry, ys = init, []
    for x in items:
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys = ys[::-1]
    if not ys or ys[0] is None:
        return carry, None
    return carry, shape_ops.stack(ys, axis=0)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with an associative ``f(a, b)`` along ``axis`` (run sequentially)."""
    n = raw(elems).shape[axis]
    index = lambda i: (builtins.slice(None),) * (axis % raw(elems).ndim) + (i,)  # noqa: E731
    order = range(n - 1, -1, -1) if reverse else range(n)
    out, acc = [None] * n, None
    for i in order:
        item = shape_ops.getitem(elems, index(i))
        acc = item if acc is None else (f(item, acc) if reverse else f(acc, item))
        out[i] = acc
    return shape_ops.stack(out, axis=axis)


def _rows(xs):
    if isinstance(xs, (list, tuple)):
        return xs
    return [shape_ops.getitem(xs, i) for i in range(raw(xs).shape[0])]


__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "dtype",
    "fori_loop", "is_tensor", "map", "saturate_cast", "scan", "scatter", "scatter_update",
    "shape", "slice", "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map",
    "while_loop",
]  # fmt: skip
