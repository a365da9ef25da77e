"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
data in row-major order::

    bytes 0-1   0x00 0x00
    byte  2     dtype code (0x08 = uint8, 0x09 = int8, 0x0B = int16, 0x0C = int32,
                0x0D = float32, 0x0E = float64; multi-byte values are big-endian)
    byte  3     number of dimensions (MNIST images: 3, labels: 1)
    then        ndim big-endian uint32 sizes, then prod(sizes) values

So MNIST images start with ``0x00000803`` and labels with ``0x00000801``. Files may be
gzip-compressed; :func:`read_idx` recognises gzip by its leading bytes, whatever the
file is called.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from npgrad.errors import UnreadableFileError
from npgrad.saving.atomic import atomic_write as _atomic_write_file
from npgrad.utils import safe_read

__all__ = ["DatasetError", "CorruptFileError", "read_idx", "parse_idx", "read_bytes", "write_idx"]

# IDX dtype code -> NumPy dtype (big-endian, as stored on disk).
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"

_WHAT_TO_DO = (
    "Delete it (a cached copy is downloaded again on the next call), replace it with an "
    "intact copy, or point NPGRAD_DATA (or path=...) at a folder holding intact files."
)


class DatasetError(OSError):
    """Base class of every error raised by :mod:`npgrad.datasets`."""


