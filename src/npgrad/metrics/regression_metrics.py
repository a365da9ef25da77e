"""The coefficient of determination, R^2, accumulated over batches (Keras ``R2Score``)."""

from __future__ import annotations

import warnings

import numpy as np

from npgrad.metrics.metric import Metric, as_array, match_ranks


class R2Score(Metric):
    """``1 - SS_res / SS_tot`` per output, then aggregated, optionally adjusted.

    Args:
        class_aggregation: ``'uniform_average'`` (mean over outputs), ``'variance_weighted_average'``
            (weighted by each output's total sum of squares) or None (one score per output).
        num_regressors: p > 0 gives the adjusted R^2, ``1 - (1 - R^2)(n - 1)/(n - p - 1)``, with
            n the number of values seen (falls back to R^2, with a warning, when p >= n - 1).

    Shapes:
        y_true and y_pred (N, outputs); sample_weight (N,) or (N, outputs).
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError(
                "R2Score: class_aggregation must be None, 'uniform_average' or "
                f"'variance_weighted_average', got {class_aggregation!r}"
            )
        if not isinstance(num_regressors, (int, np.integer)) or num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be an int >= 0, got {num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, int(num_regressors)
        self.reset_state()

    def reset_state(self):
        self.num_samples = 0
        self.sum = self.squared_sum = self.total_mse = self.count = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch of (N, outputs) targets and predictions."""
        y_pred = as_array(y_pred).astype(np.float64)
        y_true = match_ranks(as_array(y_true).astype(np.float64), y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "R2Score expects inputs of shape (batch_size, output_dim), got "
                f"y_true {y_true.shape} and y_pred {y_pred.shape}"
            )
        weight = np.ones(()) if sample_weight is None else as_array(sample_weight).astype(np.float64)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = np.broadcast_to(weight, y_true.shape)
        parts = {"sum": np.sum(y_true * weight, axis=0),
                 "squared_sum": np.sum(y_true * y_true * weight, axis=0),
                 "total_mse": np.sum(np.square(y_true - y_pred) * weight, axis=0),
                 "count": np.sum(weight, axis=0)}
        for name, value in parts.items():
            previous = getattr(self, name)
            setattr(self, name, value if previous is None else previous + value)
        self.num_samples += y_true.size

    def result(self):
        if self.sum is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        p, n = self.num_regressors, self.num_samples
        if p:
            if p >= n - 1:
                warnings.warn("R2Score: num_regressors >= number of values - 1; falling back to "
                              "the standard R2 score", stacklevel=2)
            else:
                score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return float(score) if np.ndim(score) == 0 else np.asarray(score)

    def get_config(self):
        return {"name": self.name, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
