"""The functional API: Model(inputs, outputs) over symbolic tensors, as in Keras 3."""

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from npgrad.models import Sequential
from npgrad.utils import gradcheck

RNG = np.random.default_rng(0)


def _relu(z):
    return np.maximum(z, 0)


def _two_branch(seed=0):
    npgrad.utils.set_random_seed(seed)
    a = npgrad.Input((5,), name="a")
    b = npgrad.Input((3,), name="b")
    left = L.Dense(4, activation="relu", name="left")(a)
    right = L.Dense(2, activation="tanh", name="right")(b)
    merged = L.Concatenate(name="merged")([left, right])
    out = L.Dense(1, name="head")(merged)
    return npgrad.Model(inputs=[a, b], outputs=out, name="two_branch")


def test_two_branch_concatenate_matches_numpy_by_hand():
    model = _two_branch()
    xa = RNG.normal(size=(6, 5)).astype(np.float32)
    xb = RNG.normal(size=(6, 3)).astype(np.float32)
    kl, bl, kr, br, kh, bh = model.get_weights()
    expected = np.concatenate([_relu(xa @ kl + bl), np.tanh(xb @ kr + br)], axis=-1) @ kh + bh
    out = model([xa, xb])
    assert isinstance(out, npgrad.Tensor) and out.shape == (6, 1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict({"a": xa, "b": xb}, verbose=0), out.numpy())
    assert [layer.name for layer in model.layers] == ["a", "b", "left", "right", "merged", "head"]
    assert isinstance(model.get_layer("merged"), L.Concatenate)
    assert model.get_layer(index=0).name == "a"
    assert model.count_params() == (5 * 4 + 4) + (3 * 2 + 2) + (6 + 1)
    assert model.input_shape == [(None, 5), (None, 3)] and model.output_shape == (None, 1)
    assert model.input_names == ["a", "b"]


def test_summary_lists_input_layers_shapes_and_totals():
    model = _two_branch()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "two_branch"' in text
    assert "a (InputLayer)" in text and "merged (Concatenate)" in text
    assert "(None, 6)" in text and "Total params: 39" in text
    # Keras's "Connected to" column: layer[node][output] of each input, "-" for an input
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Connected", "to"]

    def connected(name):  # the row's last column
        return next(line for line in lines if line.startswith(f" {name} (")).split("  ")[-1]

    assert connected("a") == "-" and connected("left") == "a[0][0]"
    assert connected("merged") == "left[0][0], right[0][0]" and connected("head") == "merged[0][0]"


def test_summary_of_a_chain_has_no_connected_column_and_a_reused_layer_lists_both_calls():
    x = npgrad.Input((4,))
    lines = []
    npgrad.Model(x, L.Dense(2)(L.Dense(3)(x))).summary(print_fn=lines.append)
    assert "Connected to" not in "\n".join(lines)  # as Keras prints a plain chain
    shared = L.Dense(4, name="twice")
    y = shared(shared(x))
    lines = []
    npgrad.Model(x, y).summary(print_fn=lines.append)
    twice = next(line for line in lines if line.startswith(" twice"))
    assert twice.endswith(f"{x._keras_history[0].name}[0][0], twice[0][0]")


def test_a_shared_dense_called_on_the_wrong_width_fails_when_the_graph_is_built():
    shared = L.Dense(3, name="shared_width")
    x = npgrad.Input((4,))
    with pytest.raises(ValueError, match="'shared_width' is incompatible: expected last axis 4"):
        shared(shared(x))  # the second call gets (None, 3)


