"""Declarative checks for every layer: shapes, weights (names, shapes, order, counts as Keras
reports them), analytic output shapes, config round trips, freezing and bad-input errors."""

import json

import numpy as np
import pytest

import npgrad
import npgrad.layers as L
from npgrad.layers import get_layer_class

# (id, factory, batch input shape, output shape, [(weight name, shape)...], trainable params)
# Parameter counts are the ones Keras's summary() prints for the same layer and input.
SPECS = [
    ("dense_mnist_head", lambda: L.Dense(10), (None, 1600), (None, 10),
     [("kernel", (1600, 10)), ("bias", (10,))], 16010),
    ("dense_3d", lambda: L.Dense(3, activation="relu", use_bias=False), (None, 4, 5), (None, 4, 3),
     [("kernel", (5, 3))], 15),
    ("conv2d_mnist", lambda: L.Conv2D(32, (3, 3), activation="relu"), (None, 28, 28, 1),
     (None, 26, 26, 32), [("kernel", (3, 3, 1, 32)), ("bias", (32,))], 320),
    ("conv2d_same_s2", lambda: L.Conv2D(64, 3, strides=2, padding="same"), (None, 13, 13, 32),
     (None, 7, 7, 64), [("kernel", (3, 3, 32, 64)), ("bias", (64,))], 18496),
    ("conv2d_dilated", lambda: L.Conv2D(2, (3, 2), dilation_rate=(2, 1)), (None, 9, 8, 3),
     (None, 5, 7, 2), [("kernel", (3, 2, 3, 2)), ("bias", (2,))], 38),
    ("conv1d", lambda: L.Conv1D(4, 3), (None, 10, 3), (None, 8, 4),
     [("kernel", (3, 3, 4)), ("bias", (4,))], 40),
    ("conv1d_causal_s2", lambda: L.Conv1D(4, 3, strides=2, padding="causal"), (None, 10, 3),
     (None, 5, 4), [("kernel", (3, 3, 4)), ("bias", (4,))], 40),
    ("conv2d_transpose_same", lambda: L.Conv2DTranspose(4, (3, 3), strides=(2, 2), padding="same"),
     (None, 5, 5, 3), (None, 10, 10, 4), [("kernel", (3, 3, 4, 3)), ("bias", (4,))], 112),
    ("conv2d_transpose_valid", lambda: L.Conv2DTranspose(4, 3, strides=2), (None, 5, 5, 3),
     (None, 11, 11, 4), [("kernel", (3, 3, 4, 3)), ("bias", (4,))], 112),
    ("conv2d_transpose_output_padding",
     lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1),
     (None, 4, 5, 1), (None, 8, 10, 2), [("kernel", (3, 3, 2, 1)), ("bias", (2,))], 20),
    ("batch_norm_dense", lambda: L.BatchNormalization(), (None, 6), (None, 6),
     [("gamma", (6,)), ("beta", (6,)), ("moving_mean", (6,)), ("moving_variance", (6,))], 12),
    ("batch_norm_axis1", lambda: L.BatchNormalization(axis=1, center=False), (None, 3, 4, 4),
     (None, 3, 4, 4), [("gamma", (3,)), ("moving_mean", (3,)), ("moving_variance", (3,))], 3),
    ("layer_norm", lambda: L.LayerNormalization(), (None, 5, 6), (None, 5, 6),
     [("gamma", (6,)), ("beta", (6,))], 12),
    ("layer_norm_two_axes", lambda: L.LayerNormalization(axis=[1, 2]), (None, 5, 6), (None, 5, 6),
     [("gamma", (5, 6)), ("beta", (5, 6))], 60),
    ("embedding", lambda: L.Embedding(100, 8), (None, 7), (None, 7, 8),
     [("embeddings", (100, 8))], 800),
    ("prelu_shared", lambda: L.PReLU(shared_axes=[1, 2]), (None, 4, 4, 3), (None, 4, 4, 3),
     [("alpha", (1, 1, 3))], 3),
    ("flatten", lambda: L.Flatten(), (None, 5, 5, 64), (None, 1600), [], 0),
    ("reshape", lambda: L.Reshape((7, 7, 1)), (None, 49), (None, 7, 7, 1), [], 0),
    ("reshape_infer", lambda: L.Reshape((-1, 4)), (None, 3, 8), (None, 6, 4), [], 0),
    ("max_pool", lambda: L.MaxPooling2D((2, 2)), (None, 26, 26, 32), (None, 13, 13, 32), [], 0),
    ("avg_pool_same", lambda: L.AveragePooling2D(3, strides=2, padding="same"), (None, 9, 8, 3),
     (None, 5, 4, 3), [], 0),
    ("max_pool_1d", lambda: L.MaxPooling1D(), (None, 10, 3), (None, 5, 3), [], 0),
    ("avg_pool_1d", lambda: L.AveragePooling1D(3, strides=1), (None, 10, 3), (None, 8, 3), [], 0),
    ("global_avg_pool", lambda: L.GlobalAveragePooling2D(), (None, 4, 4, 3), (None, 3), [], 0),
    ("global_avg_pool_keepdims", lambda: L.GlobalAveragePooling2D(keepdims=True), (None, 4, 4, 3),
     (None, 1, 1, 3), [], 0),
    ("global_max_pool", lambda: L.GlobalMaxPooling2D(), (None, 4, 4, 3), (None, 3), [], 0),
    ("global_avg_pool_1d", lambda: L.GlobalAveragePooling1D(), (None, 6, 3), (None, 3), [], 0),
    ("global_max_pool_1d", lambda: L.GlobalMaxPooling1D(keepdims=True), (None, 6, 3),
     (None, 1, 3), [], 0),
    ("zero_padding", lambda: L.ZeroPadding2D(((1, 2), (3, 4))), (None, 5, 5, 2), (None, 8, 12, 2),
     [], 0),
    ("upsampling", lambda: L.UpSampling2D((2, 3)), (None, 2, 2, 1), (None, 4, 6, 1), [], 0),
    ("dropout", lambda: L.Dropout(0.5), (None, 4, 5), (None, 4, 5), [], 0),
    ("activation", lambda: L.Activation("softmax"), (None, 5), (None, 5), [], 0),
    ("relu", lambda: L.ReLU(max_value=6.0), (None, 5), (None, 5), [], 0),
    ("leaky_relu", lambda: L.LeakyReLU(), (None, 5), (None, 5), [], 0),
    ("elu", lambda: L.ELU(alpha=0.5), (None, 5), (None, 5), [], 0),
    ("softmax", lambda: L.Softmax(axis=1), (None, 3, 4), (None, 3, 4), [], 0),
    ("input", lambda: L.InputLayer((28, 28, 1)), (None, 28, 28, 1), (None, 28, 28, 1), [], 0),
]
IDS = [s[0] for s in SPECS]
WITH_WEIGHTS = [s for s in SPECS if s[4]]


