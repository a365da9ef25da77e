"""Confusion-matrix metrics: counts, precision and recall at thresholds, the *At* metrics, AUC.

All of them count, for each threshold ``t``, the (weighted) true/false positives/negatives of
``y_pred > t`` against ``y_true != 0`` (Keras' ``update_confusion_matrix_variables``):
predictions are flattened (or kept per label with ``multi_label``), ``top_k`` keeps only the
k largest predictions of each row, ``class_id`` keeps one column. Evenly spaced thresholds
(AUC's and the *At* metrics') are counted by bucketing, ``ceil(p (T - 1)) - 1`` with
predictions clipped to [0, 1], exactly as Keras does. A metric with one threshold returns a
float, with several an ndarray (one value per threshold).
"""

from __future__ import annotations

import numpy as np

from npgrad.metrics.metric import Metric, as_array

EPSILON = 1e-7  # Keras' backend.epsilon()
NEG_INF = -1e10  # the value top_k gives to the predictions it drops (Keras)


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b != 0)


def parse_thresholds(thresholds, default, who):
    """A list of thresholds in [0, 1] (``default`` when None), or a ValueError naming ``who``."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or not 0 <= float(t) <= 1]
    if bad or not values:
        raise ValueError(f"{who}: thresholds must be floats in [0, 1], got {thresholds!r}")
    return [float(t) for t in values]


def evenly_distributed(thresholds):
    """Whether the thresholds are ``i / (n - 1)`` for i = 0..n-1 (n >= 3), as Keras checks."""
    n = len(thresholds)
    if n < 3:
        return False
    return bool(np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON))


def _filter_top_k(x, k):
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, x, np.float32(NEG_INF)).astype(np.float32)


def _prepare(y_true, y_pred, sample_weight, top_k, class_id):
    """float32 targets and predictions of one shape, and the weights broadcast to it."""
    y_true = as_array(y_true).astype(np.float32)
    y_pred = as_array(y_pred).astype(np.float32)
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"targets of shape {y_true.shape} do not match predictions of shape {y_pred.shape}"
        )
    weight = None
    if sample_weight is not None:
        weight = as_array(sample_weight).astype(np.float32)
        while weight.ndim > y_pred.ndim and weight.shape[-1] == 1:
            weight = weight[..., 0]
        while weight.ndim < y_pred.ndim:
            weight = weight[..., None]
        weight = np.broadcast_to(weight, y_pred.shape)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "class_id needs predictions of shape (num_samples, num_classes), got "
                f"{y_pred.shape}"
            )
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
        weight = None if weight is None else weight[..., class_id, None]
    return y_true, y_pred, weight


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None,
                     multi_label=False, label_weights=None, evenly=False):
    """Weighted ``(tp, fp, tn, fn)`` of ``y_pred > threshold`` for each threshold.

    Args:
        y_true: labels (non-zero is positive), shape of ``y_pred``.
        y_pred: scores, any shape ((N, L) with ``multi_label``).
        thresholds: sequence of T floats.
        sample_weight: weights broadcastable to ``y_pred`` (shape (N,) is per sample).
        top_k: keep only the k largest predictions of each row.
        class_id: count only this column.
        multi_label: count each of the L columns apart.
        label_weights: per-column weights (flattened case only).
        evenly: the thresholds are evenly spaced (Keras' bucketed counting).

    Returns:
        Four float64 ndarrays of shape (T,) or (T, L).
    """
    y_true, y_pred, weight = _prepare(y_true, y_pred, sample_weight, top_k, class_id)
    if label_weights is not None and not multi_label:
        extra = np.broadcast_to(np.asarray(label_weights, np.float32), y_pred.shape)
        weight = extra if weight is None else weight * extra
    weight = np.ones(y_pred.shape, np.float32) if weight is None else weight
    positive = y_true != 0
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(f"multi_label needs predictions of rank 2, got shape {y_pred.shape}")
        columns = [(positive[:, i], y_pred[:, i], weight[:, i]) for i in range(y_pred.shape[1])]
    else:
        columns = [(positive.reshape(-1), y_pred.reshape(-1), weight.reshape(-1))]
    thresholds = np.asarray(thresholds, dtype=np.float32)
    with_epsilon = thresholds[0] < 0 or thresholds[-1] > 1
    results = []
    for labels, scores, weights in columns:
        true_weight = np.where(labels, weights, 0).astype(np.float64)
        false_weight = np.where(labels, 0, weights).astype(np.float64)
        if evenly:
            tp, fp = _bucketed(scores, true_weight, false_weight, len(thresholds), with_epsilon)
        else:
            tp, fp = _compared(scores, true_weight, false_weight, thresholds)
        results.append((tp, fp, false_weight.sum() - fp, true_weight.sum() - tp))
    counts = [np.stack([r[i] for r in results], axis=-1) for i in range(4)]
    return tuple(c if multi_label else c[:, 0] for c in counts)


def _bucketed(scores, true_weight, false_weight, count, with_epsilon):
    """Keras' optimized counting: bucket ``ceil(p (T - 1)) - 1``, then reverse cumulative sums."""
    scores = np.clip(scores, np.float32(0), np.float32(1))
    buckets = np.ceil(scores * np.float32(count - 1)) - 1
    if with_epsilon:
        buckets = np.maximum(buckets, 0)
    buckets = buckets.astype(np.int64)
    kept = buckets >= 0  # a bucket of -1 (p == 0 without epsilon) counts for no threshold
    tp = np.bincount(buckets[kept], true_weight[kept], minlength=count)[:count]
    fp = np.bincount(buckets[kept], false_weight[kept], minlength=count)[:count]
    return np.cumsum(tp[::-1])[::-1], np.cumsum(fp[::-1])[::-1]


def _compared(scores, true_weight, false_weight, thresholds):
    """Counts of ``p > t`` through one sort: a suffix sum from the first score above t."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    suffix_true = np.concatenate([np.cumsum(true_weight[order][::-1])[::-1], [0.0]])
    suffix_false = np.concatenate([np.cumsum(false_weight[order][::-1])[::-1], [0.0]])
    first_above = np.searchsorted(sorted_scores, thresholds, side="right")
    return suffix_true[first_above], suffix_false[first_above]


def _one_or_all(values, thresholds):
    return float(values[0]) if len(thresholds) == 1 else np.asarray(values, dtype=np.float64)


class _ConfusionMetric(Metric):
    """State: the counts this metric needs, one per threshold."""

    _COUNTS = ("tp", "fp", "tn", "fn")

    def reset_state(self):
        shape = (len(self.thresholds),)
        for name in self._COUNTS:
            setattr(self, _ATTRIBUTE[name], np.zeros(shape))

    def _add(self, y_true, y_pred, sample_weight, **kwargs):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  evenly=self._evenly, **kwargs)
        for name, value in zip(("tp", "fp", "tn", "fn"), counts):
            if name in self._COUNTS:
                attribute = _ATTRIBUTE[name]
                setattr(self, attribute, getattr(self, attribute) + value)


_ATTRIBUTE = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
              "fn": "false_negatives"}


class _ConditionCount(_ConfusionMetric):
    """One confusion count at one or several thresholds."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5, type(self).__name__)
        self._evenly = evenly_distributed(self.thresholds)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: labels and scores of one shape, optional per-sample weights."""
        self._add(y_true, y_pred, sample_weight)

    def result(self):
        return _one_or_all(getattr(self, _ATTRIBUTE[self._COUNTS[0]]), self.thresholds)

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """Weighted count of positives predicted above the threshold(s) (default 0.5).

    Args:
        thresholds: a float or a list of floats in [0, 1].
    """

    _COUNTS = ("tp",)


class FalsePositives(_ConditionCount):
    """Weighted count of negatives predicted above the threshold(s) (default 0.5).

    Args:
        thresholds: a float or a list of floats in [0, 1].
    """

    _COUNTS = ("fp",)


class TrueNegatives(_ConditionCount):
    """Weighted count of negatives predicted at or below the threshold(s) (default 0.5).

    Args:
        thresholds: a float or a list of floats in [0, 1].
    """

    _COUNTS = ("tn",)


class FalseNegatives(_ConditionCount):
    """Weighted count of positives predicted at or below the threshold(s) (default 0.5).

    Args:
        thresholds: a float or a list of floats in [0, 1].
    """

    _COUNTS = ("fn",)


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(f"{who}: top_k must be a positive int or None, got {top_k!r}")
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        if thresholds is None:
            self.thresholds = [default]
        else:
            self.thresholds = parse_thresholds(thresholds, default, who)
        self._evenly = evenly_distributed(self.thresholds)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: labels and scores of one shape, optional per-sample weights."""
        self._add(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)`` of ``y_pred > threshold`` (0.0 when nothing was predicted positive).

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5; with ``top_k``, every
            prediction kept counts as positive).
        top_k: count only the k largest predictions of each row.
        class_id: count only this class (column).
    """

    _COUNTS = ("tp", "fp")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        precision = _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
        return _one_or_all(precision, self.thresholds)


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)`` of ``y_pred > threshold`` (0.0 before any positive label).

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5).
        top_k: count only the k largest predictions of each row.
        class_id: count only this class (column).
    """

    _COUNTS = ("tp", "fn")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        recall = _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        return _one_or_all(recall, self.thresholds)


