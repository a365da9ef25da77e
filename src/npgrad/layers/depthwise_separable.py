"""Depthwise and separable convolution layers (channels last), Keras's names and layouts.

A depthwise convolution filters each input channel on its own (``depth_multiplier`` filters
per channel); a separable one follows it with a pointwise (1x1) convolution that mixes the
channels: far fewer weights than a full convolution (MobileNet, Xception).

Example:
    >>> SeparableConv2D(16, 3, padding="same")(np.zeros((2, 8, 8, 4))).shape
    (2, 8, 8, 16)
"""

from __future__ import annotations

import npgrad.functional as F
from npgrad import activations, initializers, regularizers
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


class BaseDepthwiseConv(Layer):
    """Configuration, weights and shape checks of DepthwiseConv1D/2D (Keras's BaseDepthwiseConv).

    Subclasses set ``rank``, ``layout`` and ``function`` (the functional op).
    """

    rank = 2
    layout = "(batch, height, width, channels)"
    function = staticmethod(F.depthwise_conv2d)

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.depth_multiplier = arguments.positive_int(depth_multiplier, cls, "depth_multiplier")
        self.kernel_size = arguments.int_tuple(kernel_size, self.rank, cls, "kernel_size")
        self.strides = arguments.int_tuple(strides, self.rank, cls, "strides")
        self.padding = arguments.padding_arg(padding, cls)
        arguments.check_data_format(data_format, cls)
        self.dilation_rate = arguments.int_tuple(dilation_rate, self.rank, cls, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _out_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, self.rank + 2, self.layout)
        spatial = tuple(
            arguments.conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides,
                                  self.dilation_rate)
        )
        if any(n is not None and n <= 0 for n in spatial):
            raise arguments.incompatible(
                self,
                f"spatial size of at least the kernel's span for padding='{self.padding}' "
                f"(kernel_size {self.kernel_size}, dilation_rate {self.dilation_rate}; output "
                f"would be {spatial})",
                input_shape,
            )
        return (input_shape[0],) + spatial + (self._out_channels(input_shape[-1]),)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = arguments.known_axis(self, input_shape, -1, "channel axis")
        # Keras names the depthwise layer's only kernel "kernel"
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (channels, self.depth_multiplier),
            self.depthwise_initializer, self.depthwise_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (channels * self.depth_multiplier,),
                                        self.bias_initializer, self.bias_regularizer)

    def call(self, x, training=False):
        arguments.check_ndim(self, x.shape, self.rank + 2, self.layout)
        arguments.check_axis(self, x.shape, -1, self.input_shape_built[-1], "channel axis")
        self.compute_output_shape(x.shape)
        y = self.function(x, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                          dilation_rate=self.dilation_rate)
        return self.activation(y)

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_size=tuple(self.kernel_size),
            strides=tuple(self.strides),
            padding=self.padding,
            depth_multiplier=self.depth_multiplier,
            dilation_rate=tuple(self.dilation_rate),
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            depthwise_initializer=initializers.serialize(self.depthwise_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
        )
        return config


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution: each input channel filtered on its own, Keras's DepthwiseConv2D.

    Args:
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw) (default 1).
        padding: 'valid' or 'same'.
        depth_multiplier: filters per input channel (default 1).
        data_format: None or 'channels_last'.
        dilation_rate: int or (dh, dw).
        activation: name or callable (default linear).
        use_bias: whether to add a bias.
        depthwise_initializer, bias_initializer: defaults 'glorot_uniform', 'zeros'.
        depthwise_regularizer, bias_regularizer: optional penalties.

    Weights: kernel (kh, kw, in_channels, depth_multiplier), bias
    (in_channels * depth_multiplier,).
    Shapes: (N, H, W, C) -> (N, OH, OW, C * depth_multiplier); output channel ``c*M + m`` is
    channel c filtered by ``kernel[:, :, c, m]``.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer, **kwargs)


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1-D convolution of (N, L, C) sequences, Keras's DepthwiseConv1D.

    Args and weights as :class:`DepthwiseConv2D`, one int per argument; kernel
    (k, in_channels, depth_multiplier). Shapes: (N, L, C) -> (N, OL, C * depth_multiplier).
    """

    rank = 1
    layout = "(batch, steps, channels)"
    function = staticmethod(F.depthwise_conv1d)


class BaseSeparableConv(BaseDepthwiseConv):
    """Configuration and weights of SeparableConv1D/2D (Keras's BaseSeparableConv).

    Weights, in Keras's order: depthwise_kernel (*K, C, M), pointwise_kernel (1.., C*M, F),
    bias (F,).
    """

    function = staticmethod(F.separable_conv2d)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer, **kwargs)
        cls = type(self).__name__
        self.filters = arguments.positive_int(filters, cls, "filters")
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)

    def _out_channels(self, channels):
        return self.filters

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = arguments.known_axis(self, input_shape, -1, "channel axis")
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            self.depthwise_initializer, self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, self.pointwise_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, x, training=False):
        arguments.check_ndim(self, x.shape, self.rank + 2, self.layout)
        arguments.check_axis(self, x.shape, -1, self.input_shape_built[-1], "channel axis")
        self.compute_output_shape(x.shape)
        y = self.function(x, self.depthwise_kernel, self.pointwise_kernel, self.bias,
                          strides=self.strides, padding=self.padding,
                          dilation_rate=self.dilation_rate)
        return self.activation(y)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            pointwise_initializer=initializers.serialize(self.pointwise_initializer),
            pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
        )
        return config


class SeparableConv2D(BaseSeparableConv):
    """Depthwise 2-D convolution then a pointwise (1x1) one, Keras's SeparableConv2D.

    Args:
        filters: output channels of the pointwise step.
        kernel_size: int or (kh, kw) of the depthwise step.
        strides: int or (sh, sw) (default 1).
        padding: 'valid' or 'same'.
        data_format: None or 'channels_last'.
        dilation_rate: int or (dh, dw).
        depth_multiplier: depthwise filters per input channel (default 1).
        activation, use_bias: as :class:`~npgrad.layers.Conv2D`.
        depthwise_initializer, pointwise_initializer, bias_initializer: defaults
            'glorot_uniform', 'glorot_uniform', 'zeros'.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: optional penalties.

    Weights: depthwise_kernel (kh, kw, C, M), pointwise_kernel (1, 1, C*M, filters), bias
    (filters,). Shapes: (N, H, W, C) -> (N, OH, OW, filters).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, **kwargs)


class SeparableConv1D(BaseSeparableConv):
    """Depthwise 1-D convolution then a pointwise one, Keras's SeparableConv1D.

    Args and weights as :class:`SeparableConv2D`, one int per argument: depthwise_kernel
    (k, C, M), pointwise_kernel (1, C*M, filters). Shapes: (N, L, C) -> (N, OL, filters).
    """

    rank = 1
    layout = "(batch, steps, channels)"
    function = staticmethod(F.separable_conv1d)


# Keras aliases
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
