"""npgrad.utils additions from keras.utils: pad_sequences, plot_model/model_to_dot, get_file,
split_dataset, timeseries_dataset_from_array, normalize; npgrad.preprocessing.sequence."""

import hashlib
import io
import tarfile

import numpy as np
import pytest

import npgrad
from npgrad import ops, utils


# ------------------------------------------------------------------ pad_sequences
def test_pad_sequences_pre_and_post():
    seqs = [[1, 2, 3], [4], []]
    np.testing.assert_array_equal(utils.pad_sequences(seqs), [[1, 2, 3], [0, 0, 4], [0, 0, 0]])
    np.testing.assert_array_equal(utils.pad_sequences(seqs, maxlen=2, padding="post",
                                                      truncating="post", value=-1),
                                  [[1, 2], [4, -1], [-1, -1]])
    np.testing.assert_array_equal(utils.pad_sequences(seqs, maxlen=2), [[2, 3], [0, 4], [0, 0]])
    assert utils.pad_sequences(seqs).dtype == np.int32
    floats = utils.pad_sequences([[0.5], [1.5, 2.5]], dtype="float32")
    np.testing.assert_array_equal(floats, [[0, 0.5], [1.5, 2.5]])
    vectors = utils.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert vectors.shape == (2, 2, 3) and vectors[1, 0].sum() == 0
    assert npgrad.preprocessing.sequence.pad_sequences is utils.pad_sequences


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding"):
        utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="non-iterable"):
        utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="cannot hold"):
        utils.pad_sequences([["a"]], value="x")


def test_pad_sequences_matches_keras():
    keras = pytest.importorskip("keras")
    seqs = [[1, 2, 3, 4], [5, 6], [7]]
    for kwargs in (dict(), dict(maxlen=3, padding="post"), dict(maxlen=2, truncating="post")):
        np.testing.assert_array_equal(utils.pad_sequences(seqs, **kwargs),
                                      keras.utils.pad_sequences(seqs, **kwargs))


# ------------------------------------------------------------------ plot_model
def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _residual_model():
    x = npgrad.Input((8,), name="x")
    a = npgrad.layers.Dense(4, name="a")(x)
    b = npgrad.layers.Dense(4, name="b")(x)
    return npgrad.Model(x, npgrad.layers.Dense(1, name="out")(ops.concatenate([a, a + b])))


def test_plot_model_writes_png_svg_and_dot_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no `dot` executable can be found
    model = _residual_model()
    utils.plot_model(model, tmp_path / "m.png", show_shapes=True, show_dtype=True,
                     show_layer_activations=True, show_trainable=True)
    width, height = _png_size((tmp_path / "m.png").read_bytes())
    assert width > 100 and height > 6 * 40  # six boxes stacked
    utils.plot_model(model, tmp_path / "m.svg", show_shapes=True)
    svg = (tmp_path / "m.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<rect") == 6 and "(None, 8)" in svg
    utils.plot_model(model, tmp_path / "m.dot")
    assert "digraph" in (tmp_path / "m.dot").read_text()
    with pytest.raises(ValueError, match=r"\.png, \.svg"):
        utils.plot_model(model, tmp_path / "m.pdf")


def test_model_to_dot_has_one_node_per_layer_and_the_graph_edges():
    model = _residual_model()
    dot = utils.model_to_dot(model, show_shapes=True).to_string()
    assert dot.count("[label=") == len(model.layers) == 6
    names = [layer.name for layer in model.layers]
    edges = {(names[int(a)], names[int(b)]) for a, b in
             (line.strip().rstrip(";").replace("layer", "").split(" -> ")
              for line in dot.splitlines() if "->" in line)}
    add = next(name for name in names if name.startswith("add"))
    concatenate = next(name for name in names if name.startswith("concatenate"))
    assert ("x", "a") in edges and ("x", "b") in edges and ("a", add) in edges
    assert ("b", add) in edges and (concatenate, "out") in edges and len(edges) == 7
    sequential = npgrad.Sequential([npgrad.Input((3,)), npgrad.layers.Dense(2),
                                    npgrad.layers.Dense(1)])
    assert utils.model_to_dot(sequential).to_string().count("->") == len(sequential.layers) - 1


# ------------------------------------------------------------------ get_file
def test_get_file_downloads_once_verifies_and_extracts(tmp_path, monkeypatch):
    payload = b"hello npgrad" * 100
    source = tmp_path / "src" / "data.bin"
    source.parent.mkdir()
    source.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    cache = tmp_path / "cache"
    path = utils.get_file("data.bin", source.as_uri(), file_hash=digest, cache_dir=cache)
    assert open(path, "rb").read() == payload and path.startswith(str(cache / "datasets"))
    source.unlink()  # cached: no second download
    assert utils.get_file("data.bin", source.as_uri(), file_hash=digest, cache_dir=cache) == path
    with pytest.raises(OSError, match="not cached"):
        utils.get_file("other.bin", cache_dir=cache)
    # a wrong hash: the download is deleted and the error names both hashes
    source.write_bytes(b"tampered")
    with pytest.raises(ValueError, match="expected " + "0" * 64):
        utils.get_file("bad.bin", source.as_uri(), file_hash="0" * 64, cache_dir=cache)
    assert not (cache / "datasets" / "bad.bin").exists()
    # archives are extracted into <name>_extracted
    archive = tmp_path / "src" / "pack.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("pack/readme.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"howdy"))
    folder = utils.get_file("pack.tar.gz", archive.as_uri(), extract=True, cache_dir=cache)
    assert open(f"{folder}/pack/readme.txt").read() == "howdy"
    monkeypatch.setenv("NPGRAD_OFFLINE", "1")
    with pytest.raises(OSError, match="NPGRAD_OFFLINE"):
        utils.get_file("new.bin", archive.as_uri(), cache_dir=cache)


