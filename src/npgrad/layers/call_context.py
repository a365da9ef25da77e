"""The training mode of nested layer calls (Keras 3's call context).

A layer called without ``training`` inside another layer's call runs in the mode of that
call: a custom block whose ``call(self, x)`` takes no ``training`` still runs the Dropout of
the Sequential it holds in training mode under ``fit``. Keras's order, per call: the value
passed explicitly, else the enclosing call's, else the default of the ``call`` signature's
``training`` argument, else False. The value is kept per thread (data-parallel replicas run
in threads) for the duration of the call.
"""

from __future__ import annotations

import threading

_state = threading.local()


def resolve(explicit, default):
    """The training mode of a call: ``explicit`` if not None, else the enclosing call's mode,
    else the call signature's ``default`` (None when it has none)."""
    if explicit is not None:
        return explicit
    outer = getattr(_state, "training", None)
    return outer if outer is not None else default


def enter(training):
    """Make ``training`` the enclosing mode; returns the previous one for :func:`leave`."""
    previous = getattr(_state, "training", None)
    _state.training = training
    return previous


def leave(previous):
    """Restore the mode :func:`enter` replaced."""
    _state.training = previous


def probing():
    """Whether the calls running now are a shape probe on zeros (``compute_output_shape``),
    not data: a layer whose check depends on the values (a lookup's unknown token) lets the
    placeholder values pass, as Keras's symbolic tracing never sees values."""
    return getattr(_state, "probing", False)


def enter_probe():
    """Mark the calls that follow as a shape probe; returns the previous flag for
    :func:`leave_probe`."""
    previous = probing()
    _state.probing = True
    return previous


def leave_probe(previous):
    _state.probing = previous


def call_in_mode(layer, training, x, *args, **kwargs):
    """``layer.call(x, *args, training=..., **kwargs)`` in the resolved mode, for the models
    whose ``__call__`` is their own (Sequential, Functional). With no mode anywhere it stays
    None, as Keras's models pass it, and each layer inside takes its own default (a random
    image layer's True, a Dropout's False)."""
    training = resolve(training, None)
    previous = enter(training)
    try:
        return layer.call(x, *args, training=training, **kwargs)
    finally:
        leave(previous)
