"""Connectionist temporal classification (Graves et al. 2006): the forward-backward algorithm.

``ctc_neg_log_likelihood`` takes per-step log-probabilities (a log-softmax output) and
padded integer label sequences, and returns ``-log p(labels | inputs)`` per sample. The
label sequence is extended with blanks, ``l' = (blank, l1, blank, l2, ..., blank)`` of
length ``S = 2L + 1``; ``alpha[t, s]`` is the log-probability of all paths reaching ``l'_s``
at step t, ``beta[t, s]`` of all paths finishing from there. Everything is in log space, a
Python loop over the T steps, vectorized over the batch and the S positions.
"""

import numpy as np

from npgrad.autograd.function import Function


def _logaddexp3(a, b, c):
    top = np.maximum(np.maximum(a, b), c)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe))


class CTCNegLogLikelihood(Function):
    """-log p(labels | log_probs) per sample; impossible alignments give +inf and no gradient.

    The gradient with respect to the log-probabilities is
    ``-exp(logsumexp_{s: l'_s = k}(alpha[t, s] + beta[t, s]) - log_probs[t, k] - log p)``
    (alpha and beta both include the emission at t, hence one subtraction).
    """

    def forward(self, log_probs, labels=None, label_lengths=None, input_lengths=None,
                blank=0):
        # log_probs: (N, T, K); labels: (N, L) ints; lengths: (N,)
        n, steps, _ = log_probs.shape
        work = log_probs.astype(np.float64)
        width = 2 * labels.shape[1] + 1
        extended = np.full((n, width), blank, dtype=np.intp)
        extended[:, 1::2] = labels
        position = np.arange(width)
        valid = position[None, :] < 2 * label_lengths[:, None] + 1  # (N, S)
        # a skip from s-2 to s is allowed onto a label that differs from the one before it
        skip = np.zeros((n, width), dtype=bool)
        skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
        emit = np.take_along_axis(work, extended[:, None, :].repeat(steps, 1), axis=2)
        emit = np.where(valid[:, None, :], emit, -np.inf)  # (N, T, S)
        alpha = np.full((n, steps, width), -np.inf)
        alpha[:, 0, 0] = emit[:, 0, 0]
        alpha[:, 0, 1] = np.where(label_lengths > 0, emit[:, 0, 1], -np.inf) if width > 1 \
            else alpha[:, 0, 1]
        for t in range(1, steps):
            previous = alpha[:, t - 1]
            shift1 = np.concatenate([np.full((n, 1), -np.inf), previous[:, :-1]], axis=1)
            shift2 = np.concatenate([np.full((n, 2), -np.inf), previous[:, :-2]], axis=1)
            shift2 = np.where(skip, shift2, -np.inf)
            alpha[:, t] = _logaddexp3(previous, shift1, shift2) + emit[:, t]
        alpha = np.where((np.arange(steps)[None, :, None] < input_lengths[:, None, None]),
                         alpha, -np.inf)
        last = input_lengths - 1
        rows = np.arange(n)
        end = 2 * label_lengths  # index of the final blank
        final_blank = alpha[rows, last, end]
        final_label = np.where(label_lengths > 0, alpha[rows, last, np.maximum(end - 1, 0)],
                               -np.inf)
        log_likelihood = np.logaddexp(final_blank, final_label)
        self.save_for_backward(work, alpha, emit, log_likelihood)
        self.extended, self.skip, self.valid = extended, skip, valid
        self.lengths = (label_lengths, input_lengths)
        return (-log_likelihood).astype(log_probs.dtype)

    def backward(self, grad):
        work, alpha, emit, log_likelihood = self.saved
        label_lengths, input_lengths = self.lengths
        n, steps, classes = work.shape
        width = alpha.shape[2]
        rows = np.arange(n)
        beta = np.full((n, steps, width), -np.inf)
        last = input_lengths - 1
        end = 2 * label_lengths
        beta[rows, last, end] = emit[rows, last, end]
        has_label = label_lengths > 0
        beta[rows[has_label], last[has_label], end[has_label] - 1] = \
            emit[rows[has_label], last[has_label], end[has_label] - 1]
        # a skip from s to s+2 is allowed where the skip onto s+2 was allowed
        skip_from = np.zeros((n, width), dtype=bool)
        skip_from[:, :-2] = self.skip[:, 2:]
        for t in range(steps - 2, -1, -1):
            following = beta[:, t + 1]
            shift1 = np.concatenate([following[:, 1:], np.full((n, 1), -np.inf)], axis=1)
            shift2 = np.concatenate([following[:, 2:], np.full((n, 2), -np.inf)], axis=1)
            shift2 = np.where(skip_from, shift2, -np.inf)
            updated = _logaddexp3(following, shift1, shift2) + emit[:, t]
            active = (t < last)[:, None]
            beta[:, t] = np.where(active, updated, beta[:, t])
        # occupancy[n, t, k] = logsumexp over positions s with l'_s = k of alpha + beta
        both = alpha + beta  # (N, T, S)
        top = np.max(both, axis=2, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)
        weights = np.exp(both - top)  # (N, T, S)
        occupancy = np.zeros((n, steps, classes))
        for i in range(n):
            np.add.at(occupancy[i].T, self.extended[i], weights[i].T)
        possible = np.isfinite(log_likelihood)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            scale = np.exp(top - work - log_likelihood[:, None, None])
            d_log_probs = -occupancy * scale
        d_log_probs = np.where(possible[:, None, None] & np.isfinite(d_log_probs), d_log_probs, 0)
        return ((grad[:, None, None] * d_log_probs).astype(grad.dtype),)


def ctc_neg_log_likelihood(log_probs, labels, label_lengths, input_lengths=None, blank=0):
    """Per-sample CTC loss ``-log p(labels | log_probs)``.

    Args:
        log_probs: Tensor (N, T, K) of log-probabilities (e.g. ``F.log_softmax(logits)``).
        labels: int array (N, L) of label sequences padded to L (padding is ignored).
        label_lengths: int array (N,), each <= L.
        input_lengths: int array (N,), each in [1, T] (default: all T).
        blank: the blank class index.

    Returns:
        Tensor (N,); +inf where no alignment of the labels fits in the input length.
    """
    data = getattr(log_probs, "data", log_probs)
    n, steps = np.shape(data)[:2]
    labels = np.asarray(labels, dtype=np.intp).reshape(n, -1)
    label_lengths = np.asarray(label_lengths, dtype=np.intp).reshape(n)
    if input_lengths is None:
        input_lengths = np.full(n, steps, dtype=np.intp)
    input_lengths = np.asarray(input_lengths, dtype=np.intp).reshape(n)
    if (input_lengths < 1).any() or (input_lengths > steps).any():
        raise ValueError(f"ctc: input lengths must be in [1, {steps}], got {input_lengths}")
    if (label_lengths < 0).any() or (label_lengths > labels.shape[1]).any():
        raise ValueError(f"ctc: label lengths must be in [0, {labels.shape[1]}]")
    return CTCNegLogLikelihood.apply(log_probs, labels=labels, label_lengths=label_lengths,
                                     input_lengths=input_lengths, blank=int(blank))
