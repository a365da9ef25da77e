"""Registry cases: the fused recurrent ops and the SimpleRNN/LSTM/GRU/Bidirectional layers.

Shapes are drawn small (batch 1-3, time 1-5, features 1-3, units 1-3) with every flag:
go_backwards, use_bias, a recurrent-dropout mask, reset_after, return_sequences (the LSTM
and GRU ops then output their last step only), return_state and initial states. The
activation is drawn among fused names and a callable (softsign), which takes the composed
step-by-step path, so both paths are checked.
Gradients are checked with respect to the input, kernel, recurrent_kernel, bias and the
initial states. The ``*_masked`` cases always add a timestep mask (padded sequences): random
holes, left or right padding, and rows that are masked entirely. The ``*_halves`` cases run
the ops on two halves of the batch, the second half in the helper process.
"""

import os
from unittest import mock

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from npgrad.layers import recurrent as R
from npgrad.layers.recurrent_wrappers import Bidirectional
from npgrad.primitives import batch_halves
from npgrad.primitives import recurrent as ops
from tests.gradcheck.registry import OpCase, floats

_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
_ACTIVATIONS = ["tanh", "sigmoid", "linear", F.softsign]


def _array(draw, shape, low=-1.5, high=1.5):
    return draw(hnp.arrays(np.float64, tuple(shape), elements=floats(low, high)))


@st.composite
def _dims(draw, min_batch=1):
    n = draw(st.integers(min_batch, max(3, min_batch + 2)))
    return (n,) + tuple(draw(st.integers(1, hi)) for hi in (5, 3, 3))  # N, T, F, U


@st.composite
def _step_mask(draw, n, t):
    """An (N, T) timestep mask: holes, left/right padding, and sometimes an all-masked row."""
    pattern = draw(st.sampled_from(["holes", "right", "left"]))
    if pattern == "holes":
        mask = draw(hnp.arrays(np.bool_, (n, t)))
    else:
        lengths = draw(st.lists(st.integers(0, t), min_size=n, max_size=n))
        steps = np.arange(t)
        mask = np.stack([steps < k if pattern == "right" else steps >= t - k for k in lengths])
    if draw(st.booleans()):
        mask[draw(st.integers(0, n - 1))] = False
    return mask


@st.composite
def _op_inputs(draw, kind, masked=False, min_batch=1):
    n, t, f, u = draw(_dims(min_batch))
    k = _GATES[kind] * u
    arrays = [_array(draw, (n, t, f)), _array(draw, (f, k)), _array(draw, (u, k), -1, 1)]
    arrays += [_array(draw, (n, u)) for _ in range(2 if kind == "lstm" else 1)]
    kwargs = {"go_backwards": draw(st.booleans()), "activation": draw(st.sampled_from(_ACTIVATIONS))}
    if kind != "simple_rnn":
        kwargs["recurrent_activation"] = draw(st.sampled_from(["sigmoid", "tanh"]))
    if kind == "gru":
        kwargs["reset_after"] = draw(st.booleans())
    if kind != "simple_rnn":  # False: the op outputs the last step only
        kwargs["return_sequences"] = draw(st.booleans())
    if draw(st.booleans()):
        keep = draw(hnp.arrays(np.bool_, (n, u)))
        kwargs["recurrent_mask"] = keep * 2.0  # rate 0.5
    if draw(st.booleans()):
        shape = (2, k) if kwargs.get("reset_after") else (k,)
        arrays.append(_array(draw, shape))
        kwargs["use_bias"] = True
    if masked:
        kwargs["mask"] = draw(_step_mask(n, t))
    return arrays, kwargs


def _simple_rnn(x, kernel, recurrent_kernel, h0, *bias, use_bias=False, **kwargs):
    return ops.simple_rnn(x, kernel, recurrent_kernel, bias[0] if bias else None, h0, **kwargs)


def _lstm(x, kernel, recurrent_kernel, h0, c0, *bias, use_bias=False, **kwargs):
    hs, c = ops.lstm(x, kernel, recurrent_kernel, bias[0] if bias else None, h0, c0, **kwargs)
    return F.concatenate([hs, F.expand_dims(c, 1)], axis=1)  # (N, T + 1, U)


def _gru(x, kernel, recurrent_kernel, h0, *bias, use_bias=False, **kwargs):
    return ops.gru(x, kernel, recurrent_kernel, bias[0] if bias else None, h0, **kwargs)


def _halves(fn):
    """``fn`` with its op split between this process and the helper process whatever the
    size (``batch_halves``: the first half of the batch here, the second there)."""
    def split(*args, **kwargs):
        with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "1"}), \
                mock.patch.multiple(batch_halves, MIN_BATCH=2, MIN_FLOPS=0):
            return fn(*args, **kwargs)

    split.__name__ = f"{fn.__name__}_halves"
    return split


# ------------------------------------------------------------------ layers


def _bind_cell(cell, kernel, recurrent_kernel, bias):
    """Make the given Tensors the cell's weights (they are what ``call`` reads)."""
    cell.set_weights([w.data for w in (kernel, recurrent_kernel, bias) if w is not None])
    cell.kernel, cell.recurrent_kernel, cell.bias = kernel, recurrent_kernel, bias


