"""Layer maths: dropout statistics, batch/layer norm semantics (Keras), embedding lookup."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
import npgrad.functional as F
from npgrad import random as npgrad_random


# ------------------------------------------------------------------ dropout
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_drops_about_rate_and_preserves_the_mean(rate):
    x = np.ones((400, 250), dtype=np.float32)
    out = F.dropout(x, rate, training=True, seed=3).numpy()
    dropped = np.mean(out == 0)
    assert abs(dropped - rate) < 0.01  # 100,000 draws: std of the fraction < 0.0016
    np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)  # kept units scaled
    assert abs(out.mean() - 1.0) < 0.03
    assert out.dtype == np.float32


def test_dropout_is_reproducible_with_a_seed_and_with_the_global_generator():
    x = np.arange(1, 101, dtype=np.float64)
    a = F.dropout(x, 0.5, training=True, seed=7).numpy()
    b = F.dropout(x, 0.5, training=True, seed=7).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, F.dropout(x, 0.5, training=True, seed=8).numpy())
    npgrad_random.seed(11)
    c = F.dropout(x, 0.5, training=True).numpy()
    d = F.dropout(x, 0.5, training=True).numpy()
    npgrad_random.seed(11)
    np.testing.assert_array_equal(c, F.dropout(x, 0.5, training=True).numpy())
    assert not np.array_equal(c, d)  # the global generator advances between calls


def test_dropout_is_identity_in_inference_and_at_rate_zero():
    x = npgrad.Tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0, training=True) is x
    out = F.dropout(x.numpy(), 0.5)
    assert isinstance(out, npgrad.Tensor)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_dropout_gradient_is_the_mask():
    x = npgrad.Tensor(np.ones((5, 6)), requires_grad=True)
    out = F.dropout(x, 0.4, training=True, seed=1)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.numpy())  # ones in, so out == mask


def test_dropout_noise_shape_broadcasts_like_keras():
    x = np.ones((4, 3, 3, 5))
    out = F.dropout(x, 0.5, training=True, seed=2, noise_shape=(4, 1, 1, 5)).numpy()
    # one decision per (sample, channel), shared over the spatial axes
    assert (out == out[:, :1, :1, :]).all()
    none_entries = F.dropout(x, 0.5, training=True, seed=2, noise_shape=(None, 1, 1, None)).numpy()
    np.testing.assert_array_equal(out, none_entries)
    with pytest.raises(ValueError, match="noise_shape"):
        F.dropout(x, 0.5, training=True, noise_shape=(4, 2, 1, 5))
    with pytest.raises(ValueError, match="noise_shape"):
        F.dropout(x, 0.5, training=True, noise_shape=(4, 5))


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5", True])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\)"):
        F.dropout(np.ones(3), rate, training=True)


# ------------------------------------------------------------------ batch norm
def _channels(c):
    return np.zeros(c), np.ones(c)


@given(x=hnp.arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(1, 4)),
                    elements=st.floats(-10, 10, allow_nan=False)),
       momentum=st.sampled_from([0.0, 0.5, 0.99]))
def test_batch_norm_training_normalizes_and_updates_moving_stats_by_the_keras_formula(x, momentum):
    channels = x.shape[1]
    moving_mean = np.linspace(-1, 1, channels)
    moving_variance = np.linspace(0.5, 2, channels)
    before_mean, before_var = moving_mean.copy(), moving_variance.copy()
    out = F.batch_norm(x, None, None, moving_mean, moving_variance, training=True,
                       momentum=momentum, epsilon=1e-3).numpy()
    mean, var = x.mean(axis=0), x.var(axis=0)  # biased variance, as Keras 3
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(moving_mean, before_mean * momentum + mean * (1 - momentum),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(moving_variance, before_var * momentum + var * (1 - momentum),
                               rtol=1e-12, atol=1e-12)


def test_batch_norm_training_output_has_zero_mean_and_unit_variance_per_channel():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(16, 5, 5, 3)) * [1, 10, 0.1] + [5, -3, 0]).astype(np.float32)
    mean, var = _channels(3)
    out = F.batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32), mean.astype(np.float32),
                       var.astype(np.float32), training=True, epsilon=1e-6).numpy()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), 1, atol=1e-3)


def test_batch_norm_inference_uses_moving_stats_and_leaves_them_alone():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    mean, var = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    out = F.batch_norm(x, gamma, beta, mean, var, epsilon=1e-3).numpy()
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta)
    np.testing.assert_array_equal(mean, [0.1, -0.2, 0.3])
    np.testing.assert_array_equal(var, [1.5, 0.5, 2.0])


def test_batch_norm_channel_axis_one_and_tensor_moving_stats():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 2, 4, 4))  # NCHW
    moving_mean = npgrad.Tensor(np.zeros(2))
    moving_variance = npgrad.Tensor(np.ones(2))
    out = F.batch_norm(x, np.ones(2), np.zeros(2), moving_mean, moving_variance, training=True,
                       axis=1, momentum=0.9).numpy()
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(
        out, (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3))
    np.testing.assert_allclose(moving_mean.numpy(), 0.1 * mean)
    np.testing.assert_allclose(moving_variance.numpy(), 0.9 + 0.1 * var)


def test_batch_norm_updates_moving_stats_under_no_grad_too():
    moving_mean, moving_variance = _channels(2)
    with npgrad.no_grad():
        F.batch_norm(np.array([[1.0, 2.0], [3.0, 6.0]]), None, None, moving_mean,
                     moving_variance, training=True, momentum=0.5)
    np.testing.assert_allclose(moving_mean, [1.0, 2.0])
    np.testing.assert_allclose(moving_variance, [1.0, 2.5])


def test_batch_norm_matches_keras_fit(keras_ref):
    """[BatchNormalization(), Dense(2)], mse, SGD(0.1), two full-batch steps, then predict."""
    ref = {k.split("/", 1)[1]: v for k, v in keras_ref.items() if k.startswith("batchnorm_fit/")}
    trainable = (0, 1, 4, 5)  # gamma, beta, kernel, bias; 2, 3 are the moving statistics
    w = [npgrad.Tensor(ref[f"w0_{i}"].copy(), requires_grad=i in trainable) for i in range(6)]
    for _ in range(2):
        hidden = F.batch_norm(ref["x"], w[0], w[1], w[2], w[3], training=True)
        F.mean_squared_error(ref["y"], F.dense(hidden, w[4], w[5])).mean().backward()
        for i in trainable:
            w[i].data -= np.float32(0.1) * w[i].grad
            w[i].grad = None
    for i in range(6):
        np.testing.assert_allclose(w[i].numpy(), ref[f"w2_{i}"], rtol=1e-4, atol=1e-6)
    pred = F.dense(F.batch_norm(ref["x"], *w[:4]), w[4], w[5])
    np.testing.assert_allclose(pred.numpy(), ref["pred"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("relu", [False, True])
def test_batch_norm_output_takes_the_wider_dtype_of_input_and_gamma(training, relu):
    """float32 images with float64 gamma and beta give a float64 output, as
    ``(x - mean) * gamma * inv + beta`` does in NumPy (the channels-last path computes in
    place, so it must widen first), with the same values as the all-float64 computation."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 3, 5)).astype(np.float32)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    stats = lambda: (np.zeros(5, np.float32), np.ones(5, np.float32))
    y = F.batch_norm(x, gamma, beta, *stats(), training=training, relu=relu)
    assert y.dtype == np.float64
    expected = F.batch_norm(x.astype(np.float64), gamma, beta, *stats(), training=training,
                            relu=relu)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_batch_norm_errors():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"gamma has shape \(2,\), expected 3 elements"):
        F.batch_norm(x, np.ones(2), None, *_channels(3))
    with pytest.raises(ValueError, match="moving_variance"):
        F.batch_norm(x, None, None, np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match="needs moving_mean and moving_variance"):
        F.batch_norm(x, None, None, None, None)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        F.batch_norm(x, None, None, *_channels(3), axis=2)
    with pytest.raises(TypeError, match="updated in place"):
        F.batch_norm(x, None, None, [0.0] * 3, [1.0] * 3, training=True)


