"""``serialize_keras_object`` / ``deserialize_keras_object``: objects <-> Keras 3 config dicts.

The dict format is Keras 3's: ``{"module", "class_name", "config", "registered_name"}`` (with
``build_config`` for built layers and ``compile_config`` for compiled models). npgrad's own
classes are written under Keras's public modules (``keras.layers``, ``keras.optimizers``...),
so Keras reads them; other classes under their module and registered name.

Deserializing resolves a class only through the caller's ``custom_objects``, the active
:func:`~npgrad.saving.custom_object_scope`, the registry
(:func:`~npgrad.saving.register_keras_serializable`) and npgrad's own namespaces: it never
imports a module named in the config and never runs code from it (a serialized lambda is
an error, whatever ``safe_mode`` says).

Example:
    >>> config = npgrad.saving.serialize_keras_object(npgrad.layers.Dense(3))
    >>> config["module"], config["class_name"]
    ('keras.layers', 'Dense')
    >>> layer = npgrad.saving.deserialize_keras_object(config)
"""

from __future__ import annotations

import inspect
import types

import numpy as np

from npgrad.saving import keras_config, keras_export, object_registration
from npgrad.layers.layer import get_layer_class  # models by name: saving sits below models
from npgrad.layers.serialization import OBJECT_SERIALIZERS

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_PLAIN = (str, int, float, bool)


def serialize_keras_object(obj):
    """A JSON-able Keras 3 dict describing ``obj`` (inverse of :func:`deserialize_keras_object`).

    Args:
        obj: a layer, model, initializer, regularizer, optimizer, loss or metric, a registered
            function, or plain data (None, numbers, strings, lists, dicts, NumPy arrays).

    Returns:
        Plain values unchanged, containers element by element, objects as
        ``{"module", "class_name", "config", "registered_name"}``.

    Raises:
        TypeError: an object without ``get_config`` that is not a named function.
    """
    Functional, Sequential = get_layer_class("Functional"), get_layer_class("Sequential")

    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": obj.dtype.name}}
    if isinstance(obj, (np.generic, np.ndarray)):
        return np.asarray(obj).item()
    if isinstance(obj, types.FunctionType):
        if obj.__name__ == "<lambda>":
            raise TypeError("serialize_keras_object: a lambda cannot be saved (npgrad never "
                            "loads code); use a named, registered function")
        name = object_registration.get_registered_name(obj)
        return {"module": obj.__module__, "class_name": "function", "config": name,
                "registered_name": name}
    if isinstance(obj, (Sequential, Functional)):
        return keras_export.keras_model_spec(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"serialize_keras_object: cannot serialize {obj!r} of type "
                        f"{type(obj).__name__}: it has no get_config() method")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"the get_config() of {type(obj).__name__} must return a dict, got "
                        f"{type(config).__name__}")
    if keras_config.builtin_class(type(obj).__name__) is type(obj) \
            and keras_config.kind_of(obj) == "layers":
        return keras_export.keras_layer_spec(obj)
    spec = keras_export.keras_object_spec(obj, {k: keras_export.keras_value(
        serialize_keras_object(v)) for k, v in config.items()})
    if getattr(obj, "built", False) and getattr(obj, "input_shape_built", None) is not None:
        spec["build_config"] = {"input_shape": keras_export.json_shape(obj.input_shape_built)}
    return spec


def _keras_object_in_a_config(value):
    """Keras 3's dict for an initializer, regularizer, constraint... found in a layer's
    config (``npgrad.layers.serialize`` and models' ``get_config``), else None."""
    if isinstance(value, type) or not hasattr(value, "get_config") \
            or keras_config.kind_of(value) is None:
        return None
    return serialize_keras_object(value)


OBJECT_SERIALIZERS.append(_keras_object_in_a_config)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a Keras 3 (or Keras 2) config dict describes.

    Args:
        config: what :func:`serialize_keras_object` (or Keras) wrote.
        custom_objects: ``{name: class or function}`` consulted first (with the active
            custom object scope and the registry).
        safe_mode: accepted for Keras compatibility; a serialized lambda is refused in
            either mode, since npgrad never runs code from a config.
        **kwargs: ``module_objects`` (``{name: object}``) as Keras accepts.

    Returns:
        The object (a layer is built when the config has a ``build_config``; a model is
        compiled when it has a ``compile_config``).

    Raises:
        ValueError: an unknown class or function (the message says how to register it), a
            lambda, or a config the class cannot take.
        TypeError: a malformed config.
    """
    del safe_mode
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected keyword arguments {sorted(kwargs)}")
    custom = {**(module_objects or {}), **(custom_objects or {})}
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        found = object_registration.get_registered_object(config, custom)
        return found if found is not None else config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"deserialize_keras_object: cannot parse {type(config).__name__}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom) for key, value in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__bytes__" and isinstance(inner, dict):
        return str(inner.get("value", "")).encode("utf-8")
    if class_name in ("__numpy__", "__tensor__", "__lambda__", "function", "__keras_tensor__"):
        if class_name == "function" and not isinstance(inner, str):
            raise TypeError(f"deserialize_keras_object: a function's config must be its "
                            f"name, got {inner!r}")
        if class_name == "function":
            name = config.get("registered_name") or inner
            found = object_registration.get_registered_object(name, custom) or \
                object_registration.get_registered_object(inner, custom)
            if found is not None:
                return found
            return _builtin_function(inner)
        return keras_config.npgrad_value(config, custom)
    where = f"{class_name!r}"
    cls, builtin = keras_config.resolve_class(config, None, custom, where)
    if builtin and cls.__name__ in ("Sequential", "Functional"):
        return keras_config.model_from_keras_spec(config, custom)
    if builtin and keras_config.kind_of(cls) == "layers":
        obj = keras_config.layer_from_keras_spec(config, custom)
    else:
        value = keras_config.npgrad_value(inner if isinstance(inner, dict) else {}, custom, where)
        if builtin:
            value = keras_config.drop_keras_only(cls, value, where)
        if inspect.isfunction(cls):
            return cls
        obj = keras_config.instantiate(cls, value, custom, where)
    build = config.get("build_config")
    if isinstance(build, dict) and build.get("input_shape") is not None \
            and not getattr(obj, "built", True):
        obj.build(_shape(build["input_shape"]))
    compile_config = config.get("compile_config")
    if isinstance(compile_config, dict) and hasattr(obj, "compile"):
        keras_config.compile_from_keras_config(obj, compile_config, custom)
    return obj


def _shape(value):
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [tuple(v) for v in value]
    return tuple(value)


def _builtin_function(name):
    from npgrad import activations, losses, metrics

    for lookup in (activations.get, losses.get, metrics.get):
        try:
            return lookup(name)
        except (ValueError, TypeError, KeyError):
            continue
    raise ValueError(f"unknown function {name!r}: register it with "
                     f"npgrad.saving.register_keras_serializable or pass custom_objects")
