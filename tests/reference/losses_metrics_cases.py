"""Inputs of the Keras reference values in tests/reference/losses_metrics/ (shared by the
generator make_losses_metrics_reference.py and the tests, so both compute the same thing)."""

import numpy as np


def _rng(seed):
    return np.random.default_rng(seed)


def _probs(rng, shape):
    p = rng.uniform(0.05, 1.0, size=shape)
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


def _onehot(rng, n, c):
    return np.eye(c, dtype=np.float32)[rng.integers(0, c, n)]


def loss_cases():
    """name -> (class name, constructor kwargs, y_true, y_pred, sample_weight or None)."""
    rng = _rng(0)
    reg_t = rng.normal(size=(4, 3)).astype(np.float32)
    reg_p = rng.normal(size=(4, 3)).astype(np.float32)
    pos_t = rng.uniform(0.1, 3, size=(4, 3)).astype(np.float32)
    pos_p = rng.uniform(0.1, 3, size=(4, 3)).astype(np.float32)
    bin_t = rng.integers(0, 2, size=(4, 3)).astype(np.float32)
    bin_p = rng.uniform(0.02, 0.98, size=(4, 3)).astype(np.float32)
    logits = rng.normal(size=(4, 3)).astype(np.float32) * 2
    onehot = _onehot(rng, 4, 5)
    probs = _probs(rng, (4, 5))
    labels = rng.integers(0, 5, 4)
    class_logits = (rng.normal(size=(4, 5)) * 2).astype(np.float32)
    pm1 = (2 * rng.integers(0, 2, size=(4, 3)) - 1).astype(np.float32)
    seg_t = rng.integers(0, 2, size=(2, 4, 4, 1)).astype(np.float32)
    seg_p = rng.uniform(0.01, 0.99, size=(2, 4, 4, 1)).astype(np.float32)
    ctc_t = np.array([[1, 2, 0], [3, 3, 1], [2, 0, 0]], dtype=np.int32)
    ctc_p = rng.normal(size=(3, 6, 4)).astype(np.float32)
    emb = rng.normal(size=(6, 4))
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    emb_labels = np.array([0, 1, 0, 2, 1, 0], dtype=np.int32)
    weight = np.array([1.0, 0.5, 2.0, 0.0], dtype=np.float32)
    return {
        "mse": ("MeanSquaredError", {}, reg_t, reg_p, None),
        "mse_weighted": ("MeanSquaredError", {}, reg_t, reg_p, weight),
        "mse_sum": ("MeanSquaredError", {"reduction": "sum"}, reg_t, reg_p, None),
        "mae": ("MeanAbsoluteError", {}, reg_t, reg_p, None),
        "mape": ("MeanAbsolutePercentageError", {}, reg_t, reg_p, None),
        "msle": ("MeanSquaredLogarithmicError", {}, pos_t, pos_p, None),
        "cosine": ("CosineSimilarity", {}, reg_t, reg_p, None),
        "huber": ("Huber", {"delta": 0.7}, reg_t, reg_p, None),
        "log_cosh": ("LogCosh", {}, reg_t, reg_p * 4, None),
        "hinge": ("Hinge", {}, bin_t, reg_p, None),
        "hinge_pm1": ("Hinge", {}, pm1, reg_p, None),
        "squared_hinge": ("SquaredHinge", {}, bin_t, reg_p, None),
        "categorical_hinge": ("CategoricalHinge", {}, onehot, class_logits, None),
        "kl_divergence": ("KLDivergence", {}, probs, _probs(rng, (4, 5)), None),
        "poisson": ("Poisson", {}, pos_t, pos_p, None),
        "bce": ("BinaryCrossentropy", {}, bin_t, bin_p, None),
        "bce_logits_smooth": ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
                              bin_t, logits, weight),
        "cce": ("CategoricalCrossentropy", {}, onehot, probs, None),
        "cce_logits_smooth": ("CategoricalCrossentropy",
                              {"from_logits": True, "label_smoothing": 0.1}, onehot,
                              class_logits, None),
        "scce": ("SparseCategoricalCrossentropy", {}, labels, probs, None),
        "scce_ignore": ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2},
                        labels, class_logits, None),
        "binary_focal": ("BinaryFocalCrossentropy", {}, bin_t, bin_p, None),
        "binary_focal_balanced_logits": ("BinaryFocalCrossentropy",
                                         {"apply_class_balancing": True, "alpha": 0.3,
                                          "gamma": 1.5, "from_logits": True,
                                          "label_smoothing": 0.1}, bin_t, logits, None),
        "categorical_focal": ("CategoricalFocalCrossentropy", {}, onehot, probs, None),
        "categorical_focal_logits": ("CategoricalFocalCrossentropy",
                                     {"from_logits": True, "gamma": 3.0, "alpha": 0.5},
                                     onehot, class_logits, None),
        "generalized_ce": ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}, labels, probs, None),
        "dice": ("Dice", {}, seg_t, seg_p, None),
        "dice_axis": ("Dice", {"axis": (1, 2, 3)}, seg_t, seg_p, None),
        "tversky": ("Tversky", {"alpha": 0.3, "beta": 0.7}, seg_t, seg_p, None),
        "tversky_axis": ("Tversky", {"axis": (1, 2, 3)}, seg_t, seg_p, None),
        "ctc": ("CTC", {}, ctc_t, ctc_p, None),
        "circle": ("Circle", {}, emb_labels, emb, None),
        "circle_keep_diagonal": ("Circle", {"gamma": 10.0, "margin": 0.25,
                                            "remove_diagonal": False}, emb_labels, emb, None),
    }


