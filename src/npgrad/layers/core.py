"""Core layers: Input, Dense, activation layers, Dropout and Embedding.

Example:
    >>> model_layers = [npgrad.Input((784,)), Dense(128, activation="relu"), Dropout(0.2),
    ...                 Dense(10, activation="softmax")]
    >>> Dense(10)(np.ones((32, 784))).shape
    (32, 10)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import activations, constraints, initializers, regularizers
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.layer import Layer
from npgrad.layers.masks import set_keras_mask
from npgrad.layers.node import KerasTensor, Node

# ------------------------------------------------------------------ Input


class InputLayer(Layer):
    """The entry point of a model: holds the input shape and passes its input through.

    Args:
        shape: shape of one sample, without the batch axis (e.g. ``(28, 28, 1)``).
        batch_size: optional fixed batch size.
        dtype: dtype of the input (default float32).
        batch_shape: full shape including the batch axis (instead of shape/batch_size).
        name: layer name.

    Shapes: input (batch,) + shape -> output the same.
    """

    supports_masking = True

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        # Keras 2 spellings: input_shape=..., batch_input_shape=...
        shape = kwargs.pop("input_shape", shape)
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: give `shape` (one sample, no batch axis) or `batch_shape`")
            if isinstance(shape, (int, np.integer)):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        if any(d is not None and d < 0 for d in batch_shape):
            raise ValueError(f"InputLayer: dimensions must be non-negative, got {batch_shape}")
        super().__init__(name=name, dtype=dtype, batch_input_shape=batch_shape, **kwargs)
        self.batch_shape = batch_shape
        self.built = True
        self.input_shape_built = batch_shape
        # the symbolic tensor npgrad.Input returns: the output of this layer's only node
        Node(self, outputs=KerasTensor(batch_shape, dtype=self.dtype, name=self.name))

    @property
    def shape(self):
        """Shape of one sample (no batch axis)."""
        return self.batch_shape[1:]

    def _check(self, shape):
        # the batch axis is not checked: as in Keras (whose model input specs leave it out),
        # Input(shape, batch_size=128) names the size the model is built for, and a model
        # still predicts on a batch of 16
        if len(shape) != len(self.batch_shape) or any(
            e is not None and e != d for e, d in zip(self.batch_shape[1:], shape[1:])
        ):
            raise arguments.incompatible(self, f"shape {self.batch_shape}", shape)

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, x, training=False):
        x = self._adjust_rank(x)
        self._check(x.shape)
        return x

    def _adjust_rank(self, x):
        """Keras 3's one-axis leniency for model inputs: data one rank short gets a trailing
        axis when the input's last dimension is 1 ((N, 28, 28) for ``Input((28, 28, 1))``),
        and data one rank long loses a trailing axis of size 1 ((N, 5, 1) for
        ``Input((5,))``). Anything else is left for the shape check to refuse."""
        rank, expected = len(x.shape), len(self.batch_shape)
        if rank == expected + 1 and x.shape[-1] == 1:
            return x.reshape(tuple(x.shape[:-1]))
        if rank == expected - 1 and rank >= 1 and self.batch_shape[-1] == 1:
            return x.reshape(tuple(x.shape) + (1,))
        return x

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("batch_input_shape", None)
        config["batch_shape"] = list(self.batch_shape)
        return config


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):  # noqa: N802
    """Declare a model input (Keras): a symbolic tensor to call layers on.

    Use it to start a functional model, ``Model(inputs, outputs)``, or as the first entry of
    a ``Sequential``.

    Args:
        shape: shape of one sample, without the batch axis.
        batch_size: optional fixed batch size.
        name: name of the InputLayer (and of the tensor); a dict of arrays passed to
            ``fit``/``predict`` of a multi-input model is keyed by these names.
        dtype: input dtype (default float32).
        batch_shape: full shape including the batch axis (instead of shape/batch_size).

    Returns:
        A :class:`~npgrad.KerasTensor` of shape ``(batch_size,) + shape``; the InputLayer
        that made it is ``tensor._keras_history[0]``.

    Example:
        >>> x = npgrad.Input((28, 28, 1))
        >>> x.shape
        (None, 28, 28, 1)
        >>> y = npgrad.layers.Dense(10)(npgrad.layers.Flatten()(x))
        >>> model = npgrad.Model(x, y)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return layer.output


# ------------------------------------------------------------------ Dense


