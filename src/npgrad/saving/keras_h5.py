"""Keras's HDF5 weight layouts: Keras 3 ``.weights.h5`` (also inside ``.keras``) and the legacy
Keras 2 / tf.keras ``.h5`` (full model or weights).

Keras 3 stores each object's own variables at the path of the attribute that leads to it:
``layers/<snake_case class name, numbered>/vars/0, 1, ...`` for the layers of a model,
``layers/bidirectional/forward_layer/cell/vars/...`` for nested ones, ``optimizer/vars/...``
for the optimizer (``iterations``, ``learning_rate``, then its slots in Keras's order). The
walk below mirrors Keras's on npgrad objects, whose attributes carry Keras's names.

Reading checks every dataset before it is read: a hard link to a plain, non-virtual,
non-external dataset of the expected shape and a numeric dtype, so nothing outside the file
is touched and no declared size is trusted. h5py is an optional dependency
(``pip install "npgrad[keras]"``).
"""

from __future__ import annotations

import io
import json
import re
import warnings

import numpy as np

from npgrad.errors import UnreadableFileError
from npgrad.layers.saving_hooks import is_layer, keras_children, keras_own_weights
from npgrad.saving import hooks

__all__ = [
    "HDF5_SIGNATURE",
    "is_legacy_h5",
    "keras_weight_groups",
    "legacy_model_config",
    "load_legacy_weights",
    "read_weights",
    "require_h5py",
    "write_weights",
]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: the largest JSON attribute (legacy ``model_config``) read from an HDF5 file
MAX_JSON_BYTES = 64 << 20

#: Keras 3's optimizer variables after ``iterations`` and ``learning_rate``: groups of slot
#: names, each group interleaved per model variable (``add_optimizer_variables``)
KERAS_SLOT_GROUPS = {
    "SGD": [("momentum",)],
    "RMSprop": [("velocity",), ("momentum",), ("average_gradient",)],
    "Adagrad": [("accumulator",)],
    "Adam": [("momentum", "velocity"), ("velocity_hat",)],
    "AdamW": [("momentum", "velocity"), ("velocity_hat",)],
    "Adamax": [("m", "u")],
    "Nadam": [("momentum", "velocity")],
}


def require_h5py():
    """Import h5py, or raise ImportError saying which extra to install."""
    try:
        import h5py
    except ImportError:
        raise ImportError(
            'reading and writing Keras files (.keras, .weights.h5, .h5) needs h5py: '
            'pip install "npgrad[keras]"'
        ) from None
    return h5py


