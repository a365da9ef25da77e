"""The TensorBoard callback's event files: TensorFlow's record format, read back by hand
(and by TensorBoard itself when it is installed)."""

import struct
from pathlib import Path

import numpy as np
import pytest

import npgrad
from npgrad.callbacks import tensorboard as tb


def test_crc32c_matches_the_castagnoli_check_value():
    assert tb.crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    assert tb.crc32c(b"") == 0


def _varint(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data):
    """{field number: [values]} of one protobuf message (varint, fixed64/32, bytes)."""
    out, at = {}, 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = data[at:at + 8], at + 8
        elif wire == 5:
            value, at = data[at:at + 4], at + 4
        else:
            length, at = _varint(data, at)
            value, at = data[at:at + length], at + length
        out.setdefault(number, []).append(value)
    return out


def read_scalars(path):
    """[(step, tag, value)] of an event file, every record's two CRCs checked."""
    data, at, found, header = Path(path).read_bytes(), 0, [], None
    while at < len(data):
        length_bytes = data[at:at + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        assert struct.unpack("<I", data[at + 8:at + 12])[0] == tb._masked(tb.crc32c(length_bytes))
        payload = data[at + 12:at + 12 + length]
        crc = data[at + 12 + length:at + 16 + length]
        assert struct.unpack("<I", crc)[0] == tb._masked(tb.crc32c(payload))
        at += 16 + length
        event = _fields(payload)
        step = event.get(2, [0])[0]
        if 3 in event:
            header = event[3][0].decode()
        for summary in event.get(5, []):
            for value in _fields(summary)[1]:
                fields = _fields(value)
                found.append((step, fields[1][0].decode(),
                              struct.unpack("<f", fields[2][0])[0]))
    assert header == "brain.Event:2"
    return found


def _fit(tmp_path, **kwargs):
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([npgrad.Input((3,)), npgrad.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 3)).astype("float32"), rng.integers(0, 2, 40)
    board = npgrad.callbacks.TensorBoard(log_dir=tmp_path / "logs", **kwargs)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, verbose=0,
                        callbacks=[board])
    return history.history


def _one_file(folder):
    files = list(folder.glob("events.out.tfevents.*.v2"))
    assert len(files) == 1, files
    return files[0]


def test_epoch_scalars_go_to_train_and_validation_as_keras_lays_them_out(tmp_path):
    history = _fit(tmp_path)
    train = read_scalars(_one_file(tmp_path / "logs" / "train"))
    validation = read_scalars(_one_file(tmp_path / "logs" / "validation"))
    for name in ("loss", "accuracy"):
        assert [v for s, t, v in train if t == f"epoch_{name}"] == pytest.approx(
            history[name], rel=1e-6)
        assert [s for s, t, v in train if t == f"epoch_{name}"] == [0, 1, 2]
        assert [v for s, t, v in validation if t == f"epoch_{name}"] == pytest.approx(
            history[f"val_{name}"], rel=1e-6)
    assert not any(t.startswith("batch_") for _, t, _ in train)


def test_batch_scalars_every_update_freq_batches(tmp_path):
    _fit(tmp_path, update_freq=2, write_steps_per_second=True)
    train = read_scalars(_one_file(tmp_path / "logs" / "train"))
    # 32 training samples in batches of 8: 4 a epoch, 12 in all, written at 2, 4, ... 12
    assert [s for s, t, _ in train if t == "batch_loss"] == [2, 4, 6, 8, 10, 12]
    assert len([t for _, t, _ in train if t == "epoch_steps_per_second"]) == 3


def test_what_it_cannot_write_is_said_and_bad_arguments_refused(tmp_path):
    with pytest.warns(UserWarning, match=r"scalars only; \['histogram_freq'\] ignored"):
        npgrad.callbacks.TensorBoard(tmp_path, histogram_freq=1)
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch' or a positive"):
        npgrad.callbacks.TensorBoard(tmp_path, update_freq=0)


def test_tensorboard_itself_reads_the_files(tmp_path):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="TensorBoard is not installed (pip install tensorboard)")
    history = _fit(tmp_path)
    reader = accumulator.EventAccumulator(str(tmp_path / "logs" / "validation"))
    reader.Reload()
    values = [event.value for event in reader.Scalars("epoch_loss")]
    assert values == pytest.approx(history["val_loss"], rel=1e-6)
