"""clone_model, model_to_json / model_from_json, layers serialize / deserialize (Keras 3)."""

import json

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from npgrad.saving import cloning, keras_config
from tests.saving import keras_zoo
from tests.saving.test_object_registration import Scale, clean_registry  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:.*does not support masking")


def _as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("make", keras_zoo.ALL, ids=lambda f: f.__name__)
def test_json_round_trip_rebuilds_the_architecture(make):
    model = make()
    text = cloning.model_to_json(model, indent=1)
    assert json.loads(text)["class_name"] in ("Sequential", "Functional")
    copy = cloning.model_from_json(text)
    assert [type(layer).__name__ for layer in copy.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert [w.shape for w in copy.weights] == [w.shape for w in model.weights]
    copy.set_weights(model.get_weights())
    x = keras_zoo.inputs(model)
    for a, b in zip(_as_list(model.predict(x, verbose=0)), _as_list(copy.predict(x, verbose=0))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", keras_zoo.ALL, ids=lambda f: f.__name__)
def test_clone_model_has_new_layers_and_fresh_weights(make):
    model = make()
    clone = cloning.clone_model(model)
    assert type(clone) is type(model)
    originals = {id(layer) for layer in model.layers}
    assert not any(id(layer) in originals for layer in clone.layers)
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_clone_function_replaces_layers():
    model = npgrad.Sequential([npgrad.Input((4,)), L.Dense(3, name="a"), L.Dropout(0.5),
                               L.Dense(2, name="b")])

    def no_dropout(layer):
        if isinstance(layer, L.Dropout):
            return L.Activation("linear", name=layer.name)
        return type(layer).from_config(layer.get_config())

    clone = cloning.clone_model(model, clone_function=no_dropout)
    assert [type(layer).__name__ for layer in clone.layers] == ["Dense", "Activation", "Dense"]
    with pytest.raises(ValueError, match="input_tensors"):
        cloning.clone_model(model, input_tensors=[npgrad.Input((4,))])


def test_model_from_json_with_custom_objects_and_bad_json():
    model = npgrad.Sequential([npgrad.Input((4,)), Scale(factor=4.0, name="scale")])
    text = cloning.model_to_json(model)
    with pytest.raises(ValueError, match="custom_objects"):
        cloning.model_from_json(text)
    assert cloning.model_from_json(text, custom_objects={"Scale": Scale}).layers[0].factor == 4.0
    with pytest.raises(ValueError, match="JSON"):
        cloning.model_from_json("{not json")


def test_layer_serialize_deserialize():
    config = cloning.serialize_layer(L.Conv2D(4, 3, padding="same", name="c"))
    layer = cloning.deserialize_layer(config)
    assert isinstance(layer, L.Conv2D) and layer.filters == 4 and layer.name == "c"
    with pytest.raises(ValueError, match="not a layer"):
        cloning.deserialize_layer(npgrad.saving.serialize_keras_object(
            npgrad.optimizers.Adam()))


def test_npgrad_own_model_configs_read_with_custom_objects():
    model = npgrad.Sequential([npgrad.Input((4,)), Scale(name="scale"), L.Dense(2)])
    spec = {"class_name": "Sequential", "config": model.get_config()}
    copy = keras_config.model_from_keras_spec(spec, custom_objects={"Scale": Scale})
    assert [type(layer).__name__ for layer in copy.layers] == ["Scale", "Dense"]
