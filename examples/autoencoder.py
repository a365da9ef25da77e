"""An autoencoder with a Keras 3 custom train_step, trained with fit(x) and no targets.

    python examples/autoencoder.py                 # MNIST digits, 5 epochs
    python examples/autoencoder.py --quick         # a subset, one epoch
    python examples/autoencoder.py --synthetic     # no download: random strokes

The model compresses 28x28 digits to a 32-number code and rebuilds them. It overrides
``train_step(self, data)`` and ``test_step(self, data)`` the way Keras's torch backend
documents it (forward, ``loss.backward()``, ``self.optimizer.apply(...)``, metrics); ``fit``
passes ``x`` alone as ``data`` because there is no ``y``. Everything else (epochs, shuffling,
validation, callbacks, the progress bar, History) is ``Model.fit``.
"""

import argparse

import numpy as np

import npgrad
from npgrad import layers


class AutoEncoder(npgrad.Model):
    """Dense encoder 784 -> 128 -> code, decoder code -> 128 -> 784 (sigmoid pixels)."""

    def __init__(self, code_size=32, **kwargs):
        super().__init__(**kwargs)
        self.flatten = layers.Flatten()
        self.encoder = [layers.Dense(128, activation="relu"), layers.Dense(code_size)]
        self.decoder = [layers.Dense(128, activation="relu"), layers.Dense(784, activation="sigmoid")]
        self.reshape = layers.Reshape((28, 28, 1))

    def encode(self, x, training=False):
        h = self.flatten(x)
        for layer in self.encoder:
            h = layer(h, training=training)
        return h

    def call(self, x, training=False):
        h = self.encode(x, training=training)
        for layer in self.decoder:
            h = layer(h, training=training)
        return self.reshape(h)

    def train_step(self, data):
        x = data  # fit(x) without y: the batch is the images themselves
        self.zero_grad()
        reconstruction = self(x, training=True)
        loss = self.compute_loss(x, x, reconstruction)  # the compiled loss, target = input
        loss.backward()
        weights = self.trainable_weights
        self.optimizer.apply([w.grad for w in weights], weights)
        return self.compute_metrics(x, x, reconstruction, loss=loss)

    def test_step(self, data):
        x = data
        reconstruction = self(x, training=False)
        return self.compute_metrics(x, x, reconstruction, loss=self.compute_loss(x, x, reconstruction))


def synthetic_strokes(n, seed=0):
    """Images of one or two bright line segments on black: a stand-in for digits."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28, 1), np.float32)
    t = np.linspace(0.0, 1.0, 40)
    for image in images:
        for _ in range(rng.integers(1, 3)):
            (r0, c0), (r1, c1) = rng.uniform(4, 24, size=(2, 2))
            rows = np.round(r0 + (r1 - r0) * t).astype(int)
            cols = np.round(c0 + (c1 - c0) * t).astype(int)
            image[rows, cols, 0] = 1.0
    return images


def load_images(args):
    if args.synthetic:
        n = 1200 if args.quick else 6000
        images = synthetic_strokes(n, seed=0)
        return images[: n * 5 // 6], images[n * 5 // 6:]
    from _common import load_mnist

    (x_train, _), (x_test, _) = load_mnist(args.data, quick=args.quick)
    return x_train, x_test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="a subset and one epoch")
    parser.add_argument("--synthetic", action="store_true", help="random strokes, no download")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 2)
    npgrad.utils.set_random_seed(args.seed)

    x_train, x_test = load_images(args)
    model = AutoEncoder()
    model.compile(optimizer=npgrad.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["mse"])
    before = model.evaluate(x_test, verbose=0, return_dict=True)
    model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1,
              verbose=2)
    after = model.evaluate(x_test, verbose=0, return_dict=True)
    print(f"test reconstruction mse {before['mse']:.4f} -> {after['mse']:.4f}")
    print(f"code shape {model.encode(x_test[:4]).shape}")


if __name__ == "__main__":
    main()
