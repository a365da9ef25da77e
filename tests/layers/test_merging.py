"""Merge layers: values against NumPy, shapes (eager and symbolic), errors, config round trips."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import layers as L
from npgrad.utils import gradcheck

ELEMENTWISE = {
    "Add": lambda xs: sum(xs[1:], xs[0]),
    "Multiply": lambda xs: np.prod(np.stack(xs), axis=0),
    "Average": lambda xs: np.mean(np.stack(xs), axis=0),
    "Maximum": lambda xs: np.max(np.stack(xs), axis=0),
    "Minimum": lambda xs: np.min(np.stack(xs), axis=0),
}


@st.composite
def _same_shape_arrays(draw, min_n=2, max_n=4):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, max_side=4))
    n = draw(st.integers(min_n, max_n))
    elements = st.floats(-10, 10, width=32)
    return [draw(hnp.arrays(np.float32, shape, elements=elements)) for _ in range(n)]


@given(xs=_same_shape_arrays(), name=st.sampled_from(sorted(ELEMENTWISE)))
def test_elementwise_merges_match_numpy(xs, name):
    layer = getattr(L, name)()
    out = layer(xs)
    assert out.dtype == np.float32 and out.shape == xs[0].shape
    np.testing.assert_allclose(out.numpy(), ELEMENTWISE[name](xs), rtol=1e-5, atol=1e-4)
    assert layer.compute_output_shape([(None,) + x.shape[1:] for x in xs]) == (None,) + xs[0].shape[1:]


@given(xs=_same_shape_arrays(max_n=2))
def test_subtract_matches_numpy(xs):
    np.testing.assert_array_equal(L.subtract(xs).numpy(), xs[0] - xs[1])


@given(data=st.data())
def test_concatenate_matches_numpy_on_any_axis(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, max_side=4))
    position = data.draw(st.integers(1, len(shape) - 1))
    axis = position - len(shape) if data.draw(st.booleans()) else position  # negative or not
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=2, max_size=3))
    xs = []
    for size in sizes:
        s = list(shape)
        s[position] = size
        xs.append(np.random.default_rng(size).normal(size=s).astype(np.float32))
    layer = L.Concatenate(axis=axis)
    np.testing.assert_array_equal(layer(xs).numpy(), np.concatenate(xs, axis=axis))
    symbolic = [npgrad.Input(x.shape[1:]) for x in xs]
    assert layer(symbolic).shape == (None,) + np.concatenate(xs, axis=axis).shape[1:]


def test_broadcasting_and_rank_alignment_follow_keras():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 1), dtype=np.float32) * 10
    np.testing.assert_array_equal(L.Add()([a, b]).numpy(), a + b)
    c = np.ones((2, 4, 3), dtype=np.float32)  # a (2, 3) input gets an axis after the batch one
    np.testing.assert_array_equal(L.Multiply()([c, a]).numpy(), c * a[:, None, :])
    assert L.Add().compute_output_shape([(None, 4, 3), (None, 3)]) == (None, 4, 3)
    assert L.Add().compute_output_shape([(None, None, 3), (None, 1, 3)]) == (None, None, 3)


def test_dot_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(L.Dot(axes=1)([a, b]).numpy(), np.sum(a * b, 1, keepdims=True),
                               rtol=1e-5)
    cos = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(L.dot([a, b], axes=1, normalize=True).numpy()[:, 0], cos, rtol=1e-5)
    q, k = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4, 3))
    np.testing.assert_allclose(L.Dot(axes=(2, 2))([q, k]).numpy(), q @ k.transpose(0, 2, 1),
                               rtol=1e-5, atol=1e-6)
    v = rng.normal(size=(2, 4, 6))
    np.testing.assert_allclose(L.Dot(axes=(1, 1))([k, v]).numpy(), k.transpose(0, 2, 1) @ v,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(L.Dot(axes=(1, 2))([a[:2], q]).numpy(),
                               np.einsum("bk,bmk->bm", a[:2], q),
                               rtol=1e-5, atol=1e-6)
    assert L.Dot(axes=(2, 2)).compute_output_shape([(None, 5, 3), (None, 4, 3)]) == (None, 5, 4)
    assert L.Dot(axes=1).compute_output_shape([(None, 3), (None, 3)]) == (None, 1)


@pytest.mark.parametrize("make, shapes, detail", [
    (lambda: L.Add(name="m"), [(None, 3), (None, 4)], "axis 1"),
    (lambda: L.Maximum(name="m"), [(None, 2, 3), (None, 3, 3)], "axis 1"),
    (lambda: L.Concatenate(name="m"), [(None, 2, 3), (None, 3, 4)], "concatenation axis"),
    (lambda: L.Concatenate(name="m"), [(None, 3), (None, 3, 1)], "same rank"),
    (lambda: L.Concatenate(axis=0, name="m"), [(None, 3), (None, 3)], "not a feature axis"),
    (lambda: L.Dot(axes=1, name="m"), [(None, 3), (None, 4)], "sizes 3 and 4"),
    (lambda: L.Dot(axes=1, name="m"), [(None, 3, 2, 1), (None, 3)], "rank 2 or 3"),
])
def test_shape_mismatches_name_the_layer_and_the_shapes(make, shapes, detail):
    listed = ", ".join(str(s) for s in shapes)
    with pytest.raises(ValueError, match=r"Layer 'm' .*" + listed.replace("(", r"\(").replace(")", r"\)")) as info:
        make()([npgrad.Input(s[1:]) for s in shapes])
    assert detail in str(info.value)
    eager = [np.ones((2,) + tuple(s[1:]), dtype=np.float32) for s in shapes]
    with pytest.raises(ValueError, match="Layer 'm'"):
        make()(eager)


def test_wrong_number_of_inputs_is_refused():
    with pytest.raises(ValueError, match="exactly 2 inputs, got 3"):
        L.Subtract()([np.ones((1, 2))] * 3)
    with pytest.raises(ValueError, match="at least 2 inputs, got 1"):
        L.Add()([np.ones((1, 2))])
    with pytest.raises(TypeError, match="expects a list of tensors"):
        L.Add()(np.ones((1, 2)))


def test_config_round_trip_and_registry():
    for layer in [L.Add(), L.Concatenate(axis=1), L.Dot(axes=(1, 2), normalize=True)]:
        config = json.loads(json.dumps(layer.get_config()))
        clone = L.get_layer_class(type(layer).__name__).from_config(config)
        assert clone.get_config() == config


def test_merge_gradients_in_float64():
    def fn(a, b, c):
        merged = L.Concatenate(dtype="float64")([
            L.Add(dtype="float64")([a, b, c]), L.Subtract(dtype="float64")([a, b]),
            L.Multiply(dtype="float64")([a, c]), L.Average(dtype="float64")([b, c]),
            L.Maximum(dtype="float64")([a, b]), L.Minimum(dtype="float64")([b, c]),
        ])
        return L.Dot(axes=1, normalize=True, dtype="float64")([merged, merged * merged])

    rng = np.random.default_rng(1)
    a, b, c = (rng.normal(size=(3, 4)) for _ in range(3))
    b = b + np.sign(b - a) * 0.1  # keep max/min away from ties
    c = c + np.sign(c - b) * 0.1
    assert gradcheck(fn, [a, b, c])


def test_a_merge_broadcasts_a_batch_of_one_inside_a_model():
    # keras.io's Perceiver adds a learned latent array (batch 1) to a batch of inputs inside
    # a model; Keras checks batch sizes once, on symbolic shapes
    a, b = npgrad.Input((3, 4)), npgrad.Input((3, 4))
    model = npgrad.Model([a, b], L.Add()([a, b]))
    latent = npgrad.Tensor(np.full((1, 3, 4), 2.0, "float32"), requires_grad=True)
    out = model([np.ones((5, 3, 4), "float32"), latent])
    np.testing.assert_array_equal(out.numpy(), np.full((5, 3, 4), 3.0))
    out.sum().backward()
    np.testing.assert_array_equal(latent.grad, np.full((1, 3, 4), 5.0))  # summed over the batch
    with pytest.raises(ValueError, match="batch sizes differ"):
        model([np.ones((5, 3, 4)), np.ones((2, 3, 4))])
