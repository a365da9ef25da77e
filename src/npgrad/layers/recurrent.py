"""Recurrent layers: SimpleRNN, LSTM, GRU (and their cells), RNN, Bidirectional, TimeDistributed.

Weights, gate layouts and defaults match Keras, so ``set_weights(keras_layer.get_weights())``
gives the same outputs: kernel (F, k*U), recurrent_kernel (U, k*U), bias; LSTM gates i, f, c, o;
GRU gates z, r, h (bias (2, 3U) with reset_after=True, (3U,) otherwise).

A built-in cell runs a whole sequence as one fused op (``npgrad.primitives.recurrent``): one GEMM for
the input projection, one per step for the recurrence, and a hand-written backward through
time. Activations other than tanh, sigmoid, relu, linear and hard_sigmoid fall back to
composing the steps from autograd ops. A custom cell (any Layer with ``state_size`` and
``call(inputs, states, training)`` returning ``(output, new_states)``) runs step by step.

Example:
    >>> LSTM(32)(np.ones((8, 10, 4))).shape
    (8, 32)
    >>> seq, h, c = LSTM(32, return_sequences=True, return_state=True)(np.ones((8, 10, 4)))
    >>> seq.shape, h.shape, c.shape
    ((8, 10, 32), (8, 32), (8, 32))
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import activations, constraints, initializers, regularizers
from npgrad import random as _random
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.layer import Layer, get_layer_class
from npgrad.primitives import recurrent as ops

# activation functions the fused ops run natively, by identity
def _op_activation(fn):
    """The fused op's name for a built-in activation the fused ops implement (their one
    table: ``npgrad.primitives.recurrent_activations``), else the callable itself."""
    try:
        name = activations.serialize(fn)
    except (TypeError, ValueError):
        return fn
    fusable = isinstance(name, str) and name in ops.FUSED_ACTIVATIONS
    return name if fusable and activations.get(name) is fn else fn


def _rate(value, layer_cls, arg):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not 0 <= value < 1:
        raise ValueError(f"{layer_cls}: argument `{arg}` must be a float in [0, 1), got {value!r}")
    return float(value)


def _as_state(value, dtype):
    if isinstance(value, Tensor):
        return value if value.dtype == dtype else value.astype(dtype)
    return Tensor(np.asarray(value, dtype=dtype))


# ------------------------------------------------------------------ cells


class _Cell(Layer):
    """Shared configuration of the built-in cells (weights, dropout, serialization)."""

    _gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = arguments.positive_int(units, cls, "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout, cls, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, cls, "recurrent_dropout")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    @property
    def state_size(self):
        """Sizes of the states carried between steps."""
        return [self.units]

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 2)
        n_in = arguments.known_axis(self, input_shape, -1)
        k = self._gates * self.units
        self.kernel = self.add_weight("kernel", (n_in, k), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, k),
                                                self.recurrent_initializer,
                                                self.recurrent_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), self._bias_initializer(),
                                        self.bias_regularizer)
            self.bias.constraint = self.bias_constraint
        # applied by the optimizer after each update (Keras' Variable.constraint)
        self.kernel.constraint = self.kernel_constraint
        self.recurrent_kernel.constraint = self.recurrent_constraint

    # -------------------------------------------------------------- the whole sequence
    def _generator(self):
        return self._rng if self._rng is not None else _random.generator()

    def _dropped_inputs(self, x, training):
        """Input dropout: one mask per sequence, the same at every step (as Keras)."""
        if not training or self.dropout == 0.0:
            return x
        seed = int(self._generator().integers(2**63))
        return F.dropout(x, self.dropout, training=True, seed=seed,
                         noise_shape=(x.shape[0], 1, x.shape[2]))

    def _recurrent_mask(self, n, training):
        if not training or self.recurrent_dropout == 0.0:
            return None
        keep = self._generator().random((n, self.units)) >= self.recurrent_dropout
        return keep * self.dtype.type(1.0 / (1.0 - self.recurrent_dropout))

    def _check_input(self, x, ndim):
        arguments.check_ndim(self, x.shape, ndim)
        arguments.check_axis(self, x.shape, -1, self.kernel.shape[0])

    def sequence(self, x, states, go_backwards=False, training=False, mask=None,
                 last_only=False):
        """Run the cell over a whole sequence.

        Args:
            x: (N, T, F) Tensor.
            states: list of (N, U) Tensors (see ``state_size``).
            go_backwards: process the steps last to first.
            training: apply dropout.
            mask: optional (N, T) boolean timestep mask; masked steps carry the states over.
            last_only: only the last step's output is wanted: outputs may then be (N, 1, U)
                (the LSTM and GRU ops hand over just that step).

        Returns:
            (outputs, final_states): outputs (N, T, U) in processing order, and the states
            after the last processed step.
        """
        self._check_input(x, 3)
        x = self._dropped_inputs(x, training)
        recurrent_mask = self._recurrent_mask(x.shape[0], training)
        return self._run(x, states, go_backwards, recurrent_mask, mask, last_only)

    def call(self, inputs, states, training=False):
        """One step: inputs (N, F), states list of (N, U) -> (output (N, U), new_states)."""
        self._check_input(inputs, 2)
        if not isinstance(states, (list, tuple)):
            states = [states]
        states = [_as_state(s, self.dtype) for s in states]
        x = F.expand_dims(inputs, 1)
        if training and self.dropout > 0.0:
            x = F.dropout(x, self.dropout, training=True,
                          seed=int(self._generator().integers(2**63)))
        _, new_states = self._run(x, states, False, self._recurrent_mask(x.shape[0], training),
                                  None, True)
        return new_states[0], new_states

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            recurrent_constraint=constraints.serialize(self.recurrent_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
        )
        return config


class SimpleRNNCell(_Cell):
    """Fully connected recurrent cell: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        units: size of the state (positive int).
        activation: default 'tanh'.
        use_bias: whether to add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: defaults
            'glorot_uniform', 'orthogonal', 'zeros' (Keras).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties.
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of the state dropped where it enters the recurrent matmul.
        seed: optional int for the dropout masks.

    Weights: kernel (F, U), recurrent_kernel (U, U), bias (U,).
    Shapes (one step): inputs (N, F), states [(N, U)] -> output (N, U), states [(N, U)].
    """

    def _run(self, x, states, go_backwards, recurrent_mask, mask, last_only):
        # every step either way: the op's output is a view of its own states, no copy
        seq = ops.simple_rnn(x, self.kernel, self.recurrent_kernel, self.bias, states[0],
                             activation=_op_activation(self.activation),
                             go_backwards=go_backwards, recurrent_mask=recurrent_mask, mask=mask)
        return seq, [F.getitem(seq, (slice(None), -1))]


class LSTMCell(_Cell):
    """Long short-term memory cell with Keras's maths and gate order i, f, c, o.

    ``i, f, o = recurrent_activation(.)``, ``g = activation(.)`` of
    ``x_t @ kernel + h_{t-1} @ recurrent_kernel + bias``; ``c_t = f * c_{t-1} + i * g``;
    ``h_t = o * activation(c_t)``.

    Args:
        units: size of the hidden and cell states.
        activation: default 'tanh'. recurrent_activation: default 'sigmoid'.
        unit_forget_bias: initialize the forget gate's bias to ones (Keras default True).
        Other arguments as :class:`SimpleRNNCell`.

    Weights: kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,).
    Shapes (one step): inputs (N, F), states [h, c] each (N, U) -> output h, states [h, c].
    """

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def unit_forget(shape, dtype=None):
            # Keras: [init(U), ones(U), init(2U)]: the forget gate starts open
            return np.concatenate([np.asarray(base((u,), dtype=dtype), dtype=dtype),
                                   np.ones((u,), dtype=dtype),
                                   np.asarray(base((2 * u,), dtype=dtype), dtype=dtype)])

        return unit_forget

    def _run(self, x, states, go_backwards, recurrent_mask, mask, last_only):
        h0, c0 = states
        hs, c = ops.lstm(x, self.kernel, self.recurrent_kernel, self.bias, h0, c0,
                         activation=_op_activation(self.activation),
                         recurrent_activation=_op_activation(self.recurrent_activation),
                         go_backwards=go_backwards, recurrent_mask=recurrent_mask, mask=mask,
                         return_sequences=not last_only)
        return hs, [F.getitem(hs, (slice(None), -1)), c]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.serialize(self.recurrent_activation),
                      unit_forget_bias=self.unit_forget_bias)
        return config


class GRUCell(_Cell):
    """Gated recurrent unit cell with Keras's maths and gate order z, r, h.

    ``z, r = recurrent_activation(.)``; candidate ``hh = activation(x_t W_h + r * (h_{t-1} U_h
    + b_rec_h))`` with ``reset_after=True`` (Keras default), or ``activation(x_t W_h +
    (r * h_{t-1}) U_h)`` with ``reset_after=False``; ``h_t = z * h_{t-1} + (1 - z) * hh``.

    Args:
        units: size of the state.
        activation: default 'tanh'. recurrent_activation: default 'sigmoid'.
        reset_after: see above; it also sets the bias shape.
        Other arguments as :class:`SimpleRNNCell`.

    Weights: kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U) when reset_after
    (input bias row 0, recurrent bias row 1), else (3U,).
    Shapes (one step): inputs (N, F), states [(N, U)] -> output (N, U), states [(N, U)].
    """

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _run(self, x, states, go_backwards, recurrent_mask, mask, last_only):
        seq = ops.gru(x, self.kernel, self.recurrent_kernel, self.bias, states[0],
                      activation=_op_activation(self.activation),
                      recurrent_activation=_op_activation(self.recurrent_activation),
                      reset_after=self.reset_after, go_backwards=go_backwards,
                      recurrent_mask=recurrent_mask, mask=mask, return_sequences=not last_only)
        return seq, [F.getitem(seq, (slice(None), -1))]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activations.serialize(self.recurrent_activation),
                      reset_after=self.reset_after)
        return config


# ------------------------------------------------------------------ RNN


def timestep_mask(layer, mask, shape):
    """A mask given to a sequence layer as an (N, T) bool ndarray, or None when there is
    none or it keeps every step (then nothing changes, so the unmasked path runs).

    Raises:
        ValueError: naming the layer, when the mask does not match the input's batch and
            time axes.
    """
    if mask is None:
        return None
    mask = np.asarray(getattr(mask, "data", mask))
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.shape != tuple(shape[:2]):
        raise ValueError(
            f"{layer.name}: expected a timestep mask of shape (batch, time) = {tuple(shape[:2])} "
            f"matching the input of shape {tuple(shape)}, got a mask of shape {mask.shape}"
        )
    mask = mask.astype(bool, copy=False)
    return None if mask.all() else mask


def _state_sizes(cell):
    size = cell.state_size
    return [int(size)] if isinstance(size, (int, np.integer)) else [int(s) for s in size]


class RNN(Layer):
    """Run a cell over the time axis of (N, T, F) inputs.

    Args:
        cell: a built-in cell (fused whole-sequence op) or any Layer with ``state_size`` (int
            or list) and ``call(inputs, states, training)`` returning ``(output, new_states)``.
        return_sequences: return every step's output (N, T, U) instead of the last (N, U).
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: process the sequence last step first; the returned sequence is then in
            processing order (reversed), as Keras.
        stateful: carry the final states of one batch into the next call (same batch size)
            until :meth:`reset_states`.
        zero_output_for_mask: with a timestep mask, output zeros at masked steps instead of
            repeating the previous output (Keras; ``Bidirectional`` sets it to
            ``return_sequences``).

    Call: ``layer(x, training=False, initial_state=None, mask=None)``; ``initial_state`` is a
    list of (N, U) arrays or Tensors, one per state (LSTM: [h, c]), and receives gradients.
    ``mask`` is an (N, T) boolean timestep mask (True = a real step); it is taken from the
    input when an ``Embedding(mask_zero=True)`` or ``Masking`` layer made it. At a masked
    step the states are carried over unchanged and the output repeats the previous one
    (zeros with ``zero_output_for_mask``), so padding, on the left or the right, changes
    nothing. With ``return_sequences`` the output carries the mask on; otherwise the mask
    is consumed.

    Weights: the cell's.
    """

    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            raise TypeError(f"{type(self).__name__}: stacked cells (a list) are not supported; "
                            "stack RNN layers with return_sequences=True instead")
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise TypeError(f"{type(self).__name__}: `cell` must be a Layer with a `state_size`, "
                            f"got {type(cell).__name__}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for Keras compatibility; steps always loop
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._carried = None

    @property
    def units(self):
        return getattr(self.cell, "units", None)

    @property
    def states(self):
        """The carried states of a stateful layer (None before the first call or after reset)."""
        return self._carried

    def reset_states(self):
        """Forget the states a stateful layer carries between calls."""
        self._carried = None

    def build(self, input_shape):
        arguments.check_ndim(self, input_shape, 3, "(batch, time, features)")
        self._n_features = arguments.known_axis(self, input_shape, -1)
        self.cell._maybe_build((input_shape[0], self._n_features))

    def _initial_states(self, x, initial_state):
        sizes, n = _state_sizes(self.cell), x.shape[0]
        if initial_state is None:
            if self.stateful and self._carried is not None and self._carried[0].shape[0] == n:
                return list(self._carried)
            return [Tensor(np.zeros((n, s), dtype=self.dtype)) for s in sizes]
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if len(initial_state) != len(sizes):
            raise ValueError(f"{self.name}: expected {len(sizes)} initial state(s), "
                             f"got {len(initial_state)}")
        states = [_as_state(s, self.dtype) for s in initial_state]
        for s, size in zip(states, sizes):
            if s.shape != (n, size):
                raise ValueError(f"{self.name}: expected an initial state of shape {(n, size)}, "
                                 f"got {s.shape}")
        return states

    def _loop(self, x, states, training, mask):
        """Step by step, for custom cells (a masked step keeps the states and repeats the
        previous output, taken as the first state, as Keras's NumPy and JAX backends)."""
        order = range(x.shape[1] - 1, -1, -1) if self.go_backwards else range(x.shape[1])
        outputs = []
        for t in order:
            out, new_states = self.cell(F.getitem(x, (slice(None), t)), states,
                                        training=training)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            if mask is not None:
                keep = mask[:, t : t + 1]  # (N, 1)
                out = F.where(keep, out, states[0])
                new_states = [F.where(keep, new, old) for new, old in zip(new_states, states)]
            states = list(new_states)
            outputs.append(out)
        return F.stack(outputs, axis=1), list(states)

    def call(self, x, training=False, initial_state=None, mask=None):
        arguments.check_ndim(self, x.shape, 3, "(batch, time, features)")
        arguments.check_axis(self, x.shape, -1, self._n_features)
        if x.shape[1] == 0:
            raise arguments.incompatible(self, "at least one time step", x.shape)
        mask = timestep_mask(self, mask, x.shape)
        states = self._initial_states(x, initial_state)
        if isinstance(self.cell, _Cell):
            # without return_sequences the cell's op may give the last step only
            outputs, final = self.cell.sequence(x, states, self.go_backwards, training, mask,
                                                last_only=not self.return_sequences)
        else:
            outputs, final = self._loop(x, states, training, mask)
        if mask is not None and self.zero_output_for_mask:
            keep = mask[:, ::-1] if self.go_backwards else mask  # processing order
            keep = keep[:, keep.shape[1] - outputs.shape[1] :]  # the steps outputs has
            outputs = outputs * keep[..., None].astype(outputs.dtype)
        if self.stateful:
            self._carried = [Tensor(s.data.copy()) for s in final]
        result = outputs if self.return_sequences else F.getitem(outputs, (slice(None), -1))
        return [result, *final] if self.return_state else result

    def compute_mask(self, inputs, mask=None):
        """The input's mask with ``return_sequences`` (as given, also with go_backwards, as
        Keras), else None; None for the states with ``return_state``."""
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_state_sizes(self.cell))
        return output_mask

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 3, "(batch, time, features)")
        n, t = input_shape[0], input_shape[1]
        units = getattr(self.cell, "output_size", None) or _state_sizes(self.cell)[0]
        out = (n, t, units) if self.return_sequences else (n, units)
        if self.return_state:
            return [out] + [(n, s) for s in _state_sizes(self.cell)]
        return out

    def _rnn_config(self):
        return dict(return_sequences=self.return_sequences, return_state=self.return_state,
                    go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
                    zero_output_for_mask=self.zero_output_for_mask)

    def get_config(self):
        config = super().get_config()
        config["cell"] = {"class_name": type(self.cell).__name__, "config": self.cell.get_config()}
        config.update(self._rnn_config())
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = config.pop("cell")
        cell = get_layer_class(cell["class_name"]).from_config(cell["config"])
        return cls(cell, **config)


