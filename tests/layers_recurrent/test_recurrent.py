"""SimpleRNN, LSTM, GRU, RNN, Bidirectional and TimeDistributed: Keras parity, shapes, gate
layouts, long sequences, dropout, statefulness, configs and errors.

Gradients of every layer and flag are checked in tests/gradcheck/cases_recurrent.py.
"""

import itertools

import numpy as np
import pytest

import npgrad
import npgrad.functional as F
from npgrad.autograd.tensor import Tensor
from npgrad.layers.core import Dense
from npgrad.layers.layer import Layer
from npgrad.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
)
from npgrad.layers.recurrent_wrappers import Bidirectional, TimeDistributed
from npgrad.primitives import recurrent as ops

LAYERS = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
N_STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1}


def _x(n=2, t=5, f=3, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, t, f)).astype(dtype)


def _build(layer, x):
    layer(x)
    return layer


# ------------------------------------------------------------------ Keras parity
@pytest.mark.parametrize("case, make", [
    ("simplernn_seq", lambda: SimpleRNN(5, return_sequences=True)),
    ("lstm_seq", lambda: LSTM(5, return_sequences=True)),
    ("gru_seq", lambda: GRU(5, return_sequences=True)),
    ("gru_reset_before_seq", lambda: GRU(5, return_sequences=True, reset_after=False)),
])
def test_matches_keras_reference(keras_ref, case, make):
    x = keras_ref[f"{case}/x"]
    layer = make()
    layer(x[:, :1])  # build
    layer.set_weights([keras_ref[f"{case}/w{i}"] for i in range(3)])
    y = layer(x).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, keras_ref[f"{case}/y"], rtol=1e-5, atol=1e-6)


