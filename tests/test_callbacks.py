"""Callbacks on a tiny real Sequential model: hook order and each callback's Keras behaviour."""

import csv
import math
import warnings

import numpy as np
import pytest

import npgrad
from npgrad import callbacks, layers, optimizers, saving
from npgrad.models import Sequential


def make_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    return x, y


def make_model(learning_rate=0.05, seed=0):
    npgrad.utils.set_random_seed(seed)
    model = Sequential([layers.Dense(4, activation="tanh", input_shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def drive(callback, model, monitored, key="val_loss", epochs=None):
    """Run ``callback`` through a scripted training: one epoch per value in ``monitored``.

    Before each epoch end the model's weights are set to a constant equal to the epoch
    index, so restored weights tell which epoch they came from. Returns the epochs run.
    """
    callback.set_model(model)
    callback.set_params({"epochs": len(monitored), "steps": 1, "verbose": 0})
    model.stop_training = False
    callback.on_train_begin({})
    ran = []
    for epoch, value in enumerate(monitored):
        callback.on_epoch_begin(epoch, {})
        model.set_weights([np.full(w.shape, float(epoch), w.dtype) for w in model.get_weights()])
        callback.on_epoch_end(epoch, {"loss": 1.0, key: value})
        ran.append(epoch)
        if model.stop_training:
            break
    callback.on_train_end({})
    return ran


def weights_epoch(model):
    """The epoch index written into the weights by ``drive``."""
    values = {float(np.unique(w)[0]) for w in model.get_weights()}
    assert len(values) == 1
    return values.pop()


# ----------------------------------------------------------------------------- lists, History
def test_fit_calls_the_training_hooks_in_keras_order():
    x, y = make_data(32)
    events = []
    recorder = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: events.append(f"batch_end {batch}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    make_model().fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0,
                     callbacks=[recorder])
    one_epoch = ["batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1"]
    assert events == (["train_begin", "epoch_begin 0"] + one_epoch
                      + ["epoch_end 0 ['loss', 'val_loss']", "epoch_begin 1"] + one_epoch
                      + ["epoch_end 1 ['loss', 'val_loss']", "train_end"])


def test_callback_list_places_progbar_first_and_history_last():
    early = callbacks.EarlyStopping()
    cbs = callbacks.CallbackList([early], add_history=True, add_progbar=True, verbose=1,
                                 epochs=3, steps=2)
    assert isinstance(cbs.callbacks[0], callbacks.ProgbarLogger)
    assert cbs.callbacks[1] is early
    assert cbs.callbacks[2] is cbs.history and isinstance(cbs.history, callbacks.History)
    assert early.params == {"verbose": 1, "epochs": 3, "steps": 2}
    history = callbacks.History()
    assert callbacks.CallbackList([history], add_history=True).history is history
    assert callbacks.CallbackList().history is None
    with pytest.raises(TypeError, match="Callback instances, got function"):
        callbacks.CallbackList([lambda: None])


def test_callback_list_dispatches_every_hook_with_shared_logs():
    seen = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            attribute = object.__getattribute__(self, name)
            if name.startswith("on_"):
                return lambda *args: seen.append((name, args))
            return attribute

    model = make_model()
    cbs = callbacks.CallbackList([Recorder(), Recorder()], model=model)
    logs = {"loss": 1.0}
    for hook in callbacks.HOOK_NAMES:
        args = (0, logs) if "batch" in hook or "epoch" in hook else (logs,)
        getattr(cbs, hook)(*args)
    names = [name for name, _ in seen]
    assert names == [hook for hook in callbacks.HOOK_NAMES for _ in range(2)]
    assert all(args[-1] is logs for _, args in seen)


def test_history_records_every_epoch_and_is_returned_by_fit():
    x, y = make_data()
    model = make_model()
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    assert isinstance(history, callbacks.History)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "val_loss"}
    assert all(len(values) == 3 for values in history.history.values())
    assert history.history["loss"][2] < history.history["loss"][0]
    assert history.model is model and model.history is history
    assert history.params["epochs"] == 3


def test_progbar_logger_prints_one_plain_line_per_epoch(capsys):
    x, y = make_data(32)
    make_model().fit(x, y, epochs=2, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("2/2") and "loss:" in lines[1]
    assert len(lines) == 4 and "\r" not in "".join(lines)


# ----------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    ran = drive(stop, model, [1.0, 0.5, 0.6, 0.7, 0.1, 0.1])
    assert ran == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best == 0.5 and stop.best_epoch == 1
    assert weights_epoch(model) == 1.0


def test_early_stopping_without_restore_keeps_the_last_weights():
    model = make_model()
    stop = callbacks.EarlyStopping(patience=1)
    assert drive(stop, model, [1.0, 2.0, 3.0]) == [0, 1]
    assert weights_epoch(model) == 1.0


def test_early_stopping_min_delta_mode_baseline_and_start_from_epoch():
    model = make_model()
    # improvements smaller than min_delta do not count
    assert drive(callbacks.EarlyStopping(patience=1, min_delta=0.1), model,
                 [1.0, 0.95, 0.91, 0.5]) == [0, 1]
    # 'accuracy' in the name: higher is better (mode auto)
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    assert stop.mode == "max"
    assert drive(stop, model, [0.5, 0.6, 0.7, 0.65], key="val_accuracy") == [0, 1, 2, 3]
    assert drive(callbacks.EarlyStopping(monitor="val_loss", mode="max", patience=0), model,
                 [0.5, 0.4]) == [0, 1]
    # improvements that do not beat the baseline do not reset the patience count
    assert drive(callbacks.EarlyStopping(patience=2), model,
                 [1.0, 0.9, 0.95, 0.97, 0.98]) == [0, 1, 2, 3]
    assert drive(callbacks.EarlyStopping(patience=2, baseline=0.1), model,
                 [1.0, 0.9, 0.95, 0.97, 0.98]) == [0, 1, 2]
    # nothing is watched before start_from_epoch
    assert drive(callbacks.EarlyStopping(patience=0, start_from_epoch=3), model,
                 [1.0, 2.0, 3.0, 4.0, 5.0]) == [0, 1, 2, 3, 4]


def test_early_stopping_restores_best_weights_after_a_full_run_as_keras_3():
    model = make_model()
    stop = callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    assert drive(stop, model, [1.0, 0.2, 0.9]) == [0, 1, 2]
    assert stop.stopped_epoch == 0 and weights_epoch(model) == 1.0


def test_early_stopping_warns_naming_available_keys_when_monitor_is_missing():
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="val_acc", patience=0)
    with pytest.warns(RuntimeWarning, match=r"`val_acc` which is not available.*loss,val_loss"):
        ran = drive(stop, model, [1.0, 2.0, 3.0])
    assert ran == [0, 1, 2]


def test_early_stopping_in_a_real_fit():
    x, y = make_data()
    model = make_model()
    stop = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e6,
                                   restore_best_weights=True)
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0, callbacks=[stop])
    assert history.epoch == [0, 1]
    assert stop.stopped_epoch == 1 and stop.best_epoch == 0