class _CellRNN(RNN):
    """An RNN that builds its own cell from the cell's arguments (SimpleRNN, LSTM, GRU)."""

    _cell_class = None

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, name=None,
                 trainable=True, dtype=None, input_shape=None, batch_input_shape=None,
                 batch_size=None, **cell_kwargs):
        cell = self._cell_class(units, dtype=dtype, **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, name=name,
                         trainable=trainable, dtype=dtype, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, batch_size=batch_size)

    def __getattr__(self, name):
        # Keras exposes the cell's configuration on the layer (layer.units, layer.activation)
        if name.startswith("_") or name == "cell":
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and name in cell.__dict__:
            return cell.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        config = Layer.get_config(self)
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "batch_input_shape"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config.update(self._rnn_config())
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SimpleRNN(_CellRNN):
    """Fully connected RNN whose output is fed back as the next input (Keras SimpleRNN).

    Args:
        units: size of the state.
        activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, dropout,
        recurrent_dropout, seed: as :class:`SimpleRNNCell`.
        return_sequences, return_state, go_backwards, stateful: as :class:`RNN`.

    Weights: kernel (F, U), recurrent_kernel (U, U), bias (U,).
    Shapes: (N, T, F) -> (N, U), or (N, T, U) with return_sequences; with return_state
    ``[output, h]``.

    Example:
        >>> SimpleRNN(4, return_sequences=True)(np.ones((2, 5, 3))).shape
        (2, 5, 4)
    """

    _cell_class = SimpleRNNCell