def _flat(outputs):
    """One Tensor from a layer's output or [output, *states] (for the gradient check)."""
    if not isinstance(outputs, list):
        return outputs
    n = outputs[0].shape[0]
    return F.concatenate([F.reshape(o, (n, -1)) for o in outputs], axis=1)


@st.composite
def _layer_inputs(draw, kind, masked=False):
    n, t, f, u = draw(_dims())
    k = _GATES[kind] * u
    config = {
        "units": u,
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "use_bias": draw(st.booleans()),
        "activation": draw(st.sampled_from(["tanh", "sigmoid", "linear"])),
    }
    if kind == "gru":
        config["reset_after"] = draw(st.booleans())
    arrays = [_array(draw, (n, t, f)), _array(draw, (f, k)), _array(draw, (u, k), -1, 1)]
    if config["use_bias"]:
        arrays.append(_array(draw, (2, k) if config.get("reset_after", True) and kind == "gru"
                             else (k,)))
    n_states = 2 if kind == "lstm" else 1
    with_states = draw(st.booleans())
    if with_states:
        arrays += [_array(draw, (n, u)) for _ in range(n_states)]
    if masked:
        config["mask"] = draw(_step_mask(n, t))
        config["zero_output_for_mask"] = draw(st.booleans())
    return arrays, {**config, "n_states": n_states if with_states else 0}


def _layer_fn(cls):
    def fn(x, kernel, recurrent_kernel, *rest, n_states=0, mask=None, **config):
        layer = cls(dtype="float64", **config)
        layer._maybe_build(x.shape)
        bias = rest[0] if config["use_bias"] else None
        states = list(rest[len(rest) - n_states:]) if n_states else None
        _bind_cell(layer.cell, kernel, recurrent_kernel, bias)
        return _flat(layer(x, initial_state=states, mask=mask))

    fn.__name__ = f"{cls.__name__}_layer"
    return fn


@st.composite
def _bidirectional_inputs(draw, masked=False):
    n, t, f, u = draw(_dims())
    config = {"units": u, "return_sequences": draw(st.booleans()),
              "return_state": draw(st.booleans()),
              "merge_mode": draw(st.sampled_from(["concat", "sum", "ave", "mul", None]))}
    arrays = [_array(draw, (n, t, f))]
    for _ in range(2):  # forward then backward GRU weights
        arrays += [_array(draw, (f, 3 * u)), _array(draw, (u, 3 * u), -1, 1),
                   _array(draw, (2, 3 * u))]
    if masked:
        config["mask"] = draw(_step_mask(n, t))
    return arrays, config


def _bidirectional(x, *weights, units, return_sequences, return_state, merge_mode, mask=None):
    layer = Bidirectional(R.GRU(units, return_sequences=return_sequences,
                                  return_state=return_state, dtype="float64"),
                            merge_mode=merge_mode, dtype="float64")
    layer._maybe_build(x.shape)
    _bind_cell(layer.forward_layer.cell, *weights[:3])
    _bind_cell(layer.backward_layer.cell, *weights[3:])
    out = layer(x, mask=mask)
    return _flat(out if isinstance(out, list) else [out])


CASES = [
    OpCase("simple_rnn_sequence", _simple_rnn, _op_inputs("simple_rnn")),
    OpCase("lstm_sequence", _lstm, _op_inputs("lstm")),
    OpCase("gru_sequence", _gru, _op_inputs("gru")),
    OpCase("layer_simple_rnn", _layer_fn(R.SimpleRNN), _layer_inputs("simple_rnn")),
    OpCase("layer_lstm", _layer_fn(R.LSTM), _layer_inputs("lstm")),
    OpCase("layer_gru", _layer_fn(R.GRU), _layer_inputs("gru")),
    OpCase("layer_bidirectional_gru", _bidirectional, _bidirectional_inputs()),
    OpCase("simple_rnn_sequence_masked", _simple_rnn, _op_inputs("simple_rnn", masked=True)),
    OpCase("lstm_sequence_masked", _lstm, _op_inputs("lstm", masked=True)),
    OpCase("gru_sequence_masked", _gru, _op_inputs("gru", masked=True)),
    OpCase("layer_simple_rnn_masked", _layer_fn(R.SimpleRNN),
           _layer_inputs("simple_rnn", masked=True)),
    OpCase("layer_lstm_masked", _layer_fn(R.LSTM), _layer_inputs("lstm", masked=True)),
    OpCase("layer_gru_masked", _layer_fn(R.GRU), _layer_inputs("gru", masked=True)),
    OpCase("layer_bidirectional_gru_masked", _bidirectional, _bidirectional_inputs(masked=True)),
    # the ops on two halves of the batch, the second in the helper process (batch_halves)
    OpCase("lstm_sequence_halves", _halves(_lstm), _op_inputs("lstm", True, min_batch=2)),
    OpCase("gru_sequence_halves", _halves(_gru), _op_inputs("gru", True, min_batch=2)),
    OpCase("simple_rnn_sequence_halves", _halves(_simple_rnn),
           _op_inputs("simple_rnn", min_batch=2)),
]
