"""Reductions and orderings, as ``keras.ops`` (NumPy names): sum, mean, max, sort, quantile...

Sums, means, extrema, products, variances, sorts and quantiles of floats are differentiable
(sorting moves the gradient with the values); index results (argmax, argsort) are int32
constants.
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import elementwise, math as math_ops, reduce, shape as shape_ops
from npgrad.ops.elementwise import where
from npgrad.ops.shape import take_along_axis
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import float_dtype, normalize_axes, raw, wrap


def _is_float(x):
    return raw(x).dtype.kind == "f"


def _integer_sum_dtype(dtype):
    """Keras's dtype of an integer or boolean sum: its own from 32 bits up, else int32
    (NumPy would give int64 for all)."""
    return dtype if dtype.kind in "iu" and dtype.itemsize >= 4 else np.dtype(np.int32)


@keras_op
def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Sum over ``axis`` (int, tuple or None for all); integers and booleans sum in
    int32 (int64 and the 32- and 64-bit unsigned types in their own), as Keras."""
    if not _is_float(x):
        data = raw(x)
        return wrap(np.sum(data, axis=_axis(axis), keepdims=keepdims,
                           dtype=_integer_sum_dtype(data.dtype)))
    return reduce.sum(x, axis=axis, keepdims=keepdims)


@keras_op
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (integers give floats)."""
    return reduce.mean(x, axis=axis, keepdims=keepdims)


@keras_op
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - NumPy's name
    """Maximum over ``axis`` (tied maxima share the gradient); ``initial`` is a lower bound."""
    if not _is_float(x):
        return wrap(np.max(raw(x), axis=_axis(axis), keepdims=keepdims, initial=initial))
    out = reduce.max(x, axis=axis, keepdims=keepdims)
    return out if initial is None else elementwise.maximum(out, initial)


@keras_op
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - NumPy's name
    """Minimum over ``axis`` (tied minima share the gradient); ``initial`` is an upper bound."""
    if not _is_float(x):
        return wrap(np.min(raw(x), axis=_axis(axis), keepdims=keepdims, initial=initial))
    out = reduce.min(x, axis=axis, keepdims=keepdims)
    return out if initial is None else elementwise.minimum(out, initial)


@keras_op
def amax(x, axis=None, keepdims=False):
    """Same as :func:`max`."""
    return max(x, axis=axis, keepdims=keepdims)


@keras_op
def amin(x, axis=None, keepdims=False):
    """Same as :func:`min`."""
    return min(x, axis=axis, keepdims=keepdims)


@keras_op
def ptp(x, axis=None, keepdims=False):
    """Range ``max - min`` over ``axis``."""
    return elementwise.subtract(max(x, axis, keepdims), min(x, axis, keepdims))


@keras_op
def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis`` (exact gradient at zeros)."""
    if not _is_float(x):
        return wrap(np.prod(raw(x), axis=_axis(axis), keepdims=keepdims, dtype=dtype))
    return math_ops.prod(x, axis=axis, keepdims=keepdims)


@keras_op
def var(x, axis=None, keepdims=False):
    """Variance over ``axis`` (population variance, ddof 0, as Keras)."""
    return reduce.var(x, axis=axis, keepdims=keepdims)


@keras_op
def std(x, axis=None, keepdims=False):
    """Standard deviation over ``axis`` (ddof 0)."""
    return reduce.std(x, axis=axis, keepdims=keepdims)


@keras_op
def average(x, axis=None, weights=None):
    """Weighted mean over ``axis`` (``weights`` 1-D along ``axis`` or of ``x``'s shape)."""
    if weights is None:
        return mean(x, axis=axis)
    w = weights
    if axis is not None and raw(w).ndim == 1 and raw(x).ndim > 1:
        shape = [1] * raw(x).ndim
        shape[axis] = -1
        w = shape_ops.reshape(w, shape)
    total = reduce.sum(elementwise.multiply(x, w), axis=axis)
    weight = reduce.sum(elementwise.multiply(w, np.ones_like(raw(x), dtype=float_dtype())), axis=axis)
    return elementwise.divide(total, weight)


@keras_op
def cumsum(x, axis=None, dtype=None):
    """Running sum along ``axis`` (flattened when None)."""
    if not _is_float(x):
        return wrap(np.cumsum(raw(x), axis=axis, dtype=dtype))
    return math_ops.cumsum(x, axis=None if axis is None else axis % raw(x).ndim)


