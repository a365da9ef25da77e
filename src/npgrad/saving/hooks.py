"""Keras 3's saving hooks, as the loaders call them.

A layer or model may override what Keras 3 calls while saving and loading:
``get_build_config`` / ``build_from_config`` (a ``build`` that needs more than the input
shape), ``get_compile_config`` / ``compile_from_config`` (a ``compile`` with arguments of
its own), and ``save_own_variables`` / ``load_own_variables`` (state that is not a weight;
see ``keras_h5``). npgrad's own defaults of these methods carry ``default_hook = True``;
a method without that mark is the user's, and the loaders call it.
"""

from __future__ import annotations

import warnings

from npgrad.saving import object_registration


def hooked(obj, method):
    """Whether ``obj``'s class overrides the Keras saving hook ``method``."""
    function = getattr(type(obj), method, None)
    return function is not None and not getattr(function, "default_hook", False)


def build_by_hook(layer, build_config, custom_objects, where):
    """``layer.build_from_config(build_config)`` with the custom objects in scope.

    Raises:
        ValueError: the hook failed (naming the layer).
    """
    with object_registration.scope_adding(custom_objects):
        try:
            layer.build_from_config(build_config)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            raise ValueError(f"{where}: build_from_config failed: {type(error).__name__}: "
                             f"{error}") from None
    layer.built = True


def compile_by_hook(model, compile_config, custom_objects):
    """``model.compile_from_config(config)`` with the custom objects in scope; a failure
    warns and leaves the model uncompiled, as Keras's does."""
    with object_registration.scope_adding(custom_objects):
        try:
            model.compile_from_config(compile_config)
        except Exception as error:  # noqa: BLE001 - user code; Keras warns and goes on
            warnings.warn(f"compile_from_config failed for model {model.name!r} "
                          f"({type(error).__name__}: {error}); the model is not compiled",
                          stacklevel=4)
