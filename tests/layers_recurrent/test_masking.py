"""Masking and padded sequences (Keras 3 semantics).

A masked recurrent layer must give, for every row, what the same layer gives on that row's
real steps alone: right or left padding, holes, go_backwards, return_sequences,
return_state, Bidirectional. Masks come from ``Embedding(mask_zero=True)``, ``Masking`` or
``mask=``; they pass through per-timestep layers, travel through Sequential and functional
models, and leave the loss. Gradients through masked sequences are checked in
tests/gradcheck/cases_recurrent.py (the ``*_masked`` cases).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import layers as L
from npgrad.autograd.tensor import Tensor
from npgrad.utils.gradcheck import gradcheck

LAYERS = [L.SimpleRNN, L.LSTM, L.GRU]


def _padded(lengths, t, f, padding, seed=0, dtype=np.float32):
    """Random sequences of the given lengths, zero-padded to t steps, and their mask."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((len(lengths), t), dtype=bool)
    for i, k in enumerate(lengths):
        if padding == "right":
            mask[i, :k] = True
        else:
            mask[i, t - k:] = True
    x = rng.standard_normal((len(lengths), t, f)).astype(dtype)
    x[~mask] = 0.0
    return x, mask


def _real_positions(mask_row, go_backwards):
    """Where a row's real steps sit in the output sequence (processing order)."""
    steps = np.flatnonzero(mask_row)
    t = mask_row.shape[0]
    return np.sort(t - 1 - steps) if go_backwards else steps


def _as_list(out):
    return out if isinstance(out, list) else [out]


# ------------------------------------------------------------------ equal to unpadded runs
@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masked_layer_equals_each_sequence_run_alone(cls, padding, go_backwards,
                                                     return_sequences):
    x, mask = _padded([6, 3, 1, 4], t=6, f=3, padding=padding)
    layer = cls(4, return_sequences=return_sequences, return_state=True,
                go_backwards=go_backwards)
    out, *states = layer(x, mask=mask)
    for i in range(x.shape[0]):
        alone, *alone_states = layer(x[i:i + 1, mask[i]])
        if return_sequences:
            real = _real_positions(mask[i], go_backwards)
            np.testing.assert_allclose(out.numpy()[i, real], alone.numpy()[0], atol=1e-6)
        else:
            np.testing.assert_allclose(out.numpy()[i], alone.numpy()[0], atol=1e-6)
        for s, s_alone in zip(states, alone_states):
            np.testing.assert_allclose(s.numpy()[i], s_alone.numpy()[0], atol=1e-6)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_masked_steps_repeat_the_previous_output(cls):
    x, mask = _padded([2, 5, 3], t=5, f=2, padding="left")
    mask[1, 2] = False  # a hole
    out = cls(3, return_sequences=True)(x, mask=mask).numpy()
    for i in range(3):
        previous = np.zeros(3, dtype=np.float32)  # the initial state
        for t in range(5):
            if not mask[i, t]:
                np.testing.assert_array_equal(out[i, t], previous)
            previous = out[i, t]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_zero_output_for_mask(cls):
    x, mask = _padded([4, 2], t=4, f=2, padding="right")
    plain = cls(3, return_sequences=True)
    zeroed = cls.from_config({**plain.get_config(), "name": "zeroed", "zero_output_for_mask": True})
    plain(x)
    zeroed(x)
    zeroed.set_weights(plain.get_weights())
    a, b = plain(x, mask=mask).numpy(), zeroed(x, mask=mask).numpy()
    np.testing.assert_array_equal(b[~mask], 0.0)
    np.testing.assert_allclose(b[mask], a[mask], atol=1e-7)
    assert zeroed.get_config()["zero_output_for_mask"] is True


_masks = st.integers(1, 4).flatmap(lambda n: st.integers(1, 6).flatmap(
    lambda t: hnp.arrays(np.bool_, (n, t))))


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@given(mask=_masks, go_backwards=st.booleans())
def test_any_mask_equals_dropping_the_masked_steps(cls, mask, go_backwards):
    n, t = mask.shape
    x = np.random.default_rng(n * 7 + t).standard_normal((n, t, 2))
    layer = cls(3, return_state=True, go_backwards=go_backwards, dtype="float64")
    out, *states = layer(x, mask=mask)
    for i in range(n):
        if not mask[i].any():  # nothing real: the initial (zero) states, output included
            np.testing.assert_array_equal(out.numpy()[i], 0.0)
            continue
        alone, *alone_states = layer(x[i:i + 1, mask[i]])
        np.testing.assert_allclose(out.numpy()[i], alone.numpy()[0], atol=1e-12)
        for s, s_alone in zip(states, alone_states):
            np.testing.assert_allclose(s.numpy()[i], s_alone.numpy()[0], atol=1e-12)