def _sample(shape, batch=2, factory=None):
    shape = (batch,) + tuple(shape[1:])
    rng = np.random.default_rng(0)
    if factory is not None and isinstance(factory(), L.Embedding):
        return rng.integers(0, 100, size=shape)
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_build_gives_keras_shapes_weights_and_counts(spec):
    _, factory, in_shape, out_shape, weights, trainable = spec
    layer = factory()
    y = layer(_sample(in_shape, factory=factory))
    assert y.shape == (2,) + out_shape[1:]
    assert y.dtype == np.float32
    assert [(w.name.split("/")[-1], w.shape) for w in layer.weights] == weights
    assert all(w.name.startswith(layer.name + "/") for w in layer.weights)
    assert layer.count_params() == sum(int(np.prod(s)) for _, s in weights)
    assert sum(w.size for w in layer.trainable_weights) == trainable
    assert all(w.requires_grad for w in layer.trainable_weights)
    assert not any(w.requires_grad for w in layer.non_trainable_weights)


@pytest.mark.parametrize("spec", WITH_WEIGHTS, ids=[s[0] for s in WITH_WEIGHTS])
def test_building_by_hand_then_calling_creates_the_weights_once(spec):
    # Keras: layer.build(shape) marks the layer built; the first call must not build again
    _, factory, in_shape, _, weights, _ = spec
    layer = factory()
    layer.build(in_shape)
    assert layer.built
    created = [id(w) for w in layer.weights]
    layer(_sample(in_shape, factory=factory))
    assert [id(w) for w in layer.weights] == created
    assert [(w.name.split("/")[-1], w.shape) for w in layer.weights] == weights


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_compute_output_shape_is_analytic(spec):
    _, factory, in_shape, out_shape, _, _ = spec
    layer = factory()
    assert layer.compute_output_shape(in_shape) == out_shape
    if not isinstance(layer, L.InputLayer):
        assert not layer.built  # no probe run, no weights created
    assert layer.compute_output_shape((7,) + in_shape[1:]) == (7,) + out_shape[1:]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_config_round_trip_is_json_and_rebuilds_the_same_layer(spec):
    _, factory, in_shape, _, _, _ = spec
    layer = factory()
    x = _sample(in_shape, factory=factory)
    y = layer(x)
    config = json.loads(json.dumps(layer.get_config()))
    cls = get_layer_class(type(layer).__name__)
    assert cls is type(layer)
    clone = cls.from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config  # Keras's tuples: JSON lists
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), y.numpy())


