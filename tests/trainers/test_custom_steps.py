"""Keras 3's custom steps: train_step(self, data), fit(x) without targets, test/predict steps."""

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from npgrad.utils import pack_x_y_sample_weight, unpack_x_y_sample_weight


def regression_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3).astype("float32")
    return x, y


class KerasTorchStyle(npgrad.Model):
    """The custom step Keras's torch-backend guide writes, with the npgrad spelling."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(1)
        self.steps_seen = 0

    def call(self, x, training=False):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = list(self.trainable_weights)
        gradients = [v.grad for v in trainable_weights]
        self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        self.steps_seen += 1
        return {m.name: m.result() for m in self.metrics}


def test_keras_torch_style_train_step_trains_and_logs_metrics():
    npgrad.utils.set_random_seed(0)
    x, y = regression_data()
    model = KerasTorchStyle()
    model.compile(optimizer=npgrad.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert model.steps_seen == 5 * 6
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < 0.05 < history.history["loss"][0]
    np.testing.assert_allclose(model.dense.kernel.data.ravel(), [1.0, -2.0, 0.5], atol=0.1)


class NpgradStyle(npgrad.Model):
    """The documented npgrad step: compute_loss, backward, optimizer.apply, compute_metrics."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(1)

    def call(self, x, training=False):
        return self.dense(x)

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        loss.backward()
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.zero_grad()
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)


def test_a_custom_train_step_equals_the_default_one_bit_for_bit():
    x, y = regression_data()
    results = []
    for cls in (NpgradStyle, None):
        npgrad.utils.set_random_seed(3)
        if cls is None:
            model = npgrad.Sequential([L.Dense(1)])
        else:
            model = cls()
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
        results.append((model.get_weights(), history.history))
    (w_custom, h_custom), (w_default, h_default) = results
    for a, b in zip(w_custom, w_default):
        np.testing.assert_array_equal(a, b)
    assert h_custom == h_default


class AutoEncoder(npgrad.Model):
    """fit(x) alone: data is x itself, and the step makes its own target."""

    def __init__(self):
        super().__init__()
        self.encode = L.Dense(2, activation="tanh")
        self.decode = L.Dense(4)

    def call(self, x, training=False):
        return self.decode(self.encode(x))

    def train_step(self, data):
        assert isinstance(data, np.ndarray), "fit(x) passes x alone"
        x = data
        reconstruction = self(x, training=True)
        loss = self.compute_loss(x, x, reconstruction)
        loss.backward()
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.zero_grad()
        return self.compute_metrics(x, x, reconstruction, loss=loss)

    def test_step(self, data):
        x = data
        return self.compute_metrics(x, x, self(x), loss=self.compute_loss(x, x, self(x)))


