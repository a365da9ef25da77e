"""Reading the pickled arrays of Keras's dataset files without executing code.

``imdb.npz`` and ``reuters.npz`` hold ragged sequences as object arrays, stored as pickle
streams; the CIFAR archives are pickled dicts of arrays. A plain ``pickle.load`` (or
``np.load(allow_pickle=True)``) could run any code a tampered file names. The unpickler here
resolves only the few globals NumPy arrays need (array reconstruction, ``ndarray``, ``dtype``,
scalars, ``_codecs.encode`` for Python 2 byte strings) and refuses everything else, so a
hostile file raises :class:`~npgrad.datasets.CorruptFileError` instead.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from npgrad.datasets.idx import CorruptFileError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds NumPy arrays, lists, dicts, numbers and strings only."""

    def find_class(self, module, name):
        """Resolve only the allowed NumPy globals.

        Raises:
            pickle.UnpicklingError: for anything else.
        """
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a data file")


def loads(data, source, encoding="ASCII"):
    """Unpickle ``data`` (bytes) with :class:`RestrictedUnpickler`.

    Raises:
        CorruptFileError: a forbidden global or a damaged stream (names ``source``).
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    except Exception as error:  # noqa: BLE001 - every failure means the file is bad
        raise CorruptFileError(f"{source}: cannot read the pickled data safely ({error}). "
                               f"Replace the file.", source) from error


def load_npz(path):
    """The arrays of an ``.npz`` file as a dict; object arrays are read with the restricted
    unpickler, everything else with ``allow_pickle=False``.

    Raises:
        CorruptFileError: not a readable ``.npz`` file.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as file:
                    data = io.BytesIO(file.read())
                version = npy_format.read_magic(data)
                shape, fortran, dtype = _header(data, version)
                if dtype.hasobject:
                    array = loads(data.read(), f"{path}:{member}", encoding="latin1")
                    if not isinstance(array, np.ndarray):
                        raise CorruptFileError(f"{path}:{member}: not an array", path)
                else:
                    data.seek(0)
                    array = npy_format.read_array(data, allow_pickle=False)
                arrays[member[:-4]] = array
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        if isinstance(error, CorruptFileError):
            raise
        raise CorruptFileError(f"{path}: not a readable .npz file ({error}). Replace it.", path) \
            from error
    return arrays


def _header(data, version):
    reader = {(1, 0): npy_format.read_array_header_1_0,
              (2, 0): npy_format.read_array_header_2_0}.get(tuple(version))
    if reader is None:
        raise ValueError(f"unsupported .npy version {version}")
    return reader(data)
