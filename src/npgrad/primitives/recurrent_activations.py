"""The activations the fused recurrent ops apply in place, each with its derivative written
in terms of the activation's output (what the backward pass has), and the composed ops the
unfused path uses for the same names: one table for every recurrent op and layer.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from npgrad.primitives import activation

# ------------------------------------------------------------------ activations, in place


def _tanh(z):
    return np.tanh(z, out=z)


def _sigmoid(z):
    return special.expit(z, out=z)


def _relu(z):
    return np.maximum(z, 0, out=z)


def _linear(z):
    return z


def _hard_sigmoid(z):
    z *= z.dtype.type(1.0 / 6.0)
    z += z.dtype.type(0.5)
    return np.clip(z, 0, 1, out=z)


# derivatives written in terms of the activation's *output* y (all five allow it);
# conventions at kinks: relu'(0) = 0, hard_sigmoid' = 0 where it saturates (y = 0 or 1)
def _d_tanh(y):
    return 1 - y * y


def _d_sigmoid(y):
    return y * (1 - y)


def _d_relu(y):
    return (y > 0).astype(y.dtype)


def _d_linear(y):
    return np.ones_like(y)


def _d_hard_sigmoid(y):
    return ((y > 0) & (y < 1)) * y.dtype.type(1.0 / 6.0)


FUSED_ACTIVATIONS = {
    "tanh": (_tanh, _d_tanh),
    "sigmoid": (_sigmoid, _d_sigmoid),
    "relu": (_relu, _d_relu),
    "linear": (_linear, _d_linear),
    "hard_sigmoid": (_hard_sigmoid, _d_hard_sigmoid),
}

COMPOSED_ACTIVATIONS = {
    "tanh": activation.tanh,
    "sigmoid": activation.sigmoid,
    "relu": activation.relu,
    "linear": activation.linear,
    "hard_sigmoid": activation.hard_sigmoid,
}


def fused(name, op):
    """The (activation, derivative-from-output) pair of a fused RNN activation name."""
    try:
        return FUSED_ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"{op}: activation must be one of {sorted(FUSED_ACTIVATIONS)} for the fused op, "
            f"got {name!r}"
        ) from None
