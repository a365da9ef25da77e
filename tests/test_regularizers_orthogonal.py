"""OrthogonalRegularizer: Keras 3's value (stored numbers computed with Keras 3.15), its
formula for any weight, its gradient, config and lookup."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import regularizers
from npgrad.utils.gradcheck import gradcheck

W = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
KERAS = {"rows": 0.12991254031658173, "columns": 0.15574820339679718}  # factor 0.3


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_value_matches_keras(mode):
    value = regularizers.OrthogonalRegularizer(0.3, mode)(npgrad.Tensor(W))
    assert float(value.numpy()) == pytest.approx(KERAS[mode], rel=1e-6)


@given(w=hnp.arrays(np.float64, st.tuples(st.integers(2, 5), st.integers(2, 5)),
                    elements=st.floats(0.1, 3) | st.floats(-3, -0.1)),
       mode=st.sampled_from(["rows", "columns"]))
def test_formula_and_gradient(w, mode):
    unit = w / np.linalg.norm(w, axis=1 if mode == "rows" else 0, keepdims=True)
    product = unit @ unit.T if mode == "rows" else unit.T @ unit
    n = product.shape[0]
    expected = 0.05 * 0.5 * np.abs(product - np.diag(np.diag(product))).sum() / (n * (n - 1) / 2)
    regularizer = regularizers.OrthogonalRegularizer(0.05, mode)
    assert float(regularizer(npgrad.Tensor(w)).numpy()) == pytest.approx(expected, rel=1e-9)
    if np.min(np.abs(product[~np.eye(n, dtype=bool)])) > 1e-3:  # away from |.|'s kink
        gradcheck(lambda x: regularizer(x), [w], {})


def test_config_lookup_and_errors():
    reg = regularizers.get("orthogonal_regularizer")
    assert isinstance(reg, regularizers.OrthogonalRegularizer) and reg.factor == 0.01
    back = regularizers.get(json.loads(json.dumps(regularizers.serialize(
        regularizers.OrthogonalRegularizer(0.2, "columns")))))
    assert back.get_config() == {"factor": 0.2, "mode": "columns"}
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="2-D"):
        regularizers.OrthogonalRegularizer()(npgrad.Tensor(np.ones(3)))
