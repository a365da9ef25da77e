"""Argument and input-shape checks shared by the layers, with the messages users see.

Every layer raises the same kinds of errors: a ``ValueError`` naming the layer, what it
expected and the shape it got for an input it cannot take, and a ``TypeError`` or
``ValueError`` naming the argument for a bad constructor argument.
"""

from __future__ import annotations

import numpy as np

def incompatible(layer, expected, shape):
    """The ValueError every layer raises for an input it cannot take."""
    return ValueError(
        f"Input 0 of layer '{layer.name}' is incompatible: expected {expected}, "
        f"got shape {tuple(shape)}"
    )


def check_ndim(layer, shape, ndim, layout=""):
    """Raise unless ``shape`` has exactly ``ndim`` axes."""
    if len(shape) != ndim:
        where = f" {layout}" if layout else ""
        raise incompatible(layer, f"rank {ndim}{where}", shape)


def check_min_ndim(layer, shape, ndim):
    """Raise unless ``shape`` has at least ``ndim`` axes."""
    if len(shape) < ndim:
        raise incompatible(layer, f"rank >= {ndim}", shape)


def check_axis(layer, shape, axis, size, what="last axis"):
    """Raise unless ``shape[axis] == size`` (the feature size a built layer was built for)."""
    if shape[axis] != size:
        raise incompatible(layer, f"{what} {size}", shape)


def known_axis(layer, shape, axis, what="last axis"):
    """The size of ``shape[axis]``, which must be known (not None) to build weights."""
    size = shape[axis]
    if size is None:
        raise incompatible(layer, f"a known {what} (not None) to build the weights", shape)
    return int(size)


def int_tuple(value, n, layer_cls, arg, allow_zero=False):
    """Normalize an int or an n-tuple of ints to an n-tuple of positive (or >= 0) ints.

    Raises:
        TypeError: not an int or n ints.
        ValueError: a value is not positive (or negative, when ``allow_zero``).
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(
                f"{layer_cls}: argument `{arg}` must be an int or a tuple of {n} ints, got {value!r}"
            ) from None
        if len(values) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
        ):
            raise TypeError(
                f"{layer_cls}: argument `{arg}` must be an int or a tuple of {n} ints, got {value!r}"
            )
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer_cls}: argument `{arg}` must be {kind}, got {value!r}")
    return values


def positive_int(value, layer_cls, arg):
    """Check a positive int argument (units, filters, input_dim...)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer_cls}: argument `{arg}` must be a positive int, got {value!r}")
    return int(value)


#: Keras's older names of encoding output modes, which its layers still take
_OUTPUT_MODE_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


def output_mode(value):
    """An ``output_mode`` under its current name: Keras's older 'binary' is 'multi_hot' and
    'tf-idf' is 'tf_idf' (the layer stores, and its config holds, the new name)."""
    return _OUTPUT_MODE_ALIASES.get(value, value) if isinstance(value, str) else value


def padding_arg(padding, layer_cls, allowed=("valid", "same")):
    """Lower-case a padding string and check it is allowed."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(
            f"{layer_cls}: argument `padding` must be one of {list(allowed)}, got {padding!r}"
        )
    return mode


def check_data_format(data_format, layer_cls):
    """npgrad is channels-last only (Keras's default)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"{layer_cls}: only data_format='channels_last' is supported, got {data_format!r}"
        )


def conv_output_length(length, window, stride, padding, dilation=1):
    """Output length of a strided window: 'valid' floors, 'same'/'causal' give ceil(L / s)."""
    if length is None:
        return None
    span = (window - 1) * dilation + 1
    if padding in ("same", "causal"):
        return -(-length // stride)
    return (length - span) // stride + 1 if length >= span else 0


def transpose_output_length(length, window, stride, padding, output_padding=None, dilation=1):
    """Output length of a transposed convolution (Keras's ``deconv_output_length``).

    None (an unknown length) stays None; without ``output_padding``, 'valid' gives
    ``L * s + max(span - s, 0)`` and 'same' ``L * s``.
    """
    if length is None:
        return None
    span = (window - 1) * dilation + 1
    if output_padding is None:
        return length * stride + max(span - stride, 0) if padding == "valid" else length * stride
    pad = span // 2 if padding == "same" else 0
    return (length - 1) * stride + span - 2 * pad + output_padding
