"""Transfer learning: a CNN trained on digits 0-4 gives its frozen base to a 5-9 classifier.

    python examples/transfer_learning.py            # 10,000 images of 0-4; 50, 200, 500 of 5-9
    python examples/transfer_learning.py --quick    # 500 images of 0-4; 200 of 5-9

Steps (docs/10_transfer_learning.md):

1. train a small CNN (Conv2D(16) -> MaxPooling2D -> Conv2D(32) -> MaxPooling2D -> Flatten ->
   Dense(5, softmax)) on the digits 0-4 and save it with ``model.save``;
2. load it with ``npgrad.models.load_model``, drop its head, freeze the convolutional base
   (``layer.trainable = False``) and put a new ``Dense(5, softmax)`` head on top;
3. train only that head on a *small* set of the digits 5-9 (labels 5..9 -> 0..4);
4. train the same architecture from scratch on the same small set for the same epochs.

For each size of the small set it prints the test accuracy on all test images of 5-9 for
both; then the trainable parameter counts; it checks that the frozen weights did not move.
"""

import argparse
import os
import time

import numpy as np
from _common import load_mnist

import npgrad
import npgrad.layers
import npgrad.models
import npgrad.optimizers

L = npgrad.layers


def conv_base():
    """The convolutional feature extractor: (N, 28, 28, 1) -> (N, 800)."""
    return [
        L.Conv2D(16, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(32, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Flatten(),
    ]


def cnn():
    """Base plus a 5-way softmax head."""
    return npgrad.models.Sequential(
        [L.Input(shape=(28, 28, 1)), *conv_base(), L.Dense(5, activation="softmax")])


def compile_model(model):
    model.compile(optimizer=npgrad.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def trainable_count(model):
    return int(sum(w.size for w in model.trainable_weights))


def split(x, y, digits, limit=None):
    """The images of ``digits`` with labels renumbered 0..len(digits)-1."""
    keep = np.isin(y, digits)
    x, y = x[keep], y[keep] - min(digits)
    return (x[:limit], y[:limit]) if limit else (x, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-size", type=int, default=10000, help="images of 0-4")
    parser.add_argument("--target-sizes", type=int, nargs="+", default=[50, 200, 500],
                        help="numbers of 5-9 training images to try")
    parser.add_argument("--source-epochs", type=int, default=2)
    parser.add_argument("--target-epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="small subsets, few epochs")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/transfer_learning", help="where the model goes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.source_size, args.target_sizes = 500, [200]
        args.source_epochs, args.target_epochs = 1, 2
    npgrad.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, test_size=1000 if args.quick else None)
    x_a, y_a = split(x_train, y_train, [0, 1, 2, 3, 4], args.source_size)
    x_b, y_b = split(x_train, y_train, [5, 6, 7, 8, 9], max(args.target_sizes))
    x_b_test, y_b_test = split(x_test, y_test, [5, 6, 7, 8, 9])
    print(f"source task 0-4: {len(x_a)} images; target task 5-9: up to {len(x_b)} training "
          f"images, {len(x_b_test)} test images, {args.target_epochs} epochs")

    # 1. the source model
    start = time.perf_counter()
    source = compile_model(cnn())
    source.fit(x_a, y_a, epochs=args.source_epochs, batch_size=32, verbose=0)
    x_a_test, y_a_test = split(x_test, y_test, [0, 1, 2, 3, 4])
    _, source_acc = source.evaluate(x_a_test, y_a_test, verbose=0)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "digits_0_4.npgrad")
    source.save(path)
    print(f"source model: test accuracy on 0-4 {source_acc:.4f} "
          f"({time.perf_counter() - start:.1f} s), saved to {path}")

    # 2. reload, freeze the base, new head; 3. train the head only; 4. the same CNN from scratch
    print(f"{'5-9 images':>10s}  {'frozen base + new head':>22s}  {'from scratch':>12s}")
    results = {}
    for size in args.target_sizes:
        x_small, y_small = x_b[:size], y_b[:size]
        loaded = npgrad.models.load_model(path)
        base = loaded.layers[:-1]                 # the conv base and Flatten, trained weights
        for layer in base:
            layer.trainable = False
        frozen_before = [w.copy() for layer in base for w in layer.get_weights()]
        npgrad.utils.set_random_seed(args.seed + size)
        transfer = compile_model(npgrad.models.Sequential(
            [L.Input(shape=(28, 28, 1)), *base, L.Dense(5, activation="softmax")]))
        npgrad.utils.set_random_seed(args.seed + size)
        scratch = compile_model(cnn())
        accs = []
        for model in (transfer, scratch):
            model.fit(x_small, y_small, epochs=args.target_epochs, batch_size=32, verbose=0)
            accs.append(model.evaluate(x_b_test, y_b_test, verbose=0)[1])
        results[size] = tuple(accs)
        print(f"{size:10d}  {accs[0]:22.4f}  {accs[1]:12.4f}")
        frozen_after = [w for layer in base for w in layer.get_weights()]
        if not all(np.array_equal(a, b) for a, b in zip(frozen_before, frozen_after)):
            raise SystemExit("the frozen base moved: trainable=False is broken")
    print(f"trainable parameters: frozen base + new head {trainable_count(transfer)}, "
          f"from scratch {trainable_count(scratch)}")
    print("frozen base weights unchanged by training: True")
    return results


if __name__ == "__main__":
    main()
