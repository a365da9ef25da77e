"""Keras 3's saving hooks as a Layer's default methods (``Layer`` inherits them).

``.keras`` and ``.weights.h5`` files call a layer's or model's *overrides* of these (see
``npgrad/saving/hooks.py``); the defaults here carry ``default_hook = True`` so the
loaders can tell them apart, and do what Keras's defaults do.
"""

from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------------------- Keras's layout
def is_layer(value):
    """Whether ``value`` is a layer (every Layer and Model has these hooks)."""
    return isinstance(value, SavingHooks)


def _holds_layers(value):
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, (list, tuple)) and any(
        is_layer(v) or _holds_layers(v) for v in value)


def _name_key(name):
    return f"~{name}" if name.startswith("_") else name


def keras_children(layer):
    """(attribute, value) pairs that lead to sub-layers, in Keras's walk order (the
    groups of a weights file). npgrad's own classes keep sub-layers they build under
    private names (a MultiHeadAttention's projections): those are not children, their
    weights count as the layer's own, as in Keras's files."""
    out = []
    if getattr(layer, "layer_graph", False):  # Sequential, Functional
        out.append(("layers", layer.layers))
    builtin = type(layer).__module__.startswith("npgrad.")
    for name in sorted(vars(layer), key=_name_key):
        if name.startswith("__") or (builtin and name.startswith("_")):
            continue  # npgrad's private bookkeeping is not part of Keras's layout
        value = vars(layer)[name]
        if is_layer(value) or _holds_layers(value):
            out.append((name, value))
    return out


def keras_own_weights(layer, children=None):
    """The weights Keras keeps in ``layer``'s own group: its weights less those of its
    :func:`keras_children` (computed when not given)."""
    nested = set()
    for _, value in keras_children(layer) if children is None else children:
        for sub in (value if isinstance(value, (list, tuple)) else
                    list(value.values()) if isinstance(value, dict) else [value]):
            if is_layer(sub):
                nested.update(id(w) for w in sub.weights)
    return [w for w in layer.weights if id(w) not in nested]


class SavingHooks:
    """``get_build_config`` / ``build_from_config``, ``save_own_variables`` /
    ``load_own_variables`` and ``save_assets`` / ``load_assets``, Keras 3's defaults."""

    def get_build_config(self):
        """What :meth:`build_from_config` needs to build the layer again: Keras 3's
        ``{"input_shape": ...}`` once built, else None. A layer whose ``build`` takes more
        than the shape adds its own keys (saved in ``config.json``)."""
        shape = self.__dict__.get("input_shape_built")
        if not self.built or shape is None:
            return None
        return {"input_shape": shape}

    get_build_config.default_hook = True  # an override is a hook the loader calls

    def build_from_config(self, config):
        """Build from :meth:`get_build_config`'s output; loading a ``.keras`` file calls a
        layer's override with its saved build config (Keras 3)."""
        shape = (config or {}).get("input_shape")
        if shape is not None and not self.built:
            self._maybe_build(shape)

    build_from_config.default_hook = True  # an override is a hook the loader calls

    def save_assets(self, dir_path):
        """Keras 3's hook for files beside the weights: write them into the folder
        ``dir_path``; a ``.keras`` archive keeps them for :meth:`load_assets`."""

    save_assets.default_hook = True  # an override is a hook the saver calls

    def load_assets(self, dir_path):
        """Keras 3's hook: read back what :meth:`save_assets` wrote (``dir_path`` holds it)."""

    load_assets.default_hook = True  # an override is a hook the loader calls

    def save_own_variables(self, store):
        """Keras 3's saving hook: put this layer's own weights (not its sub-layers') in the
        dict ``store`` under ``"0"``, ``"1"``... ``.keras`` and ``.weights.h5`` files call
        it for a layer that overrides it; an override may add other arrays under keys of its
        own (call ``super().save_own_variables(store)`` for the weights)."""
        for index, weight in enumerate(keras_own_weights(self)):
            store[str(index)] = np.asarray(weight.data)

    save_own_variables.default_hook = True  # an override is a hook the loader calls

    def load_own_variables(self, store):
        """Keras 3's loading hook, the inverse of :meth:`save_own_variables`: ``store`` maps
        the saved keys to arrays.

        Raises:
            ValueError: a count or shape that does not match the layer's weights.
        """
        weights = keras_own_weights(self)
        keys = [str(i) for i in range(len(weights))]
        missing = [k for k in keys if k not in store]
        if missing:
            raise ValueError(f"{self.name}: the saved variables lack {missing} (the layer has "
                             f"{len(weights)} weights)")
        for key, weight in zip(keys, weights):
            value = np.asarray(store[key])
            if value.shape != weight.shape:
                raise ValueError(f"{self.name}: saved variable {key} has shape {value.shape}, "
                                 f"the weight {weight.name!r} {weight.shape}")
            weight.data[...] = value.astype(weight.dtype, copy=False)

    load_own_variables.default_hook = True  # an override is a hook the loader calls
