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
import os

import numpy as np

from npgrad.layers.layer import registered_layer_classes
from npgrad.saving import legacy_gan
from npgrad.saving.atomic import atomic_savez
from npgrad.trainers.trainer import Trainer

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
class _Container:
    """The validated contents of a file: ``meta`` (dict), ``weights`` and ``optimizer`` state."""

    def __init__(self, path, meta, weights, optimizer_state):
        self.path = path
        self.meta = meta
        self.weights = weights
        self.optimizer_state = optimizer_state


class _FileError(ValueError):
    """A ValueError about the file's contents (keeps its message when re-raised)."""


def _fail(path, reason):
    return _FileError(f"{path!r} is not a valid npgrad file: {reason}")


def _read_container(filepath):
    """Open ``filepath`` (a path, or a binary file object) safely and check marker, version,
    config and weight entries."""
    if hasattr(filepath, "read"):  # an in-memory file (a network inside a legacy GAN file)
        path = "<in-memory file>"
        head = filepath.read(4)
        filepath.seek(0)
    else:
        path = os.fspath(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file: {path!r}")
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path!r} is a folder, expected an npgrad file")
        with open(path, "rb") as file:
            head = file.read(4)
    if head == b"\x93NUM":
        raise _fail(path, "it holds a single .npy array, not an npgrad archive")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        # checked here so np.load never even considers its pickle fallback
        raise _fail(path, f"not an npz (zip) archive; it starts with {head!r}")
    try:
        # allow_pickle=False: an object (pickled) array raises instead of unpickling
        with np.load(filepath if path == "<in-memory file>" else path,
                     allow_pickle=False) as archive:
            names = list(archive.files)
            arrays = {name: archive[name] for name in names} if _MARKER_KEY in names else None
    except _FileError:
        raise
    except Exception as error:  # noqa: BLE001 - any parse failure of untrusted bytes
        raise _fail(path, f"{type(error).__name__}: {error}") from None
    if arrays is None:
        raise _fail(path, f"no {_MARKER_KEY!r} marker (a foreign .npz?); "
                          f"entries: {sorted(names)[:10]}")
    return _validate(path, arrays)


def _validate(path, arrays):
    marker = arrays.pop(_MARKER_KEY)
    if marker.dtype != np.uint8 or marker.ndim != 1 or bytes(marker[:len(MAGIC)]) != MAGIC:
        raise _fail(path, "bad format marker")
    if marker.size != len(MAGIC) + 1:
        raise _fail(path, "bad format marker length")
    version = int(marker[len(MAGIC)])
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written by a newer npgrad (format version {version}); this npgrad "
            f"reads versions up to {FORMAT_VERSION}: upgrade npgrad"
        )
    raw = arrays.pop(_CONFIG_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise _fail(path, f"missing or malformed {_CONFIG_KEY!r}")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _fail(path, f"{_CONFIG_KEY} is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("kind") not in ("model", "weights"):
        raise _fail(path, f"{_CONFIG_KEY} has no valid 'kind'")
    specs = meta.get("weights")
    if not isinstance(specs, list):
        raise _fail(path, f"{_CONFIG_KEY} has no weight list")
    weights = []
    for index, spec in enumerate(specs):
        key = f"{_WEIGHT_PREFIX}{index:05d}"
        if key not in arrays:
            raise _fail(path, f"weight entry {key!r} is missing (the file lists {len(specs)})")
        value = arrays.pop(key)
        if value.dtype.kind not in "fiub":
            raise _fail(path, f"weight {key!r} has non-numeric dtype {value.dtype}")
        weights.append(value)
    optimizer_state = {}
    for name in list(arrays):
        if name.startswith(_OPTIMIZER_PREFIX):
            value = arrays.pop(name)
            if value.dtype.kind not in "fiub":
                raise _fail(path, f"optimizer entry {name!r} has non-numeric dtype {value.dtype}")
            optimizer_state[name[len(_OPTIMIZER_PREFIX):]] = value
    if arrays:
        raise _fail(path, f"unexpected entries {sorted(arrays)[:10]}")
    return _Container(path, meta, weights, optimizer_state)


def _assign_weights(model, container):
    """Copy the file's weights into ``model`` after checking count and shapes."""
    path, values = container.path, container.weights
    specs = container.meta["weights"]
    targets = list(model.weights)
    if len(targets) != len(values):
        raise ValueError(
            f"{path!r} holds {len(values)} weights but the model {getattr(model, 'name', '')!r} "
            f"has {len(targets)}; the architectures differ (or the model is not built yet)"
        )
    for index, (target, value, spec) in enumerate(zip(targets, values, specs)):
        if tuple(target.shape) != value.shape:
            saved_name = spec.get("name") if isinstance(spec, dict) else None
            raise ValueError(
                f"{path!r}: weight {index} ({saved_name!r} in the file) has shape {value.shape}, "
                f"but the model's weight {target.name!r} has shape {tuple(target.shape)}"
            )
    for target, value in zip(targets, values):
        target.data[...] = value


def _model_classes():
    """Registered model classes by name: every Layer subclass that trains (a Trainer)."""
    return {name: cls for name, cls in registered_layer_classes().items()
            if issubclass(cls, Trainer)}


def _model_from_config(container):
    path, meta = container.path, container.meta
    spec = meta.get("model")
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
            or not isinstance(spec.get("config"), dict):
        raise _fail(path, "the model config needs a 'class_name' string and a 'config' dict")
    classes = _model_classes()
    cls = classes.get(spec["class_name"])
    if cls is None:
        raise ValueError(
            f"{path!r}: unknown model class {spec['class_name']!r}; known: {sorted(classes)}"
        )
    try:
        model = cls.from_config(spec["config"])
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise ValueError(f"{path!r}: cannot rebuild the {spec['class_name']} from its config: "
                         f"{type(error).__name__}: {error}") from None
    shape = meta.get("build_input_shape")
    if len(list(model.weights)) != len(container.weights) and shape is not None:
        if not (isinstance(shape, list)
                and all(n is None or (isinstance(n, int) and n >= 0) for n in shape)):
            raise _fail(path, f"bad build_input_shape {shape!r}")
        try:
            model.build(tuple(shape))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path!r}: cannot build the model for input shape {shape}: "
                             f"{error}") from None
    return model


def _compile_from_config(model, container):
    from npgrad import optimizers

    config = container.meta.get("compile")
    if not isinstance(config, dict):
        raise _fail(container.path, f"bad compile config {config!r}")
    kwargs = dict(config)
    try:
        if kwargs.get("optimizer") is not None:
            kwargs["optimizer"] = optimizers.get(kwargs["optimizer"])
        model.compile(**kwargs)
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"{container.path!r}: cannot compile the model from the saved compile "
                         f"config: {type(error).__name__}: {error}") from None
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
        except (TypeError, ValueError) as error:
            raise ValueError(f"{container.path!r}: cannot restore the optimizer state: "
                             f"{error}") from None


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
        ValueError: not an npgrad model file (foreign, truncated, pickled content, bad
            config), an unknown layer class, or weights that do not fit the architecture.
    """
    if legacy_gan.is_legacy_gan_file(filepath):
        return legacy_gan.load_legacy_gan(filepath, load_model, compile=compile)
    container = _read_container(filepath)
    if container.meta["kind"] != "model":
        raise ValueError(
            f"{container.path!r} holds only weights (written by save_weights); build the model "
            f"and call load_weights instead"
        )
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
        ValueError: not an npgrad file, or a weight count or shape mismatch (named).
    """
    container = _read_container(filepath)
    _assign_weights(model, container)
