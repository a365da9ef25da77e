"""Keras 3 files: the four models Keras 3.15 wrote load and predict as in Keras; npgrad models
round-trip through .keras and .weights.h5."""

from pathlib import Path

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from tests.saving import keras_zoo

pytest.importorskip("h5py")
pytestmark = pytest.mark.filterwarnings("ignore:.*does not support masking")

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "keras_files"
NAMES = ["seed_cnn", "resnet_tiny", "text_bilstm", "generator"]


def reference(name):
    with np.load(REFERENCE / f"{name}.npz") as data:
        return data["x0"], data["y0"]


# the same architectures, built in npgrad (for the .weights.h5 files)
def seed_cnn():
    return npgrad.Sequential([
        npgrad.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
        L.Dense(10, activation="softmax")])


def resnet_tiny():
    x = npgrad.Input((16, 16, 3))
    h = L.ReLU()(L.BatchNormalization()(L.Conv2D(8, 3, padding="same", use_bias=False)(x)))
    r = L.BatchNormalization()(L.Conv2D(8, 3, padding="same")(h))
    h = L.Activation("relu")(L.Add()([h, r]))
    h = L.Concatenate()([L.GlobalAveragePooling2D()(h), L.GlobalMaxPooling2D()(h)])
    return npgrad.Model(x, L.Dense(3, activation="softmax")(L.Dropout(0.3)(h)))


def text_bilstm():
    return npgrad.Sequential([
        npgrad.Input((12,), dtype="int32"), L.Embedding(50, 8, mask_zero=True),
        L.Bidirectional(L.LSTM(6, return_sequences=True)), L.GRU(5),
        L.Dense(1, activation="sigmoid")])


def generator():
    return npgrad.Sequential([
        npgrad.Input((16,)), L.Dense(392), L.Reshape((7, 7, 8)),
        L.Conv2DTranspose(8, 4, strides=2, padding="same"), L.BatchNormalization(),
        L.LeakyReLU(0.2), L.Conv2D(1, 3, padding="same", activation="tanh")])


BUILDERS = {"seed_cnn": seed_cnn, "resnet_tiny": resnet_tiny, "text_bilstm": text_bilstm,
            "generator": generator}


@pytest.mark.parametrize("name", NAMES)
def test_keras_made_archive_predicts_as_keras(name):
    model = npgrad.models.load_model(REFERENCE / f"{name}.keras")
    x, y = reference(name)
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-4, atol=1e-6)
    assert isinstance(model.optimizer, npgrad.optimizers.Adam)  # compile settings restored
    assert model.optimizer.iterations == 8  # and the optimizer state Keras saved
    state = model.optimizer.get_state(model.trainable_weights)
    assert np.abs(state["slots/0/velocity"]).sum() > 0


@pytest.mark.parametrize("name", NAMES)
def test_keras_made_weights_load_into_an_npgrad_built_model(name):
    model = BUILDERS[name]()
    model.load_weights(REFERENCE / f"{name}.weights.h5")
    x, y = reference(name)
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-4, atol=1e-6)


def test_load_model_without_compile_keeps_it_uncompiled():
    model = npgrad.models.load_model(REFERENCE / "seed_cnn.keras", compile=False)
    assert model.optimizer is None


