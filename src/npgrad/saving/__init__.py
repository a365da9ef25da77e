"""Saving and loading: npgrad's own ``.npgrad`` format, Keras 3 ``.keras`` / ``.weights.h5``
files, legacy Keras 2 ``.h5`` files, and the Keras 3 serialization registry.

The file's extension picks the format: ``.keras`` is a real Keras 3 archive (Keras loads it),
``.weights.h5`` / ``.h5`` Keras's HDF5 weights (h5py needed: ``pip install "npgrad[keras]"``),
anything else (``.npgrad`` by convention) npgrad's own format, which needs nothing beyond
NumPy. ``npgrad_format`` holds the npgrad format, ``keras_archive`` / ``keras_h5`` /
``keras_config`` the Keras files, ``object_registration`` / ``serialization`` the registry,
``atomic`` the atomic writer every saver uses. Files npgrad wrote under a ``.keras`` name
before it wrote real Keras archives still load.

Example:
    >>> npgrad.saving.save_model(model, "ckpt/model.npgrad")
    >>> model = npgrad.saving.load_model("ckpt/model.npgrad")   # compiled, optimizer restored
    >>> model.save("model.keras")                               # Keras 3 reads it
    >>> model = npgrad.saving.load_model("keras_made.keras", custom_objects={"Scale": Scale})
"""

import os
import zipfile

from npgrad.saving import npgrad_format
from npgrad.saving.npgrad_format import FORMAT_VERSION
from npgrad.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from npgrad.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "save_model", "load_model", "save_weights", "load_weights", "FORMAT_VERSION",
    "register_keras_serializable", "custom_object_scope", "CustomObjectScope",
    "get_custom_objects", "get_registered_object", "get_registered_name",
    "serialize_keras_object", "deserialize_keras_object",
]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _name(filepath):
    return os.fspath(filepath).lower()


def _is_keras_name(filepath):
    return _name(filepath).endswith(".keras")


def _is_h5_name(filepath):
    return _name(filepath).endswith((".h5", ".hdf5"))


def _head(path, size=8):
    try:
        with open(path, "rb") as file:
            return file.read(size)
    except OSError:
        return b""


def _is_npgrad_zip(path):
    """An npgrad-format file (an npz with npgrad's marker), whatever its name."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "__npgrad__.npy" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Save architecture, weights, compile config and optimizer state to one file.

    Args:
        model: a model (Sequential or functional for ``.keras``).
        filepath: ``*.keras`` writes a Keras 3 archive; ``*.h5`` is refused (the legacy
            format is read, not written); any other name npgrad's own format.
        overwrite: False raises ``FileExistsError`` when the file exists.
        include_optimizer: also save the optimizer state.
        **kwargs: Keras's ``zipped=True`` is accepted.

    Raises:
        ImportError: ``.keras`` without h5py (``pip install "npgrad[keras]"``).
        ValueError: a legacy ``.h5`` name.
    """
    kwargs.pop("zipped", None)
    if kwargs:
        raise TypeError(f"save_model: unexpected keyword argument(s) {sorted(kwargs)}")
    if _is_keras_name(filepath):
        from npgrad.saving import keras_archive

        return keras_archive.save_keras(model, filepath, overwrite=overwrite,
                                        include_optimizer=include_optimizer)
    if _is_h5_name(filepath):
        raise ValueError(
            f"save_model: {os.fspath(filepath)!r}: npgrad reads legacy Keras .h5 model files "
            f"but does not write them; save as '.keras' (Keras 3) or '.npgrad'"
        )
    return npgrad_format.save_model(model, filepath, overwrite=overwrite,
                                    include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model from npgrad's format, a Keras 3 ``.keras`` or a legacy Keras ``.h5`` file.

    Args:
        filepath: the file.
        custom_objects: ``{name: class or function}`` for custom layers, losses...
            (also consulted through :func:`custom_object_scope` and the registry).
        compile: compile it and restore the optimizer state when the file has them.
        safe_mode: Keras's flag; npgrad never runs code from a file in either mode.

    Returns:
        The model.

    Raises:
        FileNotFoundError: no such file.
        ImportError: a Keras file without h5py installed.
        npgrad.errors.UnreadableFileError: a file that cannot be used (named entry and
            reason); it is a ``ValueError``.
    """
    path = os.fspath(filepath)
    if os.path.isfile(path) and _head(path) == _HDF5_SIGNATURE:
        from npgrad.saving import keras_archive

        return keras_archive.load_legacy_h5(path, custom_objects, compile=compile)
    if _is_keras_name(path) and os.path.isfile(path) and not _is_npgrad_zip(path):
        from npgrad.saving import keras_archive

        return keras_archive.load_keras(path, custom_objects, compile=compile,
                                        safe_mode=safe_mode)
    with CustomObjectScope({**get_custom_objects(), **(custom_objects or {})}):
        return npgrad_format.load_model(path, compile=compile)


def save_weights(model, filepath, overwrite=True):
    """Save only the weights: ``*.h5`` (``*.weights.h5``) in Keras 3's layout, else npgrad's.

    Raises:
        ImportError: an ``.h5`` name without h5py.
    """
    if _is_h5_name(filepath):
        from npgrad.saving import keras_h5
        from npgrad.saving.atomic import atomic_write_bytes

        if not overwrite and os.path.exists(os.fspath(filepath)):
            raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite=False")
        return atomic_write_bytes(filepath, keras_h5.write_weights(model, include_optimizer=False))
    return npgrad_format.save_weights(model, filepath, overwrite=overwrite)


def load_weights(model, filepath):
    """Load weights into a built model from any file :func:`save_weights` or
    :func:`save_model` writes, a Keras 3 ``.weights.h5`` / ``.keras`` or a legacy ``.h5``.

    Raises:
        npgrad.errors.UnreadableFileError: a missing layer or array or a shape mismatch
            (naming the layer), or an unusable file.
    """
    path = os.fspath(filepath)
    if os.path.isfile(path) and _head(path) == _HDF5_SIGNATURE:
        from npgrad.saving import keras_h5

        if keras_h5.is_legacy_h5(path, path):
            return keras_h5.load_legacy_weights(model, path, path)
        keras_h5.read_weights(model, path, path)
        return None
    if _is_keras_name(path) and os.path.isfile(path) and not _is_npgrad_zip(path):
        from npgrad.saving import keras_archive

        return keras_archive.load_keras_weights(model, path)
    return npgrad_format.load_weights(model, path)
