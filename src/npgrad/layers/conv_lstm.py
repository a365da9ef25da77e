"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (channels last), Keras's maths.

An LSTM whose input and recurrent transforms are convolutions, so every state is an image:

    z_t = conv(x_t, kernel, strides, padding, dilation) + bias
          + conv_same(h_{t-1}, recurrent_kernel)
    i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_c)   (gate order i, f, c, o)
    c_t = f * c_{t-1} + i * g;  h_t = o * activation(c_t)

The input convolutions of all steps run as one batched convolution over (N*T) images before
the loop; each step then costs one recurrent convolution (stride 1, 'same'). Gradients come
from autograd through the convolution ops.

Example:
    >>> ConvLSTM2D(4, 3, padding="same")(np.zeros((2, 5, 8, 8, 1))).shape
    (2, 8, 8, 4)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import activations, initializers, regularizers
from npgrad import random as npgrad_random
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


def _rate(value, cls, arg):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not 0 <= value < 1:
        raise ValueError(f"{cls}: argument `{arg}` must be a float in [0, 1), got {value!r}")
    return float(value)


class ConvLSTMCell(Layer):
    """The weights and one step of a convolutional LSTM (Keras's ConvLSTMCell).

    Args:
        rank: 1, 2 or 3 spatial axes.
        filters, kernel_size, strides, padding, dilation_rate: of the input convolution
            (the recurrent one has stride 1 and 'same' padding).
        activation, recurrent_activation: defaults 'tanh', 'sigmoid'.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        unit_forget_bias, kernel_regularizer, recurrent_regularizer, bias_regularizer,
        dropout, recurrent_dropout, seed: as Keras's ConvLSTM layers.

    Weights: kernel (*K, C, 4*filters), recurrent_kernel (*K, filters, 4*filters), bias
    (4*filters,), gates i, f, c, o along the last axis.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if rank not in (1, 2, 3):
            raise ValueError(f"{cls}: argument `rank` must be 1, 2 or 3, got {rank!r}")
        self.rank = rank
        self.filters = arguments.positive_int(filters, cls, "filters")
        self.kernel_size = arguments.int_tuple(kernel_size, rank, cls, "kernel_size")
        self.strides = arguments.int_tuple(strides, rank, cls, "strides")
        self.padding = arguments.padding_arg(padding, cls)
        arguments.check_data_format(data_format, cls)
        self.dilation_rate = arguments.int_tuple(dilation_rate, rank, cls, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{cls}: `strides > 1` is not compatible with `dilation_rate > 1`, "
                             f"got strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = _rate(dropout, cls, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, cls, "recurrent_dropout")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, f = self.bias_initializer, self.filters

        def unit_forget(shape, dtype=None):
            # Keras: [init(F), ones(F), init(2F)]: the forget gate starts open
            return np.concatenate([np.asarray(base((f,), dtype=dtype), dtype=dtype),
                                   np.ones((f,), dtype=dtype),
                                   np.asarray(base((2 * f,), dtype=dtype), dtype=dtype)])

        return unit_forget

    def build(self, input_shape):
        """Create the weights from one step's shape (N, *S, C)."""
        channels = arguments.known_axis(self, input_shape, -1, "channel axis")
        gates = 4 * self.filters
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, gates),
                                      self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", self.kernel_size + (self.filters, gates),
            self.recurrent_initializer, self.recurrent_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (gates,), self._bias_initializer(),
                                        self.bias_regularizer)

    def state_shape(self, step_shape):
        """Spatial shape + filters of h and c for one step's input shape (N, *S, C)."""
        spatial = tuple(
            arguments.conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(step_shape[1:-1], self.kernel_size, self.strides,
                                  self.dilation_rate)
        )
        return spatial + (self.filters,)

    def _dropout_mask(self, shape, rate, dtype):
        """One inverted-dropout mask per sequence, the same at every step (as Keras)."""
        rng = self._rng if self._rng is not None else npgrad_random.generator()
        return (rng.random(shape) >= rate).astype(dtype) / dtype.type(1.0 - rate)

    def input_projection(self, x, training=False):
        """Input convolutions of all steps at once: (N, T, *S, C) -> (N, T, *O, 4F)."""
        n, t = x.shape[:2]
        if training and self.dropout > 0.0:
            mask = self._dropout_mask((n, 1) + tuple(x.shape[2:]), self.dropout, x.dtype)
            x = x * mask
        images = F.reshape(x, (n * t,) + tuple(x.shape[2:]))  # (N*T, *S, C)
        z = F.conv(images, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                   dilation_rate=self.dilation_rate)  # (N*T, *O, 4F)
        return F.reshape(z, (n, t) + tuple(z.shape[1:]))

    def recurrent_mask(self, state_shape, training):
        """The recurrent dropout mask for h, or None."""
        if not training or self.recurrent_dropout == 0.0:
            return None
        return self._dropout_mask(state_shape, self.recurrent_dropout, self.dtype)

    def step(self, z_input, h, c, recurrent_mask=None):
        """One step from the projected input z_input (N, *O, 4F) and states h, c (N, *O, F)."""
        h_in = h if recurrent_mask is None else h * recurrent_mask
        z = z_input + F.conv(h_in, self.recurrent_kernel, padding="same")  # (N, *O, 4F)
        f, lead = self.filters, (slice(None),) * (self.rank + 1)
        gate = [F.getitem(z, lead + (slice(k * f, (k + 1) * f),)) for k in range(4)]
        i = self.recurrent_activation(gate[0])
        forget = self.recurrent_activation(gate[1])
        c = forget * c + i * self.activation(gate[2])
        o = self.recurrent_activation(gate[3])
        return o * self.activation(c), c

    def get_config(self):
        config = super().get_config()
        config.update(
            rank=self.rank,
            filters=self.filters,
            kernel_size=tuple(self.kernel_size),
            strides=tuple(self.strides),
            padding=self.padding,
            dilation_rate=tuple(self.dilation_rate),
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            unit_forget_bias=self.unit_forget_bias,
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
        )
        return config


