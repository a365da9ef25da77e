"""Train the classic CNN on real MNIST: about 99 % test accuracy in 5 epochs.

    python examples/mnist_cnn.py                 # full run (5 epochs, batch 32)
    python examples/mnist_cnn.py --quick         # 2,000 training images, 1 epoch: a smoke test

The model, as in the Keras tutorial: Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3,
relu) -> MaxPooling2D -> Flatten -> Dense(10, softmax), Adam, sparse categorical cross-entropy.
"""

import argparse
import os
import time

from _common import load_mnist, plot_history

import npgrad


def build_model():
    """The seed CNN (34,826 parameters)."""
    return npgrad.Sequential([
        npgrad.Input(shape=(28, 28, 1)),
        npgrad.layers.Conv2D(32, (3, 3), activation="relu"),
        npgrad.layers.MaxPooling2D((2, 2)),
        npgrad.layers.Conv2D(64, (3, 3), activation="relu"),
        npgrad.layers.MaxPooling2D((2, 2)),
        npgrad.layers.Flatten(),
        npgrad.layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="small subset and one epoch")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/mnist_cnn", help="where the model and plot go")
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible runs")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 1
    if args.seed is not None:
        npgrad.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, quick=args.quick)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=0.1, verbose=args.verbose)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f} "
          f"({seconds / args.epochs:.1f} s per epoch, {args.epochs} epochs)")

    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.npgrad"))
    print(f"saved the model to {os.path.join(args.out, 'model.npgrad')}")
    plot_history(history, os.path.join(args.out, "training.png"))
    return accuracy


if __name__ == "__main__":
    main()
