"""Keras 3 model API details that published Keras code relies on (issue 16)."""

import warnings

import json

import numpy as np
import pytest

import npgrad
from npgrad import layers


class NoTrainingArg(npgrad.Model):
    """Keras 3 style: ``call(self, x)`` without ``training``."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_whose_call_takes_no_training_builds_and_fits():
    model = NoTrainingArg()
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    model.build((None, 3))  # an explicit build takes the same path
    assert [w.shape for w in model.weights] == [(3, 8), (8,), (8, 2), (2,)]
    assert model.predict(np.ones((4, 3)), verbose=0).shape == (4, 2)


class ActivityPenalty(layers.Layer):
    """Returns its input and adds ``rate * mean(input)`` as a loss (the Keras guide's layer)."""

    def __init__(self, rate=0.1):
        super().__init__()
        self.rate = rate

    def call(self, x):
        self.add_loss(self.rate * x.mean())
        return x


def _penalty_only_model():
    inputs = npgrad.Input((3,))
    return npgrad.Model(inputs, ActivityPenalty()(inputs))


def test_fit_without_trainable_weights_logs_the_loss_and_warns_once():
    model = _penalty_only_model()
    model.compile("adam", "mse")
    x, y = np.full((4, 3), 0.5), np.zeros((4, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=2, verbose=0)
    messages = [str(w.message) for w in caught if "trainable weights" in str(w.message)]
    assert messages == [f"The model '{model.name}' does not have any trainable weights."]
    # mse(0.5, 0) = 0.25 plus the penalty 0.1 * 0.5
    np.testing.assert_allclose(history.history["loss"], [0.3, 0.3], rtol=1e-6)


def test_compile_without_loss_trains_on_the_added_losses():
    inputs = npgrad.Input((3,))
    dense = layers.Dense(2, kernel_initializer="ones")
    model = npgrad.Model(inputs, ActivityPenalty(rate=1.0)(dense(inputs)))
    model.compile(npgrad.optimizers.SGD(0.1))  # no loss=: the penalty is the loss (Keras)
    x = np.ones((4, 3))
    before = float(model.predict(x, verbose=0).mean())
    history = model.fit(x, epochs=3, verbose=0)
    assert history.history["loss"][0] == pytest.approx(before, rel=1e-6)
    assert history.history["loss"][-1] < history.history["loss"][0]  # minimizing mean(output)


def test_compile_without_any_loss_still_says_what_is_missing():
    model = NoTrainingArg()
    model.compile("sgd")
    with pytest.raises(ValueError, match="no loss to compute; pass loss= to compile"):
        model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)


def _conv_stack(**first):
    return npgrad.Sequential([
        layers.Conv2D(4, 5, strides=2, activation="relu", **first),
        layers.Conv2D(4, 3, activation="relu", name="middle"),
        layers.Conv2D(4, 3),
    ])


def test_sequential_inputs_and_layer_outputs_cut_out_a_feature_extractor():
    model = npgrad.Sequential([npgrad.Input((25, 25, 3))] + _conv_stack().layers)
    extractor = npgrad.Model(inputs=model.inputs,
                             outputs=[layer.output for layer in model.layers])
    x = np.random.default_rng(0).random((2, 25, 25, 3)).astype("float32")
    features = extractor(x)
    assert [f.shape for f in features] == [(2, 11, 11, 4), (2, 9, 9, 4), (2, 7, 7, 4)]
    np.testing.assert_allclose(features[-1].numpy(), model(x).numpy(), rtol=1e-6)
    middle = npgrad.Model(inputs=model.inputs, outputs=model.get_layer("middle").output)
    np.testing.assert_allclose(middle(x).numpy(), features[1].numpy(), rtol=1e-6)


def test_sequential_inputs_from_input_shape_and_after_add():
    model = npgrad.Sequential([layers.Dense(3, input_shape=(4,))])
    assert model.input.shape == (None, 4) and model.output.shape == (None, 3)
    assert len(model.inputs) == len(model.outputs) == 1
    model.add(layers.Dense(2))
    assert model.outputs[0].shape == (None, 2)  # a new graph after add


def test_sequential_without_input_shape_has_no_inputs_yet():
    with pytest.raises(AttributeError, match="has no symbolic inputs yet"):
        npgrad.Sequential([layers.Dense(3)]).inputs


def test_sequential_graph_follows_pop_and_add():
    model = npgrad.Sequential([npgrad.Input((4,)), layers.Dense(3), layers.Dense(2)])
    assert model.output.shape == (None, 2)
    model.pop()
    model.add(layers.Dense(5))
    assert model.output.shape == (None, 5)


def _functional():
    inputs = npgrad.Input((6,), name="features")
    hidden = layers.Dense(4, activation="relu", name="hidden")(inputs)
    return npgrad.Model(inputs, layers.Dense(2, name="head")(hidden), name="mlp")


@pytest.mark.parametrize("make", [
    lambda: npgrad.Sequential([npgrad.Input((6,)), layers.Dense(4), layers.Dense(2)]),
    _functional,
], ids=["sequential", "functional"])
def test_to_json_and_model_from_json_give_the_same_architecture(make):
    model = make()
    text = model.to_json()
    twin = npgrad.models.model_from_json(text)
    assert type(twin) is type(model)
    assert [layer.name for layer in twin.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in twin.weights] == [w.shape for w in model.weights]
    twin.set_weights(model.get_weights())
    x = np.random.default_rng(1).random((3, 6)).astype("float32")
    np.testing.assert_allclose(twin.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    again = json.loads(twin.to_json())["config"]["layers"]
    first = json.loads(text)["config"]["layers"]
    assert [entry["class_name"] for entry in again] == [entry["class_name"] for entry in first]


def test_clone_model_has_new_weights_and_the_same_graph():
    model = _functional()
    clone = npgrad.models.clone_model(model)
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    seq = npgrad.Sequential([npgrad.Input((6,)), layers.Dense(4, name="a")], name="seq")
    renamed = npgrad.models.clone_model(
        seq, clone_function=lambda layer: layers.Dense(layer.units, name=layer.name + "_copy"))
    assert [layer.name for layer in renamed.layers] == ["a_copy"]
    assert renamed.built and renamed.weights[0].shape == (6, 4)


def test_clone_model_refuses_what_npgrad_does_not_do():
    with pytest.raises(ValueError, match="input_tensors and call_function are not supported"):
        npgrad.models.clone_model(_functional(), input_tensors=[npgrad.Input((6,))])


class Holder(layers.Layer):
    """A custom layer whose config holds another layer (the Keras guide's pattern)."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def get_config(self):
        return {**super().get_config(), "inner": self.inner}

    @classmethod
    def from_config(cls, config):
        config["inner"] = layers.deserialize(config["inner"])
        return cls(**config)

    def call(self, x):
        return self.inner(x)


def test_layers_serialize_and_deserialize():
    config = layers.serialize(layers.Dense(3, activation="relu", name="d"))
    assert config["module"] == "npgrad.layers" and config["class_name"] == "Dense"
    assert config["registered_name"] is None and config["config"]["units"] == 3
    layer = layers.deserialize(config)
    assert isinstance(layer, layers.Dense) and layer.units == 3 and not layer.built

    holder = layers.serialize(Holder(layers.Dense(2)))
    assert holder["module"] is None and holder["registered_name"] == "Holder"
    assert holder["config"]["inner"]["class_name"] == "Dense"  # nested layers serialized
    copy = layers.deserialize(holder)
    assert isinstance(copy.inner, layers.Dense) and copy.inner.units == 2


def test_deserialize_takes_custom_objects_first_and_names_an_unknown_class():
    class Special(layers.Dense):
        pass

    config = {"class_name": "NoSuchLayer", "config": {"units": 2}}
    assert isinstance(layers.deserialize(config, custom_objects={"NoSuchLayer": Special}),
                      Special)
    with pytest.raises(ValueError, match="unknown layer class 'NoSuchLayer'"):
        layers.deserialize(config)
    with pytest.raises(ValueError, match="expected a dict with 'class_name'"):
        layers.deserialize("Dense")
    with pytest.raises(ValueError, match="not a JSON model config"):
        npgrad.models.model_from_json("{not json")
    with pytest.raises(TypeError, match="expected a Layer"):
        layers.serialize("Dense")


def test_model_inputs_one_rank_off_get_or_lose_a_trailing_unit_axis_as_in_keras():
    # Keras 3 (Functional._adjust_input_rank): MNIST arrays (N, 28, 28) feed Input((28, 28, 1))
    images = npgrad.Input((4, 4, 1))
    functional = npgrad.Model(images, npgrad.layers.Flatten()(images))
    x = np.arange(2 * 16, dtype="float32").reshape(2, 4, 4)
    np.testing.assert_array_equal(functional(x).numpy(), x.reshape(2, 16))
    sequential = npgrad.Sequential([npgrad.Input((4, 4, 1)), npgrad.layers.Flatten()])
    np.testing.assert_array_equal(sequential.predict(x, verbose=0), x.reshape(2, 16))
    # and (N, 5, 1) feeds Input((5,)); the gradient flows back through the reshape
    vectors = npgrad.Input((5,))
    dense = npgrad.layers.Dense(2)
    model = npgrad.Model(vectors, dense(vectors))
    column = npgrad.Tensor(np.ones((3, 5, 1), "float32"), requires_grad=True)
    model(column).sum().backward()
    assert column.grad.shape == (3, 5, 1)
    np.testing.assert_allclose(column.grad[..., 0], np.tile(dense.kernel.numpy().sum(1), (3, 1)))
    # two ranks off, or a last axis that is not 1, is still refused
    with pytest.raises(ValueError, match="expected shape \\(None, 4, 4, 1\\), got shape \\(2, 4\\)"):
        functional(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="incompatible"):
        model(np.zeros((3, 5, 2), "float32"))


def test_a_model_subclass_built_from_inputs_and_outputs_is_functional_with_its_steps():
    # keras.io's "customizing what happens in fit()": CustomModel(inputs, outputs)
    class CustomModel(npgrad.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.steps_run = 0

        def train_step(self, data):
            self.steps_run += 1
            return super().train_step(data)

    inputs = npgrad.Input((3,))
    outputs = layers.Dense(1)(layers.Dense(4, activation="relu")(inputs))
    model = CustomModel(inputs, outputs)
    assert isinstance(model, npgrad.models.Functional) and isinstance(model, CustomModel)
    assert [layer.name for layer in model.layers][0].startswith("input_layer")
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((16, 3), "float32"), np.zeros((16, 1), "float32")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert model.steps_run == 4
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x).numpy(), rtol=1e-6)
    # keyword spelling, and a second instance of the (now functional) class
    other = CustomModel(inputs=inputs, outputs=outputs, name="second")
    assert other.name == "second" and other.steps_run == 0
