"""IMDB movie-review sentiment (25,000 + 25,000 reviews as word indices), as
``keras.datasets.imdb``.

Example:
    >>> from npgrad.datasets import imdb
    >>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
    >>> x_train[0][:4], y_train[0]             # [1, 14, 22, 16], 1 (start char, words; positive)
"""

from __future__ import annotations

import json

import numpy as np

from npgrad.datasets import safe_pickle
from npgrad.datasets._download import cache_dir
from npgrad.datasets.keras_files import KERAS_BASE_URL, locate
from npgrad.datasets.sequences import prepare
from npgrad.utils.file_download import get_file

__all__ = ["SHA256", "get_word_index", "load_data"]

#: SHA-256 of Keras's file (the word index is checked by Keras's published MD5)
SHA256 = {"imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"}
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, *, verify=True, **kwargs):
    """Load the IMDB dataset, as ``keras.datasets.imdb.load_data``.

    Args:
        path: ``imdb.npz`` (Keras's file name, looked for as described in
            :mod:`npgrad.datasets.keras_files`), a path to such a file, or a folder holding it.
        num_words: keep the ``num_words`` most frequent words; rarer ones become ``oov_char``.
        skip_top: also replace the ``skip_top`` most frequent words by ``oov_char``.
        maxlen: drop sequences of ``maxlen`` words or more.
        seed: shuffling seed (Keras's order for 113).
        start_char: index marking the start of a review (None: no marker).
        oov_char: index of dropped words (None: remove them).
        index_from: offset added to every word index.
        verify: check the SHA-256 of a file given by ``path`` or found in ``NPGRAD_DATA``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: object arrays of integer lists and int64
        label arrays (0 negative, 1 positive).

    Raises:
        DatasetNotFoundError, ChecksumError, CorruptFileError: see :mod:`npgrad.datasets`.
    """
    file = locate("imdb", "IMDB", "imdb.npz", KERAS_BASE_URL + "imdb.npz", SHA256["imdb.npz"],
                  path=None if path == "imdb.npz" else path, verify=verify)
    arrays = safe_pickle.load_npz(file)
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    rng = np.random.RandomState(seed)  # Keras's shuffle, same order for the same seed
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]
    return prepare(x_train, y_train, x_test, y_test, num_words, skip_top, maxlen, start_char,
                   oov_char, index_from, "imdb.load_data")


def get_word_index(path="imdb_word_index.json"):
    """The dict word -> index of the IMDB dataset (``imdb_word_index.json``, MD5 checked)."""
    file = get_file(path, KERAS_BASE_URL + "imdb_word_index.json", file_hash=WORD_INDEX_MD5,
                    cache_dir=cache_dir("imdb").parent, cache_subdir="imdb")
    with open(file) as handle:
        return json.load(handle)
