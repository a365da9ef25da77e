"""Keras parity through the layer API: set Keras's weights, call, compare with Keras's output."""

import numpy as np
import pytest

import npgrad.layers as L

CONV2D = {
    "conv2d_valid": dict(kernel_size=(3, 3)),
    "conv2d_same_s2": dict(kernel_size=(3, 3), strides=(2, 2), padding="same"),
    "conv2d_same_even": dict(kernel_size=(4, 4), strides=(2, 2), padding="same"),
    "conv2d_dilated": dict(kernel_size=(3, 3), dilation_rate=(2, 2)),
    "conv2d_s21": dict(kernel_size=(3, 3), strides=(2, 1)),
}
CONV2D_TRANSPOSE = {
    "conv2dT_s2_same": dict(strides=(2, 2), padding="same"),
    "conv2dT_s2_valid": dict(strides=(2, 2), padding="valid"),
    "conv2dT_s1_same": dict(strides=(1, 1), padding="same"),
}
POOLING = {
    "maxpool_2": (L.MaxPooling2D, dict(pool_size=(2, 2))),
    "maxpool_3s2_same": (L.MaxPooling2D, dict(pool_size=(3, 3), strides=(2, 2), padding="same")),
    "avgpool_2": (L.AveragePooling2D, dict(pool_size=(2, 2))),
}


def _check(layer, ref, case, weights=(), window=(slice(None), slice(None))):
    x = ref[f"{case}/x"]
    layer._maybe_build(x.shape)
    if weights:
        layer.set_weights([ref[f"{case}/{w}"] for w in weights])
    y = layer(x)
    expected = ref[f"{case}/y"]
    assert y.shape == expected.shape
    assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + expected.shape[1:]
    rows, cols = window
    np.testing.assert_allclose(y.numpy()[:, rows, cols], expected[:, rows, cols], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("case", sorted(CONV2D))
def test_conv2d_matches_keras(keras_ref, case):
    _check(L.Conv2D(5, **CONV2D[case]), keras_ref, case, ("w0", "w1"))


@pytest.mark.parametrize("case", sorted(CONV2D_TRANSPOSE))
def test_conv2d_transpose_matches_keras(keras_ref, case):
    _check(L.Conv2DTranspose(4, (3, 3), **CONV2D_TRANSPOSE[case]), keras_ref, case, ("w0", "w1"))


@pytest.mark.parametrize("case", sorted(POOLING))
def test_pooling_matches_keras(keras_ref, case):
    cls, config = POOLING[case]
    _check(cls(**config), keras_ref, case)


def test_average_pooling_same_matches_keras_away_from_padding(keras_ref):
    # The reference was made on Keras's PyTorch backend, which replicates edge pixels for
    # asymmetric 'same' pooling; npgrad averages valid cells (Keras docs, TF and JAX backends),
    # as tests/primitives/test_pool.py explains. Windows that padding does not touch agree exactly.
    layer = L.AveragePooling2D((3, 3), strides=(2, 2), padding="same")
    _check(layer, keras_ref, "avgpool_3s2_same", window=(slice(1, 4), slice(0, 3)))


def test_upsampling_matches_keras(keras_ref):
    _check(L.UpSampling2D((2, 2)), keras_ref, "upsampling_2")


def test_batchnorm_weight_layout_matches_keras(keras_ref):
    # gamma, beta, moving_mean, moving_variance: Keras's get_weights() order and shapes
    bn = L.BatchNormalization()
    bn._maybe_build((None, 6))
    keras_weights = [keras_ref[f"batchnorm_fit/w0_{i}"] for i in range(4)]
    assert [w.shape for w in bn.get_weights()] == [w.shape for w in keras_weights]
    for mine, theirs in zip(bn.get_weights(), keras_weights):
        np.testing.assert_array_equal(mine, theirs)  # Keras's initial values: 1, 0, 0, 1
