"""Small fake datasets shaped like MNIST, and a clean environment for the loaders."""

import dataclasses
import hashlib
from types import SimpleNamespace

import numpy as np
import pytest

from npgrad.datasets import write_idx

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SMALL_FILES = {
    "train-images-idx3-ubyte": (np.uint8, (6, 28, 28)),
    "train-labels-idx1-ubyte": (np.uint8, (6,)),
    "t10k-images-idx3-ubyte": (np.uint8, (3, 28, 28)),
    "t10k-labels-idx1-ubyte": (np.uint8, (3,)),
}


def fake_arrays(marker):
    """Four arrays of the SMALL_FILES shapes; ``marker`` makes each set recognisable."""
    rng = np.random.default_rng(marker)
    out = {}
    for name, (dtype, shape) in SMALL_FILES.items():
        high = 10 if "labels" in name else 256
        out[name] = rng.integers(0, high, size=shape, dtype=np.uint8)
    out["train-labels-idx1-ubyte"][0] = marker  # y_train[0] tells which set was loaded
    return out


def write_set(folder, arrays, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(folder / (name + ".gz" if compress else name), array)
    return folder


def sha256_table(arrays):
    """SHA-256 of the uncompressed IDX content of each array."""
    table = {}
    for name, array in arrays.items():
        header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        table[name] = hashlib.sha256(header + array.tobytes()).hexdigest()
    return table


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No real NPGRAD_* settings leak in; the cache is a temporary folder; no real mirrors."""
    for var in ("NPGRAD_DATA", "NPGRAD_OFFLINE", "NPGRAD_MNIST_MIRROR",
                "NPGRAD_FASHION_MNIST_MIRROR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NPGRAD_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def small_mnist(monkeypatch):
    """Shrink MNIST's spec to the SMALL_FILES shapes with checksums of fake set 1.

    Mirrors point at a closed local port so nothing ever reaches the internet.
    """
    from npgrad.datasets import mnist

    arrays = fake_arrays(1)
    spec = dataclasses.replace(mnist.SPEC, files=dict(SMALL_FILES), sha256=sha256_table(arrays),
                               mirrors=("http://127.0.0.1:9/",))
    monkeypatch.setattr(mnist, "SPEC", spec)
    return arrays


@pytest.fixture
def fake():
    """The helpers above, for test modules (which cannot import conftest reliably)."""
    return SimpleNamespace(names=NAMES, files=SMALL_FILES, arrays=fake_arrays,
                           write_set=write_set, sha256_table=sha256_table)
