"""Reshaping layers: Flatten, Reshape, ZeroPadding2D, UpSampling2D.

Example:
    >>> Flatten()(np.zeros((8, 5, 5, 64))).shape
    (8, 1600)
"""

from __future__ import annotations

import math

import numpy as np

import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


def _product(dims):
    """Product of dims, or None when one is unknown."""
    return None if any(d is None for d in dims) else int(math.prod(dims))


class Flatten(Layer):
    """Flatten every axis but the batch axis.

    Args:
        data_format: None or 'channels_last'.

    Shapes: (N, d1, d2, ...) -> (N, d1 * d2 * ...); (N,) -> (N, 1).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "Flatten")

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)

    def call(self, x, training=False):
        arguments.check_min_ndim(self, x.shape, 1)
        return F.flatten(x)

    def compute_output_shape(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        return (input_shape[0], _product(input_shape[1:]))


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (the batch axis is kept).

    Args:
        target_shape: tuple of ints, the shape of one sample; one entry may be -1 (inferred).

    Shapes: (N, ...) -> (N,) + target_shape.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)):
            target_shape = (target_shape,)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise TypeError(
                f"Reshape: argument `target_shape` must be a tuple of ints, got {target_shape!r}"
            ) from None
        if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(
                "Reshape: argument `target_shape` must hold positive ints and at most one -1, "
                f"got {target_shape!r}"
            )
        self.target_shape = target

    def _resolve(self, input_shape):
        """target_shape with the -1 filled in; raises when the sizes cannot match."""
        size = _product(input_shape[1:])
        known = int(math.prod(d for d in self.target_shape if d != -1))
        if size is None:
            if -1 in self.target_shape:
                return tuple(None if d == -1 else d for d in self.target_shape)
            return self.target_shape
        if -1 in self.target_shape:
            if size % known:
                raise arguments.incompatible(
                    self, f"a sample size divisible by {known} (target_shape {self.target_shape})",
                    input_shape)
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if size != known:
            raise arguments.incompatible(
                self, f"a sample of {known} elements (target_shape {self.target_shape})",
                input_shape)
        return self.target_shape

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        self._resolve(input_shape)

    def call(self, x, training=False):
        return F.reshape(x, (x.shape[0],) + self._resolve(x.shape))

    def compute_output_shape(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = tuple(self.target_shape)
        return config


class ZeroPadding2D(Layer):
    """Pad the height and width of NHWC images with zeros.

    Args:
        padding: int (all sides), (pad_h, pad_w) (symmetric), or
            ((top, bottom), (left, right)).
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> (N, H + top + bottom, W + left + right, C).
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "ZeroPadding2D")
        if isinstance(padding, (int, np.integer)) or (
            isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, (int, np.integer)) for p in padding)
        ):
            h, w = arguments.int_tuple(padding, 2, "ZeroPadding2D", "padding", allow_zero=True)
            self.padding = ((h, h), (w, w))
        else:
            try:
                pairs = tuple(tuple(p) for p in padding)
            except TypeError:
                pairs = ()
            if len(pairs) != 2:
                raise ValueError(
                    "ZeroPadding2D: argument `padding` must be an int, (pad_h, pad_w) or "
                    f"((top, bottom), (left, right)), got {padding!r}"
                )
            self.padding = tuple(
                arguments.int_tuple(p, 2, "ZeroPadding2D", "padding", allow_zero=True) for p in pairs
            )

    def build(self, input_shape):
        arguments.check_ndim(self, input_shape, 4, "(batch, height, width, channels)")

    def call(self, x, training=False):
        arguments.check_ndim(self, x.shape, 4, "(batch, height, width, channels)")
        return F.zero_padding2d(x, self.padding)

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 4, "(batch, height, width, channels)")
        (top, bottom), (left, right) = self.padding
        n, h, w, c = input_shape
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def get_config(self):
        config = super().get_config()
        config["padding"] = tuple(tuple(p) for p in self.padding)
        return config


class UpSampling2D(Layer):
    """Nearest-neighbour upsampling of NHWC images: repeat rows ``sh`` and columns ``sw`` times.

    Args:
        size: int or (sh, sw) (default (2, 2)).
        data_format: None or 'channels_last'.
        interpolation: only 'nearest' is supported.

    Shapes: (N, H, W, C) -> (N, H * sh, W * sw, C).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "UpSampling2D")
        if interpolation != "nearest":
            raise ValueError(
                f"UpSampling2D: only interpolation='nearest' is supported, got {interpolation!r}"
            )
        self.size = arguments.int_tuple(size, 2, "UpSampling2D", "size")
        self.interpolation = interpolation

    def build(self, input_shape):
        arguments.check_ndim(self, input_shape, 4, "(batch, height, width, channels)")

    def call(self, x, training=False):
        arguments.check_ndim(self, x.shape, 4, "(batch, height, width, channels)")
        return F.upsampling2d(x, self.size)

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 4, "(batch, height, width, channels)")
        n, h, w, c = input_shape
        sh, sw = self.size
        return (n, None if h is None else h * sh, None if w is None else w * sw, c)

    def get_config(self):
        config = super().get_config()
        config.update(size=tuple(self.size), interpolation=self.interpolation)
        return config