class LSTM(_CellRNN):
    """Long short-term memory layer (Keras LSTM, gates i, f, c, o).

    Args:
        units: size of the hidden and cell states.
        activation ('tanh'), recurrent_activation ('sigmoid'), unit_forget_bias (True) and the
        other cell arguments: as :class:`LSTMCell`.
        return_sequences, return_state, go_backwards, stateful: as :class:`RNN`.

    Weights: kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,).
    Shapes: (N, T, F) -> (N, U), or (N, T, U) with return_sequences; with return_state
    ``[output, h, c]``.

    Example:
        >>> out, h, c = LSTM(4, return_state=True)(np.ones((2, 5, 3)))
        >>> out.shape, c.shape
        ((2, 4), (2, 4))
    """

    _cell_class = LSTMCell


class GRU(_CellRNN):
    """Gated recurrent unit layer (Keras GRU, gates z, r, h; reset_after=True by default).

    Args:
        units: size of the state.
        activation ('tanh'), recurrent_activation ('sigmoid'), reset_after (True) and the other
        cell arguments: as :class:`GRUCell`.
        return_sequences, return_state, go_backwards, stateful: as :class:`RNN`.

    Weights: kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U) (reset_after) or (3U,).
    Shapes: (N, T, F) -> (N, U), or (N, T, U) with return_sequences; with return_state
    ``[output, h]``.

    Example:
        >>> GRU(4)(np.ones((2, 5, 3))).shape
        (2, 4)
    """

    _cell_class = GRUCell
