"""npgrad objects -> Keras 3 configs: what ``config.json`` of a ``.keras`` archive holds.

npgrad's own classes are written under Keras's public modules (``keras.layers.Dense``,
``keras.initializers.GlorotUniform``...), a Sequential with its ``InputLayer`` first, a
functional model with Keras 3's ``inbound_nodes`` (``{"args", "kwargs"}`` with
``__keras_tensor__`` references), each built layer with its ``build_config``, and the
model's ``compile_config``. Other classes are written under their own module and registered
name (:func:`npgrad.saving.register_keras_serializable`), as Keras does.
"""

from __future__ import annotations

import inspect

import numpy as np

from npgrad.saving import object_registration
from npgrad.saving.hooks import hooked
from npgrad.saving.keras_config import KERAS_MODULES, builtin_class, kind_of
from npgrad.layers.layer import get_layer_class  # models by name: saving sits below models

__all__ = [
    "json_shape",
    "keras_compile_config",
    "keras_layer_spec",
    "keras_model_spec",
    "keras_object_spec",
    "keras_value",
]

_TENSOR_KEY = "__keras_tensor__"
#: npgrad classes Keras 3 knows under another name with the same config: tf.keras's
#: SyncBatchNormalization is Keras 3's BatchNormalization(synchronized=True)
_KERAS_CLASS_NAMES = {"SyncBatchNormalization": "BatchNormalization"}


def keras_object_spec(obj_or_class, config):
    """``{"module", "class_name", "config", "registered_name"}`` for an npgrad object/class.

    npgrad's own classes are written under Keras's public modules (``keras.layers``...),
    other classes under their own module with their registered name.
    """
    cls = obj_or_class if inspect.isclass(obj_or_class) else type(obj_or_class)
    kind = kind_of(cls)
    if cls.__module__.startswith("npgrad.") and kind is not None:
        if cls.__name__ == "Sequential":
            return {"module": "keras", "class_name": "Sequential", "config": config,
                    "registered_name": None}
        if cls.__name__ == "Functional":
            return {"module": "keras.src.models.functional", "class_name": "Functional",
                    "config": config, "registered_name": None}
        return {"module": KERAS_MODULES[kind],
                "class_name": _KERAS_CLASS_NAMES.get(cls.__name__, cls.__name__),
                "config": config, "registered_name": None}
    return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
            "registered_name": object_registration.get_registered_name(cls)}


def keras_value(value):
    """An npgrad config value in Keras 3's form: ``{"class_name", "config"}`` dicts of
    npgrad's own classes get their Keras module (recursively)."""
    if isinstance(value, (list, tuple)):
        return [keras_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    if not isinstance(value, dict):
        return value
    class_name = value.get("class_name")
    if isinstance(class_name, str) and isinstance(value.get("config"), dict) \
            and "module" not in value and class_name != _TENSOR_KEY:
        inner = {k: keras_value(v) for k, v in value["config"].items()}
        cls = builtin_class(class_name)
        if cls is None:
            cls = object_registration.get_registered_object(class_name)
        if cls is None:
            return {"class_name": class_name, "config": inner}
        if kind_of(cls) == "layers":
            inner.pop("batch_input_shape", None)
        return keras_object_spec(cls, inner)
    return {k: keras_value(v) for k, v in value.items()}


def _build_config(layer):
    if hooked(layer, "get_build_config"):  # the layer's own keys
        config = layer.get_build_config()
        if not isinstance(config, dict):
            return None
        return {k: json_shape(v) if k == "input_shape" and v is not None else keras_value(v)
                for k, v in config.items()}
    shape = getattr(layer, "input_shape_built", None)
    if not getattr(layer, "built", False) or shape is None:
        return None
    return {"input_shape": json_shape(shape)}


def json_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [json_shape(s) for s in shape]
    return [None if n is None else int(n) for n in shape]


def keras_layer_spec(layer):
    """A layer's Keras 3 spec (nested models included)."""
    Functional, Sequential = get_layer_class("Functional"), get_layer_class("Sequential")

    if isinstance(layer, (Sequential, Functional)):
        return keras_model_spec(layer, include_compile=False)
    config = layer.get_config()
    config.pop("batch_input_shape", None)
    if type(layer).__name__ == "InputLayer":
        config.pop("trainable", None)
    spec = keras_object_spec(layer, {k: keras_value(v) for k, v in config.items()})
    build = _build_config(layer)
    if build is not None and type(layer).__name__ != "InputLayer":
        spec["build_config"] = build
    return spec


def _input_layer_spec(name, batch_shape, dtype):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": json_shape(batch_shape), "dtype": dtype,
                       "sparse": False, "ragged": False, "name": name, "optional": False},
            "registered_name": None}


def keras_model_spec(model, include_compile=True):
    """A Sequential or functional npgrad model as Keras 3's ``config.json`` content.

    Raises:
        TypeError: a model that is neither Sequential nor functional (subclassed models are
            written by their own ``get_config``, as Keras does for registered classes).
    """
    from npgrad.utils.naming import unique_name
    Functional, Sequential = get_layer_class("Functional"), get_layer_class("Sequential")

    if isinstance(model, Sequential):
        layers = [keras_layer_spec(layer) for layer in model.layers]
        shape = model.input_shape
        config = {"name": model.name, "trainable": model.trainable,
                  "dtype": model.dtype.name, "layers": layers}
        if shape is not None:
            dtype = model.layers[0].dtype.name if model.layers else "float32"
            if model.layers and not getattr(model.layers[0], "cast_inputs", True):
                dtype = "int32"  # an Embedding first: integer indices
            layers.insert(0, _input_layer_spec(unique_name("input_layer"), shape, dtype))
            config["build_input_shape"] = json_shape(shape)
        spec = keras_object_spec(model, config)
        if shape is not None:
            spec["build_config"] = {"input_shape": json_shape(shape)}
    elif isinstance(model, Functional):
        config = model.get_config()
        by_name = {layer.name: layer for layer in model.layers}
        layers = []
        for entry in config["layers"]:
            layer_spec = keras_layer_spec(by_name[entry["name"]])
            layer_spec["name"] = entry["name"]
            layer_spec["inbound_nodes"] = keras_value(entry.get("inbound_nodes", []))
            layers.append(layer_spec)
        config["layers"] = layers
        spec = keras_object_spec(model, config)
        spec["build_config"] = {"input_shape": None}
    else:  # a subclassed model: its own get_config, as Keras writes registered classes
        spec = keras_object_spec(model, {k: keras_value(v) for k, v in model.get_config().items()})
        build = _build_config(model)
        if build is not None:
            spec["build_config"] = build
    if include_compile:
        compile_config = keras_compile_config(model)
        if compile_config is not None:
            spec["compile_config"] = compile_config
    return spec


def keras_compile_config(model):
    """The model's compile settings in Keras 3's ``compile_config`` form, or None (a
    model's own ``get_compile_config`` is serialized by ``keras_archive`` instead)."""
    config = getattr(model, "compile_config", None)
    if not isinstance(config, dict):
        return None
    out = {key: keras_value(config.get(key)) for key in
           ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics")}
    out.update({"run_eagerly": False, "steps_per_execution": 1, "jit_compile": False})
    return out
