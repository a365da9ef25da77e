"""Checks of the arguments of compile/fit/evaluate/predict, with messages naming the argument.

Every check takes ``caller`` (who calls, e.g. ``"model.fit"``) and returns the normalized
value, or raises a TypeError/ValueError of the form
``"<model>.fit: epochs must be an int >= 0, got 2.5"``, before any work is done.
"""

from __future__ import annotations

import numbers

import numpy as np


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_int(value, name, caller):
    """An int >= 1 (batch_size, steps, validation_freq...)."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{caller}: {name} must be a positive int, got {value!r}")
    return int(value)


def non_negative_int(value, name, caller):
    """An int >= 0 (epochs, initial_epoch)."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{caller}: {name} must be an int >= 0, got {value!r}")
    return int(value)


def optional_positive_int(value, name, caller):
    """None, or an int >= 1."""
    return None if value is None else positive_int(value, name, caller)


def verbosity(verbose, caller):
    """'auto' (= 1), 0, 1 or 2."""
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if not _is_int(verbose) or verbose not in (0, 1, 2):
        raise ValueError(f"{caller}: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def fraction(value, name, caller):
    """A float in [0, 1) (validation_split)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{caller}: {name} must be a float in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{caller}: {name} must be in [0, 1), got {value!r}")
    return float(value)


def boolean(value, name, caller):
    """True or False (NumPy booleans too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{caller}: {name} must be True or False, got {value!r}")
    return bool(value)


def class_weight(value, caller):
    """None, or a dict of int class index -> finite non-negative number."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"{caller}: class_weight must be a dict of class index -> weight, "
                        f"got {type(value).__name__}")
    checked = {}
    for key, weight in value.items():
        if not _is_int(key):
            raise ValueError(f"{caller}: class_weight keys must be int class indices, got {key!r}")
        if not isinstance(weight, numbers.Real) or isinstance(weight, bool) \
                or not np.isfinite(weight) or weight < 0:
            raise ValueError(f"{caller}: class_weight[{key}] must be a finite number >= 0, "
                             f"got {weight!r}")
        checked[int(key)] = float(weight)
    return checked


def epochs_range(epochs, initial_epoch, caller):
    """``epochs`` (int >= 0) and ``initial_epoch`` (int in [0, epochs])."""
    epochs = non_negative_int(epochs, "epochs", caller)
    initial_epoch = non_negative_int(initial_epoch, "initial_epoch", caller)
    if initial_epoch > epochs:
        raise ValueError(f"{caller}: initial_epoch ({initial_epoch}) must not exceed epochs "
                         f"({epochs}): training runs epochs initial_epoch .. epochs - 1")
    return epochs, initial_epoch
