"""Where mnist / fashion_mnist find their files, how they verify them, and the real data."""

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from npgrad.datasets import (ChecksumError, CorruptFileError, DatasetNotFoundError, cache_dir,
                             fashion_mnist, mnist)


def _marker(result):
    """Which fake set was loaded (fake_arrays writes its marker into y_train[0])."""
    (_, y_train), _ = result
    return int(y_train[0])


# ---------------------------------------------------------------- search order

def test_path_beats_npgrad_data_beats_cache(fake, tmp_path, monkeypatch):
    spec = dataclasses.replace(mnist.SPEC, files=dict(fake.files), sha256={},
                               mirrors=("http://127.0.0.1:9/",))
    monkeypatch.setattr(mnist, "SPEC", spec)
    fake.write_set(tmp_path / "given", fake.arrays(1))
    fake.write_set(tmp_path / "data", fake.arrays(2), compress=False)
    fake.write_set(cache_dir("mnist"), fake.arrays(3))
    monkeypatch.setenv("NPGRAD_DATA", str(tmp_path / "data"))

    assert _marker(mnist.load_data(path=tmp_path / "given")) == 1
    assert _marker(mnist.load_data(path=str(tmp_path / "given"))) == 1
    assert _marker(mnist.load_data()) == 2
    monkeypatch.delenv("NPGRAD_DATA")
    assert _marker(mnist.load_data()) == 3
    # A path folder without the files does not stop the search.
    assert _marker(mnist.load_data(path=tmp_path)) == 3


def test_npgrad_data_mnist_subfolder_comes_first(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SPEC", dataclasses.replace(mnist.SPEC, files=dict(fake.files),
                                                           sha256={}))
    fake.write_set(tmp_path / "data", fake.arrays(2))
    monkeypatch.setenv("NPGRAD_DATA", str(tmp_path / "data"))
    assert _marker(mnist.load_data()) == 2
    fake.write_set(tmp_path / "data" / "mnist", fake.arrays(4))
    assert _marker(mnist.load_data()) == 4


def test_xdg_cache_home_and_default_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NPGRAD_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("mnist") == tmp_path / "xdg" / "npgrad" / "datasets" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir("fashion_mnist") == tmp_path / "home/.cache/npgrad/datasets/fashion_mnist"


def test_fashion_search_order_and_mnist_files_are_not_taken_for_fashion(fake, tmp_path, monkeypatch):
    mnist_set, fashion_set = fake.arrays(1), fake.arrays(7)
    debian = tmp_path / "usr/share/datasets/fashion-mnist"
    spec = dataclasses.replace(
        fashion_mnist.SPEC, files=dict(fake.files), system_folders=(str(debian),),
        foreign_sha256=fake.sha256_table(mnist_set), mirrors=("http://127.0.0.1:9/",))
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    data = tmp_path / "data"
    fake.write_set(data, mnist_set)  # MNIST sits directly in $NPGRAD_DATA
    monkeypatch.setenv("NPGRAD_DATA", str(data))

    with pytest.raises(DatasetNotFoundError, match="another dataset's file"):
        fashion_mnist.load_data()
    fake.write_set(debian, fake.arrays(9))
    assert _marker(fashion_mnist.load_data()) == 9
    fake.write_set(cache_dir("fashion_mnist"), fake.arrays(8))
    assert _marker(fashion_mnist.load_data()) == 8
    fake.write_set(data / "fashion-mnist", fashion_set)
    assert _marker(fashion_mnist.load_data()) == 7
    fake.write_set(data / "fashion_mnist", fake.arrays(6))
    assert _marker(fashion_mnist.load_data()) == 6


def test_fashion_module_constants():
    assert len(fashion_mnist.CLASS_NAMES) == 10 and fashion_mnist.CLASS_NAMES[9] == "Ankle boot"
    assert fashion_mnist.SPEC.system_folders == ("/usr/share/datasets/fashion-mnist",)
    assert fashion_mnist.SPEC.foreign_sha256 == mnist.SHA256
    assert set(mnist.SHA256) == set(mnist.SPEC.files)
    assert mnist.MIRRORS[0] == "https://storage.googleapis.com/cvdf-datasets/mnist/"


# ---------------------------------------------------------------- verification

def test_user_folder_checksum_checked_unless_verify_false(fake, small_mnist, tmp_path):
    other = fake.arrays(2)  # right shapes, wrong content for the checksum table
    folder = fake.write_set(tmp_path / "mine", other)
    with pytest.raises(ChecksumError) as info:
        mnist.load_data(path=folder)
    message = str(info.value)
    assert str(folder / "train-images-idx3-ubyte.gz") in message
    assert "verify=False" in message
    assert _marker(mnist.load_data(path=folder, verify=False)) == 2


def test_truncated_user_file_is_an_error_even_without_verify(fake, small_mnist, tmp_path):
    folder = fake.write_set(tmp_path / "mine", small_mnist, compress=False)
    bad = folder / "t10k-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:-1])
    with pytest.raises(CorruptFileError, match="truncated") as info:
        mnist.load_data(path=folder, verify=False)
    assert str(bad) in str(info.value)


def test_wrong_file_under_a_name_is_a_dims_error(fake, small_mnist, tmp_path):
    folder = fake.write_set(tmp_path / "mine", small_mnist, compress=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(
        (folder / "train-images-idx3-ubyte").read_bytes())
    with pytest.raises(CorruptFileError, match="wrong dims"):
        mnist.load_data(path=folder, verify=False)


def test_path_that_is_not_a_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="is not a folder"):
        mnist.load_data(path=tmp_path / "nope")


def test_keras_style_npz(small_mnist, tmp_path, monkeypatch):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=small_mnist["train-images-idx3-ubyte"],
             y_train=small_mnist["train-labels-idx1-ubyte"],
             x_test=small_mnist["t10k-images-idx3-ubyte"], y_test=small_mnist["t10k-labels-idx1-ubyte"])
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=path)
    np.testing.assert_array_equal(y_test, small_mnist["t10k-labels-idx1-ubyte"])
    np.savez(path, x_train=np.zeros(3))
    with pytest.raises(CorruptFileError, match="x_train has dtype float64"):
        mnist.load_data(path=path)
    # Keras' default file name that is not there falls back to the normal search.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="not found, and downloading it failed"):
        mnist.load_data(path="keras-default.npz")


# ---------------------------------------------------------------- the real data

# Read at import time: the autouse clean_env fixture removes NPGRAD_DATA from each test.
_NPGRAD_DATA = os.environ.get("NPGRAD_DATA")


def _real_mnist_folder():
    candidates = [_NPGRAD_DATA, _NPGRAD_DATA and os.path.join(_NPGRAD_DATA, "mnist"),
                  "/work/shared/data/mnist"]
    for folder in filter(None, candidates):
        if any((Path(folder) / name).is_file()
               for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte")):
            return folder
    return None


@pytest.fixture
def real_mnist(monkeypatch):
    folder = _real_mnist_folder()
    if folder is None:
        pytest.skip("real MNIST not found: set NPGRAD_DATA=/folder/with/mnist/idx/files "
                    "(the four IDX files, raw or .gz) to run this test")
    monkeypatch.setenv("NPGRAD_DATA", folder)
    monkeypatch.setenv("NPGRAD_OFFLINE", "1")
    return mnist.load_data()


def test_real_mnist_shapes_dtypes_and_known_values(real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train.min() == 0 and y_train.max() == 9 and set(np.unique(y_test)) == set(range(10))
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert x_train.max() == 255 and x_train[0, 0].sum() == 0  # border pixels are blank
    assert x_train.flags.writeable

