"""F-scores: F-beta and F1 over classes, per class or averaged (micro, macro, weighted)."""

from __future__ import annotations

import numpy as np

from npgrad.metrics.metric import Metric, as_array

EPSILON = 1e-7  # Keras' backend.epsilon()


class FBetaScore(Metric):
    """``(1 + beta^2) P R / (beta^2 P + R)`` from accumulated per-class counts (Keras).

    Predictions count as positive above ``threshold``, or, with ``threshold=None``, where
    they equal their row's maximum (and are not ~0).

    Args:
        average: None (one score per class, an ndarray), ``'micro'`` (counts pooled over
            classes), ``'macro'`` (mean of the per-class scores) or ``'weighted'`` (mean
            weighted by each class' number of true instances).
        beta: weight of recall relative to precision (default 1.0).
        threshold: float in (0, 1], or None (the row's top prediction).

    Shapes:
        y_true and y_pred (N, C), one-hot or multi-hot targets.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                f"{who}: average must be None, 'micro', 'macro' or 'weighted', got {average!r}"
            )
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or beta <= 0:
            raise ValueError(f"{who}: beta must be a float > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(
                f"{who}: threshold must be a float in (0, 1] or None, got {threshold!r}"
            )
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self.reset_state()

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = None
        self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch of (N, C) targets and predictions, optional (N,) weights."""
        y_true = as_array(y_true).astype(np.float32)
        y_pred = as_array(y_pred).astype(np.float32)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch_size, output_dim), got "
                f"y_true {y_true.shape} and y_pred {y_pred.shape}"
            )
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= top) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weight = None if sample_weight is None else \
            as_array(sample_weight).astype(np.float64).reshape(-1, 1)

        def total(values):
            return np.sum(values if weight is None else values * weight, axis=self.axis)

        counts = {"true_positives": total(predicted * y_true),
                  "false_positives": total(predicted * (1 - y_true)),
                  "false_negatives": total((1 - predicted) * y_true),
                  "intermediate_weights": total(y_true)}
        for name, value in counts.items():
            previous = getattr(self, name)
            setattr(self, name, value if previous is None else previous + value)

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta**2
        score = precision * recall / (beta2 * precision + recall + EPSILON) * (1 + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            return float(np.sum(score * weights))
        if self.average is not None:
            return float(np.mean(score))
        return np.asarray(score, dtype=np.float64)

    def get_config(self):
        return {"name": self.name, "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F-beta score with beta = 1, the harmonic mean of precision and recall.

    Args:
        average: None, ``'micro'``, ``'macro'`` or ``'weighted'`` (see :class:`FBetaScore`).
        threshold: float in (0, 1], or None (the row's top prediction).
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
