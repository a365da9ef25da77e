"""Wrappers around recurrent and other layers: Bidirectional, TimeDistributed."""

from __future__ import annotations
import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.layer import Layer, get_layer_class
from npgrad.layers.recurrent import RNN, timestep_mask


_MERGE_MODES = ("concat", "sum", "ave", "mul", None)


class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards, and merge the two.

    Args:
        layer: an :class:`RNN` instance (SimpleRNN, LSTM, GRU...); it becomes the forward
            layer.
        merge_mode: 'concat' (default), 'sum', 'ave', 'mul', or None (return both outputs
            as a list).
        backward_layer: optional RNN for the backward direction (default: a copy of
            ``layer`` from its config, with go_backwards flipped).

    With return_sequences, the backward outputs are reversed back to input order before
    merging, so step t of both halves belongs to input step t. ``initial_state`` is the
    forward layer's states followed by the backward layer's. With return_state the result is
    ``[merged, *forward_states, *backward_states]``.

    A timestep mask (``mask=`` or from ``Embedding(mask_zero=True)`` / ``Masking``) goes to
    both directions, so the backward layer also skips padding wherever it sits. As Keras,
    both layers get ``zero_output_for_mask = return_sequences``: with return_sequences the
    masked steps output zeros, and the mask is passed on.

    Weights: the forward layer's, then the backward layer's.
    Shapes: (N, T, F) -> (N, [T,] 2U) with 'concat', (N, [T,] U) otherwise.

    Example:
        >>> Bidirectional(LSTM(4, return_sequences=True))(np.ones((2, 5, 3))).shape
        (2, 5, 8)
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional: `layer` must be an RNN layer, got {type(layer).__name__}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {list(_MERGE_MODES)}, "
                             f"got {merge_mode!r}")
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        if backward_layer is None:
            config = layer.get_config()
            config.update(name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            config.pop("batch_input_shape", None)
            backward_layer = type(layer).from_config(config)
        elif not isinstance(backward_layer, RNN):
            raise TypeError("Bidirectional: `backward_layer` must be an RNN layer, got "
                            f"{type(backward_layer).__name__}")
        elif (backward_layer.return_sequences != layer.return_sequences
              or backward_layer.return_state != layer.return_state):
            raise ValueError("Bidirectional: `backward_layer` must have the same "
                             "return_sequences and return_state as `layer`")
        if not layer.built:
            layer.name = f"forward_{layer.name}"
        self.forward_layer = layer
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        for sub in (layer, backward_layer):  # Keras forces this on both directions
            sub.zero_output_for_mask = sub.return_sequences

    @property
    def layer(self):
        return self.forward_layer

    def build(self, input_shape):
        arguments.check_ndim(self, input_shape, 3, "(batch, time, features)")
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)

    def _merge(self, a, b):
        if self.merge_mode == "concat":
            return F.concatenate([a, b], axis=-1)
        if self.merge_mode == "sum":
            return a + b
        if self.merge_mode == "ave":
            return (a + b) * 0.5
        if self.merge_mode == "mul":
            return a * b
        return [a, b]

    supports_masking = True

    def call(self, x, training=False, initial_state=None, mask=None):
        arguments.check_ndim(self, x.shape, 3, "(batch, time, features)")
        forward_initial = backward_initial = None
        if initial_state is not None:
            initial_state = list(initial_state)
            if len(initial_state) % 2:
                raise ValueError(f"{self.name}: expected an even number of initial states "
                                 f"(forward then backward), got {len(initial_state)}")
            half = len(initial_state) // 2
            forward_initial, backward_initial = initial_state[:half], initial_state[half:]
        mask = timestep_mask(self, mask, x.shape)
        y_f = self.forward_layer(x, training=training, initial_state=forward_initial, mask=mask)
        y_b = self.backward_layer(x, training=training, initial_state=backward_initial,
                                  mask=mask)
        states = []
        if self.return_state:
            y_f, *states_f = y_f
            y_b, *states_b = y_b
            states = states_f + states_b
        if self.return_sequences:
            y_b = F.getitem(y_b, (slice(None), slice(None, None, -1)))
        merged = self._merge(y_f, y_b)
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + states
        return merged

    def compute_mask(self, inputs, mask=None):
        """The input's mask with return_sequences (one per output with merge_mode None),
        else None; the states carry none."""
        if not self.return_sequences:
            mask = None
        return [mask, mask] if self.merge_mode is None else mask

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, *states = shape
            states = states + states
        if self.merge_mode == "concat":
            out = tuple(shape[:-1]) + (2 * shape[-1],)
        elif self.merge_mode is None:
            out = [tuple(shape), tuple(shape)]
        else:
            out = tuple(shape)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def get_config(self):
        config = super().get_config()
        config["layer"] = {"class_name": type(self.forward_layer).__name__,
                           "config": self.forward_layer.get_config()}
        config["backward_layer"] = {"class_name": type(self.backward_layer).__name__,
                                    "config": self.backward_layer.get_config()}
        config["merge_mode"] = self.merge_mode
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer = config.pop("layer")
        layer = get_layer_class(layer["class_name"]).from_config(layer["config"])
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = get_layer_class(backward["class_name"]).from_config(backward["config"])
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Layer):
    """Apply a layer to every time step: (N, T, ...) -> (N, T, ...'), one call on N*T samples.

    Args:
        layer: the layer to apply (its weights are shared across steps).

    Weights: the wrapped layer's.
    Shapes: (N, T, *rest) -> (N, T, *layer_output_rest). A timestep mask passes through
    (the wrapped layer itself sees no mask).

    Example:
        >>> TimeDistributed(Dense(8))(np.ones((2, 5, 3))).shape
        (2, 5, 8)
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed: `layer` must be a Layer, got {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 3)
        n, t = input_shape[0], input_shape[1]
        merged = None if n is None or t is None else n * t
        self.layer._maybe_build((merged,) + tuple(input_shape[2:]))

    def call(self, x, training=False):
        arguments.check_min_ndim(self, x.shape, 3)
        n, t = x.shape[0], x.shape[1]
        y = self.layer(F.reshape(x, (n * t,) + tuple(x.shape[2:])), training=training)
        return F.reshape(y, (n, t) + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 3)
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self):
        config = super().get_config()
        config["layer"] = {"class_name": type(self.layer).__name__,
                           "config": self.layer.get_config()}
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer = config.pop("layer")
        return cls(get_layer_class(layer["class_name"]).from_config(layer["config"]), **config)


__all__ = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN",
           "SimpleRNNCell", "TimeDistributed"]
