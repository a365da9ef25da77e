"""``npgrad.layers.serialize`` / ``deserialize``: a layer as a plain dict and back (Keras 3).

The dict is Keras 3's shape, ``{"module", "class_name", "config", "registered_name"}``;
layers found inside a config (a custom layer that holds sub-layers) are serialized the same
way. Classes are looked up by name among npgrad's layer classes (every ``Layer`` subclass
registers itself when it is defined) or in ``custom_objects``; nothing else is imported or
executed.

Example:
    >>> config = npgrad.layers.serialize(npgrad.layers.Dense(3, activation="relu"))
    >>> config["class_name"], config["config"]["units"]
    ('Dense', 3)
    >>> layer = npgrad.layers.deserialize(config)        # a new, unbuilt Dense(3)
"""

from __future__ import annotations

from npgrad.layers.layer import Layer, get_layer_class

#: ways :func:`serialize_config` turns an object other than a Layer into a dict, each
#: ``object -> dict or None`` (npgrad.saving adds Keras's objects: initializers,
#: regularizers, constraints...; layers sit below saving)
OBJECT_SERIALIZERS = []


def serialize_config(value):
    """A config value with every Layer found in it (at any depth) as its :func:`serialize`
    dict, and every initializer, regularizer, constraint... object as Keras 3's dict for
    it: what a model's ``get_config`` stores for each layer, so a custom layer whose
    ``get_config`` returns such objects gives a JSON-able config and its ``from_config``
    receives dicts, as in Keras."""
    if isinstance(value, Layer):
        return serialize(value)
    if isinstance(value, dict):
        return {key: serialize_config(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(serialize_config(item) for item in value)
    for as_dict in OBJECT_SERIALIZERS:
        found = as_dict(value)
        if found is not None:
            return found
    return value


def serialize(layer):
    """The layer as ``{"module", "class_name", "config", "registered_name"}`` (Keras 3).

    Args:
        layer: a Layer (a model too).

    Returns:
        A dict; ``module`` is npgrad's package of the class (``"npgrad.layers"``,
        ``"npgrad.models"``) and None for a user's class, whose ``registered_name`` is then
        the name it was registered under (``"package>name"``, Keras's form) or its class
        name.

    Raises:
        TypeError: ``layer`` is not a Layer.
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize: expected a Layer, got {type(layer).__name__}")
    from npgrad.saving import object_registration

    cls = type(layer)
    builtin = cls.__module__.startswith("npgrad.")
    return {
        "module": cls.__module__.rsplit(".", 1)[0] if builtin else None,
        "class_name": cls.__name__,
        "config": serialize_config(layer.get_config()),
        "registered_name": None if builtin else object_registration.get_registered_name(cls),
    }


def deserialize(config, custom_objects=None):
    """A new layer from a :func:`serialize` dict (or Keras's ``{"class_name", "config"}``).

    Args:
        config: the dict.
        custom_objects: optional ``{name: class}`` consulted before npgrad's classes.

    Returns:
        The layer, made by ``cls.from_config(config["config"])`` (unbuilt unless its config
        gives an input shape).

    Raises:
        ValueError: not such a dict, or a class name that is neither registered nor in
            ``custom_objects``.
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"layers.deserialize: expected a dict with 'class_name' and 'config', got {config!r}"
        )
    custom_objects = custom_objects or {}
    names = [config.get("registered_name"), config["class_name"]]
    cls = next((custom_objects[name] for name in names if name in custom_objects), None)
    if cls is None:
        cls = layer_class(config)
    return cls.from_config(dict(config.get("config") or {}))


def layer_class(spec):
    """The class of a layer entry of a config: by its ``registered_name`` when one is given
    and known (the registry, the active custom-object scope), else by its ``class_name``,
    so that two custom classes of one name stay apart, as in Keras."""
    registered = spec.get("registered_name")
    if isinstance(registered, str) and registered != spec["class_name"]:
        try:
            return get_layer_class(registered)
        except ValueError:
            pass
    return get_layer_class(spec["class_name"])
