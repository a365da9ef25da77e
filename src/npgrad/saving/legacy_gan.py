"""Read GAN files written by npgrad's first GAN format (``GAN.save`` before the GAN became a
plain Model subclass saved like every model).

That format was an ``.npz`` holding ``__npgrad_gan__`` (marker), ``gan.json`` (latent_dim,
name, loss, label smoothing) and the bytes of each network's own npgrad model file. It is
read here without temporary files or folders and without pickle; saving the loaded GAN
again writes today's format, so ``npgrad.models.load_model(old).save(new)`` converts a file.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from npgrad.errors import UnreadableFileError
from npgrad.layers.layer import get_layer_class
from npgrad.utils.safe_read import SafeZip

_MARKER_ENTRY = "__npgrad_gan__.npy"
_MAGIC = b"NPGRADGAN"
_VERSION = 1
_ENTRIES = ("__npgrad_gan__.npy", "gan.json.npy", "generator.npy", "discriminator.npy")


def is_legacy_gan_file(filepath):
    """Whether ``filepath`` is a zip whose directory names the first GAN format's marker
    (reads the zip directory only)."""
    if hasattr(filepath, "read"):
        return False
    try:
        with zipfile.ZipFile(os.fspath(filepath)) as archive:
            return _MARKER_ENTRY in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def load_legacy_gan(filepath, load_model, compile=True):  # noqa: A002 - Keras' argument name
    """Load a first-format GAN file.

    Args:
        filepath: the file.
        load_model: the loader of the inner network files (``npgrad.saving.load_model``),
            called on in-memory files.
        compile: compile the GAN with the saved loss and smoothing, optimizers restored.

    Raises:
        UnreadableFileError: a missing entry, a bad marker or JSON, a broken network.
    """
    path = os.fspath(filepath)
    with SafeZip(path) as archive:  # directory and .npy headers checked before any data
        missing = sorted(set(_ENTRIES) - set(archive.names))
        if missing:
            raise UnreadableFileError(path, f"not a complete npgrad GAN file: missing {missing}")
        entries = {name[:-4]: archive.read_npy(name, kinds="u") for name in _ENTRIES}
    marker = entries["__npgrad_gan__"]
    if marker.dtype != np.uint8 or marker.ndim != 1 or bytes(marker[:len(_MAGIC)]) != _MAGIC \
            or marker.size != len(_MAGIC) + 1 or marker[-1] > _VERSION:
        raise UnreadableFileError(path, "bad or unsupported GAN format marker", "__npgrad_gan__")
    try:
        meta = json.loads(entries["gan.json"].tobytes().decode("utf-8"))
        latent_dim, name = int(meta["latent_dim"]), meta.get("name")
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise UnreadableFileError(path, f"bad gan.json: {type(error).__name__}: {error}",
                                  "gan.json") from None
    if not 1 <= latent_dim <= 1 << 20:
        raise UnreadableFileError(path, f"latent_dim {latent_dim} out of range", "gan.json")
    networks = {}
    for key in ("generator", "discriminator"):
        data = entries[key]
        if data.dtype != np.uint8 or data.ndim != 1:
            raise UnreadableFileError(path, "expected the bytes of a model file", key)
        try:
            networks[key] = load_model(io.BytesIO(data.tobytes()), compile=compile)
        except ValueError as error:
            raise UnreadableFileError(path, f"cannot load the {key}: {error}", key) from None
    gan = get_layer_class("GAN")(networks["generator"], networks["discriminator"], latent_dim,
                                 name=name)
    config = meta.get("compile")
    if compile and isinstance(config, dict):
        from npgrad import losses

        loss = config.get("loss")
        gan.compile(d_optimizer=networks["discriminator"].optimizer,
                    g_optimizer=networks["generator"].optimizer,
                    loss=losses.deserialize(loss) if loss is not None else None,
                    label_smoothing=float(config.get("label_smoothing", 0.0)))
    return gan
