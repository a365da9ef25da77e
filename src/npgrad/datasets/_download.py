"""Finding, verifying and downloading the IDX files of a dataset (shared by mnist, fashion_mnist).

For each file the loader looks, in order, in: the ``path`` argument, the folders under
``NPGRAD_DATA``, the user cache, dataset-specific system folders; only then it downloads
from the mirrors into the cache. Every file found is checked structurally (IDX header,
dims, payload length); SHA-256 checksums of the *uncompressed* content are checked where
the dataset knows them (see :class:`DatasetSpec`). docs/datasets.md describes it for users.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from npgrad.datasets.idx import CorruptFileError, DatasetError, parse_idx, read_bytes
from npgrad.errors import UnreadableFileError
from npgrad.saving.atomic import atomic_write
from npgrad.utils import safe_read

__all__ = [
    "ChecksumError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "cache_dir",
    "load_idx_dataset",
]

DEFAULT_TIMEOUT = 30.0  # seconds, per HTTP request
_CHUNK = 1 << 20


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """No copy of a data file was found locally and none could be downloaded."""


class ChecksumError(CorruptFileError):
    """A file's SHA-256 (of its uncompressed content) differs from the known value."""


@dataclass(frozen=True)
class DatasetSpec:
    """What a loader needs to know about one IDX dataset.

    Attributes:
        name: cache folder name, e.g. ``"mnist"``.
        title: human name for messages, e.g. ``"MNIST"``.
        files: file name (without ``.gz``) -> (dtype, shape) the file must declare.
        mirrors: base URLs; a file is fetched from ``mirror + name + ".gz"`` (then, if that
            is 404, ``mirror + name``).
        mirror_env: environment variable that overrides ``mirrors`` (comma or space separated).
        data_subfolders: subfolders of ``$NPGRAD_DATA`` searched before ``$NPGRAD_DATA`` itself.
        system_folders: extra folders searched after the cache (e.g. Debian packages).
        sha256: file name -> SHA-256 of the uncompressed content; files missing here are
            checked structurally only.
        foreign_sha256: hashes that must *not* match (another dataset with the same file
            names found in a shared folder); such a file is skipped.
    """

    name: str
    title: str
    files: dict
    mirrors: tuple
    mirror_env: str
    data_subfolders: tuple = ()
    system_folders: tuple = ()
    sha256: dict = field(default_factory=dict)
    foreign_sha256: dict = field(default_factory=dict)


def cache_dir(name: str) -> Path:
    """Return the cache folder of dataset ``name`` (not created).

    ``$NPGRAD_CACHE/<name>`` if ``NPGRAD_CACHE`` is set, else
    ``$XDG_CACHE_HOME/npgrad/datasets/<name>``, else ``~/.cache/npgrad/datasets/<name>``.
    """
    root = os.environ.get("NPGRAD_CACHE")
    if root:
        return Path(root).expanduser() / name
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "npgrad" / "datasets" / name


def sha256_hex(data: bytes | bytearray | memoryview) -> str:
    """SHA-256 of ``data`` as a hex string."""
    return hashlib.sha256(data).hexdigest()


def _mirrors(spec: DatasetSpec, mirrors) -> list[str]:
    if mirrors is None:
        from_env = os.environ.get(spec.mirror_env, "")
        mirrors = from_env.replace(",", " ").split() if from_env.strip() else spec.mirrors
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    return [m if m.endswith("/") else m + "/" for m in mirrors]


def _search_folders(spec: DatasetSpec, path) -> list[tuple[str, Path]]:
    """(kind, folder) in search order; kind is 'path', 'NPGRAD_DATA', 'cache' or 'system'."""
    folders = []
    if path is not None:
        folders.append(("path", Path(path).expanduser()))
    data = os.environ.get("NPGRAD_DATA")
    if data:
        data = Path(data).expanduser()
        folders += [("NPGRAD_DATA", data / sub) for sub in spec.data_subfolders]
        folders.append(("NPGRAD_DATA", data))
    folders.append(("cache", cache_dir(spec.name)))
    folders += [("system", Path(folder)) for folder in spec.system_folders]
    return folders


def _check(spec, name, content, source, *, hash_it, what_to_do):
    """Parse ``content`` as file ``name`` of ``spec``; check its SHA-256 when asked and known."""
    dtype, shape = spec.files[name]
    array = parse_idx(content, source=source, dtype=dtype, shape=shape)
    expected = spec.sha256.get(name)
    if hash_it and expected:
        actual = sha256_hex(content)
        if actual != expected:
            raise ChecksumError(
                f"{source}: checksum mismatch: SHA-256 of the uncompressed content is {actual}, "
                f"expected {expected} for {spec.title} {name}. The file is corrupted or a "
                f"different version. {what_to_do}",
                source,
            )
    return array


