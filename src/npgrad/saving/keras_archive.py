"""Keras 3 ``.keras`` archives: a zip of ``config.json``, ``metadata.json`` and
``model.weights.h5``; and legacy Keras 2 / tf.keras ``.h5`` full-model files.

Reading is bounded and executes nothing: member sizes come from the zip directory and are
checked before a byte is read (``config.json`` at most 64 MiB, the weights at most what the
model's config needs plus slack), the config is JSON resolved against npgrad's classes,
registered classes and ``custom_objects`` only (:mod:`npgrad.saving.keras_config`), and the
weights are checked dataset by dataset (:mod:`npgrad.saving.keras_h5`). Every problem with
the file raises :class:`npgrad.errors.UnreadableFileError` naming the member and the layer.

Example:
    >>> model.save("model.keras")                         # Keras 3 loads it
    >>> model = npgrad.models.load_model("model.keras")   # also files Keras wrote
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile

from npgrad.errors import UnreadableFileError
from npgrad.saving import hooks, keras_assets, keras_config, keras_export, keras_h5, serialization
from npgrad.saving.atomic import atomic_write_bytes

__all__ = ["load_keras", "load_keras_weights", "load_legacy_h5", "save_keras"]

CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
WEIGHTS_NAME = "model.weights.h5"
#: the Keras version whose file format this module writes
KERAS_FORMAT_VERSION = "3.15.1"
MAX_CONFIG_BYTES = 64 << 20
MAX_METADATA_BYTES = 1 << 20
MAX_MEMBERS = 10_000
#: slack on top of the model's own weight bytes when bounding the weights member: optimizer
#: variables (up to three per weight) and HDF5's own structures
_WEIGHTS_FACTOR = 5
_WEIGHTS_SLACK = 16 << 20


# ----------------------------------------------------------------------------- writing
def save_keras(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` as a Keras 3 ``.keras`` archive (atomic).

    Args:
        model: a Sequential or functional npgrad model (built).
        filepath: the destination, ending in ``.keras``.
        overwrite: False raises FileExistsError when the file exists.
        include_optimizer: also write the optimizer's variables (in Keras's order).

    Raises:
        ImportError: h5py is missing (``pip install "npgrad[keras]"``).
        TypeError: a model whose config is not JSON-serializable.
    """
    keras_h5.require_h5py()
    if not overwrite and os.path.exists(os.fspath(filepath)):
        raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite=False")
    spec = keras_export.keras_model_spec(model, include_compile=True)
    if hooks.hooked(model, "get_compile_config"):  # the model's own (Keras 3 hook)
        own = model.get_compile_config()
        spec.pop("compile_config", None)
        if own is not None:
            spec["compile_config"] = serialization.serialize_keras_object(own)
    try:
        config_json = json.dumps(spec)
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_model: the config of {model.name!r} is not JSON-serializable: "
                        f"{error}") from None
    from npgrad.version import __version__

    metadata = {"keras_version": KERAS_FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "written_by": f"npgrad {__version__}"}
    weights = keras_h5.write_weights(model, include_optimizer=include_optimizer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # stored, as Keras writes it
        archive.writestr(METADATA_NAME, json.dumps(metadata))
        archive.writestr(CONFIG_NAME, config_json)
        archive.writestr(WEIGHTS_NAME, weights)
        keras_assets.write_assets(model, archive)  # layers' save_assets hooks (Keras 3)
    atomic_write_bytes(filepath, buffer.getvalue())


# ----------------------------------------------------------------------------- reading
def _check_file(filepath):
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a folder, expected a .keras file")
    return path


def _open_archive(path):
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise UnreadableFileError(path, f"not a .keras (zip) archive: {error}") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        archive.close()
        raise UnreadableFileError(path, f"{len(infos)} members (at most {MAX_MEMBERS})")
    return archive


def _read_member(archive, path, name, limit):
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise UnreadableFileError(path, f"the archive has no {name!r}; members: "
                                        f"{sorted(archive.namelist())[:10]}",
                                  entry=name) from None
    if info.file_size > limit:
        raise UnreadableFileError(path, f"{name!r} declares {info.file_size:,} bytes, more "
                                        f"than the {limit:,} allowed", entry=name)
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise UnreadableFileError(path, f"cannot read {name!r}: {error}", entry=name) from None
    if len(data) != info.file_size:
        raise UnreadableFileError(path, f"{name!r} is truncated ({len(data):,} of "
                                        f"{info.file_size:,} bytes)", entry=name)
    return data


def _read_json(data, path, name):
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UnreadableFileError(path, f"{name} is not valid JSON ({error})",
                                  entry=name) from None
    if not isinstance(value, dict):
        raise UnreadableFileError(path, f"{name} must hold a JSON object, got "
                                        f"{type(value).__name__}", entry=name)
    return value


def _model_from_spec(spec, path, custom_objects, compile, budget_bytes, entry):
    try:
        return keras_config.model_from_keras_spec(spec, custom_objects, compile=compile,
                                                  budget_bytes=budget_bytes)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as error:
        if isinstance(error, UnreadableFileError):
            raise
        raise UnreadableFileError(path, str(error), entry=entry) from None


def _weight_bytes(model):
    return sum(w.data.nbytes for w in model.weights)


def load_keras(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a Keras 3 ``.keras`` archive as an npgrad model.

    Args:
        filepath: the ``.keras`` file (written by Keras 3 or by npgrad).
        custom_objects: ``{name: class or function}`` for custom layers, losses...
        compile: compile with the saved compile config and restore the optimizer variables.
        safe_mode: accepted for Keras compatibility; npgrad never runs code from a file in
            either mode (a ``Lambda`` layer is always an error).

    Returns:
        The model.

    Raises:
        FileNotFoundError: no such file.
        ImportError: h5py is missing.
        UnreadableFileError: a truncated or hostile archive, an unknown class, an
            unsupported setting, a missing array or a shape mismatch (named).
    """
    del safe_mode  # nothing from the file is ever executed
    path = _check_file(filepath)
    keras_h5.require_h5py()
    with _open_archive(path) as archive:
        spec = _read_json(_read_member(archive, path, CONFIG_NAME, MAX_CONFIG_BYTES), path,
                          CONFIG_NAME)
        if WEIGHTS_NAME not in archive.namelist():
            raise UnreadableFileError(path, f"the archive has no {WEIGHTS_NAME!r} (npz weights "
                                            f"are not supported)", entry=WEIGHTS_NAME)
        declared = archive.getinfo(WEIGHTS_NAME).file_size
        budget = max(keras_config.PARAMETER_BUDGET_BYTES, 16 * declared)
        model = _model_from_spec(spec, path, custom_objects, compile, budget, CONFIG_NAME)
        limit = _WEIGHTS_FACTOR * _weight_bytes(model) + _WEIGHTS_SLACK
        weights = _read_member(archive, path, WEIGHTS_NAME, limit)
        optimizer_values = keras_h5.read_weights(model, weights, path)
        keras_assets.read_assets(model, archive, path, _read_member)  # load_assets hooks
    if compile:
        keras_h5.restore_optimizer(model, optimizer_values, path)
    return model


def load_keras_weights(model, filepath):
    """Load the weights of a ``.keras`` archive into an npgrad model of the same architecture."""
    path = _check_file(filepath)
    keras_h5.require_h5py()
    with _open_archive(path) as archive:
        limit = _WEIGHTS_FACTOR * _weight_bytes(model) + _WEIGHTS_SLACK
        weights = _read_member(archive, path, WEIGHTS_NAME, limit)
    keras_h5.read_weights(model, weights, path)


def load_legacy_h5(filepath, custom_objects=None, compile=True):
    """Load a legacy Keras 2 / tf.keras (or Keras 3 ``model.save("x.h5")``) full-model file.

    The optimizer state of legacy files is not restored (the model is compiled afresh).

    Raises:
        UnreadableFileError: a weights-only file, a bad config or mismatching weights.
    """
    path = _check_file(filepath)
    config, training = keras_h5.legacy_model_config(path, path)
    budget = max(keras_config.PARAMETER_BUDGET_BYTES, 16 * os.path.getsize(path))
    model = _model_from_spec(config, path, custom_objects, False, budget, "model_config")
    keras_h5.load_legacy_weights(model, path, path)
    if compile and isinstance(training, dict):
        compile_config = {key: training.get(key) for key in
                          ("loss", "metrics", "weighted_metrics", "loss_weights")}
        compile_config["optimizer"] = training.get("optimizer_config")
        keras_config.compile_from_keras_config(model, compile_config, custom_objects)
    return model
