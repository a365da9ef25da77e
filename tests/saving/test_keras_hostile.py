"""Truncated, incomplete and hostile Keras files: one clear error, nothing executed, no
unbounded allocation; and a hand-written Keras 2 (tf.keras) .h5 file."""

import io
import json
import zipfile

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from npgrad.errors import UnreadableFileError

h5py = pytest.importorskip("h5py")


@pytest.fixture
def archive(tmp_path):
    model = npgrad.Sequential([npgrad.Input((4,)), L.Dense(3, name="dense"), L.Dense(2, name="out")])
    model.compile("adam", "mse")
    path = tmp_path / "m.keras"
    model.save(path)
    return path


def members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def edit_config(path, change):
    entries = members(path)
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config)
    return write(path, entries)


def edit_weights(path, change):
    entries = members(path)
    buffer = io.BytesIO(entries["model.weights.h5"])
    with h5py.File(buffer, "a") as file:
        change(file)
    entries["model.weights.h5"] = buffer.getvalue()
    return write(path, entries)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_archive(archive, keep):
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(UnreadableFileError):
        npgrad.models.load_model(archive)


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.keras"
    path.write_bytes(b"not a zip at all" * 10)
    with pytest.raises(UnreadableFileError, match="zip"):
        npgrad.models.load_model(path)


@pytest.mark.parametrize("missing", ["config.json", "model.weights.h5"])
def test_missing_member(archive, missing):
    entries = members(archive)
    del entries[missing]
    write(archive, entries)
    with pytest.raises(UnreadableFileError) as error:
        npgrad.models.load_model(archive)
    assert error.value.entry == missing


def test_bad_json_and_deep_nesting(archive):
    entries = members(archive)
    for bad in (b"{not json", b"[" * 100_000 + b"]" * 100_000, b"[1, 2]"):
        entries["config.json"] = bad
        write(archive, entries)
        with pytest.raises(UnreadableFileError) as error:
            npgrad.models.load_model(archive)
        assert error.value.entry == "config.json"


def test_config_naming_os_system_executes_nothing(archive, monkeypatch):
    calls = []
    monkeypatch.setattr("os.system", lambda *a: calls.append(a))

    def hostile(config):
        config["config"]["layers"][1] = {"module": "os", "class_name": "system",
                                         "config": {"name": "echo pwned"},
                                         "registered_name": "os.system"}

    edit_config(archive, hostile)
    with pytest.raises(UnreadableFileError, match="'system'"):
        npgrad.models.load_model(archive)
    assert calls == []


def test_unknown_layer_names_the_layer_and_class(archive):
    def unknown(config):
        config["config"]["layers"][1]["class_name"] = "FancyAttention"

    edit_config(archive, unknown)
    with pytest.raises(UnreadableFileError, match=r"layer 'dense'.*FancyAttention.*custom_objects"):
        npgrad.models.load_model(archive)


def test_lambda_layer_is_refused(archive):
    def lambda_layer(config):
        config["config"]["layers"][1] = {
            "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "lam", "function": {"class_name": "__lambda__",
                                                   "config": {"value": ["payload"]}}}}

    edit_config(archive, lambda_layer)
    for safe_mode in (True, False):
        with pytest.raises(UnreadableFileError, match="Lambda"):
            npgrad.saving.load_model(archive, safe_mode=safe_mode)