@keras_op
def cumprod(x, axis=None, dtype=None):
    """Running product along ``axis`` (flattened when None)."""
    if not _is_float(x):
        return wrap(np.cumprod(raw(x), axis=axis, dtype=dtype))
    return math_ops.cumprod(x, axis=None if axis is None else axis % raw(x).ndim)


@keras_op
def all(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether every element along ``axis`` is true."""
    return wrap(np.all(raw(x), axis=_axis(axis), keepdims=keepdims))


@keras_op
def any(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether any element along ``axis`` is true."""
    return wrap(np.any(raw(x), axis=_axis(axis), keepdims=keepdims))


@keras_op
def count_nonzero(x, axis=None):
    """Number of nonzero elements along ``axis`` (int32)."""
    return wrap(np.asarray(np.count_nonzero(raw(x), axis=_axis(axis))).astype("int32"))


@keras_op
def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along ``axis`` (of the flattened array when None), int32."""
    return wrap(np.argmax(raw(x), axis=axis, keepdims=keepdims).astype("int32"))


@keras_op
def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along ``axis``, int32."""
    return wrap(np.argmin(raw(x), axis=axis, keepdims=keepdims).astype("int32"))


@keras_op
def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (stable), int32."""
    data = raw(x)
    if axis is None:
        data, axis = data.reshape(-1), 0
    return wrap(np.argsort(data, axis=axis, kind="stable").astype("int32"))


@keras_op
def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` around its ``kth`` element, int32."""
    return wrap(np.argpartition(raw(x), kth, axis=axis).astype("int32"))


@keras_op
def sort(x, axis=-1):
    """``x`` sorted along ``axis``; the gradient follows each value to where it came from."""
    if not _is_float(x):
        return wrap(np.sort(raw(x), axis=axis))
    if axis is None:
        x, axis = shape_ops.reshape(x, (-1,)), 0
    order = np.argsort(raw(x), axis=axis, kind="stable")
    return take_along_axis(x, order, axis=axis)


@keras_op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (q in [0, 1], a number or a 1-D list) along ``axis``, with
    linear interpolation between the sorted values (differentiable)."""
    if method != "linear":
        out = np.quantile(raw(x), raw(q), axis=_axis(axis), method=method, keepdims=keepdims)
        return wrap(out)
    data = raw(x)
    axes = normalize_axes(axis, data.ndim)
    if axes is None:
        x, axis = shape_ops.reshape(x, (-1,)), 0
    elif len(axes) > 1:  # move the reduced axes to the end and merge them
        keep = [a for a in range(data.ndim) if a not in axes]
        x = shape_ops.transpose(x, keep + list(axes))
        x = shape_ops.reshape(x, [data.shape[a] for a in keep] + [-1])
        axis = -1
    else:
        axis = axes[0]
    ordered = sort(x, axis=axis)
    n = raw(ordered).shape[axis]
    qs = np.atleast_1d(np.asarray(raw(q), dtype=np.float64))
    position = qs * (n - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n - 1)
    frac = (position - low).astype(raw(ordered).dtype)
    lower = shape_ops.getitem(ordered, _along(axis, low, raw(ordered).ndim))
    upper = shape_ops.getitem(ordered, _along(axis, high, raw(ordered).ndim))
    shape = [1] * raw(lower).ndim
    shape[axis % raw(lower).ndim] = -1
    frac = frac.reshape(shape)
    out = elementwise.add(lower, elementwise.multiply(elementwise.subtract(upper, lower), frac))
    out = shape_ops.transpose(out, _front(axis % raw(out).ndim, raw(out).ndim))  # q first
    if keepdims:
        for a in (range(data.ndim) if axes is None else axes):
            out = shape_ops.expand_dims(out, a + 1)
    return out if np.ndim(raw(q)) else shape_ops.getitem(out, 0)


@keras_op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (q in [0, 100]) along ``axis``; see :func:`quantile`."""
    return quantile(x, np.asarray(raw(q), dtype=np.float64) / 100, axis, method, keepdims)


@keras_op
def median(x, axis=None, keepdims=False):
    """Median along ``axis`` (the mean of the two middle values for an even count)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def _along(axis, index, ndim):
    return (slice(None),) * (axis % ndim) + (index,)


def _front(axis, ndim):
    return [axis] + [a for a in range(ndim) if a != axis]


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _nan_variant(name, reducer, fill):
    def op(x, axis=None, keepdims=False):
        data = raw(x)
        nan = np.isnan(data)
        clean = where(nan, np.asarray(fill, dtype=data.dtype), x) if nan.any() else x
        return reducer(clean, axis=axis, keepdims=keepdims)

    op.__name__ = op.__qualname__ = name
    op.__module__ = __name__
    op.__doc__ = f"{reducer.__name__} over ``axis`` treating NaNs as {fill} (NaNs get no gradient)."
    return keras_op(op)


nansum = _nan_variant("nansum", sum, 0.0)
nanprod = _nan_variant("nanprod", prod, 1.0)
nanmax = _nan_variant("nanmax", max, -np.inf)
nanmin = _nan_variant("nanmin", min, np.inf)


@keras_op
def nanmean(x, axis=None, keepdims=False):
    """Mean over ``axis`` ignoring NaNs."""
    valid = ~np.isnan(raw(x))
    total = nansum(x, axis=axis, keepdims=keepdims)
    return elementwise.divide(total, np.sum(valid, axis=_axis(axis), keepdims=keepdims))


@keras_op
def nanvar(x, axis=None, keepdims=False):
    """Variance over ``axis`` ignoring NaNs."""
    valid = ~np.isnan(raw(x))
    centered = elementwise.subtract(x, nanmean(x, axis=axis, keepdims=True))
    return nanmean(where(valid, elementwise.square(centered), np.nan), axis, keepdims)


@keras_op
def nanstd(x, axis=None, keepdims=False):
    """Standard deviation over ``axis`` ignoring NaNs."""
    return elementwise.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


@keras_op
def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum ignoring NaNs, int32."""
    return wrap(np.nanargmax(raw(x), axis=axis, keepdims=keepdims).astype("int32"))


@keras_op
def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum ignoring NaNs, int32."""
    return wrap(np.nanargmin(raw(x), axis=axis, keepdims=keepdims).astype("int32"))


@keras_op
def nancumsum(x, axis=None, dtype=None):
    """Running sum treating NaNs as 0."""
    nan = np.isnan(raw(x))
    return cumsum(where(nan, np.zeros((), raw(x).dtype), x) if nan.any() else x, axis, dtype)


@keras_op
def nancumprod(x, axis=None, dtype=None):
    """Running product treating NaNs as 1."""
    nan = np.isnan(raw(x))
    return cumprod(where(nan, np.ones((), raw(x).dtype), x) if nan.any() else x, axis, dtype)


@keras_op
def nanmedian(x, axis=None, keepdims=False):
    """Median ignoring NaNs (a constant)."""
    return wrap(np.nanmedian(raw(x), axis=_axis(axis), keepdims=keepdims))


@keras_op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """Quantiles ignoring NaNs (a constant)."""
    return wrap(np.nanquantile(raw(x), raw(q), axis=_axis(axis), method=method, keepdims=keepdims))


@keras_op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """Percentiles ignoring NaNs (a constant)."""
    return wrap(np.nanpercentile(raw(x), raw(q), axis=_axis(axis), method=method,
                                 keepdims=keepdims))


@keras_op
def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer in 1-D ``x`` (weighted sums with ``weights``)."""
    w = None if weights is None else raw(weights)
    out = np.bincount(raw(x), weights=w, minlength=minlength)
    return wrap(out.astype("int32") if w is None else out)


@keras_op
def histogram(x, bins=10, range=None):  # noqa: A002 - NumPy's name
    """``(counts, bin_edges)`` of 1-D ``x``."""
    counts, edges = np.histogram(raw(x), bins=bins, range=range)
    return wrap(counts.astype("int32")), wrap(edges.astype(float_dtype()))


@keras_op
def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None, size=None,
           fill_value=None):
    """The unique elements of ``x`` (sorted), optionally with inverse indices and counts."""
    result = np.unique(raw(x), return_inverse=return_inverse, return_counts=return_counts,
                       axis=axis)
    if isinstance(result, tuple):
        return tuple(wrap(r) for r in result)
    return wrap(result)


@keras_op
def digitize(x, bins):
    """Index of the bin each value falls in (as ``np.digitize``), int32."""
    return wrap(np.digitize(raw(x), raw(bins)).astype("int32"))


@keras_op
def searchsorted(sorted_sequence, values, side="left"):
    """Insertion indices of ``values`` into the sorted 1-D sequence, int32."""
    return wrap(np.searchsorted(raw(sorted_sequence), raw(values), side=side).astype("int32"))


__all__ = [
    "all", "amax", "amin", "any", "argmax", "argmin", "argpartition", "argsort", "average",
    "bincount", "count_nonzero", "cumprod", "cumsum", "digitize", "histogram", "max", "mean",
    "median", "min", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean",
    "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum",
    "nanvar", "percentile", "prod", "ptp", "quantile", "searchsorted", "sort", "std", "sum",
    "unique", "var",
]  # fmt: skip
