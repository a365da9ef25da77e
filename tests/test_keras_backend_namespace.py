"""``keras.backend``, ``keras.utils.clear_session`` and the serialization helpers Keras 3
re-exports under ``keras.utils``, as Keras code calls them."""

import numpy as np
import pytest

import npgrad as keras
from npgrad import backend as K


def test_backend_settings_are_the_config_ones():
    assert K.epsilon() == keras.config.epsilon() == 1e-7
    assert K.floatx() == "float32" and K.image_data_format() == "channels_last"
    K.set_epsilon(1e-5)
    try:
        assert keras.config.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    # the siamese example's contrastive distance: ops.maximum(sum_square, epsilon())
    square = keras.ops.maximum(keras.ops.convert_to_tensor(np.zeros(3, "float32")), K.epsilon())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(square), 1e-7)


@pytest.mark.parametrize("dtype, name", [
    (None, "float32"), ("float", "float32"), (float, "float32"), (int, "int64"), (bool, "bool"),
    (np.float64, "float64"), (np.dtype("int8"), "int8"), ("uint8", "uint8"), ("string", "string"),
])
def test_standardize_dtype_names_as_keras(dtype, name):
    assert K.standardize_dtype(dtype) == name


def test_standardize_dtype_refuses_what_is_no_dtype():
    with pytest.raises(ValueError, match="invalid dtype 'not_a_dtype'"):
        K.standardize_dtype("not_a_dtype")


@pytest.mark.parametrize("dtypes, expected", [
    ((), "float32"), (("int32", "float16"), "float16"), (("float16", "float32"), "float32"),
    (("int8", "uint8"), "int16"), (("bool", "int32"), "int32"), ((int, "int8"), "int8"),
    ((float, "int32"), "float32"), ((float, "float16"), "float16"), ((int,), "int64"),
    (("bool", "bool"), "bool"),
])
def test_result_type_follows_keras_promotion(dtypes, expected):
    assert K.result_type(*dtypes) == expected


def test_dtype_kinds_and_keras_tensors():
    assert K.is_float_dtype("float16") and not K.is_float_dtype("int32")
    assert K.is_int_dtype("uint8") and K.is_int_dtype(int) and not K.is_int_dtype("float32")
    assert K.is_keras_tensor(keras.Input((3,)))
    assert not K.is_keras_tensor(np.zeros(3)) and not K.is_keras_tensor(keras.ops.ones(3))


def test_clear_session_restarts_layer_names_and_uids():
    keras.backend.clear_session()
    first = keras.layers.Dense(1)
    assert first.name == "dense" and keras.layers.Dense(1).name == "dense_1"
    assert K.get_uid("dense") == 3 and K.get_uid("dense") == 4 and K.get_uid("other") == 1
    keras.utils.clear_session()
    assert keras.layers.Dense(1).name == "dense"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert [layer.name for layer in model.layers] == ["dense_1"]


def test_keras_utils_has_the_serialization_helpers_of_keras_saving():
    names = ["register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
             "get_custom_objects", "custom_object_scope", "CustomObjectScope",
             "get_registered_name", "get_registered_object"]
    for name in names:
        assert getattr(keras.utils, name) is getattr(keras.saving, name)
        assert name in dir(keras.utils)

    @keras.utils.register_keras_serializable(package="probe_utils")
    def halve(x):
        return x * 0.5

    assert keras.utils.get_registered_name(halve) == "probe_utils>halve"
    assert keras.utils.get_registered_object("probe_utils>halve") is halve
    with pytest.raises(AttributeError, match="has no attribute 'not_a_helper'"):
        keras.utils.not_a_helper
