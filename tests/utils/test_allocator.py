"""Model.fit asks glibc's malloc to keep freed blocks (a caching allocator's job)."""

import ctypes.util
import sys

import numpy as np
import pytest

import npgrad
from npgrad.utils import allocator


@pytest.fixture
def fresh_state(monkeypatch):
    monkeypatch.setattr(allocator, "_state", {"done": False, "result": False})


def test_applies_once_on_glibc(fresh_state, monkeypatch):
    monkeypatch.delenv("NPGRAD_MALLOC_TUNING", raising=False)
    expected = sys.platform.startswith("linux") and ctypes.util.find_library("c") is not None
    assert allocator.keep_freed_memory() is expected
    assert allocator._state["done"]
    assert allocator.keep_freed_memory() is expected  # idempotent


def test_can_be_switched_off(fresh_state, monkeypatch):
    monkeypatch.setenv("NPGRAD_MALLOC_TUNING", "0")
    assert allocator.keep_freed_memory() is False


def test_fit_applies_it(fresh_state, monkeypatch):
    calls = []
    monkeypatch.setattr("npgrad.trainers.trainer.keep_freed_memory", lambda: calls.append(1))
    model = npgrad.Sequential([npgrad.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)
    model.predict(np.zeros((4, 2)), verbose=0)
    assert len(calls) == 2


def test_the_batch_methods_and_a_custom_loop_apply_it(fresh_state, monkeypatch):
    calls = []
    monkeypatch.setattr("npgrad.trainers.trainer.keep_freed_memory", lambda: calls.append("trainer"))
    monkeypatch.setattr("npgrad.optimizers.optimizer.keep_freed_memory",
                        lambda: calls.append("optimizer"))
    model = npgrad.Sequential([npgrad.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    model.train_on_batch(x, y)
    model.test_on_batch(x, y)
    model.predict_on_batch(x)
    assert calls.count("trainer") == 3
    calls.clear()
    optimizer = npgrad.optimizers.SGD(0.1)  # a PyTorch-style loop: backward, then step
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step(model.trainable_weights)
    assert calls == ["optimizer"]
