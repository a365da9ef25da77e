"""Small local stand-ins for the datasets the keras.io scripts download.

Each function returns arrays of the same per-sample shape and dtype as the Keras loader it
replaces (fewer samples), built from a fixed seed so the runs are reproducible. The data are
learnable: every class has its own template, so a model trained for a few steps does better
than chance and the runner can check the result.
"""

import numpy as np


def _images(n, shape, num_classes, rng, templates):
    y = rng.integers(0, num_classes, size=n)
    noise = rng.normal(0.0, 40.0, size=(n,) + shape)
    x = np.clip(templates[y] + noise, 0, 255).astype("uint8")
    return x, y.astype("uint8")


def mnist_load_data(n_train=1200, n_test=300, seed=0):
    """Like ``keras.datasets.mnist.load_data()``: uint8 (n, 28, 28) images, uint8 labels."""
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0, 255, size=(10, 28, 28)) * (rng.random((10, 28, 28)) < 0.3)
    train = _images(n_train, (28, 28), 10, rng, templates)
    test = _images(n_test, (28, 28), 10, rng, templates)
    return train, test


def cifar10_load_data(n_train=1000, n_test=200, seed=0):
    """Like ``keras.datasets.cifar10.load_data()``: uint8 (n, 32, 32, 3), labels (n, 1)."""
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0, 255, size=(10, 32, 32, 3))
    (x_train, y_train) = _images(n_train, (32, 32, 3), 10, rng, templates)
    (x_test, y_test) = _images(n_test, (32, 32, 3), 10, rng, templates)
    return (x_train, y_train.reshape(-1, 1)), (x_test, y_test.reshape(-1, 1))


def imdb_load_data(num_words=20000, n_train=400, n_test=100, seed=0):
    """Like ``keras.datasets.imdb.load_data(num_words)``: object arrays of int lists, 0/1 labels.

    Positive reviews use more of the words 10..59, negative ones more of 60..109.
    """
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 2, size=n)
        reviews = []
        for label in labels:
            length = int(rng.integers(20, 300))
            words = rng.integers(2, num_words, size=length)
            marked = rng.random(length) < 0.3
            words[marked] = rng.integers(10, 60, size=marked.sum()) + 50 * (1 - label)
            reviews.append([1] + words.tolist())
        sequences = np.empty(n, dtype=object)
        sequences[:] = reviews
        return sequences, labels.astype("int64")

    return make(n_train), make(n_test)


def ford_a_tsv(path, n=200, length=500, seed=0):
    """Write a FordA-like TSV file (label -1/1, then ``length`` z-normalized values)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([-1, 1], size=n)
    t = np.linspace(0, 8 * np.pi, length)
    series = np.sin(t[None, :] * (1.0 + 0.5 * (labels[:, None] > 0))) + rng.normal(
        0, 0.5, size=(n, length)
    )
    series = (series - series.mean(axis=1, keepdims=True)) / series.std(axis=1, keepdims=True)
    np.savetxt(path, np.column_stack([labels, series]), delimiter="\t", fmt="%.5f")
    return path


def nietzsche_txt(path, n_chars=6000, seed=0):
    """Write a small English-like text file in place of ``nietzsche.txt``."""
    rng = np.random.default_rng(seed)
    words = (
        "the will to power is the world and nothing besides and you yourselves are also "
        "this will to power and nothing besides what is good all that heightens the feeling"
    ).split()
    text = []
    while sum(len(w) + 1 for w in text) < n_chars:
        text.append(words[int(rng.integers(0, len(words)))])
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(text))
    return path


def fra_eng_txt(path, n_pairs=300, seed=0):
    """Write a small ``fra.txt`` (English TAB French TAB attribution) like manythings.org's."""
    rng = np.random.default_rng(seed)
    pairs = [
        ("Go.", "Va !"), ("Run!", "Cours !"), ("Wow!", "Ça alors !"), ("Fire!", "Au feu !"),
        ("Help!", "À l'aide !"), ("Stop!", "Arrête-toi !"), ("Wait!", "Attends !"),
        ("I see.", "Je comprends."), ("I try.", "J'essaye."), ("Hello!", "Bonjour !"),
        ("I won!", "J'ai gagné !"), ("Smile.", "Souriez !"), ("Got it?", "Compris ?"),
    ]
    lines = []
    for _ in range(n_pairs):
        en, fr = pairs[int(rng.integers(0, len(pairs)))]
        lines.append(f"{en}\t{fr}\tCC-BY 2.0 (France) Attribution: tatoeba.org")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def creditcard_csv(path, n=3000, seed=0):
    """Write a ``creditcard.csv`` like Kaggle's: a header, then Time, V1..V28, Amount and a
    quoted 0/1 "Class" (about 2% frauds, whose features are shifted)."""
    rng = np.random.default_rng(seed)
    fraud = rng.random(n) < 0.02
    features = rng.normal(size=(n, 30))
    features[:, 1:29] += 2.0 * fraud[:, None] * np.sign(np.arange(28) % 2 - 0.5)
    features[:, 0] = np.sort(rng.uniform(0, 172792, size=n))
    features[:, 29] = np.abs(rng.normal(88, 250, size=n))
    header = ",".join(['"Time"'] + [f'"V{i}"' for i in range(1, 29)] + ['"Amount"', '"Class"'])
    with open(path, "w") as f:
        f.write(header + "\n")
        for row, label in zip(features, fraud):
            f.write(",".join(f"{v:.6f}" for v in row) + f',"{int(label)}"\n')
    return path
