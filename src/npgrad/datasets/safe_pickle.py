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

import numpy as np
from numpy.lib import format as npy_format

from npgrad.datasets.idx import CorruptFileError
from npgrad.errors import UnreadableFileError
from npgrad.utils import safe_read

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
    """The arrays of an ``.npz`` file as a dict.

    The archive is opened with :class:`npgrad.utils.safe_read.SafeZip` (checked directory,
    bounded reads); numeric arrays are read by it, object arrays (ragged sequences) are read
    as bounded bytes and rebuilt with the restricted unpickler.

    Raises:
        CorruptFileError: not a readable ``.npz`` file, or a forbidden pickle global.
    """
    arrays = {}
    try:
        with safe_read.SafeZip(path) as archive:
            for member in archive.names:
                if not member.endswith(".npy"):
                    continue
                data = io.BytesIO(archive.read_bytes(member, safe_read.MAX_ARRAY_BYTES))
                _, _, dtype = _header(data, npy_format.read_magic(data))
                if dtype.hasobject:
                    array = loads(data.read(), f"{path}:{member}", encoding="latin1")
                    if not isinstance(array, np.ndarray):
                        raise CorruptFileError(f"{path}:{member}: not an array", path, member)
                else:
                    array = archive.read_npy(member, kinds="biufU")
                arrays[member[:-4]] = array
    except UnreadableFileError as error:
        if isinstance(error, CorruptFileError):
            raise
        raise CorruptFileError(f"{path}: {error.reason}. Replace the file.", path,
                               error.entry) from error
    except (ValueError, OSError, EOFError) as error:
        raise CorruptFileError(f"{path}: not a readable .npz file ({error}). Replace it.", path) \
            from error
    return arrays


def _header(data, version):
    reader = {(1, 0): npy_format.read_array_header_1_0,
              (2, 0): npy_format.read_array_header_2_0}.get(tuple(version))
    if reader is None:
        raise ValueError(f"unsupported .npy version {version}")
    return reader(data)
