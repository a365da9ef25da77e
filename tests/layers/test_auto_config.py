"""A custom layer without get_config saves and reloads through the arguments it was created
with (Keras 3's auto-config), when they are plain values."""

import numpy as np
import pytest

import npgrad
from npgrad import layers


class AutoScale(layers.Layer):
    """keras.io's DepthToSpace pattern: an argument, no get_config of its own."""

    def __init__(self, factor, offsets=(0.0,), **kwargs):
        super().__init__(**kwargs)
        self.factor, self.offsets = factor, offsets

    def call(self, x):
        return x * self.factor + self.offsets[0]


class AutoHolder(layers.Layer):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner


class AutoExplicit(AutoScale):
    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_plain_arguments_become_the_config_and_reload(tmp_path):
    config = AutoScale(2.0, offsets=[1.0], name="scale_x").get_config()
    assert config == {"name": "scale_x", "factor": 2.0, "offsets": [1.0], "trainable": True,
                      "dtype": "float32"}
    inp = npgrad.Input((3,))
    model = npgrad.Model(inp, AutoScale(3.0)(inp))
    model.save(tmp_path / "scaled.keras")
    restored = npgrad.models.load_model(tmp_path / "scaled.keras",
                                        custom_objects={"AutoScale": AutoScale})
    np.testing.assert_array_equal(restored.predict(np.ones((1, 3)), verbose=0), [[3.0] * 3])
    clone = npgrad.models.clone_model(model)
    assert clone.layers[-1].factor == 3.0


def test_objects_and_own_get_config_are_left_alone():
    assert "inner" not in AutoHolder(layers.Dense(2)).get_config()  # not a plain value
    config = AutoExplicit(2.0, offsets=[5.0]).get_config()  # a get_config of its own wins
    assert config["factor"] == 2.0 and "offsets" not in config
    assert "units" in layers.Dense(3).get_config()  # npgrad's layers write their own


def test_a_subclassed_model_records_its_arguments_too():
    class Tower(npgrad.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    assert Tower(units=4).get_config()["units"] == 4
    rebuilt = Tower.from_config(Tower(units=5).get_config())
    assert rebuilt(np.ones((1, 2))).shape == (1, 5)
    with pytest.raises(TypeError):
        AutoScale.from_config({"name": "s"})  # the argument it needs is not there
