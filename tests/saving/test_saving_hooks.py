"""Keras 3's saving hooks, as keras.io's "customizing saving" guide uses them: build
config, compile config and assets (``save_own_variables`` is in test_object_registration)."""

import os
import zipfile

import numpy as np
import pytest

import npgrad
from npgrad import saving

pytest.importorskip("h5py", reason="h5py is needed for .keras files (pip install npgrad[keras])")


@saving.register_keras_serializable(package="hooks_test")
class CustomBuild(npgrad.layers.Layer):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape, layer_init):  # takes more than the shape
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
        self.layer_init = layer_init

    def call(self, x):
        return npgrad.ops.matmul(x, self.w)

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def get_build_config(self):
        return {**super().get_build_config(), "layer_init": self.layer_init}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])


def test_build_config_hooks_rebuild_a_layer_whose_build_needs_more(tmp_path):
    layer = CustomBuild(3)
    layer.build((None, 5), "ones")
    model = npgrad.Sequential([npgrad.Input((5,)), layer, npgrad.layers.Dense(1)])
    x = np.random.default_rng(0).random((2, 5)).astype("float32")
    model.save(tmp_path / "build.keras")
    loaded = npgrad.models.load_model(tmp_path / "build.keras")
    assert loaded.layers[0].layer_init == "ones"
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


@saving.register_keras_serializable(package="hooks_test")
def quarter_squares(y_true, y_pred):
    return npgrad.ops.mean(npgrad.ops.square(y_pred - y_true), axis=-1) / 4.0


@saving.register_keras_serializable(package="hooks_test")
class CustomCompile(npgrad.Model):
    def __init__(self):
        super().__init__()
        self.dense = npgrad.layers.Dense(2)

    def call(self, x):
        return self.dense(x)

    def compile(self, optimizer, loss_fn):  # not Keras's arguments
        super().compile(optimizer=optimizer, loss=loss_fn)
        self.chosen = (optimizer, loss_fn)

    def get_compile_config(self):
        return {"optimizer": self.chosen[0], "loss_fn": self.chosen[1]}

    def compile_from_config(self, config):
        self.compile(optimizer=config["optimizer"],
                     loss_fn=saving.deserialize_keras_object(config["loss_fn"]))


def test_compile_config_hooks_recompile_a_model_with_its_own_compile(tmp_path):
    model = CustomCompile()
    model.compile(optimizer="sgd", loss_fn=quarter_squares)
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    model.fit(x, y, verbose=0)
    model.save(tmp_path / "compile.keras")
    loaded = npgrad.models.load_model(tmp_path / "compile.keras")
    assert loaded.chosen == ("sgd", quarter_squares)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))

    class Failing(CustomCompile):
        def compile_from_config(self, config):
            raise RuntimeError("cannot")

    saving.register_keras_serializable(package="hooks_test", name="Failing")(Failing)
    failing = Failing()
    failing.compile(optimizer="sgd", loss_fn=quarter_squares)
    failing(x)
    failing.save(tmp_path / "failing.keras")
    with pytest.warns(UserWarning, match="compile_from_config failed .*RuntimeError: cannot"):
        npgrad.models.load_model(tmp_path / "failing.keras")


@saving.register_keras_serializable(package="hooks_test")
class Vocabulary(npgrad.layers.Dense):
    def __init__(self, units, vocab=None, **kwargs):
        super().__init__(units, **kwargs)
        self.vocab = vocab

    def save_assets(self, dir_path):
        os.makedirs(os.path.join(dir_path, "sub"))
        with open(os.path.join(dir_path, "sub", "vocabulary.txt"), "w") as file:
            file.write(self.vocab)

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, "sub", "vocabulary.txt")) as file:
            self.vocab = file.read().replace("<unk>", "little")


def test_asset_hooks_carry_files_in_the_archive(tmp_path):
    model = npgrad.Sequential([npgrad.Input((4,)), Vocabulary(2, vocab="Mary had a <unk> lamb.")])
    model.save(tmp_path / "assets.keras")
    with zipfile.ZipFile(tmp_path / "assets.keras") as archive:
        assert [n for n in archive.namelist() if n.startswith("assets/")] == [
            "assets/layers/vocabulary/sub/vocabulary.txt"]
    loaded = npgrad.models.load_model(tmp_path / "assets.keras")
    assert loaded.layers[0].vocab == "Mary had a little lamb."


def test_an_asset_name_that_leaves_its_folder_is_refused(tmp_path):
    model = npgrad.Sequential([npgrad.Input((4,)), Vocabulary(2, vocab="x")])
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as good, \
            zipfile.ZipFile(tmp_path / "evil.keras", "w") as evil:
        for name in good.namelist():
            evil.writestr(name, good.read(name))
        evil.writestr("assets/layers/vocabulary/../../../escaped.txt", b"gotcha")
    with pytest.raises(npgrad.errors.UnreadableFileError, match="leaves its folder"):
        npgrad.models.load_model(tmp_path / "evil.keras")
    assert not (tmp_path / "escaped.txt").exists()