def test_last_output_and_go_backwards_match_keras_semantics(keras_ref):
    x, ys = keras_ref["lstm_seq/x"], keras_ref["lstm_seq/y"]
    weights = [keras_ref[f"lstm_seq/w{i}"] for i in range(3)]
    last = _build(LSTM(5), x)
    last.set_weights(weights)
    np.testing.assert_allclose(last(x).numpy(), ys[:, -1], rtol=1e-5, atol=1e-6)
    # go_backwards on x == forwards on x reversed in time (outputs in processing order)
    back = _build(LSTM(5, go_backwards=True, return_sequences=True), x)
    back.set_weights(weights)
    fwd = _build(LSTM(5, return_sequences=True), x)
    fwd.set_weights(weights)
    np.testing.assert_allclose(back(x).numpy(), fwd(x[:, ::-1]).numpy(), rtol=1e-6)


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("kind, gates", [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
def test_weight_shapes_order_and_counts_match_keras(kind, gates):
    layer = _build(LAYERS[kind](5), _x(f=4))
    k = gates * 5
    bias = (2, k) if kind == "gru" else (k,)
    assert [w.shape for w in layer.weights] == [(4, k), (5, k), bias]
    assert [w.name.split("/")[-1] for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert layer.count_params() == 4 * k + 5 * k + int(np.prod(bias))
    # orthogonal recurrent kernel: rows orthonormal (U <= k*U)
    rec = layer.weights[1].numpy().astype(np.float64)
    np.testing.assert_allclose(rec @ rec.T, np.eye(5), atol=1e-5)


def test_gru_reset_before_bias_shape_and_no_bias():
    assert _build(GRU(3, reset_after=False), _x()).weights[2].shape == (9,)
    assert len(_build(LSTM(3, use_bias=False), _x()).weights) == 2


def test_lstm_unit_forget_bias_initializes_the_forget_slice_to_one():
    bias = _build(LSTM(4), _x()).weights[2].numpy()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    bias = _build(LSTM(4, unit_forget_bias=False), _x()).weights[2].numpy()
    np.testing.assert_array_equal(bias, np.zeros(16))


# ------------------------------------------------------------------ gate layouts
def test_lstm_gate_order_open_forget_closed_input_carries_the_cell_state():
    u, x = 3, _x(t=7, dtype=np.float64)
    layer = _build(LSTM(u, return_state=True, dtype="float64"), x)
    bias = np.zeros(4 * u)
    bias[:u], bias[u:2 * u], bias[3 * u:] = -100.0, 100.0, 100.0  # i shut, f open, o open
    kernel = np.random.default_rng(1).standard_normal((3, 4 * u))
    layer.set_weights([kernel, np.zeros((u, 4 * u)), bias])
    c0 = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]])
    h, h_state, c = layer(x, initial_state=[np.zeros((2, u)), c0])
    np.testing.assert_allclose(c.numpy(), c0, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), np.tanh(c0), atol=1e-12)  # o = 1
    # closing the output gate (last slice) zeroes h while c is still carried
    bias[3 * u:] = -100.0
    layer.set_weights([kernel, np.zeros((u, 4 * u)), bias])
    h, _, c = layer(x, initial_state=[np.zeros((2, u)), c0])
    np.testing.assert_allclose(h.numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), c0, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gate_order_update_gate_open_carries_the_state(reset_after):
    u, x = 3, _x(t=6, dtype=np.float64)
    layer = _build(GRU(u, reset_after=reset_after, dtype="float64"), x)
    bias = np.zeros((2, 3 * u) if reset_after else 3 * u)
    row = bias[0] if reset_after else bias
    row[:u] = 100.0  # z = 1: h_t = h_{t-1}
    rng = np.random.default_rng(2)
    layer.set_weights([rng.standard_normal((3, 3 * u)), rng.standard_normal((u, 3 * u)), bias])
    h0 = rng.standard_normal((2, u))
    np.testing.assert_allclose(layer(x, initial_state=[h0]).numpy(), h0, atol=1e-12)
    # z = 0 and r = 0: h_t = tanh(x_t W_h + b_h), independent of the past
    row[:2 * u] = -100.0
    layer.set_weights([layer.weights[0].numpy(), layer.weights[1].numpy(), bias])
    expected = np.tanh(x[:, -1] @ layer.weights[0].numpy()[:, 2 * u:])
    np.testing.assert_allclose(layer(x, initial_state=[h0]).numpy(), expected, atol=1e-12)


def test_simple_rnn_with_identity_recurrence_and_linear_activation_sums_inputs():
    x = _x(t=4, f=2, dtype=np.float64)
    layer = _build(SimpleRNN(2, activation="linear", dtype="float64"), x)
    layer.set_weights([np.eye(2), np.eye(2), np.zeros(2)])
    np.testing.assert_allclose(layer(x).numpy(), x.sum(axis=1), atol=1e-12)


# ------------------------------------------------------------------ shapes for every flag
@pytest.mark.parametrize("kind, return_sequences, return_state, go_backwards", list(
    itertools.product(["simple_rnn", "lstm", "gru"], [False, True], [False, True], [False, True])))
def test_output_and_state_shapes_for_every_flag(kind, return_sequences, return_state, go_backwards):
    x = _x(n=3, t=4, f=2)
    layer = LAYERS[kind](5, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards)
    out = layer(x)
    expected = (3, 4, 5) if return_sequences else (3, 5)
    if not return_state:
        assert isinstance(out, Tensor) and out.shape == expected
        assert layer.compute_output_shape((None, 4, 2)) == (None,) + expected[1:]
        return
    assert len(out) == 1 + N_STATES[kind]
    assert out[0].shape == expected and all(s.shape == (3, 5) for s in out[1:])
    last = out[0].numpy()[:, -1] if return_sequences else out[0].numpy()
    np.testing.assert_array_equal(out[1].numpy(), last)  # h is the last processed output
    shapes = layer.compute_output_shape((None, 4, 2))
    assert shapes == [(None,) + expected[1:]] + [(None, 5)] * N_STATES[kind]


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_initial_state_sets_the_start_and_receives_gradients(kind):
    x = _x(dtype=np.float64)
    layer = _build(LAYERS[kind](4, dtype="float64"), x)
    states = [Tensor(np.full((2, 4), 0.3), requires_grad=True) for _ in range(N_STATES[kind])]
    y = layer(x, initial_state=states)
    assert not np.allclose(y.numpy(), layer(x).numpy())
    y.sum().backward()
    assert all(s.grad is not None and s.grad.shape == (2, 4) and np.any(s.grad) for s in states)


