"""Behaviour of the core layers: Input, Dense, activation layers, Dropout, Embedding, and the
argument validation of every layer."""

import numpy as np
import pytest

import npgrad
import npgrad.functional as F
import npgrad.layers as L


def test_input_layer_holds_the_shape_and_passes_through():
    inp = L.InputLayer((28, 28, 1))
    assert inp.shape == (28, 28, 1) and inp.batch_shape == (None, 28, 28, 1)
    assert inp.built and inp.weights == []
    x = npgrad.Tensor(np.ones((3, 28, 28, 1), dtype=np.float32))
    assert inp(x) is x
    assert L.InputLayer(batch_shape=(8, 4)).batch_shape == (8, 4)
    with pytest.raises(ValueError, match="shape"):
        L.InputLayer()


def test_input_returns_a_symbolic_tensor_of_its_input_layer():
    inp = L.Input((28, 28, 1), name="image")
    assert isinstance(inp, npgrad.KerasTensor)
    assert inp.shape == (None, 28, 28, 1) and inp.dtype == np.float32 and inp.name == "image"
    layer = inp._keras_history[0]
    assert isinstance(layer, L.InputLayer) and layer.name == "image" and layer.output is inp
    assert L.Input(batch_shape=(8, 4)).shape == (8, 4)
    assert L.Input((4,), batch_size=8, dtype="int32").shape == (8, 4)
    assert L.Input((4,), dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match="shape"):
        L.Input()
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(inp)
    doubled = inp + inp  # arithmetic records a graph node (Keras 3), see tests/ops
    assert isinstance(doubled, npgrad.KerasTensor) and doubled.shape == inp.shape


def test_an_input_batch_size_does_not_bind_the_data():
    # keras.io's PixelCNN builds on Input(shape, batch_size=128) and predicts on fewer; Keras
    # leaves the batch axis out of a model's input specs
    inp = L.Input((3,), batch_size=128)
    model = npgrad.Model(inp, L.Dense(2)(inp))
    assert model.predict(np.ones((16, 3)), verbose=0).shape == (16, 2)
    assert model(np.ones((5, 3))).shape == (5, 2)
    with pytest.raises(ValueError, match=r"expected shape \(128, 3\), got shape \(5, 4\)"):
        model(np.ones((5, 4)))


def test_a_layer_written_for_the_declared_batch_size_is_traced_with_it():
    # keras.io's switch transformer reshapes to [batch * tokens, dim] with its Input's
    # batch_size: the one-sample shape probe cannot run that call, the declared batch can
    class FlattenTokens(L.Layer):
        def call(self, x):
            return npgrad.ops.reshape(x, [10 * 4, 3])

    inp = L.Input((4, 3), batch_size=10)
    out = FlattenTokens()(inp)
    assert out.shape == (40, 3)
    model = npgrad.Model(inp, L.Dense(2)(out))
    assert model.predict(np.ones((10, 4, 3)), verbose=0).shape == (40, 2)
    with pytest.raises(ValueError, match="reshape"):
        FlattenTokens()(L.Input((4, 3)))  # no batch size to go by: the call's own error


def test_dense_applies_to_the_last_axis_and_its_activation():
    layer = L.Dense(2, activation="relu", kernel_initializer="ones", bias_initializer="zeros")
    x = np.array([[[1.0, -2.0]], [[3.0, 1.0]]], dtype=np.float32)  # (2, 1, 2)
    np.testing.assert_array_equal(layer(x).numpy(), [[[0.0, 0.0]], [[4.0, 4.0]]])


def test_dense_regularizers_join_losses_and_survive_config():
    layer = L.Dense(3, kernel_regularizer=npgrad.regularizers.L2(0.5), bias_regularizer="l1")
    layer(np.ones((1, 2)))
    layer.set_weights([np.ones((2, 3)), np.full(3, -2.0)])
    values = sorted(float(loss.numpy()) for loss in layer.losses)
    assert values == pytest.approx(sorted([0.5 * 6, 0.01 * 6]))  # L1 default factor 0.01
    clone = L.Dense.from_config(layer.get_config())
    assert type(clone.kernel_regularizer) is npgrad.regularizers.L2
    assert clone.kernel_regularizer.get_config() == layer.kernel_regularizer.get_config()


def test_dense_default_initializers_are_glorot_uniform_and_zeros():
    npgrad.utils.set_random_seed(1)
    layer = L.Dense(200)
    layer(np.zeros((1, 300)))
    limit = np.sqrt(6 / (300 + 200))
    kernel = layer.kernel.numpy()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert not np.any(layer.bias.numpy())


