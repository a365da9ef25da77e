"""compile / fit / evaluate / predict on small synthetic problems: learning, logs, Keras semantics."""

import numpy as np
import pytest

import npgrad
from npgrad import callbacks, layers, losses, metrics, optimizers
from npgrad.models import Sequential


def blobs(n=200, seed=0):
    """Two Gaussian blobs in 2-D, labels 0/1, shuffled."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(-2, 1, (n // 2, 2)), rng.normal(2, 1, (n // 2, 2))])
    y = np.repeat([0, 1], n // 2)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def small_classifier():
    return Sequential([layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")])


def frozen_regressor():
    """Dense(1, no bias, zero kernel) fed zeros: its gradient is 0, so it predicts 0 forever."""
    return Sequential([layers.Dense(1, use_bias=False, kernel_initializer="zeros")])


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda *args: self.calls.append((name, args[0] if len(args) > 1 else None))
        return super().__getattribute__(name)


def test_fit_learns_separable_blobs():
    npgrad.utils.set_random_seed(0)
    x, y = blobs()
    model = small_classifier()
    model.compile(optimizer=optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 15 for values in history.history.values())
    assert history.epoch == list(range(15))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.95
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.95 and loss < 0.3
    probs = model.predict(x, batch_size=7, verbose=0)
    assert probs.shape == (200, 2) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(probs.argmax(axis=1) == y) == pytest.approx(accuracy)
    assert model.history is history


def test_accuracy_resolves_like_keras():
    x, y = blobs(40)
    cases = [
        ("sparse_categorical_crossentropy", y, 2, metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", np.eye(2)[y], 2, metrics.CategoricalAccuracy),
        ("binary_crossentropy", y[:, None].astype(np.float32), 1, metrics.BinaryAccuracy),
        ("mse", y[:, None].astype(np.float32), 1, metrics.BinaryAccuracy),  # by output shape
        ("mse", np.eye(2)[y], 2, metrics.CategoricalAccuracy),
    ]
    for loss, target, units, expected in cases:
        model = Sequential([layers.Dense(units, activation="sigmoid" if units == 1 else "softmax")])
        model.compile("sgd", loss, metrics=["acc"])
        logs = model.evaluate(x, target, verbose=0, return_dict=True)
        assert set(logs) == {"acc", "loss"}
        assert isinstance(model.metrics[1], expected), (loss, units)


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    # batches of 3, 3, 3, 1: the mean of batch means would differ from the sample mean
    x = np.zeros((10, 2), dtype=np.float32)
    y = np.arange(10, dtype=np.float32)[:, None]
    model = frozen_regressor()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=3, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.mean(y ** 2), rel=1e-6)
    assert model.evaluate(x, y, batch_size=3, verbose=0) == pytest.approx(np.mean(y ** 2), rel=1e-6)


def test_validation_split_takes_the_last_samples_before_shuffling():
    x = np.zeros((50, 2), dtype=np.float32)
    y = np.zeros((50, 1), dtype=np.float32)
    y[40:] = 10.0  # the last 20 %
    model = frozen_regressor()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, validation_split=0.2, epochs=2, batch_size=8, shuffle=True, verbose=0)
    assert history.history["loss"] == [0.0, 0.0]
    assert history.history["val_loss"] == [pytest.approx(100.0)] * 2
    # validation_data takes precedence and may carry sample weights
    weights = np.full(5, 0.5, dtype=np.float32)
    history = model.fit(x[:10], y[:10], validation_data=(x[:5], np.ones((5, 1)), weights),
                        validation_split=0.5, verbose=0)
    assert history.history["val_loss"] == [pytest.approx(0.5)]
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x[:3], y[:3], validation_split=0.9, verbose=0)  # no training sample left


def test_fit_is_bitwise_reproducible_with_set_random_seed():
    x, y = blobs(64, seed=3)

    def run():
        npgrad.utils.set_random_seed(42)
        model = Sequential([layers.Dense(8, activation="relu"), layers.Dropout(0.3),
                            layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=10, verbose=0)  # shuffled, with dropout
        return model.get_weights()

    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    npgrad.utils.set_random_seed(43)
    model = Sequential([layers.Dense(8, activation="relu"), layers.Dense(2)])
    model.build((None, 2))
    assert not np.array_equal(model.get_weights()[0], first[0])


def test_shuffle_changes_the_batches():
    x, y = blobs(64, seed=3)
    results = []
    for shuffle in (False, True):
        npgrad.utils.set_random_seed(5)
        model = small_classifier()
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=8, shuffle=shuffle, verbose=0)
        results.append(model.get_weights()[0])
    assert not np.allclose(results[0], results[1])


def test_train_test_predict_on_batch():
    x, y = blobs(32)
    npgrad.utils.set_random_seed(1)
    model = small_classifier()
    model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    losses_seen = [model.train_on_batch(x, y)[0] for _ in range(20)]
    after = model.test_on_batch(x, y)
    assert after[0] < before[0] and losses_seen[-1] < losses_seen[0]
    assert model.optimizer.iterations == 20
    assert all(w.grad is None for w in model.trainable_weights)  # zeroed after each step
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"accuracy", "loss"}
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0))
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(model.train_on_batch(x, y), float)


def test_softmax_model_with_extreme_logits_trains_like_its_logits_model():
    x = np.array([[1.0, -1.0], [-1.0, 1.0]], dtype=np.float32)
    y = np.array([1, 0])
    kernel = np.array([[500.0, -500.0, 0.0], [-500.0, 500.0, 0.0]], dtype=np.float32)
    results = []
    for activation, from_logits in (("softmax", False), (None, True)):
        model = Sequential([layers.Dense(3, activation=activation, input_shape=(2,))])
        model.set_weights([kernel, np.zeros(3, dtype=np.float32)])
        model.compile(optimizers.SGD(0.1),
                      losses.SparseCategoricalCrossentropy(from_logits=from_logits))
        loss = model.train_on_batch(x, y)
        results.append((loss, model.get_weights()))
    (loss_probs, w_probs), (loss_logits, w_logits) = results
    assert np.isfinite(loss_probs) and loss_probs == pytest.approx(loss_logits) == pytest.approx(2000.0)
    for a, b in zip(w_probs, w_logits):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_regularization_penalties_join_the_loss():
    x = np.zeros((4, 2), dtype=np.float32)
    y = np.zeros((4, 1), dtype=np.float32)
    model = Sequential([layers.Dense(1, use_bias=False, kernel_initializer="ones",
                                     kernel_regularizer=npgrad.regularizers.L2(0.5))])
    model.compile(optimizers.SGD(0.1), "mse")
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(0.5 * 2.0)  # 0.5 * sum(kernel^2), the data loss is 0
    # d/dk 0.5 k^2 = k: one SGD step scales the kernel by 0.9
    np.testing.assert_allclose(model.get_weights()[0], np.full((2, 1), 0.9), rtol=1e-6)


def test_sample_weight_and_class_weight():
    x = np.zeros((4, 2), dtype=np.float32)
    y = np.array([[1.0], [1.0], [2.0], [2.0]], dtype=np.float32)
    model = frozen_regressor()
    model.compile("sgd", "mse")
    weights = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)
    history = model.fit(x, y, sample_weight=weights, shuffle=False, verbose=0)
    assert history.history["loss"] == [pytest.approx((1 + 4) / 4)]
    history = model.fit(x, y, class_weight={2: 3.0}, shuffle=False, verbose=0)  # class 1 -> 1.0
    assert history.history["loss"] == [pytest.approx((1 + 1 + 12 + 12) / 4)]


def test_callback_hooks_and_stop_training():
    x, y = blobs(40)
    model = small_classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = Recorder()
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.2, callbacks=[recorder], verbose=0)
    names = [name for name, _ in recorder.calls]
    assert names[0] == "on_train_begin" and names[-1] == "on_train_end"
    assert names.count("on_epoch_begin") == 2 and names.count("on_train_batch_end") == 2 * 2
    assert names.count("on_test_begin") == 2 and names.count("on_test_batch_end") == 2
    epoch_end = [args for name, args in recorder.calls if name == "on_epoch_end"]
    assert epoch_end == [0, 1]

    class StopAfterFirstBatch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=4, callbacks=[StopAfterFirstBatch()], verbose=0)
    assert history.epoch == [0] and model.optimizer.iterations == 1

    early = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = model.fit(x, y, epochs=10, callbacks=[early], verbose=0)
    assert len(history.epoch) == 2


def test_initial_epoch_and_steps_per_epoch():
    x, y = blobs(40)
    model = small_classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, initial_epoch=1, steps_per_epoch=2, batch_size=4, verbose=0)
    assert history.epoch == [1, 2] and model.optimizer.iterations == 4


def test_errors():
    x, y = blobs(20)
    model = small_classifier()
    with pytest.raises(RuntimeError, match=r"You must call compile\(\) before fit\(\)"):
        model.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match="mean_squared_error"):
        model.compile("sgd", loss="mean_sqared_error")
    with pytest.raises(ValueError, match="metric"):
        model.compile("sgd", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError):
        model.compile("sgdd", loss="mse")
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x has 20.*y has 19"):
        model.fit(x, y[:19], verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="label .*5"):
        model.fit(x, np.full(20, 5), verbose=0)
    shaped = Sequential([layers.Dense(2, input_shape=(3,))])
    shaped.compile("sgd", "mse")
    with pytest.raises(ValueError, match="dense|Dense"):
        shaped.fit(np.zeros((4, 5)), np.zeros((4, 2)), verbose=0)
    no_loss = small_classifier()
    no_loss.compile("sgd")
    with pytest.raises(ValueError, match="loss"):
        no_loss.fit(x, y, verbose=0)


def test_compile_config_round_trips_through_compile():
    model = small_classifier()
    model.compile(optimizers.Adam(0.01), losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy", metrics.Precision(thresholds=0.3)])
    import json

    config = json.loads(json.dumps(model.compile_config))
    config["optimizer"] = optimizers.get(config["optimizer"])
    clone = small_classifier()
    clone.compile(**config)
    assert isinstance(clone.optimizer, optimizers.Adam) and clone.optimizer.learning_rate == 0.01
    assert isinstance(clone.loss, losses.CategoricalCrossentropy)
    assert clone.loss.label_smoothing == 0.1
    assert clone.metrics_names == ["loss", "accuracy", "precision"]


def test_save_load_and_resume_fit_exactly(tmp_path):
    x, y = blobs(48)
    npgrad.utils.set_random_seed(7)
    model = small_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    path = tmp_path / "model.npgrad"
    model.save(path)
    restored = npgrad.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    restored.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    weights_path = tmp_path / "w.npz"
    model.save_weights(weights_path)
    fresh = small_classifier()
    fresh.build((None, 2))
    fresh.load_weights(weights_path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_verbose_output_is_plain_when_not_a_terminal(capsys):
    x, y = blobs(40)
    model = small_classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = out.strip().split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert lines[1].startswith("2/2 " + "━" * 20 + " ")
    assert "ms/step" in lines[1] or "s/step" in lines[1]
    for key in ("accuracy: ", "loss: ", "val_accuracy: ", "val_loss: "):
        assert key in lines[1]

    model.fit(x, y, epochs=2, batch_size=16, verbose=2)
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[1].startswith("3/3 - ") and "step - accuracy: " in lines[1]

    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.evaluate(x, y)  # 'auto' -> a bar
    assert capsys.readouterr().out.startswith("2/2 ━")


def test_first_step_of_a_lazily_built_model_updates_its_weights():
    x, y = blobs(8)
    model = small_classifier()  # no input shape: builds inside the first train_step
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    recorded = []

    class KeepInitial(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            recorded.append(self.model.get_weights())

    model.fit(x, y, batch_size=8, epochs=2, callbacks=[KeepInitial()], verbose=0)
    assert model.optimizer.iterations == 2
    assert recorded[0] == []  # unbuilt before the first batch
    assert not np.array_equal(recorded[1][0], model.get_weights()[0])