def test_unsupported_keras_setting_is_named(archive):
    def regularized_activity(config):
        config["config"]["layers"][1]["config"]["activity_regularizer"] = {
            "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.1}}

    edit_config(archive, regularized_activity)
    with pytest.raises(UnreadableFileError, match="activity_regularizer"):
        npgrad.models.load_model(archive)


def test_huge_declared_layer_is_refused_before_allocation(archive):
    def huge(config):
        config["config"]["layers"][1]["config"]["units"] = 10 ** 9

    edit_config(archive, huge)
    with pytest.raises(UnreadableFileError, match="refusing to allocate"):
        npgrad.models.load_model(archive)


def test_wrong_weight_shape_names_layer_and_shapes(archive):
    def reshape(file):
        del file["layers/dense/vars/0"]
        file["layers/dense/vars/0"] = np.zeros((5, 3), dtype="float32")

    edit_weights(archive, reshape)
    with pytest.raises(UnreadableFileError, match=r"layer 'dense'.*\(5, 3\).*\(4, 3\)"):
        npgrad.models.load_model(archive)


def test_missing_weights_name_the_layer(archive):
    edit_weights(archive, lambda file: file.__delitem__("layers/dense"))
    with pytest.raises(UnreadableFileError, match="layer 'dense'"):
        npgrad.models.load_model(archive)


def test_extra_or_missing_arrays_in_a_layer(archive):
    edit_weights(archive, lambda file: file.__delitem__("layers/dense/vars/1"))
    with pytest.raises(UnreadableFileError, match="1 arrays, the model 2"):
        npgrad.models.load_model(archive)


def test_non_numeric_and_linked_datasets_are_refused(archive, tmp_path):
    def text(file):
        del file["layers/dense/vars/1"]
        file["layers/dense/vars/1"] = np.array([b"a", b"b", b"c"])

    edit_weights(archive, text)
    with pytest.raises(UnreadableFileError, match="non-numeric"):
        npgrad.models.load_model(archive)

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as file:
        file["secret"] = np.zeros((3,), dtype="float32")

    def linked(file):
        del file["layers/dense/vars/1"]
        file["layers/dense/vars/1"] = h5py.ExternalLink(str(other), "secret")

    edit_weights(archive, linked)
    with pytest.raises(UnreadableFileError, match="ExternalLink"):
        npgrad.models.load_model(archive)


def test_oversized_member_is_refused_from_the_directory(archive, monkeypatch):
    from npgrad.saving import keras_archive

    monkeypatch.setattr(keras_archive, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(UnreadableFileError, match="declares"):
        npgrad.models.load_model(archive)


def test_optimizer_mismatch_warns_and_skips(archive):
    def drop(file):
        del file["optimizer/vars/2"]
        file["optimizer/vars/2"] = np.zeros((9, 9), dtype="float32")

    edit_weights(archive, drop)
    with pytest.warns(UserWarning, match="optimizer"):
        model = npgrad.models.load_model(archive)
    assert model.optimizer.iterations == 0


def test_keras2_functional_h5_written_by_tf_keras(tmp_path):
    """The legacy layout: model_config (Keras 2 nested-list nodes) + model_weights."""
    rng = np.random.default_rng(0)
    kernel, bias = rng.normal(size=(4, 3)).astype("float32"), np.ones(3, "float32")
    config = {"class_name": "Functional", "config": {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
                        "ragged": False, "name": "input_1"}},
            {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]],
             "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 3,
                        "activation": "relu", "use_bias": True,
                        "kernel_initializer": {"class_name": "GlorotUniform",
                                               "config": {"seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}},
                        "kernel_regularizer": None, "bias_regularizer": None,
                        "activity_regularizer": None, "kernel_constraint": None,
                        "bias_constraint": None}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}
    training = {"loss": "mse", "metrics": ["mae"], "weighted_metrics": None,
                "loss_weights": None, "optimizer_config": {
                    "class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.01,
                                                     "decay": 0.0, "beta_1": 0.9,
                                                     "beta_2": 0.999, "epsilon": 1e-07,
                                                     "amsgrad": False}}}
    path = tmp_path / "tf_keras.h5"
    with h5py.File(path, "w") as file:
        file.attrs["keras_version"] = "2.13.1"
        file.attrs["backend"] = "tensorflow"
        file.attrs["model_config"] = json.dumps(config)
        file.attrs["training_config"] = json.dumps(training)
        weights = file.create_group("model_weights")
        weights.attrs["layer_names"] = [b"input_1", b"dense"]
        weights.create_group("input_1").attrs["weight_names"] = []
        dense = weights.create_group("dense")
        dense.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        dense["dense/kernel:0"] = kernel
        dense["dense/bias:0"] = bias
    model = npgrad.models.load_model(path)
    x = rng.normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x @ kernel + bias, 0),
                               rtol=1e-6)
    assert model.optimizer.learning_rate == pytest.approx(0.01)


def test_truncated_or_foreign_weights_file(tmp_path):
    model = npgrad.Sequential([npgrad.Input((4,)), L.Dense(3)])
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFileError, match="HDF5"):
        model.load_weights(path)
    with h5py.File(path, "w") as file:
        file["unrelated"] = np.zeros(3)
    with pytest.raises(UnreadableFileError, match="no weights"):
        model.load_weights(path)


def test_keras2_weights_only_h5_by_name_and_by_order(tmp_path):
    """tf.keras ``save_weights("w.h5")``: layer groups at the root, matched by name, else in
    order of the layers that have weights."""
    rng = np.random.default_rng(1)
    kernel, bias = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=3).astype("float32")
    path = tmp_path / "w.h5"
    with h5py.File(path, "w") as file:
        file.attrs["layer_names"] = [b"flatten", b"dense_7"]
        file.attrs["keras_version"] = "2.11.0"
        file.create_group("flatten").attrs["weight_names"] = []
        group = file.create_group("dense_7")
        group.attrs["weight_names"] = [b"dense_7/kernel:0", b"dense_7/bias:0"]
        group["dense_7/kernel:0"] = kernel
        group["dense_7/bias:0"] = bias
    x = rng.normal(size=(2, 4)).astype("float32")
    for name in ("dense_7", "other_name"):  # by name, then by order
        model = npgrad.Sequential([npgrad.Input((4,)), L.Flatten(), L.Dense(3, name=name)])
        model.load_weights(path)
        np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-6)
    wrong = npgrad.Sequential([npgrad.Input((5,)), L.Dense(3)])
    with pytest.raises(UnreadableFileError, match=r"\(4, 3\).*\(5, 3\)"):
        wrong.load_weights(path)
    with pytest.raises(UnreadableFileError, match="only weights"):
        npgrad.models.load_model(path)


def test_elementwise_weights_of_a_huge_declared_input_are_refused(archive):
    def huge_prelu(config):
        layers = config["config"]["layers"]
        layers[0]["config"]["batch_shape"] = [None, 20000, 20000]
        layers[1:] = [{"module": "keras.layers", "class_name": "PReLU", "registered_name": None,
                       "config": {"name": "p_re_lu", "alpha_initializer": "zeros"}}]

    edit_config(archive, huge_prelu)
    with pytest.raises(UnreadableFileError, match="refusing to allocate"):
        npgrad.models.load_model(archive)
