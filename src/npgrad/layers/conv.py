"""Convolution layers (channels last): Conv1D, Conv2D, Conv2DTranspose, and their bases.

Example:
    >>> conv = Conv2D(32, (3, 3), activation="relu")
    >>> conv(np.zeros((8, 28, 28, 1))).shape   # 320 parameters
    (8, 26, 26, 32)
"""

from __future__ import annotations

import npgrad.functional as F
from npgrad import activations, constraints, initializers, regularizers
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


class BaseConv(Layer):
    """Shared configuration, weights and shape checks of the N-d convolutions (Keras's BaseConv).

    Subclasses set ``rank``, ``paddings`` and ``layout`` and implement ``call``. ``groups``
    splits the channels into groups convolved separately (kernel (*K, C / groups, filters)).
    :meth:`convolution_op` is Keras 3's hook: a subclass that overrides it (a standardized
    or masked kernel) has ``call`` run it, then add the bias and the activation.
    """

    rank = 2
    _custom_convolution = False  # per subclass: convolution_op is overridden

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._custom_convolution = cls.convolution_op is not BaseConv.convolution_op

    def convolution_op(self, inputs, kernel):
        """``inputs`` correlated with ``kernel`` under this layer's strides, padding and
        dilation, without bias or activation (Keras 3's ``BaseConv.convolution_op``)."""
        return F.conv(inputs, kernel, None, strides=self.strides, padding=self.padding,
                      dilation_rate=self.dilation_rate)

    def _overridden_call(self, x):
        """``call`` through an overridden :meth:`convolution_op`: bias and activation after."""
        y = self.convolution_op(x, self.kernel)
        return self.activation(y if self.bias is None else y + self.bias)
    paddings = ("valid", "same")
    layout = "(batch, height, width, channels)"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, groups=1, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.filters = arguments.positive_int(filters, cls, "filters")
        self.groups = arguments.positive_int(groups, cls, "groups")
        if self.filters % self.groups:
            raise ValueError(f"{cls}: argument `filters` ({self.filters}) must be divisible by "
                             f"`groups` ({self.groups})")
        self.kernel_size = arguments.int_tuple(kernel_size, self.rank, cls, "kernel_size")
        self.strides = arguments.int_tuple(strides, self.rank, cls, "strides")
        self.padding = arguments.padding_arg(padding, cls, self.paddings)
        arguments.check_data_format(data_format, cls)
        self.dilation_rate = arguments.int_tuple(dilation_rate, self.rank, cls, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        # kernel_constraint, bias_constraint: applied by the optimizer after each update
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    # the kernel's shape from the number of input channels (Conv2DTranspose swaps the last two)
    def _kernel_shape(self, channels):
        return self.kernel_size + (channels // self.groups, self.filters)

    def _spatial_output(self, sizes):
        return tuple(
            arguments.conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(sizes, self.kernel_size, self.strides, self.dilation_rate)
        )

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, self.rank + 2, self.layout)
        spatial = self._spatial_output(tuple(input_shape[1:-1]))
        if any(n is not None and n <= 0 for n in spatial):
            raise arguments.incompatible(
                self,
                f"spatial size of at least the kernel's span for padding='{self.padding}' "
                f"(kernel_size {self.kernel_size}, dilation_rate {self.dilation_rate}, strides "
                f"{self.strides}; output would be {spatial})",
                input_shape,
            )
        return (input_shape[0],) + spatial + (self.filters,)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # rank and size checks
        channels = arguments.known_axis(self, input_shape, -1, "channel axis")
        if channels % self.groups:
            raise arguments.incompatible(
                self, f"a channel axis divisible by groups={self.groups}", input_shape)
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels),
                                      self.kernel_initializer, self.kernel_regularizer)
        self.kernel.constraint = self.kernel_constraint
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)
            self.bias.constraint = self.bias_constraint

    def _check_input(self, x):
        arguments.check_ndim(self, x.shape, self.rank + 2, self.layout)
        arguments.check_axis(self, x.shape, -1, self.input_shape_built[-1], "channel axis")
        self.compute_output_shape(x.shape)

    def _grouped(self, x):
        """Grouped convolution (``groups > 1``): one convolution per channel group."""
        y = F.conv(x, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                   dilation_rate=self.dilation_rate)
        return self.activation(y)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            groups=self.groups,
            kernel_size=tuple(self.kernel_size),
            strides=tuple(self.strides),
            padding=self.padding,
            dilation_rate=tuple(self.dilation_rate),
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


