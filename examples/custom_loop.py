"""A PyTorch-style training loop: forward, loss, ``loss.backward()``, optimizer step, zero grads.

    python examples/custom_loop.py            # 2 epochs of an MLP on MNIST
    python examples/custom_loop.py --quick

No ``fit``: layers are called on Tensors, the loss is a Tensor, the optimizer steps the
parameters from their ``.grad``. The same building blocks as ``Sequential`` use.
"""

import argparse

import numpy as np
from _common import load_mnist

import npgrad
import npgrad.functional as F


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    npgrad.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, quick=args.quick)
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)

    hidden = npgrad.layers.Dense(128, activation="relu")
    out = npgrad.layers.Dense(10)  # logits
    params = None
    optimizer = npgrad.optimizers.Adam(learning_rate=1e-3)
    rng = np.random.default_rng(args.seed)

    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        total, batches = 0.0, 0
        for start in range(0, len(order), args.batch_size):
            idx = order[start:start + args.batch_size]
            logits = out(hidden(x_train[idx], training=True), training=True)
            loss = F.sparse_categorical_crossentropy(y_train[idx], logits, from_logits=True).mean()
            loss.backward()
            if params is None:
                params = hidden.trainable_weights + out.trainable_weights
            optimizer.step(params)
            optimizer.zero_grad(params)
            total, batches = total + loss.item(), batches + 1
        with npgrad.no_grad():
            predictions = out(hidden(x_test)).numpy().argmax(axis=1)
        accuracy = float((predictions == y_test).mean())
        print(f"epoch {epoch + 1}: train loss {total / batches:.4f}, test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
