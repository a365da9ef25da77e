"""Losses by Keras 3 name: classes that reduce to a scalar, per-sample functions, and ``get``.

A loss class is called as ``loss(y_true, y_pred, sample_weight=None)`` and returns a scalar
Tensor you can ``backward()``; a loss function (``mse``, ``binary_crossentropy``...) returns
the per-sample losses, shape ``y_pred.shape[:-1]``. The heavy maths lives in the fused ops
of ``npgrad.primitives.loss`` (through ``npgrad.functional``); the modules of this package
add Keras' names, label smoothing, reductions and sample weights:

- ``loss``: the :class:`Loss` base class, reductions, masks, :class:`LossFunctionWrapper`;
- ``regression``: squared / absolute / percentage / logarithmic errors, Huber, log-cosh,
  cosine similarity;
- ``probabilistic``: the cross-entropies (plain, focal, generalized), KL divergence, Poisson;
- ``hinge``: hinge, squared hinge, categorical hinge;
- ``overlap``: Dice and Tversky; ``sequence``: CTC; ``metric_learning``: Circle.

Numerical stability: a softmax (sigmoid) output in the recorded graph is replaced by its
logits in the cross-entropies, and the cross-entropies are finite in value and gradient
for every finite input in float16/32/64 (see ``probabilistic`` and ``npgrad.primitives.loss``).

Example:
    >>> import numpy as np, npgrad
    >>> loss = npgrad.losses.SparseCategoricalCrossentropy()
    >>> probs = npgrad.Tensor(np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]]), requires_grad=True)
    >>> value = loss(np.array([1, 0]), probs)        # mean of -log 0.7 and -log 0.8
    >>> value.backward()
"""

from __future__ import annotations

# ruff: noqa: F401  (the package re-exports its modules' names)

from npgrad.losses.hinge import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from npgrad.losses.loss import REDUCTIONS, KerasLoss, Loss, LossFunctionWrapper, reduce_loss
from npgrad.losses.metric_learning import Circle, circle
from npgrad.losses.overlap import Dice, Tversky, dice, tversky
from npgrad.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from npgrad.losses.regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from npgrad.losses.sequence import CTC, ctc

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

# ------------------------------------------------------------------ lookup
# the Loss class each built-in function corresponds to (compile(loss='mse') -> a Loss object)
_CLASS_OF_FUNCTION = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    cosine_similarity: CosineSimilarity, huber: Huber, log_cosh: LogCosh,
    hinge: Hinge, squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    kl_divergence: KLDivergence, poisson: Poisson,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
    ctc: CTC, dice: Dice, tversky: Tversky, circle: Circle,
}  # fmt: skip
_FUNCTIONS = {fn.__name__: fn for fn in _CLASS_OF_FUNCTION}
_FUNCTIONS.update({
    "mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error,
    "MAE": mean_absolute_error, "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error, "kld": kl_divergence, "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence, "logcosh": log_cosh, "huber_loss": huber,
})  # fmt: skip
_CLASSES = {cls.__name__: cls for cls in (Loss, LossFunctionWrapper, *_CLASS_OF_FUNCTION.values())}
_ABSTRACT = ("Loss", "LossFunctionWrapper")

LossFunctionWrapper.functions = _FUNCTIONS
LossFunctionWrapper.function_names = {fn: fn.__name__ for fn in _CLASS_OF_FUNCTION}


def _function_name(fn):
    return LossFunctionWrapper.function_names.get(fn)


def get(identifier):
    """Resolve a loss as Keras does.

    Args:
        identifier: a function name (``'mse'``, ``'sparse_categorical_crossentropy'``) ->
            the function; a class name (``'MeanSquaredError'``) -> a default instance; a
            ``{"class_name", "config"}`` dict -> an instance; a Loss or a callable -> itself;
            None -> None.

    Returns:
        A Loss instance, a per-sample loss function, or None.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: anything else.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES and identifier not in _ABSTRACT:
            return _CLASSES[identifier]()
        raise ValueError(
            f"unknown loss {identifier!r}; valid names: "
            f"{sorted(set(_FUNCTIONS) | set(_CLASSES) - set(_ABSTRACT))}"
        )
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"loss must be a name, a dict, a Loss or a callable, got {type(identifier).__name__}")


def as_loss(identifier):
    """Like :func:`get`, but always a :class:`Loss` object (what ``Model.compile`` stores).

    Built-in functions become their class (``'mse'`` -> ``MeanSquaredError()``, named
    ``'mean_squared_error'``); other callables are wrapped in :class:`LossFunctionWrapper`.
    """
    loss = get(identifier)
    if loss is None or isinstance(loss, Loss):
        return loss
    if loss in _CLASS_OF_FUNCTION:
        return _CLASS_OF_FUNCTION[loss]()
    return LossFunctionWrapper(loss)


def serialize(loss):
    """``{"class_name", "config"}`` for a Loss, the name for a built-in function (JSON-able).

    Raises:
        ValueError: a custom function, which cannot be named in a file.
    """
    if isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    name = _function_name(loss)
    if name is None:
        raise ValueError(f"cannot serialize custom loss {loss!r}; use a built-in loss to save")
    return name


def deserialize(config):
    """Inverse of :func:`serialize`."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"loss config must be a name or a dict with 'class_name', got {config!r}")
    name = config["class_name"]
    if name not in _CLASSES or name == "Loss":
        raise ValueError(f"unknown loss class {name!r}; valid: {sorted(set(_CLASSES) - {'Loss'})}")
    return _CLASSES[name].from_config(config.get("config", {}))


__all__ = sorted(
    {"Loss", "LossFunctionWrapper", "KerasLoss", "REDUCTIONS", "reduce_loss", "get", "as_loss",
     "serialize", "deserialize", "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE",
     "kld", "KLD", "kullback_leibler_divergence", "logcosh"}
    | {cls.__name__ for cls in _CLASS_OF_FUNCTION.values()} | set(_FUNCTIONS) - {"huber_loss"}
)
