"""MNIST with an LSTM: each digit is read as a sequence of 28 rows of 28 pixels.

    python examples/lstm_mnist_rows.py             # 5 epochs on full MNIST (~98-99 % test accuracy)
    python examples/lstm_mnist_rows.py --quick     # smoke test on a subset (< 30 s)

LSTM(128) -> Dense(10, softmax); Adam(1e-3); sparse categorical cross-entropy. The whole
sequence runs as one fused op (one input GEMM, one recurrent GEMM per row, hand-written
backward through time). Data: --data, else NPGRAD_DATA, else the npgrad cache.
"""

import argparse
import time

from _common import load_mnist

import npgrad
from npgrad.layers.recurrent import LSTM


def build_model(units=128):
    """LSTM over the 28 rows, then a softmax classifier (81,674 parameters for 128 units)."""
    return npgrad.Sequential([
        npgrad.Input(shape=(28, 28)),
        LSTM(units),
        npgrad.layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 3,000 images")
    parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 1
    if args.seed is not None:
        npgrad.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(
        args.data, quick=args.quick, train_size=3000 if args.quick else None)
    x_train, x_test = x_train[..., 0], x_test[..., 0]  # (N, 28 rows, 28 pixels)
    model = build_model(args.units)
    model.compile(optimizer=npgrad.optimizers.Adam(args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    per_epoch = (time.perf_counter() - start) / args.epochs
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"{per_epoch:.1f} s/epoch")
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
