"""keras.activations: every name, values and gradients against Keras (stored reference)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import activations
from tests.reference.losses_metrics_cases import (
    activation_cases,
    activation_input,
    activation_upstream,
)
from tests.test_keras_names import KERAS_NAMES

REFERENCE = Path(__file__).resolve().parent / "reference" / "losses_metrics" / "activations.npz"
# Keras 3.15's sparsemax computes tau from the sum of the cumulative sums on the support
# instead of the cumulative sum at its end, so its output does not sum to 1; npgrad
# implements the projection onto the simplex of Martins & Astudillo (2016).
KERAS_DIFFERS = {"sparsemax"}
NAMES = [n for n in KERAS_NAMES["activations"] if n not in ("get", "serialize", "deserialize")]


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("name", sorted(set(activation_cases()) - KERAS_DIFFERS))
def test_value_and_gradient_match_keras(name, reference):
    x = npgrad.Tensor(activation_input(), requires_grad=True)
    y = activations.get(name.split(":")[0])(x, **activation_cases()[name])
    (y * activation_upstream(y.shape)).sum().backward()
    np.testing.assert_allclose(y.numpy(), reference[f"{name}/value"], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(x.grad, reference[f"{name}/grad"], rtol=1e-7, atol=1e-12)


@given(x=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                    elements=st.floats(-5, 5)))
def test_sparsemax_is_the_projection_onto_the_simplex(x):
    out = activations.sparsemax(x).numpy()
    assert (out >= 0).all()
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-9)
    # KKT: on the support out = x - tau with one tau per row; off it x <= tau
    tau = np.where(out > 0, x - out, np.nan)
    tau = np.nanmean(tau, axis=-1, keepdims=True)
    np.testing.assert_allclose(np.where(out > 0, x - out, tau), np.broadcast_to(tau, x.shape),
                               atol=1e-9)
    assert (np.where(out > 0, -np.inf, x) <= tau + 1e-9).all()


def test_every_name_round_trips_through_serialize_and_keras_configs():
    for name in NAMES:
        fn = activations.get(name)
        assert activations.get(activations.serialize(fn)) is fn
        assert activations.deserialize({"class_name": "function", "config": name}) is fn
    with pytest.raises(ValueError, match="valid names"):
        activations.get("nope")
    with pytest.raises(ValueError, match="even"):
        activations.glu(np.ones((2, 3)))


def test_dtype_is_kept():
    for name in NAMES:
        fn = activations.get(name)
        kwargs = {"threshold": 0.0, "default_value": 0.0} if name == "threshold" else {}
        assert fn(np.ones((2, 4), np.float32), **kwargs).dtype == np.float32, name


def test_activations_on_symbolic_tensors_record_ops_as_keras():
    # keras.io's endpoint recipe: keras.activations.sigmoid(x) * 5 between layers
    from npgrad import activations as A

    x = npgrad.Input((4,))
    model = npgrad.Model(x, A.sigmoid(x) * 5 + A.exponential(x) + A.linear(x))
    data = np.linspace(-1, 1, 8).reshape(2, 4)
    expected = 5 / (1 + np.exp(-data)) + np.exp(data) + data
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-6)
    with pytest.raises(TypeError, match=r"use npgrad.layers.Activation\('mish'\)"):
        A.mish(x)
    # what layers run (and fuse) is the plain function, whichever spelling they were given
    assert npgrad.layers.Dense(2, activation=A.relu).activation is npgrad.functional.relu
    assert A.get(A.relu) is A.get("relu") and A.serialize(A.relu) == "relu"
    np.testing.assert_allclose(A.relu(np.array([-1.0, 3.0]), max_value=2.0).numpy(), [0.0, 2.0])
