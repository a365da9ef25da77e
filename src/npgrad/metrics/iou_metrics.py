"""Intersection-over-union metrics from an accumulated confusion matrix (segmentation).

The state is a (num_classes, num_classes) matrix, rows the true class and columns the
predicted one. For each class, ``IoU = tp / (tp + fp + fn)``; the metric averages it over
the target classes that occurred at all. As in Keras (whose state dtype defaults to int),
labels and sample weights are truncated to integers.
"""

from __future__ import annotations

import numpy as np

from npgrad.metrics.metric import Metric, as_array

EPSILON = 1e-7  # Keras' backend.epsilon()


class IoU(Metric):
    """Mean IoU over ``target_class_ids`` (Keras ``IoU``).

    Args:
        num_classes: number of classes.
        target_class_ids: the classes averaged over.
        ignore_class: a label value left out (e.g. a "void" class).
        sparse_y_true: labels are class ids (else one-hot along ``axis``).
        sparse_y_pred: predictions are class ids (else scores along ``axis``, arg-maxed).
        axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        who = type(self).__name__
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"{who}: num_classes must be a positive int, got {num_classes!r}")
        target_class_ids = list(target_class_ids)
        if not target_class_ids or max(target_class_ids) >= num_classes \
                or min(target_class_ids) < 0:
            raise ValueError(
                f"{who}: target_class_ids must be class ids in [0, {num_classes}), got "
                f"{target_class_ids!r}"
            )
        self.num_classes, self.target_class_ids = int(num_classes), target_class_ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def _integers(self, values):
        return np.asarray(values).astype(np.int64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch of labels and predictions (any shape, flattened), optional weights."""
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = self._integers(y_true).reshape(-1)
        y_pred = self._integers(y_pred).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__}: {y_true.size} labels but {y_pred.size} predictions"
            )
        weight = np.ones(y_true.shape) if sample_weight is None else np.broadcast_to(
            self._integers(as_array(sample_weight)).reshape(-1), y_true.shape)
        valid = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) \
            & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cells = y_true[valid] * self.num_classes + y_pred[valid]
        counts = np.bincount(cells, weights=weight[valid].astype(np.float64),
                             minlength=self.num_classes**2)
        self.total_cm += counts.reshape(self.num_classes, self.num_classes)

    def result(self):
        predicted = self.total_cm.sum(axis=0)
        actual = self.total_cm.sum(axis=1)
        true_positives = np.diag(self.total_cm)
        denominator = (predicted + actual - true_positives)[self.target_class_ids]
        true_positives = true_positives[self.target_class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + EPSILON))

    def get_config(self):
        return {"name": self.name, "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """IoU averaged over all classes (Keras ``MeanIoU``).

    Args:
        num_classes: number of classes.
        ignore_class, sparse_y_true, sparse_y_pred, axis: see :class:`IoU`.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary predictions ``y_pred >= threshold`` over classes 0 and/or 1.

    Args:
        target_class_ids: which of (0, 1) to average over.
        threshold: predictions at or above it count as class 1.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch of 0/1 labels and scores of the same size, optional weights."""
        predicted = (as_array(y_pred).astype(np.float32) >= self.threshold).astype(np.int64)
        super().update_state(y_true, predicted, sample_weight)

    def get_config(self):
        return {"name": self.name, "target_class_ids": self.target_class_ids,
                "threshold": self.threshold}


class OneHotIoU(IoU):
    """IoU with one-hot labels and score predictions (arg-maxed along ``axis``).

    Args:
        num_classes: number of classes.
        target_class_ids: the classes averaged over.
        ignore_class: a class id left out.
        sparse_y_pred: predictions are already class ids.
        axis: the class axis.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """Mean IoU over all classes with one-hot labels and score predictions.

    Args:
        num_classes: number of classes.
        ignore_class, sparse_y_pred, axis: see :class:`OneHotIoU`.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
