"""Keras parity of whole models: predictions and weights after fit, against Keras 3 itself.

The reference values come from ``tests/reference/keras_reference.npz`` (computed by
Keras 3.15, float32); see its README for the cases.
"""

import numpy as np
import pytest

import npgrad
from npgrad import layers, optimizers
from npgrad.models import Sequential


def seed_cnn():
    """Conv32-Pool-Conv64-Pool-Flatten-Dense10 softmax on 28x28x1 (the seed CNN)."""
    return Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def _weights(ref, case, prefix, count=6):
    return [ref[f"{case}/{prefix}_{i}"] for i in range(count)]


def test_seed_cnn_parameter_count_matches_keras(keras_ref):
    assert seed_cnn().count_params() == int(keras_ref["param_counts/seedA"]) == 34826


@pytest.mark.parametrize("case, optimizer", [
    ("seedA_sgd", lambda: optimizers.SGD(0.1)),
    ("seedA_adam", lambda: optimizers.Adam(1e-3)),
])
def test_seed_cnn_predict_and_two_fit_steps_match_keras(keras_ref, case, optimizer):
    model = seed_cnn()
    model.set_weights(_weights(keras_ref, case, "w0"))
    x, y = keras_ref[f"{case}/x"], keras_ref[f"{case}/y"]

    np.testing.assert_allclose(model.predict(x, verbose=0), keras_ref[f"{case}/pred0"],
                               rtol=1e-5, atol=1e-6)

    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 2
    for i, (got, want) in enumerate(zip(model.get_weights(), _weights(keras_ref, case, "w2"))):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=f"{case} weight {i}")


def test_batchnorm_dense_fit_and_predict_match_keras(keras_ref):
    case = "batchnorm_fit"
    model = Sequential([layers.BatchNormalization(), layers.Dense(2)])
    x, y = keras_ref[f"{case}/x"], keras_ref[f"{case}/y"]
    model.build((None, x.shape[1]))
    model.set_weights(_weights(keras_ref, case, "w0"))
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    names = ["gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias"]
    for name, got, want in zip(names, model.get_weights(), _weights(keras_ref, case, "w2")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_ref[f"{case}/pred"],
                               rtol=1e-4, atol=1e-6)


def test_softmax_model_loss_uses_logits_like_keras(keras_ref):
    """The training loss of the seed CNN equals the from-logits loss of its pre-softmax output."""
    case = "seedA_sgd"
    model = seed_cnn()
    model.set_weights(_weights(keras_ref, case, "w0"))
    x, y = keras_ref[f"{case}/x"], keras_ref[f"{case}/y"]
    probs = model(x, training=True)
    logits = probs._ctx.input_tensors[0].data  # a softmax keeps its logits until backward
    loss = npgrad.losses.SparseCategoricalCrossentropy()(y, probs)
    expected = npgrad.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