def test_configs_hold_tuples_where_keras_does():
    # Keras's ConvMixer example compares layer.get_config()["kernel_size"] == (5, 5)
    assert L.DepthwiseConv2D(5).get_config()["kernel_size"] == (5, 5)
    conv = L.Conv2D(2, 3, strides=2, dilation_rate=1).get_config()
    assert (conv["kernel_size"], conv["strides"], conv["dilation_rate"]) == ((3, 3), (2, 2), (1, 1))
    assert L.Conv2DTranspose(2, 3, strides=2, output_padding=1).get_config()["output_padding"] == (1, 1)
    assert L.MaxPooling2D().get_config()["pool_size"] == (2, 2)
    assert L.ZeroPadding2D(1).get_config()["padding"] == ((1, 1), (1, 1))
    assert L.Reshape((3, 3)).get_config()["target_shape"] == (3, 3)
    assert L.UpSampling2D(2).get_config()["size"] == (2, 2)


@pytest.mark.parametrize("spec", WITH_WEIGHTS, ids=[s[0] for s in WITH_WEIGHTS])
def test_frozen_layer_gets_no_gradients(spec):
    _, factory, in_shape, _, _, _ = spec
    layer = factory()
    x = _sample(in_shape, factory=factory)
    layer(x)
    layer.trainable = False
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == len(layer.weights)
    xt = npgrad.Tensor(x, requires_grad=x.dtype.kind == "f")
    out = layer(xt, training=True)
    if out.requires_grad:
        (out * out).sum().backward()
    assert all(w.grad is None for w in layer.weights)
    layer.trainable = True
    out = layer(xt, training=True)
    (out * out).sum().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)
    assert len(layer.trainable_weights) > 0