class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)`` over the last axis.

    Args:
        units: output size (positive int).
        activation: name or callable (default: none, i.e. linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: initializer names or objects.
        kernel_regularizer, bias_regularizer: optional penalties (their value joins ``losses``).
        kernel_constraint, bias_constraint: optional projections the optimizer applies after
            each update (``npgrad.constraints``).

    Weights: kernel (in, units), bias (units,).
    Shapes: (..., in) -> (..., units); inputs need rank >= 2.

    Example:
        >>> Dense(10)(np.ones((32, 1600))).shape   # 16010 parameters
        (32, 10)
    """

    supports_masking = True  # applied per timestep, the mask passes through (Keras)

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = arguments.positive_int(units, "Dense", "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 2)
        n_in = arguments.known_axis(self, input_shape, -1)
        self.kernel = self.add_weight("kernel", (n_in, self.units), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.kernel.constraint = self.kernel_constraint  # applied by the optimizer (Keras)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        self.bias_regularizer)
            self.bias.constraint = self.bias_constraint

    def call(self, x, training=False):
        arguments.check_min_ndim(self, x.shape, 2)
        arguments.check_axis(self, x.shape, -1, self.kernel.shape[0])
        relu = self.activation is F.relu  # applied inside the op: one array fewer
        y = F.dense(x, self.kernel, self.bias, relu=relu)
        return y if relu else self.activation(y)

    def compute_output_shape(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 2)
        if self.built and input_shape[-1] is not None:  # a shared layer called again
            arguments.check_axis(self, input_shape, -1, self.kernel.shape[0])
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
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


# ------------------------------------------------------------------ activation layers


class _Elementwise(Layer):
    """A weightless layer whose output has its input's shape (it passes a timestep mask on)."""

    supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Activation(_Elementwise):
    """Apply an activation function: ``Activation('relu')``.

    Args:
        activation: name (see ``npgrad.activations``) or callable.

    Shapes: any -> same.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x, training=False):
        return self.activation(x)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class ReLU(_Elementwise):
    """Rectified linear unit with Keras's options.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise. At ``x == threshold`` the gradient is that
    of the upper branch (for the default, the gradient of relu at exactly 0 is 0, as F.relu).

    Args:
        max_value: None (no cap) or a non-negative float.
        negative_slope: non-negative slope below the threshold.
        threshold: where the function switches from the leaky branch to the identity.

    Shapes: any -> same.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: argument `max_value` must be >= 0 or None, got {max_value!r}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"ReLU: argument `negative_slope` must be >= 0, got {negative_slope!r}")
        if threshold is None:
            raise ValueError("ReLU: argument `threshold` must be a number, got None")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, x, training=False):
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            # one op, capped or not (ReLU6: gradient 0 at exactly 0 and at the cap)
            return F.relu(x, max_value=self.max_value)
        below = (x - self.threshold) * self.negative_slope
        y = F.where(x.data >= self.threshold, x, below)
        if self.max_value is not None:
            # where rather than minimum: at x == max_value the gradient is 0, as Keras
            y = F.where(y.data < self.max_value, y, self.max_value)
        return y

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config


class LeakyReLU(_Elementwise):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope for negative inputs (Keras 3 default 0.3). The Keras 2 name
            ``alpha=`` is accepted too.

    Shapes: any -> same.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                f"LeakyReLU: argument `negative_slope` must be >= 0, got {negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)

    def call(self, x, training=False):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: scale of the negative part.

    Shapes: any -> same.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, x, training=False):
        return F.elu(x, self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with learned ``alpha``.

    Args:
        alpha_initializer: initializer of alpha (default zeros).
        alpha_regularizer: optional penalty.
        shared_axes: axes (1-based, excluding the batch axis as Keras counts them) along
            which alpha is shared, e.g. ``[1, 2]`` for one alpha per channel of images.

    Weights: alpha, shape of one sample with shared axes set to 1.
    Shapes: any -> same.
    """

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (int, np.integer)):
            self.shared_axes = [int(shared_axes)]
        else:
            self.shared_axes = [int(a) for a in shared_axes]

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 2)
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"PReLU '{self.name}': shared axis {axis} is out of range for input shape "
                    f"{tuple(input_shape)}"
                )
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise arguments.incompatible(self, "known non-batch axes (or shared_axes over unknown ones)",
                                input_shape)
        self.alpha = self.add_weight("alpha", shape, self.alpha_initializer,
                                     self.alpha_regularizer)

    def call(self, x, training=False):
        if x.ndim != len(self.input_shape_built) or any(
            a != 1 and a != d for a, d in zip(self.alpha.shape, x.shape[1:])
        ):
            raise arguments.incompatible(self, f"sample shape compatible with {self.alpha.shape}", x.shape)
        # f(x) = relu(x) - alpha * relu(-x)
        return F.relu(x) - self.alpha * F.relu(-x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=initializers.serialize(self.alpha_initializer),
                      alpha_regularizer=regularizers.serialize(self.alpha_regularizer),
                      shared_axes=self.shared_axes)
        return config


class Softmax(_Elementwise):
    """Softmax along ``axis`` (stable: shifted by the maximum).

    Args:
        axis: the axis that sums to one (default -1).

    Shapes: any -> same.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, (int, np.integer)) else list(axis)

    def _axis(self):
        return self.axis if isinstance(self.axis, (int, np.integer)) else tuple(self.axis)

    def call(self, x, training=False):
        axes = self._axis()
        for a in (axes if isinstance(axes, tuple) else (axes,)):
            if not -x.ndim <= a < x.ndim:
                raise arguments.incompatible(self, f"an input with axis {a}", x.shape)
        return F.softmax(x, axis=axes)

    def get_config(self):
        config = super().get_config()
        config["axis"] = int(self.axis) if isinstance(self.axis, (int, np.integer)) else self.axis
        return config


# ------------------------------------------------------------------ Dropout


