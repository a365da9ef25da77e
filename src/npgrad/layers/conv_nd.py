"""More convolution layers (channels last): Conv3D, Conv1DTranspose, Conv3DTranspose.

Same configuration, weights and checks as Conv2D / Conv2DTranspose (``BaseConv``,
``BaseConvTranspose``), Keras's names, defaults and weight layouts.

Example:
    >>> Conv3D(8, 3, padding="same")(np.zeros((2, 6, 6, 6, 1))).shape
    (2, 6, 6, 6, 8)
"""

from __future__ import annotations

import npgrad.functional as F
from npgrad.layers.conv import BaseConv, BaseConvTranspose


class Conv3D(BaseConv):
    """3-D convolution over (N, D, H, W, C) volumes, Keras's Conv3D.

    Args:
        filters: number of output channels.
        kernel_size: int or (kd, kh, kw).
        strides: int or 3 ints (default 1).
        padding: 'valid' or 'same' (case-insensitive).
        data_format: None or 'channels_last'.
        dilation_rate: int or 3 ints.
        groups: split the channels into this many groups convolved separately (in_channels
            and filters must be divisible by it).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as :class:`~npgrad.layers.Conv2D`.

    Weights: kernel (kd, kh, kw, in_channels // groups, filters), bias (filters,).
    Shapes: (N, D, H, W, C) -> (N, OD, OH, OW, filters).
    """

    rank = 3
    layout = "(batch, depth, height, width, channels)"

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, groups=groups, **kwargs)

    def call(self, x, training=False):
        self._check_input(x)
        if self._custom_convolution:
            return self._overridden_call(x)
        if self.groups > 1:
            return self._grouped(x)
        y = F.conv3d(x, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                     dilation_rate=self.dilation_rate)
        return self.activation(y)


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution of (N, L, C) sequences, Keras's Conv1DTranspose.

    Args:
        filters: number of output channels.
        kernel_size: int or (k,).
        strides: int (default 1).
        padding: 'valid' or 'same'.
        output_padding: None or an int in [0, stride): extra steps at the end.
        data_format: None or 'channels_last'.
        dilation_rate: int.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as :class:`~npgrad.layers.Conv2D`.

    Weights: kernel (k, filters, in_channels) (Keras layout), bias (filters,).
    Shapes: (N, L, C) -> (N, OL, filters); 'same': OL = L * s, 'valid':
    OL = L * s + max(k_eff - s, 0).
    """

    rank = 1
    layout = "(batch, steps, channels)"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer, **kwargs)

    def call(self, x, training=False):
        self._check_input(x)
        y = F.conv1d_transpose(x, self.kernel, self.bias, strides=self.strides,
                               padding=self.padding, output_padding=self.output_padding,
                               dilation_rate=self.dilation_rate)
        return self.activation(y)


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution of (N, D, H, W, C) volumes, Keras's Conv3DTranspose.

    Args:
        filters: number of output channels.
        kernel_size: int or (kd, kh, kw).
        strides: int or 3 ints.
        padding: 'valid' or 'same'.
        data_format: None or 'channels_last' (before output_padding, Keras's order).
        output_padding: None, int or 3 ints, each in [0, stride).
        dilation_rate: int or 3 ints.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as :class:`~npgrad.layers.Conv2D`.

    Weights: kernel (kd, kh, kw, filters, in_channels), bias (filters,).
    Shapes: (N, D, H, W, C) -> (N, OD, OH, OW, filters).
    """

    rank = 3
    layout = "(batch, depth, height, width, channels)"

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer, **kwargs)

    def call(self, x, training=False):
        self._check_input(x)
        y = F.conv3d_transpose(x, self.kernel, self.bias, strides=self.strides,
                               padding=self.padding, output_padding=self.output_padding,
                               dilation_rate=self.dilation_rate)
        return self.activation(y)


# Keras aliases
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution3DTranspose = Conv3DTranspose
