"""BatchNormalization (batch vs moving statistics, momentum, freezing, Keras training parity)
and LayerNormalization."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
import npgrad.layers as L


def _batch(shape=(16, 3), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2 + 5).astype(np.float64)


def test_training_uses_batch_stats_and_updates_moving_stats_with_momentum():
    bn = L.BatchNormalization(momentum=0.9, dtype="float64")
    x = _batch()
    y = bn(x, training=True).numpy()
    mean, var = x.mean(axis=0), x.var(axis=0)  # biased variance, as Keras 3
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * mean, rtol=1e-10)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-10)
    bn(x, training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.9 * 0.1 * mean + 0.1 * mean, rtol=1e-10)


def test_inference_uses_moving_stats_and_leaves_them_alone():
    bn = L.BatchNormalization(dtype="float64")
    x = _batch()
    bn(x)
    bn.set_weights([np.full(3, 2.0), np.full(3, 1.0), np.full(3, 5.0), np.full(3, 4.0)])
    y = bn(x).numpy()
    np.testing.assert_allclose(y, (x - 5.0) / np.sqrt(4.0 + 1e-3) * 2.0 + 1.0, rtol=1e-10)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 5.0)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), 4.0)


def test_moving_stats_are_non_trainable_and_get_no_gradient():
    bn = L.BatchNormalization()
    x = npgrad.Tensor(_batch().astype(np.float32), requires_grad=True)
    out = bn(x, training=True)
    (out * out).sum().backward()
    assert [w.name.split("/")[-1] for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name.split("/")[-1] for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert bn.moving_mean.grad is None and bn.moving_variance.grad is None
    assert bn.gamma.grad is not None and x.grad is not None


def test_frozen_batch_norm_runs_in_inference_mode_even_when_training():
    bn = L.BatchNormalization(dtype="float64")
    x = _batch()
    bn(x, training=True)
    stats = [w.copy() for w in bn.get_weights()]
    bn.trainable = False
    y = bn(x, training=True).numpy()
    for before, after in zip(stats, bn.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_allclose(y, bn(x, training=False).numpy())
    assert bn.trainable_weights == []


def test_batch_norm_on_images_normalizes_each_channel():
    bn = L.BatchNormalization(dtype="float64")
    x = _batch((4, 5, 5, 3))
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-10)
    bn_first = L.BatchNormalization(axis=1, dtype="float64")
    y1 = bn_first(np.moveaxis(x, 3, 1), training=True).numpy()
    np.testing.assert_allclose(np.moveaxis(y1, 1, 3), y, rtol=1e-10)


def test_batch_norm_training_matches_keras_fit(keras_ref):
    """[BatchNormalization(), Dense(2)], MSE, SGD(0.1), 2 full-batch steps, then predict.

    The loop below is what Keras's fit does for this case, written against the layer API.
    """
    ref = {k.split("/", 1)[1]: v for k, v in keras_ref.items() if k.startswith("batchnorm_fit/")}
    bn, dense = L.BatchNormalization(), L.Dense(2)
    x, y = ref["x"], ref["y"]
    dense(bn(x))
    bn.set_weights([ref[f"w0_{i}"] for i in range(4)])
    dense.set_weights([ref["w0_4"], ref["w0_5"]])
    params = bn.trainable_weights + dense.trainable_weights
    for _ in range(2):
        pred = dense(bn(x, training=True), training=True)
        loss = ((pred - y) * (pred - y)).mean()
        loss.backward()
        for p in params:
            p.data -= 0.1 * p.grad
            p.grad = None
    for got, i in zip(bn.get_weights() + dense.get_weights(), range(6)):
        np.testing.assert_allclose(got, ref[f"w2_{i}"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dense(bn(x)).numpy(), ref["pred"], rtol=1e-4, atol=1e-5)


def test_layer_normalization_normalizes_each_sample():
    ln = L.LayerNormalization(dtype="float64")
    x = _batch((4, 6))
    y = ln(x).numpy()
    expected = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-10)


def test_layer_normalization_over_two_axes_with_parameters():
    ln = L.LayerNormalization(axis=[1, 2], dtype="float64")
    x = _batch((2, 3, 4))
    ln(x)
    gamma, beta = np.arange(12.0).reshape(3, 4), np.ones((3, 4))
    ln.set_weights([gamma, beta])
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(ln(x).numpy(), (x - mean) / np.sqrt(var + 1e-3) * gamma + beta,
                               rtol=1e-10)
    # axes listed in reverse order: parameters of shape (4, 3), reshaped (not transposed) onto
    # the input's axes, as Keras does
    ln_rev = L.LayerNormalization(axis=[2, 1], dtype="float64")
    ln_rev(x)
    assert ln_rev.gamma.shape == (4, 3)
    ln_rev.set_weights([gamma.reshape(4, 3), beta.reshape(4, 3)])
    np.testing.assert_allclose(ln_rev(x).numpy(), ln(x).numpy(), rtol=1e-12)


def test_layer_normalization_without_center_and_scale_has_no_weights():
    ln = L.LayerNormalization(center=False, scale=False)
    ln(np.ones((2, 3)))
    assert ln.weights == [] and ln.count_params() == 0


@pytest.mark.parametrize("cls", [L.BatchNormalization, L.LayerNormalization])
def test_normalization_preserves_float32(cls):
    out = cls()(np.ones((4, 3), dtype=np.float32), training=True)
    assert out.dtype == np.float32


# ---------------------------------------------------------------- masked batch statistics
def _keras_masked_moments(x, mask):
    """Keras 3's BatchNormalization._moments with a mask, in NumPy."""
    w = np.broadcast_to(mask.astype(x.dtype)[..., None], x.shape)
    axes = tuple(range(x.ndim - 1))
    count = w.sum(axis=axes) + 1e-7
    mean = (w * x).sum(axis=axes) / count
    variance = (w * np.square(w * x - mean)).sum(axis=axes) / count
    return mean, variance


