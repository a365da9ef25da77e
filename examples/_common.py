"""Shared bits of the examples: MNIST loading with a clear message, and the --quick subset."""

import os
import sys

import numpy as np


def load_mnist(data=None, quick=False, train_size=None, test_size=None):
    """Load MNIST as float32 images in [0, 1] of shape (N, 28, 28, 1) and uint8 labels.

    Exits with instructions when the data cannot be found or downloaded.
    """
    from npgrad.datasets import mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data(path=data)
    except OSError as exc:
        sys.exit(
            f"Could not load MNIST: {exc}\n"
            "Point NPGRAD_DATA (or --data) at a folder holding the four MNIST IDX files "
            "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
            "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])."
        )
    if quick:
        train_size, test_size = train_size or 2000, test_size or 1000
    if train_size:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    if test_size:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]
    return (x_train, y_train), (x_test, y_test)


def plot_history(history, path, keys=("loss", "accuracy")):
    """Save training curves to ``path`` when matplotlib is installed; return whether it did."""
    try:
        import matplotlib

        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the training-curve plot")
        return False
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.5))
    for ax, key in zip(np.atleast_1d(axes), keys):
        for name in (key, f"val_{key}"):
            if name in history.history:
                ax.plot(range(1, len(history.history[name]) + 1), history.history[name], "o-", label=name)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved training curves to {path}")
    return True
