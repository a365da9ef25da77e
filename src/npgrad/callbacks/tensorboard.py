"""TensorBoard: the training curves as TensorBoard event files, written without TensorFlow.

Keras's callback writes through ``tf.summary``. This one writes the same scalars in the
same layout, by hand: ``log_dir/train`` and ``log_dir/validation`` each get an event file
(``events.out.tfevents.<time>.<host>.<pid>.<n>.v2``) holding one ``epoch_<name>`` scalar per
epoch and log entry (``epoch_loss``, ``epoch_accuracy``...; the ``val_`` entries go to
``validation`` under the same tags), and with ``update_freq="batch"`` or an integer, one
``batch_<name>`` scalar every that many batches. ``tensorboard --logdir logs`` shows them.

The file format is TensorFlow's record file of ``Event`` protocol buffers: each record is
its length (8 bytes, little-endian), the masked CRC-32C of those 8 bytes, the serialized
``Event``, and its masked CRC-32C. The few protobuf fields a scalar needs (``wall_time``,
``step``, ``file_version``, ``summary.value.tag`` and ``simple_value``) are encoded here.

Graphs, histograms, images, profiles and embeddings are not written: asking for them
(``histogram_freq``, ``write_images``, ``profile_batch``, ``embeddings_freq``) warns once.

Example:
    >>> board = npgrad.callbacks.TensorBoard(log_dir="logs/run1")
    >>> model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[board])
"""

from __future__ import annotations

import os
import socket
import struct
import time
import warnings

import numpy as np

from npgrad.callbacks.callback import Callback


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli) of ``data`` bytes, as TensorFlow's record files use it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc):
    """TensorFlow's masked CRC: rotated right by 15 bits plus a constant."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(payload):
    """One record of a TensorFlow record file holding ``payload`` bytes."""
    length = struct.pack("<Q", len(payload))
    return (length + struct.pack("<I", _masked(crc32c(length))) + payload
            + struct.pack("<I", _masked(crc32c(payload))))


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, wire_type, payload):
    """A protobuf field: key, then (length-delimited fields) the length, then the bytes."""
    key = _varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + _varint(len(payload)) + payload
    return key + payload


def event(step, wall_time, scalars=None, file_version=None):
    """A serialized ``Event``: a ``file_version`` header, or ``{tag: value}`` scalars."""
    out = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(int(step)))
    if file_version is not None:
        out += _field(3, 2, file_version.encode())
    if scalars:
        values = b"".join(
            _field(1, 2, _field(1, 2, tag.encode()) + _field(2, 5, struct.pack("<f", value)))
            for tag, value in scalars.items())
        out += _field(5, 2, values)
    return out


class EventFile:
    """An append-only TensorBoard event file in ``directory`` (made if missing)."""

    _count = 0

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        EventFile._count += 1
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{EventFile._count}.v2")
        self.path = os.path.join(directory, name)
        self._file = open(self.path, "ab")
        self._file.write(record(event(0, time.time(), file_version="brain.Event:2")))
        self._file.flush()

    def scalars(self, step, values):
        """Write ``{tag: number}`` at ``step`` (flushed, so TensorBoard sees it at once)."""
        if values:
            self._file.write(record(event(step, time.time(), scalars=values)))
            self._file.flush()

    def close(self):
        self._file.close()


class TensorBoard(Callback):
    """Write the training and validation logs as TensorBoard scalars (Keras's arguments).

    Args:
        log_dir: the run's folder; ``train`` and ``validation`` event files go beneath it.
        update_freq: ``"epoch"`` (default), ``"batch"``, or an integer: also write the
            training logs every that many batches, as ``batch_<name>``.
        histogram_freq, write_graph, write_images, write_steps_per_second, profile_batch,
        embeddings_freq, embeddings_metadata: accepted for Keras compatibility; the
        graph, histograms, images, profiles and embeddings are not written (non-default
        values warn once). ``write_steps_per_second`` adds ``epoch_steps_per_second``.
    """

    chief_only = True  # only rank 0 writes in a data-parallel run

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if update_freq != "epoch" and update_freq != "batch" and not (
                isinstance(update_freq, (int, np.integer)) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"integer, got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.write_steps_per_second = write_steps_per_second
        unsupported = [name for name, value, default in (
            ("histogram_freq", histogram_freq, 0), ("write_images", write_images, False),
            ("profile_batch", profile_batch, 0), ("embeddings_freq", embeddings_freq, 0))
            if value != default]
        if unsupported:
            warnings.warn(f"TensorBoard: npgrad writes scalars only; {unsupported} ignored",
                          stacklevel=2)
        self._writers = {}
        self._batches = 0
        self._epoch_start = None

    def _writer(self, kind):
        if kind not in self._writers:
            self._writers[kind] = EventFile(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs=None):
        self._writer("train")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = (time.perf_counter(), self._batches)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0:
            values = {f"batch_{k}": v for k, v in (logs or {}).items()}
            self._writer("train").scalars(self._batches, _numbers(values))

    def on_epoch_end(self, epoch, logs=None):
        train, validation = {}, {}
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                validation[f"epoch_{key[4:]}"] = value
            else:
                train[f"epoch_{key}"] = value
        if self.write_steps_per_second and self._epoch_start is not None:
            seconds = time.perf_counter() - self._epoch_start[0]
            steps = self._batches - self._epoch_start[1]
            if seconds > 0:
                train["epoch_steps_per_second"] = steps / seconds
        self._writer("train").scalars(epoch, _numbers(train))
        if validation:
            self._writer("validation").scalars(epoch, _numbers(validation))

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _numbers(values):
    """The entries of a log dict that are single numbers, as floats."""
    out = {}
    for key, value in values.items():
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if array.size == 1:
            out[key] = float(array.reshape(()))
    return out