def test_all_masked_rows_keep_the_initial_state():
    x, mask = _padded([0, 3], t=3, f=2, padding="right")
    h0, c0 = np.full((2, 4), 0.5, np.float32), np.full((2, 4), -0.25, np.float32)
    out, h, c = L.LSTM(4, return_sequences=True, return_state=True)(
        x, initial_state=[h0, c0], mask=mask)
    np.testing.assert_array_equal(out.numpy()[0], np.broadcast_to(h0[0], (3, 4)))
    np.testing.assert_array_equal(h.numpy()[0], h0[0])
    np.testing.assert_array_equal(c.numpy()[0], c0[0])


def test_custom_cell_is_masked_like_the_built_in_one():
    x, mask = _padded([3, 1], t=3, f=2, padding="left", dtype=np.float64)
    built_in = L.SimpleRNN(3, return_sequences=True, dtype="float64")
    expected = built_in(x, mask=mask).numpy()

    class Cell(L.Layer):  # a custom cell: RNN runs it step by step
        state_size = 3

        def call(self, inputs, states, training=False):
            cell = built_in.cell
            return cell(inputs, states)

    custom = L.RNN(Cell(dtype="float64"), return_sequences=True, dtype="float64")
    np.testing.assert_allclose(custom(x, mask=mask).numpy(), expected, atol=1e-12)


def test_composed_activation_path_is_masked_too():
    x, mask = _padded([3, 2], t=3, f=2, padding="right", dtype=np.float64)
    fused = L.GRU(3, return_sequences=True, dtype="float64")
    composed = L.GRU(3, return_sequences=True, activation="softsign", dtype="float64")
    fused(x)
    composed(x)
    out = composed(x, mask=mask).numpy()
    for i in range(2):
        alone = composed(x[i:i + 1, mask[i]]).numpy()[0]
        np.testing.assert_allclose(out[i, mask[i]], alone, atol=1e-12)


# ------------------------------------------------------------------ Bidirectional
@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_equals_each_sequence_run_alone(padding, return_sequences, merge_mode):
    x, mask = _padded([5, 2, 4], t=5, f=3, padding=padding, seed=3)
    layer = L.Bidirectional(L.LSTM(3, return_sequences=return_sequences, return_state=True),
                            merge_mode=merge_mode)
    out, *states = layer(x, mask=mask)
    assert layer.forward_layer.zero_output_for_mask == return_sequences
    assert layer.backward_layer.zero_output_for_mask == return_sequences
    for i in range(3):
        alone, *alone_states = layer(x[i:i + 1, mask[i]])
        if return_sequences:
            np.testing.assert_allclose(out.numpy()[i, mask[i]], alone.numpy()[0], atol=1e-6)
            np.testing.assert_array_equal(out.numpy()[i, ~mask[i]], 0.0)  # Keras: zeros
        else:
            np.testing.assert_allclose(out.numpy()[i], alone.numpy()[0], atol=1e-6)
        for s, s_alone in zip(states, alone_states):
            np.testing.assert_allclose(s.numpy()[i], s_alone.numpy()[0], atol=1e-6)


def test_bidirectional_passes_the_mask_on_only_with_return_sequences():
    x, mask = _padded([3, 1], t=3, f=2, padding="right")
    seq = L.Bidirectional(L.GRU(2, return_sequences=True))(Tensor(x), mask=mask)
    np.testing.assert_array_equal(seq._keras_mask, mask)
    both = L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode=None)(x, mask=mask)
    assert all(np.array_equal(y._keras_mask, mask) for y in both)
    assert L.Bidirectional(L.GRU(2))(x, mask=mask)._keras_mask is None


# ------------------------------------------------------------------ producing masks
def test_embedding_mask_zero_attaches_the_mask():
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    out = L.Embedding(5, 2, mask_zero=True)(ids)
    np.testing.assert_array_equal(out._keras_mask, ids != 0)
    assert L.Embedding(5, 2)(ids)._keras_mask is None