# ----------------------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_save_best_only_writes_only_on_improvement(tmp_path):
    model = make_model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.npgrad")
    checkpoint = callbacks.ModelCheckpoint(pattern, save_best_only=True)
    drive(checkpoint, model, [1.0, 0.8, 0.9, 0.5])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-01-1.00.npgrad", "ckpt-02-0.80.npgrad", "ckpt-04-0.50.npgrad"]
    assert weights_epoch(saving.load_model(tmp_path / "ckpt-04-0.50.npgrad")) == 3.0


def test_model_checkpoint_best_file_holds_the_best_epoch(tmp_path, capsys):
    model = make_model()
    path = tmp_path / "sub" / "best.npgrad"
    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True,
                                           save_weights_only=True, verbose=1)
    drive(checkpoint, model, [0.5, 0.9, 0.7], key="val_accuracy")
    fresh = make_model(seed=5)
    saving.load_weights(fresh, path)
    assert weights_epoch(fresh) == 1.0
    out = capsys.readouterr().out
    assert "Epoch 2: val_accuracy improved from 0.50000 to 0.90000" in out
    assert "Epoch 3: val_accuracy did not improve from 0.90000" in out


def test_model_checkpoint_every_epoch_and_every_n_batches_in_a_real_fit(tmp_path):
    x, y = make_data(32)
    model = make_model()
    every_epoch = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.npgrad"))
    every_3 = callbacks.ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}.weights"),
                                        save_weights_only=True, save_freq=3)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[every_epoch, every_3])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["b1-3.weights", "b2-2.weights", "e1.npgrad", "e2.npgrad"]
    last = saving.load_model(tmp_path / "e2.npgrad")
    np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_checkpoint_bad_arguments_and_missing_keys(tmp_path):
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint(tmp_path / "m", save_freq="batch")
    model = make_model()
    with pytest.raises(KeyError, match="val_acc"):
        drive(callbacks.ModelCheckpoint(str(tmp_path / "{val_acc:.2f}")), model, [1.0])
    with pytest.warns(RuntimeWarning, match="val_auc available, skipping"):
        drive(callbacks.ModelCheckpoint(tmp_path / "m", monitor="val_auc", save_best_only=True),
              model, [1.0])
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_training_on_a_nan_loss(capsys):
    x, y = make_data(32)
    y[0] = np.nan
    model = make_model()
    batches = []
    history = model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN(),
                                   callbacks.LambdaCallback(
                                       on_train_batch_end=lambda b, logs: batches.append(b))])
    assert model.stop_training is True
    assert len(history.epoch) <= 1 and batches[0] == 0
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_ignores_finite_losses_and_catches_inf():
    model = make_model()
    model.stop_training = False
    guard = callbacks.TerminateOnNaN()
    guard.set_model(model)
    guard.on_train_batch_end(0, {"loss": 1.5})
    assert model.stop_training is False
    guard.on_train_batch_end(1, {"loss": math.inf})
    assert model.stop_training is True