class CorruptFileError(DatasetError, UnreadableFileError):
    """A data file exists but is not what it should be (truncated, wrong header, bad gzip).

    It is an :class:`npgrad.errors.UnreadableFileError` (so a ``ValueError``) and a
    :class:`DatasetError` (an ``OSError``): callers catch whichever they know.

    Args:
        message: the whole message (it names the file and says what to do).
        path: the offending file (``None`` when parsing bytes that came from no file).
        entry: the archive member at fault (``x_train`` of an ``.npz``), or None.

    Attributes:
        path: the offending file as a ``pathlib.Path`` (or None); reason: the message;
            entry: as given.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None,
                 entry: str | None = None):
        DatasetError.__init__(self, message)
        self.path = None if path is None else Path(path)
        self.reason = message
        self.entry = entry

    def __str__(self):
        return self.reason

    def __reduce__(self):
        return (type(self), (self.reason, self.path, self.entry))


def _read_up_to(stream, size: int, into: memoryview | None = None) -> bytearray | int:
    """Read up to ``size`` bytes in chunks: return them, or fill ``into`` and return the count."""
    if into is None:
        buffer = bytearray(size)
        into_view = memoryview(buffer)
    else:
        into_view = into
    done = 0
    while done < size:
        chunk = stream.read(min(safe_read.CHUNK_BYTES, size - done))
        if not chunk:
            break
        into_view[done:done + len(chunk)] = chunk
        done += len(chunk)
    if into is not None:
        return done
    into_view.release()
    del buffer[done:]
    return buffer


def read_bytes(path: str | os.PathLike, *, dtype=None, shape=None) -> bytearray:
    """Return the content of ``path``, gunzipped if it is gzip-compressed, bounded by its header.

    Only as many bytes as the IDX header declares are read (plus one, to detect trailing
    data): the header is checked first (against ``dtype``/``shape`` when given), then the
    declared size against :data:`npgrad.utils.safe_read.MAX_ARRAY_BYTES`, the file size
    (raw files) or the compression-ratio limit (gzip), and only then the buffer is allocated
    and filled in chunks. Content that does not start with an IDX header is returned as its
    first bytes, for :func:`parse_idx` to explain.

    Args:
        path: an IDX file, raw or gzip-compressed (detected from its first two bytes).
        dtype, shape: optional expectations, as in :func:`parse_idx`.

    Returns:
        A writable ``bytearray`` (so arrays built on it with ``np.frombuffer`` are writable).

    Raises:
        CorruptFileError: a damaged or truncated gzip stream, a wrong or oversized header,
            trailing data, or a decompression bomb.
        OSError: the file cannot be read.
    """
    path = Path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        gzipped = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if not gzipped:
            return _read_declared(f, path, size, False, dtype, shape)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                return _read_declared(g, path, size, True, dtype, shape)
        except CorruptFileError:
            raise
        except (OSError, EOFError, zlib.error, ValueError) as error:
            raise CorruptFileError(
                f"{path}: damaged gzip data ({error}); the file is probably truncated or "
                f"corrupted. {_WHAT_TO_DO}",
                path,
            ) from error


def _read_declared(stream, path, size, gzipped, dtype, shape):
    head = _read_up_to(stream, 4)
    if len(head) < 4 or head[0] or head[1] or head[2] not in _DTYPES:
        return head  # not an IDX header: parse_idx says what is wrong
    head += _read_up_to(stream, 4 * head[3])
    if len(head) < 4 + 4 * head[3]:
        return head  # truncated header
    file_dtype, dims, header_size = _parse_header(head, path, dtype, shape)
    expected = header_size + math.prod(dims) * file_dtype.itemsize  # Python ints: no wrap
    declared = (f"the header declares shape {dims} of {file_dtype.name}, i.e. {expected} "
                f"bytes in all")
    if expected > safe_read.MAX_ARRAY_BYTES:
        raise CorruptFileError(f"{path}: too large: {declared}, over the "
                               f"{safe_read.MAX_ARRAY_BYTES}-byte limit. {_WHAT_TO_DO}", path)
    if gzipped and expected > safe_read.ratio_limit(size):
        raise CorruptFileError(
            f"{path}: {declared}, from {size} compressed bytes (over "
            f"{safe_read.MAX_COMPRESSION_RATIO}:1): a decompression bomb or a wrong header. "
            f"{_WHAT_TO_DO}", path)
    if not gzipped and expected > size:
        raise CorruptFileError(f"{path}: truncated: {declared}, but the file has {size}. "
                               f"{_WHAT_TO_DO}", path)
    try:
        content = bytearray(expected)
    except MemoryError:
        raise CorruptFileError(f"{path}: {declared}, which do not fit in memory", path) from None
    content[:len(head)] = head
    with memoryview(content) as view, view[len(head):] as rest:
        got = len(head) + _read_up_to(stream, expected - len(head), into=rest)
    if got == expected and stream.read(1):
        raise CorruptFileError(f"{path}: trailing bytes: {declared}, but the file holds more"
                               f"{f' ({size})' if not gzipped else ''}. {_WHAT_TO_DO}", path)
    del content[got:]
    return content


def parse_idx(
    data: bytes | bytearray | memoryview,
    *,
    source: str | os.PathLike = "<bytes>",
    dtype=None,
    shape: tuple[int | None, ...] | None = None,
) -> np.ndarray:
    """Interpret uncompressed IDX bytes as an array, checking header and length.

    Args:
        data: the whole (uncompressed) file content.
        source: file name used in error messages.
        dtype: if given, the dtype the file must declare (e.g. ``np.uint8``).
        shape: if given, the shape the file must declare; ``None`` entries match any size
            (e.g. ``(None, 28, 28)``). Its length is also the required number of dimensions.

    Returns:
        An array of the declared shape viewing ``data`` without a copy, in native byte
        order (multi-byte types are converted, which copies). Writable iff ``data`` is.

    Raises:
        CorruptFileError: wrong magic number, unknown dtype code, wrong dims, or a payload
            whose length does not match the header (truncated or with trailing bytes).
    """
    path = None if source == "<bytes>" else source
    size = len(data)
    file_dtype, dims, header_size = _parse_header(data, source, dtype, shape)
    count = math.prod(dims)  # Python ints: a product past 2**63 cannot wrap to a small size
    expected_size = header_size + count * file_dtype.itemsize
    if size != expected_size:
        problem = "truncated" if size < expected_size else "trailing bytes"
        raise CorruptFileError(
            f"{source}: {problem}: the header declares shape {dims} of {file_dtype.name}, "
            f"i.e. {expected_size} bytes in all, but the file has {size}. {_WHAT_TO_DO}",
            path,
        )
    array = np.frombuffer(data, dtype=file_dtype, count=count, offset=header_size).reshape(dims)
    if file_dtype.itemsize > 1 and file_dtype.byteorder != "=":
        array = array.astype(file_dtype.newbyteorder("="))
    return array


def _parse_header(data, source, dtype, shape):
    """Check the magic number, dtype and dims of IDX ``data``: (file dtype, dims, header size)."""
    path = None if source == "<bytes>" else source
    size = len(data)
    if size < 4:
        raise CorruptFileError(
            f"{source}: not an IDX file: only {size} bytes, too short for the 4-byte magic "
            f"number (file truncated?). {_WHAT_TO_DO}",
            path,
        )
    zero0, zero1, code, ndim = bytes(data[:4])
    magic = f"0x{int.from_bytes(bytes(data[:4]), 'big'):08X}"
    if zero0 != 0 or zero1 != 0 or code not in _DTYPES:
        raise CorruptFileError(
            f"{source}: wrong magic number {magic}: an IDX file starts with 0x0000, then a "
            f"dtype code in {{0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E}}, then the number of "
            f"dimensions (MNIST images: 0x00000803, labels: 0x00000801). This is not an IDX "
            f"file (an HTML error page or a different format?). {_WHAT_TO_DO}",
            path,
        )
    file_dtype = _DTYPES[code]
    if dtype is not None and file_dtype != np.dtype(dtype).newbyteorder(">"):
        raise CorruptFileError(
            f"{source}: wrong data type: the header (magic {magic}) declares dtype code "
            f"0x{code:02X} ({file_dtype.name}), expected {np.dtype(dtype).name}. {_WHAT_TO_DO}",
            path,
        )
    if shape is not None and ndim != len(shape):
        raise CorruptFileError(
            f"{source}: wrong dims: the header (magic {magic}) declares {ndim} dimensions, "
            f"expected {len(shape)} (images have 3, labels 1: wrong file under this name?). "
            f"{_WHAT_TO_DO}",
            path,
        )
    header_size = 4 + 4 * ndim
    if size < header_size:
        raise CorruptFileError(
            f"{source}: truncated: {size} bytes, shorter than the {header_size}-byte header "
            f"of a {ndim}-dimensional IDX file. {_WHAT_TO_DO}",
            path,
        )
    dims = struct.unpack(f">{ndim}I", bytes(data[4:header_size]))
    if shape is not None and any(want is not None and want != got for want, got in zip(shape, dims)):
        expected = tuple("any" if want is None else want for want in shape)
        raise CorruptFileError(
            f"{source}: wrong dims: the header declares shape {dims}, expected {expected} "
            f"(wrong file under this name?). {_WHAT_TO_DO}",
            path,
        )
    return file_dtype, dims, header_size


def read_idx(path: str | os.PathLike, *, dtype=None, shape=None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Args:
        path: the file.
        dtype: optional dtype the file must declare (see :func:`parse_idx`).
        shape: optional shape the file must declare, ``None`` entries match any size.

    Returns:
        A writable array of the declared shape and dtype (native byte order).

    Raises:
        CorruptFileError: the file is truncated, compressed badly, or has a wrong header;
            the message names the file and says what to do.
        OSError: the file cannot be read.

    Example:
        >>> images = read_idx("train-images-idx3-ubyte.gz", dtype=np.uint8, shape=(None, 28, 28))
    """
    return parse_idx(read_bytes(path, dtype=dtype, shape=shape), source=path, dtype=dtype,
                     shape=shape)