def test_masking_layer_semantics():
    x = np.array([[[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]],
                  [[-1.0, -1.0], [5.0, -1.0], [-1.0, -1.0]]], dtype=np.float32)
    zero = L.Masking()(x)
    np.testing.assert_array_equal(zero._keras_mask, [[True, False, True], [True, True, True]])
    layer = L.Masking(mask_value=-1.0)
    out = layer(x)
    np.testing.assert_array_equal(out._keras_mask, [[True, True, True], [False, True, False]])
    expected = x.copy()
    expected[1, [0, 2]] = 0.0  # masked steps are zeroed, as Keras
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(layer.compute_mask(x), out._keras_mask)
    assert layer.compute_output_shape((None, 3, 2)) == (None, 3, 2)
    clone = L.Masking.from_config(layer.get_config())
    assert clone.mask_value == -1.0


def test_masking_then_lstm_equals_the_unpadded_sequences():
    x, mask = _padded([4, 2, 3], t=4, f=3, padding="left", seed=5)
    model = npgrad.Sequential([L.Masking(0.0), L.LSTM(3)])
    out = model(x).numpy()
    lstm = model.layers[1]
    for i in range(3):
        np.testing.assert_allclose(out[i], lstm(x[i:i + 1, mask[i]]).numpy()[0], atol=1e-6)


def test_masking_gradient_flows_to_real_steps_only():
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    x[0, 1] = 0.0
    t = Tensor(x, requires_grad=True)
    upstream = np.random.default_rng(1).standard_normal(x.shape)
    (L.Masking(dtype="float64")(t) * upstream).sum().backward()
    expected = upstream.copy()
    expected[0, 1] = 0.0  # the mask itself is a constant (a step-function of the input)
    np.testing.assert_array_equal(t.grad, expected)


def test_masked_sequential_gradients_by_finite_differences():
    # LSTM -> TimeDistributed(Dense) -> GRU in float64 with a constant mask (holes, an
    # all-masked row); padded inputs get exactly zero gradient
    x, mask = _padded([3, 0, 2], t=3, f=2, padding="left", seed=4, dtype=np.float64)
    mask[0, 1] = False
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([L.LSTM(2, return_sequences=True, dtype="float64"),
                               L.TimeDistributed(L.Dense(2, dtype="float64"), dtype="float64"),
                               L.GRU(2, go_backwards=True, dtype="float64")])
    model(x)
    gradcheck(lambda t: model(t, mask=mask), [x], {})
    t = Tensor(x, requires_grad=True)
    model(t, mask=mask).sum().backward()
    np.testing.assert_array_equal(t.grad[~mask], 0.0)


def test_layers_that_support_masking_pass_the_mask_on():
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    h = L.Embedding(4, 3, mask_zero=True)(ids)
    for layer in [L.Dense(2), L.Dropout(0.5), L.Activation("relu"), L.ReLU(),
                  L.LayerNormalization(), L.TimeDistributed(L.Dense(2))]:
        out = layer(h, training=True)
        np.testing.assert_array_equal(out._keras_mask, ids != 0)
    assert L.LSTM(2)(h)._keras_mask is None  # consumed
    np.testing.assert_array_equal(L.LSTM(2, return_sequences=True)(h)._keras_mask, ids != 0)


def test_layer_without_masking_support_drops_the_mask_with_a_warning():
    h = L.Embedding(4, 3, mask_zero=True)(np.array([[1, 0]]))
    layer = L.Flatten()
    with pytest.warns(UserWarning, match="does not support masking"):
        out = layer(h)
    assert out._keras_mask is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per layer
        layer(h)


def test_global_average_pooling_1d_averages_real_steps():
    x, mask = _padded([3, 1], t=3, f=2, padding="right", seed=2)
    out = L.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(out.numpy(), [x[0].mean(0), x[1, 0]], atol=1e-6)
    assert out._keras_mask is None
    np.testing.assert_array_equal(
        L.GlobalAveragePooling1D()(x, mask=np.zeros((2, 3), bool)).numpy(), 0.0)


# ------------------------------------------------------------------ models
def _embedding_model(vocab=6, padding_free=False):
    npgrad.utils.set_random_seed(0)
    return npgrad.Sequential([L.Embedding(vocab, 4, mask_zero=not padding_free),
                              L.LSTM(5), L.Dense(1)])


def test_sequential_predictions_do_not_depend_on_the_amount_of_padding():
    model = _embedding_model()
    seqs = [[3, 1, 4], [5, 2], [1]]
    short = np.array([s + [0] * (3 - len(s)) for s in seqs])
    long = np.array([s + [0] * (8 - len(s)) for s in seqs])
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(long, verbose=0),
                               atol=1e-6)
    alone = np.concatenate([model.predict(np.array([s]), verbose=0) for s in seqs])
    np.testing.assert_allclose(model.predict(long, verbose=0), alone, atol=1e-6)


