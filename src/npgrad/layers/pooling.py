"""Pooling layers (channels last): max/average over windows, and global pooling.

Example:
    >>> MaxPooling2D((2, 2))(np.zeros((8, 26, 26, 32))).shape
    (8, 13, 13, 32)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


class _Pooling(Layer):
    """Window pooling of rank 1 (N, L, C) or 2 (N, H, W, C); no weights."""

    rank = 2
    layout = "(batch, height, width, channels)"
    reduce = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = arguments.int_tuple(pool_size, self.rank, cls, "pool_size")
        self.strides = self.pool_size if strides is None else arguments.int_tuple(
            strides, self.rank, cls, "strides")
        self.padding = arguments.padding_arg(padding, cls)
        arguments.check_data_format(data_format, cls)

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, self.rank + 2, self.layout)
        spatial = tuple(
            arguments.conv_output_length(n, p, s, self.padding)
            for n, p, s in zip(input_shape[1:-1], self.pool_size, self.strides)
        )
        if any(n is not None and n <= 0 for n in spatial):
            raise arguments.incompatible(
                self,
                f"spatial size of at least pool_size {self.pool_size} for padding='valid'",
                input_shape,
            )
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        self.compute_output_shape(x.shape)
        pool = F.max_pool2d if self.reduce == "max" else F.avg_pool2d
        if self.rank == 2:
            return pool(x, self.pool_size, self.strides, self.padding)
        # 1-D: view (N, L, C) as an image of height 1
        n, length, c = x.shape
        y = pool(F.reshape(x, (n, 1, length, c)), (1,) + self.pool_size, (1,) + self.strides,
                 self.padding)
        return F.reshape(y, (n, y.shape[2], c))

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=tuple(self.pool_size), strides=tuple(self.strides),
                      padding=self.padding)
        return config


class MaxPooling2D(_Pooling):
    """Max over (ph, pw) windows of NHWC images.

    Args:
        pool_size: int or (ph, pw) (default (2, 2)).
        strides: int, pair or None (default: pool_size).
        padding: 'valid' or 'same' (case-insensitive).
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> (N, OH, OW, C); 'valid': OH = (H - ph) // sh + 1, 'same':
    OH = ceil(H / sh). In the backward pass ties send the gradient to the first maximum.
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Mean over (ph, pw) windows of NHWC images ('same' averages over valid cells only).

    Args and shapes as :class:`MaxPooling2D`.
    """

    reduce = "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling):
    """Max over windows of sequences.

    Args:
        pool_size: int (default 2).
        strides: int or None (default: pool_size).
        padding: 'valid' or 'same'.
        data_format: None or 'channels_last'.

    Shapes: (N, L, C) -> (N, OL, C).
    """

    rank = 1
    layout = "(batch, steps, channels)"


class AveragePooling1D(MaxPooling1D):
    """Mean over windows of sequences; args and shapes as :class:`MaxPooling1D`."""

    reduce = "avg"


class _GlobalPooling(Layer):
    """Reduce every spatial axis: (N, ..., C) -> (N, C), or (N, 1, ..., 1, C) with keepdims."""

    rank = 2
    layout = "(batch, height, width, channels)"
    reduce = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        # a global reduction only needs to know where the channels are: channels_first
        # (N, C, ...) is accepted here, unlike the layers that slide a window
        if data_format != "channels_first":
            arguments.check_data_format(data_format, type(self).__name__)
        self.data_format = data_format or "channels_last"
        self.keepdims = bool(keepdims)

    @property
    def _spatial_axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self.rank))

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, self.rank + 2, self.layout)
        channels_first = self.data_format == "channels_first"
        channels = input_shape[1] if channels_first else input_shape[-1]
        if not self.keepdims:
            return (input_shape[0], channels)
        if channels_first:
            return (input_shape[0], channels) + (1,) * self.rank
        return (input_shape[0],) + (1,) * self.rank + (channels,)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        self.compute_output_shape(x.shape)
        if self.rank == 2 and self.data_format == "channels_last":
            pool = F.global_avg_pool2d if self.reduce == "avg" else F.global_max_pool2d
            return pool(x, keepdims=self.keepdims)
        reduce = F.mean if self.reduce == "avg" else F.max
        return reduce(x, axis=self._spatial_axes, keepdims=self.keepdims)

    def get_config(self):
        config = super().get_config()
        config["keepdims"] = self.keepdims
        config["data_format"] = self.data_format
        return config


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width.

    Args:
        data_format: None or 'channels_last' (N, H, W, C); 'channels_first' (N, C, H, W).
        keepdims: keep the spatial axes with size 1.

    Shapes: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims.
    """


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width (ties: the first maximum gets the gradient).

    Args and shapes as :class:`GlobalAveragePooling2D`.
    """

    reduce = "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps axis: (N, L, C) -> (N, C), or (N, 1, C) with keepdims
    (``data_format='channels_first'``: (N, C, L) -> (N, C)).

    With a timestep mask (``Embedding(mask_zero=True)``, ``Masking``) the mean runs over
    the real steps only, as Keras; the output carries no mask. A row whose steps are all
    masked gives zeros (Keras divides 0 by 0 there).
    """

    rank = 1
    layout = "(batch, steps, channels)"
    supports_masking = True

    def call(self, x, training=False, mask=None):
        if mask is None:
            return super().call(x, training=training)
        self.compute_output_shape(x.shape)
        keep = np.asarray(getattr(mask, "data", mask), dtype=bool)
        steps = self._spatial_axes[0]
        expected = (x.shape[0], x.shape[steps])
        if keep.shape != expected:
            raise ValueError(f"{self.name}: expected a mask of shape (batch, steps) = "
                             f"{expected}, got {keep.shape}")
        # (N, L, 1) channels last, (N, 1, L) channels first
        weights = np.expand_dims(keep, 3 - steps).astype(x.dtype)
        count = np.maximum(weights.sum(axis=steps, keepdims=self.keepdims), 1)
        return F.sum(x * weights, axis=steps, keepdims=self.keepdims) / count

    def compute_mask(self, inputs, mask=None):
        """None: the steps axis is reduced away."""
        return None


class GlobalMaxPooling1D(GlobalAveragePooling1D):
    """Max over the steps axis: (N, L, C) -> (N, C), or (N, 1, C) with keepdims.

    It does not support masking (as Keras): a mask reaching it is dropped with a warning.
    """

    reduce = "max"
    supports_masking = False

    def call(self, x, training=False):
        return _GlobalPooling.call(self, x, training=training)

    compute_mask = Layer.compute_mask


# Keras aliases
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