@given(seed=st.integers(0, 2**16))
def test_masked_training_statistics_skip_padded_steps_like_keras(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5, 4))
    mask = rng.random((3, 5)) < 0.6
    mask[0, 0] = True  # at least one real step
    layer = npgrad.layers.BatchNormalization(momentum=0.9, dtype="float64")
    layer.build(x.shape)
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, 4)
    layer.beta.data[...] = rng.standard_normal(4)
    out = layer(x, training=True, mask=mask).numpy()
    mean, variance = _keras_masked_moments(x, mask)
    expected = (x - mean) / np.sqrt(variance + 1e-3) * layer.gamma.data + layer.beta.data
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.moving_mean.data, 0.1 * mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.data, 0.9 + 0.1 * variance, rtol=1e-10)
    # padded steps change nothing: the real steps' outputs do not depend on them
    x2 = x.copy()
    x2[~mask] = rng.standard_normal(x2[~mask].shape) * 100
    layer2 = npgrad.layers.BatchNormalization(momentum=0.9, dtype="float64")
    layer2.build(x.shape)
    layer2.set_weights(layer.get_weights())
    out2 = layer2(x2, training=True, mask=mask).numpy()
    np.testing.assert_allclose(out2[mask], out[mask], rtol=1e-9, atol=1e-10)


def test_masked_training_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    layer = npgrad.layers.BatchNormalization(dtype="float64")
    layer.build((2, 4, 3))

    def masked_bn(x, gamma, beta):
        saved = layer.gamma, layer.beta
        layer.gamma, layer.beta = gamma, beta  # so that gradcheck reaches them
        try:
            return layer._masked_training_call(x, mask)
        finally:
            layer.gamma, layer.beta = saved

    npgrad.utils.gradcheck(masked_bn, [rng.standard_normal((2, 4, 3)), rng.uniform(0.5, 2, 3),
                                       rng.standard_normal(3)])


def test_masked_batch_norm_in_a_model_and_bad_masks():
    tokens = np.array([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]])
    model = npgrad.Sequential([npgrad.Input((5,), dtype="int64"),
                               npgrad.layers.Embedding(10, 4, mask_zero=True),
                               npgrad.layers.BatchNormalization(momentum=0.99),
                               npgrad.layers.LSTM(3)])
    model.compile("sgd", "mse")
    embedded = model.layers[0](tokens).numpy()  # what the one training step normalizes
    mean, variance = _keras_masked_moments(embedded, tokens != 0)
    model.fit(tokens, np.zeros((2, 3), np.float32), batch_size=2, epochs=1, verbose=0)
    bn = model.layers[1]
    np.testing.assert_allclose(bn.moving_mean.data, 0.01 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.moving_variance.data, 0.99 + 0.01 * variance, rtol=1e-5)
    fresh = npgrad.layers.BatchNormalization()
    fresh.build((2, 5, 4))
    with pytest.raises(ValueError, match="mask must have the input's shape"):
        fresh(np.ones((2, 5, 4), np.float32), training=True, mask=np.ones((2, 4), bool))