class Conv2D(BaseConv):
    """2-D convolution over NHWC images, Keras's Conv2D.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw) (default 1).
        padding: 'valid' or 'same' (case-insensitive).
        data_format: None or 'channels_last' (the only layout npgrad supports).
        dilation_rate: int or (dh, dw).
        groups: split the channels into this many groups convolved separately (default 1;
            in_channels and filters must be divisible by it).
        activation: name or callable (default linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: initializers (glorot_uniform, zeros).
        kernel_regularizer, bias_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional projections applied after each
            optimizer update (``npgrad.constraints``).

    Weights: kernel (kh, kw, in_channels // groups, filters), bias (filters,).
    Shapes: (N, H, W, C) -> (N, OH, OW, filters); 'valid': OH = (H - (kh-1)*dh - 1) // sh + 1,
    'same': OH = ceil(H / sh).
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
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
        relu = self.activation is F.relu  # applied inside the op: one array fewer
        y = F.conv2d(x, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                     dilation_rate=self.dilation_rate, relu=relu)
        return y if relu else self.activation(y)


class Conv1D(BaseConv):
    """1-D convolution over sequences (N, L, C), Keras's Conv1D.

    Args:
        filters: number of output channels.
        kernel_size: int or (k,).
        strides: int or (s,) (default 1).
        padding: 'valid', 'same' or 'causal' (left padding only, for sequence models).
        data_format: None or 'channels_last'.
        dilation_rate: int or (d,).
        groups: channel groups convolved separately, as :class:`Conv2D` (default 1).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as :class:`Conv2D`.

    Weights: kernel (k, in_channels // groups, filters), bias (filters,).
    Shapes: (N, L, C) -> (N, OL, filters).
    """

    rank = 1
    paddings = ("valid", "same", "causal")
    layout = "(batch, steps, channels)"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
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
        relu = self.activation is F.relu  # applied inside the op, as Conv2D's
        y = F.conv1d(x, self.kernel, self.bias, strides=self.strides[0], padding=self.padding,
                     dilation_rate=self.dilation_rate[0], relu=relu)
        return y if relu else self.activation(y)


class BaseConvTranspose(BaseConv):
    """Shared configuration and output-size rule of the transposed convolutions.

    Kernel (*K, filters, in_channels) (Keras layout); ``output_padding`` None or one int per
    axis in [0, stride). Subclasses set ``rank`` and implement ``call``.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, **kwargs)
        cls = type(self).__name__
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = arguments.int_tuple(output_padding, self.rank, cls,
                                                      "output_padding", allow_zero=True)
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(
                        f"{cls}: argument `output_padding` {self.output_padding} must "
                        f"be smaller than `strides` {self.strides} on every axis"
                    )

    def _kernel_shape(self, channels):
        return self.kernel_size + (self.filters, channels)

    def _spatial_output(self, sizes):
        paddings = self.output_padding or (None,) * self.rank
        return tuple(
            arguments.transpose_output_length(n, k, s, self.padding, p, d)
            for n, k, s, p, d in zip(sizes, self.kernel_size, self.strides, paddings,
                                     self.dilation_rate)
        )

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        # the output must be an image that a conv2d of the same geometry maps back to the input
        # (fails e.g. for an even kernel with padding='same' and output_padding=0)
        back = super()._spatial_output(shape[1:-1])
        if any(b is not None and b != n for b, n in zip(back, input_shape[1:-1])):
            raise arguments.incompatible(
                self,
                f"an input whose transposed output {shape[1:-1]} maps back to it (kernel_size "
                f"{self.kernel_size}, strides {self.strides}, padding '{self.padding}', "
                f"output_padding {self.output_padding})",
                input_shape,
            )
        return shape

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        padding = self.output_padding
        config["output_padding"] = None if padding is None else tuple(padding)
        return config


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution ("deconvolution"), Keras's Conv2DTranspose.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same'.
        output_padding: None, int or pair, each in [0, stride): extra rows/columns on the
            output's bottom/right.
        data_format: None or 'channels_last'.
        dilation_rate: int or (dh, dw).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as :class:`Conv2D`.

    Weights: kernel (kh, kw, filters, in_channels) (Keras layout), bias (filters,).
    Shapes: (N, H, W, C) -> (N, OH, OW, filters); without output_padding 'same' gives
    OH = H * sh and 'valid' OH = H * sh + max(kh_eff - sh, 0).
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer, **kwargs)

    def call(self, x, training=False):
        self._check_input(x)
        relu = self.activation is F.relu  # applied inside the op, as Conv2D's
        y = F.conv2d_transpose(x, self.kernel, self.bias, strides=self.strides,
                               padding=self.padding, output_padding=self.output_padding,
                               dilation_rate=self.dilation_rate, relu=relu)
        return y if relu else self.activation(y)


# Keras aliases
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
