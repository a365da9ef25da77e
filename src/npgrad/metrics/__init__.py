"""Stateful metrics by Keras name, computed on plain ndarrays (no graph).

A metric accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``
adds a batch, ``result()`` returns the value so far (a Python float; an ndarray for metrics
with several thresholds or per-class results), ``reset_state()`` starts again (``fit``
resets at each epoch). Calling a metric updates it and returns the result, as in Keras.

Modules: ``metric`` (the base classes, Mean, Sum, MeanMetricWrapper), ``accuracy_metrics``,
``loss_metrics`` (regression errors, cross-entropies, KL, Poisson, hinges),
``regression_metrics`` (R2Score), ``correlation_metrics``, ``confusion_metrics``
(TruePositives..., Precision, Recall, the *At* metrics, AUC), ``f_score_metrics``,
``iou_metrics``.

Example:
    >>> import numpy as np, npgrad
    >>> m = npgrad.metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    >>> m.result()
    0.5
"""

from __future__ import annotations

# ruff: noqa: F401  (the package re-exports its modules' names)

from npgrad.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from npgrad.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from npgrad.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from npgrad.metrics.f_score_metrics import F1Score, FBetaScore
from npgrad.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from npgrad.metrics.loss_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from npgrad.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from npgrad.metrics.regression_metrics import R2Score

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

# ------------------------------------------------------------------ lookup
_CLASSES = {
    cls.__name__: cls
    for cls in (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy,
                SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity,
                R2Score, PearsonCorrelation, ConcordanceCorrelation, KLDivergence, Poisson,
                Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy,
                CategoricalCrossentropy, SparseCategoricalCrossentropy, TruePositives,
                FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall,
                PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
                SpecificityAtSensitivity, AUC, F1Score, FBetaScore, IoU, MeanIoU, BinaryIoU,
                OneHotIoU, OneHotMeanIoU)
}
# Keras function names (and their short aliases) -> the class computing them
_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError, "root_mean_squared_error": RootMeanSquaredError,
    "logcosh": LogCoshError, "log_cosh": LogCoshError, "cosine_similarity": CosineSimilarity,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "poisson": Poisson, "hinge": Hinge,
    "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "pearson_correlation": PearsonCorrelation,
    "concordance_correlation": ConcordanceCorrelation, "r2_score": R2Score,
    "precision": Precision, "recall": Recall, "auc": AUC, "f1_score": F1Score,
    "fbeta_score": FBetaScore, "true_positives": TruePositives,
    "false_positives": FalsePositives, "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives,
}  # fmt: skip


def get(identifier):
    """Resolve a metric to a :class:`Metric` instance.

    Args:
        identifier: a Keras name (``'accuracy'``, ``'mae'``, ``'auc'``, ...) or class name
            (``'Precision'``); the instance is named by the string given, so ``'acc'`` logs
            as ``"acc"``. A ``{"class_name", "config"}`` dict, a Metric (returned as is) or a
            per-sample function of ndarrays (wrapped in :class:`MeanMetricWrapper`).

    Note:
        ``Model.compile`` resolves ``'accuracy'``/``'acc'`` further from the loss and the
        output shape (binary, categorical or sparse categorical), as Keras does.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        if identifier in _CLASSES and identifier not in _NEED_ARGUMENTS:
            return _CLASSES[identifier]()
        raise ValueError(
            f"unknown metric {identifier!r}; valid names: "
            f"{sorted(set(_BY_NAME) | set(_CLASSES) - _NEED_ARGUMENTS)}"
        )
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"metric must be a name, a dict, a Metric or a function, got {type(identifier).__name__}"
    )


# classes that cannot be built from a bare name: they need constructor arguments
_NEED_ARGUMENTS = {"PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
                   "SpecificityAtSensitivity", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"}


def serialize(metric):
    """``{"class_name", "config"}`` of a built-in Metric (JSON-able)."""
    if type(metric).__name__ not in _CLASSES:
        raise ValueError(f"cannot serialize custom metric {metric!r}; use a built-in metric to save")
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """Inverse of :func:`serialize` (a name is passed to :func:`get`)."""
    if isinstance(config, str):
        return get(config)
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _CLASSES:
        raise ValueError(f"unknown metric config {config!r}; valid classes: {sorted(_CLASSES)}")
    return _CLASSES[name].from_config(config.get("config", {}))