def test_residual_block_with_add():
    npgrad.utils.set_random_seed(1)
    x = npgrad.Input((4,))
    h = L.Dense(4, activation="relu")(x)
    h = L.Dense(4)(h)
    y = L.Activation("relu")(L.Add()([x, h]))
    model = npgrad.Model(x, y)
    k1, b1, k2, b2 = model.get_weights()
    data = RNG.normal(size=(7, 4)).astype(np.float32)
    expected = _relu(data + (_relu(data @ k1 + b1) @ k2 + b2))
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_shared_layer_weights_count_once_and_both_nodes_use_them():
    a, b = npgrad.Input((3,)), npgrad.Input((3,))
    shared = L.Dense(2, name="shared")
    out = L.Subtract()([shared(a), shared(b)])
    model = npgrad.Model([a, b], out)
    assert len(shared._inbound_nodes) == 2
    assert len(model.weights) == 2 and model.count_params() == 3 * 2 + 2
    assert sum(layer is shared for layer in model.layers) == 1
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    shared.set_weights([kernel, np.ones(2, dtype=np.float32)])
    xa, xb = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(model([xa, xb]).numpy(), (xa - xb) @ kernel, rtol=1e-5, atol=1e-5)
    # one gradient step moves the single shared kernel (both nodes contribute)
    model.compile(npgrad.optimizers.SGD(0.1), "mse")
    before = shared.kernel.data.copy()
    model.train_on_batch([xa, xb], np.zeros((4, 2)))
    assert not np.array_equal(before, shared.kernel.data)


def _multi_input_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    xa = rng.normal(size=(n, 4)).astype(np.float32)
    xb = rng.normal(size=(n, 2)).astype(np.float32)
    y = (xa[:, :1] * 0.5 - xb[:, 1:] * 2.0 + 0.3).astype(np.float32)
    return xa, xb, y


def _multi_input_model(seed=0):
    npgrad.utils.set_random_seed(seed)
    a = npgrad.Input((4,), name="a")
    b = npgrad.Input((2,), name="b")
    h = L.concatenate([L.Dense(8, activation="tanh")(a), b])
    model = npgrad.Model([a, b], L.Dense(1)(h))
    model.compile(npgrad.optimizers.Adam(0.02), "mse", metrics=["mae"])
    return model


