"""Save and load models without pickle: one ``.npz`` container, JSON inside, atomic writes.

File layout (a zip written by ``np.savez``, whatever extension the user picks:
``.npgrad``, ``.keras``, ``.npz``...):

==========================  =================================================================
``__npgrad__``              uint8 marker: ``b"NPGRAD"``, then the format version (one byte)
``config.json``             uint8 array of UTF-8 JSON: ``kind`` ("model" or "weights"), the
                            model config (``{"class_name", "config"}``), its compile config,
                            the build input shape, and each weight's name, shape and dtype
``weights/00000`` ...       the weights in ``model.weights`` order (trainable and not: batch
                            norm moving statistics included)
``optimizer/<key>``         ``optimizer.get_state(model.trainable_weights)``: ``iterations``,
                            ``learning_rate``, ``slots/<i>/<name>``...
==========================  =================================================================

Loading uses ``np.load(allow_pickle=False)`` and ``json.loads`` only, and resolves layer
classes through :func:`npgrad.layers.get_layer_class` (registered classes), so a hostile
file can make loading fail with a ``ValueError`` but can never run code. Writes go to a
temporary file in the target's folder, which is flushed, fsynced and then renamed over the
target: a crash mid-save leaves the previous file intact.

Example:
    >>> npgrad.saving.save_model(model, "ckpt/model.npgrad")
    >>> model = npgrad.saving.load_model("ckpt/model.npgrad")   # compiled, optimizer restored
    >>> model.fit(x, y, epochs=1)                               # continues where it stopped
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from npgrad.errors import UnreadableFileError
from npgrad.layers.layer import registered_layer_classes
from npgrad.saving import legacy_gan
from npgrad.saving.atomic import atomic_savez
from npgrad.trainers.trainer import Trainer
from npgrad.utils import safe_read, weight_budget

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "FORMAT_VERSION"]

MAGIC = b"NPGRAD"
FORMAT_VERSION = 1
_MARKER_KEY = "__npgrad__"
_CONFIG_KEY = "config.json"
_WEIGHT_PREFIX = "weights/"
_OPTIMIZER_PREFIX = "optimizer/"


# ----------------------------------------------------------------------------- writing
def _json_array(obj):
    return np.frombuffer(json.dumps(obj, allow_nan=True).encode("utf-8"), dtype=np.uint8)


def _marker():
    return np.frombuffer(MAGIC + bytes([FORMAT_VERSION]), dtype=np.uint8)


def _weight_arrays(model):
    weights = list(model.weights)
    arrays = {f"{_WEIGHT_PREFIX}{i:05d}": np.asarray(w.data) for i, w in enumerate(weights)}
    specs = [{"name": w.name, "shape": list(w.shape), "dtype": np.asarray(w.data).dtype.name}
             for w in weights]
    return arrays, specs


def _build_input_shape(model):
    """The batch input shape the model was built with (batch axis None), or None."""
    for layer in getattr(model, "layers", None) or []:
        shape = getattr(layer, "input_shape_built", None)
        if shape is not None:
            return [None] + [None if n is None else int(n) for n in shape[1:]]
        break
    return None


def _check_can_write(filepath, overwrite):
    if not overwrite and os.path.exists(os.fspath(filepath)):
        raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite=False")


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Save architecture, weights, compile config and optimizer state to one file.

    Args:
        model: a model with ``get_config()`` and ``weights`` (e.g. ``Sequential``).
        filepath: destination (any extension; nothing is appended to it).
        overwrite: False raises ``FileExistsError`` when ``filepath`` exists.
        include_optimizer: also save the optimizer state (slots, iterations), so a
            resumed ``fit`` continues exactly.

    Raises:
        TypeError: for a model that cannot describe itself (no ``get_config``).
        FileExistsError: when ``overwrite`` is False and the file exists.
    """
    if not callable(getattr(model, "get_config", None)):
        raise TypeError(
            f"save_model: expected a model with get_config(), got {type(model).__name__}"
        )
    _check_can_write(filepath, overwrite)
    weight_arrays, specs = _weight_arrays(model)
    meta = {
        "kind": "model",
        "format_version": FORMAT_VERSION,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "build_input_shape": _build_input_shape(model),
        "compile": getattr(model, "compile_config", None),
        "weights": specs,
    }
    arrays = {_MARKER_KEY: _marker()}
    arrays.update(weight_arrays)
    if include_optimizer:
        arrays.update(_optimizer_arrays(model))
    try:
        arrays[_CONFIG_KEY] = _json_array(meta)
    except TypeError as error:
        raise TypeError(
            f"save_model: the config of {type(model).__name__} is not JSON-serializable: {error}"
        ) from None
    atomic_savez(filepath, arrays)


