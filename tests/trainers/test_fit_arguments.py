"""fit/evaluate/predict check every argument up front, with messages that name it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
from npgrad import layers as L

X, Y = np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32")


def model():
    m = npgrad.Sequential([npgrad.Input((3,)), L.Dense(1)])
    m.compile("sgd", "mse")
    return m


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": -1}, ValueError, "epochs must be an int >= 0, got -1"),
    ({"epochs": 2.5}, ValueError, "epochs must be an int >= 0, got 2.5"),
    ({"epochs": "x"}, ValueError, "epochs must be an int >= 0, got 'x'"),
    ({"epochs": True}, ValueError, "epochs must be an int"),
    ({"initial_epoch": -3}, ValueError, "initial_epoch must be an int >= 0, got -3"),
    ({"epochs": 2, "initial_epoch": 3}, ValueError, "initial_epoch \\(3\\) must not exceed"),
    ({"validation_freq": 0}, ValueError, "validation_freq must be a positive int, got 0"),
    ({"validation_split": "a"}, TypeError, "validation_split must be a float in \\[0, 1\\)"),
    ({"validation_split": 1.5}, ValueError, "validation_split must be in \\[0, 1\\)"),
    ({"class_weight": {"a": 1.0}}, ValueError, "class_weight keys must be int class indices"),
    ({"class_weight": {0: -1.0}}, ValueError, "class_weight\\[0\\] must be a finite number"),
    ({"class_weight": [1.0]}, TypeError, "class_weight must be a dict"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
    ({"batch_size": 1.5}, ValueError, "batch_size must be a positive int"),
    ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch must be a positive int"),
    ({"validation_steps": -1}, ValueError, "validation_steps must be a positive int"),
    ({"verbose": 3}, ValueError, "verbose must be 'auto', 0, 1 or 2"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
])
def test_bad_fit_arguments_name_the_argument_before_training(kwargs, error, message):
    m = model()
    before = m.get_weights()
    with pytest.raises(error, match=message):
        m.fit(X, Y, **kwargs)
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # refused before any step


def test_zero_epochs_and_initial_epoch_equal_to_epochs_train_nothing():
    m = model()
    before = m.get_weights()
    assert m.fit(X, Y, epochs=0, verbose=0).history == {}
    assert m.fit(X, Y, epochs=2, initial_epoch=2, verbose=0).history == {}
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@given(epochs=st.integers(0, 4), initial=st.integers(0, 4))
def test_fit_runs_exactly_epochs_minus_initial_epoch(epochs, initial):
    m = model()
    if initial > epochs:
        with pytest.raises(ValueError, match="initial_epoch"):
            m.fit(X, Y, epochs=epochs, initial_epoch=initial, verbose=0)
        return
    history = m.fit(X, Y, epochs=epochs, initial_epoch=initial, verbose=0)
    assert history.epoch == list(range(initial, epochs))


@pytest.mark.parametrize("call, message", [
    (lambda m: m.predict(np.float32(1), verbose=0), "x must have a batch axis"),
    (lambda m: m.predict(X, steps=0, verbose=0), "steps must be a positive int"),
    (lambda m: m.predict(X, batch_size=-2, verbose=0), "batch_size must be a positive int"),
    (lambda m: m.evaluate(X, Y, steps="all", verbose=0), "steps must be a positive int"),
    (lambda m: m.evaluate(X, Y, verbose=5), "verbose must be"),
    (lambda m: m.predict(np.zeros((0, 3)), verbose=0), "x is empty"),
    (lambda m: m.fit(X, Y[:5], verbose=0), "x has 8, y has 5"),
    (lambda m: m.train_on_batch(X, Y, class_weight={"a": 1}), "class_weight keys"),
])
def test_bad_evaluate_and_predict_arguments_are_named(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call(model())