def test_multi_input_fit_lowers_the_loss_and_list_and_dict_agree():
    xa, xb, y = _multi_input_data()
    model = _multi_input_model()
    history = model.fit([xa, xb], y, epochs=8, batch_size=32, validation_split=0.25, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    assert "val_loss" in history.history and "mae" in history.history
    # the same run with a dict keyed by the Input names is bitwise identical
    twin = _multi_input_model()
    history2 = twin.fit({"b": xb, "a": xa}, y, epochs=8, batch_size=32, validation_split=0.25,
                        verbose=0)
    assert history2.history["loss"] == losses
    loss, mae = model.evaluate([xa, xb], y, verbose=0)
    assert loss == pytest.approx(float(np.mean((model.predict([xa, xb], verbose=0) - y) ** 2)),
                                 rel=1e-4)
    assert model.predict([xa, xb], batch_size=7, verbose=0).shape == (256, 1)
    model.fit([xa, xb], y, epochs=1, validation_data=([xa[:10], xb[:10]], y[:10]), verbose=0)


def test_single_input_functional_trains_like_sequential():
    x = RNG.normal(size=(64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    def run(make):
        npgrad.utils.set_random_seed(3)
        model = make()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model, history.history

    def functional():
        inp = npgrad.Input((5,))
        return npgrad.Model(inp, L.Dense(2, activation="softmax")(L.Dense(8, activation="relu")(inp)))

    def sequential():
        return Sequential([npgrad.Input((5,)), L.Dense(8, activation="relu"),
                           L.Dense(2, activation="softmax")])

    fm, fh = run(functional)
    sm, sh = run(sequential)
    assert fh == sh
    np.testing.assert_array_equal(fm.predict(x, verbose=0), sm.predict(x, verbose=0))


def test_nested_functional_models_and_sequential_inside():
    npgrad.utils.set_random_seed(2)
    inner_in = npgrad.Input((3,))
    inner = npgrad.Model(inner_in, L.Dense(2, activation="tanh")(inner_in), name="inner")
    seq = Sequential([L.Dense(2, input_shape=(2,))], name="seq")
    x = npgrad.Input((3,))
    h = inner(x)
    assert h.shape == (None, 2)
    outer = npgrad.Model(x, L.Add()([seq(h), h]), name="outer")
    assert [type(layer).__name__ for layer in outer.layers] == [
        "InputLayer", "Functional", "Sequential", "Add"]
    assert outer.count_params() == (3 * 2 + 2) + (2 * 2 + 2)
    data = RNG.normal(size=(5, 3)).astype(np.float32)
    hidden = inner(data).numpy()
    np.testing.assert_allclose(outer(data).numpy(), seq(hidden).numpy() + hidden, rtol=1e-6)
    # a nested model with several inputs and outputs
    p, q = npgrad.Input((2,)), npgrad.Input((2,))
    pair = npgrad.Model([p, q], [L.add([p, q]), L.multiply([p, q])])
    u, v = npgrad.Input((2,)), npgrad.Input((2,))
    s, m = pair([u, v])
    model = npgrad.Model([u, v], L.concatenate([s, m]))
    du, dv = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))
    np.testing.assert_allclose(model([du, dv]).numpy(), np.concatenate([du + dv, du * dv], -1),
                               rtol=1e-6)


def test_layer_output_builds_a_feature_extractor():
    model = _two_branch()
    features = npgrad.Model(model.input, model.get_layer("merged").output)
    xa, xb = RNG.normal(size=(2, 5)), RNG.normal(size=(2, 3))
    assert features([xa, xb]).shape == (2, 6)
    assert features.get_layer("left") is model.get_layer("left")


def test_training_fixed_at_the_call_overrides_the_models_mode():
    x = npgrad.Input((50,))
    frozen = L.Dropout(0.5)(x, training=False)
    live = L.Dropout(0.5)(x)
    model = npgrad.Model(x, [frozen, live])
    out_frozen, out_live = model(np.ones((4, 50)), training=True)
    np.testing.assert_array_equal(out_frozen.numpy(), np.ones((4, 50)))
    assert (out_live.numpy() == 0).any()


def test_recurrent_state_tensors_pass_between_layers():
    npgrad.utils.set_random_seed(4)
    enc_in, dec_in = npgrad.Input((5, 3)), npgrad.Input((4, 2))
    _, h, c = L.LSTM(6, return_state=True)(enc_in)
    dec = L.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    model = npgrad.Model([enc_in, dec_in], L.Dense(1)(dec))
    xe, xd = RNG.normal(size=(2, 5, 3)), RNG.normal(size=(2, 4, 2))
    assert model([xe, xd]).shape == (2, 4, 1)
    encoder, decoder = model.layers[2], model.layers[3]
    _, h0, c0 = encoder(xe)
    expected = model.layers[-1](decoder(xd, initial_state=[h0, c0])).numpy()
    np.testing.assert_allclose(model([xe, xd]).numpy(), expected, rtol=1e-6)


def test_multi_output_losses_are_weighted_and_summed():
    npgrad.utils.set_random_seed(5)
    x = npgrad.Input((4,), name="x")
    h = L.Dense(8, activation="relu")(x)
    reg = L.Dense(1, name="reg")(h)
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    model = npgrad.Model(x, [reg, cls])
    model.compile(npgrad.optimizers.Adam(0.01), loss=["mse", "sparse_categorical_crossentropy"],
                  loss_weights=[0.5, 2.0])
    data = RNG.normal(size=(64, 4)).astype(np.float32)
    y_reg = data[:, :1] * 2
    y_cls = (data[:, 1] > 0).astype(np.int64) + (data[:, 2] > 1)
    p_reg, p_cls = model.predict(data, verbose=0)
    reg_loss = np.mean((p_reg - y_reg) ** 2)
    cls_loss = np.mean(-np.log(p_cls[np.arange(64), y_cls]))
    total = 0.5 * reg_loss + 2.0 * cls_loss
    # Keras 3.7+ logs each output's loss before its weight next to the weighted total
    logs = model.evaluate(data, [y_reg, y_cls], batch_size=64, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": total, "reg_loss": reg_loss, "cls_loss": cls_loss},
                                 rel=1e-4)
    assert model.metrics_names == ["loss", "reg_loss", "cls_loss"]
    assert model.evaluate(data, {"cls": y_cls, "reg": y_reg}, batch_size=64, verbose=0) == \
        pytest.approx([total, reg_loss, cls_loss], rel=1e-4)
    history = model.fit(data, [y_reg, y_cls], epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # dict outputs and dict losses; an output without a loss is skipped
    named = npgrad.Model(x, {"reg": reg, "cls": cls})
    named.compile("sgd", loss={"reg": "mse"})
    out = named.predict(data, verbose=0)
    assert set(out) == {"reg", "cls"}
    mse = float(np.mean((out["reg"] - y_reg) ** 2))
    assert named.evaluate(data, {"reg": y_reg, "cls": y_cls}, batch_size=64, verbose=0,
                          return_dict=True) == pytest.approx({"loss": mse}, rel=1e-4)
    # the targets of the outputs with a loss alone, as one array or with None for the others
    # (keras.io's miniature GPT: loss=[fn, None] and fit(x, y))
    partial = npgrad.Model(x, [reg, cls])
    partial.compile("sgd", loss=["mse", None])
    for y in (y_reg, [y_reg], [y_reg, None]):
        assert partial.evaluate(data, y, batch_size=64, verbose=0, return_dict=True) == \
            pytest.approx({"loss": mse}, rel=1e-4)
    assert len(partial.fit(data, y_reg, epochs=2, verbose=0).history["loss"]) == 2
    with pytest.raises(ValueError, match="2 outputs"):
        partial.fit(data, [y_reg, y_reg, y_reg], verbose=0)


def test_unsupported_multi_output_features_raise_clearly():
    x = npgrad.Input((4,))
    model = npgrad.Model(x, [L.Dense(1)(x), L.Dense(2)(x)])
    with pytest.raises(ValueError, match="one entry .* per output"):
        model.compile("adam", loss=["mse", "mse"], metrics=["mae"])  # 1 entry for 2 outputs
    with pytest.raises(ValueError, match="2 outputs"):
        model.compile("adam", loss=["mse"])
    model.compile("adam", loss="mse")
    with pytest.raises(NotImplementedError, match="class_weight"):
        model.fit(np.ones((4, 4)), [np.ones((4, 1)), np.ones((4, 2))], class_weight={0: 1.0},
                  verbose=0)


def test_disconnected_graph_names_the_missing_input():
    a = npgrad.Input((3,), name="given")
    b = npgrad.Input((3,), name="forgotten")
    out = L.Add()([a, L.Dense(3)(b)])
    with pytest.raises(ValueError, match="Graph disconnected.*'forgotten'"):
        npgrad.Model(a, out)


def test_wrong_inputs_raise_clear_errors():
    model = _two_branch()
    xa, xb = np.ones((2, 5)), np.ones((2, 3))
    with pytest.raises(ValueError, match=r"expected 2 inputs \['a', 'b'\]"):
        model(xa)
    with pytest.raises(ValueError, match="expected 2 input"):
        model([xa, xb, xb])
    with pytest.raises(ValueError, match="missing input 'b'"):
        model({"a": xa})
    with pytest.raises(ValueError, match="layer 'b'"):
        model([xa, np.ones((2, 4))])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="2 inputs"):
        model.fit(xa, np.ones((2, 1)), verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit([xa, np.ones((3, 3))], np.ones((2, 1)), verbose=0)
    with pytest.warns(UserWarning, match=r"keys \['c'\] are not inputs"):  # as Keras
        extra = model.predict({"a": xa, "b": xb, "c": xb}, verbose=0)
    np.testing.assert_array_equal(extra, model.predict({"a": xa, "b": xb}, verbose=0))
    with pytest.raises(TypeError, match="must be symbolic tensors"):
        npgrad.Model(xa, xb)
    with pytest.raises(ValueError, match="npgrad.Input"):
        hidden = L.Dense(2)(npgrad.Input((2,)))
        npgrad.Model(hidden, L.Dense(1)(hidden))


def test_merge_shape_mismatch_names_the_layer_and_both_shapes():
    a, b = npgrad.Input((3,)), npgrad.Input((4,))
    with pytest.raises(ValueError, match=r"Layer 'bad_add' \(Add\).*\(None, 3\), \(None, 4\)"):
        L.Add(name="bad_add")([a, b])


def test_subclassed_models_still_work_and_may_pass_inputs_on():
    class Net(npgrad.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x, training=False):
            return self.dense(x)

    net = Net()
    assert net(np.ones((3, 4))).shape == (3, 4)[:1] + (2,)
    assert type(net) is Net

    class Wrapped(npgrad.Model):  # Keras 3: a functional model of this class
        def __init__(self, inputs, outputs):
            super().__init__(inputs=inputs, outputs=outputs)

    x = npgrad.Input((2,))
    wrapped = Wrapped(x, L.Dense(1)(x))
    assert isinstance(wrapped, npgrad.models.Functional) and type(wrapped) is Wrapped
    assert wrapped(np.ones((3, 2))).shape == (3, 1)


def _binder(model):
    """A function making given Tensors (in ``model.weights`` order) the layers' weights."""
    current = list(model.weights)

    def bind(tensors):
        for i, new in enumerate(tensors):
            for layer in model.layers:
                for attr, value in list(vars(layer).items()):
                    if value is current[i]:
                        object.__setattr__(layer, attr, new)
            current[i] = new

    return bind


def test_gradcheck_through_a_functional_model_with_merges():
    npgrad.utils.set_random_seed(6)
    a = npgrad.Input((3,), dtype="float64")
    b = npgrad.Input((3,), dtype="float64")
    shared = L.Dense(3, activation="tanh", dtype="float64")
    ha, hb = shared(a), shared(b)
    mixed = L.Concatenate(dtype="float64")([L.Multiply(dtype="float64")([ha, hb]),
                                            L.Maximum(dtype="float64")([ha, b]),
                                            L.Average(dtype="float64")([a, hb])])
    out = L.Dense(2, dtype="float64")(L.Add(dtype="float64")([mixed, mixed]))
    model = npgrad.Model([a, b], out)
    xa, xb = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    weights = [w.data.copy() for w in model.weights]
    assert len(weights) == 4  # the shared Dense counts once
    bind = _binder(model)

    def fn(*tensors):
        bind(tensors)
        return model([xa, xb])

    assert gradcheck(fn, weights)


def test_embedding_takes_integer_inputs():
    ids = npgrad.Input((4,), dtype="int32")
    model = npgrad.Model(ids, L.GlobalAveragePooling1D()(L.Embedding(10, 3)(ids)))
    assert model(np.array([[1, 2, 3, 9]])).shape == (1, 3)


# ------------------------------------------------------------------ saving
def _round_trip(model, tmp_path, inputs, name="model.npgrad"):
    path = tmp_path / name
    model.save(path)
    loaded = npgrad.models.load_model(path)
    assert type(loaded) is type(model)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in loaded.weights] == [w.shape for w in model.weights]
    before, after = model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0)
    if isinstance(before, list):
        for b, a in zip(before, after):
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(after, before)
    return loaded