def _trained_optimizers(model):
    """(optimizer, trained model) pairs: a Trainer's, else the model's one optimizer."""
    if isinstance(model, Trainer):
        return model.trained_optimizers()
    optimizer = getattr(model, "optimizer", None)
    return [] if optimizer is None else [(optimizer, model)]


def _optimizer_key(index, key):
    """``optimizer/<key>`` for the first optimizer, ``optimizer/#<i>/<key>`` for the others
    (a GAN trains two networks with two optimizers)."""
    return f"{_OPTIMIZER_PREFIX}{key}" if index == 0 else f"{_OPTIMIZER_PREFIX}#{index}/{key}"


def _optimizer_arrays(model):
    arrays = {}
    for index, (optimizer, trained) in enumerate(_trained_optimizers(model)):
        if hasattr(optimizer, "get_state"):
            state = optimizer.get_state(list(trained.trainable_weights))
            arrays.update({_optimizer_key(index, key): np.asarray(value)
                           for key, value in state.items()})
    return arrays


def save_weights(model, filepath, overwrite=True):
    """Save only the weights (in ``model.weights`` order) to one file.

    Args:
        model: a built model or layer.
        filepath: destination (any extension).
        overwrite: False raises ``FileExistsError`` when ``filepath`` exists.
    """
    _check_can_write(filepath, overwrite)
    weight_arrays, specs = _weight_arrays(model)
    arrays = {_MARKER_KEY: _marker(),
              _CONFIG_KEY: _json_array({"kind": "weights", "format_version": FORMAT_VERSION,
                                        "weights": specs})}
    arrays.update(weight_arrays)
    atomic_savez(filepath, arrays)


# ----------------------------------------------------------------------------- reading
#: Largest ``config.json`` entry read, in bytes.
MAX_CONFIG_BYTES = safe_read.MAX_JSON_BYTES
#: Extra weight values a config may create beyond those the file holds (rounding slack).
WEIGHT_BUDGET_SLACK = 4096
_NUMERIC = "fiub"


class _Container:
    """The validated contents of a file: ``meta`` (dict), ``weights`` and ``optimizer`` state."""

    def __init__(self, path, meta, weights, optimizer_state):
        self.path = path
        self.meta = meta
        self.weights = weights
        self.optimizer_state = optimizer_state


def _fail(path, reason, entry=None):
    return UnreadableFileError(path, f"not a valid npgrad file: {reason}", entry=entry)


def _read_container(filepath):
    """Open ``filepath`` (a path, or a binary file object) safely and check marker, version,
    config and weight entries.

    Everything is checked from the zip directory and the ``.npy`` headers before any weight
    array is allocated; see :mod:`npgrad.utils.safe_read`.
    """
    if hasattr(filepath, "read"):  # an in-memory file (a network inside a legacy GAN file)
        source, path = filepath, "<in-memory file>"
        head = filepath.read(4)
        filepath.seek(0)
    else:
        source = path = os.fspath(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file: {path!r}")
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path!r} is a folder, expected an npgrad file")
        with open(path, "rb") as file:
            head = file.read(4)
    if head == b"\x93NUM":
        raise _fail(path, "it holds a single .npy array, not an npgrad archive")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise _fail(path, f"not an npz (zip) archive; it starts with {head!r}")
    with safe_read.SafeZip(source) as archive:
        return _read_entries(path, archive)


def _entry_names(path, archive):
    """Map array keys to entry names, refusing foreign and unexpected entries by name."""
    keys = {}
    for name in archive.names:
        if not name.endswith(".npy"):
            raise _fail(path, "an entry that is not a .npy array", entry=name)
        keys[name[:-len(".npy")]] = name
    if _MARKER_KEY not in keys:
        raise _fail(path, f"no {_MARKER_KEY!r} marker (a foreign .npz?); "
                          f"entries: {sorted(keys)[:10]}")
    return keys


