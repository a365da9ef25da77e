"""Measure a trained MNIST generator with a digit classifier: confidence and class spread.

    python examples/gan_quality.py --generator runs/gan_mlp/generator.npgrad
    python examples/gan_quality.py --generator runs/gan_mlp/gan.npgrad --classifier c.npgrad

A classifier (the CNN of examples/mnist_cnn.py, ~99 % test accuracy) judges 1,000 generated
samples. Two figures, in the spirit of the Inception Score:

* **confident fraction**: share of samples whose top class probability is >= 0.9 (a digit
  the classifier recognises, not a blur between classes);
* **class entropy**: entropy, in bits, of the histogram of predicted classes (log2(10) =
  3.32 bits when all ten digits are equally frequent; low values mean mode collapse).

The bar this project sets is >= 80 % confident and >= 2.0 bits. The same figures for 1,000
real test digits are printed as a reference. ``--classifier`` takes a model saved by
``mnist_cnn.py``; when the file does not exist the same CNN is trained here for
``--classifier-epochs`` epochs (default 5, as ``mnist_cnn.py``) and saved there (default:
``classifier.npgrad`` next to the generator), so later runs reuse it.
"""

import argparse
import os
import sys
import time

import numpy as np
from _common import load_mnist

import npgrad

CONFIDENCE = 0.9
BAR_CONFIDENT, BAR_ENTROPY = 0.80, 2.0


def load_generator(path):
    """A callable ``sample(n, seed) -> images in [-1, 1]`` from a generator or GAN file."""
    generator = npgrad.models.load_model(path, compile=False)  # a GAN file or a generator file
    if hasattr(generator, "generate"):
        return generator.generate
    latent_dim = generator.input_shape[-1]

    def sample(n, seed=None):
        z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
        return generator.predict(z, batch_size=250, verbose=0)

    return sample


def get_classifier(path, epochs, data, quick=False):
    """Load the classifier from ``path``, or train mnist_cnn's CNN and save it there."""
    if path and os.path.exists(path):
        print(f"loading the classifier from {path}")
        return npgrad.models.load_model(path)
    from mnist_cnn import build_model

    (x_train, y_train), (x_test, y_test) = load_mnist(data, quick=quick)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"classifier: test accuracy {accuracy:.4f} after {epochs} epoch(s) "
          f"({time.perf_counter() - start:.0f} s)")
    if path:
        model.save(path)
        print(f"saved the classifier to {path}")
    return model


def quality(classifier, images_01):
    """Confident fraction, class histogram (counts) and its entropy in bits.

    Args:
        classifier: a model returning class probabilities for (N, 28, 28, 1) images in [0, 1].
        images_01: ndarray (N, 28, 28, 1) in [0, 1].

    Returns:
        (confident fraction, counts of shape (10,), entropy in bits).
    """
    probs = classifier.predict(images_01, batch_size=250, verbose=0)
    confident = float(np.mean(probs.max(axis=1) >= CONFIDENCE))
    counts = np.bincount(probs.argmax(axis=1), minlength=10)
    p = counts / counts.sum()
    entropy = float(-np.sum(p[p > 0] * np.log2(p[p > 0]))) + 0.0  # no "-0.000"
    return confident, counts, entropy


def report(label, confident, counts, entropy):
    print(f"{label}: confident (p >= {CONFIDENCE}) {confident:.1%}, class entropy "
          f"{entropy:.3f} bits (max 3.322); histogram 0-9: {counts.tolist()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", required=True, help="generator.npgrad or gan.npgrad")
    parser.add_argument("--classifier", default=None,
                        help="saved classifier (trained and saved here when missing; default "
                             "classifier.npgrad next to the generator)")
    parser.add_argument("--classifier-epochs", type=int, default=None,
                        help="epochs when the classifier is trained here (default 5, as "
                             "mnist_cnn.py; 1 with --quick)")
    parser.add_argument("--n", type=int, default=1000, help="number of samples")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent vectors")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--check", action="store_true", help="exit 1 when the bar is not met")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: classifier from 2,000 images, 200 samples")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 200)
    if args.classifier_epochs is None:
        args.classifier_epochs = 1 if args.quick else 5
    if args.classifier is None:
        args.classifier = os.path.join(os.path.dirname(os.path.abspath(args.generator)),
                                       "classifier.npgrad")

    classifier = get_classifier(args.classifier, args.classifier_epochs, args.data, args.quick)
    _, (x_test, _) = load_mnist(args.data, test_size=args.n)
    report(f"real test digits (n={len(x_test)})", *quality(classifier, x_test))

    sample = load_generator(args.generator)
    images = sample(args.n, seed=args.seed)
    images_01 = np.clip((images + 1.0) / 2.0, 0.0, 1.0).reshape(-1, 28, 28, 1)  # tanh -> [0, 1]
    confident, counts, entropy = quality(classifier, images_01)
    report(f"generated samples (n={args.n})", confident, counts, entropy)
    passed = confident >= BAR_CONFIDENT and entropy >= BAR_ENTROPY
    print(f"quality bar (>= {BAR_CONFIDENT:.0%} confident, >= {BAR_ENTROPY} bits): "
          f"{'PASS' if passed else 'FAIL'}")
    if args.check and not passed:
        sys.exit(1)
    return confident, counts, entropy


if __name__ == "__main__":
    main()
