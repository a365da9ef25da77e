"""npgrad.ops calls and operators on symbolic tensors become OpLayer nodes of functional models."""

import json

import numpy as np
import pytest

import npgrad
from npgrad import ops
from npgrad.layers.op_layer import OpLayer, decode_arguments, encode_arguments
from npgrad.models.functional import Functional


def _round_trip(model, tmp_path):
    path = tmp_path / "model.npgrad"
    model.save(path)
    return npgrad.models.load_model(path)


def test_residual_concatenate_and_mean_build_fit_and_round_trip(tmp_path):
    npgrad.utils.set_random_seed(0)
    a = npgrad.Input((6, 4), name="a")
    b = npgrad.Input((3,), name="b")
    h = npgrad.layers.Dense(4, activation="relu")(a)
    h = h + a                                  # residual
    pooled = ops.mean(h, axis=1)               # (None, 4)
    joined = ops.concatenate([pooled, b], axis=-1)
    out = npgrad.layers.Dense(1)(joined)
    model = npgrad.Model([a, b], out)
    assert model.output_shape == (None, 1)
    assert [type(layer).__name__ for layer in model.layers].count("OpLayer") == 3
    rng = np.random.default_rng(0)
    xa = rng.normal(size=(64, 6, 4)).astype("float32")
    xb = rng.normal(size=(64, 3)).astype("float32")
    y = (xa.sum(axis=(1, 2)) + xb.sum(axis=1))[:, None].astype("float32")
    model.compile("adam", "mse")
    history = model.fit([xa, xb], y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    restored = _round_trip(model, tmp_path)
    np.testing.assert_array_equal(restored.predict([xa, xb], verbose=0),
                                  model.predict([xa, xb], verbose=0))


def test_values_match_the_eager_computation():
    x = npgrad.Input((3, 4))
    y = ops.sum(ops.square(x - 1.0), axis=-1) / 2.0 + ops.max(x[:, 1:, ::2], axis=(1, 2))[:, None]
    model = npgrad.Model(x, y)
    data = np.random.default_rng(1).normal(size=(5, 3, 4)).astype("float32")
    expected = (np.square(data - 1).sum(-1) / 2 + data[:, 1:, ::2].max(axis=(1, 2))[:, None])
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-6)


@pytest.mark.parametrize("expression, reference", [
    (lambda x: 1.0 - x, lambda v: 1 - v),
    (lambda x: 2.0 * x + x / 4.0, lambda v: 2 * v + v / 4),
    (lambda x: -abs(x), lambda v: -np.abs(v)),
    (lambda x: x ** 2 + 2.0 ** x, lambda v: v ** 2 + 2.0 ** v),
    (lambda x: x @ np.ones((4, 2), "float32"), lambda v: v @ np.ones((4, 2))),
    (lambda x: ops.cast(x > 0.0, "float32"), lambda v: (v > 0).astype("float32")),
    (lambda x: ops.where(x < 0.0, 0.0, x), lambda v: np.where(v < 0, 0, v)),
    (lambda x: ops.reshape(x, (-1, 2, 2)), lambda v: v.reshape(-1, 2, 2)),
    (lambda x: ops.softmax(x), lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True)),
    (lambda x: ops.stack(ops.split(x, 2, axis=-1), axis=1), lambda v: np.stack(np.split(v, 2, -1), 1)),
    (lambda x: 7.0 // (abs(x) + 1.0) + 5.0 % (abs(x) + 1.0), lambda v: 7 // (np.abs(v) + 1) + 5 % (np.abs(v) + 1)),
    (lambda x: ops.cast(((x > 0.0) & (x < 1.0)) | ~(x != x), "float32"),
     lambda v: (((v > 0) & (v < 1)) | ~(v != v)).astype("float32")),
    (lambda x: ops.cast((x > 0.0) ^ (x > 0.5), "float32") + round(x), lambda v: ((v > 0) ^ (v > 0.5)) + np.round(v)),
])
def test_operators_and_ops_record_nodes(expression, reference, tmp_path):
    x = npgrad.Input((4,))
    model = npgrad.Model(x, expression(x))
    data = np.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(data, verbose=0), reference(data), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_round_trip(model, tmp_path).predict(data, verbose=0),
                               reference(data), rtol=1e-5, atol=1e-6)


def test_unknown_axes_stay_unknown_and_dtypes_follow_the_op():
    x = npgrad.Input((None, 4))
    assert ops.mean(x, axis=1).shape == (None, 4)
    assert ops.transpose(x, (0, 2, 1)).shape == (None, 4, None)
    assert ops.cast(x, "int32").dtype == np.dtype("int32")
    assert (x > 0.0).dtype == np.dtype(bool)
    assert ops.shape(x) == (None, None, 4)


def test_an_op_with_a_python_function_argument_is_refused_clearly():
    x = npgrad.Input((4,))
    with pytest.raises(TypeError, match="ops.segment_sum on symbolic tensors: cannot record an "
                                        "argument of type function"):
        ops.segment_sum(x, lambda: 0)


