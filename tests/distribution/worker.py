"""Run by tests/distribution under ``mpiexec -n N`` (and alone): train, save what came out.

    python worker.py SCENARIO OUT_DIR

Each scenario builds the same model from the same seed on every rank, trains it with
npgrad.distribution.DataParallel (a no-op in a single process), and rank 0 writes
``OUT_DIR/result.npz`` (weights, History, predictions, evaluation).
"""

import os
import sys
import time

import numpy as np

import npgrad
from npgrad import layers as L


def data(n=70, dtype="float64"):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype(dtype)
    y = (x[:, :3].sum(axis=1) > 0).astype("int64")
    return x, y


def mlp(dtype):
    npgrad.utils.set_random_seed(1)
    model = npgrad.Sequential([npgrad.Input((6,)), L.Dense(8, activation="tanh", dtype=dtype),
                               L.Dense(2, dtype=dtype)])
    model.compile(npgrad.optimizers.Adam(0.01),
                  npgrad.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


class WritesFiles(npgrad.callbacks.Callback):
    """A callback that writes a file: in a data-parallel run only rank 0 may run it."""

    chief_only = True

    def __init__(self, out):
        super().__init__()
        self.out = out

    def on_train_end(self, logs=None):
        rank = npgrad.distribution.process_id()
        with open(os.path.join(self.out, f"written_by_{rank}"), "w") as file:
            file.write(repr(logs))


def scenario_fit(out, dtype):
    x, y = data(dtype=dtype)
    model = mlp(dtype)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_data=(x[:30], y[:30]),
                        callbacks=[WritesFiles(out)])
    evaluation = model.evaluate(x, y, batch_size=9, verbose=0)
    predictions = model.predict(x, batch_size=11, verbose=0)
    return dict(history=history.history, weights=model.get_weights(), evaluation=evaluation,
                predictions=predictions)


def scenario_gan(out, dtype):
    from npgrad.models.gan import GAN

    npgrad.utils.set_random_seed(2)
    g = npgrad.Sequential([npgrad.Input((3,)), L.Dense(4, dtype=dtype), L.Dense(2, dtype=dtype)])
    d = npgrad.Sequential([npgrad.Input((2,)), L.Dense(4, activation="tanh", dtype=dtype),
                           L.Dense(1, dtype=dtype)])
    gan = GAN(g, d, latent_dim=3)
    gan.compile()
    x = np.random.default_rng(3).normal(size=(40, 2)).astype(dtype)
    history = gan.fit(x, batch_size=10, epochs=2, verbose=0, shuffle=False)
    return dict(history=history.history, weights=gan.get_weights())


def scenario_on_batch(out, dtype):
    """A hand-written loop of the *_on_batch methods, the model built from another seed on
    each rank: the first train_on_batch must hand every rank rank 0's weights."""
    x, y = data(dtype=dtype)
    npgrad.utils.set_random_seed(1 + npgrad.distribution.process_id())
    model = npgrad.Sequential([npgrad.Input((6,)), L.Dense(8, activation="tanh", dtype=dtype),
                               L.Dense(2, dtype=dtype)])
    model.compile(npgrad.optimizers.Adam(0.01),
                  npgrad.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    losses = [model.train_on_batch(x[i:i + 16], y[i:i + 16])[0] for _ in range(2)
              for i in range(0, len(x), 16)]
    evaluation = model.test_on_batch(x[:33], y[:33])
    predictions = model.predict_on_batch(x[:11])
    return dict(losses=losses, weights=model.get_weights(), evaluation=evaluation,
                predictions=predictions)


def scenario_custom_step(out, dtype):
    class Custom(npgrad.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(1, dtype=dtype)

        def call(self, x, training=False):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(x, y, self(x, training=True))
            loss.backward()
            self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
            return self.compute_metrics(x, y, self(x), loss=loss)

    npgrad.utils.set_random_seed(4)
    x, _ = data(dtype=dtype)
    y = x[:, :1] * 2.0 - x[:, 1:2]
    model = Custom()
    model.compile(npgrad.optimizers.SGD(0.05), "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=13, epochs=2, verbose=0)
    return dict(history=history.history, weights=model.get_weights())


def scenario_mismatch(out, dtype):
    units = 8 + npgrad.distribution.process_id()  # rank 1 builds a different model
    model = npgrad.Sequential([npgrad.Input((6,)), L.Dense(units), L.Dense(2)])
    model.compile("sgd", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = data(dtype="float32")
    model.fit(x, y, epochs=1, verbose=0)
    return {}


def scenario_hang(out, dtype):
    x, y = data(dtype=dtype)
    model = mlp(dtype)

    class Hang(npgrad.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if npgrad.distribution.process_id() == 1 and batch == 1:
                time.sleep(600)  # rank 1 stops taking part

    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Hang()])
    return {}


def scenario_die(out, dtype):
    x, y = data(dtype=dtype)
    model = mlp(dtype)

    class Die(npgrad.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if npgrad.distribution.process_id() == 1 and batch == 1:
                os._exit(3)

    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Die()])
    return {}


def main():
    scenario, out = sys.argv[1], sys.argv[2]
    dtype = sys.argv[3] if len(sys.argv) > 3 else "float64"
    npgrad.distribution.initialize()
    npgrad.distribution.set_distribution(npgrad.distribution.DataParallel())
    result = globals()[f"scenario_{scenario}"](out, dtype)
    if result:  # every rank writes its own result: the test checks that ranks agree
        arrays = {f"w{i}": w for i, w in enumerate(result.pop("weights"))}
        arrays.update({f"h_{k}": np.asarray(v) for k, v in result.pop("history", {}).items()})
        arrays.update({k: np.asarray(v) for k, v in result.items()})
        rank = npgrad.distribution.process_id()
        np.savez(os.path.join(out, f"result_{rank}.npz"), **arrays)


if __name__ == "__main__":
    main()