class _AtMetric(_ConfusionMetric):
    """The best of one rate among the thresholds where another reaches ``value``."""

    _VALUE = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        if not 0 <= value <= 1:
            raise ValueError(f"{who}: {self._VALUE} must be in [0, 1], got {value!r}")
        if not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 0:
            raise ValueError(f"{who}: num_thresholds must be an int > 0, got {num_thresholds!r}")
        self.value, self.num_thresholds, self.class_id = value, int(num_thresholds), class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: binary labels and scores in [0, 1], optional per-sample weights."""
        self._add(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        return {"recall": _divide_no_nan(tp, tp + fn), "precision": _divide_no_nan(tp, tp + fp),
                "specificity": _divide_no_nan(tn, tn + fp)}

    def _best(self, constrained, dependent):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return float(np.max(np.where(feasible, rates[dependent], 0), initial=0))

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds,
                self._VALUE: self.value, "class_id": self.class_id}


class SensitivityAtSpecificity(_AtMetric):
    """The best sensitivity (recall) over thresholds whose specificity is >= ``specificity``.

    Args:
        specificity: in [0, 1].
        num_thresholds: number of evenly spaced thresholds in [0, 1] (default 200).
        class_id: count only this class (column).
    """

    _VALUE = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)
        self.specificity = specificity

    def result(self):
        return self._best("specificity", "recall")


class SpecificityAtSensitivity(_AtMetric):
    """The best specificity over thresholds whose sensitivity is >= ``sensitivity``.

    Args:
        sensitivity: in [0, 1].
        num_thresholds: number of evenly spaced thresholds in [0, 1] (default 200).
        class_id: count only this class (column).
    """

    _VALUE = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)
        self.sensitivity = sensitivity

    def result(self):
        return self._best("recall", "specificity")


class PrecisionAtRecall(_AtMetric):
    """The best precision over thresholds whose recall is >= ``recall``.

    Args:
        recall: in [0, 1].
        num_thresholds: number of evenly spaced thresholds in [0, 1] (default 200).
        class_id: count only this class (column).
    """

    _VALUE = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)
        self.recall = recall

    def result(self):
        return self._best("recall", "precision")


class RecallAtPrecision(_AtMetric):
    """The best recall over thresholds whose precision is >= ``precision``.

    Args:
        precision: in [0, 1].
        num_thresholds: number of evenly spaced thresholds in [0, 1] (default 200).
        class_id: count only this class (column).
    """

    _VALUE = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)
        self.precision = precision

    def result(self):
        return self._best("precision", "recall")


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve, by a Riemann sum over thresholds (Keras).

    Args:
        num_thresholds: number of evenly spaced thresholds (default 200), the first just
            below 0 and the last just above 1.
        curve: ``'ROC'``, ``'PR'`` or ``'PRGAIN'``.
        summation_method: ``'interpolation'`` (trapezoids; for PR, Davis & Goadrich's
            interpolation), ``'minoring'`` or ``'majoring'``.
        thresholds: explicit thresholds in [0, 1] (then num_thresholds is ignored).
        multi_label: one curve per label column (averaged, or weighted by ``label_weights``)
            instead of one curve over all flattened predictions.
        num_labels: the number of label columns (optional, with multi_label).
        label_weights: per-label weights.
        from_logits: apply a sigmoid to predictions first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name or "auc", dtype=dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR", "PRGAIN"):
            raise ValueError(f"AUC: curve must be 'ROC', 'PR' or 'PRGAIN', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                "AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', "
                f"got {summation_method!r}"
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5, "AUC"))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an int > 1, got {num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve, self.summation_method = curve, summation_method
        if num_labels and not multi_label:
            raise ValueError("AUC: num_labels is needed only when multi_label is True")
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights,
                                                                           np.float64)
        self.from_logits = bool(from_logits)
        self.reset_state()

    def reset_state(self):
        shape = (self.num_thresholds, self.num_labels) if self.multi_label and self.num_labels \
            else (self.num_thresholds,)
        for name in self._COUNTS:
            setattr(self, _ATTRIBUTE[name], np.zeros(shape))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: binary labels and scores, optional per-sample weights."""
        y_pred = as_array(y_pred)
        if self.from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred.astype(np.float64)))
        counts = confusion_counts(
            y_true, y_pred, self.thresholds, sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, evenly=self._evenly)
        for name, value in zip(("tp", "fp", "tn", "fn"), counts):
            attribute = _ATTRIBUTE[name]
            previous = getattr(self, attribute)
            if previous.shape != value.shape:  # multi_label, first batch: one column per label
                previous = np.zeros(value.shape)
            setattr(self, attribute, previous + value)

    def _by_label(self, terms):
        by_label = np.sum(terms, axis=0)
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights),
                                    np.sum(self.label_weights)))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        increment = _divide_no_nan(slope * (dtp + intercept * log_ratio),
                                   np.maximum(tp[1:] + fn[1:], 0))
        return self._by_label(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scale = _divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def get_config(self):
        config = {
            "name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels, "from_logits": self.from_logits,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