def metric_cases():
    """name -> (class name, constructor kwargs, list of update_state argument tuples)."""
    rng = _rng(1)
    bin_t = [rng.integers(0, 2, size=(8, 1)).astype(np.float32) for _ in range(2)]
    bin_p = [rng.uniform(0, 1, size=(8, 1)).astype(np.float32) for _ in range(2)]
    weight = [rng.uniform(0, 2, size=(8,)).astype(np.float32) for _ in range(2)]
    reg_t = [rng.normal(size=(6, 3)).astype(np.float32) for _ in range(2)]
    reg_p = [rng.normal(size=(6, 3)).astype(np.float32) for _ in range(2)]
    onehot = [_onehot(rng, 6, 4) for _ in range(2)]
    probs = [_probs(rng, (6, 4)) for _ in range(2)]
    labels = [rng.integers(0, 4, 6) for _ in range(2)]
    seg_t = [rng.integers(0, 3, size=(2, 5)) for _ in range(2)]
    seg_p = [rng.integers(0, 3, size=(2, 5)) for _ in range(2)]
    multi_t = [rng.integers(0, 2, size=(6, 3)).astype(np.float32) for _ in range(2)]
    multi_p = [rng.uniform(0, 1, size=(6, 3)).astype(np.float32) for _ in range(2)]

    def binary(w=False):
        return [(bin_t[i], bin_p[i]) + ((weight[i],) if w else ()) for i in range(2)]

    def regression(w=False):
        return [(reg_t[i], reg_p[i]) + ((weight[i][:6],) if w else ()) for i in range(2)]

    def categorical():
        return [(onehot[i], probs[i]) for i in range(2)]

    def sparse():
        return [(labels[i], probs[i]) for i in range(2)]

    def multi():
        return [(multi_t[i], multi_p[i]) for i in range(2)]

    return {
        "tp": ("TruePositives", {}, binary(True)),
        "fp": ("FalsePositives", {"thresholds": [0.3, 0.5, 0.8]}, binary()),
        "tn": ("TrueNegatives", {}, binary()),
        "fn": ("FalseNegatives", {}, binary(True)),
        "precision": ("Precision", {}, binary(True)),
        "precision_thresholds": ("Precision", {"thresholds": [0.2, 0.6]}, binary()),
        "precision_top_k": ("Precision", {"top_k": 2}, multi()),
        "recall": ("Recall", {"thresholds": 0.3}, binary()),
        "recall_class_id": ("Recall", {"class_id": 1}, multi()),
        "auc": ("AUC", {}, binary(True)),
        "auc_pr": ("AUC", {"curve": "PR", "num_thresholds": 50}, binary()),
        "auc_minoring": ("AUC", {"summation_method": "minoring"}, binary()),
        "auc_multilabel": ("AUC", {"multi_label": True}, multi()),
        "precision_at_recall": ("PrecisionAtRecall", {"recall": 0.6}, binary()),
        "recall_at_precision": ("RecallAtPrecision", {"precision": 0.5}, binary()),
        "sensitivity_at_specificity": ("SensitivityAtSpecificity", {"specificity": 0.5},
                                       binary()),
        "specificity_at_sensitivity": ("SpecificityAtSensitivity", {"sensitivity": 0.5},
                                       binary()),
        "f1": ("F1Score", {}, multi()),
        "f1_macro": ("F1Score", {"average": "macro", "threshold": 0.5}, multi()),
        "fbeta_weighted": ("FBetaScore", {"average": "weighted", "beta": 2.0,
                                          "threshold": 0.4}, multi()),
        "fbeta_micro": ("FBetaScore", {"average": "micro"}, multi()),
        "iou": ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]},
                [(seg_t[i], seg_p[i]) for i in range(2)]),
        "mean_iou": ("MeanIoU", {"num_classes": 3}, [(seg_t[i], seg_p[i]) for i in range(2)]),
        "binary_iou": ("BinaryIoU", {"target_class_ids": [0, 1], "threshold": 0.4}, binary()),
        "one_hot_iou": ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]},
                        categorical()),
        "one_hot_mean_iou": ("OneHotMeanIoU", {"num_classes": 4}, categorical()),
        "r2": ("R2Score", {}, regression()),
        "r2_variance": ("R2Score", {"class_aggregation": "variance_weighted_average"},
                        regression()),
        "r2_adjusted": ("R2Score", {"num_regressors": 1}, regression()),
        "rmse": ("RootMeanSquaredError", {}, regression(True)),
        "mape": ("MeanAbsolutePercentageError", {}, regression()),
        "msle": ("MeanSquaredLogarithmicError", {}, [(np.abs(t), np.abs(p)) for t, p in
                                                     zip(reg_t, reg_p)]),
        "log_cosh": ("LogCoshError", {}, regression()),
        "cosine": ("CosineSimilarity", {}, regression(True)),
        "pearson": ("PearsonCorrelation", {}, regression()),
        "concordance": ("ConcordanceCorrelation", {}, regression()),
        "hinge": ("Hinge", {}, binary()),
        "squared_hinge": ("SquaredHinge", {}, binary()),
        "categorical_hinge": ("CategoricalHinge", {}, categorical()),
        "kl_divergence": ("KLDivergence", {}, categorical()),
        "poisson": ("Poisson", {}, [(np.abs(t), np.abs(p)) for t, p in zip(reg_t, reg_p)]),
        "bce": ("BinaryCrossentropy", {"label_smoothing": 0.1}, binary(True)),
        "cce": ("CategoricalCrossentropy", {}, categorical()),
        "scce": ("SparseCategoricalCrossentropy", {}, sparse()),
        "top_k": ("SparseTopKCategoricalAccuracy", {"k": 2}, sparse()),
    }


