"""The activations the fused recurrent ops apply in place, each with its derivative written
in terms of the activation's output (what the backward pass has), and the composed ops the
unfused path uses for the same names: one table for every recurrent op and layer.

Every fused activation is ``act(z, out=None)``: it writes ``act(z)`` into ``out`` (into ``z``
itself when ``out`` is None) and returns it; every derivative is ``d(y, out=None)`` of the
activation's output ``y``, into ``out`` or a new array. Both take strided views (a gate's
columns), so a fused op activates contiguous gate blocks with no copies.

The sigmoid is ``1 / (1 + exp(-z))``: four passes at the speed of ``exp`` (about twice as
fast as ``scipy.special.expit`` on float32, whose loop is not vectorized). For ``z`` below
about -88 (float32) ``exp(-z)`` overflows to inf and the result is the exact limit 0; the
caller silences that overflow warning (``np.errstate(over="ignore")``) once around its loop.
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import activation

# ------------------------------------------------------------------ activations, in place


def _tanh(z, out=None):
    return np.tanh(z, out=z if out is None else out)


def _sigmoid(z, out=None):
    return activation.logistic(z, out=z if out is None else out)


def _relu(z, out=None):
    return np.maximum(z, 0, out=z if out is None else out)


def _linear(z, out=None):
    if out is None or out is z:
        return z
    np.copyto(out, z)
    return out


def _hard_sigmoid(z, out=None):
    out = z if out is None else out
    np.multiply(z, z.dtype.type(1.0 / 6.0), out=out)
    out += z.dtype.type(0.5)
    return np.clip(out, 0, 1, out=out)


# derivatives written in terms of the activation's *output* y (all five allow it);
# conventions at kinks: relu'(0) = 0, hard_sigmoid' = 0 where it saturates (y = 0 or 1)
def _d_tanh(y, out=None):
    out = np.multiply(y, y, out=out)
    return np.subtract(1, out, out=out)


def _d_sigmoid(y, out=None):
    out = np.subtract(1, y, out=out)
    out *= y
    return out


def _d_relu(y, out=None):
    if out is None:
        return (y > 0).astype(y.dtype)
    return np.greater(y, 0, out=out)


def _d_linear(y, out=None):
    if out is None:
        return np.ones_like(y)
    out[...] = 1
    return out


def _d_hard_sigmoid(y, out=None):
    inside = (y > 0) & (y < 1)
    if out is None:
        return inside * y.dtype.type(1.0 / 6.0)
    return np.multiply(inside, y.dtype.type(1.0 / 6.0), out=out)


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