# (factory, shape to build with, incompatible input shape)
BAD_INPUTS = [
    (lambda: L.Dense(4), (2, 784), (32, 100)),
    (lambda: L.Dense(4), (2, 3), (3,)),
    (lambda: L.Conv2D(2, 3), (1, 5, 5, 1), (1, 5, 5, 3)),
    (lambda: L.Conv2D(2, 3), (1, 5, 5, 1), (5, 5, 1)),
    (lambda: L.Conv2D(2, 3), (1, 5, 5, 1), (1, 2, 5, 1)),  # smaller than the kernel
    (lambda: L.Conv1D(2, 3), (1, 5, 2), (1, 5, 3)),
    (lambda: L.Conv2DTranspose(2, 3), (1, 4, 4, 2), (1, 4, 4, 1)),
    (lambda: L.MaxPooling2D(), (1, 4, 4, 1), (1, 4, 4)),
    (lambda: L.MaxPooling2D(3), (1, 4, 4, 1), (1, 2, 4, 1)),
    (lambda: L.GlobalAveragePooling2D(), (1, 4, 4, 1), (1, 4, 4)),
    (lambda: L.BatchNormalization(), (2, 6), (2, 5)),
    (lambda: L.BatchNormalization(), (2, 6), (2, 3, 6)),
    (lambda: L.LayerNormalization(), (2, 6), (2, 7)),
    (lambda: L.Reshape((3, 3)), (2, 9), (2, 8)),
    (lambda: L.ZeroPadding2D(), (1, 2, 2, 1), (1, 2, 2)),
    (lambda: L.UpSampling2D(), (1, 2, 2, 1), (2, 2, 1)),
    (lambda: L.PReLU(), (2, 3), (2, 4)),
    # one rank short is Keras's leniency (a trailing unit axis is added); two is refused
    (lambda: L.InputLayer((28, 28, 1)), (2, 28, 28, 1), (2, 28)),
    (lambda: L.InputLayer((28, 28, 1)), (2, 28, 28, 1), (2, 28, 28, 2)),
]


@pytest.mark.parametrize("factory, good, bad", BAD_INPUTS)
def test_incompatible_input_names_layer_expected_and_received(factory, good, bad):
    layer = factory()
    layer(np.zeros(good, dtype=np.float32))
    with pytest.raises(ValueError) as info:
        layer(np.zeros(bad, dtype=np.float32))
    message = str(info.value)
    assert f"layer '{layer.name}'" in message
    assert "expected" in message and f"got shape {bad}" in message


# (factory, input shape no layer of that kind can be built from)
BAD_BUILDS = [
    (lambda: L.Dense(4), (3,)),
    (lambda: L.Conv2D(2, 3), (5, 5, 1)),
    (lambda: L.Conv2D(2, 3), (1, 2, 5, 1)),
    (lambda: L.Conv2D(2, 3, dilation_rate=2), (1, 4, 5, 1)),
    (lambda: L.Conv1D(2, 3), (1, 5)),
    (lambda: L.Conv2DTranspose(2, 2, padding="same", output_padding=0), (1, 3, 3, 1)),
    (lambda: L.MaxPooling2D(3), (1, 2, 4, 1)),
    (lambda: L.MaxPooling1D(), (1, 4, 4, 1)),
    (lambda: L.GlobalMaxPooling2D(), (1, 4, 4)),
    (lambda: L.BatchNormalization(axis=3), (2, 6)),
    (lambda: L.LayerNormalization(axis=[1, 2]), (2, 6)),
    (lambda: L.Reshape((3, 3)), (2, 8)),
    (lambda: L.Reshape((-1, 4)), (2, 6)),
    (lambda: L.ZeroPadding2D(), (1, 2, 2)),
    (lambda: L.UpSampling2D(), (2, 2, 1)),
    (lambda: L.InputLayer((28, 28, 1)), (2, 28)),
]


@pytest.mark.parametrize("factory, bad", BAD_BUILDS)
def test_impossible_input_is_rejected_when_building(factory, bad):
    layer = factory()
    with pytest.raises(ValueError) as info:
        layer(np.zeros(bad, dtype=np.float32))
    message = str(info.value)
    assert f"layer '{layer.name}'" in message and f"got shape {bad}" in message
    with pytest.raises(ValueError, match="expected"):
        factory().compute_output_shape((None,) + bad[1:])


def test_dense_error_message_reads_like_keras():
    layer = L.Dense(10, name="dense_probe")
    layer(np.zeros((1, 784)))
    with pytest.raises(ValueError) as info:
        layer(np.zeros((32, 100)))
    assert str(info.value) == (
        "Input 0 of layer 'dense_probe' is incompatible: expected last axis 784, "
        "got shape (32, 100)"
    )