def test_save_load_shared_and_merge_layers_predict_bitwise(tmp_path):
    a, b = npgrad.Input((5,), name="a"), npgrad.Input((3,), name="b")
    shared = L.Dense(3, activation="relu", name="shared")
    pa, pb = shared(L.Dense(3, name="proj")(a)), shared(b)
    merged = L.concatenate([L.Add()([pa, pb]), L.Subtract()([pa, pb]), L.Multiply()([pa, pb]),
                            L.Average()([pa, pb]), L.Maximum()([pa, pb]), L.Minimum()([pa, pb]),
                            L.Dot(axes=1, normalize=True)([pa, pb])], axis=-1)
    model = npgrad.Model([a, b], L.Dense(2, activation="softmax")(merged))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    xa, xb = RNG.normal(size=(20, 5)), RNG.normal(size=(20, 3))
    y = RNG.integers(0, 2, 20)
    model.fit([xa, xb], y, epochs=2, batch_size=8, verbose=0)
    loaded = _round_trip(model, tmp_path, [xa, xb])
    assert len(loaded.get_layer("shared")._inbound_nodes) == 2
    assert loaded.count_params() == model.count_params()
    # the optimizer state came back too: one more epoch gives the same weights
    npgrad.utils.set_random_seed(9)
    model.fit([xa, xb], y, epochs=1, batch_size=8, verbose=0)
    npgrad.utils.set_random_seed(9)
    loaded.fit([xa, xb], y, epochs=1, batch_size=8, verbose=0)
    for w1, w2 in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(w1, w2)