def _snake_case(name):
    """Keras's ``naming.to_snake_case``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# ----------------------------------------------------------------------------- the walk
def keras_weight_groups(model):
    """``[(path, layer, weights)]``: where Keras 3 keeps each object's own variables.

    Args:
        model: an npgrad model or layer (built).

    Returns:
        A list in Keras's walk order; the root's path is ``""``. Layers without weights are
        listed too (Keras writes a group for each, with the layer's name as metadata).
    """
    groups, visited = [], set()

    def visit(layer, path):
        if id(layer) in visited:
            return
        visited.add(id(layer))
        children = keras_children(layer)
        groups.append((path, layer, keras_own_weights(layer, children)))
        for name, value in children:
            child_path = f"{path}/{name}" if path else name
            if is_layer(value):
                visit(value, child_path)
            else:
                visit_container(value, child_path)

    def visit_container(container, path):
        used = {}
        items = list(container.values()) if isinstance(container, dict) else container
        for item in items:
            if is_layer(item):
                visit(item, f"{path}/{_unique(_snake_case(type(item).__name__), used)}")
            elif isinstance(item, (list, tuple, dict)):
                visit_container(item, f"{path}/{_unique('container', used)}")

    visit(model, "")
    return groups


# ----------------------------------------------------------------------------- optimizer layout
def keras_optimizer_keys(optimizer, variables):
    """npgrad state keys in the order of Keras 3's ``optimizer.variables``.

    Returns:
        The list of keys (``"iterations"``, ``"learning_rate"``, ``"slots/{i}/{name}"``...),
        or None for an optimizer whose Keras layout is unknown.
    """
    groups = KERAS_SLOT_GROUPS.get(type(optimizer).__name__)
    if groups is None:
        return None
    optimizer.build(variables)
    state = optimizer.get_state(variables)
    keys = ["iterations"] + (["learning_rate"] if "learning_rate" in state else [])
    keys += [f"slots/{i}/average" for i in range(len(variables))
             if f"slots/{i}/average" in state]
    for group in groups:
        for i in range(len(variables)):
            keys += [f"slots/{i}/{n}" for n in group if f"slots/{i}/{n}" in state]
    keys += [k for k in state if k not in keys and not k.startswith("slots/")]
    return keys


# ----------------------------------------------------------------------------- writing
def write_weights(model, include_optimizer=True):
    """The model's weights (and optimizer variables) as the bytes of a Keras 3 ``.weights.h5``."""
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        for path, layer, weights in keras_weight_groups(model):
            group = file.create_group(f"{path}/vars" if path else "vars")
            group.attrs["name"] = layer.name
            if _saves_by_hook(layer):  # Keras 3's hook: the layer fills the store itself
                store = {}
                layer.save_own_variables(store)
                for key, value in store.items():
                    group.create_dataset(str(key), data=np.asarray(value))
                continue
            for index, weight in enumerate(weights):
                group.create_dataset(str(index), data=np.asarray(weight.data))
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None:
            variables = list(model.trainable_weights)
            keys = keras_optimizer_keys(optimizer, variables)
            if keys is not None:
                state = optimizer.get_state(variables)
                group = file.create_group("optimizer/vars")
                group.attrs["name"] = optimizer.name
                for index, key in enumerate(keys):
                    value = np.asarray(state[key])
                    if key == "iterations":
                        value = value.astype(np.int64)
                    elif key == "learning_rate":
                        value = value.astype(np.float32)
                    group.create_dataset(str(index), data=value)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- reading
class _Reader:
    """Safe access to an open h5py file: hard links, plain datasets, checked shapes."""

    def __init__(self, h5py, file, path):
        self.h5py, self.file, self.path = h5py, file, path

    def fail(self, reason, entry=None):
        return UnreadableFileError(self.path, reason, entry=entry)

    def node(self, name, kind):
        """The group or dataset at ``name`` (None when absent), reached by hard links only."""
        h5py = self.h5py
        current = self.file
        for part in [p for p in name.split("/") if p]:
            if not isinstance(current, h5py.Group):
                return None
            link = current.get(part, getlink=True)
            if link is None:
                return None
            if not isinstance(link, h5py.HardLink):
                raise self.fail(f"{type(link).__name__} links are not allowed", entry=name)
            current = current[part]
        expected = h5py.Group if kind == "group" else h5py.Dataset
        if not isinstance(current, expected):
            raise self.fail(f"expected a {kind}, found a {type(current).__name__}", entry=name)
        return current

    def array(self, name, shape, what):
        """Read the dataset ``name`` after checking it holds an array of ``shape``."""
        dataset = self.node(name, "dataset")
        if dataset is None:
            raise self.fail(f"{what}: the array is missing", entry=name)
        if dataset.is_virtual or dataset.external:
            raise self.fail(f"{what}: virtual or external datasets are not allowed", entry=name)
        if dataset.dtype.kind not in "fiub":
            raise self.fail(f"{what}: non-numeric dtype {dataset.dtype}", entry=name)
        if shape is not None and tuple(dataset.shape) != tuple(shape):
            raise self.fail(f"{what}: the file holds shape {tuple(dataset.shape)}, the model "
                            f"expects {tuple(shape)}", entry=name)
        try:
            return np.asarray(dataset[()])
        except (OSError, ValueError, RuntimeError) as error:
            raise self.fail(f"{what}: cannot read the array ({error})", entry=name) from None

    def names_under(self, parent_path):
        """``{saved layer name: path}`` of the objects directly under ``parent_path`` (cached)."""
        cache = self.__dict__.setdefault("_names", {})
        if parent_path not in cache:
            names = {}
            parent = self.node(parent_path, "group")
            for child in parent if parent is not None else []:
                if not isinstance(parent.get(child, getlink=True), self.h5py.HardLink):
                    continue
                child_path = f"{parent_path}/{child}" if parent_path else child
                group = self.node(f"{child_path}/vars", "group") \
                    if isinstance(parent[child], self.h5py.Group) else None
                if group is not None:
                    names.setdefault(self.group_name(group), child_path)
            cache[parent_path] = names
        return cache[parent_path]

    def group_name(self, group):
        value = group.attrs.get("name")
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

    def json_attr(self, obj, key, entry):
        if key not in obj.attrs:
            return None
        size = obj.attrs.get_id(key).get_storage_size()
        if size > MAX_JSON_BYTES:
            raise self.fail(f"attribute {key!r} is {size:,} bytes (at most {MAX_JSON_BYTES:,})",
                            entry=entry)
        value = obj.attrs[key]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        try:
            return json.loads(str(value))
        except (ValueError, RecursionError) as error:
            raise self.fail(f"attribute {key!r} is not valid JSON ({error})", entry=entry) from None


def open_h5(source, path):
    """``(h5py, file)`` for a path or bytes; UnreadableFileError when it is not HDF5."""
    h5py = require_h5py()
    try:
        file = h5py.File(io.BytesIO(source) if isinstance(source, bytes) else source, "r")
    except (OSError, ValueError) as error:
        raise UnreadableFileError(path, f"not a readable HDF5 file ({error})") from None
    return h5py, file


def _find_group(reader, path, layer_name):
    """The ``vars`` group of a layer: at its Keras path, or a sibling saved under its name."""
    group = reader.node(f"{path}/vars" if path else "vars", "group")
    if group is not None and (layer_name is None or reader.group_name(group) == layer_name):
        return group, path
    parent_path = path.rsplit("/", 1)[0] if "/" in path else ""
    if path and layer_name is not None:
        found = reader.names_under(parent_path).get(layer_name)
        if found is not None:
            return reader.node(f"{found}/vars", "group"), found
    if group is None and "_layer_checkpoint_dependencies" in reader.file and path:
        return _find_group_legacy_names(reader, path), path
    return group, path


def _find_group_legacy_names(reader, path):
    """Keras 2.13's ``.weights.h5`` named the layer list ``_layer_checkpoint_dependencies``."""
    return reader.node(path.replace("layers", "_layer_checkpoint_dependencies", 1) + "/vars",
                       "group")


def read_weights(model, source, path, match_names=True):
    """Read a Keras 3 weights file (path or bytes) into ``model``; all or nothing.

    Args:
        model: a built npgrad model of the same architecture.
        source: the ``.weights.h5`` path or its bytes (the member of a ``.keras`` archive).
        path: the file named in errors.
        match_names: also accept a layer's group found by its saved name among its siblings
            (a file written from the same config), not only at its Keras path.

    Returns:
        The optimizer variables as a list of arrays (``optimizer/vars/0...``), or None.

    Raises:
        UnreadableFileError: a missing group or array, a count or shape mismatch (naming the
            layer), or an unsafe file.
    """
    h5py, file = open_h5(source, path)
    with file:
        reader = _Reader(h5py, file, path)
        updates, used, hooks = [], set(), []
        for group_path, layer, weights in keras_weight_groups(model):
            where = f"layer {layer.name!r} ({type(layer).__name__})"
            if _loads_by_hook(layer):  # Keras 3's hook: the layer reads its store itself
                group, found = _find_group(reader, group_path, layer.name if match_names else None)
                if group is not None:
                    hooks.append((layer, where, _store(reader, group, found)))
                    used.add(found)
                elif weights:
                    raise reader.fail(f"{where}: no variables in the file at {group_path!r}",
                                      entry=group_path or "/")
                continue
            if not weights:
                continue
            group, found = _find_group(reader, group_path, layer.name if match_names else None)
            if group is None:
                raise reader.fail(f"{where}: no weights in the file at {group_path!r} (the "
                                  f"model expects {len(weights)} arrays); the architectures "
                                  f"differ", entry=group_path or "/")
            keys = sorted(group.keys())
            if len(keys) != len(weights) or keys != sorted(str(i) for i in range(len(weights))):
                raise reader.fail(f"{where}: the file holds {len(keys)} arrays, the model "
                                  f"{len(weights)}", entry=f"{found}/vars")
            for index, weight in enumerate(weights):
                value = reader.array(f"{found}/vars/{index}" if found else f"vars/{index}",
                                     weight.shape, f"{where} weight {weight.name!r}")
                updates.append((weight, value))
            used.add(found)
        unused = [p for p in _weighted_groups(reader)
                  if p not in used and p.split("/")[0] not in _TRAINER_STATE]
        if unused:
            raise reader.fail(f"the file holds weights the model has no layer for, at "
                              f"{unused[:5]}; the architectures differ", entry=unused[0] or "/")
        optimizer_values = None
        group = reader.node("optimizer/vars", "group")
        if group is not None:
            count = len(group.keys())
            if count > 100_000:
                raise reader.fail(f"{count} optimizer variables", entry="optimizer/vars")
            optimizer_values = []
            for index in range(count):
                dataset = reader.node(f"optimizer/vars/{index}", "dataset")
                if dataset is None:
                    raise reader.fail("optimizer variables are not numbered 0..n-1",
                                      entry="optimizer/vars")
                optimizer_values.append(reader.array(f"optimizer/vars/{index}",
                                                     tuple(dataset.shape), "optimizer"))
    for weight, value in updates:
        weight.data[...] = value.astype(weight.dtype, copy=False)
    for layer, where, store in hooks:
        try:
            layer.load_own_variables(store)
        except (KeyError, ValueError, TypeError, IndexError) as error:
            raise UnreadableFileError(path, f"{where}: load_own_variables refused the saved "
                                            f"variables ({type(error).__name__}: {error})") from None
    return optimizer_values


def _saves_by_hook(layer):
    return hooks.hooked(layer, "save_own_variables")


def _loads_by_hook(layer):
    return hooks.hooked(layer, "load_own_variables")


def _store(reader, group, found, limit=10_000):
    """``{key: array}`` of every dataset in a layer's ``vars`` group (checked as weights
    are: plain numeric datasets, hard links only), for a ``load_own_variables`` hook."""
    keys = list(group.keys())
    if len(keys) > limit:
        raise reader.fail(f"{len(keys)} variables in one layer", entry=f"{found}/vars")
    prefix = f"{found}/vars" if found else "vars"
    return {key: reader.array(f"{prefix}/{key}", None, f"variable {key!r}") for key in keys}


#: top-level groups of Keras trainer state (metric and loss trackers), not model weights
_TRAINER_STATE = {"_compile_metrics", "_compile_loss", "_loss_tracker", "metrics",
                  "compile_metrics", "compile_loss", "optimizer"}


def _weighted_groups(reader, limit=100_000):
    """Paths of the objects whose ``vars`` group holds arrays (the optimizer's excluded)."""
    h5py, found, stack, seen = reader.h5py, [], [("", reader.file)], 0
    while stack:
        path, group = stack.pop()
        for name in group:
            seen += 1
            if seen > limit:
                raise reader.fail(f"more than {limit:,} HDF5 objects")
            if not isinstance(group.get(name, getlink=True), h5py.HardLink):
                continue
            child = group[name]
            if not isinstance(child, h5py.Group):
                continue
            child_path = f"{path}/{name}" if path else name
            if name == "vars":
                if len(child) and path != "optimizer":
                    found.append(path)
            elif child_path != "optimizer":
                stack.append((child_path, child))
    return found


def restore_optimizer(model, values, path):
    """Put Keras optimizer variables into ``model.optimizer``; warn and skip on a mismatch
    (as Keras does)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or values is None:
        return False
    variables = list(model.trainable_weights)
    keys = keras_optimizer_keys(optimizer, variables)
    reason = None
    if keys is None:
        reason = f"npgrad does not know Keras's layout for {type(optimizer).__name__}"
    elif len(keys) != len(values):
        reason = (f"it has {len(keys)} variables whereas the saved optimizer has "
                  f"{len(values)}")
    else:
        state = dict(zip(keys, values))
        try:
            optimizer.set_state(state, variables)
        except (TypeError, ValueError) as error:
            reason = str(error)
    if reason is not None:
        warnings.warn(f"{path!r}: skipping variable loading for optimizer "
                      f"{getattr(optimizer, 'name', '')!r}, because {reason}", stacklevel=3)
        return False
    return True


# ----------------------------------------------------------------------------- legacy .h5
def is_legacy_h5(source, path):
    """Whether an HDF5 file is in the legacy (Keras 2 / tf.keras) layout."""
    _, file = open_h5(source, path)
    with file:
        return "model_config" in file.attrs or "layer_names" in file.attrs \
            or "model_weights" in file


def legacy_model_config(source, path):
    """``(model_config, training_config)`` of a legacy full-model ``.h5`` (dicts or None)."""
    h5py, file = open_h5(source, path)
    with file:
        reader = _Reader(h5py, file, path)
        config = reader.json_attr(file, "model_config", "model_config")
        if config is None:
            raise reader.fail("an HDF5 file without a model config: it holds only weights; "
                              "build the model and call load_weights")
        return config, reader.json_attr(file, "training_config", "training_config")


def _strings(value):
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            for v in np.asarray(value).ravel()]


def load_legacy_weights(model, source, path):
    """Read the legacy ``model_weights`` (or weights-only root) layout into ``model``.

    Layers are matched by name when every weighted layer of the model is in the file, else
    in order (as Keras 2's ``load_weights``); all or nothing.
    """
    h5py, file = open_h5(source, path)
    with file:
        reader = _Reader(h5py, file, path)
        root_name = "model_weights" if "model_weights" in file else ""
        root = reader.node(root_name, "group") if root_name else file
        if "layer_names" not in root.attrs:
            raise reader.fail("no 'layer_names' attribute: not a Keras weights file",
                              entry=root_name or "/")
        names = _strings(root.attrs["layer_names"])
        saved = []
        for name in names:
            group = reader.node(f"{root_name}/{name}" if root_name else name, "group")
            if group is None:
                raise reader.fail(f"layer {name!r} is listed but missing", entry=name)
            weight_names = _strings(group.attrs.get("weight_names", []))
            if weight_names:
                saved.append((name, group.name, weight_names))
        layers = [layer for layer in model.layers if layer.weights]
        by_name = {name: (group_name, weight_names) for name, group_name, weight_names in saved}
        if all(layer.name in by_name for layer in layers):
            pairs = [(layer, by_name[layer.name]) for layer in layers]
        elif len(saved) == len(layers):
            pairs = [(layer, (g, w)) for layer, (_, g, w) in zip(layers, saved)]
        else:
            raise reader.fail(f"the file holds weights for {len(saved)} layers "
                              f"{[s[0] for s in saved][:10]}, the model has {len(layers)} "
                              f"{[layer.name for layer in layers][:10]}")
        updates = []
        for layer, (group_name, weight_names) in pairs:
            weights = layer.weights
            where = f"layer {layer.name!r} ({type(layer).__name__})"
            if len(weight_names) != len(weights):
                raise reader.fail(f"{where}: the file holds {len(weight_names)} arrays, the "
                                  f"model {len(weights)}", entry=group_name)
            for weight, weight_name in zip(weights, weight_names):
                value = reader.array(f"{group_name}/{weight_name}", weight.shape,
                                     f"{where} weight {weight.name!r}")
                updates.append((weight, value))
    for weight, value in updates:
        weight.data[...] = value.astype(weight.dtype, copy=False)
