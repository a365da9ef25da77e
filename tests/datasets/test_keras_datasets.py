"""imdb, reuters, cifar10, cifar100, boston_housing loaders on small files made here (never
the network): Keras's transformations, the offline search, checksums, safe unpickling."""

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from npgrad.datasets import (ChecksumError, CorruptFileError, DatasetNotFoundError,
                             boston_housing, cifar10, cifar100, imdb, reuters)


@pytest.fixture(autouse=True)
def no_home_caches(monkeypatch, tmp_path):
    """Keras's cache (~/.keras) must not be found, and nothing may be downloaded."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NPGRAD_HOME", str(tmp_path / "npgrad_home"))


def _objects(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def _imdb_file(folder, name="imdb.npz"):
    folder.mkdir(parents=True, exist_ok=True)
    x_train = _objects([[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]])
    x_test = _objects([[11, 1], [2, 2, 2, 2, 2]])
    path = folder / name
    np.savez(path, x_train=x_train, y_train=np.array([0, 1, 1, 0]), x_test=x_test,
             y_test=np.array([1, 0]))
    return path


def _expected_imdb(seed=113, index_from=3, start_char=1):
    x_train = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]
    y_train = [0, 1, 1, 0]
    x_test, y_test = [[11, 1], [2, 2, 2, 2, 2]], [1, 0]
    rng = np.random.RandomState(seed)
    order = np.arange(4)
    rng.shuffle(order)
    test_order = np.arange(2)
    rng.shuffle(test_order)
    shift = lambda x: [start_char] + [w + index_from for w in x]  # noqa: E731
    top = max(max(shift(x)) for x in x_train + x_test)
    # Keras keeps words below num_words, which defaults to the largest index: that one
    # becomes the out-of-vocabulary character 2
    words = lambda x: [w if w < top else 2 for w in shift(x)]  # noqa: E731
    return ([words(x_train[i]) for i in order], [y_train[i] for i in order],
            [words(x_test[i]) for i in test_order], [y_test[i] for i in test_order])


def test_imdb_follows_keras_shuffling_and_index_shifting(tmp_path):
    path = _imdb_file(tmp_path / "data")
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=path, verify=False)
    ex_train, ey_train, ex_test, ey_test = _expected_imdb()
    assert x_train.dtype == object and [list(x) for x in x_train] == ex_train
    assert list(y_train) == ey_train and [list(x) for x in x_test] == ex_test
    assert list(y_test) == ey_test


def test_imdb_num_words_skip_top_maxlen_and_oov(tmp_path):
    path = _imdb_file(tmp_path / "data")
    (x_train, _), (x_test, _) = imdb.load_data(path=path, num_words=8, skip_top=2, verify=False)
    for seq in list(x_train) + list(x_test):
        assert all(w == 2 or 2 <= w < 8 for w in seq)
    (x_train, y_train), _ = imdb.load_data(path=path, maxlen=4, verify=False)
    assert all(len(x) < 4 for x in x_train) and len(x_train) == len(y_train) == 2
    (x_train, _), _ = imdb.load_data(path=path, oov_char=None, num_words=6, verify=False)
    assert all(max(x) < 6 for x in x_train if x)
    with pytest.raises(ValueError, match="maxlen"):
        imdb.load_data(path=path, maxlen=1, verify=False)


def test_found_files_are_checksummed_unless_verify_is_false(tmp_path):
    path = _imdb_file(tmp_path / "data")
    with pytest.raises(ChecksumError, match="verify=False"):
        imdb.load_data(path=path)


def test_the_offline_search_order_and_the_not_found_message(tmp_path, monkeypatch):
    monkeypatch.setenv("NPGRAD_DATA", str(tmp_path / "shared"))
    _imdb_file(tmp_path / "shared" / "imdb")
    (x_train, _), _ = imdb.load_data(verify=False)  # found in $NPGRAD_DATA/imdb/
    assert len(x_train) == 4
    monkeypatch.setenv("NPGRAD_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("NPGRAD_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError) as info:
        imdb.load_data()
    message = str(info.value)
    assert "NPGRAD_OFFLINE" in message and str(tmp_path / "empty") in message
    assert "load_data(path=" in message
    with pytest.raises(DatasetNotFoundError, match="names no file"):
        imdb.load_data(path=tmp_path / "nothing_here")


def test_download_into_the_cache_is_checksummed(tmp_path, monkeypatch):
    served = _imdb_file(tmp_path / "server")
    monkeypatch.setattr(imdb, "KERAS_BASE_URL", served.parent.as_uri() + "/")
    monkeypatch.setitem(imdb.SHA256, "imdb.npz", hashlib.sha256(served.read_bytes()).hexdigest())
    (x_train, _), _ = imdb.load_data()
    assert len(x_train) == 4
    assert (tmp_path / "cache" / "imdb" / "imdb.npz").is_file()
    served.unlink()
    imdb.load_data()  # from the cache now
    monkeypatch.setitem(imdb.SHA256, "imdb.npz", "0" * 64)
    with pytest.raises(ChecksumError, match="Delete it"):
        imdb.load_data()


def test_a_hostile_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    x = np.empty(1, dtype=object)
    x[0] = Evil()
    path = tmp_path / "imdb.npz"
    np.savez(path, x_train=x, y_train=np.zeros(1), x_test=x, y_test=np.zeros(1))
    with pytest.raises(CorruptFileError, match="not allowed"):
        imdb.load_data(path=path, verify=False)
    assert not marker.exists()


def test_reuters_splits_after_filtering(tmp_path):
    xs = _objects([[1] * n for n in (1, 5, 2, 7, 3, 1, 2, 4, 6, 2)])
    np.savez(tmp_path / "reuters.npz", x=xs, y=np.arange(10))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(path=tmp_path, verify=False)
    assert len(x_train) == 8 and len(x_test) == 2
    assert sorted(list(y_train) + list(y_test)) == list(range(10))
    (x_train, _), (x_test, _) = reuters.load_data(path=tmp_path, maxlen=4, test_split=0.5,
                                                   verify=False)
    assert len(x_train) + len(x_test) == 5 and all(len(x) < 4 for x in x_train)
    assert len(reuters.get_label_names()) == 46


def _cifar_batch(n, label_key, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    batch = {b"batch_label": b"test", b"data": images}
    batch[label_key] = labels
    return pickle.dumps(batch, protocol=2), images, labels


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_cifar10_from_the_archive_and_from_the_extracted_folder(tmp_path):
    members, first_images = {}, None
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data, images, _ = _cifar_batch(3, b"labels", i)
        members[f"cifar-10-batches-py/{name}"] = data
        first_images = images if first_images is None else first_images
    _tar(tmp_path / "cifar-10-python.tar.gz", members)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=tmp_path, verify=False)
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1)
    assert x_test.shape == (3, 32, 32, 3) and x_train.dtype == y_train.dtype == np.uint8
    # channels last: pixel (row 0, col 1) of image 0 holds bytes 1, 1025, 2049 of the row
    np.testing.assert_array_equal(x_train[0, 0, 1], first_images[0, [1, 1025, 2049]])
    folder = tmp_path / "extracted"
    for name, data in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (x2, _), _ = cifar10.load_data(path=folder)
    np.testing.assert_array_equal(x2, x_train)
    with pytest.raises(ChecksumError):
        cifar10.load_data(path=tmp_path)


def test_cifar100_label_modes(tmp_path):
    members = {}
    for name in ("train", "test"):
        data = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [42, 7],
                             b"coarse_labels": [3, 1]}, protocol=2)
        members[f"cifar-100-python/{name}"] = data
    _tar(tmp_path / "cifar-100-python.tar.gz", members)
    (_, fine), _ = cifar100.load_data(path=tmp_path, verify=False)
    (_, coarse), _ = cifar100.load_data("coarse", path=tmp_path, verify=False)
    assert fine.ravel().tolist() == [42, 7] and coarse.ravel().tolist() == [3, 1]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data("medium", path=tmp_path, verify=False)


def test_boston_housing_split(tmp_path):
    x = np.arange(20 * 13, dtype=np.float64).reshape(20, 13)
    y = np.arange(20, dtype=np.float64)
    np.savez(tmp_path / "boston_housing.npz", x=x, y=y)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(
        path=tmp_path / "boston_housing.npz", verify=False)
    assert x_train.shape == (16, 13) and x_test.shape == (4, 13)
    np.testing.assert_array_equal(x_train[:, 0] / 13, y_train)  # rows stay with their targets
    order = np.arange(20)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(y_test, order[16:])