def test_save_load_nested_models_states_and_multiple_outputs(tmp_path):
    npgrad.utils.set_random_seed(7)
    inner_in = npgrad.Input((4, 3))
    _, h, c = L.LSTM(5, return_state=True)(inner_in)
    encoder = npgrad.Model(inner_in, [h, c], name="encoder")
    enc_in, dec_in = npgrad.Input((4, 3)), npgrad.Input((2, 2))
    h, c = encoder(enc_in)
    dec = L.LSTM(5, return_sequences=True)(dec_in, initial_state=[h, c])
    head = Sequential([L.Flatten(), L.Dense(2)], name="head")
    model = npgrad.Model([enc_in, dec_in], [head(dec), L.Dense(1, name="aux")(h)])
    model.compile("adam", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    xe, xd = RNG.normal(size=(6, 4, 3)), RNG.normal(size=(6, 2, 2))
    model.fit([xe, xd], [RNG.normal(size=(6, 2)), RNG.normal(size=(6, 1))], epochs=1, verbose=0)
    loaded = _round_trip(model, tmp_path, [xe, xd])
    assert loaded.compile_config["loss_weights"] == [1.0, 0.5]


def test_save_load_keeps_only_this_models_nodes_of_a_layer_shared_with_another(tmp_path):
    shared = L.Dense(2, name="shared_elsewhere")
    first = npgrad.Input((3,))
    npgrad.Model(first, shared(first))  # node 0 belongs to another model
    x = npgrad.Input((3,))
    model = npgrad.Model(x, L.Dense(1)(shared(x)))
    loaded = _round_trip(model, tmp_path, RNG.normal(size=(4, 3)))
    assert len(loaded.get_layer("shared_elsewhere")._inbound_nodes) == 1


def test_loading_refuses_unknown_layer_classes_and_broken_graphs():
    x = npgrad.Input((3,))
    config = npgrad.Model(x, L.Dense(2)(x)).get_config()
    hostile = {**config, "layers": [dict(config["layers"][0]),
                                    {**config["layers"][1], "class_name": "os.system"}]}
    with pytest.raises(ValueError, match="unknown layer class 'os.system'"):
        npgrad.models.Functional.from_config(hostile)
    dangling = {**config, "layers": [config["layers"][1]]}  # the Input is missing
    with pytest.raises(ValueError, match="not in the config"):
        npgrad.models.Functional.from_config(dangling)
    with pytest.raises(ValueError, match="no tensor"):
        npgrad.models.Functional.from_config({**config, "output_layers": ["dense_x", 0, 0]})


def _two_outputs():
    npgrad.utils.set_random_seed(0)
    x = npgrad.Input((4,), name="x")
    h = L.Dense(8, activation="relu")(x)
    return npgrad.Model(x, [L.Dense(1, name="value")(h),
                            L.Dense(3, activation="softmax", name="kind")(h)])


def test_multi_output_metrics_per_output_with_keras_names():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    value, kind = x[:, :1] * 2.0, rng.integers(0, 3, 40)
    model = _two_outputs()
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"],
                  metrics={"value": ["mae", "mse"], "kind": "accuracy"})
    assert model.metrics_names == ["loss", "value_loss", "kind_loss", "value_mae", "value_mse",
                                   "kind_accuracy"]
    history = model.fit(x, [value, kind], epochs=2, batch_size=8, verbose=0)
    assert set(model.metrics_names) == set(history.history)
    logs = model.evaluate(x, {"value": value, "kind": kind}, verbose=0, return_dict=True)
    pred_value, pred_kind = model.predict(x, verbose=0)
    assert logs["value_mae"] == pytest.approx(np.mean(np.abs(pred_value - value)), rel=1e-5)
    assert logs["value_mse"] == pytest.approx(np.mean((pred_value - value) ** 2), rel=1e-5)
    assert logs["kind_accuracy"] == pytest.approx(np.mean(pred_kind.argmax(1) == kind), abs=1e-9)
    # a regression metric on integer labels against 3 probabilities: a clear error
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"],
                  metrics={"kind": "mse"})
    with pytest.raises(ValueError, match=r"targets of shape \(8,\) do not match predictions"):
        model.fit(x, [value, kind], epochs=1, batch_size=8, verbose=0)
    # the list form, with None for an output without metrics, gives the same names
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"],
                  metrics=[None, ["accuracy"]])
    assert model.metrics_names == ["loss", "value_loss", "kind_loss", "kind_accuracy"]


def test_multi_output_metrics_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = [x[:, :1], rng.integers(0, 3, 16)]
    model = _two_outputs()
    model.compile("adam", loss={"value": "mse", "kind": "sparse_categorical_crossentropy"},
                  metrics={"kind": "accuracy"})
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.npgrad")
    loaded = npgrad.models.load_model(tmp_path / "m.npgrad")
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True))
    assert loaded.metrics_names == ["loss", "value_loss", "kind_loss", "kind_accuracy"]