def test_fit_with_x_only_passes_x_as_data_to_a_custom_step():
    npgrad.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(128, 2))
    x = (codes @ rng.normal(size=(2, 4))).astype("float32")  # rank-2 data: compressible
    model = AutoEncoder()
    model.compile(optimizer=npgrad.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert model.evaluate(x, verbose=0) == pytest.approx(history.history["loss"][-1], rel=0.5)


def test_the_default_train_step_still_requires_targets():
    model = npgrad.Sequential([L.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no y"):
        model.fit(np.zeros((4, 2)), verbose=0)


def test_test_step_and_predict_step_overrides_are_used():
    class Doubling(npgrad.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(1, kernel_initializer="ones", bias_initializer="zeros")

        def call(self, x, training=False):
            return self.dense(x)

        def predict_step(self, data):
            return 2.0 * self(data).numpy()

        def test_step(self, data):
            x, y = data
            return {"gap": float(np.abs(self(x).numpy() - y).mean())}

    model = Doubling()
    model.compile("sgd", "mse")
    x = np.ones((5, 3), "float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.full((5, 1), 6.0))
    logs = model.evaluate(x, np.zeros((5, 1)), verbose=0, return_dict=True)
    assert logs == {"gap": pytest.approx(3.0)}


@pytest.mark.parametrize("args, packed", [
    ((1,), 1),
    (((1, 2),), ((1, 2),)),
    (([1, 2],), ([1, 2],)),
    ((1, 2), (1, 2)),
    ((1, 2, 3), (1, 2, 3)),
    ((1, None, 3), (1, None, 3)),
])
def test_pack_and_unpack_are_inverse(args, packed):
    assert pack_x_y_sample_weight(*args) == packed
    x, y, w = unpack_x_y_sample_weight(packed)
    assert (x, y, w) == tuple(args) + (None,) * (3 - len(args))


def test_unpack_rejects_long_tuples():
    with pytest.raises(ValueError, match="4 elements"):
        unpack_x_y_sample_weight((1, 2, 3, 4))


def test_the_gan_step_also_runs_through_model_fit():
    # GAN.fit is Model.fit: callbacks and History see the GAN's own metrics
    from npgrad.models.gan import GAN

    npgrad.utils.set_random_seed(0)
    g = npgrad.Sequential([npgrad.Input((2,)), L.Dense(2)])
    d = npgrad.Sequential([npgrad.Input((2,)), L.Dense(1)])
    gan = GAN(g, d, latent_dim=2)
    gan.compile()
    seen = []
    callback = npgrad.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs))
    history = gan.fit(np.ones((32, 2), "float32"), epochs=2, batch_size=8, verbose=0,
                      callbacks=[callback])
    assert set(history.history) == {"d_loss", "g_loss"} and len(seen) == 2
    assert gan.train_on_batch(np.ones((8, 2), "float32"), return_dict=True).keys() == {
        "d_loss", "g_loss"}


class Distiller(npgrad.Model):
    """Keras 3's knowledge_distillation.py overrides compute_loss without ``training``."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(1)
        self.calls = []

    def call(self, x, training=False):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        self.calls.append("no training argument")
        return npgrad.ops.mean((y - y_pred) ** 2)


class TrainingAware(Distiller):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        self.calls.append(training)
        return npgrad.ops.mean((y - y_pred) ** 2)


def test_compute_loss_gets_training_only_when_it_takes_it():
    x, y = regression_data()
    plain = Distiller()
    plain.compile(optimizer=npgrad.optimizers.SGD(0.1))
    history = plain.fit(x, y, batch_size=32, epochs=3, verbose=0, validation_split=0.25)
    assert plain.calls == ["no training argument"] * (3 * 3 + 3)  # 3 train + 1 val batches
    assert history.history["loss"][-1] < history.history["loss"][0]
    aware = TrainingAware()
    aware.compile(optimizer=npgrad.optimizers.SGD(0.1))
    aware.fit(x, y, batch_size=32, epochs=1, verbose=0, validation_split=0.25)
    assert aware.calls == [True, True, True, False]


class DictInputs(npgrad.Model):
    """A subclassed model whose call takes a dict of inputs (Keras 3 passes it through)."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(1)

    def call(self, inputs):
        if isinstance(inputs, dict):
            return self.dense(inputs["a"]) + inputs["b"]
        a, b = inputs
        return self.dense(a) + b


def test_a_subclassed_model_takes_a_dict_or_list_of_inputs_batch_by_batch():
    rng = np.random.default_rng(0)
    a, b = rng.random((40, 4)).astype("float32"), rng.random((40, 1)).astype("float32")
    y = (a.sum(1, keepdims=True) + b).astype("float32")
    for x in ({"a": a, "b": b}, [a, b]):
        npgrad.utils.set_random_seed(0)
        model = DictInputs()
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0)
        assert len(history.history["val_loss"]) == 2
        expected = model.dense(a).numpy() + b
        np.testing.assert_allclose(model.predict(x, batch_size=16, verbose=0), expected, rtol=1e-6)
        loss = model.evaluate(x, y, verbose=0)
        np.testing.assert_allclose(loss, np.mean((expected - y) ** 2), rtol=1e-5)
        assert model.train_on_batch(x, y) > 0
    direct = DictInputs()({"a": np.ones((2, 4), "float32"), "b": np.ones((2, 1), "float32")})
    assert direct.shape == (2, 1)
    with pytest.raises(ValueError, match=r"same number of samples; got \{'a': 40, 'b': 39\}"):
        DictInputs().predict({"a": a, "b": b[:39]}, verbose=0)
    with pytest.raises(ValueError, match="is a dict with keys"):  # one input: as before
        npgrad.Sequential([L.Dense(1)]).predict({"a": a, "b": b}, verbose=0)


def test_nested_logs_of_a_custom_step_are_flattened():
    # keras.io's masked image modeling returns {"loss": ..., "compile_metrics": {...}}
    class Nested(npgrad.Model):
        def train_step(self, data):
            x, y = data
            loss = npgrad.ops.mean(npgrad.ops.square(self(x, training=True) - y))
            return {"loss": loss, "compile_metrics": {"mae": npgrad.ops.mean(
                npgrad.ops.abs(self(x) - y))}}

    inp = npgrad.Input((3,))
    model = Nested(inp, L.Dense(1)(inp))
    model.compile("adam", "mse")
    history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=1)
    assert sorted(history.history) == ["loss", "mae"] and len(history.history["mae"]) == 2