def test_functional_model_propagates_masks_along_the_graph():
    npgrad.utils.set_random_seed(1)
    ids = npgrad.Input((None,), dtype="int64")
    h = L.Embedding(6, 4, mask_zero=True)(ids)
    h = L.Dense(4, activation="tanh")(h)  # passes the mask on
    seq = L.Bidirectional(L.GRU(3, return_sequences=True))(h)
    out = L.Dense(1)(L.LSTM(2)(seq))
    model = npgrad.Model(ids, out)
    a = model.predict(np.array([[2, 3, 0, 0, 0]]), verbose=0)
    b = model.predict(np.array([[2, 3]]), verbose=0)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_merge_layers_combine_masks_as_keras():
    a = L.Embedding(4, 3, mask_zero=True)(np.array([[1, 2, 0], [3, 0, 0]]))
    b = L.Embedding(4, 3, mask_zero=True)(np.array([[1, 2, 3], [3, 1, 0]]))
    plain = Tensor(np.ones((2, 3, 3), np.float32))
    np.testing.assert_array_equal(L.Add()([a, b])._keras_mask, a._keras_mask & b._keras_mask)
    np.testing.assert_array_equal(L.Multiply()([a, plain])._keras_mask, a._keras_mask)
    # Concatenate: Keras's rule (any over the features of the concatenated masks)
    np.testing.assert_array_equal(L.Concatenate()([a, b])._keras_mask,
                                  a._keras_mask | b._keras_mask)
    np.testing.assert_array_equal(L.Concatenate()([a, plain])._keras_mask, np.ones((2, 3), bool))
    np.testing.assert_array_equal(L.Concatenate(axis=1)([a, b])._keras_mask,
                                  np.concatenate([a._keras_mask, b._keras_mask], axis=1))
    assert L.Dot(axes=2)([a, b])._keras_mask is None
    assert L.Add()([plain, plain])._keras_mask is None


def test_explicit_mask_enters_a_functional_model():
    inp = npgrad.Input((None, 3))
    model = npgrad.Model(inp, L.LSTM(2)(L.Dense(3)(inp)))
    x, mask = _padded([2, 4], t=4, f=3, padding="right")
    masked = model(x, mask=mask).numpy()
    np.testing.assert_allclose(masked[0], model(x[:1, :2]).numpy()[0], atol=1e-6)
    np.testing.assert_allclose(masked[1], model(x[1:]).numpy()[0], atol=1e-6)


def test_explicit_mask_enters_a_sequential():
    x, mask = _padded([2, 4], t=4, f=3, padding="right")
    model = npgrad.Sequential([L.GRU(3)])
    masked = model(x, mask=mask).numpy()
    np.testing.assert_allclose(masked[0], model(x[:1, :2]).numpy()[0], atol=1e-6)


def test_unmasked_models_carry_no_mask():
    model = npgrad.Sequential([L.Embedding(5, 3), L.LSTM(2, return_sequences=True), L.Dense(1)])
    out = model(np.array([[1, 0, 2]]))
    assert out._keras_mask is None


