"""Reading untrusted files without trusting them: zip archives, ``.npy`` entries and JSON.

Every npgrad loader (``.npgrad`` models and weights, Keras-style ``mnist.npz``, Keras files)
reads through here, so one set of checks and limits applies to all of them and every
failure is an :class:`npgrad.errors.UnreadableFileError`. The rule is *validate before
allocating*:

- the zip directory is read first (:class:`SafeZip`): entry count, names (no absolute paths,
  ``..``, backslashes or control characters, no duplicates), compression method, encryption,
  and each entry's sizes against the file size and :data:`MAX_COMPRESSION_RATIO`;
- an ``.npy`` entry's header is read and checked (dtype kind, no objects, shape product in
  Python integers against the entry's size and :data:`MAX_ARRAY_BYTES`) before its data
  array is allocated; the data is then read in chunks of :data:`CHUNK_BYTES`;
- JSON is parsed with a size limit and a nesting-depth limit (:func:`loads_json`).

Nothing read here is ever unpickled, imported or executed. The limits are module constants,
so an application that really needs bigger files can raise them.

Example:
    >>> with SafeZip("model.npgrad") as archive:
    ...     config = archive.read_npy("config.json.npy", kinds="u")
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib

import numpy as np

from npgrad.errors import UnreadableFileError

__all__ = [
    "CHUNK_BYTES", "MAX_ARRAY_BYTES", "MAX_COMPRESSION_RATIO", "MAX_ENTRIES", "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH", "MAX_NAME_LENGTH", "RATIO_FREE_BYTES", "SafeZip", "check_entry_name",
    "json_depth", "loads_json", "ratio_limit",
]

#: Most entries a zip archive may list (np.savez writes one per array).
MAX_ENTRIES = 100_000
#: Longest entry name, in characters.
MAX_NAME_LENGTH = 1024
#: Largest single array (or entry) read, in bytes: 16 GiB.
MAX_ARRAY_BYTES = 16 * 2**30
#: Largest uncompressed/compressed size ratio of a compressed entry (or gzip stream) beyond
#: :data:`RATIO_FREE_BYTES`. Real weights and images compress 1-10x, bombs about 1000x.
MAX_COMPRESSION_RATIO = 50
#: Entries up to this size may compress by any ratio (a small all-zero bias compresses 1000x).
RATIO_FREE_BYTES = 2**20
#: Largest JSON document parsed (a config), in bytes: 64 MiB.
MAX_JSON_BYTES = 64 * 2**20
#: Deepest nesting of JSON lists and objects accepted.
MAX_JSON_DEPTH = 100
#: Size of the chunks data is read and decompressed in.
CHUNK_BYTES = 2**20

_SUPPORTED_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def check_entry_name(name, path=None):
    """Refuse archive member names that could point outside the archive or confuse a reader.

    Args:
        name: the member name as listed in the archive directory.
        path: the archive, for the error message.

    Raises:
        UnreadableFileError: for an absolute name, a ``..`` or empty component, a backslash,
            a control character, or a name over :data:`MAX_NAME_LENGTH` characters.
    """
    problem = None
    if not isinstance(name, str) or not name:
        problem = "an empty entry name"
    elif len(name) > MAX_NAME_LENGTH:
        problem = f"an entry name of {len(name)} characters (at most {MAX_NAME_LENGTH})"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "a control character in an entry name"
    elif "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        problem = "an absolute or Windows-style entry name"
    elif any(part in ("", ".", "..") for part in name.rstrip("/").split("/")):
        problem = "a '.', '..' or empty path component in an entry name"
    if problem is not None:
        shown = name[:80] if isinstance(name, str) else name
        raise UnreadableFileError(path, f"{problem} (path traversal or a damaged archive?)",
                                  entry=shown)


def ratio_limit(compressed_bytes):
    """The most bytes ``compressed_bytes`` of compressed data may expand to (see the limits)."""
    return max(RATIO_FREE_BYTES, MAX_COMPRESSION_RATIO * int(compressed_bytes))


class SafeZip:
    """A zip archive opened for reading untrusted content (a context manager).

    Opening it reads and checks the whole directory; no entry data is read until asked for.

    Args:
        path: the archive file, or an open binary file object (an archive in memory).

    Attributes:
        path: the path as a string.
        names: entry names in directory order.

    Raises:
        UnreadableFileError: not a zip archive, a damaged or hostile directory (see the module
            docstring for every check).
        FileNotFoundError, IsADirectoryError, PermissionError: the file cannot be opened.
    """

    def __init__(self, path):
        if hasattr(path, "read"):  # a file object: its size from seeking to the end
            self.path, self._file = "<in-memory file>", path
            self._file_size = path.seek(0, os.SEEK_END)
            path.seek(0)
        else:
            self.path = os.fspath(path)
            self._file = open(self.path, "rb")
            self._file_size = None
        try:
            if self._file_size is None:
                self._file_size = os.fstat(self._file.fileno()).st_size
            try:
                self._zip = zipfile.ZipFile(self._file)
                infos = self._zip.infolist()
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
                    OverflowError, NotImplementedError, UnicodeDecodeError, MemoryError,
                    OSError) as error:
                raise UnreadableFileError(
                    self.path, f"not a readable zip archive ({type(error).__name__}: {error})"
                ) from None
            self._infos = {}
            self._check_directory(infos)
        except BaseException:
            self._file.close()
            raise
        self.names = list(self._infos)

    def _check_directory(self, infos):
        if len(infos) > MAX_ENTRIES:
            raise UnreadableFileError(self.path, f"{len(infos)} entries (at most {MAX_ENTRIES})")
        for info in infos:
            name = info.filename
            check_entry_name(name, self.path)
            if name in self._infos:
                raise UnreadableFileError(self.path, "the entry is listed twice", entry=name)
            if info.flag_bits & 0x1:
                raise UnreadableFileError(self.path, "the entry is encrypted", entry=name)
            if info.compress_type not in _SUPPORTED_COMPRESSION:
                raise UnreadableFileError(
                    self.path, f"unsupported compression method {info.compress_type} (only "
                               f"stored and deflate are read)", entry=name)
            if info.header_offset + info.compress_size > self._file_size:
                raise UnreadableFileError(
                    self.path, f"the entry claims {info.compress_size} bytes at offset "
                               f"{info.header_offset}, past the end of the {self._file_size}-byte "
                               f"file (truncated?)", entry=name)
            if info.file_size > MAX_ARRAY_BYTES:
                raise UnreadableFileError(
                    self.path, f"the entry declares {info.file_size} bytes, over the "
                               f"{MAX_ARRAY_BYTES}-byte limit", entry=name)
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise UnreadableFileError(
                    self.path, f"a stored entry declares {info.file_size} bytes but occupies "
                               f"{info.compress_size}", entry=name)
            if info.file_size > ratio_limit(info.compress_size):
                raise UnreadableFileError(
                    self.path, f"{info.compress_size} compressed bytes declared to expand to "
                               f"{info.file_size} (over {MAX_COMPRESSION_RATIO}:1): a "
                               f"decompression bomb?", entry=name)
            self._infos[name] = info
        self._check_no_overlap(infos)

    def _check_no_overlap(self, infos):
        """Entries may not share bytes (an overlapping-entries bomb) nor, all together,
        expand past the ratio limit of the whole file."""
        end = 0
        for info in sorted(infos, key=lambda i: i.header_offset):
            if info.header_offset < end:
                raise UnreadableFileError(self.path, "entries overlap (a zip bomb?)",
                                          entry=info.filename)
            end = info.header_offset + info.compress_size
        total = sum(info.file_size for info in infos)
        if total > ratio_limit(self._file_size):
            raise UnreadableFileError(
                self.path, f"the entries declare {total} bytes in all, over "
                           f"{MAX_COMPRESSION_RATIO} times the {self._file_size}-byte file "
                           f"(a decompression bomb?)")

    # ------------------------------------------------------------------ context manager
    def close(self):
        """Close the archive and its file."""
        self._zip.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------------ entries
    def info(self, name):
        """The checked :class:`zipfile.ZipInfo` of entry ``name`` (KeyError if absent)."""
        return self._infos[name]

    def _fail(self, name, reason):
        return UnreadableFileError(self.path, reason, entry=name)

    def _open(self, name):
        try:
            return self._zip.open(self._infos[name])
        except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError,
                zlib.error, RuntimeError) as error:
            raise self._fail(name, f"cannot open the entry ({type(error).__name__}: "
                                   f"{error})") from None

    def read_bytes(self, name, max_bytes):
        """The whole content of entry ``name``, refusing one declared over ``max_bytes``.

        Raises:
            UnreadableFileError: too large, damaged (CRC, deflate), or shorter than declared.
        """
        info = self._infos[name]
        if info.file_size > max_bytes:
            raise self._fail(name, f"{info.file_size} bytes, over the {max_bytes}-byte limit")
        with self._open(name) as stream:
            data = self._read_exact(name, stream, info.file_size)
        return data

    def _read_exact(self, name, stream, size, into=None):
        """Read exactly ``size`` bytes (into the writable byte view ``into`` if given)."""
        buffer = bytearray(size) if into is None else into
        view = memoryview(buffer)
        done = 0
        try:
            while done < size:
                chunk = stream.read(min(CHUNK_BYTES, size - done))
                if not chunk:
                    break
                view[done:done + len(chunk)] = chunk
                done += len(chunk)
            extra = stream.read(1) if done == size else b""
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            raise self._fail(name, f"damaged data ({type(error).__name__}: {error})") from None
        if done < size:
            raise self._fail(name, f"the data ends after {done} of {size} bytes (truncated?)")
        if extra:
            raise self._fail(name, f"more data than the {size} bytes declared")
        return buffer

    def npy_header(self, name):
        """``(shape, fortran_order, dtype, header_bytes)`` of the ``.npy`` entry ``name``.

        Reads only the header (at most a few KB) and checks it: a known format version, a
        dtype without Python objects, and a data size (shape product, in Python integers)
        that equals what the entry holds.
        """
        with self._open(name) as stream:
            return self._read_npy_header(name, stream)

    def _read_npy_header(self, name, stream):
        fmt = np.lib.format
        try:
            version = fmt.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except (ValueError, TypeError, SyntaxError, OverflowError, EOFError, MemoryError,
                RecursionError, zipfile.BadZipFile, zlib.error, OSError, AttributeError,
                KeyError, IndexError) as error:
            raise self._fail(name, f"not a valid .npy array ({type(error).__name__}: "
                                   f"{error})") from None
        if dtype.hasobject or dtype.kind in "OV" or dtype.itemsize == 0:
            raise self._fail(name, f"dtype {dtype} is not a plain numeric or text type "
                                   f"(object arrays are never unpickled)")
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise self._fail(name, f"bad shape {shape!r} in the .npy header")
        header_bytes = stream.tell()
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
        declared = self._infos[name].file_size
        if header_bytes + nbytes != declared:
            raise self._fail(name, f"the .npy header declares shape {shape} of {dtype} "
                                   f"({nbytes} bytes) but the entry holds "
                                   f"{declared - header_bytes} data bytes")
        return shape, fortran, dtype, header_bytes

    def read_npy(self, name, *, kinds="biuf", max_bytes=MAX_ARRAY_BYTES, shape=None):
        """Read the ``.npy`` entry ``name`` as an array, after checking its header.

        Args:
            name: the entry (with its ``.npy`` suffix).
            kinds: the dtype kinds accepted (NumPy ``dtype.kind`` letters; default numeric).
            max_bytes: the largest data size accepted.
            shape: if given, the shape the array must have (checked before reading data).

        Returns:
            A new writable array in the dtype and shape the header declares.

        Raises:
            UnreadableFileError: a bad header, another dtype kind or shape, too large,
                damaged or truncated data.
        """
        with self._open(name) as stream:
            array_shape, fortran, dtype, _ = self._read_npy_header(name, stream)
            if dtype.kind not in kinds:
                raise self._fail(name, f"dtype {dtype} is not of the expected kind ({kinds})")
            if shape is not None and tuple(shape) != tuple(array_shape):
                raise self._fail(name, f"shape {tuple(array_shape)}, expected {tuple(shape)}")
            nbytes = math.prod(array_shape) * dtype.itemsize
            if nbytes > max_bytes:
                raise self._fail(name, f"{nbytes} bytes of data, over the {max_bytes}-byte "
                                       f"limit for this entry")
            try:
                array = np.empty(array_shape, dtype=dtype, order="F" if fortran else "C")
            except (MemoryError, ValueError) as error:
                raise self._fail(name, f"cannot allocate {nbytes} bytes "
                                       f"({type(error).__name__})") from None
            # The file stores the data in the array's memory order; view it as bytes.
            memory = (array.T if fortran else array).reshape(-1).view(np.uint8)
            self._read_exact(name, stream, nbytes, into=memory)
        return array


def json_depth(obj):
    """Nesting depth of lists and dicts in ``obj`` (0 for a scalar), computed without recursion."""
    deepest = 0
    pending = [(obj, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children
                       if isinstance(child, (dict, list)))
    return deepest


def loads_json(data, path=None, entry=None, *, max_bytes=MAX_JSON_BYTES,
               max_depth=MAX_JSON_DEPTH):
    """Parse UTF-8 JSON from untrusted bytes, with a size and a nesting-depth limit.

    Args:
        data: the bytes (or str).
        path, entry: where they came from, for the error message.
        max_bytes: the largest document accepted.
        max_depth: the deepest nesting of lists and objects accepted.

    Returns:
        The parsed value.

    Raises:
        UnreadableFileError: too large, not UTF-8, not JSON, or nested too deeply.
    """
    if len(data) > max_bytes:
        raise UnreadableFileError(path, f"{len(data)} bytes of JSON, over the {max_bytes}-byte "
                                        f"limit", entry=entry)
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray, memoryview)) \
            else str(data)
        value = json.loads(text)
    except RecursionError:
        raise UnreadableFileError(path, f"JSON nested deeper than {max_depth} levels",
                                  entry=entry) from None
    except (UnicodeDecodeError, ValueError, TypeError, MemoryError) as error:
        raise UnreadableFileError(path, f"not valid UTF-8 JSON ({type(error).__name__}: "
                                        f"{error})", entry=entry) from None
    depth = json_depth(value)
    if depth > max_depth:
        raise UnreadableFileError(path, f"JSON nested {depth} levels deep (at most "
                                        f"{max_depth})", entry=entry)
    return value
