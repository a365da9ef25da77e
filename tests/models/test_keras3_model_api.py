"""Keras 3 model API details that published Keras code relies on (issue 16)."""

import warnings

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
