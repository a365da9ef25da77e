"""The cross-entropies are finite in value and gradient for every finite input, in float16,
float32 and float64 (issue 15): probabilities of exactly 0 or 1, rows that sum to zero or
to a negative number, huge logits, sums that overflow."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import losses

DTYPES = [np.float16, np.float32, np.float64]


def _any_finite(dtype):
    return hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False)


@st.composite
def _case(draw, dtype, probabilities):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    if probabilities == "unit":
        elements = st.floats(0, 1, width=16).map(dtype)
    else:
        elements = _any_finite(dtype)
    y_pred = draw(hnp.arrays(dtype, (n, c), elements=elements))
    soft = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0, 1)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return y_pred, soft.astype(dtype), labels


def _value_and_grad(loss, y_true, y_pred):
    pred = npgrad.Tensor(y_pred, requires_grad=True)
    value = loss(y_true, pred)
    value.backward(np.ones(value.shape, value.dtype) if value.ndim else None)
    return value.numpy(), pred.grad


def _assert_finite(value, grad, dtype):
    assert value.dtype == dtype and grad.dtype == dtype
    assert np.isfinite(value).all(), value
    assert np.isfinite(grad).all(), grad


LOSSES = {
    "bce": lambda: losses.BinaryCrossentropy(),
    "bce_logits": lambda: losses.BinaryCrossentropy(from_logits=True),
    "bce_smooth": lambda: losses.BinaryCrossentropy(label_smoothing=0.1),
    "cce": lambda: losses.CategoricalCrossentropy(),
    "cce_logits": lambda: losses.CategoricalCrossentropy(from_logits=True),
    "scce": lambda: losses.SparseCategoricalCrossentropy(),
    "scce_logits": lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_finite_value_and_gradient_for_any_finite_input(name, dtype, data):
    y_pred, soft, labels = data.draw(_case(dtype, "any"))
    y_true = labels if name.startswith("scce") else soft
    value, grad = _value_and_grad(LOSSES[name](), y_true, y_pred)
    _assert_finite(value, grad, dtype)
    per_sample = LOSSES[name]()
    per_sample.reduction = "none"
    value, grad = _value_and_grad(per_sample, y_true, y_pred)
    _assert_finite(value, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("loss", [
    losses.BinaryFocalCrossentropy(), losses.BinaryFocalCrossentropy(apply_class_balancing=True),
    losses.CategoricalFocalCrossentropy(),
], ids=["binary_focal", "binary_focal_balanced", "categorical_focal"])
@given(data=st.data())
def test_focal_losses_finite_on_probabilities_including_0_and_1(loss, dtype, data):
    y_pred, soft, _ = data.draw(_case(dtype, "unit"))
    value, grad = _value_and_grad(loss, soft, y_pred)
    _assert_finite(value, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_reported_cases(dtype):
    # probabilities of exactly 0 and 1 in float16: 1 - 1e-7 rounds to 1 there
    value, grad = _value_and_grad(losses.BinaryCrossentropy(), np.array([[1.0, 0.0, 1.0]]),
                                  np.array([[0.0, 1.0, 1.0]], dtype=dtype))
    _assert_finite(value, grad, dtype)
    assert value > 10  # -log(1e-7) for two of the three entries, averaged
    # rows that sum to zero or to a negative number
    rows = np.array([[0.0, 0.0, 0.0], [0.5, -0.5, 0.0], [-0.2, -0.3, -0.1]], dtype=dtype)
    value, grad = _value_and_grad(losses.CategoricalCrossentropy(), np.eye(3), rows)
    _assert_finite(value, grad, dtype)


def test_valid_inputs_keep_keras_values_exactly():
    """The guards change nothing where Keras' formula is already finite."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 1, size=(5, 4))
    y = np.eye(4)[rng.integers(0, 4, 5)]
    value, grad = _value_and_grad(losses.CategoricalCrossentropy(reduction="none"), y, p)
    q = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(value, -np.sum(y * np.log(q), -1), rtol=1e-12)
    s = p.sum(-1, keepdims=True)
    np.testing.assert_allclose(grad, (-y / q + y.sum(-1, keepdims=True)) / s, rtol=1e-10)


def test_mean_of_huge_finite_losses_does_not_overflow():
    z = np.array([[3e38, -3e38], [3e38, -3e38], [3e38, -3e38]], dtype=np.float32)
    value, grad = _value_and_grad(losses.SparseCategoricalCrossentropy(from_logits=True),
                                  np.array([1, 1, 1]), z)
    _assert_finite(value, grad, np.float32)
    assert value > 1e38


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_mean_of_losses_at_the_largest_float_stays_finite(dtype):
    # each sample's loss rounds to the largest float, and so does a third of it summed three
    # times: the mean is clipped into the values' range, its gradient still 1/3 each
    big = np.finfo(dtype).max
    z = np.array([[0, big, big, big, big], [big, big, 0, big, big],
                  [big, big, 0, big, big]], dtype=dtype)
    labels = np.array([0, 2, 2])
    value, grad = _value_and_grad(losses.SparseCategoricalCrossentropy(from_logits=True),
                                  labels, z)
    _assert_finite(value, grad, dtype)
    assert value == big
    per_sample = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    values = npgrad.Tensor(per_sample(labels, z).numpy(), requires_grad=True)
    mean = npgrad.losses.loss.reduce_loss(values)
    mean.backward()
    assert mean.numpy() == big
    np.testing.assert_allclose(values.grad, np.full(3, 1 / 3), rtol=1e-3)
    assert isinstance(mean.data, np.ndarray) and mean.data.dtype == dtype  # as any other mean