def test_get_file_refuses_archive_entries_outside_the_folder(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="outside its folder"):
        utils.get_file("evil.tar", archive.as_uri(), extract=True, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "escape.txt").exists()


# ------------------------------------------------------------------ datasets
def test_split_dataset_sizes_structures_and_shuffle():
    x, y = np.arange(10), np.arange(10) * 10
    (xl, yl), (xr, yr) = utils.split_dataset((x, y), left_size=0.7)
    assert len(xl) == 7 and len(xr) == 3 and (yl == xl * 10).all()
    left, right = utils.split_dataset(x, right_size=2)
    assert list(right) == [8, 9] and len(left) == 8
    left, right = utils.split_dataset({"a": x}, left_size=4, right_size=3, shuffle=True, seed=0)
    assert len(left["a"]) == 4 and len(right["a"]) == 3 and not set(left["a"]) & set(right["a"])
    with pytest.raises(ValueError, match="exceed"):
        utils.split_dataset(x, left_size=8, right_size=5)
    with pytest.raises(ValueError, match="different lengths"):
        utils.split_dataset((x, y[:5]))


def test_timeseries_dataset_windows_and_targets():
    data = np.arange(20)
    ds = utils.timeseries_dataset_from_array(data[:-3], data[3:], sequence_length=3,
                                             sequence_stride=2, sampling_rate=1, batch_size=4)
    batches = list(ds)
    assert len(ds) == len(batches) == 2
    inputs, targets = batches[0]
    np.testing.assert_array_equal(inputs[1], [2, 3, 4])
    assert targets[1] == 5  # the step after the window
    everything = np.concatenate([b[0] for b in batches])
    assert everything.shape == (8, 3)
    shuffled = utils.timeseries_dataset_from_array(data, None, 4, batch_size=5, shuffle=True, seed=1)
    assert sorted(np.concatenate(list(shuffled))[:, 0].tolist()) == list(range(17))
    spaced = utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=2, batch_size=100,
                                                 start_index=2, end_index=12)
    np.testing.assert_array_equal(spaced[0][0], [2, 4, 6])
    assert spaced[0][-1, -1] == 11


def test_timeseries_dataset_feeds_fit_evaluate_and_predict():
    # keras.io's weather forecasting: keras.preprocessing.timeseries_dataset_from_array, then
    # fit(dataset_train, validation_data=dataset_val); targets shorter than the data
    series = np.sin(np.arange(120, dtype="float32") / 5.0)[:, None]
    train = npgrad.preprocessing.timeseries_dataset_from_array(
        series[:-5], series[5:90, 0], sequence_length=5, batch_size=16)
    assert sum(len(b[1]) for b in train) == 85  # min(115 - 5 + 1 windows, 85 targets)
    val = npgrad.preprocessing.timeseries_dataset_from_array(
        series[90:-5], series[95:, 0], sequence_length=5, batch_size=16)
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([npgrad.Input((5, 1)), npgrad.layers.LSTM(4),
                               npgrad.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert np.isfinite(model.evaluate(val, verbose=0))
    windows = np.stack([series[i:i + 5] for i in range(85)])
    np.testing.assert_allclose(model.predict(train, verbose=0),
                               model.predict(windows, verbose=0), rtol=1e-5, atol=1e-6)


def test_a_timeseries_dataset_keeps_its_order_in_fit():
    # like the tf.data dataset Keras returns, fit(shuffle=True) does not reorder its batches
    data = np.arange(40, dtype="float32")[:, None]
    ds = utils.timeseries_dataset_from_array(data, np.arange(40, dtype="float32"), 4,
                                             batch_size=4)
    firsts = []

    class Spy(type(ds)):
        def __getitem__(self, index):
            batch = super().__getitem__(index)
            firsts.append(float(batch[1][0]))
            return batch

    ds.__class__ = Spy
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([npgrad.Input((4, 1)), npgrad.layers.Flatten(),
                               npgrad.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(ds, epochs=1, shuffle=True, verbose=0)
    assert len(firsts) == len(ds) == 10 and firsts == sorted(firsts)


def test_timeseries_dataset_matches_keras():
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")  # Keras builds this dataset with tf.data
    data = np.arange(30, dtype="float32").reshape(15, 2)
    kwargs = dict(sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=2)
    ours = [b for b in utils.timeseries_dataset_from_array(data, data[:, 0], **kwargs)]
    theirs = [tuple(np.asarray(t) for t in b)
              for b in keras.utils.timeseries_dataset_from_array(data, data[:, 0], **kwargs)]
    assert len(ours) == len(theirs)
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_normalize_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0, 0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0, order=1), [[1, 1], [0, 0]])
    # a Tensor gives a Tensor that is differentiated, as Keras's (a supervised-contrastive
    # loss normalizes its embeddings with it: the model did not train)
    t = npgrad.Tensor(np.array([[3.0, 4.0]]), requires_grad=True)
    unit = utils.normalize(t, axis=1)
    assert isinstance(unit, npgrad.Tensor)
    unit[0, 0].backward()
    np.testing.assert_allclose(t.grad, [[4 * 4 / 125, -3 * 4 / 125]], rtol=1e-6)


def test_progbar_is_exported():
    assert utils.Progbar.__name__ == "Progbar"