def quadratic():
    """A, b, p0 of the optimizers' problem ||A p - b||^2."""
    rng = _rng(2)
    a = rng.normal(size=(5, 3)).astype(np.float32)
    b = rng.normal(size=5).astype(np.float32)
    p0 = rng.normal(size=3).astype(np.float32)
    return a, b, p0


def quadratic_gradient(a, b, p):
    return (2 * a.T @ (a @ p - b)).astype(np.float32)


def matrix_start():
    """The starting point of the optimizers' matrix problem (Muon, Adafactor's factored path)."""
    return _rng(3).normal(size=(3, 4)).astype(np.float32)


def matrix_gradient(p):
    return (np.sin(3 * p) + 0.1 * p).astype(np.float32)


def optimizer_cases():
    """name -> (class name, constructor kwargs, steps)."""
    return {
        "adadelta": ("Adadelta", {"learning_rate": 1.0}, 20),
        "adadelta_rho": ("Adadelta", {"learning_rate": 0.5, "rho": 0.8, "epsilon": 1e-5}, 20),
        "ftrl": ("Ftrl", {"learning_rate": 0.1}, 20),
        "ftrl_l1_l2": ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
                                "l2_regularization_strength": 0.02,
                                "l2_shrinkage_regularization_strength": 0.03,
                                "beta": 0.5, "learning_rate_power": -0.3}, 20),
        "lion": ("Lion", {"learning_rate": 0.01}, 20),
        "lamb": ("Lamb", {"learning_rate": 0.05}, 20),
        "adafactor": ("Adafactor", {"learning_rate": 0.05}, 20),
        "adafactor_no_relative": ("Adafactor", {"learning_rate": 0.05,
                                                "relative_step": False}, 20),
        "muon": ("Muon", {"learning_rate": 0.05}, 20),
        "schedule_free_adamw": ("ScheduleFreeAdamW", {"learning_rate": 0.05}, 20),
        "schedule_free_adamw_warmup": ("ScheduleFreeAdamW", {"learning_rate": 0.05,
                                                             "warmup_steps": 5,
                                                             "weight_decay": 0.01}, 20),
    }


def activation_input():
    return np.linspace(-3.5, 3.5, 36, dtype=np.float64).reshape(3, 12) + 0.013


def activation_upstream(shape):
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape)


def activation_cases():
    """'keras_name[:variant]' -> kwargs."""
    return {
        "celu": {}, "celu:alpha": {"alpha": 0.5}, "exponential": {}, "glu": {},
        "hard_shrink": {}, "hard_silu": {}, "hard_swish": {}, "hard_tanh": {},
        "log_sigmoid": {}, "mish": {}, "relu6": {}, "soft_shrink": {"threshold": 0.3},
        "sparse_plus": {}, "sparse_sigmoid": {}, "sparsemax": {}, "squareplus": {"b": 2},
        "tanh_shrink": {}, "threshold": {"threshold": 0.5, "default_value": -1.0},
        "relu:all": {"negative_slope": 0.1, "max_value": 2.0, "threshold": 0.5},
        "relu:max": {"max_value": 1.5}, "hard_sigmoid": {}, "selu": {}, "gelu:tanh":
        {"approximate": True}, "softsign": {}, "elu:alpha": {"alpha": 0.7},
        "leaky_relu": {}, "silu": {}, "softplus": {}, "log_softmax": {}, "softmax": {},
    }
