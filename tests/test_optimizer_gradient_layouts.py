"""Gradients in Fortran order (a transposed product, as the recurrent ops' weight gradients)
update a variable exactly as their C-ordered copies do, for every built-in optimizer, and the
caller's gradient is left as it was."""

import numpy as np
import pytest

import npgrad
from npgrad import optimizers

SIMPLE = ["SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta",
          "Adafactor", "Ftrl", "Lamb", "Lion", "Muon", "ScheduleFreeAdamW"]


def _trajectory(name, grads):
    var = npgrad.Variable(np.linspace(-1.0, 1.0, 65 * 24, dtype=np.float32).reshape(65, 24))
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    opt = getattr(optimizers, name)(learning_rate=0.01, **kwargs)
    for grad in grads:
        opt.apply_gradients([(grad, var)])
    return var.numpy()


@pytest.mark.parametrize("name", SIMPLE)
def test_fortran_ordered_gradients_update_as_c_ordered_ones(name):
    rng = np.random.default_rng(0)
    c_grads = [rng.standard_normal((65, 24)).astype(np.float32) for _ in range(3)]
    f_grads = [np.asfortranarray(g) for g in c_grads]
    before = [g.copy(order="K") for g in f_grads]
    expected = _trajectory(name, c_grads)
    got = _trajectory(name, f_grads)
    np.testing.assert_array_equal(got, expected)
    for grad, original in zip(f_grads, before):  # not modified, still Fortran-ordered
        np.testing.assert_array_equal(grad, original)
        assert grad.flags.f_contiguous and not grad.flags.c_contiguous


def test_an_lstm_weight_gradient_arrives_transposed_and_trains_the_same():
    # the case the conversion exists for: LSTMSequence's kernel gradient is (dZ @ X).T
    rng = np.random.default_rng(1)
    layer = npgrad.layers.LSTM(6)
    x = npgrad.Tensor(rng.standard_normal((4, 5, 3)).astype(np.float32))
    layer(x).sum().backward()
    kernel = layer.trainable_weights[0]
    assert not np.asarray(kernel.grad).flags.c_contiguous
    as_given = _trajectory_of(kernel, np.asarray(kernel.grad))
    as_c = _trajectory_of(kernel, np.ascontiguousarray(kernel.grad))
    np.testing.assert_array_equal(as_given, as_c)


def _trajectory_of(variable, grad):
    var = npgrad.Variable(np.array(variable.numpy()))
    opt = optimizers.Adam(learning_rate=0.01)
    for _ in range(3):
        opt.apply_gradients([(grad, var)])
    return var.numpy()


def test_the_update_rule_gets_the_gradient_in_the_variables_layout(monkeypatch):
    seen = []
    original = optimizers.Adam._update

    def spy(self, var, grad, slots, lr):
        seen.append(grad.flags.c_contiguous)
        return original(self, var, grad, slots, lr)

    monkeypatch.setattr(optimizers.Adam, "_update", spy)
    var = npgrad.Variable(np.zeros((8, 3), dtype=np.float32))
    optimizers.Adam().apply_gradients([(np.ones((3, 8), dtype=np.float32).T, var)])
    assert seen == [True]
