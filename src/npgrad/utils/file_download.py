"""``get_file``: download a file once into a cache folder, verify it, optionally extract it.

As ``keras.utils.get_file``: the file lands in ``<cache_dir>/<cache_subdir>/<fname>``
(``cache_dir`` defaults to ``$NPGRAD_HOME``, else ``~/.npgrad``), is downloaded only when
missing (or when its hash does not match, or ``force_download``), is checked against
``file_hash`` (SHA-256, or MD5 for a 32-character hash), and written atomically (a partial
download never takes the final name). ``NPGRAD_OFFLINE=1`` forbids downloading.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

_CHUNK = 1 << 20


class FileHashError(ValueError):
    """A file's hash differs from the expected one."""


def default_cache_dir():
    """``$NPGRAD_HOME`` if set, else ``~/.npgrad`` (falling back to a temp folder when the
    home folder is not writable)."""
    root = os.environ.get("NPGRAD_HOME")
    path = Path(root).expanduser() if root else Path.home() / ".npgrad"
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        path = Path(tempfile.gettempdir()) / "npgrad"
    return path


def hash_file(path, algorithm="sha256"):
    """The hex digest of a file (``"sha256"`` or ``"md5"``), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm(file_hash, hash_algorithm):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    if hash_algorithm != "auto":
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got "
                         f"{hash_algorithm!r}")
    return "md5" if len(file_hash) == 32 else "sha256"


def validate_file(path, file_hash, algorithm="auto"):
    """Whether the file's hash equals ``file_hash``."""
    return hash_file(path, _algorithm(file_hash, algorithm)) == file_hash.lower()


def download(url, destination, timeout=30.0):
    """Stream ``url`` into ``destination`` atomically (temp file, fsync, rename).

    Raises:
        OSError: network errors (``urllib.error.URLError``) and write errors.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            request = urllib.request.Request(url, headers={"User-Agent": "npgrad"})
            if urllib.parse.urlparse(url).scheme == "file":
                with open(urllib.request.url2pathname(urllib.parse.urlparse(url).path), "rb") as src:
                    shutil.copyfileobj(src, file, _CHUNK)
            else:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    shutil.copyfileobj(response, file, _CHUNK)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, destination)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def _extract(path, archive_format):
    """Extract a tar or zip archive next to itself; return the folder (safe member paths only)."""
    formats = {"auto": ("tar", "zip"), "tar": ("tar",), "zip": ("zip",)}.get(archive_format)
    if formats is None:
        formats = tuple(archive_format)
    folder = path.parent / (path.name.split(".")[0] + "_extracted")
    if "tar" in formats and tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            _check_members(path, archive.getnames(), folder)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse links out, devices
                archive.extractall(folder, filter="data")
            else:  # pragma: no cover - older Pythons; member paths were checked above
                archive.extractall(folder)
        return folder
    if "zip" in formats and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            _check_members(path, archive.namelist(), folder)
            archive.extractall(folder)
        return folder
    raise ValueError(f"get_file: {path} is not a {' or '.join(formats)} archive")


def _check_members(path, names, folder):
    root = folder.resolve()
    for name in names:
        target = (folder / name).resolve()
        if root != target and root not in target.parents:
            raise ValueError(f"get_file: archive {path} has an entry outside its folder: {name!r}")


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False, timeout=30.0):
    """Download a file from ``origin`` into the cache unless it is already there; return its path.

    Args:
        fname: file name in the cache (default: the last part of ``origin``'s path). An
            absolute path is used as is.
        origin: the URL (``http(s)://`` or ``file://``).
        untar: deprecated Keras spelling of ``extract=True`` for tar files.
        md5_hash: deprecated; use ``file_hash``.
        file_hash: expected SHA-256 (64 hex digits) or MD5 (32) of the file; checked after
            download and for a cached copy (a mismatching cached copy is downloaded again).
        cache_subdir: folder under ``cache_dir``.
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: extract a tar/zip archive; the extracted folder's path is returned.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or a list of them.
        cache_dir: root of the cache (default :func:`default_cache_dir`).
        force_download: download even when a valid copy is cached.
        timeout: seconds per network operation.

    Returns:
        The path (str) of the file, or of the extracted folder with ``extract=True``.

    Raises:
        ValueError: neither ``origin`` nor a usable ``fname``.
        FileHashError: the downloaded file's hash differs from ``file_hash`` (it is deleted).
        OSError: the download failed (the message names the URL), or downloading is
            disabled by ``NPGRAD_OFFLINE`` and no cached copy exists.
    """
    if origin is None and fname is None:
        raise ValueError("get_file: give `origin` (a URL) and/or `fname`")
    if fname is None:
        fname = os.path.basename(urllib.parse.urlparse(origin).path)
        if not fname:
            raise ValueError(f"get_file: cannot derive a file name from origin {origin!r}; pass fname")
    file_hash = file_hash or md5_hash
    extract = extract or untar
    folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    path = Path(fname) if os.path.isabs(fname) else folder / cache_subdir / fname
    needed = force_download or not path.exists()
    if not needed and file_hash and not validate_file(path, file_hash, hash_algorithm):
        needed = True  # a damaged or outdated cached copy
    if needed:
        if origin is None:
            raise OSError(f"get_file: {path} is not cached and no origin was given")
        if os.environ.get("NPGRAD_OFFLINE"):
            raise OSError(f"get_file: {path} is not cached and NPGRAD_OFFLINE forbids downloading "
                          f"{origin}; copy the file there by hand")
        try:
            download(origin, path, timeout=timeout)
        except (urllib.error.URLError, OSError) as error:
            raise OSError(f"get_file: downloading {origin} into {path} failed: "
                          f"{getattr(error, 'reason', error)}") from error
        if file_hash and not validate_file(path, file_hash, hash_algorithm):
            actual = hash_file(path, _algorithm(file_hash, hash_algorithm))
            path.unlink()
            raise FileHashError(
                f"get_file: {origin} downloaded with hash {actual}, expected {file_hash}; the "
                f"file was deleted (corrupted download or a changed file)")
    if extract:
        return str(_extract(path, archive_format))
    return str(path)