# ------------------------------------------------------------------ paths agree
@pytest.mark.parametrize("activation", ["relu", "hard_sigmoid", "sigmoid", "linear"])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_fused_and_composed_paths_agree(kind, activation):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 3))
    u, gates = 4, {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind]
    kernel, rec = rng.standard_normal((3, gates * u)), rng.standard_normal((u, gates * u)) * 0.5
    bias = rng.standard_normal((2, gates * u) if kind == "gru" else gates * u)
    composed = {"relu": F.relu, "hard_sigmoid": F.hard_sigmoid, "sigmoid": F.sigmoid,
                "linear": F.linear}[activation]
    wrapped = lambda t: composed(t)  # noqa: E731 - a callable not recognized as fused
    fn = {"simple_rnn": ops.simple_rnn, "lstm": lambda *a, **k: ops.lstm(*a, **k)[0],
          "gru": ops.gru}[kind]
    extra = {} if kind == "simple_rnn" else {"recurrent_activation": "sigmoid"}
    fused = fn(x, kernel, rec, bias, activation=activation, **extra).numpy()
    stepwise = fn(x, kernel, rec, bias, activation=wrapped, **extra).numpy()
    np.testing.assert_allclose(fused, stepwise, rtol=1e-10, atol=1e-12)


def test_a_custom_activation_takes_the_composed_path_and_trains():
    x = _x(dtype=np.float64)
    layer = _build(LSTM(3, activation="softsign", dtype="float64"), x)
    layer(x).sum().backward()
    assert all(w.grad is not None and np.all(np.isfinite(w.grad)) for w in layer.weights)


# ------------------------------------------------------------------ long sequences
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_a_thousand_step_sequence_runs_forward_and_backward(kind):
    x = Tensor(_x(n=2, t=1000, f=3), requires_grad=True)
    layer = LAYERS[kind](8, return_sequences=True)
    y = layer(x)
    (y * y).mean().backward()
    assert x.grad.shape == x.shape and np.all(np.isfinite(x.grad))
    assert all(w.grad is not None and np.all(np.isfinite(w.grad)) for w in layer.weights)
    assert np.any(x.grad[:, 0])  # the gradient reaches the first step


def test_a_thousand_steps_on_the_composed_path_do_not_recurse():
    x = Tensor(_x(n=1, t=1000, f=2), requires_grad=True)
    layer = GRU(3, activation="softsign")
    layer(x).sum().backward()
    assert np.all(np.isfinite(x.grad))


# ------------------------------------------------------------------ generic RNN and cells
def test_rnn_of_a_builtin_cell_equals_the_layer():
    x = _x()
    layer = _build(GRU(4, return_sequences=True), x)
    rnn = _build(RNN(GRUCell(4), return_sequences=True), x)
    rnn.set_weights(layer.get_weights())
    np.testing.assert_allclose(rnn(x).numpy(), layer(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("cell_cls, kind", [(SimpleRNNCell, "simple_rnn"), (LSTMCell, "lstm"),
                                            (GRUCell, "gru")])
def test_stepping_a_cell_equals_the_layer(cell_cls, kind):
    x = _x(dtype=np.float64)
    layer = _build(LAYERS[kind](4, return_sequences=True, dtype="float64"), x)
    cell = cell_cls(4, dtype="float64")
    states = [np.zeros((2, 4))] * N_STATES[kind]
    cell(x[:, 0], states)
    cell.set_weights(layer.get_weights())
    outputs = []
    for t in range(x.shape[1]):
        out, states = cell(x[:, t], states)
        outputs.append(out.numpy())
    np.testing.assert_allclose(np.stack(outputs, axis=1), layer(x).numpy(), rtol=1e-10)


class _MinimalCell(Layer):
    """h_t = h_{t-1} + x_t @ w: a custom cell, run step by step."""

    state_size = 2

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1], 2), "ones")

    def call(self, inputs, states, training=False):
        h = states[0] + F.matmul(inputs, self.w)
        return h, [h]