def test_relu_layer_options_follow_keras():
    x = np.array([-2.0, -0.5, 0.5, 1.0, 3.0, 7.0], dtype=np.float32)
    np.testing.assert_allclose(L.ReLU()(x).numpy(), [0, 0, 0.5, 1, 3, 7])
    np.testing.assert_allclose(L.ReLU(max_value=6.0)(x).numpy(), [0, 0, 0.5, 1, 3, 6])
    np.testing.assert_allclose(L.ReLU(negative_slope=0.1, threshold=1.0)(x).numpy(),
                               [-0.3, -0.15, -0.05, 1, 3, 7], rtol=1e-6)
    with pytest.raises(ValueError, match="max_value"):
        L.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        L.ReLU(negative_slope=-0.1)


def test_capped_relu_layer_is_one_op_with_no_gradient_at_either_end():
    """ReLU(max_value=6), MobileNet's ReLU6: one op; the gradient is 1 strictly between 0
    and the cap and 0 at exactly 0 and at exactly 6 (as the layer's earlier composition)."""
    from npgrad.autograd.engine import graph_ops

    x = npgrad.Tensor(np.array([-1.0, 0.0, 0.5, 5.9, 6.0, 7.0]), requires_grad=True)
    y = L.ReLU(max_value=6.0, dtype="float64")(x)
    assert len(graph_ops(y)) == 1
    y.backward(np.ones(6))
    np.testing.assert_array_equal(y.numpy(), [0, 0, 0.5, 5.9, 6, 6])
    np.testing.assert_array_equal(x.grad, [0, 0, 1, 1, 0, 0])


def test_leaky_relu_keras3_default_and_legacy_alpha():
    x = np.array([-10.0, 2.0], dtype=np.float32)
    np.testing.assert_allclose(L.LeakyReLU()(x).numpy(), [-3.0, 2.0])
    np.testing.assert_allclose(L.LeakyReLU(alpha=0.1)(x).numpy(), [-1.0, 2.0])
    assert L.LeakyReLU(alpha=0.1).get_config()["negative_slope"] == pytest.approx(0.1)


