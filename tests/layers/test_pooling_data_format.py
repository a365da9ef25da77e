"""Global pooling with data_format='channels_first' (Keras), which keras.io scripts use."""

import numpy as np
import pytest

import npgrad
from npgrad import layers


@pytest.mark.parametrize("cls, reduce, rank", [
    (layers.GlobalAveragePooling1D, np.mean, 1), (layers.GlobalMaxPooling1D, np.max, 1),
    (layers.GlobalAveragePooling2D, np.mean, 2), (layers.GlobalMaxPooling2D, np.max, 2),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_channels_first_reduces_the_trailing_axes(cls, reduce, rank, keepdims):
    x = np.random.default_rng(0).random((2, 3) + (4,) * rank)  # (N, C, steps...)
    layer = cls(data_format="channels_first", keepdims=keepdims, dtype="float64")
    axes = tuple(range(2, 2 + rank))
    out = layer(x)
    np.testing.assert_allclose(out.numpy(), reduce(x, axis=axes, keepdims=keepdims))
    assert layer.compute_output_shape((None, 3) + (4,) * rank) == (
        (None, 3) + (1,) * rank if keepdims else (None, 3))
    assert cls.from_config(layer.get_config()).data_format == "channels_first"


def test_channels_first_average_of_masked_steps():
    x = np.arange(12, dtype="float64").reshape(1, 3, 4)  # (N, C, L)
    mask = np.array([[True, True, False, False]])
    out = layers.GlobalAveragePooling1D(data_format="channels_first", dtype="float64")(
        x, mask=mask)
    np.testing.assert_allclose(out.numpy(), x[:, :, :2].mean(axis=-1))


def test_channels_first_in_a_functional_model_and_gradients():
    inputs = npgrad.Input((5, 2))
    outputs = layers.Dense(1)(layers.GlobalAveragePooling1D(data_format="channels_first")(inputs))
    model = npgrad.Model(inputs, outputs)
    assert [w.shape for w in model.weights] == [(5, 1), (1,)]  # 5 channels reach the Dense
    model.compile("sgd", "mse")
    history = model.fit(np.ones((4, 5, 2)), np.zeros((4, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_other_data_formats_still_refused():
    with pytest.raises(ValueError, match="only data_format='channels_last' is supported"):
        layers.GlobalAveragePooling1D(data_format="NCW")
    with pytest.raises(ValueError, match="only data_format='channels_last' is supported"):
        layers.MaxPooling2D(data_format="channels_first")
