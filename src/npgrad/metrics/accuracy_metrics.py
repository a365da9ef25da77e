"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k."""

from __future__ import annotations

import numpy as np

from npgrad.metrics.metric import MeanMetricWrapper, as_array, match_ranks, sparse_labels


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` elementwise, else 0.0 (ranks matched first)."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    y_true = match_ranks(y_true, y_pred)
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``y_true == (y_pred > threshold)``.

    Shapes: y_pred (N, ..., d), y_true the same (or without a trailing 1); returns (N, ...).
    """
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    y_true = match_ranks(y_true, y_pred)
    predicted = (y_pred > threshold).astype(np.float32)
    return np.mean(y_true.astype(np.float32) == predicted, axis=-1).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """``argmax(y_true) == argmax(y_pred)`` along the last axis; shapes (N, C) -> (N,)."""
    y_true, y_pred = as_array(y_true), as_array(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """``y_true == argmax(y_pred)``; labels (N,) or (N, 1), predictions (N, C) -> (N,)."""
    y_pred = as_array(y_pred)
    labels = sparse_labels(as_array(y_true), y_pred)
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(labels, y_pred, k):
    """True where the label's score is among the k largest (ties count in favour, as TF)."""
    label_scores = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    better = np.sum(y_pred > label_scores, axis=-1)
    return (better < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where ``argmax(y_true)`` is among the top ``k`` predictions; (N, C) -> (N,)."""
    y_pred = as_array(y_pred)
    return _in_top_k(np.argmax(as_array(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the top ``k`` predictions; (N, C) -> (N,)."""
    y_pred = as_array(y_pred)
    return _in_top_k(sparse_labels(as_array(y_true), y_pred), y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (Keras ``Accuracy``)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels.

    Args:
        threshold: decision threshold on probabilities (use 0.0 for logits).
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches ``argmax`` of one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the ``k`` highest predictions.

    Args:
        k: number of top predictions considered.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions.

    Args:
        k: number of top predictions considered.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
