"""The training mode of nested calls (Keras 3's call context): a layer called without
``training`` inside another layer's call runs in that call's mode."""

import threading

import numpy as np
import pytest

import npgrad
from npgrad import layers


class ContextBlock(layers.Layer):
    """keras.io's MLP-Mixer and ShiftViT blocks: call(self, x) takes no training."""

    def __init__(self):
        super().__init__()
        self.mlp = npgrad.Sequential([layers.Dropout(0.5)])

    def call(self, x):
        return self.mlp(x)


class ContextExplicit(layers.Layer):
    def __init__(self):
        super().__init__()
        self.drop = layers.Dropout(0.5)

    def call(self, x, training=None):
        return self.drop(x, training=False) + self.drop(x)  # explicit False wins, then the mode


def _dropped(values):
    return bool(np.any(values == 0.0))


def test_a_nested_call_without_training_runs_in_the_enclosing_mode():
    x = np.ones((8, 16), "float32")
    block = ContextBlock()
    assert _dropped(block(x, training=True).numpy())
    np.testing.assert_array_equal(block(x).numpy(), x)  # no mode anywhere: inference
    np.testing.assert_array_equal(block(x, training=False).numpy(), x)
    inp = npgrad.Input((16,))
    model = npgrad.Model(inp, ContextBlock()(inp))
    assert _dropped(model(x, training=True).numpy())
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    out = ContextExplicit()(x, training=True).numpy()
    assert _dropped(out - 1.0)  # the second Dropout ran in training mode, the first did not
    assert np.all((out == 1.0) | (out == 3.0))


def test_fit_trains_the_dropout_of_a_block_without_training():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=False):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Probe()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(self.inner(x))

    inp = npgrad.Input((3,))
    model = npgrad.Model(inp, Outer()(inp))
    model.compile("sgd", "mse")
    seen.clear()
    model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=1, verbose=0)
    assert seen and all(seen)
    seen.clear()
    model.evaluate(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert seen and not any(seen)


def test_the_mode_is_per_thread():
    # data-parallel replicas run in threads: one's training call does not leak to another
    x = np.ones((64, 16), "float32")
    block, results = ContextBlock(), {}
    started = threading.Event()

    def infer():
        started.wait()
        results["inference"] = block(x).numpy()

    thread = threading.Thread(target=infer)
    thread.start()

    class Signal(layers.Layer):
        def call(self, inputs):
            started.set()
            thread.join()
            return inputs

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.signal = Signal()

        def call(self, inputs):
            return self.signal(inputs)

    Outer()(x, training=True)
    np.testing.assert_array_equal(results["inference"], x)


def test_the_shape_probe_lets_placeholder_values_pass():
    # keras.io's memory-efficient embeddings: a custom layer holding an IntegerLookup with
    # num_oov_indices=0, traced on zeros (not in the vocabulary): it raised, and with a
    # compute_output_shape of its own the layer stayed unbuilt (count_params() 0)
    import warnings

    class Embed(layers.Layer):
        def __init__(self):
            super().__init__()
            self.lookup = layers.IntegerLookup(vocabulary=[5, 7, 9], num_oov_indices=0)
            self.embed = layers.Embedding(3, 4)

        def call(self, ids):
            return self.embed(self.lookup(ids))

    class Logs(layers.Layer):
        def call(self, x):
            return npgrad.ops.log(x)

    inp = npgrad.Input((2,), dtype="int64")
    model = npgrad.Model(inp, Embed()(inp))
    assert model.count_params() == 12
    assert model.predict(np.array([[5, 9]]), verbose=0).shape == (1, 2, 4)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        model.predict(np.array([[6, 9]]), verbose=0)  # data is still checked
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(0) of the probe's zeros warns no more
        assert Logs()(npgrad.Input((3,))).shape == (None, 3)

