"""The second classic MNIST model: one convolution, then a dense head with dropout.

    python examples/mnist_mlp.py            # 5 epochs
    python examples/mnist_mlp.py --quick    # smoke test on a subset

Conv2D(32, 3x3, relu) -> MaxPooling2D -> Flatten -> Dense(128, relu) -> Dropout(0.5) ->
Dense(10, softmax); Adam; sparse categorical cross-entropy.
"""

import argparse

from _common import load_mnist

import npgrad


def build_model():
    """Seed model B (693,962 parameters)."""
    return npgrad.Sequential([
        npgrad.Input(shape=(28, 28, 1)),
        npgrad.layers.Conv2D(32, (3, 3), activation="relu"),
        npgrad.layers.MaxPooling2D((2, 2)),
        npgrad.layers.Flatten(),
        npgrad.layers.Dense(128, activation="relu"),
        npgrad.layers.Dropout(0.5),
        npgrad.layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 1
    if args.seed is not None:
        npgrad.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, quick=args.quick)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
