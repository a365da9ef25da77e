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


def doubled_tanh(x):
    return npgrad.ops.tanh(x) * 2.0


@pytest.mark.parametrize("suffix", [".keras", ".npgrad"])
def test_a_named_function_activation_saves_by_name_and_loads_from_custom_objects(tmp_path,
                                                                                suffix):
    if suffix == ".keras":
        pytest.importorskip("h5py")
    model = npgrad.Sequential([npgrad.Input((3,)), npgrad.layers.Dense(2, activation=doubled_tanh)])
    config = npgrad.activations.serialize(doubled_tanh)
    assert config == {"module": __name__, "class_name": "function", "config": "doubled_tanh",
                      "registered_name": "doubled_tanh"}  # Keras 3's form
    path = tmp_path / f"m{suffix}"
    model.save(path)
    with pytest.raises(Exception, match="custom_objects"):  # nothing is imported from the file
        saving.load_model(path)
    loaded = saving.load_model(path, custom_objects={"doubled_tanh": doubled_tanh})
    assert loaded.layers[0].activation is doubled_tanh
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_registered_activation_is_found_by_its_registered_name():
    registered = saving.register_keras_serializable(package="acts", name="twice")(doubled_tanh)
    config = npgrad.activations.serialize(registered)
    assert config["config"] == config["registered_name"] == "acts>twice"
    assert npgrad.activations.deserialize(config) is doubled_tanh
    assert npgrad.activations.get("acts>twice") is doubled_tanh  # a Dense(activation=name) too


def test_a_lambda_or_callable_object_activation_is_refused_with_the_way_out():
    with pytest.raises(ValueError, match="named function"):
        npgrad.activations.serialize(lambda x: x)
    with pytest.raises(ValueError, match="named function"):
        npgrad.activations.serialize(np.tanh)  # a ufunc: a callable object, not a function


def test_model_from_config_rebuilds_a_functional_model_as_keras_does():
    inputs = npgrad.Input((4,))
    model = npgrad.Model(inputs, npgrad.layers.Dense(2)(inputs))
    again = npgrad.Model.from_config(model.get_config())
    assert type(again) is type(model) and again.output_shape == (None, 2)


