"""npgrad.ops eager behaviour: dtypes, differentiation, config.floatx, op lookup, errors."""

import numpy as np
import pytest

import npgrad
from npgrad import config, ops


def test_results_are_tensors_and_gradients_flow():
    w = npgrad.Tensor(np.array([[1.0, -2.0], [0.5, 3.0]], dtype="float32"), requires_grad=True)
    x = ops.convert_to_tensor(np.ones((4, 2), dtype="float32"))
    loss = ops.mean(ops.square(ops.relu(ops.matmul(x, w)) - 1.0))
    assert isinstance(loss, npgrad.Tensor)
    loss.backward()
    assert w.grad.shape == (2, 2) and np.abs(w.grad).sum() > 0


def test_integer_arithmetic_stays_integer_and_floats_take_floatx():
    assert ops.add(ops.arange(3), 1).dtype == np.int32
    assert ops.multiply(np.int64(2), np.arange(3)).dtype.kind == "i"
    assert ops.exp(ops.arange(3)).dtype == np.float32
    assert ops.convert_to_tensor(1.5).dtype == np.float32
    assert ops.convert_to_tensor(3).dtype == np.int32
    assert ops.argmax(np.array([1.0, 3.0])).dtype == np.int32
    # sums of integers and booleans as Keras types them (NumPy would give int64 for all)
    assert ops.sum(np.ones(3, np.int32)).dtype == np.int32
    assert ops.sum(np.array([True, True])).dtype == np.int32 and ops.sum(np.ones(2, bool)) == 2
    assert ops.sum(np.ones(3, np.int8)).dtype == np.int32
    assert ops.sum(np.full(2, 2**40, np.int64)).dtype == np.int64


def test_set_floatx_changes_the_default_float_dtype():
    try:
        config.set_floatx("float64")
        assert config.floatx() == "float64"
        assert ops.ones((2,)).dtype == np.float64
        assert npgrad.Tensor([1.0, 2.0]).dtype == np.float64
        assert ops.linspace(0, 1, 3).dtype == np.float64
        assert ops.add(np.arange(2), 0.5).dtype == np.float64
        # new layers and inputs take it as their dtype, as Keras's (weights and outputs)
        model = npgrad.Sequential([npgrad.Input((3,)), npgrad.layers.Dense(2)])
        assert model.layers[0].kernel.dtype == np.float64
        assert model.predict(np.ones((1, 3), np.float32), verbose=0).dtype == np.float64
    finally:
        config.set_floatx("float32")
    assert ops.ones((2,)).dtype == np.float32
    with pytest.raises(ValueError, match="set_floatx"):
        config.set_floatx("bfloat16")


def test_config_switches_and_names():
    assert config.backend() == "npgrad"
    assert config.image_data_format() == "channels_last"
    config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels_last"):
        config.set_image_data_format("channels_first")
    old = config.epsilon()
    config.set_epsilon(1e-5)
    assert config.epsilon() == 1e-5
    config.set_epsilon(old)
    config.disable_traceback_filtering()
    assert not config.is_traceback_filtering_enabled()
    config.enable_traceback_filtering()
    assert config.is_traceback_filtering_enabled()
    config.enable_unsafe_deserialization()
    with pytest.raises(ValueError, match="mixed"):
        config.set_dtype_policy("mixed_float16")


def test_get_op_finds_public_ops_only():
    assert ops.get_op("add") is ops.add
    assert ops.get_op("nn.softmax") is ops.softmax
    assert ops.get_op("image.resize") is ops.image.resize
    with pytest.raises(ValueError, match="unknown npgrad.ops function"):
        ops.get_op("builtins.eval")


def test_namespaces_mirror_keras():
    assert ops.nn.relu is ops.relu
    assert ops.linalg.inv is ops.inv
    assert ops.numpy.einsum is ops.einsum
    assert "resize" in ops.image.__all__ and not hasattr(ops, "resize")


def test_errors_name_the_op():
    with pytest.raises(ValueError, match="split"):
        ops.split(np.ones(5), 2)
    with pytest.raises(ValueError, match="inv"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="conv"):
        ops.conv(np.ones((1, 2, 2, 2, 1)), np.ones((1, 1, 1, 1, 1)))
    with pytest.raises(ValueError, match="channels_last"):
        ops.max_pool(np.ones((1, 4, 4, 1)), 2, data_format="channels_first")


def test_a_custom_layer_written_with_ops_trains():
    class Scale(npgrad.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1],), "ones")

        def call(self, x, training=False):
            return ops.sum(ops.multiply(x, self.w), axis=-1, keepdims=True)

    model = npgrad.Sequential([npgrad.Input((3,)), Scale()])
    model.compile(npgrad.optimizers.SGD(0.1), "mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([1.0, 2.0, -1.0], dtype="float32"))[:, None]
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
