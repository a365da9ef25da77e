"""FGSM adversarial examples, and adversarial training that resists them.

    python examples/adversarial.py            # 10,000 training images, 5 epochs, 2,000 test images
    python examples/adversarial.py --quick    # 1,000 training images, 1 epoch, 300 test images

The fast gradient sign method (Goodfellow et al., 2015; docs/12_robustness.md) moves every
pixel by epsilon in the direction that increases the loss,

    x_adv = clip(x + epsilon * sign(d loss(model(x), y) / d x), 0, 1),

with the gradient from ``backward()`` on a Tensor image that requires grad. The script trains
a multilayer perceptron normally, measures its test accuracy under attack for several
epsilons, then trains the same network adversarially (every batch: half clean images, half
FGSM images made against the current weights with epsilon drawn from [0, 0.2]) and
measures again. Both tables are printed.
"""

import argparse
import time

import numpy as np
from _common import load_mnist

import npgrad
import npgrad.layers
import npgrad.losses
import npgrad.models
import npgrad.optimizers

L = npgrad.layers
EPSILONS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)


def mlp():
    return npgrad.models.Sequential([
        L.Input(shape=(28, 28, 1)),
        L.Flatten(),
        L.Dense(256, activation="relu"),
        L.Dense(256, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])


def fgsm(model, x, y, epsilon):
    """FGSM images for a batch: (N, 28, 28, 1) in [0, 1].

    The loss reads the softmax's logits (npgrad.losses does that when the graph is recorded),
    so confidently classified images still get a useful, non-zero gradient.
    """
    if np.isscalar(epsilon) and epsilon == 0:
        return x
    image = npgrad.Tensor(x, requires_grad=True)
    loss = npgrad.losses.sparse_categorical_crossentropy(y, model(image, training=False)).sum()
    loss.backward()
    for w in model.weights:               # only the image's gradient was wanted
        w.grad = None
    epsilon = np.asarray(epsilon, dtype=x.dtype).reshape(-1, 1, 1, 1)
    return np.clip(x + epsilon * np.sign(image.grad), 0.0, 1.0).astype(x.dtype)


def accuracy_under_attack(model, x, y, epsilon, batch_size=500):
    correct = 0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        x_adv = fgsm(model, xb, yb, epsilon)
        correct += int(np.sum(np.argmax(model.predict(x_adv, verbose=0), axis=1) == yb))
    return correct / len(x)


def train(x, y, epochs, adversarial, seed, batch_size=32):
    """Fit the MLP; adversarially, each batch is doubled with FGSM images of itself."""
    npgrad.utils.set_random_seed(seed)
    model = mlp()
    model.compile(optimizer=npgrad.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if not adversarial:
        model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
        return model
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            xb, yb = x[order[i:i + batch_size]], y[order[i:i + batch_size]]
            epsilon = rng.uniform(0.0, 0.2, size=len(xb))      # one epsilon per image
            x_adv = fgsm(model, xb, yb, epsilon)
            model.train_on_batch(np.concatenate([xb, x_adv]), np.concatenate([yb, yb]))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1,000 images, 1 epoch")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.test_size, args.epochs = 1000, 300, 1

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, train_size=args.train_size,
                                                      test_size=args.test_size)
    print(f"{len(x_train)} training images, {args.epochs} epochs; attacks on {len(x_test)} "
          "test images")
    results = {}
    for name, adversarial in (("standard", False), ("adversarial", True)):
        start = time.perf_counter()
        model = train(x_train, y_train, args.epochs, adversarial, args.seed)
        seconds = time.perf_counter() - start
        results[name] = [accuracy_under_attack(model, x_test, y_test, eps) for eps in EPSILONS]
        print(f"{name} training took {seconds:.1f} s")
    print("epsilon   " + "  ".join(f"{eps:6.2f}" for eps in EPSILONS))
    for name, accs in results.items():
        print(f"{name:9s} " + "  ".join(f"{a:6.3f}" for a in accs))
    return results


if __name__ == "__main__":
    main()