def test_rnn_runs_a_custom_cell_step_by_step():
    x = _x(t=4)
    layer = RNN(_MinimalCell(), return_sequences=True, go_backwards=True)
    y = layer(Tensor(x))
    expected = np.cumsum(x[:, ::-1].sum(axis=2), axis=1)
    np.testing.assert_allclose(y.numpy(), np.repeat(expected[..., None], 2, axis=2), rtol=1e-5)
    assert len(layer.weights) == 1


# ------------------------------------------------------------------ dropout and state
def test_dropout_applies_only_in_training_and_is_seedable():
    x = _x()
    layer = _build(LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=7), x)
    plain = LSTM(4)
    _build(plain, x).set_weights(layer.get_weights())
    np.testing.assert_array_equal(layer(x).numpy(), plain(x).numpy())
    trained = layer(x, training=True).numpy()
    assert not np.allclose(trained, plain(x).numpy())
    again = LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=7)
    _build(again, x).set_weights(layer.get_weights())
    layer2 = LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=7)
    _build(layer2, x).set_weights(layer.get_weights())
    np.testing.assert_array_equal(again(x, training=True).numpy(),
                                  layer2(x, training=True).numpy())


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stateful_layer_continues_where_the_last_batch_stopped(kind):
    x = _x(t=6)
    whole = _build(LAYERS[kind](4, return_sequences=True), x)
    stateful = _build(LAYERS[kind](4, return_sequences=True, stateful=True), x[:, :3])
    stateful.reset_states()
    stateful.set_weights(whole.get_weights())
    halves = [stateful(x[:, :3]).numpy(), stateful(x[:, 3:]).numpy()]
    np.testing.assert_allclose(np.concatenate(halves, axis=1), whole(x).numpy(), rtol=1e-5)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), halves[0], rtol=1e-6)


# ------------------------------------------------------------------ Bidirectional
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_merge_modes(merge_mode):
    x = _x(t=4)
    layer = Bidirectional(GRU(3, return_sequences=True), merge_mode=merge_mode)
    out = layer(x)
    forward = _build(GRU(3, return_sequences=True), x)
    forward.set_weights(layer.get_weights()[:3])
    backward = _build(GRU(3, return_sequences=True), x)
    backward.set_weights(layer.get_weights()[3:])
    f, b = forward(x).numpy(), backward(x[:, ::-1]).numpy()[:, ::-1]  # back in input order
    expected = {"concat": np.concatenate([f, b], axis=-1), "sum": f + b, "ave": (f + b) / 2,
                "mul": f * b, None: [f, b]}[merge_mode]
    if merge_mode is None:
        np.testing.assert_allclose(out[0].numpy(), f, rtol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), b, rtol=1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert len(layer.weights) == 6 and layer.count_params() == 2 * forward.count_params()


def test_bidirectional_last_output_and_states():
    x = _x(t=5)
    layer = Bidirectional(LSTM(3, return_state=True))
    y, h_f, c_f, h_b, c_b = layer(x)
    assert y.shape == (2, 6)
    np.testing.assert_array_equal(y.numpy()[:, :3], h_f.numpy())
    np.testing.assert_array_equal(y.numpy()[:, 3:], h_b.numpy())
    assert layer.compute_output_shape((None, 5, 3)) == [(None, 6)] + [(None, 3)] * 4
    states = [np.full((2, 3), 0.1)] * 4
    assert not np.allclose(layer(x, initial_state=states)[0].numpy(), y.numpy())


