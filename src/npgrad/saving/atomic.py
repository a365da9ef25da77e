"""Atomic file writes: a temp file in the target's folder, flushed, fsynced, renamed over it.

A crash mid-save leaves the previous file intact. Every saver in npgrad writes through here.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_savez(filepath, arrays):
    """Write ``arrays`` with ``np.savez`` to ``filepath`` atomically (temp file + rename).

    On any exception the temp file is removed and an existing ``filepath`` is untouched.
    """
    path = os.path.abspath(os.fspath(filepath))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {filepath!r}: folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {filepath!r}: it is a folder")
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666 & ~_current_umask()
    fd, temp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                     dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            # a file object, not a name: np.savez would append ".npz" to a name
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def atomic_write_bytes(filepath, data):
    """Write the bytes ``data`` to ``filepath`` atomically (temp file + rename), as
    :func:`atomic_savez` does for arrays (used for Keras ``.keras`` and ``.weights.h5`` files)."""
    path = os.path.abspath(os.fspath(filepath))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {filepath!r}: folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {filepath!r}: it is a folder")
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666 & ~_current_umask()
    fd, temp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                     dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)