def _read_entries(path, archive):
    keys = _entry_names(path, archive)
    marker = archive.read_npy(keys.pop(_MARKER_KEY), kinds="u", max_bytes=64)
    if marker.dtype != np.uint8 or marker.ndim != 1 or bytes(marker[:len(MAGIC)]) != MAGIC:
        raise _fail(path, "bad format marker", entry=_MARKER_KEY)
    if marker.size != len(MAGIC) + 1:
        raise _fail(path, "bad format marker length", entry=_MARKER_KEY)
    version = int(marker[len(MAGIC)])
    if version > FORMAT_VERSION:
        raise UnreadableFileError(
            path, f"it was written by a newer npgrad (format version {version}); this npgrad "
                  f"reads versions up to {FORMAT_VERSION}: upgrade npgrad")
    if _CONFIG_KEY not in keys:
        raise _fail(path, f"missing {_CONFIG_KEY!r}")
    raw = archive.read_npy(keys.pop(_CONFIG_KEY), kinds="u", max_bytes=MAX_CONFIG_BYTES)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _fail(path, f"malformed {_CONFIG_KEY!r}", entry=_CONFIG_KEY)
    try:
        meta = safe_read.loads_json(raw.tobytes(), path, _CONFIG_KEY)
    except UnreadableFileError as error:
        raise _fail(path, f"{_CONFIG_KEY} is not valid JSON ({error.reason})",
                    entry=_CONFIG_KEY) from None
    if not isinstance(meta, dict) or meta.get("kind") not in ("model", "weights"):
        raise _fail(path, f"{_CONFIG_KEY} has no valid 'kind'", entry=_CONFIG_KEY)
    specs = meta.get("weights")
    if not isinstance(specs, list):
        raise _fail(path, f"{_CONFIG_KEY} has no weight list", entry=_CONFIG_KEY)
    weight_keys = [f"{_WEIGHT_PREFIX}{index:05d}" for index in range(len(specs))]
    for key in weight_keys:
        if key not in keys:
            raise _fail(path, f"weight entry {key!r} is missing (the file lists {len(specs)})")
    optimizer_keys = [key for key in keys if key.startswith(_OPTIMIZER_PREFIX)]
    unexpected = sorted(set(keys) - set(weight_keys) - set(optimizer_keys))
    if unexpected:
        raise _fail(path, f"unexpected entries {unexpected[:10]}")
    weights = [_read_array(path, archive, keys[key], "weight") for key in weight_keys]
    optimizer_state = {key[len(_OPTIMIZER_PREFIX):]:
                       _read_array(path, archive, keys[key], "optimizer entry")
                       for key in optimizer_keys}
    return _Container(path, meta, weights, optimizer_state)


def _read_array(path, archive, name, what):
    shape, _, dtype, _ = archive.npy_header(name)
    if dtype.kind not in _NUMERIC:
        raise _fail(path, f"{what} {name[:-4]!r} has non-numeric dtype {dtype}", entry=name)
    return archive.read_npy(name, kinds=_NUMERIC)


def _assign_weights(model, container):
    """Copy the file's weights into ``model`` after checking count and shapes."""
    path, values = container.path, container.weights
    specs = container.meta["weights"]
    targets = list(model.weights)
    if len(targets) != len(values):
        raise UnreadableFileError(
            path, f"it holds {len(values)} weights but the model "
                  f"{getattr(model, 'name', '')!r} has {len(targets)}; the architectures "
                  f"differ (or the model is not built yet)")
    for index, (target, value, spec) in enumerate(zip(targets, values, specs)):
        if tuple(target.shape) != value.shape:
            saved_name = spec.get("name") if isinstance(spec, dict) else None
            raise UnreadableFileError(
                path, f"weight {index} ({saved_name!r} in the file) has shape {value.shape}, "
                      f"but the model's weight {target.name!r} has shape "
                      f"{tuple(target.shape)}", entry=f"{_WEIGHT_PREFIX}{index:05d}")
    for target, value in zip(targets, values):
        target.data[...] = value


def _model_classes():
    """Registered model classes by name: every Layer subclass that trains (a Trainer)."""
    return {name: cls for name, cls in registered_layer_classes().items()
            if issubclass(cls, Trainer)}


#: Largest number of values in one sample of a declared input shape (the model is built by
#: running it once on a zero sample of that shape): 2**24.
MAX_SAMPLE_VALUES = 2**24
#: Most layers a config may list, nested models included (building costs time per layer).
MAX_CONFIG_LAYERS = 2000
_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "input_shape", "shape", "target_shape")


def _check_config_limits(path, config):
    """Before building: refuse more than MAX_CONFIG_LAYERS layers, and input shapes whose
    one-sample probe would be absurdly large."""
    layer_count = 0
    pending = [config]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            if key == "layers" and isinstance(item, list):
                layer_count += len(item)
                if layer_count > MAX_CONFIG_LAYERS:
                    raise _fail(path, f"the config lists more than {MAX_CONFIG_LAYERS} layers",
                                entry=_CONFIG_KEY)
            if key in _SHAPE_KEYS and isinstance(item, list):
                per_sample = item[1:] if key.startswith("batch") else item
                sizes = [n for n in per_sample if isinstance(n, int) and not isinstance(n, bool)]
                if any(n < 0 for n in sizes) or math.prod(sizes) > MAX_SAMPLE_VALUES:
                    raise _fail(path, f"declared {key} {item[:8]} is negative or holds more "
                                      f"than {MAX_SAMPLE_VALUES} values per sample",
                                entry=_CONFIG_KEY)
            pending.append(item)


def _rebuild_error(path, what, error):
    if isinstance(error, weight_budget.WeightBudgetExceeded):
        reason = f"the config declares bigger layers than the weights it holds: {error}"
    elif isinstance(error, RecursionError):
        reason = f"cannot {what}: the config is nested too deeply"
    else:
        reason = f"cannot {what}: {type(error).__name__}: {error}"
    return UnreadableFileError(path, reason, entry=_CONFIG_KEY)