# ----------------------------------------------------------------------------- learning rates
def test_learning_rate_scheduler_sets_the_optimizer_rate_and_logs_it():
    x, y = make_data()
    model = make_model(learning_rate=0.1)
    seen = []
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    spy = callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[scheduler, spy])
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_one_argument_form_and_bad_outputs(capsys):
    model = make_model(learning_rate=0.1)
    scheduler = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)
    scheduler.set_model(model)
    scheduler.on_epoch_begin(2)
    assert model.optimizer.learning_rate == pytest.approx(0.03)
    assert "LearningRateScheduler setting learning rate to 0.03" in capsys.readouterr().out
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    bad.set_model(model)
    with pytest.raises(ValueError, match="must return a float, got 'fast'"):
        bad.on_epoch_begin(0)
    with pytest.raises(TypeError, match="callable"):
        callbacks.LearningRateScheduler(0.1)


def plateau_rates(reducer, model, values):
    rates = []
    reducer.set_model(model)
    reducer.on_train_begin()
    for epoch, value in enumerate(values):
        logs = {"val_loss": value}
        before = model.optimizer.learning_rate
        reducer.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == before  # logged before any reduction, as Keras
        rates.append(model.optimizer.learning_rate)
    return rates


def test_reduce_lr_on_plateau_reduces_after_patience_then_cools_down():
    flat = [1.0] * 7
    model = make_model(learning_rate=1.0)
    rates = plateau_rates(callbacks.ReduceLROnPlateau(factor=0.5, patience=2), model, flat)
    # 2 epochs without improvement -> halve, count again from 0
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125])
    model = make_model(learning_rate=1.0)
    rates = plateau_rates(callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2),
                          model, flat)
    # Keras counting: the last cooldown epoch already counts towards the next patience
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25])
    model = make_model(learning_rate=1.0)
    rates = plateau_rates(callbacks.ReduceLROnPlateau(factor=0.5, patience=1),
                          model, [1.0, 0.5, 0.25, 0.3])
    assert rates == pytest.approx([1.0, 1.0, 1.0, 0.5])


def test_reduce_lr_on_plateau_respects_min_lr_min_delta_and_factor():
    model = make_model(learning_rate=0.1)
    reducer = callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=0,
                                          min_lr=0.05)
    assert reducer.mode == "max"
    reducer.set_model(model)
    reducer.on_train_begin()
    for epoch, value in enumerate([0.5, 0.5, 0.5]):
        reducer.on_epoch_end(epoch, {"val_accuracy": value})
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    # improvements under min_delta count as a plateau
    model.optimizer.learning_rate = 1.0
    reducer = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.1)
    reducer.set_model(model)
    reducer.on_train_begin()
    for epoch, value in enumerate([1.0, 0.95]):
        reducer.on_epoch_end(epoch, {"val_loss": value})
    assert model.optimizer.learning_rate == pytest.approx(0.5)
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_in_a_real_fit_and_missing_metric_warning():
    x, y = make_data()
    model = make_model(learning_rate=0.01)
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e6)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[reducer])
    # the first epoch sets the best value; each later one reduces (logged before reducing)
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])
    assert model.optimizer.learning_rate == pytest.approx(0.0025)
    with pytest.warns(RuntimeWarning, match="`val_loss` which is not available.*loss"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ReduceLROnPlateau()])


# ----------------------------------------------------------------------------- CSVLogger
def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, batch_size=8, validation_data=(x, y), verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]
    for row, loss, val_loss in zip(rows[1:], history.history["loss"], history.history["val_loss"]):
        assert float(row[1]) == pytest.approx(loss, rel=1e-6)
        assert float(row[2]) == pytest.approx(val_loss, rel=1e-6)


def test_csv_logger_append_separator_and_missing_validation_columns(tmp_path):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path, separator=";", append=True)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[logger])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    lines = path.read_text().splitlines()
    # Keras 3 adds val_ columns when the first epoch has none, filled with NA
    assert lines[0] == "epoch;loss;val_loss"
    assert [line.split(";")[0] for line in lines[1:]] == ["0", "1", "0"]
    assert all(line.endswith(";NA") for line in lines[1:])
    callbacks.CSVLogger(path).on_train_begin()  # append=False truncates
    assert path.read_text() == ""