_CELL_ARGUMENTS = (
    "filters", "kernel_size", "strides", "padding", "dilation_rate", "activation",
    "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "dropout", "recurrent_dropout", "seed",
)


class ConvLSTM(Layer):
    """Run a :class:`ConvLSTMCell` over the time axis (Keras's ConvLSTM base).

    Args (besides the cell's): return_sequences (all steps (N, T, *O, F) instead of the last),
    return_state (also return the final [h, c]), go_backwards (last step first; the returned
    sequence is in processing order, as Keras), stateful (carry the final states into the
    next call until :meth:`reset_states`), unroll (accepted for Keras configs; the steps
    always loop), zero_output_for_mask (zeros instead of the repeated output at masked steps
    of a returned sequence).

    Call: ``layer(x, training=False, initial_state=None, mask=None)``; ``initial_state`` is
    [h0, c0], each (N, *O, filters). ``mask`` is an (N, T) boolean timestep mask (True = a
    real step): at a masked step h and c are carried over and the output repeats the
    previous one, as Keras's RNN; with ``return_sequences`` the output carries the mask on.

    Weights: the cell's: kernel, recurrent_kernel, bias.
    """

    rank = 2
    supports_masking = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.cell = ConvLSTMCell(
            self.rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
            activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, unit_forget_bias, kernel_regularizer,
            recurrent_regularizer, bias_regularizer, dropout, recurrent_dropout, seed,
            dtype=self.dtype, trainable=self.trainable)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._carried = None

    @property
    def layout(self):
        return f"(batch, time, *{self.rank} spatial axes, channels)"

    def reset_states(self):
        """Forget the states a stateful layer carries between calls."""
        self._carried = None

    def _step_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, self.rank + 3, self.layout)
        return (input_shape[0],) + tuple(input_shape[2:])

    def compute_output_shape(self, input_shape):
        step = self._step_shape(input_shape)
        state = self.cell.state_shape(step)
        if any(n is not None and n <= 0 for n in state[:-1]):
            raise arguments.incompatible(
                self, f"spatial size of at least the kernel's span {self.cell.kernel_size} "
                      f"for padding='{self.cell.padding}'", input_shape)
        n = input_shape[0]
        out = (n, input_shape[1]) + state if self.return_sequences else (n,) + state
        return [out, (n,) + state, (n,) + state] if self.return_state else out

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        if any(s is None for s in input_shape[2:]):
            raise arguments.incompatible(self, "known spatial and channel axes", input_shape)
        self.cell._maybe_build(self._step_shape(input_shape))

    def _initial_states(self, shape, initial_state):
        n = shape[0]
        state_shape = (n,) + self.cell.state_shape(self._step_shape(shape))
        if initial_state is None:
            if self.stateful and self._carried is not None and self._carried[0].shape[0] == n:
                return list(self._carried)
            return [Tensor(np.zeros(state_shape, dtype=self.dtype)) for _ in range(2)]
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
            raise ValueError(f"{self.name}: expected initial_state = [h, c], got "
                             f"{type(initial_state).__name__}")
        states = []
        for s in initial_state:
            s = s if isinstance(s, Tensor) else Tensor(np.asarray(s, dtype=self.dtype))
            if tuple(s.shape) != state_shape:
                raise ValueError(f"{self.name}: expected initial states of shape {state_shape}, "
                                 f"got {tuple(s.shape)}")
            states.append(s)
        return states

    def _timestep_mask(self, mask, shape):
        """The (N, T) mask as a bool ndarray, or None when absent or keeping every step."""
        if mask is None:
            return None
        mask = np.asarray(getattr(mask, "data", mask)).astype(bool, copy=False)
        if mask.shape != tuple(shape[:2]):
            raise ValueError(f"{self.name}: expected a timestep mask of shape (batch, time) = "
                             f"{tuple(shape[:2])}, got a mask of shape {mask.shape}")
        return None if mask.all() else mask

    def compute_mask(self, inputs, mask=None):
        """The input's mask with ``return_sequences``, else None (None for the states)."""
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def call(self, x, training=False, initial_state=None, mask=None):
        self.compute_output_shape(x.shape)
        mask = self._timestep_mask(mask, x.shape)
        arguments.check_axis(self, x.shape, -1, self.input_shape_built[-1], "channel axis")
        if x.shape[1] == 0:
            raise arguments.incompatible(self, "at least one time step", x.shape)
        h, c = self._initial_states(x.shape, initial_state)
        z = self.cell.input_projection(x, training)  # (N, T, *O, 4F)
        recurrent_mask = self.cell.recurrent_mask(tuple(h.shape), training)
        steps = range(x.shape[1] - 1, -1, -1) if self.go_backwards else range(x.shape[1])
        outputs = []
        for t in steps:
            h_new, c_new = self.cell.step(F.getitem(z, (slice(None), t)), h, c, recurrent_mask)
            if mask is None:
                h, c = h_new, c_new
            else:  # a masked step keeps the states (and so repeats the output)
                keep = mask[:, t].reshape((-1,) + (1,) * (h.ndim - 1))
                h, c = F.where(keep, h_new, h), F.where(keep, c_new, c)
            if mask is not None and self.zero_output_for_mask:
                outputs.append(h * keep.astype(h.dtype))
            else:
                outputs.append(h)
        if self.stateful:
            self._carried = [Tensor(h.data.copy()), Tensor(c.data.copy())]
        result = F.stack(outputs, axis=1) if self.return_sequences else h
        return [result, h, c] if self.return_state else result

    def get_config(self):
        config = super().get_config()
        cell = self.cell.get_config()
        config.update({key: cell[key] for key in _CELL_ARGUMENTS})
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
                      zero_output_for_mask=self.zero_output_for_mask)
        return config


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM over (N, T, H, W, C) image sequences, Keras's ConvLSTM2D.

    Args:
        filters: channels of the states and output.
        kernel_size: int or (kh, kw), of both convolutions.
        strides, padding ('valid' or 'same'), dilation_rate: of the input convolution.
        data_format: None or 'channels_last'.
        activation: default 'tanh'; recurrent_activation: default 'sigmoid'.
        use_bias: default True; unit_forget_bias: forget-gate bias starts at 1 (default True).
        kernel_initializer, recurrent_initializer, bias_initializer: defaults
            'glorot_uniform', 'orthogonal', 'zeros'.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties.
        dropout, recurrent_dropout: rates in [0, 1) for the inputs and h (one mask per
            sequence); seed: their random seed.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as :class:`ConvLSTM`.

    Weights: kernel (kh, kw, C, 4*filters), recurrent_kernel (kh, kw, filters, 4*filters),
    bias (4*filters,), gates i, f, c, o.
    Shapes: (N, T, H, W, C) -> (N, OH, OW, filters), or (N, T, OH, OW, filters) with
    return_sequences.
    """

    rank = 2


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM over (N, T, L, C) sequences of sequences, Keras's ConvLSTM1D.

    Args and weights as :class:`ConvLSTM2D` with one spatial axis: kernel (k, C, 4*filters).
    Shapes: (N, T, L, C) -> (N, OL, filters), or (N, T, OL, filters) with return_sequences.
    """

    rank = 1


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM over (N, T, D, H, W, C) volume sequences, Keras's ConvLSTM3D.

    Args and weights as :class:`ConvLSTM2D` with three spatial axes.
    Shapes: (N, T, D, H, W, C) -> (N, OD, OH, OW, filters) (with T after N when
    return_sequences).
    """

    rank = 3
