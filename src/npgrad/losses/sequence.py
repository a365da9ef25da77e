"""Sequence losses: CTC (connectionist temporal classification), as Keras' ``ctc``."""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.losses.loss import KerasLoss, prediction_tensor, target_array
from npgrad.primitives.ctc import ctc_neg_log_likelihood


def ctc(y_true, y_pred):
    """Per-sample CTC loss of logits against padded label sequences (Keras ``ctc``).

    Args:
        y_true: int array (N, L) of labels in [1, K); 0 is the blank and marks padding, so
            each label sequence's length is its count of non-zero entries.
        y_pred: logits (not softmax-normalized), shape (N, T, K); every sample uses all T
            steps.

    Returns:
        Tensor (N,): ``-log p(labels | logits)``, +inf where the labels cannot fit in T steps.

    Raises:
        ValueError: for targets that are not 2-D or predictions that are not 3-D.
    """
    y_pred = prediction_tensor(y_pred)
    labels = target_array(y_true)
    if labels.ndim != 2:
        raise ValueError(
            f"ctc: y_true must have shape (batch_size, max_length), got {labels.shape}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            f"ctc: y_pred must have shape (batch_size, max_length, num_classes), got {y_pred.shape}"
        )
    labels = labels.astype(np.intp)
    label_lengths = np.sum(labels != 0, axis=-1)
    return ctc_neg_log_likelihood(F.log_softmax(y_pred, axis=-1), labels, label_lengths)


class CTC(KerasLoss):
    """CTC loss (Keras ``CTC``): y_true (N, L) padded integer labels, y_pred (N, T, K) logits."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)
