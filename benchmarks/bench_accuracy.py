"""The seed CNN's test accuracy over several seeds, in npgrad and in Keras itself.

    NPGRAD_DATA=/path/to/mnist python benchmarks/bench_accuracy.py --seeds 0 1 2 3 4
    NPGRAD_DATA=/path/to/mnist KERAS_BACKEND=torch python benchmarks/bench_accuracy.py --keras

One run of five epochs is one draw: the seed moves the test accuracy by a few tenths of a
percent. This script trains `examples/mnist_cnn.py`'s model with the example's settings
(Adam, batch 32, validation_split=0.1, 5 epochs) once per seed, in npgrad or, with
``--keras``, in Keras (any backend), and prints each accuracy with the median, minimum and
maximum, so the two libraries' spreads can be compared side by side. Results go to
``benchmarks/results/accuracy_<library>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import load_mnist  # noqa: E402


def keras_model(keras):
    """The example's model, layer for layer, in Keras."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def train_once(library, seed, epochs, data):
    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    if library == "keras":
        import keras

        keras.utils.set_random_seed(seed)
        model = keras_model(keras)
    else:
        import mnist_cnn

        import npgrad

        npgrad.utils.set_random_seed(seed)
        model = mnist_cnn.build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=0)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return float(accuracy), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--keras", action="store_true", help="train with Keras instead of npgrad")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    args = parser.parse_args(argv)
    library = "keras" if args.keras else "npgrad"

    runs = []
    for seed in args.seeds:
        accuracy, seconds = train_once(library, seed, args.epochs, args.data)
        runs.append({"seed": seed, "accuracy": accuracy, "seconds": seconds})
        print(f"{library} seed {seed}: test accuracy {accuracy:.4f} ({seconds:.0f} s)", flush=True)
    accuracies = [run["accuracy"] for run in runs]
    print(f"{library}, {args.epochs} epochs, {len(runs)} seeds: median {statistics.median(accuracies):.4f}, "
          f"min {min(accuracies):.4f}, max {max(accuracies):.4f}")
    out = HERE / "results" / f"accuracy_{library}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"library": library, "epochs": args.epochs, "runs": runs}, indent=1))
    return accuracies


if __name__ == "__main__":
    main()
