"""Finding one of Keras's dataset files locally, or downloading it verified.

Used by the ``imdb``, ``reuters``, ``cifar10``, ``cifar100`` and ``boston_housing`` loaders.
A file is looked for, in order, at: the ``path`` argument (a file, or a folder holding it);
``$NPGRAD_DATA/<dataset>/`` and ``$NPGRAD_DATA/``; Keras's own cache ``~/.keras/datasets/``
(so data a Keras install already downloaded is reused); npgrad's cache
(:func:`npgrad.datasets.cache_dir`); only then it is downloaded from Keras's URL into
npgrad's cache with :func:`npgrad.utils.get_file`, SHA-256 checked. ``NPGRAD_OFFLINE=1``
forbids downloading.
"""

from __future__ import annotations

import os
from pathlib import Path

from npgrad.datasets._download import ChecksumError, DatasetNotFoundError, cache_dir
from npgrad.utils.file_download import get_file, hash_file

KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def candidates(dataset, filename, path=None):
    """(kind, file path) in search order."""
    found = []
    if path is not None:
        path = Path(path).expanduser()
        if path.is_dir():
            found.append(("path", path / filename))
        elif path.exists() or path.parent != Path("."):
            found.append(("path", path))
    data = os.environ.get("NPGRAD_DATA")
    if data:
        found += [("NPGRAD_DATA", Path(data).expanduser() / dataset / filename),
                  ("NPGRAD_DATA", Path(data).expanduser() / filename)]
    found.append(("keras cache", Path.home() / ".keras" / "datasets" / filename))
    found.append(("cache", cache_dir(dataset) / filename))
    return found


def locate(dataset, title, filename, origin, sha256, path=None, verify=True):
    """The path of ``filename``: found locally (checked) or downloaded into the cache.

    Args:
        dataset: cache folder name, e.g. ``"imdb"``.
        title: human name for messages.
        filename: e.g. ``"imdb.npz"``.
        origin: download URL.
        sha256: the file's known SHA-256.
        path: a file or folder the user gave.
        verify: check the SHA-256 of files found in ``path`` / ``NPGRAD_DATA`` / Keras's
            cache too (cached and downloaded files are always checked).

    Raises:
        ChecksumError: a found file has the wrong SHA-256 (the message says what to do).
        DatasetNotFoundError: nowhere to be found and not downloadable.
    """
    looked = []
    for kind, candidate in candidates(dataset, filename, path):
        looked.append(str(candidate))
        if not candidate.is_file():
            if kind == "path":
                raise DatasetNotFoundError(
                    f"{title}: path={str(path)!r} names no file {filename} (looked at {candidate})")
            continue
        if (verify or kind == "cache") and hash_file(candidate) != sha256:
            advice = ("Delete it; the next call downloads it again." if kind == "cache" else
                      "Replace it with an intact copy, remove it, or pass verify=False to accept it.")
            raise ChecksumError(
                f"{candidate}: checksum mismatch: SHA-256 {hash_file(candidate)}, expected "
                f"{sha256} for {title} {filename}. {advice}", candidate)
        return str(candidate)
    try:
        return get_file(filename, origin, file_hash=sha256, cache_dir=cache_dir(dataset).parent,
                        cache_subdir=dataset)
    except ValueError as error:  # a hash mismatch after download
        raise ChecksumError(f"{title}: {error}", None) from error
    except OSError as error:
        raise DatasetNotFoundError(
            f"{title} file {filename} not found, and downloading it failed: {error}\n"
            f"Looked in:\n  " + "\n  ".join(looked) + "\n"
            f"To supply it offline, download {origin} by hand and pass "
            f"load_data(path='/folder/with/{filename}'), set NPGRAD_DATA to its folder, or copy "
            f"it into {cache_dir(dataset)}.") from error
