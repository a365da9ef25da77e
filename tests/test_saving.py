"""Saving: round trips, exact resume, atomic writes and hostile files (never executes code)."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
from npgrad import layers, optimizers, saving
from npgrad.models import Sequential


def make_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = (x[:, :3] @ np.array([1.0, -2.0, 0.5], dtype=np.float32) > 0).astype(np.int64)
    return x, y


def make_model(seed=0, compile=True, optimizer=None):
    npgrad.utils.set_random_seed(seed)
    model = Sequential([
        layers.Dense(8, activation="relu", input_shape=(5,)),
        layers.BatchNormalization(),
        layers.Dropout(0.2),
        layers.Dense(2, activation="softmax"),
    ])
    if compile:
        model.compile(optimizer=optimizer or optimizers.Adam(learning_rate=0.01),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def assert_weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


@pytest.fixture
def trained(tmp_path):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model, x, y


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", ["model.npgrad", "model.keras", "model.npz", "model"])
def test_round_trip_gives_identical_predictions_at_the_exact_path(tmp_path, trained, name):
    model, x, _ = trained
    path = tmp_path / name
    saving.save_model(model, path)
    assert sorted(os.listdir(tmp_path)) == [name]  # nothing appended, no temp file left
    loaded = saving.load_model(path)
    assert type(loaded) is Sequential
    assert [type(layer).__name__ for layer in loaded.layers] == \
        ["Dense", "BatchNormalization", "Dropout", "Dense"]
    assert_weights_equal(model, loaded)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_batch_norm_moving_statistics_are_saved(tmp_path, trained):
    model, _, _ = trained
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean.data, 0)  # training moved them
    saving.save_model(model, tmp_path / "m.npgrad")
    loaded = saving.load_model(tmp_path / "m.npgrad")
    np.testing.assert_array_equal(loaded.layers[1].moving_mean.data, bn.moving_mean.data)
    np.testing.assert_array_equal(loaded.layers[1].moving_variance.data, bn.moving_variance.data)


def test_file_layout_is_a_plain_npz_with_json_config(tmp_path, trained):
    model, _, _ = trained
    saving.save_model(model, tmp_path / "m.npgrad")
    with np.load(tmp_path / "m.npgrad", allow_pickle=False) as archive:
        files = set(archive.files)
        marker = bytes(archive["__npgrad__"])
        meta = json.loads(archive["config.json"].tobytes().decode("utf-8"))
    assert marker == b"NPGRAD" + bytes([saving.FORMAT_VERSION])
    assert meta["kind"] == "model"
    assert meta["model"]["class_name"] == "Sequential"
    assert [entry["class_name"] for entry in meta["model"]["config"]["layers"]][-1] == "Dense"
    n = len(model.weights)
    assert {f"weights/{i:05d}" for i in range(n)} <= files
    assert "optimizer/iterations" in files
    assert any(name.startswith("optimizer/slots/") for name in files)


def test_loaded_model_is_compiled_with_the_saved_optimizer_and_state(tmp_path, trained):
    model, _, _ = trained
    saving.save_model(model, tmp_path / "m.npgrad")
    loaded = saving.load_model(tmp_path / "m.npgrad")
    assert type(loaded.optimizer) is optimizers.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    before = model.optimizer.get_state(model.trainable_weights)
    after = loaded.optimizer.get_state(loaded.trainable_weights)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])


def test_compile_false_gives_an_uncompiled_model(tmp_path, trained):
    model, x, _ = trained
    saving.save_model(model, tmp_path / "m.npgrad")
    loaded = saving.load_model(tmp_path / "m.npgrad", compile=False)
    assert getattr(loaded, "optimizer", None) is None
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_include_optimizer_false_saves_no_optimizer_state(tmp_path, trained):
    model, _, _ = trained
    saving.save_model(model, tmp_path / "m.npgrad", include_optimizer=False)
    with np.load(tmp_path / "m.npgrad", allow_pickle=False) as archive:
        assert not [name for name in archive.files if name.startswith("optimizer/")]
    loaded = saving.load_model(tmp_path / "m.npgrad")
    assert loaded.optimizer.iterations == 0


@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Adam(learning_rate=0.01),
    lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5),
    lambda: optimizers.Nadam(learning_rate=0.01),
])
def test_resumed_fit_continues_exactly(tmp_path, optimizer):
    x, y = make_data()
    straight = make_model(seed=3, optimizer=optimizer())
    npgrad.utils.set_random_seed(11)
    straight.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)

    first = make_model(seed=3, optimizer=optimizer())
    npgrad.utils.set_random_seed(11)
    first.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    saving.save_model(first, tmp_path / "ckpt.npgrad")
    # building the loaded layers draws initial values: keep dropout's random stream aligned
    rng_state = npgrad.random.generator().bit_generator.state
    resumed = saving.load_model(tmp_path / "ckpt.npgrad")
    npgrad.random.generator().bit_generator.state = rng_state
    resumed.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)

    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 6


def test_weights_only_round_trip_and_from_a_model_file(tmp_path, trained):
    model, x, _ = trained
    saving.save_weights(model, tmp_path / "w.npgrad")
    other = make_model(seed=42)
    saving.load_weights(other, tmp_path / "w.npgrad")
    assert_weights_equal(model, other)
    np.testing.assert_array_equal(model.predict(x, verbose=0), other.predict(x, verbose=0))

    saving.save_model(model, tmp_path / "full.npgrad")
    third = make_model(seed=7)
    saving.load_weights(third, tmp_path / "full.npgrad")
    assert_weights_equal(model, third)


def test_load_model_on_a_weights_file_says_to_use_load_weights(tmp_path, trained):
    model, _, _ = trained
    saving.save_weights(model, tmp_path / "w.npgrad")
    with pytest.raises(ValueError, match="load_weights"):
        saving.load_model(tmp_path / "w.npgrad")


def test_weight_shape_and_count_mismatches_are_named(tmp_path, trained):
    model, _, _ = trained
    saving.save_weights(model, tmp_path / "w.npgrad")
    wider = Sequential([layers.Dense(9, activation="relu", input_shape=(5,)),
                        layers.BatchNormalization(), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"shape \(5, 8\).*shape \(5, 9\)"):
        saving.load_weights(wider, tmp_path / "w.npgrad")
    shorter = Sequential([layers.Dense(8, input_shape=(5,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="holds 8 weights but the model .* has 4"):
        saving.load_weights(shorter, tmp_path / "w.npgrad")


def test_overwrite_false_refuses_an_existing_file(tmp_path, trained):
    model, _, _ = trained
    saving.save_model(model, tmp_path / "m.npgrad")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        saving.save_model(model, tmp_path / "m.npgrad", overwrite=False)
    with pytest.raises(FileExistsError):
        saving.save_weights(model, tmp_path / "m.npgrad", overwrite=False)


def test_missing_file_and_folder(tmp_path, trained):
    model, _, _ = trained
    with pytest.raises(FileNotFoundError):
        saving.load_model(tmp_path / "nope.npgrad")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        saving.save_model(model, tmp_path / "no" / "such" / "m.npgrad")


# ----------------------------------------------------------------------------- atomicity
def _exploding_savez(real_savez):
    def savez(file, **arrays):
        file.write(b"PK\x03\x04 half a checkpoint")  # the temp file gets partly written
        raise OSError("disk full (simulated)")
    return savez


def test_a_crash_mid_save_leaves_the_previous_checkpoint_intact(tmp_path, trained, monkeypatch):
    model, x, y = trained
    path = tmp_path / "m.npgrad"
    saving.save_model(model, path)
    good_bytes = path.read_bytes()
    expected = model.predict(x, verbose=0)

    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # change the weights
    monkeypatch.setattr(np, "savez", _exploding_savez(np.savez))
    with pytest.raises(OSError, match="disk full"):
        saving.save_model(model, path)
    with pytest.raises(OSError, match="disk full"):
        saving.save_weights(model, path)
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["m.npgrad"]  # temp files removed
    assert path.read_bytes() == good_bytes
    np.testing.assert_array_equal(saving.load_model(path).predict(x, verbose=0), expected)


def test_a_failing_rename_leaves_the_previous_checkpoint_intact(tmp_path, trained, monkeypatch):
    model, _, _ = trained
    path = tmp_path / "m.npgrad"
    saving.save_model(model, path)
    good_bytes = path.read_bytes()

    def failing_replace(src, dst):
        raise PermissionError("rename refused (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        saving.save_model(model, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.npgrad"]
    assert path.read_bytes() == good_bytes


def test_save_fsyncs_the_file_before_renaming(tmp_path, trained, monkeypatch):
    model, _, _ = trained
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    saving.save_model(model, tmp_path / "m.npgrad")
    assert events[:2] == ["fsync", "replace"]
    assert events.count("fsync") == 2  # the file, then its folder


# ----------------------------------------------------------------------------- hostile files
class _Payload:
    """Unpickling this would create ``path``: the file must never be unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickled_object_array_is_refused_and_never_executed(tmp_path, trained):
    model, _, _ = trained
    marker_file = tmp_path / "pwned"
    hostile = tmp_path / "hostile.npgrad"
    saving.save_model(model, tmp_path / "good.npgrad")
    with np.load(tmp_path / "good.npgrad", allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["weights/00000"] = np.array([_Payload(marker_file)], dtype=object)
    with open(hostile, "wb") as file:
        np.savez(file, **arrays)  # numpy pickles the object array into the archive
    for load in (saving.load_model, lambda p: saving.load_weights(make_model(), p)):
        with pytest.raises(ValueError, match="hostile.npgrad"):
            load(hostile)
    assert not marker_file.exists()


def test_a_pickle_file_is_refused_and_never_executed(tmp_path):
    import pickle

    marker_file = tmp_path / "pwned"
    hostile = tmp_path / "hostile.npgrad"
    hostile.write_bytes(pickle.dumps(_Payload(marker_file)))
    with pytest.raises(ValueError, match="hostile.npgrad"):
        saving.load_model(hostile)
    assert not marker_file.exists()


def _archive_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _marker(version=saving.FORMAT_VERSION):
    return np.frombuffer(b"NPGRAD" + bytes([version]), dtype=np.uint8)


def _json(obj):
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


@pytest.mark.parametrize("content, message", [
    (b"", "not an npz"),
    (b"hello world, not an archive", "not an npz"),
    (bytes(range(256)) * 4, "not an npz"),
    (b"PK\x03\x04 garbage after a zip signature", "not a readable zip archive"),
    (_archive_bytes(a=np.ones(3)), "marker"),
    (_archive_bytes(__npgrad__=np.frombuffer(b"KERAS!\x01", dtype=np.uint8)), "marker"),
    (_archive_bytes(__npgrad__=_marker()), "config.json"),
    (_archive_bytes(__npgrad__=_marker(), **{"config.json": np.frombuffer(b"{not json", np.uint8)}),
     "not valid JSON"),
    (_archive_bytes(__npgrad__=_marker(), **{"config.json": _json([1, 2])}), "kind"),
    (_archive_bytes(__npgrad__=_marker(), **{"config.json": _json({"kind": "weights",
                                                                     "weights": [{}]})}),
     "weights/00000"),
    (_archive_bytes(__npgrad__=_marker(), **{"config.json": _json({"kind": "weights",
                                                                     "weights": []}),
                                            "extra": np.ones(2)}), "unexpected entries"),
    (_archive_bytes(__npgrad__=_marker(), **{"config.json": _json({"kind": "weights",
                                                                     "weights": [{}]}),
                                            "weights/00000": np.array(["a"])}), "non-numeric"),
])
def test_malformed_files_raise_a_value_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.npgrad"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        saving.load_model(path)
    assert "bad.npgrad" in str(info.value)


def test_a_single_npy_array_is_refused(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match="single .npy"):
        saving.load_weights(make_model(), path)


def test_a_newer_format_version_asks_to_upgrade(tmp_path):
    path = tmp_path / "future.npgrad"
    path.write_bytes(_archive_bytes(__npgrad__=_marker(saving.FORMAT_VERSION + 1),
                                    **{"config.json": _json({"kind": "weights", "weights": []})}))
    with pytest.raises(ValueError, match="upgrade npgrad"):
        saving.load_model(path)


def _model_file(tmp_path, model_config, name="crafted.npgrad"):
    path = tmp_path / name
    meta = {"kind": "model", "model": model_config, "weights": [], "compile": None}
    path.write_bytes(_archive_bytes(__npgrad__=_marker(), **{"config.json": _json(meta)}))
    return path


@pytest.mark.parametrize("model_config, message", [
    ({"class_name": "os.system", "config": {}}, "unknown model class"),
    ({"class_name": ["Sequential"], "config": {}}, "class_name"),
    ({"class_name": "Sequential",
      "config": {"name": "s", "layers": [{"class_name": "subprocess.Popen", "config": {}}]}},
     "unknown layer class"),
    ({"class_name": "Sequential",
      "config": {"name": "s", "layers": [{"class_name": "Dense",
                                          "config": {"units": 2, "__class__": "x"}}]}},
     "cannot rebuild"),
])
def test_hostile_configs_are_refused_by_name_lookup(tmp_path, model_config, message):
    path = _model_file(tmp_path, model_config)
    with pytest.raises(ValueError, match=message):
        saving.load_model(path)


@settings(max_examples=25, deadline=None)
@given(cut=st.floats(0.0, 1.0), flips=st.lists(st.integers(0, 10**6), max_size=4))
def test_truncated_or_corrupted_checkpoints_only_raise_value_error(tmp_path_factory, cut, flips):
    folder = tmp_path_factory.mktemp("corrupt")
    model = make_model(seed=1)
    model.fit(*make_data(16), epochs=1, verbose=0)
    saving.save_model(model, folder / "good.npgrad")
    data = bytearray((folder / "good.npgrad").read_bytes())
    for position in flips:
        data[position % len(data)] ^= 0xFF
    data = bytes(data[: int(len(data) * cut)]) if cut < 1.0 else bytes(data)
    path = folder / "corrupt.npgrad"
    path.write_bytes(data)
    try:
        loaded = saving.load_model(path)
    except ValueError as error:
        assert "corrupt.npgrad" in str(error)
    else:  # flips that land in padding or in weight values may still load
        assert len(loaded.weights) == len(model.weights)


def test_a_zip_with_a_directory_traversal_name_is_just_refused(tmp_path):
    path = tmp_path / "evil.npgrad"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../escape.npy", b"\x93NUMPY")
    with pytest.raises(ValueError, match="evil.npgrad"):
        saving.load_model(path)
    assert not (tmp_path.parent.parent / "escape.npy").exists()


def test_lazily_built_and_uncompiled_models_round_trip(tmp_path):
    x, y = make_data(16)
    npgrad.utils.set_random_seed(2)
    lazy = Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    lazy.compile(optimizer="sgd", loss="mse")
    lazy.fit(x, np.eye(2, dtype=np.float32)[y], epochs=1, verbose=0)  # builds from the data
    saving.save_model(lazy, tmp_path / "lazy.npgrad")
    loaded = saving.load_model(tmp_path / "lazy.npgrad")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), lazy.predict(x, verbose=0))

    plain = Sequential([layers.Dense(3, input_shape=(5,))])
    plain.save(tmp_path / "plain.npgrad")  # the Model method goes through npgrad.saving
    loaded = npgrad.models.load_model(tmp_path / "plain.npgrad")
    assert getattr(loaded, "optimizer", None) is None
    assert_weights_equal(plain, loaded)


@pytest.mark.parametrize("functional", [False, True])
def test_variable_length_sequence_model_round_trip(tmp_path, functional):
    # Input((None, 2)): the time axis stays None in the saved build shape
    layers = npgrad.layers
    if functional:
        x = npgrad.Input((None, 2))
        model = npgrad.Model(x, layers.Dense(1)(layers.LSTM(4)(x)))
    else:
        model = npgrad.Sequential([npgrad.Input((None, 2)), layers.LSTM(4), layers.Dense(1)])
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.random((8, 5, 2), dtype=np.float32), np.zeros((8, 1), np.float32), verbose=0)
    model.save(tmp_path / "m.npgrad")
    loaded = npgrad.models.load_model(tmp_path / "m.npgrad")
    for steps in (3, 7):
        batch = rng.random((4, steps, 2), dtype=np.float32)
        np.testing.assert_array_equal(loaded.predict(batch, verbose=0),
                                      model.predict(batch, verbose=0))
