"""Cropping1D/2D/3D, ZeroPadding1D/3D and UpSampling1D/3D: channels-last spatial reshaping.

The 2-D padding and upsampling layers live in ``reshaping.py``; these complete the family
with Keras 3's arguments. All compose differentiable ops (slicing, padding, broadcasting).

Example:
    >>> Cropping2D(((1, 1), (2, 0)))(np.zeros((4, 8, 8, 3))).shape
    (4, 6, 6, 3)
    >>> UpSampling1D(3)(np.zeros((2, 5, 4))).shape
    (2, 15, 4)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _pairs(value, n, layer_cls, arg):
    """An int (all sides), n ints (symmetric per axis) or n pairs -> n (before, after) pairs."""
    if _is_int(value):
        (v,) = arguments.int_tuple(value, 1, layer_cls, arg, allow_zero=True)
        return ((v, v),) * n
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) == n and all(_is_int(v) for v in items):
        values = arguments.int_tuple(items, n, layer_cls, arg, allow_zero=True)
        return tuple((v, v) for v in values)
    if len(items) == n:
        return tuple(arguments.int_tuple(p, 2, layer_cls, arg, allow_zero=True) for p in items)
    spelled = "(before, after)" if n == 1 else f"{n} ints or {n} (before, after) pairs"
    raise ValueError(f"{layer_cls}: argument `{arg}` must be an int, {spelled}, got {value!r}")


def _layout(rank):
    names = {3: "(batch, steps, channels)", 4: "(batch, height, width, channels)",
             5: "(batch, depth, height, width, channels)"}
    return names[rank]


class _Spatial(Layer):
    """Shared: a fixed input rank (N, spatial..., C) and per-axis pairs."""

    _rank = None

    def _check(self, shape):
        arguments.check_ndim(self, shape, self._rank, _layout(self._rank))

    def build(self, input_shape):
        self._check(input_shape)
        self.compute_output_shape(input_shape)


# ------------------------------------------------------------------ cropping


class _Cropping(_Spatial):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        arguments.check_data_format(data_format, name)
        self.cropping = _pairs(cropping, self._rank - 2, name, "cropping")

    def call(self, x, training=False):
        self._check(x.shape)
        self.compute_output_shape(x.shape)
        index = (slice(None),) + tuple(slice(before, size - after)
                                       for (before, after), size in zip(self.cropping, x.shape[1:-1]))
        return F.getitem(x, index + (slice(None),))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        out = [input_shape[0]]
        for (before, after), size in zip(self.cropping, input_shape[1:-1]):
            if size is not None and size - before - after <= 0:
                raise arguments.incompatible(
                    self, f"spatial sizes larger than the cropping {self.cropping}", input_shape)
            out.append(None if size is None else size - before - after)
        return tuple(out) + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = tuple(tuple(p) for p in self.cropping)
        return config


class Cropping1D(_Cropping):
    """Crop steps from the start and end of (N, T, C) sequences.

    Args:
        cropping: int (both ends) or (start, end) (default (1, 1)).

    Shapes: (N, T, C) -> (N, T - start - end, C).
    """

    _rank = 3

    def __init__(self, cropping=(1, 1), **kwargs):
        if _is_int(cropping) or (isinstance(cropping, (tuple, list)) and len(cropping) == 2
                                 and all(_is_int(c) for c in cropping)):
            start, end = arguments.int_tuple(cropping, 2, "Cropping1D", "cropping", allow_zero=True)
            cropping = ((start, end),)
        super().__init__(cropping, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = tuple(self.cropping[0])
        return config


class Cropping2D(_Cropping):
    """Crop rows and columns from the borders of NHWC images.

    Args:
        cropping: int (all sides), (rows, cols) (symmetric) or ((top, bottom), (left, right))
            (default no cropping).
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> (N, H - top - bottom, W - left - right, C).
    """

    _rank = 4

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crop the borders of (N, D, H, W, C) volumes.

    Args:
        cropping: int, 3 ints (symmetric) or 3 (before, after) pairs (default 1 everywhere).
        data_format: None or 'channels_last'.

    Shapes: (N, D, H, W, C) -> each spatial size minus its two croppings.
    """

    _rank = 5

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# ------------------------------------------------------------------ zero padding


