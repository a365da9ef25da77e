"""The custom-object registry: which user classes and functions a saved file may name.

Loading a model never imports a module named in a file and never runs code from it: a class
in a file resolves only to npgrad's own classes, to a class registered with
:func:`register_keras_serializable`, or to one the caller passes (``custom_objects=`` or a
:func:`custom_object_scope`). Names and lookup order are Keras 3's (``keras.saving``).

Example:
    >>> @npgrad.saving.register_keras_serializable(package="my_project")
    ... class Scale(npgrad.layers.Layer):
    ...     ...
    >>> npgrad.saving.get_registered_name(Scale)
    'my_project>Scale'
    >>> with npgrad.saving.custom_object_scope({"Scale": Scale}):
    ...     model = npgrad.models.load_model("model.keras")
"""

from __future__ import annotations

import inspect
import threading

from npgrad.layers.layer import CLASS_RESOLVERS

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]

#: registered name ("package>name") -> class or function
GLOBAL_CUSTOM_OBJECTS = {}
#: class or function -> registered name
GLOBAL_CUSTOM_NAMES = {}

_scope = threading.local()  # .objects: the innermost custom_object_scope's dict


def scope_objects():
    """The objects of the innermost active :class:`CustomObjectScope` (a copy; ``{}`` if none)."""
    return dict(getattr(_scope, "objects", None) or {})


def scope_adding(custom_objects):
    """A :class:`CustomObjectScope` holding the active scope's objects plus
    ``custom_objects`` (a loader's ``custom_objects=`` argument, or None)."""
    return CustomObjectScope({**scope_objects(), **(custom_objects or {})})


class CustomObjectScope:
    """Expose custom classes and functions to deserialization inside a ``with`` block.

    As Keras 3, entering a scope replaces the objects of an enclosing one (they come back on
    exit), and the scope is per thread.

    Args:
        custom_objects: ``{name: class or function}``; the name is the one the file uses
            (the class name, or the registered ``"package>name"``).

    Example:
        >>> with npgrad.saving.custom_object_scope({"Scale": Scale}):
        ...     layer = npgrad.saving.deserialize_keras_object(config)
    """

    def __init__(self, custom_objects=None):
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise TypeError(
                f"custom_object_scope: expected a dict of {{name: class or function}}, got "
                f"{type(custom_objects).__name__}"
            )
        self.custom_objects = dict(custom_objects or {})
        self.backup = None

    def __enter__(self):
        self.backup = getattr(_scope, "objects", None)
        _scope.objects = dict(self.custom_objects)
        return self

    def __exit__(self, *exc_info):
        _scope.objects = self.backup
        return False


#: Keras's lowercase alias
custom_object_scope = CustomObjectScope


def _scoped_class(name):
    scoped = (getattr(_scope, "objects", None) or {}).get(name)
    return scoped if scoped is not None else GLOBAL_CUSTOM_OBJECTS.get(name)


# layers' get_layer_class sees the active scope, then registered names ("package>Name")
CLASS_RESOLVERS.append(_scoped_class)


def get_custom_objects():
    """The live global dictionary of registered objects (``{"package>name": object}``).

    Objects of a :class:`CustomObjectScope` are not in it. Adding to it registers an object
    under the key used, as in Keras: ``get_custom_objects()["MyLayer"] = MyLayer``.
    """
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator: register a class or function under ``"package>name"`` for loading.

    Args:
        package: the first half of the registered name.
        name: the second half (default: the class or function's ``__name__``).

    Returns:
        A decorator returning its argument unchanged.

    Raises:
        ValueError: a class without ``get_config`` (it could not be saved).

    Example:
        >>> @npgrad.saving.register_keras_serializable("my_package")
        ... class MyDense(npgrad.layers.Dense):
        ...     pass
        >>> npgrad.saving.get_registered_object("my_package>MyDense") is MyDense
        True
    """
    if not isinstance(package, str) or not package:
        raise ValueError(f"register_keras_serializable: package must be a non-empty string, "
                         f"got {package!r}")

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if not isinstance(class_name, str) or not class_name:
            raise ValueError(f"register_keras_serializable: cannot name {arg!r}; pass name=")
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(
                f"Cannot register the class {arg.__name__}: it has no get_config() method, so "
                f"it could not be saved"
            )
        registered_name = f"{package}>{class_name}"
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name ``obj`` is registered under, or its ``__name__`` when it is not registered."""
    try:
        if obj in GLOBAL_CUSTOM_NAMES:
            return GLOBAL_CUSTOM_NAMES[obj]
    except TypeError:  # an unhashable object cannot be registered
        pass
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function known as ``name``, or None.

    Looked up, in Keras 3's order, in the active :class:`CustomObjectScope`, the global
    registry, ``custom_objects`` and ``module_objects``.

    Args:
        name: a class name or registered ``"package>name"``.
        custom_objects: optional ``{name: object}`` from the caller.
        module_objects: optional ``{name: object}`` from a library module.
    """
    if not isinstance(name, str):
        return None
    scope = getattr(_scope, "objects", None) or {}
    if name in scope:
        return scope[name]
    if name in GLOBAL_CUSTOM_OBJECTS:
        return GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