class Dropout(_Elementwise):
    """Inverted dropout: in training, zero each element with probability ``rate`` and scale
    the rest by ``1 / (1 - rate)``; at inference, the identity.

    Args:
        rate: fraction to drop, in [0, 1).
        noise_shape: optional shape of the mask, broadcast to the input's (None entries take
            the input's size), e.g. ``(batch, 1, 1, channels)`` to drop whole feature maps.
        seed: optional int; a seeded layer draws its masks from its own generator, so runs
            are reproducible without a global seed.

    Shapes: any -> same.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout: argument `rate` must be a float in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != len(shape):
            raise arguments.incompatible(self, f"rank {len(self.noise_shape)} (noise_shape "
                                      f"{self.noise_shape})", shape)
        return tuple(d if n is None else int(n) for n, d in zip(self.noise_shape, shape))

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        # a seeded layer hands F.dropout one fresh seed per call from its own generator
        seed = None if self._rng is None else int(self._rng.integers(2**63))
        return F.dropout(x, self.rate, training=True, seed=seed,
                         noise_shape=self._noise_shape(x.shape))

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate,
                      noise_shape=None if self.noise_shape is None else list(self.noise_shape),
                      seed=self.seed)
        return config


# ------------------------------------------------------------------ Embedding


class Embedding(Layer):
    """Map integer indices to dense vectors: ``embeddings[indices]``.

    Args:
        input_dim: vocabulary size (indices lie in ``[0, input_dim)``).
        output_dim: size of each vector.
        embeddings_initializer: default 'uniform' (RandomUniform(-0.05, 0.05), as Keras).
        embeddings_regularizer: optional penalty.
        embeddings_constraint: optional projection applied after each optimizer update.
        mask_zero: whether index 0 is padding: the output then carries the mask
            ``indices != 0`` (``compute_mask``), which recurrent layers use to skip padded
            steps (see "Masking and padded sequences" in docs/recurrent.md).

    Weights: embeddings (input_dim, output_dim).
    Shapes: integer (N, ...) -> (N, ..., output_dim).
    """

    cast_inputs = False  # indices stay integers

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 **kwargs):
        input_length = kwargs.pop("input_length", None)  # Keras 2 spelling of the sample shape
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = arguments.positive_int(input_dim, "Embedding", "input_dim")
        self.output_dim = arguments.positive_int(output_dim, "Embedding", "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self._computes_mask = self.mask_zero  # without mask_zero: the plain, fast call path

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          self.embeddings_regularizer)
        self.embeddings.constraint = self.embeddings_constraint  # applied by the optimizer

    def _indices(self, x):
        data = x.data
        if data.dtype.kind == "f":
            if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
                raise TypeError(
                    f"Embedding '{self.name}': expected integer indices, got non-integer values "
                    f"of dtype {data.dtype}"
                )
        elif data.dtype.kind not in "iub":
            raise TypeError(f"Embedding '{self.name}': expected integer indices, got dtype {data.dtype}")
        indices = data.astype(np.int64, copy=False)
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim):
            raise ValueError(
                f"Embedding '{self.name}': indices must lie in [0, {self.input_dim}), got values "
                f"in [{indices.min()}, {indices.max()}]"
            )
        return indices

    def call(self, x, training=False):
        return F.embedding(self._indices(x), self.embeddings)

    def compute_mask(self, inputs, mask=None):
        """Boolean mask ``indices != 0`` (shape of the indices) when ``mask_zero``, else None.

        Called by ``__call__``: the mask is attached to the output, and masking layers
        downstream (LSTM, GRU, SimpleRNN, Bidirectional...) skip the padded steps.
        """
        if not self.mask_zero:
            return None
        return np.asarray(getattr(inputs, "data", inputs)) != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
            embeddings_constraint=constraints.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
        )
        return config


class Masking(Layer):
    """Mask the timesteps whose features all equal ``mask_value`` (Keras ``Masking``).

    The output is the input with the masked timesteps set to zero, and it carries the
    (N, T) boolean mask "any feature != mask_value" (True = a real step), which masking
    layers downstream use: LSTM, GRU and SimpleRNN skip the masked steps, Dense and other
    per-timestep layers pass the mask on, and a compiled loss ignores masked steps.

    Args:
        mask_value: the padding value (default 0.0).

    Shapes: (N, T, ...) -> the same.

    Example:
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> y = Masking(mask_value=0.0)(x)
        >>> npgrad.layers.masks.get_keras_mask(y)
        array([[ True, False,  True]])
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 2)

    def _mask(self, x):
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        return np.any(data != self.mask_value, axis=-1)

    def call(self, x, training=False):
        arguments.check_min_ndim(self, x.shape, 2)
        keep = self._mask(x)
        out = x * keep[..., None].astype(x.dtype)
        set_keras_mask(out, keep)
        return out

    def compute_mask(self, inputs, mask=None):
        """The (N, T) boolean mask: True where any feature differs from ``mask_value``."""
        return self._mask(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


__all__ = ["Activation", "Dense", "Dropout", "ELU", "Embedding", "Input", "InputLayer",
           "LeakyReLU", "Masking", "PReLU", "ReLU", "Softmax"]