def test_loading_never_looks_up_anything_but_public_ops():
    with pytest.raises(ValueError, match="unknown npgrad.ops function 'os.system'"):
        OpLayer.from_config({"function": "os.system", "arguments": {"args": [], "kwargs": {}}})
    with pytest.raises(ValueError, match="unknown npgrad.ops function '__import__'"):
        OpLayer("__import__", {"args": [], "kwargs": {}})


def test_argument_templates_are_json_and_decode_back():
    x = npgrad.Input((3, 4))
    args = (x, (slice(1, None), Ellipsis, None, np.int64(2)), [1.5, "a"], np.arange(3))
    encoded, tensors = encode_arguments(args, {"axis": (0, 1), "dtype": np.float32}, "demo")
    assert tensors == [x]
    text = json.dumps(encoded)
    decoded_args, decoded_kwargs = decode_arguments(json.loads(text), ["T"])
    assert decoded_args[0] == "T"
    assert decoded_args[1] == (slice(1, None), Ellipsis, None, 2)
    assert decoded_args[2] == [1.5, "a"]
    np.testing.assert_array_equal(decoded_args[3], np.arange(3))
    assert decoded_kwargs == {"axis": (0, 1), "dtype": np.dtype("float32")}


def test_an_op_that_fails_on_the_symbolic_shapes_names_itself():
    a, b = npgrad.Input((3,)), npgrad.Input((4,))
    with pytest.raises(ValueError, match=r"ops.add on symbolic inputs of shapes"):
        a + b


def test_image_and_nn_ops_record_nodes_that_reload(tmp_path):
    x = npgrad.Input((6, 5, 3))
    y = ops.image.resize(ops.nn.relu(x), (3, 4))
    y = ops.nn.max_pool(y, 2, padding="same")
    model = npgrad.Model(x, y)
    assert model.output_shape == (None, 2, 2, 3)
    data = np.random.default_rng(3).normal(size=(2, 6, 5, 3)).astype("float32")
    expected = ops.max_pool(ops.image.resize(ops.relu(data), (3, 4)), 2, padding="same").numpy()
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(_round_trip(model, tmp_path).predict(data, verbose=0), expected,
                               rtol=1e-6)
    names = [layer.function for layer in model.layers if isinstance(layer, OpLayer)]
    assert names == ["relu", "image.resize", "max_pool"]


def _keras_tensor(layer, shape):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}}


def test_keras_3_op_entries_translate_to_op_layers():
    from npgrad.layers.op_layer import from_keras_operation, is_keras_operation

    # the config Keras 3.15 writes for x[:, 1:3, ...] -> concatenate -> + 1.0 -> mean(axis=-1)
    entries = [
        {"module": "keras.src.ops.numpy", "class_name": "GetItem", "config": {"name": "get_item"},
         "inbound_nodes": [{"args": [_keras_tensor("x", [None, 4, 3]), [
             {"class_name": "__slice__", "config": {"start": None, "stop": None, "step": None}},
             {"class_name": "__slice__", "config": {"start": 1, "stop": 3, "step": None}},
             {"class_name": "__ellipsis__", "config": {}}]], "kwargs": {}}]},
        {"module": "keras.src.ops.numpy", "class_name": "Concatenate",
         "config": {"name": "concatenate", "axis": 1},
         "inbound_nodes": [{"args": [[_keras_tensor("get_item", [None, 2, 3]),
                                      _keras_tensor("get_item", [None, 2, 3])]], "kwargs": {}}]},
        {"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"},
         "inbound_nodes": [{"args": [_keras_tensor("concatenate", [None, 4, 3]), 1.0],
                            "kwargs": {}}]},
        {"module": "keras.src.ops.numpy", "class_name": "Mean",
         "config": {"name": "mean", "axis": -1, "keepdims": False},
         "inbound_nodes": [{"args": [_keras_tensor("add", [None, 4, 3])], "kwargs": {}}]},
    ]
    assert all(is_keras_operation(e) for e in entries)
    layers = [{"class_name": "InputLayer", "name": "x",
               "config": {"name": "x", "batch_shape": [None, 4, 3], "dtype": "float32"},
               "inbound_nodes": []}]
    layers += [from_keras_operation(e) for e in entries]
    for layer, entry in zip(layers[1:], entries):
        layer["name"] = layer["config"]["name"] = entry["config"]["name"]
    config = {"name": "from_keras", "layers": layers, "input_layers": [["x", 0, 0]],
              "output_layers": ["mean", 0, 0]}
    model = Functional.from_config(config)
    data = np.random.default_rng(4).normal(size=(2, 4, 3)).astype("float32")
    part = data[:, 1:3]
    np.testing.assert_allclose(model.predict(data, verbose=0),
                               (np.concatenate([part, part], 1) + 1).mean(-1), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown npgrad.ops function 'no_such_op'"):
        from_keras_operation({"module": "keras.src.ops.numpy", "class_name": "NoSuchOp",
                              "config": {"name": "n"}, "inbound_nodes": []})
