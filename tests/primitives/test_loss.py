"""Loss ops: values against independent NumPy/SciPy and Keras references, stability, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import npgrad
import npgrad.functional as F
from npgrad.primitives import loss

EPS = 1e-7


def _grad(fn, y_pred, dtype=np.float64):
    """Loss value and d(sum loss)/d(y_pred)."""
    p = npgrad.Tensor(np.asarray(y_pred, dtype=dtype), requires_grad=True)
    out = fn(p)
    out.sum().backward()
    return out.numpy(), p.grad


# ------------------------------------------------------------------ references (independent)
def _ref_bce_logits(y, z):
    return np.mean(-(y * special.log_expit(z) + (1 - y) * special.log_expit(-z)), axis=-1)


def _ref_bce_probs(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)


def _ref_cce_probs(y, p, axis=-1):
    q = np.clip(p / p.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
    return -np.sum(y * np.log(q), axis=axis)


def _onehot(labels, classes):
    return np.eye(classes)[labels]


finite = st.floats(-5, 5, allow_nan=False, width=64)


@st.composite
def _logits_and_labels(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 6))
    z = draw(hnp.arrays(np.float64, (n, c), elements=finite))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return z, labels


# ------------------------------------------------------------------ forward values
@given(pair=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                       elements=finite).flatmap(
    lambda a: st.tuples(st.just(a), hnp.arrays(np.float64, a.shape, elements=finite))))
def test_regression_losses_match_numpy(pair):
    y, p = pair
    d = p - y
    np.testing.assert_allclose(F.mean_squared_error(y, p).numpy(), np.mean(d**2, axis=-1))
    np.testing.assert_allclose(F.mean_absolute_error(y, p).numpy(), np.mean(np.abs(d), axis=-1))
    ref_huber = np.where(np.abs(d) <= 1.5, 0.5 * d**2, 1.5 * np.abs(d) - 0.5 * 1.5**2)
    np.testing.assert_allclose(F.huber(y, p, delta=1.5).numpy(), ref_huber.mean(axis=-1))


@given(data=_logits_and_labels())
def test_crossentropy_from_logits_matches_scipy_log_softmax(data):
    z, labels = data
    ref = -np.take_along_axis(special.log_softmax(z, axis=-1), labels[:, None], -1)[:, 0]
    np.testing.assert_allclose(
        F.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(), ref, rtol=1e-12)
    onehot = _onehot(labels, z.shape[1])
    np.testing.assert_allclose(
        F.categorical_crossentropy(onehot, z, from_logits=True).numpy(), ref, rtol=1e-12)
    # the probability form on softmax(z) agrees wherever nothing is clipped
    probs = special.softmax(z, axis=-1)
    if probs.min() > 1e-6:
        np.testing.assert_allclose(
            F.sparse_categorical_crossentropy(labels, probs).numpy(), ref, rtol=1e-9)


@given(data=_logits_and_labels())
def test_crossentropy_from_logits_gradient_is_softmax_minus_onehot(data):
    z, labels = data
    _, grad = _grad(lambda t: F.sparse_categorical_crossentropy(labels, t, from_logits=True), z)
    np.testing.assert_allclose(grad, special.softmax(z, axis=-1) - _onehot(labels, z.shape[1]),
                               atol=1e-12)


def test_binary_crossentropy_matches_scipy_expit_and_keras_clipping():
    rng = np.random.default_rng(0)
    y = rng.random((4, 3))
    z = rng.normal(size=(4, 3)) * 4
    np.testing.assert_allclose(F.binary_crossentropy(y, z, from_logits=True).numpy(),
                               _ref_bce_logits(y, z), rtol=1e-12)
    p = np.array([[0.0, 1.0, 0.3], [1e-9, 0.5, 1 - 1e-9], [0.2, 0.7, 0.9], [0.1, 0.1, 0.1]])
    np.testing.assert_allclose(F.binary_crossentropy(y, p).numpy(), _ref_bce_probs(y, p),
                               rtol=1e-12)


def test_categorical_crossentropy_renormalizes_probabilities_like_keras():
    p = np.array([[0.2, 0.2, 0.4], [1.0, 3.0, 0.0]])  # rows summing to 0.8 and 4
    y = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(F.categorical_crossentropy(y, p).numpy(), _ref_cce_probs(y, p))
    np.testing.assert_allclose(F.sparse_categorical_crossentropy(np.array([1, 1]), p).numpy(),
                               [-np.log(0.25), -np.log(0.75)])


def test_class_axis_other_than_last():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(2, 4, 3))  # classes on axis 1
    labels = rng.integers(0, 4, size=(2, 3))
    ref = -np.take_along_axis(special.log_softmax(z, axis=1), labels[:, None], 1)[:, 0]
    np.testing.assert_allclose(
        F.sparse_categorical_crossentropy(labels, z, from_logits=True, axis=1).numpy(), ref)
    onehot = np.moveaxis(_onehot(labels, 4), -1, 1)
    np.testing.assert_allclose(
        F.categorical_crossentropy(onehot, z, from_logits=True, axis=1).numpy(), ref)
    p = special.softmax(z, axis=1)
    np.testing.assert_allclose(F.categorical_crossentropy(onehot, p, axis=1).numpy(), ref)


def test_keras_reference_losses(keras_ref):
    probs = keras_ref["losses/probs"]
    labels = keras_ref["losses/labels"]
    sparse = F.sparse_categorical_crossentropy(labels, probs)
    assert sparse.dtype == np.float32
    np.testing.assert_allclose(sparse.numpy(), keras_ref["losses/sparse_cce"], rtol=1e-5)
    onehot = _onehot(labels, probs.shape[1]).astype(np.float32)
    np.testing.assert_allclose(F.categorical_crossentropy(onehot, probs).numpy(),
                               keras_ref["losses/sparse_cce"], rtol=1e-5)
    bce = F.binary_crossentropy(onehot, probs)
    np.testing.assert_allclose(bce.numpy(), keras_ref["losses/bce"], rtol=1e-5)


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 4)) * 3
    labels = rng.integers(0, 4, size=5)
    ref = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(labels),
                                            reduction="none").numpy()
    np.testing.assert_allclose(
        F.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(), ref, rtol=1e-10)
    y = rng.random((5, 4))
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y), reduction="none").numpy().mean(axis=-1)
    np.testing.assert_allclose(F.binary_crossentropy(y, z, from_logits=True).numpy(), ref,
                               rtol=1e-10)
    ref = torch.nn.functional.huber_loss(torch.tensor(z), torch.tensor(y), reduction="none",
                                         delta=0.7).numpy().mean(axis=-1)
    np.testing.assert_allclose(F.huber(y, z, delta=0.7).numpy(), ref, rtol=1e-10)


# ------------------------------------------------------------------ stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_loss_and_gradient(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0]])
    labels = np.array([0, 0])
    value, grad = _grad(lambda t: F.sparse_categorical_crossentropy(labels, t, from_logits=True),
                        z, dtype)
    np.testing.assert_allclose(value, [0.0, 2000.0])
    np.testing.assert_allclose(grad, [[0, 0, 0], [-1, 1, 0]], atol=1e-6)
    value, grad = _grad(
        lambda t: F.categorical_crossentropy(_onehot(labels, 3), t, from_logits=True), z, dtype)
    np.testing.assert_allclose(value, [0.0, 2000.0])
    y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    value, grad = _grad(lambda t: F.binary_crossentropy(y, t, from_logits=True), z, dtype)
    # per element: 0, 1000, log 2 | 0, 0, log(1 + e^-3)
    np.testing.assert_allclose(value, [(1000 + np.log(2)) / 3, np.log1p(np.exp(-3)) / 3], rtol=1e-6)
    np.testing.assert_allclose(value, _ref_bce_logits(y, z), rtol=1e-6)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, (special.expit(z) - y) / 3, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_zero_and_one_stay_finite(dtype):
    p = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    labels = np.array([0, 0])
    for fn in (
        lambda t: F.sparse_categorical_crossentropy(labels, t),
        lambda t: F.categorical_crossentropy(_onehot(labels, 3), t),
        lambda t: F.binary_crossentropy(_onehot(labels, 3), t),
    ):
        value, grad = _grad(fn, p, dtype)
        assert value.dtype == dtype and grad.dtype == dtype
        assert np.isfinite(value).all() and np.isfinite(grad).all()
    value, _ = _grad(lambda t: F.sparse_categorical_crossentropy(labels, t), p, dtype)
    np.testing.assert_allclose(value, [-np.log(dtype(EPS)), -np.log(dtype(1 - EPS))], rtol=1e-5)


def test_all_zero_probability_row_is_finite():
    value, grad = _grad(lambda t: F.sparse_categorical_crossentropy([1], t), np.zeros((1, 3)))
    assert np.isfinite(value).all() and np.isfinite(grad).all()


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "huber",
                                  "binary_crossentropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(name, dtype):
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    value, grad = _grad(lambda t: getattr(F, name)(y, t), np.array([[0.2, 0.6], [0.9, 0.3]]), dtype)
    assert value.dtype == dtype and grad.dtype == dtype and value.shape == (2,)


# ------------------------------------------------------------------ gradients at kinks
def test_mean_absolute_error_gradient_is_zero_at_exact_ties():
    _, grad = _grad(lambda t: F.mean_absolute_error(np.array([[1.0, 2.0]]), t), [[1.0, 3.0]])
    np.testing.assert_array_equal(grad, [[0.0, 0.5]])


def test_huber_is_continuous_at_delta():
    y = np.zeros((1, 4))
    p = np.array([[-2.0, -0.5, 0.5, 2.0]])  # |d| == delta at 0.5 and 2.0 for the two deltas
    value, grad = _grad(lambda t: F.huber(y, t, delta=0.5), p)
    # 0.5 * (|d| - 0.25) outside, 0.5 d^2 inside
    np.testing.assert_allclose(value, [(0.875 + 0.125 + 0.125 + 0.875) / 4])
    np.testing.assert_allclose(grad, [[-0.125, -0.125, 0.125, 0.125]])
    _, grad = _grad(lambda t: F.huber(y, t, delta=2.0), p)
    np.testing.assert_allclose(grad, [[-0.5, -0.125, 0.125, 0.5]])


# ------------------------------------------------------------------ labels and shapes
def test_sparse_labels_of_shape_n_and_n1_and_whole_floats_agree():
    z = np.array([[1.0, 2.0, 3.0], [0.5, 0.1, -1.0]])
    a = F.sparse_categorical_crossentropy(np.array([2, 0]), z, from_logits=True).numpy()
    b = F.sparse_categorical_crossentropy(np.array([[2], [0]]), z, from_logits=True).numpy()
    c = F.sparse_categorical_crossentropy(np.array([2.0, 0.0]), z, from_logits=True).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("bad", [3, -1, 7])
def test_out_of_range_label_is_named(from_logits, bad):
    with pytest.raises(ValueError, match=rf"label {bad} is out of range for 3 classes"):
        F.sparse_categorical_crossentropy(np.array([0, bad]), np.full((2, 3), 0.3),
                                          from_logits=from_logits)


def test_fractional_label_raises():
    with pytest.raises(ValueError, match="whole numbers, got 1.5"):
        F.sparse_categorical_crossentropy(np.array([0.0, 1.5]), np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match="whole numbers"):
        F.sparse_categorical_crossentropy(np.array([0.0, np.nan]), np.full((2, 3), 0.3))


def test_label_and_target_shape_mismatches_raise():
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not match y_pred"):
        F.sparse_categorical_crossentropy(np.array([0, 1, 2]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"y_true of shape \(2, 4\) does not match"):
        F.categorical_crossentropy(np.zeros((2, 4)), np.zeros((2, 3)), from_logits=True)
    with pytest.raises(ValueError, match="axis"):
        F.categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber(np.zeros(2), np.zeros(2), delta=0.0)


def test_targets_with_a_trailing_unit_axis_match_keras():
    # (N,) targets against (N, 1) predictions are expanded, as Keras does
    value = F.mean_squared_error(np.array([1.0, 2.0]), np.array([[0.0], [0.0]]))
    np.testing.assert_allclose(value.numpy(), [1.0, 4.0])


def test_labels_are_never_differentiated():
    y = npgrad.Tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    p = npgrad.Tensor(np.array([[0.3, 0.6]]), requires_grad=True)
    F.binary_crossentropy(y, p).sum().backward()
    assert y.grad is None and p.grad is not None


def test_fused_softmax_path_is_what_from_logits_calls():
    z = npgrad.Tensor(np.array([[2.0, -1.0, 0.5]]), requires_grad=True)
    out = F.sparse_categorical_crossentropy(np.array([0]), z, from_logits=True)
    assert isinstance(out._ctx, loss.SparseSoftmaxCrossEntropy)
    out = F.categorical_crossentropy(np.array([[1.0, 0, 0]]), z, from_logits=True)
    assert isinstance(out._ctx, loss.SoftmaxCrossEntropy)
