"""Keras 3 model API details that published Keras code relies on (issue 16)."""

import warnings

import numpy as np
import pytest

import npgrad
from npgrad import layers


class NoTrainingArg(npgrad.Model):
    """Keras 3 style: ``call(self, x)`` without ``training``."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_whose_call_takes_no_training_builds_and_fits():
    model = NoTrainingArg()
    model.compile("sgd", "mse")
    history = model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    model.build((None, 3))  # an explicit build takes the same path
    assert [w.shape for w in model.weights] == [(3, 8), (8,), (8, 2), (2,)]
    assert model.predict(np.ones((4, 3)), verbose=0).shape == (4, 2)
