"""CIFAR-10 and CIFAR-100 (32x32 colour images), loaded like ``keras.datasets.cifar10`` /
``cifar100``.

The archives (``cifar-10-python.tar.gz``, ``cifar-100-python.tar.gz``) are read directly, or
their extracted folders (``cifar-10-batches-py/``, ``cifar-100-python/``); the pickled batches
inside are read with npgrad's restricted unpickler (no code can run from a file).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

from npgrad.datasets import safe_pickle
from npgrad.datasets.idx import CorruptFileError
from npgrad.datasets.keras_files import locate
from npgrad.utils import safe_read

ORIGINS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
}
SHA256 = {
    "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    "cifar-100-python.tar.gz": "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
}
FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def _read_batches(dataset, path, names, verify):
    """The raw bytes of each batch file, from an extracted folder or the archive."""
    folder = FOLDERS[dataset]
    if path is not None:
        root = Path(path).expanduser()
        for base in (root / folder, root):
            if base.is_dir() and all((base / name).is_file() for name in names):
                return {name: (base / name).read_bytes() for name in names}, base
    archive_name = Path(ORIGINS[dataset]).name
    archive = locate(dataset, dataset.upper(), archive_name, ORIGINS[dataset],
                     SHA256[archive_name], path=path, verify=verify)
    out = {}
    try:
        with tarfile.open(archive) as tar:
            for name in names:
                info = tar.getmember(f"{folder}/{name}")
                if info.size > safe_read.MAX_ARRAY_BYTES:
                    raise KeyError(f"{name} declares {info.size} bytes, over the limit")
                member = tar.extractfile(info)
                if member is None:
                    raise KeyError(name)
                out[name] = member.read(info.size)
    except (tarfile.TarError, KeyError, OSError) as error:
        raise CorruptFileError(f"{archive}: not a {dataset} archive with {folder}/{names} "
                               f"({error}). Replace it.", archive) from error
    return out, archive


def _batch(data, source, label_key):
    batch = safe_pickle.loads(data, source, encoding="bytes")
    try:
        images = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.uint8)
        images = images.reshape(len(images), 3, 32, 32).transpose(0, 2, 3, 1)  # NCHW -> NHWC
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptFileError(f"{source}: not a CIFAR batch ({error})", None) from error
    if len(images) != len(labels):
        raise CorruptFileError(f"{source}: {len(images)} images but {len(labels)} labels", None)
    return images, labels.reshape(-1, 1)


def load_cifar10(path=None, verify=True):
    """See :func:`npgrad.datasets.cifar10.load_data`."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    raw, source = _read_batches("cifar10", path, names, verify)
    train = [_batch(raw[n], f"{source}:{n}", b"labels") for n in names[:-1]]
    x_test, y_test = _batch(raw["test_batch"], f"{source}:test_batch", b"labels")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), (x_test, y_test)


def load_cifar100(label_mode="fine", path=None, verify=True):
    """See :func:`npgrad.datasets.cifar100.load_data`."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"cifar100.load_data: label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    raw, source = _read_batches("cifar100", path, ["train", "test"], verify)
    key = f"{label_mode}_labels".encode()
    return (_batch(raw["train"], f"{source}:train", key),
            _batch(raw["test"], f"{source}:test", key))
