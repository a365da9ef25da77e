"""3-D pooling, 3-D global pooling and adaptive pooling layers (channels last), Keras's names.

Example:
    >>> MaxPooling3D(2)(np.zeros((2, 8, 8, 8, 3))).shape
    (2, 4, 4, 4, 3)
    >>> AdaptiveAveragePooling2D((4, 4))(np.zeros((2, 13, 9, 3))).shape
    (2, 4, 4, 3)
"""

from __future__ import annotations

import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.layer import Layer

_VOLUME = "(batch, depth, height, width, channels)"


class BasePooling3D(Layer):
    """Window pooling of (N, D, H, W, C) volumes; no weights. Subclasses set ``function``."""

    function = staticmethod(F.max_pool3d)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = arguments.int_tuple(pool_size, 3, cls, "pool_size")
        self.strides = self.pool_size if strides is None else arguments.int_tuple(
            strides, 3, cls, "strides")
        self.padding = arguments.padding_arg(padding, cls)
        arguments.check_data_format(data_format, cls)

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 5, _VOLUME)
        spatial = tuple(
            arguments.conv_output_length(n, p, s, self.padding)
            for n, p, s in zip(input_shape[1:-1], self.pool_size, self.strides)
        )
        if any(n is not None and n <= 0 for n in spatial):
            raise arguments.incompatible(
                self, f"spatial size of at least pool_size {self.pool_size} for padding='valid'",
                input_shape)
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        self.compute_output_shape(x.shape)
        return self.function(x, self.pool_size, self.strides, self.padding)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=tuple(self.pool_size), strides=tuple(self.strides),
                      padding=self.padding)
        return config


class MaxPooling3D(BasePooling3D):
    """Max over (pd, ph, pw) windows of volumes, Keras's MaxPooling3D.

    Args:
        pool_size: int or 3 ints (default (2, 2, 2)).
        strides: int, 3 ints or None (default: pool_size).
        padding: 'valid' or 'same'.
        data_format: None or 'channels_last'.

    Shapes: (N, D, H, W, C) -> (N, OD, OH, OW, C); ties send the gradient to the first maximum.
    """


class AveragePooling3D(BasePooling3D):
    """Mean over (pd, ph, pw) windows of volumes, Keras's AveragePooling3D.

    'same' padding averages the valid (non-padded) cells only.

    Args and shapes as :class:`MaxPooling3D`.
    """

    function = staticmethod(F.avg_pool3d)


class BaseGlobalPooling3D(Layer):
    """Reduce D, H and W: (N, D, H, W, C) -> (N, C), or (N, 1, 1, 1, C) with keepdims."""

    function = staticmethod(F.global_avg_pool3d)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 5, _VOLUME)
        if self.keepdims:
            return (input_shape[0], 1, 1, 1, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        self.compute_output_shape(x.shape)
        return self.function(x, keepdims=self.keepdims)

    def get_config(self):
        config = super().get_config()
        config["keepdims"] = self.keepdims
        return config


class GlobalAveragePooling3D(BaseGlobalPooling3D):
    """Mean over depth, height and width, Keras's GlobalAveragePooling3D.

    Args:
        data_format: None or 'channels_last'.
        keepdims: keep the spatial axes with size 1.

    Shapes: (N, D, H, W, C) -> (N, C), or (N, 1, 1, 1, C) with keepdims.
    """


class GlobalMaxPooling3D(BaseGlobalPooling3D):
    """Max over depth, height and width, Keras's GlobalMaxPooling3D.

    Args and shapes as :class:`GlobalAveragePooling3D`.
    """

    function = staticmethod(F.global_max_pool3d)


class BaseAdaptivePooling(Layer):
    """Pool to a fixed ``output_size`` whatever the input's spatial size (Keras's adaptive pooling).

    Bin i of an axis of length L pooled to O covers ``[floor(i*L/O), ceil((i+1)*L/O))``.
    Subclasses set ``rank`` and ``function``.
    """

    rank = 2
    function = staticmethod(F.adaptive_average_pool)

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.output_size = arguments.int_tuple(output_size, self.rank, cls, "output_size")
        arguments.check_data_format(data_format, cls)

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, self.rank + 2, "(batch, *spatial, channels)")
        if any(n is not None and n < 1 for n in input_shape[1:-1]):
            raise arguments.incompatible(self, "non-empty spatial axes", input_shape)
        return (input_shape[0],) + self.output_size + (input_shape[-1],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        self.compute_output_shape(x.shape)
        return self.function(x, self.output_size)

    def get_config(self):
        config = super().get_config()
        config["output_size"] = list(self.output_size)
        return config


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Average over adaptive bins of sequences, Keras's AdaptiveAveragePooling1D.

    Args:
        output_size: int or (length,): the output's number of steps.
        data_format: None or 'channels_last'.

    Shapes: (N, L, C) -> (N, output_size, C).
    """

    rank = 1


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Average over adaptive bins of images, Keras's AdaptiveAveragePooling2D.

    Args:
        output_size: int or (height, width).
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> (N, *output_size, C).
    """


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Average over adaptive bins of volumes, Keras's AdaptiveAveragePooling3D.

    Args: output_size int or (depth, height, width); data_format. Shapes:
    (N, D, H, W, C) -> (N, *output_size, C).
    """

    rank = 3


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max over adaptive bins of sequences, Keras's AdaptiveMaxPooling1D.

    Args and shapes as :class:`AdaptiveAveragePooling1D`; ties: the first maximum.
    """

    rank = 1
    function = staticmethod(F.adaptive_max_pool)


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max over adaptive bins of images, Keras's AdaptiveMaxPooling2D.

    Args and shapes as :class:`AdaptiveAveragePooling2D`.
    """

    function = staticmethod(F.adaptive_max_pool)


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max over adaptive bins of volumes, Keras's AdaptiveMaxPooling3D.

    Args and shapes as :class:`AdaptiveAveragePooling3D`.
    """

    rank = 3
    function = staticmethod(F.adaptive_max_pool)


# Keras aliases
MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D