def _is_foreign(spec, name, content) -> bool:
    foreign = spec.foreign_sha256.get(name)
    return bool(foreign) and sha256_hex(content) == foreign


def _find_local(spec, name, folders, verify, looked):
    """Return the array of file ``name`` from the first folder holding it, or None."""
    for kind, folder in folders:
        for candidate in (folder / (name + ".gz"), folder / name):
            looked.append(str(candidate))
            if not candidate.is_file():
                continue
            dtype, shape = spec.files[name]
            content = read_bytes(candidate, dtype=dtype, shape=shape)
            if _is_foreign(spec, name, content):
                looked[-1] += " (skipped: it is another dataset's file of that name)"
                continue
            if kind == "cache":
                what_to_do = "Delete it; the next call downloads it again."
            else:
                what_to_do = (
                    f"Replace it with an intact copy, remove it so the search goes on, or pass "
                    f"verify=False to accept it after the structural check ({kind} folder {folder})."
                )
            # Cached and downloaded files are always hashed; user folders only if verify.
            return _check(spec, name, content, candidate, hash_it=verify or kind == "cache",
                          what_to_do=what_to_do)
    return None


def _fetch(url: str, destination, timeout: float, max_bytes: int) -> None:
    """Stream ``url`` into the open binary file ``destination``, at most ``max_bytes``."""
    request = urllib.request.Request(url, headers={"User-Agent": "npgrad-datasets"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        received = 0
        while chunk := response.read(_CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise CorruptFileError(
                    f"{url}: the server sent more than {max_bytes} bytes, more than the file "
                    f"can hold", url)
            destination.write(chunk)


def _max_download_bytes(dtype, shape) -> int:
    """The most bytes a file of this dtype and shape can take (raw, or gzip of random data)."""
    if shape is None or any(n is None for n in shape):
        return safe_read.MAX_ARRAY_BYTES
    raw = 4 + 4 * len(shape) + math.prod(shape) * np.dtype(dtype).itemsize
    return raw + raw // 100 + 2**16  # gzip adds a fraction of a percent to random data


def _download(spec, name, mirrors, timeout, failures):
    """Download file ``name`` into the cache, verified; return its array, or None on failure.

    The download streams into a temp file next to its final name (see
    :mod:`npgrad.saving.atomic`): renamed into place once verified, removed otherwise.
    """
    folder = cache_dir(spec.name)
    dtype, shape = spec.files[name]
    for mirror in mirrors:
        for remote_name in (name + ".gz", name):
            url = mirror + remote_name
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                failures.append(f"{url}: cannot write into the cache folder {folder}: {error}")
                return None
            try:
                with atomic_write(folder / remote_name) as f:
                    _fetch(url, f, timeout, _max_download_bytes(dtype, shape))
                    f.flush()
                    content = read_bytes(f.name, dtype=dtype, shape=shape)
                    array = _check(spec, name, content, url, hash_it=True,
                                   what_to_do="Trying the next mirror.")
                return array
            except urllib.error.HTTPError as error:
                failures.append(f"{url}: HTTP {error.code} {error.reason}")
                if error.code == 404 and remote_name.endswith(".gz"):
                    continue  # the mirror may serve the uncompressed file
                break
            except CorruptFileError as error:
                # The message names the temp file or the URL; report it by URL.
                failures.append(f"{url}: downloaded, but rejected: {error}")
                break
            except (OSError, ValueError) as error:  # URLError, timeouts, resets, bad URLs
                if isinstance(error, FileNotFoundError) and not folder.is_dir():
                    failures.append(f"{url}: cannot write into the cache folder {folder}: "
                                    f"{error}")
                    return None
                failures.append(f"{url}: {getattr(error, 'reason', error)}")
                break
    return None


def _not_found_message(spec, name, looked, failures, mirrors) -> str:
    lines = [f"{spec.title} file {name} (or {name}.gz) not found, and downloading it failed.", "",
             "Looked in:"]
    lines += [f"  {place}" for place in looked]
    if os.environ.get("NPGRAD_OFFLINE"):
        lines += ["Downloads are disabled because NPGRAD_OFFLINE is set."]
    else:
        lines += ["Download attempts:"] + [f"  {failure}" for failure in failures]
    names = ", ".join(spec.files)
    lines += [
        "",
        "To supply the data offline, put the four IDX files (raw or .gz):",
        f"  {names}",
        "into a folder and either set NPGRAD_DATA=/folder/with/idx/files"
        + "".join(f" (or put them in its subfolder {sub}/)" for sub in spec.data_subfolders[:1])
        + " or pass "
        f"load_data(path='/folder/with/idx/files'). Or copy them into the cache folder "
        f"{cache_dir(spec.name)}.",
        "They can be fetched by hand from (mirror + file name + '.gz'):",
    ]
    lines += [f"  {mirror}" for mirror in mirrors]
    lines += [f"Other mirrors can be chosen with load_data(mirrors=[...]) or {spec.mirror_env}."]
    return "\n".join(lines)


def load_idx_file(spec: DatasetSpec, name: str, *, path=None, mirrors=None, verify=True,
                  timeout=DEFAULT_TIMEOUT) -> np.ndarray:
    """Find (or download) one file of ``spec`` and return it as a checked array.

    Raises:
        CorruptFileError: a file was found but is damaged (names the file).
        DatasetNotFoundError: not found anywhere and not downloadable.
    """
    if path is not None and not Path(path).expanduser().is_dir():
        raise DatasetNotFoundError(
            f"{spec.title}: path={str(path)!r} is not a folder. Pass the folder holding the IDX "
            f"files ({', '.join(spec.files)}, raw or .gz), or path=None to use NPGRAD_DATA, "
            f"the cache and the mirrors."
        )
    looked: list[str] = []
    array = _find_local(spec, name, _search_folders(spec, path), verify, looked)
    if array is not None:
        return array
    mirror_list = _mirrors(spec, mirrors)
    failures: list[str] = []
    if not os.environ.get("NPGRAD_OFFLINE"):
        array = _download(spec, name, mirror_list, timeout, failures)
    if array is not None:
        return array
    message = _not_found_message(spec, name, looked, failures, mirror_list)
    if any("checksum mismatch" in failure for failure in failures):
        raise ChecksumError(message, None)
    raise DatasetNotFoundError(message)


def load_idx_dataset(spec: DatasetSpec, *, path=None, mirrors=None, verify=True,
                     timeout=DEFAULT_TIMEOUT):
    """Load the four train/test IDX files of ``spec`` Keras-style.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; see :func:`npgrad.datasets.mnist.load_data`.
    """
    if path is not None and str(path).endswith(".npz"):
        npz = _load_keras_npz(spec, path)
        if npz is not None:
            return npz
        path = None  # Keras' cache-relative name like "mnist.npz": use the normal search
    kwargs = dict(path=path, mirrors=mirrors, verify=verify, timeout=timeout)
    x_train = load_idx_file(spec, "train-images-idx3-ubyte", **kwargs)
    y_train = load_idx_file(spec, "train-labels-idx1-ubyte", **kwargs)
    x_test = load_idx_file(spec, "t10k-images-idx3-ubyte", **kwargs)
    y_test = load_idx_file(spec, "t10k-labels-idx1-ubyte", **kwargs)
    return (x_train, y_train), (x_test, y_test)


def _load_keras_npz(spec, path):
    """Load a Keras-format ``mnist.npz`` if ``path`` names an existing file, else None.

    The archive is read through :class:`npgrad.utils.safe_read.SafeZip`: each array's
    dtype and shape are checked from its ``.npy`` header before its data is read.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        if path.parent != Path("."):
            raise DatasetNotFoundError(f"{spec.title}: path={str(path)!r} does not exist.")
        return None
    keys = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
            "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
    what_to_do = "Replace the file, or pass the folder of the IDX files instead."
    arrays = {}
    try:
        with safe_read.SafeZip(path) as npz:
            for key, name in keys.items():
                if key + ".npy" not in npz.names:
                    raise CorruptFileError(
                        f"{path}: not a Keras-style {spec.title} .npz with arrays x_train, "
                        f"y_train, x_test, y_test (no {key}). {what_to_do}", path)
                dtype, shape = spec.files[name]
                array_shape, _, array_dtype, _ = npz.npy_header(key + ".npy")
                if array_dtype != dtype or len(array_shape) != len(shape) or any(
                        want is not None and want != got
                        for want, got in zip(shape, array_shape)):
                    raise CorruptFileError(
                        f"{path}: {key} has dtype {array_dtype} and shape {array_shape}, "
                        f"expected {np.dtype(dtype).name} and {shape}. {what_to_do}",
                        path, entry=key)
                arrays[key] = npz.read_npy(key + ".npy", kinds=np.dtype(dtype).kind)
    except CorruptFileError:
        raise
    except UnreadableFileError as error:
        raise CorruptFileError(
            f"{path}: not a readable Keras-style {spec.title} .npz ({error.reason}). "
            f"{what_to_do}", path, entry=error.entry) from None
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