def _model_from_config(container):
    """Rebuild the model from the config, creating no more weight values than the file holds."""
    path, meta = container.path, container.meta
    spec = meta.get("model")
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
            or not isinstance(spec.get("config"), dict):
        raise _fail(path, "the model config needs a 'class_name' string and a 'config' dict",
                    entry=_CONFIG_KEY)
    classes = _model_classes()
    cls = classes.get(spec["class_name"])
    if cls is None:
        raise UnreadableFileError(path, f"unknown model class {spec['class_name']!r}; known: "
                                        f"{sorted(classes)}", entry=_CONFIG_KEY)
    shape = meta.get("build_input_shape")
    if shape is not None and not (
            isinstance(shape, list) and len(shape) <= 32
            and all(n is None or (type(n) is int and n >= 0) for n in shape)):
        raise _fail(path, f"bad build_input_shape {shape!r}", entry=_CONFIG_KEY)
    _check_config_limits(path, [spec["config"], {"input_shape": (shape or [None])[1:]}])
    held = sum(int(value.size) for value in container.weights)
    # every weight the config creates is charged before it is allocated (initializers)
    with weight_budget.weight_budget(held + WEIGHT_BUDGET_SLACK,
                                     f"the {held} weight values the file holds"):
        try:
            model = cls.from_config(spec["config"])
        except Exception as error:  # noqa: BLE001 - any failure on untrusted config
            raise _rebuild_error(path, f"rebuild the {spec['class_name']} from its config",
                                 error) from None
        if len(list(model.weights)) != len(container.weights) and shape is not None:
            try:
                model.build(tuple(shape))
            except Exception as error:  # noqa: BLE001
                raise _rebuild_error(path, f"build the model for input shape {shape}",
                                     error) from None
    return model


def _compile_from_config(model, container):
    from npgrad import optimizers

    path = container.path
    config = container.meta.get("compile")
    if not isinstance(config, dict) or not all(isinstance(key, str) for key in config):
        raise _fail(path, f"bad compile config {str(config)[:200]}", entry=_CONFIG_KEY)
    kwargs = dict(config)
    try:
        if kwargs.get("optimizer") is not None:
            kwargs["optimizer"] = optimizers.get(kwargs["optimizer"])
        model.compile(**kwargs)
    except Exception as error:  # noqa: BLE001 - any failure on an untrusted config
        raise _rebuild_error(path, "compile the model from the saved compile config",
                             error) from None
    if not container.optimizer_state:
        return
    for index, (optimizer, trained) in enumerate(_trained_optimizers(model)):
        prefix = "" if index == 0 else f"#{index}/"
        state = {key[len(prefix):]: value for key, value in container.optimizer_state.items()
                 if key.startswith(prefix) and (prefix or not key.startswith("#"))}
        if not state:
            continue
        try:
            optimizer.set_state(state, list(trained.trainable_weights))
        except Exception as error:  # noqa: BLE001
            raise UnreadableFileError(path, f"cannot restore the optimizer state: "
                                            f"{type(error).__name__}: {error}",
                                      entry=_OPTIMIZER_PREFIX) from None


def load_model(filepath, compile=True):
    """Rebuild a model saved by :func:`save_model`.

    Args:
        filepath: the file.
        compile: compile the model with the saved compile config and restore the optimizer
            state (when the model was compiled at save time).

    Returns:
        The model, with its weights (and optimizer state) as saved.

    Raises:
        FileNotFoundError: no such file.
        npgrad.errors.UnreadableFileError: (a ``ValueError``) not an npgrad model file
            (foreign, truncated, corrupt, hostile, over a limit, pickled content, bad config),
            an unknown layer class, or weights that do not fit the architecture. Nothing in
            the file is ever executed.
    """
    if legacy_gan.is_legacy_gan_file(filepath):
        return legacy_gan.load_legacy_gan(filepath, load_model, compile=compile)
    container = _read_container(filepath)
    if container.meta["kind"] != "model":
        raise UnreadableFileError(
            container.path, "it holds only weights (written by save_weights); build the model "
                            "and call load_weights instead")
    model = _model_from_config(container)
    _assign_weights(model, container)
    if compile and container.meta.get("compile") is not None:
        _compile_from_config(model, container)
    return model


def load_weights(model, filepath):
    """Load weights saved by :func:`save_weights` (or :func:`save_model`) into ``model``.

    Args:
        model: a built model with the same architecture (same weight count and shapes).
        filepath: the file.

    Raises:
        npgrad.errors.UnreadableFileError: (a ``ValueError``) not an npgrad file, or a weight
            count or shape mismatch (named).
    """
    container = _read_container(filepath)
    _assign_weights(model, container)
