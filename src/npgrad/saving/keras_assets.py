"""Keras 3's asset hooks in ``.keras`` archives: files a layer writes beside its weights.

A layer that overrides ``save_assets(inner_path)`` writes files into a fresh folder; they
go into the archive under ``assets/<the layer's object path>/``, the path its weights have
in ``model.weights.h5``. On loading, a layer that overrides ``load_assets(inner_path)``
gets a fresh folder holding those files. What it reads there is its own business: npgrad
only extracts plain files, and refuses member names that would leave the folder (absolute
paths, ``..``), more than :data:`MAX_ASSET_FILES` files for a layer, or more than
:data:`MAX_ASSET_BYTES` in all.
"""

from __future__ import annotations

import os
import posixpath
import tempfile

from npgrad.errors import UnreadableFileError
from npgrad.saving import hooks, keras_h5

ASSETS_DIR = "assets"
MAX_ASSET_FILES = 10_000
MAX_ASSET_BYTES = 1 << 30


def _prefix(path):
    return f"{ASSETS_DIR}/{path}/" if path else f"{ASSETS_DIR}/"


def write_assets(model, archive):
    """Add the files of every layer's ``save_assets`` override to an open ZipFile."""
    for path, layer, _ in keras_h5.keras_weight_groups(model):
        if not hooks.hooked(layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as folder:
            layer.save_assets(folder)
            for root, _, files in os.walk(folder):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    relative = os.path.relpath(full, folder).replace(os.sep, "/")
                    with open(full, "rb") as file:
                        archive.writestr(_prefix(path) + relative, file.read())


def read_assets(model, archive, path, read_member):
    """Hand every layer with a ``load_assets`` override its files from the archive.

    Args:
        model: the loaded model.
        archive: the open ZipFile.
        path: the file named in errors.
        read_member: ``(archive, path, name, limit) -> bytes``, the archive's checked reader.

    Raises:
        UnreadableFileError: an unsafe member name, too many or too large files, or a
            ``load_assets`` that failed (naming the layer).
    """
    names = [n for n in archive.namelist() if n.startswith(f"{ASSETS_DIR}/") and not n.endswith("/")]
    budget = MAX_ASSET_BYTES
    for group_path, layer, _ in keras_h5.keras_weight_groups(model):
        if not hooks.hooked(layer, "load_assets"):
            continue
        prefix = _prefix(group_path)
        mine = [n for n in names if n.startswith(prefix)]
        if len(mine) > MAX_ASSET_FILES:
            raise UnreadableFileError(path, f"{len(mine)} asset files for layer {layer.name!r}",
                                      entry=prefix)
        with tempfile.TemporaryDirectory() as folder:
            for name in mine:
                relative = name[len(prefix):]
                normal = posixpath.normpath(relative)
                if relative.startswith("/") or normal.startswith("..") or "\\" in relative:
                    raise UnreadableFileError(path, f"asset name {name!r} leaves its folder",
                                              entry=name)
                data = read_member(archive, path, name, budget)
                budget -= len(data)
                target = os.path.join(folder, *normal.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as file:
                    file.write(data)
            try:
                layer.load_assets(folder)
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise UnreadableFileError(path, f"layer {layer.name!r} ({type(layer).__name__}): "
                                                f"load_assets failed ({type(error).__name__}: "
                                                f"{error})", entry=prefix) from None