def test_fit_on_padded_sequences_learns_the_true_length():
    # label: is the real (unpadded) length above 4? The tokens carry no information and the
    # padding (token 0) sits on the left or the right at random; the loss must fall, the
    # model must learn the task, and its predictions must not depend on extra padding
    rng = np.random.default_rng(0)
    n, t = 256, 8
    lengths = rng.integers(1, t + 1, size=n)
    x = np.zeros((n, t), dtype=np.int64)
    for i, k in enumerate(lengths):
        tokens = rng.integers(1, 4, size=k)
        if rng.random() < 0.5:
            x[i, :k] = tokens
        else:
            x[i, t - k:] = tokens
    y = (lengths > 4).astype(np.float32)
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([L.Embedding(4, 8, mask_zero=True), L.LSTM(8),
                               L.Dense(1, activation="sigmoid")])
    model.compile(npgrad.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=25, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.9
    # the same sequences with extra padding on either side: the same predictions
    wide = np.zeros((n, 12), dtype=np.int64)
    wide[:, 2:10] = x
    np.testing.assert_allclose(model.predict(wide, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


# ------------------------------------------------------------------ loss and metrics
def test_loss_ignores_masked_timesteps():
    rng = np.random.default_rng(0)
    ids = np.array([[1, 2, 3, 0, 0], [4, 1, 0, 0, 0]])
    y = rng.standard_normal((2, 5, 1)).astype(np.float32)
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([L.Embedding(5, 3, mask_zero=True),
                               L.SimpleRNN(4, return_sequences=True), L.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    pred = model(ids)
    np.testing.assert_array_equal(pred._keras_mask, ids != 0)
    expected_loss = ((pred.numpy() - y)[..., 0] ** 2)[ids != 0].mean()
    expected_mae = np.abs(pred.numpy() - y)[..., 0][ids != 0].mean()
    logs = model.evaluate(ids, y, batch_size=2, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], expected_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["mae"], expected_mae, rtol=1e-5)
    # changing the targets at padded steps changes nothing
    y2 = y.copy()
    y2[ids == 0] = 100.0
    logs2 = model.evaluate(ids, y2, batch_size=2, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs2["loss"], logs["loss"], rtol=1e-6)


def test_loss_mask_combines_with_sample_weights():
    pred = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3, 1))
    pred._keras_mask = np.array([[True, True, False], [True, False, False]])
    y = np.zeros((2, 3, 1))
    value = npgrad.losses.MeanSquaredError()(y, pred, sample_weight=np.array([1.0, 2.0]))
    per_step = pred.numpy()[..., 0] ** 2 * np.array([[1.0], [2.0]])
    np.testing.assert_allclose(value.numpy(), per_step[pred._keras_mask].sum() / 3, rtol=1e-6)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("make", [lambda: L.LSTM(2, name="my_lstm"),
                                  lambda: L.Bidirectional(L.GRU(2), name="my_lstm")])
@pytest.mark.parametrize("shape", [(3, 4), (2, 5), (2,)])
def test_mask_of_the_wrong_shape_names_the_layer(make, shape):
    x = np.zeros((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match=r"my_lstm.*mask of shape.*\(2, 4\)"):
        make()(x, mask=np.ones(shape, bool))


def test_masked_model_saves_and_loads(tmp_path):
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([
        L.Input((4, 2)), L.Masking(-1.0),
        L.Bidirectional(L.GRU(3, return_sequences=True)),
        L.LSTM(2, zero_output_for_mask=True, return_sequences=True), L.Dense(1)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).standard_normal((3, 4, 2)).astype(np.float32)
    x[0, 2:] = -1.0
    path = tmp_path / "masked.npgrad"
    model.save(path)
    loaded = npgrad.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    assert loaded.layers[0].mask_value == -1.0
    assert loaded.layers[2].zero_output_for_mask is True
    assert loaded.layers[1].forward_layer.zero_output_for_mask is True


def test_symbolic_tensors_carry_the_mask_they_will_have():
    # Keras 3 shows the mask on KerasTensors: made by Embedding, passed on by a layer that
    # supports masking, dropped by an RNN that returns its last step only
    inputs = npgrad.Input((None,), dtype="int32")
    embedded = L.Embedding(50, 4, mask_zero=True)(inputs)
    assert inputs._keras_mask is None
    mask = embedded._keras_mask
    assert mask.shape == (None, None) and mask.dtype == np.bool_
    assert L.Dropout(0.5)(embedded)._keras_mask is mask  # passed on as it is
    sequences = L.LSTM(3, return_sequences=True)(embedded)
    assert sequences._keras_mask is mask
    assert L.LSTM(3)(embedded)._keras_mask is None
    assert L.Dense(2)(L.Input((5, 3)))._keras_mask is None  # no mask anywhere: none made
    masked = L.Masking()(npgrad.Input((7, 3)))
    assert masked._keras_mask.shape == (None, 7)


def test_a_call_that_needs_the_mask_gets_one_when_traced_symbolically():
    class NeedsMask(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, x, mask=None):
            if mask is None:
                raise ValueError("no mask")
            return x * npgrad.ops.expand_dims(npgrad.ops.cast(mask, x.dtype), -1)

    inputs = npgrad.Input((None,), dtype="int32")
    outputs = NeedsMask()(L.Embedding(10, 3, mask_zero=True)(inputs))
    assert outputs.shape == (None, None, 3)
    model = npgrad.Model(inputs, outputs)
    got = model.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    assert np.all(got[0, 2:] == 0) and np.all(got[0, :2] != 0)  # masked steps zeroed