def test_batch_norm_gradient_of_a_training_batch_sums_to_zero():
    # the output is invariant to shifting x, so dx sums to 0 per channel
    x = npgrad.Tensor(np.random.default_rng(3).normal(size=(6, 2)), requires_grad=True)
    out = F.batch_norm(x, np.array([1.0, 3.0]), np.zeros(2), None, None, training=True)
    (out * np.arange(12.0).reshape(6, 2)).sum().backward()
    np.testing.assert_allclose(x.grad.sum(axis=0), 0, atol=1e-12)


# ------------------------------------------------------------------ layer norm
@pytest.mark.parametrize("axis", [-1, (1, 2)])
def test_layer_norm_matches_numpy(axis):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4)) * 5 + 2
    axes = (axis,) if isinstance(axis, int) else axis
    shape = tuple(x.shape[a] for a in axes)
    gamma, beta = rng.normal(size=shape), rng.normal(size=shape)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    ref = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(F.layer_norm(x, gamma, beta, axis=axis).numpy(), ref, rtol=1e-12)
    plain = F.layer_norm(x.astype(np.float32), axis=axis).numpy()
    assert plain.dtype == np.float32
    np.testing.assert_allclose(plain, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_layer_norm_rejects_wrong_parameter_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: gamma has shape \(3,\), expected 4"):
        F.layer_norm(np.ones((2, 4)), np.ones(3))


# ------------------------------------------------------------------ embedding
def test_embedding_looks_up_rows_and_accumulates_repeated_indices():
    table = npgrad.Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    indices = np.array([[0, 2], [2, 2]])
    out = F.embedding(indices, table)
    np.testing.assert_array_equal(out.numpy(), table.numpy()[indices])
    out.backward(np.ones((2, 2, 3)))
    np.testing.assert_array_equal(table.grad, [[1, 1, 1], [0, 0, 0], [3, 3, 3], [0, 0, 0]])


def test_embedding_accepts_whole_float_indices_and_keeps_dtype():
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    out = F.embedding(np.array([2.0, 0.0]), table)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), [[4, 5], [0, 1]])


@pytest.mark.parametrize("bad", [5, -1])
def test_embedding_out_of_range_index_names_index_and_table_size(bad):
    with pytest.raises(ValueError, match=rf"index {bad} is out of range for a table of 5 rows"):
        F.embedding(np.array([0, bad]), np.zeros((5, 2)))


def test_embedding_rejects_fractional_indices():
    with pytest.raises(ValueError, match="whole numbers, got 0.5"):
        F.embedding(np.array([0.5]), np.zeros((5, 2)))
