"""What a custom layer's default ``get_config`` returns: the arguments it was created with.

Keras's ``Operation.__new__`` records a layer's constructor arguments, so that a class
written without ``get_config`` still saves and reloads, when every value is plain (numbers,
strings, None, and lists or dicts of them). ``Layer.__new__`` calls :func:`constructor_config`
for such classes; a layer holding other objects (layers, arrays) must write its own.
"""

from __future__ import annotations

import inspect

import numpy as np

#: the argument values a layer's default get_config records (Keras's auto-config types)
_PLAIN = (str, int, float, bool, type(None))


def _plain(value):
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return isinstance(value, _PLAIN)


def constructor_config(cls, args, kwargs):
    """The arguments a layer was created with, by name, when all are plain values (numbers,
    strings, None, and lists or dicts of them); else None. Keras's ``Operation.__new__``
    records them so that a custom layer without ``get_config`` still saves and reloads."""
    try:
        signature = inspect.signature(cls.__init__)
        bound = signature.bind_partial(None, *args, **kwargs).arguments
    except (TypeError, ValueError):
        return None
    config = {}
    for index, (name, value) in enumerate(bound.items()):
        kind = signature.parameters[name].kind
        if index == 0 or kind is inspect.Parameter.VAR_POSITIONAL:
            if index and value:
                return None  # *args have no names to save them under
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            config.update(value)
        else:
            config[name] = value
    if config.get("dtype") is not None and not isinstance(config["dtype"], str):
        try:
            config["dtype"] = np.dtype(config["dtype"]).name
        except TypeError:
            return None
    return config if _plain(config) else None
