"""Model architecture without weights: ``model.to_json()``, ``models.model_from_json`` and
``models.clone_model`` (Keras 3).

All three go through the model's ``get_config`` / ``from_config``, so the new model has the
same layers and connections and freshly initialized weights. Classes are found as by
:func:`npgrad.layers.deserialize` (npgrad's layer classes or ``custom_objects``).

Example:
    >>> text = model.to_json()
    >>> twin = npgrad.models.model_from_json(text)     # same graph, new weights
    >>> copy = npgrad.models.clone_model(model)         # the same, without the JSON text
"""

from __future__ import annotations

import json

from npgrad.layers import serialization
from npgrad.models.sequential import Sequential

__all__ = ["clone_model", "model_from_json", "model_to_json"]


def model_to_json(model, **kwargs):
    """The model's config as a JSON string (``model.to_json()``).

    Args:
        model: a Sequential, functional or subclassed model with a JSON-able config.
        **kwargs: passed to ``json.dumps`` (``indent=2``...).
    """
    return json.dumps(serialization.serialize(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model from :func:`model_to_json`'s text (Keras's ``models.model_from_json``).

    Args:
        json_string: the JSON text.
        custom_objects: optional ``{name: class}`` for the user's layer and model classes.

    Raises:
        ValueError: the text is not JSON or not a model config.
    """
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as error:
        raise ValueError(f"model_from_json: not a JSON model config ({error})") from None
    return serialization.deserialize(config, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with the same architecture and new weights (Keras's ``clone_model``).

    Args:
        model: a Sequential, functional or subclassed model.
        input_tensors, call_function, recursive: Keras arguments npgrad does not support
            (they raise if given).
        clone_function: for a Sequential, called on each layer to make its copy (default:
            ``layer.__class__.from_config(layer.get_config())``).

    Returns:
        The new model, built when the original's input shape was known; not compiled.

    Raises:
        ValueError: an unsupported argument.
    """
    if kwargs:
        raise ValueError(f"clone_model: unexpected keyword arguments {sorted(kwargs)}")
    if input_tensors is not None or call_function is not None or recursive:
        raise ValueError(
            "clone_model: input_tensors, call_function and recursive are not supported in "
            "npgrad; clone the model and call it on new inputs instead"
        )
    if clone_function is None:
        return type(model).from_config(model.get_config())
    if not isinstance(model, Sequential):
        raise ValueError("clone_model: clone_function is supported for Sequential models only")
    clone = Sequential([clone_function(layer) for layer in model.layers], name=model.name)
    if model.input_shape is not None:
        clone.build(model.input_shape)
    return clone