# ----------------------------------------------------------------------------- LambdaCallback
def test_lambda_callback_hooks_are_called_in_order_and_unknown_hooks_refused():
    events = []
    cb = callbacks.LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                                  on_epoch_end=lambda epoch, logs: events.append(epoch),
                                  on_train_end=lambda logs: events.append("end"),
                                  on_test_end=lambda logs: events.append("test_end"),
                                  on_batch_end=lambda batch, logs: events.append(f"b{batch}"))
    x, y = make_data(16)
    make_model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert events == ["begin", "b0", "b1", 0, "b0", "b1", 1, "end"]
    make_model().evaluate(x, y, verbose=0, callbacks=[cb])
    assert events[-1] == "test_end"
    with pytest.raises(TypeError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_ending=print)
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(RuntimeWarning, match="mode 'biggest' is unknown"):
        stop = callbacks.EarlyStopping(monitor="val_accuracy", mode="biggest")
    assert stop.mode == "max"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert callbacks.ReduceLROnPlateau(monitor="loss").mode == "min"


def test_verbose_2_reports_the_real_time_per_step(capsys):
    import re
    import time

    import numpy as np

    import npgrad

    model = npgrad.Sequential([npgrad.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    slow = npgrad.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: time.sleep(0.02))
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=2, verbose=2, callbacks=[slow])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.match(r"4/4 - \d+s - (\d+)ms/step - loss: ", line), line
    assert int(re.search(r"(\d+)ms/step", line).group(1)) >= 15


# ---------------------------------------------------------------- SwapEMAWeights
def _ema_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((96, 4)).astype(np.float32)
    y = (x @ rng.standard_normal((4, 1)) + 0.3).astype(np.float32)
    npgrad.utils.set_random_seed(seed)
    model = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(8, activation="tanh"),
                               npgrad.layers.Dense(1)])
    model.compile(optimizer=npgrad.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.8),
                  loss="mse")
    return model, x, y


def _with_averages(model):
    """A copy of ``model`` whose trainable weights are the optimizer's moving averages."""
    clone = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(8, activation="tanh"),
                               npgrad.layers.Dense(1)])
    clone.compile(loss="mse")
    clone.set_weights([model.optimizer.moving_average(w) for w in model.trainable_weights])
    return clone


def test_swap_ema_weights_validates_with_averages_and_trains_as_without():
    model, x, y = _ema_problem()
    val_losses, expected = [], []

    def record(epoch, logs):
        val_losses.append(logs["val_loss"])
        expected.append(_with_averages(model).evaluate(x[:32], y[:32], verbose=0))

    check = npgrad.callbacks.LambdaCallback(on_epoch_end=record)
    model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
              validation_data=(x[:32], y[:32]),
              callbacks=[npgrad.callbacks.SwapEMAWeights(), check])
    np.testing.assert_allclose(val_losses, expected, rtol=1e-6)
    plain, _, _ = _ema_problem()
    plain.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
              validation_data=(x[:32], y[:32]))
    for a, b in zip(model.get_weights(), plain.get_weights()):  # training was untouched
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_on_epoch_shows_averages_to_later_callbacks():
    model, x, y = _ema_problem()
    seen = []
    check = npgrad.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(
        (model.get_weights()[0].copy(), model.optimizer.moving_average(model.weights[0]).copy())))
    model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0,
              callbacks=[npgrad.callbacks.SwapEMAWeights(swap_on_epoch=True), check])
    for held, average in seen:
        np.testing.assert_array_equal(held, average)
    plain, _, _ = _ema_problem()
    plain.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), plain.get_weights()):  # same end: the averages
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_in_evaluate_restores_the_raw_weights_and_needs_use_ema():
    model, x, y = _ema_problem()
    model.optimizer.ema_overwrite_frequency = None
    for _ in range(3):
        model.train_on_batch(x[:16], y[:16])
    raw = model.get_weights()
    loss = model.evaluate(x, y, verbose=0, callbacks=[npgrad.callbacks.SwapEMAWeights()])
    assert loss == pytest.approx(_with_averages(model).evaluate(x, y, verbose=0), rel=1e-6)
    assert loss != pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    for a, b in zip(model.get_weights(), raw):
        np.testing.assert_array_equal(a, b)
    plain = npgrad.Sequential([npgrad.Input((4,)), npgrad.layers.Dense(1)])
    plain.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="use_ema=True"):
        plain.fit(x, y, epochs=1, verbose=0, callbacks=[npgrad.callbacks.SwapEMAWeights()])