class _ZeroPadding(_Spatial):
    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        arguments.check_data_format(data_format, name)
        self.padding = _pairs(padding, self._rank - 2, name, "padding")

    def call(self, x, training=False):
        self._check(x.shape)
        return F.pad(x, ((0, 0),) + tuple(self.padding) + ((0, 0),))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(None if size is None else size + before + after
                        for (before, after), size in zip(self.padding, input_shape[1:-1]))
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config["padding"] = tuple(tuple(p) for p in self.padding)
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pad (N, T, C) sequences with zero steps at the start and end.

    Args:
        padding: int (both ends) or (start, end) (default 1).
        data_format: None or 'channels_last'.

    Shapes: (N, T, C) -> (N, T + start + end, C).
    """

    _rank = 3

    def __init__(self, padding=1, data_format=None, **kwargs):
        if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(_is_int(p) for p in padding):
            padding = (tuple(padding),)
        super().__init__(padding, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = tuple(self.padding[0])
        return config


class ZeroPadding3D(_ZeroPadding):
    """Pad (N, D, H, W, C) volumes with zeros.

    Args:
        padding: int, 3 ints (symmetric) or 3 (before, after) pairs (default 1 everywhere).
        data_format: None or 'channels_last'.

    Shapes: (N, D, H, W, C) -> each spatial size plus its two paddings.
    """

    _rank = 5

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


# ------------------------------------------------------------------ upsampling


def _repeat(x, sizes):
    """Repeat every element ``sizes[i]`` times along spatial axis i + 1 (nearest upsampling).

    Each axis goes (..., L, ...) -> (..., L, 1, ...) -> broadcast (..., L, s, ...) -> reshape
    (..., L * s, ...); the broadcast's backward sums the copies, the upsampling's gradient.
    """
    for axis, size in enumerate(sizes, start=1):
        if size == 1:
            continue
        shape = x.shape
        expanded = F.expand_dims(x, axis + 1)
        target = shape[:axis + 1] + (size,) + shape[axis + 1:]
        x = F.reshape(F.broadcast_to(expanded, target),
                      shape[:axis] + (shape[axis] * size,) + shape[axis + 1:])
    return x


class UpSampling1D(_Spatial):
    """Repeat each step of (N, T, C) sequences ``size`` times.

    Args:
        size: positive int (default 2).

    Shapes: (N, T, C) -> (N, T * size, C).
    """

    _rank = 3

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        (self.size,) = arguments.int_tuple(size, 1, "UpSampling1D", "size")

    def call(self, x, training=False):
        self._check(x.shape)
        return _repeat(x, (self.size,))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        n, t, c = input_shape
        return (n, None if t is None else t * self.size, c)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling3D(_Spatial):
    """Nearest-neighbour upsampling of (N, D, H, W, C) volumes.

    Args:
        size: int or 3 positive ints (default (2, 2, 2)).
        data_format: None or 'channels_last'.

    Shapes: (N, D, H, W, C) -> (N, D * s1, H * s2, W * s3, C).
    """

    _rank = 5

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "UpSampling3D")
        self.size = arguments.int_tuple(size, 3, "UpSampling3D", "size")

    def call(self, x, training=False):
        self._check(x.shape)
        return _repeat(x, self.size)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(None if d is None else d * s for d, s in zip(input_shape[1:4], self.size))
        return (input_shape[0],) + spatial + (input_shape[4],)

    def get_config(self):
        config = super().get_config()
        config["size"] = tuple(self.size)
        return config


__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding3D",
           "UpSampling1D", "UpSampling3D"]
