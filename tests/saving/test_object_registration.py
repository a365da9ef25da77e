"""The Keras 3 serialization registry: registration, scopes, serialize/deserialize_keras_object."""

import sys
import threading

import numpy as np
import pytest

import npgrad
from npgrad import saving
from npgrad.saving import object_registration


@pytest.fixture(autouse=True)
def clean_registry():
    objects = dict(object_registration.GLOBAL_CUSTOM_OBJECTS)
    names = dict(object_registration.GLOBAL_CUSTOM_NAMES)
    yield
    object_registration.GLOBAL_CUSTOM_OBJECTS.clear()
    object_registration.GLOBAL_CUSTOM_OBJECTS.update(objects)
    object_registration.GLOBAL_CUSTOM_NAMES.clear()
    object_registration.GLOBAL_CUSTOM_NAMES.update(names)


class Scale(npgrad.layers.Layer):
    """A custom layer with one weight and one constructor argument."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (input_shape[-1],), "ones")

    def call(self, x, training=False):
        return x * self.scale * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_register_names_the_class_package_and_name():
    registered = saving.register_keras_serializable(package="my_package")(Scale)
    assert registered is Scale
    assert saving.get_registered_name(Scale) == "my_package>Scale"
    assert saving.get_registered_object("my_package>Scale") is Scale
    assert saving.get_custom_objects()["my_package>Scale"] is Scale


def test_register_defaults_and_explicit_name():
    @saving.register_keras_serializable()
    def double(x):
        return 2 * x

    assert saving.get_registered_name(double) == "Custom>double"
    saving.register_keras_serializable("pkg", name="Renamed")(Scale)
    assert saving.get_registered_object("pkg>Renamed") is Scale


def test_unregistered_name_is_the_python_name_and_lookup_misses():
    class Plain:
        pass

    assert saving.get_registered_name(Plain) == "Plain"
    assert saving.get_registered_object("Plain") is None
    assert saving.get_registered_object("Plain", custom_objects={"Plain": Plain}) is Plain
    assert saving.get_registered_object("Plain", module_objects={"Plain": Plain}) is Plain


def test_a_class_without_get_config_cannot_be_registered():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(NoConfig)


def test_custom_object_scope_replaces_then_restores_and_is_per_thread():
    with saving.custom_object_scope({"Scale": Scale}) as scope:
        assert isinstance(scope, saving.CustomObjectScope)
        assert saving.get_registered_object("Scale") is Scale
        with saving.CustomObjectScope({"Other": int}):
            assert saving.get_registered_object("Other") is int
            assert saving.get_registered_object("Scale") is None  # Keras: inner replaces outer
        assert saving.get_registered_object("Scale") is Scale
        seen = []
        thread = threading.Thread(target=lambda: seen.append(saving.get_registered_object("Scale")))
        thread.start()
        thread.join()
        assert seen == [None]
    assert saving.get_registered_object("Scale") is None


def test_serialize_builtin_layer_in_keras_3_format():
    config = saving.serialize_keras_object(npgrad.layers.Dense(3, activation="relu"))
    assert config["module"] == "keras.layers"
    assert config["class_name"] == "Dense"
    assert config["registered_name"] is None
    assert config["config"]["kernel_initializer"]["module"] == "keras.initializers"
    layer = saving.deserialize_keras_object(config)
    assert isinstance(layer, npgrad.layers.Dense) and layer.units == 3


def test_serialize_plain_values_and_arrays():
    assert saving.serialize_keras_object([1, "a", None, {"k": 2.5}]) == [1, "a", None, {"k": 2.5}]
    config = saving.serialize_keras_object(np.arange(3, dtype="int32"))
    assert config["class_name"] == "__numpy__"
    np.testing.assert_array_equal(saving.deserialize_keras_object(config), [0, 1, 2])
    assert saving.deserialize_keras_object(saving.serialize_keras_object(b"xy")) == b"xy"


def test_registered_custom_layer_round_trips_with_build():
    saving.register_keras_serializable("test")(Scale)
    layer = Scale(factor=3.0)
    layer(np.ones((2, 4), dtype="float32"))
    config = saving.serialize_keras_object(layer)
    assert config["registered_name"] == "test>Scale"
    assert config["build_config"]["input_shape"] == [2, 4]
    copy = saving.deserialize_keras_object(config)
    assert isinstance(copy, Scale) and copy.factor == 3.0 and copy.built


def test_unregistered_custom_class_needs_custom_objects():
    layer = Scale(factor=1.5)
    config = saving.serialize_keras_object(layer)
    with pytest.raises(ValueError, match="register_keras_serializable"):
        saving.deserialize_keras_object(config)
    copy = saving.deserialize_keras_object(config, custom_objects={"Scale": Scale})
    assert copy.factor == 1.5
    with saving.custom_object_scope({"Scale": Scale}):
        assert saving.deserialize_keras_object(config).factor == 1.5


def test_registered_function_round_trips():
    @saving.register_keras_serializable("fns")
    def halve(x):
        return x / 2

    config = saving.serialize_keras_object(halve)
    assert config == {"module": __name__, "class_name": "function", "config": "fns>halve",
                      "registered_name": "fns>halve"}
    assert saving.deserialize_keras_object(config) is halve


def test_module_named_in_a_config_is_never_imported_or_run(monkeypatch):
    calls = []
    monkeypatch.setattr("os.system", lambda *a: calls.append(a))
    for config in ({"module": "os", "class_name": "system", "config": {"command": "echo"},
                    "registered_name": None},
                   {"module": "evil_module_never_imported", "class_name": "Payload",
                    "config": {}, "registered_name": "evil_module_never_imported.Payload"},
                   {"module": "builtins", "class_name": "function", "config": "eval",
                    "registered_name": None}):
        with pytest.raises((ValueError, TypeError)):
            saving.deserialize_keras_object(config)
    assert calls == []
    assert "evil_module_never_imported" not in sys.modules


def test_lambda_is_refused_in_both_modes():
    config = {"class_name": "__lambda__", "config": {"value": "..."}}
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="never runs code"):
            saving.deserialize_keras_object(config, safe_mode=safe_mode)
    with pytest.raises(TypeError, match="lambda"):
        saving.serialize_keras_object(lambda x: x)


def test_models_serialize_and_deserialize_with_compile_config():
    model = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(3)], name="tiny")
    model.compile(optimizer=npgrad.optimizers.SGD(0.1, momentum=0.5), loss="mse")
    config = saving.serialize_keras_object(model)
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert config["compile_config"]["optimizer"]["class_name"] == "SGD"
    copy = saving.deserialize_keras_object(config)
    assert isinstance(copy, npgrad.Sequential) and copy.optimizer.momentum == 0.5
    assert [w.shape for w in copy.weights] == [w.shape for w in model.weights]


def test_npgrad_format_load_model_takes_custom_objects(tmp_path):
    model = npgrad.Sequential([npgrad.Input((4,)), Scale(factor=2.0, name="scale")])
    path = tmp_path / "m.npgrad"
    model.save(path)
    loaded = saving.load_model(path, custom_objects={"Scale": Scale}, compile=True,
                               safe_mode=True)
    x = np.ones((2, 4), dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_files_without_h5py_say_which_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    model = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(2)])
    with pytest.raises(ImportError, match=r'pip install "npgrad\[keras\]"'):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ImportError, match=r"npgrad\[keras\]"):
        model.save_weights(tmp_path / "m.weights.h5")


def test_legacy_h5_is_not_written(tmp_path):
    model = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(2)])
    with pytest.raises(ValueError, match="'.keras'"):
        model.save(tmp_path / "m.h5")


def test_old_npgrad_files_named_keras_still_load(tmp_path):
    from npgrad.saving import npgrad_format

    model = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(2)])
    npgrad_format.save_model(model, tmp_path / "old.keras")
    loaded = npgrad.models.load_model(tmp_path / "old.keras")
    x = np.ones((1, 4), dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
