"""Sequential: building (eager, lazy, Input), layers, summary text, config round trip, errors."""

import numpy as np
import pytest

import npgrad
from npgrad import layers
from npgrad.models import Model, Sequential


def seed_cnn(first=None):
    first = first or [layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))]
    rest = [layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")]
    return Sequential(first + rest)


def test_eager_build_from_input_shape():
    model = seed_cnn()
    assert model.built and all(layer.built for layer in model.layers)
    assert model.count_params() == 34826
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert len(model.weights) == 6 and len(model.trainable_weights) == 6


def test_eager_build_from_input_layer_which_is_not_listed():
    model = seed_cnn([npgrad.layers.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu")])
    assert model.built and model.count_params() == 34826
    assert len(model.layers) == 6  # the InputLayer is not in .layers, as in Keras
    assert not any(isinstance(layer, layers.InputLayer) for layer in model.layers)
    with pytest.raises(ValueError, match="28, 28, 1"):
        model.predict(np.zeros((2, 28, 28, 3), dtype=np.float32), verbose=0)


def test_lazy_build_on_first_call_and_add_pop():
    model = Sequential()
    model.add(layers.Dense(4, activation="relu"))
    model.add(layers.Dense(2))
    assert not model.built and model.count_params() == 0
    out = model(np.ones((3, 5), dtype=np.float32))
    assert out.shape == (3, 2)
    assert model.built and model.count_params() == 5 * 4 + 4 + 4 * 2 + 2
    assert model.input_shape == (None, 5)
    last = model.pop()
    assert isinstance(last, layers.Dense) and len(model.layers) == 1
    assert model.predict(np.ones((3, 5)), verbose=0).shape == (3, 4)
    with pytest.raises(TypeError, match="no layers"):
        Sequential().pop()


def test_add_checks():
    model = Sequential([layers.Dense(2, name="a")])
    with pytest.raises(TypeError, match="Layer"):
        model.add("dense")
    with pytest.raises(ValueError, match="unique"):
        model.add(layers.Dense(2, name="a"))
    with pytest.raises(ValueError, match="first"):
        model.add(npgrad.layers.Input((3,)))


def test_explicit_build_and_compute_output_shape():
    model = Sequential([layers.Dense(3), layers.Dense(1)])
    with pytest.raises(ValueError, match="input shape"):
        model.build()
    model.build((None, 7))
    assert model.count_params() == 7 * 3 + 3 + 3 + 1
    assert model.compute_output_shape((None, 7)) == (None, 1)


def test_get_layer():
    model = seed_cnn()
    assert model.get_layer(index=4) is model.layers[4]
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    assert model.get_layer(-1) is model.layers[-1]
    with pytest.raises(ValueError, match="no layer named"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="out of range"):
        model.get_layer(index=9)


def test_summary_text_of_the_seed_cnn():
    lines = []
    model = seed_cnn()
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == f'Model: "{model.name}"'
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "(None, 26, 26, 32)" in text and "(None, 5, 5, 64)" in text and "(None, 1600)" in text
    assert "18,496" in text and "16,010" in text
    assert " Total params: 34,826 (136.04 KB)" in lines
    assert " Trainable params: 34,826 (136.04 KB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines
    row = next(line for line in lines if "(Conv2D)" in line)
    assert row.rstrip().endswith("320")


def test_summary_counts_non_trainable_weights():
    model = Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()])
    lines = []
    model.summary(print_fn=lines.append)
    # BN: gamma, beta trainable (8); moving mean/variance not (8); dense 16
    assert " Total params: 32 (128.00 B)" in lines
    assert " Trainable params: 24 (96.00 B)" in lines
    assert " Non-trainable params: 8 (32.00 B)" in lines
    model.layers[0].trainable = False
    lines.clear()
    model.summary(print_fn=lines.append)
    assert " Non-trainable params: 24 (96.00 B)" in lines


def test_summary_of_unbuilt_model_shows_unknown_shapes():
    lines = []
    Sequential([layers.Dense(2)]).summary(print_fn=lines.append)
    assert any("?" in line and "(Dense)" in line for line in lines)


def test_config_round_trip_keeps_architecture():
    model = seed_cnn([npgrad.layers.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu")])
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert [spec["class_name"] for spec in config["layers"][1:]] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    clone = Sequential.from_config(config)
    assert clone.built and clone.count_params() == 34826
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="unknown layer class"):
        Sequential.from_config({"name": "s", "layers": [{"class_name": "os.system", "config": {}}]})


def test_functional_constructor_checks_its_tensors():
    # Model(inputs, outputs) is the functional API (tests/models/test_functional.py)
    with pytest.raises(TypeError, match="symbolic tensors"):
        Model(inputs=None, outputs=None)


def test_subclassed_model_builds_and_counts():
    class TwoLayer(Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(4, activation="relu")
            self.out = layers.Dense(2)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    model = TwoLayer()
    assert model(np.ones((3, 5))).shape == (3, 2)
    assert model.count_params() == 5 * 4 + 4 + 4 * 2 + 2
    assert [layer.name for layer in model.layers] == [model.hidden.name, model.out.name]
    lines = []
    model.summary(print_fn=lines.append)
    assert " Total params: 34 (136.00 B)" in lines


def test_summary_show_trainable_adds_keras_trainable_column():
    model = npgrad.Sequential([npgrad.Input((3,)), layers.Dense(2), layers.Dropout(0.1),
                               layers.Dense(1)])
    model.layers[2].trainable = False
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True)
    assert lines[2].split()[-1] == "Trainable"
    marks = [line.split()[-1] for line in lines if line.startswith((" dense", " dropout"))]
    assert marks == ["Y", "-", "N"]
    plain = []
    model.summary(print_fn=plain.append)
    assert "Trainable" not in plain[2] and plain[-3] == lines[-3]
    with pytest.raises(TypeError, match="unexpected keyword argument 'show_traniable'"):
        model.summary(show_traniable=True)
