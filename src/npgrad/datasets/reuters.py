"""Reuters newswire topics (11,228 newswires, 46 topics, as word indices), as
``keras.datasets.reuters``.

Example:
    >>> from npgrad.datasets import reuters
    >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=10000)
"""

from __future__ import annotations

import json

import numpy as np

from npgrad.datasets import safe_pickle
from npgrad.datasets._download import cache_dir
from npgrad.datasets.keras_files import KERAS_BASE_URL, locate
from npgrad.datasets.sequences import prepare
from npgrad.utils.file_download import get_file

__all__ = ["SHA256", "get_label_names", "get_word_index", "load_data"]

SHA256 = {"reuters.npz": "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"}
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, *, verify=True, **kwargs):
    """Load the Reuters dataset, as ``keras.datasets.reuters.load_data``.

    Args:
        path: ``reuters.npz``, a path to it, or a folder holding it (see ``imdb.load_data``).
        test_split: fraction of the newswires used for testing.
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, verify: as
            :func:`npgrad.datasets.imdb.load_data`.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: object arrays of integer lists and int64
        topic labels 0..45.
    """
    file = locate("reuters", "Reuters", "reuters.npz", KERAS_BASE_URL + "reuters.npz",
                  SHA256["reuters.npz"], path=None if path == "reuters.npz" else path,
                  verify=verify)
    arrays = safe_pickle.load_npz(file)
    xs, labels = arrays["x"], arrays["y"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(xs))
    rng.shuffle(order)
    xs, labels = xs[order], labels[order]
    # Keras filters by length and rare words first, then splits
    (xs, labels), _ = prepare(xs, labels, [], [], num_words, skip_top, maxlen, start_char,
                              oov_char, index_from, "reuters.load_data")
    n = int(len(xs) * (1 - test_split))
    return (xs[:n], labels[:n]), (xs[n:], labels[n:])


def get_word_index(path="reuters_word_index.json"):
    """The dict word -> index of the Reuters dataset (MD5 checked)."""
    file = get_file(path, KERAS_BASE_URL + "reuters_word_index.json", file_hash=WORD_INDEX_MD5,
                    cache_dir=cache_dir("reuters").parent, cache_subdir="reuters")
    with open(file) as handle:
        return json.load(handle)


def get_label_names():
    """The 46 topic names, in label order."""
    return LABEL_NAMES
