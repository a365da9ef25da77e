"""Overfitting and five ways to fight it, on a small MNIST subset: train vs validation curves.

    python examples/regularization.py            # 1,000 training images, 40 epochs per variant
    python examples/regularization.py --quick    # 256 images, 2 epochs: a smoke test

The same multilayer perceptron (Flatten -> Dense(256, relu) -> Dense(256, relu) ->
Dense(10, softmax), Adam) is trained from the same seed six times (docs/07_regularization.md):

    baseline       nothing
    l2             L2(1e-3) penalty on every kernel
    dropout        Dropout(0.5) after each hidden layer
    batchnorm      BatchNormalization before each hidden activation
    augmentation   RandomRotation(0.05), RandomTranslation(0.1, 0.1), RandomZoom(0.1) on the input
    combined       l2 + dropout + augmentation + EarlyStopping(val_accuracy, patience 8, best weights)

With only 1,000 training images the baseline reaches ~100 % training accuracy quickly and
stops improving on held-out images; the script prints, for each variant, the final training
and validation accuracy, their gap, and the best validation accuracy and its epoch. The
validation set is the first 5,000 MNIST *test* images (never trained on). Curves are saved as
a PNG when matplotlib is installed.
"""

import argparse
import os
import time

import numpy as np
from _common import load_mnist

import npgrad
import npgrad.callbacks
import npgrad.layers
import npgrad.models
import npgrad.optimizers
import npgrad.regularizers

L = npgrad.layers
VARIANTS = ("baseline", "l2", "dropout", "batchnorm", "augmentation", "combined")


def build_model(variant):
    """The MLP with the variant's regularizers switched on."""
    l2 = variant in ("l2", "combined")
    dropout = variant in ("dropout", "combined")
    augment = variant in ("augmentation", "combined")
    layers = [L.Input(shape=(28, 28, 1))]
    if augment:
        layers += [L.RandomRotation(0.05), L.RandomTranslation(0.1, 0.1), L.RandomZoom(0.1)]
    layers.append(L.Flatten())
    for _ in range(2):
        regularizer = npgrad.regularizers.L2(1e-3) if l2 else None
        if variant == "batchnorm":
            layers += [L.Dense(256, use_bias=False), L.BatchNormalization(), L.Activation("relu")]
        else:
            layers.append(L.Dense(256, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            layers.append(L.Dropout(0.5))
    regularizer = npgrad.regularizers.L2(1e-3) if l2 else None
    layers.append(L.Dense(10, activation="softmax", kernel_regularizer=regularizer))
    return npgrad.models.Sequential(layers)


def train(variant, data, epochs, seed):
    """Fit one variant from ``seed``; return its History and seconds taken."""
    (x_train, y_train), (x_val, y_val) = data
    npgrad.utils.set_random_seed(seed)
    model = build_model(variant)
    model.compile(optimizer=npgrad.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    if variant == "combined":
        callbacks.append(npgrad.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=8, restore_best_weights=True))
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32,
                        validation_data=(x_val, y_val), callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - start
    _, final_val = model.evaluate(x_val, y_val, verbose=0)   # best weights when restored
    return history, final_val, seconds


def plot(histories, path):
    """Training (dashed) and validation (solid) accuracy of every variant."""
    try:
        import matplotlib

        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the curves")
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for k, (variant, history) in enumerate(histories.items()):
        color = f"C{k}"
        epochs = np.arange(1, len(history.history["accuracy"]) + 1)
        axes[0].plot(epochs, history.history["accuracy"], "--", color=color)
        axes[0].plot(epochs, history.history["val_accuracy"], "-", color=color, label=variant)
        axes[1].plot(epochs, history.history["val_loss"], "-", color=color, label=variant)
    axes[0].set_title("accuracy (dashed: training, solid: validation)")
    axes[1].set_title("validation loss")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved the curves to {path}")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--quick", action="store_true", help="256 images, 2 epochs")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/regularization", help="where the PNG goes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train_size, epochs = (256, 2) if args.quick else (args.train_size, args.epochs)
    val_size = 256 if args.quick else 5000

    data = load_mnist(args.data, train_size=train_size, test_size=val_size)
    print(f"{train_size} training images, {val_size} validation images, up to {epochs} epochs")
    print(f"{'variant':13s} {'train acc':>9s} {'val acc':>8s} {'gap':>6s} "
          f"{'best val':>9s} {'at epoch':>8s} {'epochs':>6s} {'seconds':>7s}")
    histories, results = {}, {}
    for variant in args.variants:
        history, final_val, seconds = train(variant, data, epochs, args.seed)
        train_acc = history.history["accuracy"][-1]
        val_curve = history.history["val_accuracy"]
        best = int(np.argmax(val_curve))
        # the combined variant restored its best weights: final_val is that epoch's accuracy
        results[variant] = dict(train=train_acc, val=final_val, best_val=val_curve[best],
                                best_epoch=best + 1, epochs=len(val_curve))
        histories[variant] = history
        print(f"{variant:13s} {train_acc:9.4f} {final_val:8.4f} {train_acc - final_val:6.3f} "
              f"{val_curve[best]:9.4f} {best + 1:8d} {len(val_curve):6d} {seconds:7.1f}")
    os.makedirs(args.out, exist_ok=True)
    plot(histories, os.path.join(args.out, "curves.png"))
    return results


if __name__ == "__main__":
    main()