def test_softmax_activation_elu_and_prelu_values():
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    e = np.exp(x - 3)
    np.testing.assert_allclose(L.Softmax()(x).numpy(), e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(L.Activation("softmax")(x).numpy(), e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(L.ELU(alpha=2.0)(np.array([-1.0, 1.0])).numpy(),
                               [2 * (np.exp(-1) - 1), 1.0], rtol=1e-6)
    prelu = L.PReLU(alpha_initializer=npgrad.initializers.Constant(0.25))
    np.testing.assert_allclose(prelu(np.array([[-4.0, 4.0]])).numpy(), [[-1.0, 4.0]])
    with pytest.raises(ValueError, match="unknown activation"):
        L.Activation("nope")


def test_dropout_is_identity_at_inference():
    x = npgrad.Tensor(np.random.default_rng(0).standard_normal((50, 40)).astype(np.float32))
    layer = L.Dropout(0.5)
    assert layer(x) is x
    assert layer(x, training=False) is x


def test_dropout_in_training_zeroes_about_rate_and_scales_the_rest():
    x = np.ones((200, 100), dtype=np.float32)
    y = L.Dropout(0.25)(x, training=True).numpy()
    kept = y != 0
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs(kept.mean() - 0.75) < 0.02
    assert abs(y.mean() - 1.0) < 0.03  # inverted dropout keeps the expectation


def test_dropout_seed_noise_shape_and_fresh_masks():
    x = np.ones((4, 3, 3, 8), dtype=np.float32)
    a, b = L.Dropout(0.5, seed=3), L.Dropout(0.5, seed=3)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())  # same seed, same masks
    assert not np.array_equal(first, a(x, training=True).numpy())  # a new mask every step
    y = L.Dropout(0.5, noise_shape=(None, 1, 1, 8), seed=0)(x, training=True).numpy()
    assert np.all(y == y[:, :1, :1, :])  # whole feature maps dropped together
    npgrad.utils.set_random_seed(7)
    m1 = L.Dropout(0.5)(x, training=True).numpy()
    npgrad.utils.set_random_seed(7)
    np.testing.assert_array_equal(m1, L.Dropout(0.5)(x, training=True).numpy())
    for rate in (-0.1, 1.0, "0.5"):
        with pytest.raises(ValueError, match="Dropout: argument `rate`"):
            L.Dropout(rate)


def test_dropout_gradient_uses_the_same_mask():
    x = npgrad.Tensor(np.ones((10, 10), dtype=np.float32), requires_grad=True)
    y = L.Dropout(0.5, seed=1)(x, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())


def test_embedding_looks_up_rows_and_keeps_integer_indices():
    layer = L.Embedding(5, 3)
    indices = np.array([[0, 4, 4], [1, 2, 3]])
    y = layer(indices)
    table = layer.embeddings.numpy()
    np.testing.assert_array_equal(y.numpy(), table[indices])
    assert np.abs(table).max() <= 0.05  # Keras's 'uniform': RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(layer(indices.astype(np.float32)).numpy(), table[indices])
    y.sum().backward()
    np.testing.assert_array_equal(layer.embeddings.grad[:, 0], [1, 1, 1, 1, 2])
    assert L.Embedding(5, 3, mask_zero=True).compute_mask(indices).tolist() == (indices != 0).tolist()


def test_embedding_rejects_bad_indices():
    layer = L.Embedding(5, 3)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        layer(np.array([[5]]))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        layer(np.array([[-1]]))
    with pytest.raises(TypeError, match="integer indices"):
        layer(np.array([[0.5]]))


@pytest.mark.parametrize("make, words", [
    (lambda: L.Dense(0), ["Dense", "units"]),
    (lambda: L.Dense(2.5), ["Dense", "units"]),
    (lambda: L.Conv2D(0, 3), ["Conv2D", "filters"]),
    (lambda: L.Conv2D(4, (3, 0)), ["Conv2D", "kernel_size"]),
    (lambda: L.Conv2D(4, 3, strides=-1), ["Conv2D", "strides"]),
    (lambda: L.Conv2D(4, 3, padding="full"), ["Conv2D", "padding"]),
    (lambda: L.Conv2D(4, 3, dilation_rate=0), ["Conv2D", "dilation_rate"]),
    (lambda: L.Conv2D(4, 3, data_format="channels_first"), ["Conv2D", "channels_last"]),
    (lambda: L.Conv1D(4, 3, padding="bad"), ["Conv1D", "padding"]),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, output_padding=2), ["Conv2DTranspose", "output_padding"]),
    (lambda: L.MaxPooling2D(0), ["MaxPooling2D", "pool_size"]),
    (lambda: L.AveragePooling2D(2, padding="causal"), ["AveragePooling2D", "padding"]),
    (lambda: L.UpSampling2D(0), ["UpSampling2D", "size"]),
    (lambda: L.UpSampling2D(interpolation="bilinear"), ["UpSampling2D", "nearest"]),
    (lambda: L.ZeroPadding2D(-1), ["ZeroPadding2D", "padding"]),
    (lambda: L.Reshape((-1, -1)), ["Reshape", "target_shape"]),
    (lambda: L.Embedding(0, 3), ["Embedding", "input_dim"]),
    (lambda: L.BatchNormalization(momentum=2), ["BatchNormalization", "momentum"]),
    (lambda: L.LayerNormalization(epsilon=0), ["LayerNormalization", "epsilon"]),
])
def test_bad_arguments_name_the_layer_and_argument(make, words):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_kernel_size_of_wrong_length_is_a_type_error():
    with pytest.raises(TypeError, match="Conv2D: argument `kernel_size`"):
        L.Conv2D(4, (3, 3, 3))


def test_padding_is_case_insensitive():
    assert L.Conv2D(2, 3, padding="SAME").padding == "same"
    assert L.MaxPooling2D(padding="Valid").padding == "valid"


def test_unknown_keyword_argument_is_a_type_error():
    with pytest.raises(TypeError, match="Dense"):
        L.Dense(3, kernel_size=3)


def check_relu_inside_the_op(layer, linear, x, seed=0):
    """``layer`` (activation='relu') runs no separate ReLU op and gives the values and the
    gradients (input and weights) of ``relu(linear(x))``, ``linear`` its linear twin."""
    from npgrad.autograd.engine import graph_ops

    layer.build(x.shape)
    linear.build(x.shape)
    linear.set_weights(layer.get_weights())
    fused_in, ref_in = npgrad.Tensor(x, requires_grad=True), npgrad.Tensor(x, requires_grad=True)
    fused, ref = layer(fused_in), F.relu(linear(ref_in))
    assert "ReLU" not in {type(op).__name__ for op in graph_ops(fused)}
    np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(seed).standard_normal(fused.shape)
    fused.backward(upstream)
    ref.backward(upstream)
    np.testing.assert_allclose(fused_in.grad, ref_in.grad, rtol=1e-10, atol=1e-12)
    for a, b in zip(layer.trainable_weights, linear.trainable_weights):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_a_relu_dense_layer_is_one_op_with_the_unfused_values_and_gradients():
    # Dense(activation='relu') applies the ReLU inside the dense op, as Conv2D does; on a
    # sequence, whose leading axes fold into one GEMM
    x = np.random.default_rng(4).standard_normal((2, 5, 3))
    check_relu_inside_the_op(L.Dense(6, activation="relu"), L.Dense(6), x)
