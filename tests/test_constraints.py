"""npgrad.constraints: Keras's formulas, lookup and configs, and layers whose weights the
optimizer projects after every update (kernel_constraint / bias_constraint)."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import constraints, layers, optimizers

weights = hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)),
                     elements=st.floats(-10, 10))


@given(w=weights, max_value=st.floats(0.1, 5))
def test_max_norm_caps_each_column(w, max_value):
    out = constraints.MaxNorm(max_value)(w)
    norms = np.linalg.norm(w, axis=0)
    np.testing.assert_allclose(out, w * np.clip(norms, 0, max_value) / (1e-7 + norms), atol=1e-300)
    assert (np.linalg.norm(out, axis=0) <= max_value + 1e-9).all()


@given(w=weights)
def test_unit_norm_min_max_norm_and_non_neg(w):
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    np.testing.assert_allclose(constraints.UnitNorm(axis=1)(w), w / (1e-7 + norms))
    desired = 0.5 * np.clip(norms, 0.5, 2.0) + 0.5 * norms
    # Keras's association, w * (desired / (eps + norms)): w * desired first underflows to
    # 0 for subnormal weights (hypothesis found w = 5e-324)
    np.testing.assert_allclose(constraints.MinMaxNorm(0.5, 2.0, rate=0.5, axis=1)(w),
                               w * (desired / (1e-7 + norms)), atol=1e-300)
    np.testing.assert_array_equal(constraints.NonNeg()(w), np.maximum(w, 0))
    np.testing.assert_array_equal(constraints.Constraint()(w), w)


def test_lookup_and_configs():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert constraints.get(None) is None
    c = constraints.MinMaxNorm(0.1, 3.0, rate=0.5, axis=[0, 1])
    back = constraints.get(json.loads(json.dumps(constraints.serialize(c))))
    assert back.get_config() == c.get_config()
    with pytest.raises(ValueError, match="Valid names"):
        constraints.get("unit")
    with pytest.raises(ValueError, match="MinMaxNorm: max_value"):
        constraints.MinMaxNorm(2.0, 1.0)
    with pytest.raises(ValueError, match="MaxNorm: axis"):
        constraints.MaxNorm(axis="rows")


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3, kernel_constraint="non_neg", bias_constraint=constraints.NonNeg()),
    lambda: layers.Conv2D(2, 2, kernel_constraint="non_neg", bias_constraint="non_neg"),
    lambda: layers.SimpleRNN(3, kernel_constraint="non_neg", recurrent_constraint="non_neg",
                             bias_constraint="non_neg"),
    lambda: layers.LSTM(2, kernel_constraint="non_neg", recurrent_constraint="non_neg",
                        bias_constraint="non_neg"),
    lambda: layers.Embedding(5, 3, embeddings_constraint="non_neg"),
], ids=["dense", "conv2d", "simple_rnn", "lstm", "embedding"])
def test_layers_keep_constrained_weights_after_each_step_and_in_their_config(make):
    layer = make()
    x = np.random.default_rng(0).integers(0, 5, (4, 3)) if isinstance(layer, layers.Embedding) \
        else np.random.default_rng(0).normal(size=(4, 3, 3, 2) if isinstance(layer, layers.Conv2D)
                                                else (4, 3, 2))
    layer(x)
    params = layer.trainable_weights
    assert all(p.constraint is not None for p in params)
    opt = optimizers.SGD(1.0)
    for _ in range(2):
        out = layer(x, training=True)
        out.sum().backward()
        opt.step(params)
        opt.zero_grad(params)
        for p in params:
            assert (p.data >= 0).all(), p.name
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = type(layer).from_config(config)
    rebuilt(x)
    assert all(isinstance(p.constraint, constraints.NonNeg) for p in rebuilt.trainable_weights)


def test_fit_applies_constraints():
    model = npgrad.Sequential([layers.Dense(4, kernel_constraint=constraints.MaxNorm(0.5),
                                            input_shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.5), loss="mse")
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(32, 3)), rng.normal(size=(32, 1)) * 10, epochs=2, verbose=0)
    assert (np.linalg.norm(model.layers[0].kernel.data, axis=0) <= 0.5 + 1e-6).all()