@saving.register_keras_serializable(package="Nest", name="ConfigHolder")
class ConfigHolder(npgrad.layers.Layer):
    """A custom layer whose config holds a sub-layer and a regularizer object."""

    def __init__(self, inner, regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner if isinstance(inner, npgrad.layers.Layer) else \
            npgrad.layers.deserialize(inner)
        self.regularizer = regularizer

    def call(self, x):
        return self.inner(x)

    def get_config(self):
        return {**super().get_config(), "inner": self.inner, "regularizer": self.regularizer}


def test_layer_configs_inside_models_hold_dicts_for_layers_and_keras_objects():
    inputs = npgrad.Input((3,))
    holder = ConfigHolder(npgrad.layers.Dense(2), regularizer=npgrad.regularizers.L1L2(1e-5, 1e-4))
    model = npgrad.Model(inputs, holder(inputs))
    spec = npgrad.layers.serialize(holder)
    assert spec["registered_name"] == "Nest>ConfigHolder"
    config = model.get_config()["layers"][1]["config"]
    assert config["inner"]["class_name"] == "Dense"  # a dict, as Keras's from_config expects
    assert config["regularizer"] == {"module": "keras.regularizers", "class_name": "L1L2",
                                     "config": {"l1": 1e-5, "l2": 1e-4},
                                     "registered_name": None}
    again = npgrad.Model.from_config(model.get_config())
    assert isinstance(again.layers[1].inner, npgrad.layers.Dense)
    constraint = saving.serialize_keras_object(npgrad.constraints.MaxNorm(2))
    assert (constraint["module"], constraint["registered_name"]) == ("keras.constraints", None)


def _same_named_classes():
    """Two registered custom layers that share the class name ``Twin``."""
    @saving.register_keras_serializable(package="first")
    class Twin(npgrad.layers.Layer):
        def call(self, x):
            return x + 1.0

    first = Twin

    @saving.register_keras_serializable(package="second")
    class Twin(npgrad.layers.Layer):  # the point: a second class of that name
        def call(self, x):
            return x * 10.0

    return first, Twin


@pytest.mark.parametrize("functional", [True, False])
def test_model_configs_tell_same_named_custom_classes_apart(functional):
    first, second = _same_named_classes()
    if functional:
        inputs = npgrad.Input((2,))
        model = npgrad.Model(inputs, second()(first()(inputs)))
        again = npgrad.Model.from_config(model.get_config())
    else:
        model = npgrad.Sequential([npgrad.Input((2,)), first(), second()])
        again = npgrad.Sequential.from_config(model.get_config())
    entries = [entry for entry in model.get_config()["layers"] if entry["class_name"] == "Twin"]
    assert [entry["registered_name"] for entry in entries] == ["first>Twin", "second>Twin"]
    assert [type(layer) for layer in again.layers[-2:]] == [first, second]
    x = np.ones((1, 2), "float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.full((1, 2), 20.0))


def test_a_model_whose_init_takes_no_arguments_reloads(tmp_path):
    # keras.io's saving guide: a registered subclassed model written as __init__(self)
    @saving.register_keras_serializable(package="probe_no_args")
    class NoArgs(npgrad.Model):
        def __init__(self):
            super().__init__()
            self.dense = npgrad.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = NoArgs()
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    expected = model(x).numpy()
    model.save(tmp_path / "no_args.keras")
    loaded = npgrad.models.load_model(tmp_path / "no_args.keras")
    assert type(loaded) is NoArgs
    np.testing.assert_array_equal(loaded(x).numpy(), expected)
    # a key that is not a base key is still refused by name
    with pytest.raises(TypeError, match="unexpected keyword argument 'units'"):
        NoArgs.from_config({"name": "x", "units": 3})


def test_save_and_load_own_variables_hooks_carry_extra_state(tmp_path):
    # keras.io's customizing-saving guide: state that is not a weight, through the hooks
    @saving.register_keras_serializable(package="probe_hooks")
    class Counting(npgrad.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.seen = np.zeros(3, "float32")  # not a weight

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["seen"] = self.seen

        def load_own_variables(self, store):
            self.seen = np.asarray(store["seen"])
            super().load_own_variables({k: v for k, v in store.items() if k != "seen"})

    model = npgrad.Sequential([npgrad.Input((4,)), Counting(3)])
    model.layers[0].seen[:] = [1, 2, 3]
    x = np.random.default_rng(1).random((2, 4)).astype("float32")
    model.save(tmp_path / "hooks.keras")
    loaded = npgrad.models.load_model(tmp_path / "hooks.keras")
    np.testing.assert_array_equal(loaded.layers[0].seen, [1, 2, 3])
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    model.save_weights(tmp_path / "hooks.weights.h5")  # weights files call them too
    fresh = npgrad.Sequential([npgrad.Input((4,)), Counting(3)])
    fresh.load_weights(tmp_path / "hooks.weights.h5")
    np.testing.assert_array_equal(fresh.layers[0].seen, [1, 2, 3])

    @saving.register_keras_serializable(package="probe_hooks")
    class Picky(Counting):
        def load_own_variables(self, store):
            raise ValueError("no thanks")

    picky = npgrad.Sequential([npgrad.Input((4,)), Picky(3, name="picky")])
    picky.save_weights(tmp_path / "picky.weights.h5")
    with pytest.raises(npgrad.errors.UnreadableFileError,
                       match="layer 'picky' \\(Picky\\): load_own_variables refused .*no thanks"):
        picky.load_weights(tmp_path / "picky.weights.h5")


def test_the_default_hooks_round_trip_a_layers_own_weights():
    layer = npgrad.layers.Dense(2)
    layer.build((None, 3))
    store = {}
    layer.save_own_variables(store)
    assert sorted(store) == ["0", "1"] and store["0"].shape == (3, 2)
    other = npgrad.layers.Dense(2)
    other.build((None, 3))
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.kernel.numpy(), layer.kernel.numpy())
    with pytest.raises(ValueError, match=r"saved variable 0 has shape \(2, 2\)"):
        other.load_own_variables({"0": np.zeros((2, 2)), "1": np.zeros(2)})
    with pytest.raises(ValueError, match=r"lack \['1'\]"):
        other.load_own_variables({"0": np.zeros((3, 2))})


def test_the_default_own_variables_follow_the_weights_files_layout():
    # a MultiHeadAttention keeps its projections under private names: Keras's files (and so
    # its default save_own_variables) hold all eight arrays in the layer's own group
    from npgrad.saving import keras_h5

    x = npgrad.Input((5, 4))
    model = npgrad.Model(x, npgrad.layers.MultiHeadAttention(2, 3)(x, x))
    for _, layer, weights in keras_h5.keras_weight_groups(model):
        store = {}
        layer.save_own_variables(store)
        assert len(store) == len(weights)
        for index, weight in enumerate(weights):
            np.testing.assert_array_equal(store[str(index)], weight.numpy())
    attention = model.layers[1]
    assert type(attention).__name__ == "MultiHeadAttention" and len(attention.weights) == 8
