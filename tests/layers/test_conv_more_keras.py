"""Keras parity of the 3-D, transposed, grouped, depthwise, separable, ConvLSTM, 3-D and
adaptive pooling layers: Keras's weights moved across, forward values and one SGD step.

The stored cases (tests/reference/conv_more/keras_conv_more.npz, written by
tests/reference/make_conv_more_reference.py with Keras 3.15, torch backend) run everywhere;
the live cases recompute the same references with Keras and skip when it is not installed.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import npgrad.functional as F
import npgrad.layers as L
from npgrad import Tensor
from tests.reference.make_conv_more_reference import (
    CASES,
    LEARNING_RATE,
    MASKED,
    keras_masked_reference,
    keras_reference,
)

STORED = Path(__file__).resolve().parents[1] / "reference" / "conv_more" / "keras_conv_more.npz"


def _stored():
    with np.load(STORED, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    cases = {}
    for key, value in arrays.items():
        case, name = key.split("/", 1)
        cases.setdefault(case, {})[name] = value
    return cases


STORED_CASES = _stored()


def _check_against(ref):
    """Build the npgrad layer from the stored config, load Keras's weights, compare the
    prediction and the weights after one SGD step on the mean squared error."""
    spec = json.loads(str(ref["config"]))
    layer = getattr(L, spec["class_name"])(**spec["config"])
    x = ref["x"]
    layer._maybe_build(x.shape)
    n_weights = len(layer.weights)
    assert n_weights == sum(k.startswith("w0_") for k in ref), "weight count differs from Keras"
    before = [ref[f"w0_{i}"] for i in range(n_weights)]
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in before]
    layer.set_weights(before)
    y = layer(x)
    assert y.shape == ref["y"].shape
    np.testing.assert_allclose(y.numpy(), ref["y"], rtol=1e-5, atol=2e-6)
    if not n_weights:
        return
    loss = F.mean((y - Tensor(ref["target"])) ** 2)  # Keras's "mse" with batch averaging
    loss.backward()
    for i, weight in enumerate(layer.weights):
        stepped = weight.data - LEARNING_RATE * weight.grad
        np.testing.assert_allclose(stepped, ref[f"w1_{i}"], rtol=1e-4, atol=1e-6,
                                   err_msg=f"weight {i} ({weight.name}) after one SGD step")


def test_every_case_is_stored():
    assert sorted(STORED_CASES) == sorted(list(CASES) + [MASKED])


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_stored_keras_reference(case):
    _check_against(STORED_CASES[case])


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_live_keras(keras, case):
    _check_against(keras_reference(case))


def test_parameter_counts_and_weight_names_match_keras(keras):
    # the same layers, built by Keras and by npgrad
    for case, (class_name, config, shape) in CASES.items():
        theirs = getattr(keras.layers, class_name)(**config)
        theirs.build(shape)
        ours = getattr(L, class_name)(**config)
        ours._maybe_build(shape)
        assert ours.count_params() == theirs.count_params(), case
        assert [w.name.rsplit("/", 1)[-1] for w in ours.weights] == \
            [w.name for w in theirs.weights], case
        assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights], case


def _check_masked(ref):
    layer = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    layer._maybe_build(ref["x"].shape)
    layer.set_weights([ref[f"w0_{i}"] for i in range(3)])
    y = layer(ref["x"], mask=ref["mask"])
    np.testing.assert_allclose(y.numpy(), ref["y"], rtol=1e-5, atol=2e-6)


def test_masked_conv_lstm_matches_stored_keras_reference():
    _check_masked(STORED_CASES[MASKED])


def test_masked_conv_lstm_matches_live_keras(keras):
    _check_masked(keras_masked_reference())
