"""Keras 3's model-level config helpers: ``clone_model``, ``model.to_json()`` /
``model_from_json`` and ``layers.serialize`` / ``layers.deserialize``.

All of them go through the Keras 3 config dicts of :mod:`npgrad.saving.serialization`, so a
JSON string from Keras loads here and the other way round, and custom classes resolve as
on loading (registered, ``custom_objects`` or a custom object scope; nothing is executed).

Example:
    >>> text = npgrad.saving.model_to_json(model)          # Keras's model.to_json()
    >>> copy = npgrad.saving.model_from_json(text)          # fresh weights, same graph
    >>> twin = npgrad.saving.clone_model(model)             # Keras's keras.models.clone_model
"""

from __future__ import annotations

import json

from npgrad.saving import keras_config, keras_export
from npgrad.saving.serialization import deserialize_keras_object, serialize_keras_object
from npgrad.layers.layer import get_layer_class  # models by name: saving sits below models

__all__ = ["clone_model", "deserialize_layer", "model_from_json", "model_to_json",
           "serialize_layer"]


def model_to_json(model, **kwargs):
    """The model's Keras 3 config as a JSON string (Keras's ``model.to_json()``).

    Args:
        model: a Sequential or functional model (or a registered subclass).
        **kwargs: passed to ``json.dumps`` (``indent=2``...).
    """
    return json.dumps(serialize_keras_object(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from :func:`model_to_json`'s or Keras's JSON string.

    Raises:
        ValueError: invalid JSON, an unknown class or a malformed config.
    """
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"model_from_json: not a JSON model config ({error})") from None
    return deserialize_keras_object(config, custom_objects=custom_objects)


def serialize_layer(layer):
    """Keras's ``layers.serialize``: the layer's Keras 3 config dict."""
    return serialize_keras_object(layer)


def deserialize_layer(config, custom_objects=None):
    """Keras's ``layers.deserialize``: a new layer from :func:`serialize_layer`'s dict."""
    from npgrad.layers import Layer

    layer = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError(f"layers.deserialize: the config describes a "
                         f"{type(layer).__name__}, not a layer")
    return layer


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with the same architecture and new layers (Keras 3's ``clone_model``).

    The weights are freshly initialized, not copied (as Keras); copy them with
    ``clone.set_weights(model.get_weights())``.

    Args:
        model: a Sequential or functional model; another model is rebuilt from its
            ``get_config()``.
        input_tensors: not supported (the clone gets new inputs of the same shapes).
        clone_function: ``fn(layer) -> layer`` making each layer's replacement (default:
            ``type(layer).from_config(layer.get_config())``).
        call_function: not supported.
        recursive: also clone the layers of nested models with ``clone_function``
            (otherwise a nested model is passed to ``clone_function`` as one layer).

    Raises:
        ValueError: ``input_tensors`` or ``call_function`` given, or unknown keywords.
    """
    Functional, Sequential = get_layer_class("Functional"), get_layer_class("Sequential")

    if kwargs:
        raise ValueError(f"clone_model: unexpected keyword arguments {sorted(kwargs)}")
    if input_tensors is not None or call_function is not None:
        raise ValueError("clone_model: input_tensors and call_function are not supported by "
                         "npgrad; clone, then call the clone on new inputs")
    if not isinstance(model, (Sequential, Functional)):
        if clone_function is not None:
            raise ValueError("clone_model: clone_function needs a Sequential or functional "
                             "model")
        return _default_clone(model)
    clone_function = clone_function or _default_clone
    originals = {}

    def collect(container):
        for layer in container.layers:
            originals.setdefault(layer.name, layer)
            if recursive and isinstance(layer, (Sequential, Functional)):
                collect(layer)

    collect(model)

    def factory(spec):
        name = spec.get("name") or (spec.get("config") or {}).get("name")
        layer = originals.get(name)
        if layer is None or type(layer).__name__ == "InputLayer":
            return None
        if recursive and isinstance(layer, (Sequential, Functional)):
            return None  # rebuilt from its config, its layers through this factory
        return clone_function(layer)

    spec = keras_export.keras_model_spec(model, include_compile=False)
    return keras_config.model_from_keras_spec(spec, compile=False, layer_factory=factory)
