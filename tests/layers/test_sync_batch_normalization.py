"""BatchNormalization(synchronized=True) and SyncBatchNormalization without MPI: configs,
saving, one process (plain batch norm, bit for bit) and the route through the communicator."""

import json
import zipfile

import numpy as np
import pytest

import npgrad
import npgrad.layers as L
from npgrad.distribution import DataParallel
from npgrad.distribution.communicator import LocalCommunicator


def _batch(shape=(12, 4, 4, 3), seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * 2 + 5


class Twin(LocalCommunicator):
    """Two ranks holding the same slice: every allreduce doubles the buffer; counts calls."""

    size = 2

    def __init__(self):
        self.calls = []

    def allreduce_sum(self, buffer):
        self.calls.append(buffer.size)
        buffer *= 2
        return buffer


def _run(layer, x, upstream, training=True):
    xt = npgrad.Tensor(x.copy(), requires_grad=True)
    out = layer(xt, training=training)
    out.backward(upstream)
    return [out.numpy(), xt.grad] + [w.grad for w in layer.trainable_weights] + [
        w.numpy().copy() for w in layer.non_trainable_weights]


@pytest.mark.parametrize("make", [lambda **k: L.BatchNormalization(synchronized=True, **k),
                                  lambda **k: L.SyncBatchNormalization(**k)])
def test_one_process_is_plain_batch_norm_bit_for_bit(make):
    x, upstream = _batch(), _batch(seed=1)
    expected = _run(L.BatchNormalization(momentum=0.9, dtype="float64"), x, upstream)
    got = _run(make(momentum=0.9, dtype="float64"), x, upstream)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    npgrad.distribution.set_distribution(DataParallel())  # one process: nothing to reduce
    try:
        got = _run(make(momentum=0.9, dtype="float64"), x, upstream)
    finally:
        npgrad.distribution.set_distribution(None)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_under_a_distribution_the_layer_reduces_through_the_communicator():
    """Twin ranks with one slice: global statistics are the slice's, and the trainer's
    combination (share 1/2 on each of the two ranks) gives plain batch norm's gradients."""
    x, upstream = _batch(), _batch(seed=1)
    expected = _run(L.BatchNormalization(momentum=0.9, dtype="float64"), x, upstream)
    twin = Twin()
    npgrad.distribution.set_distribution(DataParallel(communicator=twin))
    try:
        got = _run(L.BatchNormalization(momentum=0.9, synchronized=True, dtype="float64"), x,
                   upstream)
        assert twin.calls == [4, 3, 6]  # [count, sum x], centered squares; [sum g, sum g xhat]
        plain = _run(L.BatchNormalization(momentum=0.9, dtype="float64"), x, upstream)
        layer = L.SyncBatchNormalization(dtype="float64")
        layer(x, training=True)
        layer(x, training=False)  # inference: the moving statistics, nothing to reduce
        assert len(twin.calls) == 5
    finally:
        npgrad.distribution.set_distribution(None)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(plain, expected):  # the default keeps per-process statistics
        np.testing.assert_array_equal(a, b)


def test_config_round_trip_and_keras_name():
    layer = L.BatchNormalization(synchronized=True, momentum=0.8)
    config = layer.get_config()
    assert config["synchronized"] is True
    again = L.BatchNormalization.from_config(config)
    assert again.synchronized and again.momentum == 0.8
    assert L.BatchNormalization().get_config()["synchronized"] is False
    sync = L.SyncBatchNormalization(epsilon=1e-5)
    assert sync.synchronized and isinstance(sync, L.BatchNormalization)
    restored = L.deserialize(L.serialize(sync))
    assert type(restored) is L.SyncBatchNormalization and restored.epsilon == 1e-5
    with pytest.raises(TypeError, match="synchronized"):
        L.BatchNormalization(synchronized="yes")


def test_a_saved_model_keeps_the_flag(tmp_path):
    x = _batch((8, 3))
    model = npgrad.Sequential([npgrad.Input((3,)), L.Dense(4),
                               L.BatchNormalization(synchronized=True), L.SyncBatchNormalization(),
                               L.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    path = tmp_path / "m.npgrad"
    model.save(path)
    loaded = npgrad.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers[1:3]] == [
        "BatchNormalization", "SyncBatchNormalization"]
    assert loaded.layers[1].synchronized and loaded.layers[2].synchronized
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_keras_file_names_the_layer_as_keras_3_does(tmp_path):
    # Keras 3 has no SyncBatchNormalization class: its name is BatchNormalization(synchronized=
    # True), which Keras opens (on its TensorFlow backend, the one that supports the flag)
    model = npgrad.Sequential([npgrad.Input((3,)), L.SyncBatchNormalization(), L.Dense(1)])
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        layers = json.loads(archive.read("config.json"))["config"]["layers"]
    assert [(spec["class_name"], spec["config"].get("synchronized")) for spec in layers[1:]] == [
        ("BatchNormalization", True), ("Dense", None)]
    loaded = npgrad.models.load_model(path)
    assert type(loaded.layers[0]) is L.BatchNormalization and loaded.layers[0].synchronized
