"""Regularizers: values, autograd gradients, names and validation."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import regularizers

WEIGHTS = np.array([[0.5, -1.5], [2.0, -0.25]])


def _penalty_and_grad(regularizer, values):
    w = npgrad.Tensor(values.copy(), requires_grad=True)
    penalty = regularizer(w)
    assert isinstance(penalty, npgrad.Tensor) and penalty.shape == ()
    penalty.backward()
    return penalty.item(), w.grad


def test_l1_value_and_gradient():
    value, grad = _penalty_and_grad(regularizers.L1(0.1), WEIGHTS)
    assert value == pytest.approx(0.1 * 4.25)
    np.testing.assert_allclose(grad, 0.1 * np.sign(WEIGHTS))


def test_l2_value_and_gradient():
    value, grad = _penalty_and_grad(regularizers.L2(0.1), WEIGHTS)
    assert value == pytest.approx(0.1 * (0.25 + 2.25 + 4 + 0.0625))
    np.testing.assert_allclose(grad, 0.2 * WEIGHTS)


def test_l1l2_is_the_sum():
    value, grad = _penalty_and_grad(regularizers.L1L2(l1=0.1, l2=0.3), WEIGHTS)
    assert value == pytest.approx(0.1 * 4.25 + 0.3 * 6.5625)
    np.testing.assert_allclose(grad, 0.1 * np.sign(WEIGHTS) + 0.6 * WEIGHTS)


@given(
    values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                      elements=st.floats(-10, 10).filter(lambda x: abs(x) > 1e-3)),
    l1=st.floats(0, 1), l2=st.floats(0, 1),
)
def test_l1l2_gradient_matches_formula(values, l1, l2):
    value, grad = _penalty_and_grad(regularizers.L1L2(l1, l2), values)
    assert value == pytest.approx(l1 * np.abs(values).sum() + l2 * np.square(values).sum())
    np.testing.assert_allclose(grad, l1 * np.sign(values) + 2 * l2 * values, rtol=1e-12, atol=1e-12)


def test_float32_weights_give_float32_penalty():
    w = npgrad.Tensor(WEIGHTS.astype(np.float32), requires_grad=True)
    assert regularizers.L2(0.01)(w).dtype == np.float32


def test_keras_defaults_and_aliases():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.l1 is regularizers.L1 and regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.l2(0.5).l2 == 0.5


@pytest.mark.parametrize(
    "identifier, cls",
    [("l1", regularizers.L1), ("l2", regularizers.L2), ("l1_l2", regularizers.L1L2),
     ("L1L2", regularizers.L1L2),
     ({"class_name": "L2", "config": {"l2": 0.5}}, regularizers.L2),
     (regularizers.L1, regularizers.L1)],
)
def test_get_resolves_identifiers(identifier, cls):
    assert type(regularizers.get(identifier)) is cls


def test_get_passes_none_instances_and_callables():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg

    def custom(w):
        return w.sum()

    assert regularizers.get(custom) is custom
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError):
        regularizers.get(0.1)


def test_serialize_round_trip():
    reg = regularizers.L1L2(l1=0.2, l2=0.4)
    rebuilt = regularizers.get(json.loads(json.dumps(regularizers.serialize(reg))))
    assert type(rebuilt) is regularizers.L1L2 and rebuilt.get_config() == reg.get_config()


@pytest.mark.parametrize(
    "make, argument",
    [(lambda: regularizers.L1(-0.1), "l1"), (lambda: regularizers.L2(float("nan")), "l2"),
     (lambda: regularizers.L1L2(l2="big"), "l2"), (lambda: regularizers.L2(float("inf")), "l2")],
)
def test_bad_factors_raise(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_non_weight_input_raises():
    with pytest.raises(TypeError, match="L2"):
        regularizers.L2()([1.0, 2.0])
