"""Sliding-window geometry of any rank, shared by the N-d convolutions and poolings.

Arrays are channels last: (N, *spatial, C). A window of ``K`` taps is visited one *tap* at a
time: for tap offset ``k`` (a tuple, one index per spatial axis), :func:`tap_index` is a
strided view that holds that tap of every window at once, so loops run over the ``prod(K)``
taps, never over pixels. ``'same'`` padding follows TensorFlow (and Keras): the output has
``ceil(size / stride)`` positions and the total padding is split ``total // 2`` before and
the rest after.
"""

from __future__ import annotations

import itertools

import numpy as np

from npgrad.primitives import parallel as _parallel


def int_tuple(value, n, name, op, allow_zero=False):
    """Normalize an int or an ``n``-sequence of ints to a tuple of positive ints.

    Args:
        value: the argument as given.
        n: the rank (number of spatial axes).
        name, op: the argument's and the op's name, for the error message.
        allow_zero: accept 0 (output_padding).

    Returns:
        tuple of ``n`` ints.

    Raises:
        TypeError: not an int or ``n`` ints.
        ValueError: an entry is not positive (negative, with ``allow_zero``).
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, "
                            f"got {value!r}") from None
        if len(values) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
        ):
            raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return values


def padding_mode(padding, op, allowed=("valid", "same")):
    """Lower-case the padding string and check it is one of ``allowed``."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"{op}: padding must be one of {list(allowed)}, got {padding!r}")
    return mode


def window_geometry(size, window, stride, padding, op, axis_name):
    """Output length and (before, after) padding of a strided window along one axis.

    Args:
        size: input length.
        window: effective window length (a dilated kernel's span ``(k - 1) * d + 1``).
        stride: step between windows.
        padding: 'valid' (no padding, floor) or 'same' (TensorFlow rule).
        op, axis_name: for the error message.

    Returns:
        (out, (before, after)).

    Raises:
        ValueError: the window does not fit (output length would be < 1).
    """
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + window - size, 0)
        pads = (total // 2, total - total // 2)
    else:
        out = (size - window) // stride + 1 if size >= window else 0
        pads = (0, 0)
    if out <= 0:
        raise ValueError(
            f"{op}: window of effective size {window} is larger than the {padding}-padded input "
            f"{axis_name} {size} (output size would be {out}); use a smaller kernel/pool or "
            f"padding='same'"
        )
    return out, pads


def spatial_geometry(shape, windows, strides, padding, op):
    """:func:`window_geometry` over every spatial axis of a (N, *S, C) shape.

    Returns:
        (out_sizes, pads): tuples with one entry per spatial axis.
    """
    names = ("length",) if len(windows) == 1 else ("depth", "height", "width")[-len(windows):]
    geometry = [
        window_geometry(size, k, s, padding, op, axis)
        for size, k, s, axis in zip(shape[1:-1], windows, strides, names)
    ]
    return tuple(g[0] for g in geometry), tuple(g[1] for g in geometry)


def pad_spatial(x, pads, value=0.0):
    """Pad the spatial axes of an (N, *S, C) array; no copy when there is nothing to pad."""
    if all(p == (0, 0) for p in pads):
        return x
    sizes = tuple(size + before + after for size, (before, after) in zip(x.shape[1:-1], pads))
    out = np.empty(x.shape[:1] + sizes + x.shape[-1:], dtype=x.dtype)
    inner = []
    for axis, ((before, after), size) in enumerate(zip(pads, x.shape[1:-1]), start=1):
        lead = (slice(None),) * axis  # the border slabs of this axis, every other axis whole
        out[lead + (slice(0, before),)] = value
        out[lead + (slice(before + size, None),)] = value
        inner.append(slice(before, before + size))
    # the interior: np.pad's one copy, shared between threads (parallel.py)
    _parallel.copy_rows(out[(slice(None),) + tuple(inner)], x)
    return out


def crop_spatial(xp, pads):
    """Remove spatial padding (a view): the inverse of :func:`pad_spatial`."""
    index = tuple(slice(before, size - after)
                  for (before, after), size in zip(pads, xp.shape[1:-1]))
    return xp[(slice(None),) + index]


def taps(kernel_size):
    """Every tap offset of a window, in row-major order (the order of ``kernel.reshape``)."""
    return list(itertools.product(*(range(k) for k in kernel_size)))


def tap_index(offset, out_sizes, strides, dilation):
    """Index of tap ``offset`` in every window: a strided (N, *O, C) view of the padded input."""
    return (slice(None),) + tuple(
        slice(k * d, k * d + (o - 1) * s + 1, s)
        for k, o, s, d in zip(offset, out_sizes, strides, dilation)
    )


def transpose_output_length(size, kernel, stride, padding, output_padding, dilation):
    """Keras's ``deconv_output_length``: the output length of a transposed convolution.

    None (an unknown length) stays None.
    """
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        return size * stride + max(span - stride, 0) if padding == "valid" else size * stride
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


def data_shape(x):
    """The shape of a Tensor or array, without touching its data."""
    return tuple(np.shape(getattr(x, "data", x)))