def test_fine_tuned_keras_model_keeps_training_where_keras_stopped(tmp_path):
    model = npgrad.models.load_model(REFERENCE / "generator.keras")
    x, y = reference("generator")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert model.optimizer.iterations == 10
    model.save(tmp_path / "tuned.keras")
    again = npgrad.models.load_model(tmp_path / "tuned.keras")
    assert again.optimizer.iterations == 10
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def _as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("make", keras_zoo.ALL, ids=lambda f: f.__name__)
def test_npgrad_keras_npgrad_round_trip(make, tmp_path):
    model = make()
    model.compile(optimizer="adam", loss="mse")
    x = keras_zoo.inputs(model)
    targets = [np.asarray(y) * 0 + 0.5 for y in _as_list(model.predict(x, verbose=0))]
    model.fit(x, targets if len(targets) > 1 else targets[0], epochs=1, batch_size=2,
              verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = npgrad.models.load_model(tmp_path / "m.keras")
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    for a, b in zip(_as_list(model.predict(x, verbose=0)), _as_list(loaded.predict(x, verbose=0))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    state, loaded_state = (m.optimizer.get_state(m.trainable_weights) for m in (model, loaded))
    assert sorted(state) == sorted(loaded_state)
    for key in state:
        np.testing.assert_allclose(loaded_state[key], state[key], rtol=1e-6)


@pytest.mark.parametrize("make", keras_zoo.ALL, ids=lambda f: f.__name__)
def test_save_weights_h5_round_trip(make, tmp_path):
    model, fresh = make(), make()
    model.save_weights(tmp_path / "m.weights.h5")
    fresh.load_weights(tmp_path / "m.weights.h5")
    x = keras_zoo.inputs(model)
    for a, b in zip(_as_list(model.predict(x, verbose=0)), _as_list(fresh.predict(x, verbose=0))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_keras_weights_layout_paths():
    from npgrad.saving import keras_h5

    paths = [path for path, _, weights in keras_h5.keras_weight_groups(text_bilstm()) if weights]
    assert paths == ["layers/embedding", "layers/bidirectional/backward_layer/cell",
                     "layers/bidirectional/forward_layer/cell", "layers/gru/cell",
                     "layers/dense"]


def test_load_weights_into_a_different_architecture_names_the_layer(tmp_path):
    from npgrad.errors import UnreadableFileError

    model = npgrad.Sequential([npgrad.Input((28, 28, 1)), L.Conv2D(16, 3), L.MaxPooling2D(),
                               L.Conv2D(64, 3), L.MaxPooling2D(), L.Flatten(), L.Dense(10)])
    with pytest.raises(UnreadableFileError, match=r"conv2d.*\(3, 3, 1, 32\).*\(3, 3, 1, 16\)"):
        model.load_weights(REFERENCE / "seed_cnn.weights.h5")
    model = npgrad.Sequential([npgrad.Input((28, 28, 1)), L.Flatten(), L.Dense(10)])
    with pytest.raises(UnreadableFileError):
        model.load_weights(REFERENCE / "seed_cnn.weights.h5")


def test_custom_registered_layer_in_a_keras_archive(tmp_path):
    from npgrad.errors import UnreadableFileError
    from tests.saving.test_object_registration import Scale

    model = npgrad.Sequential([npgrad.Input((4,)), Scale(factor=3.0, name="scale"),
                               L.Dense(2)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(UnreadableFileError, match="custom_objects"):
        npgrad.saving.load_model(tmp_path / "custom.keras")
    loaded = npgrad.saving.load_model(tmp_path / "custom.keras", custom_objects={"Scale": Scale})
    x = np.ones((2, 4), dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_registered_subclassed_model_round_trips(tmp_path, monkeypatch):
    from npgrad.saving import object_registration

    monkeypatch.setattr(object_registration, "GLOBAL_CUSTOM_OBJECTS",
                        dict(object_registration.GLOBAL_CUSTOM_OBJECTS))
    monkeypatch.setattr(object_registration, "GLOBAL_CUSTOM_NAMES",
                        dict(object_registration.GLOBAL_CUSTOM_NAMES))

    @npgrad.saving.register_keras_serializable("test_files")
    class TwoLayers(npgrad.Model):
        def __init__(self, width=4, **kwargs):
            super().__init__(**kwargs)
            self.width = width
            self.hidden = L.Dense(width, activation="relu")
            self.head = L.Dense(2)

        def call(self, x, training=False):
            return self.head(self.hidden(x))

        def get_config(self):
            return {"name": self.name, "width": self.width}

    model = TwoLayers(5)
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(3, 4)
    model.compile("adam", "mse")
    model.fit(x, np.zeros((3, 2), "float32"), verbose=0)
    model.save(tmp_path / "sub.keras")
    loaded = npgrad.models.load_model(tmp_path / "sub.keras")
    assert isinstance(loaded, TwoLayers) and loaded.width == 5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == 1


def test_weights_the_model_has_no_layer_for_are_an_error(tmp_path):
    from npgrad.errors import UnreadableFileError

    bigger = npgrad.Sequential([npgrad.Input((4,)), L.Dense(3), L.Dense(2)])
    bigger.save_weights(tmp_path / "w.weights.h5")
    smaller = npgrad.Sequential([npgrad.Input((4,)), L.Dense(3)])
    with pytest.raises(UnreadableFileError, match="no layer for"):
        smaller.load_weights(tmp_path / "w.weights.h5")


def test_layers_are_found_by_their_saved_name_when_paths_differ(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = npgrad.Sequential([npgrad.Input((3,)), L.Dense(3, name="a"), L.Dense(3, name="b")])
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as file:  # another writer numbered the layers the other way
        file.move("layers/dense", "layers/tmp")
        file.move("layers/dense_1", "layers/dense")
        file.move("layers/tmp", "layers/dense_1")
    fresh = npgrad.Sequential([npgrad.Input((3,)), L.Dense(3, name="a"), L.Dense(3, name="b")])
    fresh.load_weights(path)
    for w, v in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(w.data, v.data)
