"""Shared by the word-index text datasets (imdb, reuters): Keras's index shifting, word
filtering and length filtering of integer sequences."""

from __future__ import annotations

import numpy as np


def remove_long(maxlen, sequences, labels):
    """Keep the sequences shorter than ``maxlen`` (Keras keeps ``len < maxlen``)."""
    kept = [(s, y) for s, y in zip(sequences, labels) if len(s) < maxlen]
    return [s for s, _ in kept], [y for _, y in kept]


def prepare(x_train, y_train, x_test, y_test, num_words, skip_top, maxlen, start_char,
            oov_char, index_from, title):
    """Shift indices, add start characters, filter lengths and rare words, as Keras's
    ``imdb``/``reuters`` loaders do; returns ``((x_train, y_train), (x_test, y_test))``."""
    def shift(xs):
        if start_char is not None:
            return [[start_char] + [int(w) + index_from for w in x] for x in xs]
        return [[int(w) + index_from for w in x] for x in xs]

    had_test = len(x_test) > 0
    x_train, x_test = shift(x_train), shift(x_test)
    y_train, y_test = list(y_train), list(y_test)
    if maxlen:
        x_train, y_train = remove_long(maxlen, x_train, y_train)
        x_test, y_test = remove_long(maxlen, x_test, y_test)
        if not x_train or (had_test and not x_test):
            raise ValueError(f"{title}: no sequence is shorter than maxlen={maxlen}; increase maxlen")
    xs = x_train + x_test
    if not num_words:
        num_words = max(max(x) for x in xs if x)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = len(x_train)
    labels = np.concatenate([np.asarray(y_train, dtype=np.int64), np.asarray(y_test, dtype=np.int64)])
    return (_object_array(xs[:n]), labels[:n]), (_object_array(xs[n:]), labels[n:])


def _object_array(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out
