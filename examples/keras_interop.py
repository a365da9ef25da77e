"""Keras interop: load a model Keras 3 trained, fine-tune it on MNIST in npgrad, hand it back.

    python examples/keras_interop.py            # 10,000 MNIST images, 2 epochs
    python examples/keras_interop.py --quick    # 2,000 images, 1 epoch (synthetic digits
                                                # when MNIST is not available)

Steps (docs/saving_and_callbacks.md, "Keras files"):

1. ``npgrad.models.load_model("seed_cnn.keras")``: the Keras 3 archive (config.json,
   metadata.json, model.weights.h5) of a small CNN that Keras 3.15 wrote, with its compile
   settings (Adam, sparse categorical cross-entropy) and Adam's moments;
2. evaluate it, fine-tune it with ``fit`` (Adam continues from the step Keras stopped at)
   and evaluate again;
3. ``model.save("fine_tuned.keras")``: a real Keras archive that ``keras.models.load_model``
   opens (with any backend); it is reloaded here to check the round trip.

Needs h5py (``pip install "npgrad[keras]"``).
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import npgrad

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = HERE.parent / "tests" / "reference" / "keras_files" / "seed_cnn.keras"


def synthetic_digits(n, seed):
    """Stand-in for MNIST when it is absent: each class is a bright bar at its own place."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n).astype(np.uint8)
    x = rng.uniform(0, 0.2, size=(n, 28, 28, 1)).astype(np.float32)
    for i, label in enumerate(y):
        x[i, 2 + 2 * label: 5 + 2 * label, 4:24, 0] = 1.0
    return x, y


def load_data(args):
    """((x_train, y_train), (x_test, y_test)) as float32 images in [0, 1], and a description."""
    from npgrad.datasets import mnist

    if args.quick:
        os.environ.setdefault("NPGRAD_OFFLINE", "1")  # --quick never waits on a download
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data(path=args.data)
    except OSError as error:
        if not args.quick:
            sys.exit(f"Could not load MNIST ({error}); set NPGRAD_DATA or pass --data, or "
                     f"run with --quick to use synthetic digits")
        print("MNIST not found: using synthetic digits")
        return synthetic_digits(args.train_size, 0), synthetic_digits(500, 1), "synthetic"
    x_train = (x_train[:args.train_size].astype(np.float32) / 255.0)[..., None]
    x_test = (x_test[:2000].astype(np.float32) / 255.0)[..., None]
    return (x_train, y_train[:args.train_size]), (x_test, y_test[:2000]), "MNIST"


def accuracy(model, x, y):
    """The fraction of ``x`` whose most probable class is ``y``."""
    return float(np.mean(model.predict(x, verbose=0).argmax(-1) == y))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="a .keras file")
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2,000 images, one epoch")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/keras_interop", help="where the model goes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.epochs = min(args.train_size, 2000), 1
    npgrad.utils.set_random_seed(args.seed)

    model = npgrad.models.load_model(args.model)
    print(f"loaded {args.model}: {type(model).__name__} {model.name!r}, "
          f"{model.count_params():,} parameters, optimizer {type(model.optimizer).__name__} "
          f"at step {model.optimizer.iterations}")
    (x_train, y_train), (x_test, y_test), source = load_data(args)
    before = accuracy(model, x_test, y_test)
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=2)
    after = accuracy(model, x_test, y_test)
    print(f"{source} test accuracy before fine-tuning {before:.4f}, after {after:.4f}")

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "fine_tuned.keras")
    model.save(path)
    again = npgrad.models.load_model(path)
    same = np.allclose(again.predict(x_test[:64], verbose=0), model.predict(x_test[:64],
                                                                             verbose=0))
    print(f"wrote {path} (Keras 3: keras.models.load_model({path!r})); "
          f"reloaded in npgrad: predictions identical={same}, optimizer step "
          f"{again.optimizer.iterations}")
    return after


if __name__ == "__main__":
    main()