def write_idx(path: str | os.PathLike, array, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically.

    Args:
        path: destination; compressed with gzip when ``compress`` is true, or when it is
            ``None`` and the name ends in ``.gz``.
        array: array-like of dtype uint8, int8, int16, int32, float32 or float64, with
            1 to 255 dimensions each smaller than 2**32.
        compress: force gzip on or off.

    Returns:
        The path written.

    Raises:
        TypeError: unsupported dtype.
        ValueError: unsupported number or size of dimensions.
    """
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            f"write_idx: array dtype must be one of uint8, int8, int16, int32, float32, "
            f"float64; got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255 or any(d >= 2**32 for d in array.shape):
        raise ValueError(
            f"write_idx: array must have 1 to 255 dimensions, each < 2**32; got shape {array.shape}"
        )
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.name.endswith(".gz")
    content = header + payload
    if compress:
        # mtime=0 makes the output byte-for-byte reproducible.
        content = gzip.compress(content, mtime=0)
    atomic_write(path, content)
    return path


def atomic_write(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so that readers see the old file or the new, never half.

    The folder is created if needed; the write goes through :mod:`npgrad.saving.atomic`
    (a temp file in the same folder, fsynced, renamed; stale temp files cleaned up).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic_write_file(path) as f:
        f.write(content)
