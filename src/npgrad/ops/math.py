"""Keras's ``ops.math`` functions: erf, logsumexp, top_k, segment reductions, FFTs...

Segment reductions and ``top_k`` are differentiable in their values; FFTs return constants
(npgrad has no complex autograd), as ``(real, imag)`` pairs like Keras.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from npgrad.primitives import elementwise, math as math_ops, matrix, reduce, shape as shape_ops
from npgrad.ops.elementwise import where
from npgrad.ops.shape import take_along_axis
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import float_dtype, raw, wrap


@keras_op
def erf(x):
    """The error function."""
    return math_ops.unary(x, "erf")


@keras_op
def erfc(x):
    """1 - erf(x), accurate for large x."""
    return math_ops.unary(x, "erfc")


@keras_op
def erfinv(x):
    """The inverse error function."""
    return math_ops.unary(x, "erfinv")


@keras_op
def rsqrt(x):
    """1 / sqrt(x)."""
    return math_ops.unary(x, "rsqrt")


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, computed stably (shifted by the maximum)."""
    shift = np.max(raw(x), axis=axis if not isinstance(axis, list) else tuple(axis), keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    total = reduce.sum(elementwise.exp(elementwise.subtract(x, shift)), axis=axis, keepdims=True)
    out = elementwise.add(elementwise.log(total), shift)
    if keepdims:
        return out
    return shape_ops.squeeze(out, axis) if axis is not None else shape_ops.reshape(out, ())


@keras_op
def top_k(x, k, sorted=True):  # noqa: A002 - Keras's name
    """The ``k`` largest values along the last axis and their int32 indices.

    Returns:
        ``(values, indices)``; values are differentiable. Ties keep the lower index first.
    """
    data = raw(x)
    order = np.argsort(-data, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, order, axis=-1), wrap(order.astype("int32"))


@keras_op
def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` largest predictions of its row (ties
    count as inside, as Keras)."""
    predictions = raw(predictions)
    target = np.asarray(raw(targets)).astype(np.intp)
    score = np.take_along_axis(predictions, target[:, None], axis=-1)
    better = (predictions > score).sum(axis=-1)
    return wrap(better < k)


def _segments(data, segment_ids, num_segments, reducer_name):
    ids = np.asarray(raw(segment_ids)).astype(np.intp)
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    return ids, int(num_segments)


@keras_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Sum the rows of ``data`` that share a segment id (missing segments give 0)."""
    ids, n = _segments(data, segment_ids, num_segments, "segment_sum")
    shape = (n,) + raw(data).shape[1:]
    keep = ids < n
    if not keep.all():
        data, ids = shape_ops.getitem(data, keep), ids[keep]
    return math_ops.scatter_add(data, (ids,), shape)


@keras_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Maximum of the rows that share a segment id (empty segments give the dtype's lowest)."""
    ids, n = _segments(data, segment_ids, num_segments, "segment_max")
    return _segment_extreme(data, ids, n, np.maximum, -np.inf)


@keras_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Minimum of the rows that share a segment id."""
    ids, n = _segments(data, segment_ids, num_segments, "segment_min")
    return _segment_extreme(data, ids, n, np.minimum, np.inf)


def _segment_extreme(data, ids, n, ufunc, fill):
    values = raw(data)
    out = np.full((n,) + values.shape[1:], fill, dtype=values.dtype if values.dtype.kind == "f"
                  else np.float64)
    ufunc.at(out, ids, values)
    if values.dtype.kind != "f":
        return wrap(out.astype(values.dtype))
    # the gradient goes to the rows that attain their segment's extreme
    winners = values == out[ids]
    counts = np.zeros(out.shape, dtype=values.dtype)
    np.add.at(counts, ids, winners)
    share = winners / np.maximum(counts[ids], 1)
    picked = math_ops.scatter_add(elementwise.multiply(data, share.astype(values.dtype)), (ids,),
                                  out.shape)
    empty = counts == 0
    return where(empty, out, picked) if empty.any() else picked


@keras_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Product of the rows that share a segment id (empty segments give 1)."""
    ids, n = _segments(data, segment_ids, num_segments, "segment_prod")
    log_magnitude = segment_sum(elementwise.log(elementwise.abs(data)), ids, n)
    negatives = np.zeros((n,) + raw(data).shape[1:])
    np.add.at(negatives, ids, raw(data) < 0)
    sign = np.where(negatives % 2, -1.0, 1.0).astype(raw(data).dtype)
    return elementwise.multiply(elementwise.exp(log_magnitude), sign)


@keras_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Overlapping frames of the last axis: (..., T) -> (..., frames, sequence_length)."""
    length = raw(x).shape[-1]
    frames = 1 + (length - sequence_length) // sequence_stride
    index = (np.arange(frames)[:, None] * sequence_stride + np.arange(sequence_length)[None, :])
    return shape_ops.getitem(x, (Ellipsis, index))


def _complex(x):
    if isinstance(x, (tuple, list)):
        return raw(x[0]) + 1j * raw(x[1])
    return raw(x)


def _pair(z, dtype):
    return wrap(z.real.astype(dtype)), wrap(z.imag.astype(dtype))


def fft(x):
    """FFT over the last axis of a ``(real, imag)`` pair; returns a ``(real, imag)`` pair."""
    return _pair(np.fft.fft(_complex(x)), float_dtype(raw(x[0]).dtype))


def fft2(x):
    """2-D FFT over the last two axes of a ``(real, imag)`` pair."""
    return _pair(np.fft.fft2(_complex(x)), float_dtype(raw(x[0]).dtype))


def ifft2(x):
    """Inverse 2-D FFT of a ``(real, imag)`` pair."""
    return _pair(np.fft.ifft2(_complex(x)), float_dtype(raw(x[0]).dtype))


def rfft(x, fft_length=None):
    """FFT of a real signal over the last axis; a ``(real, imag)`` pair."""
    return _pair(np.fft.rfft(raw(x), n=fft_length), float_dtype(raw(x).dtype))


def irfft(x, fft_length=None):
    """Inverse of :func:`rfft` from a ``(real, imag)`` pair."""
    return wrap(np.fft.irfft(_complex(x), n=fft_length).astype(float_dtype(raw(x[0]).dtype)))


@keras_op
def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of ``x1`` (..., M, D) and ``x2`` (..., N, D)."""
    diff = elementwise.subtract(shape_ops.expand_dims(x1, -2), shape_ops.expand_dims(x2, -3))
    if p == 2:
        return elementwise.sqrt(reduce.sum(elementwise.square(diff), axis=-1))
    if p == 1:
        return reduce.sum(elementwise.abs(diff), axis=-1)
    return elementwise.power(reduce.sum(elementwise.power(elementwise.abs(diff), p), axis=-1),
                             1.0 / p)


@keras_op
def gammainc(a, x):
    """Regularized lower incomplete gamma function (a constant)."""
    return wrap(special.gammainc(raw(a), raw(x)).astype(float_dtype(raw(x).dtype if
                                                                    raw(x).dtype.kind == "f" else None)))


@keras_op
def logdet(x):
    """log(det(x)) of symmetric positive-definite matrices (differentiable)."""
    return elementwise.log(matrix.det(x))


__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "gammainc", "ifft2",
    "in_top_k", "irfft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min",
    "segment_prod", "segment_sum", "top_k",
]  # fmt: skip
