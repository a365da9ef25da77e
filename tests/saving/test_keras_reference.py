"""npgrad -> .keras -> Keras 3 (torch backend) predicts the same; Keras's legacy .h5 -> npgrad.

Keras runs in a separate interpreter: ``NPGRAD_KERAS_PYTHON`` (default
``/work/refenv/bin/python``); the tests skip when it (or h5py here) is missing.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import npgrad
from tests.saving import keras_zoo

pytest.importorskip("h5py")
pytestmark = pytest.mark.filterwarnings("ignore:.*does not support masking")

KERAS_PYTHON = os.environ.get("NPGRAD_KERAS_PYTHON", "/work/refenv/bin/python")
HERE = Path(__file__).resolve().parent


def _keras_available():
    if not Path(KERAS_PYTHON).exists():
        return False
    result = subprocess.run([KERAS_PYTHON, "-c", "import keras, h5py"], check=False, capture_output=True,
                            env=dict(os.environ, KERAS_BACKEND="torch"), timeout=120)
    return result.returncode == 0


needs_keras = pytest.mark.skipif(not _keras_available(),
                                 reason=f"no Keras 3 interpreter at {KERAS_PYTHON}")


def run_keras(code_or_script, *args):
    """Run a script (a Path) or code (a str) under the Keras interpreter."""
    source = [str(code_or_script)] if isinstance(code_or_script, Path) else ["-c", code_or_script]
    command = [KERAS_PYTHON, *source, *map(str, args)]
    env = dict(os.environ, KERAS_BACKEND="torch")
    env.pop("PYTHONPATH", None)  # Keras's own environment, not npgrad's
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _as_list(value):
    return value if isinstance(value, list) else [value]


@needs_keras
@pytest.mark.parametrize("make", [keras_zoo.image_model, keras_zoo.sequence_model,
                                  lambda: keras_zoo.functional_model(masking=False)],
                         ids=["image", "sequence", "functional"])
def test_keras_loads_npgrad_archives_and_predicts_the_same(make, tmp_path):
    """npgrad -> .keras -> Keras predicts the same; Keras saves it again (its own config,
    every Keras default in) -> npgrad reads that back: the same predictions, the same
    optimizer state."""
    model = make()
    model.compile(optimizer="adam", loss="mse")
    x = keras_zoo.inputs(model)
    targets = [np.asarray(y) * 0 + 0.5 for y in _as_list(model.predict(x, verbose=0))]
    model.fit(x, targets if len(targets) > 1 else targets[0], epochs=1, batch_size=2,
              verbose=0)
    model.save(tmp_path / "m.keras")
    np.savez(tmp_path / "in.npz", **{f"x{i}": v for i, v in enumerate(_as_list(x))})
    run_keras(HERE / "keras_predict.py", tmp_path / "m.keras", tmp_path / "in.npz",
              tmp_path / "out.npz", tmp_path / "keras_made.keras")
    expected = _as_list(model.predict(x, verbose=0))
    with np.load(tmp_path / "out.npz") as keras_out:
        assert int(keras_out["iterations"]) == model.optimizer.iterations
        for i, y in enumerate(expected):
            np.testing.assert_allclose(keras_out[f"y{i}"], y, rtol=1e-4, atol=1e-5)
    back = npgrad.models.load_model(tmp_path / "keras_made.keras")
    for a, b in zip(_as_list(back.predict(x, verbose=0)), expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    state = model.optimizer.get_state(model.trainable_weights)
    back_state = back.optimizer.get_state(back.trainable_weights)
    assert back.optimizer.iterations == model.optimizer.iterations
    for key in state:
        np.testing.assert_allclose(back_state[key], state[key], rtol=1e-5, atol=1e-8)


KERAS_LEGACY = """
import sys, numpy as np, keras
from keras import layers as L
x = keras.Input((6, 6, 2))
h = L.Conv2D(3, 3, activation="relu")(x)
h = L.BatchNormalization()(h)
y = L.Dense(2, activation="softmax")(L.Flatten()(h))
model = keras.Model(x, y)
model.compile("sgd", "categorical_crossentropy")
data = np.random.default_rng(0).normal(size=(4, 6, 6, 2)).astype("float32")
model.fit(data, np.eye(2)[[0, 1, 0, 1]], epochs=1, verbose=0)
model.save(sys.argv[1] + "/legacy.h5")
model.save_weights(sys.argv[1] + "/k3.weights.h5")
np.savez(sys.argv[1] + "/ref.npz", x=data, y=keras.ops.convert_to_numpy(model.predict(data, verbose=0)))
"""


@needs_keras
def test_keras_legacy_h5_full_model_and_weights_load(tmp_path):
    run_keras(KERAS_LEGACY, tmp_path)
    with np.load(tmp_path / "ref.npz") as ref:
        x, y = ref["x"], ref["y"]
    model = npgrad.models.load_model(tmp_path / "legacy.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-4, atol=1e-6)
    assert isinstance(model.optimizer, npgrad.optimizers.SGD)
    fresh = npgrad.models.load_model(tmp_path / "legacy.h5", compile=False)
    for w in fresh.weights:
        w.data[...] = 0
    fresh.load_weights(tmp_path / "k3.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), y, rtol=1e-4, atol=1e-6)
    fresh.load_weights(tmp_path / "legacy.h5")  # the legacy file's weights, by layer name
    np.testing.assert_allclose(fresh.predict(x, verbose=0), y, rtol=1e-4, atol=1e-6)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


KERAS_CUSTOM = """
import sys, numpy as np, keras

@keras.saving.register_keras_serializable(package="interop")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
    def call(self, x):
        return x * self.scale * self.factor
    def get_config(self):
        return {**super().get_config(), "factor": self.factor}

model = keras.models.load_model(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
model.save(sys.argv[4])
"""


@needs_keras
def test_registered_custom_layer_moves_both_ways(tmp_path):
    """The same class registered under one name in Keras and in npgrad: npgrad -> Keras ->
    npgrad, weights and the constructor argument included."""
    from tests.saving.test_object_registration import Scale

    npgrad.saving.register_keras_serializable(package="interop")(Scale)
    try:
        model = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(4),
                                   Scale(factor=3.0, name="scale"), npgrad.layers.Dense(2)])
        model.layers[1].scale.data[...] = np.arange(4, dtype="float32")
        x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
        np.save(tmp_path / "x.npy", x)
        model.save(tmp_path / "m.keras")
        run_keras(KERAS_CUSTOM, tmp_path / "m.keras", tmp_path / "x.npy", tmp_path / "y.npy",
                  tmp_path / "back.keras")
        expected = model.predict(x, verbose=0)
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)
        back = npgrad.models.load_model(tmp_path / "back.keras")
        assert back.layers[1].factor == 3.0
        np.testing.assert_allclose(back.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    finally:
        from npgrad.saving import object_registration

        object_registration.GLOBAL_CUSTOM_OBJECTS.pop("interop>Scale", None)
        object_registration.GLOBAL_CUSTOM_NAMES.pop(Scale, None)