def test_bidirectional_config_round_trip_and_errors():
    layer = Bidirectional(LSTM(3, return_sequences=True), merge_mode="sum")
    clone = Bidirectional.from_config(layer.get_config())
    assert clone.merge_mode == "sum" and clone.backward_layer.go_backwards
    assert clone(_x()).shape == (2, 5, 3)
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(TypeError, match="RNN"):
        Bidirectional(Dense(3))


# ------------------------------------------------------------------ TimeDistributed
def test_time_distributed_dense_applies_the_same_layer_at_every_step():
    x = Tensor(_x(t=4, f=3), requires_grad=True)
    layer = TimeDistributed(Dense(5))
    y = layer(x)
    assert y.shape == (2, 4, 5) and layer.compute_output_shape((None, 4, 3)) == (None, 4, 5)
    dense = layer.layer
    for t in range(4):
        np.testing.assert_allclose(y.numpy()[:, t], dense(x.numpy()[:, t]).numpy(), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.broadcast_to(dense.weights[0].numpy().sum(axis=1),
                                                       (2, 4, 3)), rtol=1e-5)
    assert len(layer.weights) == 2
    with pytest.raises(ValueError, match="time_distributed"):
        TimeDistributed(Dense(2))(np.ones((2, 3)))


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_a_few_gradient_steps_reduce_the_loss(kind):
    npgrad.utils.set_random_seed(0)  # initial weights: a fixed, not a lucky, draw
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6, 2)).astype(np.float32)
    target = x[:, :, 0].sum(axis=1, keepdims=True) * 0.3  # a running sum
    rnn, head = LAYERS[kind](8), Dense(1)
    params = None
    losses = []
    for _ in range(60):
        loss = F.mse(target, head(rnn(x))).mean()
        losses.append(loss.item())
        loss.backward()
        params = rnn.trainable_weights + head.trainable_weights
        for p in params:
            p.data -= 0.1 * p.grad
            p.zero_grad()
    assert losses[-1] < 0.5 * losses[0]


# ------------------------------------------------------------------ configs and errors
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_config_round_trip(kind):
    layer = LAYERS[kind](4, return_sequences=True, go_backwards=True, dropout=0.1)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    rnn = RNN(LSTMCell(2), return_state=True)
    assert RNN.from_config(rnn.get_config()).get_config()["cell"]["config"]["units"] == 2


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_bad_inputs_raise_errors_naming_the_layer(kind):
    layer = LAYERS[kind](3, name=f"my_{kind}")
    with pytest.raises(ValueError, match=rf"my_{kind}.*rank 3.*got shape \(2, 5\)"):
        layer(np.ones((2, 5)))
    layer(np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=rf"my_{kind}.*last axis 4.*got shape \(2, 5, 6\)"):
        layer(np.ones((2, 5, 6)))
    with pytest.raises(ValueError, match=rf"my_{kind}.*rank 3"):
        layer(np.ones((2, 5, 4, 1)))
    with pytest.raises(ValueError, match=f"my_{kind}.*initial state"):
        layer(np.ones((2, 5, 4)), initial_state=[np.zeros((2, 3))] * 3)
    with pytest.raises(ValueError, match=rf"my_{kind}.*shape \(2, 3\), got \(2, 4\)"):
        layer(np.ones((2, 5, 4)), initial_state=[np.zeros((2, 4))] * N_STATES[kind])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="recurrent_dropout"):
        GRU(3, recurrent_dropout=1.0)
    with pytest.raises(ValueError, match="activation"):
        SimpleRNN(3, activation="nope")
    with pytest.raises(TypeError, match="cell"):
        RNN(Dense(3))
    with pytest.raises(ValueError, match="kernel"):
        ops.lstm(np.ones((2, 3, 4)), np.ones((3, 8)), np.ones((2, 8)))
