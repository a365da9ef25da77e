"""The default recurrent gates (sigmoid and tanh) through the one transcendental NumPy runs
fastest on this machine: ``tanh`` or ``exp``.

An LSTM step activates 4U x N gate values, the largest of its element-wise calls, and what
that costs depends on the CPU more than anything else in the op. NumPy's float32 ``tanh``
and ``exp`` loops, per element (medians of 9 x 200 calls on a (256, 64) block):

====================================  ============  ===========
machine                               ``tanh``      ``exp``
====================================  ============  ===========
AMD EPYC Zen 4 (AVX-512)              0.38-0.45 ns  0.48-0.54 ns
AMD EPYC Zen 1 (AVX2), KVM guest      7.3 ns        3.8 ns
====================================  ============  ===========

So there are two exact rewrites, each folding a constant factor into the weights (copies,
exact in binary floating point: a power of two and a sign), and each makes every gate of a
step come out of one call over the whole (kU, N) block:

- ``"tanh"``: ``sigmoid(x) = (1 + tanh(x / 2)) / 2``, the sigmoid gates' weights halved
  (:func:`tanh_gates`: one ``tanh``, a multiply and an add over the sigmoid rows);
- ``"exp"``: ``sigmoid(x) = 1 / (1 + exp(-x))`` and ``tanh(x) = 2 sigmoid(2x) - 1``, the
  sigmoid gates' weights negated and the tanh gate's times -2 (:func:`exp_gates`: one
  ``exp``, an add and a reciprocal, a multiply and a subtract over the tanh rows).

The cell's ``tanh(c)`` keeps NumPy's ``tanh`` on both: through ``exp`` on a (64, 64) block
it took the same 31 us here (four more calls eat the gain), and so does the GRU's candidate
(1.006 of its op's time through ``exp``).

:func:`gate_route` times both on a step-sized block the first time a dtype asks (about a
millisecond, once per process) and keeps the ``exp`` route only when it takes under 0.8 of
the ``tanh`` route's time, so that a machine where the two are close does not flip between
runs. ``NPGRAD_GATE_ROUTE=tanh`` or ``=exp`` in the environment fixes the route (the two
agree to float rounding). Precision: the sigmoid's relative precision holds in both tails
on the ``exp`` route and in the upper tail on the ``tanh`` route (its values below about
3e-8 round to 0 there); the candidate's ``tanh`` through ``exp`` keeps its absolute error
within float rounding of 1 but not its relative precision near 0. A gate multiplies a
state, so absolute error is what counts.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

ROUTES = ("tanh", "exp")
ENVIRONMENT = "NPGRAD_GATE_ROUTE"
# the factors folded into the weights of the sigmoid gates and of the tanh gates
WEIGHT_FACTORS = {"tanh": (0.5, 1.0), "exp": (-1.0, -2.0)}
# the exp route is kept when it takes under this fraction of the tanh route's time
FASTER = 0.8

_measured: dict[np.dtype, str] = {}
_measuring = threading.Lock()  # replica threads' first LSTMs measure once, not side by side


def tanh_gates(z, rows):
    """Activate a step's gates in place with one ``tanh``: the first ``rows`` rows hold half
    the pre-activations of sigmoid gates, the rest the pre-activations of tanh gates.

    ``sigmoid(x) = (1 + tanh(x / 2)) / 2``, and ``x / 2`` costs nothing when the gates'
    weights are halved beforehand. One ``tanh`` over the whole block and a multiply and an
    add over the sigmoid rows replace the four passes of ``1 / (1 + exp(-x))`` plus a second
    call for the tanh rows. The sigmoid's smallest values lose their relative precision
    (below about 3e-8 they round to 0): its absolute error stays within float rounding of 1.
    """
    np.tanh(z, out=z)
    sig = z[:rows]
    sig *= z.dtype.type(0.5)
    sig += z.dtype.type(0.5)
    return z


def exp_gates(z, rows):
    """Activate a step's gates in place with one ``exp``: the first ``rows`` rows hold the
    negated pre-activations of sigmoid gates, the rest -2 times those of tanh gates.

    ``1 / (1 + exp(-x))`` is the sigmoid of every row, and ``2 sigmoid(2x) - 1`` the tanh of
    the last ones. Where ``exp`` overflows the result is the exact limit (0, or -1 for a
    tanh row); the caller silences that warning (``np.errstate(over="ignore")``).
    """
    np.exp(z, out=z)
    z += z.dtype.type(1)
    np.reciprocal(z, out=z)
    tanh_rows = z[rows:]
    tanh_rows *= z.dtype.type(2)
    tanh_rows -= z.dtype.type(1)
    return z


def gate_route(dtype):
    """``"tanh"`` or ``"exp"``: how the default gates of a recurrent op in ``dtype`` are
    activated (the environment's ``NPGRAD_GATE_ROUTE``, else the faster one measured here,
    once per dtype and process).

    Raises:
        ValueError: ``NPGRAD_GATE_ROUTE`` is set to anything but ``tanh`` or ``exp``.
    """
    forced = os.environ.get(ENVIRONMENT, "")
    if forced:
        if forced not in ROUTES:
            raise ValueError(f"{ENVIRONMENT} must be one of {ROUTES} (or unset), got {forced!r}")
        return forced
    dtype = np.dtype(dtype)
    if dtype not in _measured:
        with _measuring:
            if dtype not in _measured:
                _measured[dtype] = choose(*route_seconds(dtype))
    return _measured[dtype]


def choose(tanh_seconds, exp_seconds):
    """The route to keep given each route's time: ``exp`` only when clearly faster."""
    return "exp" if exp_seconds < FASTER * tanh_seconds else "tanh"


def route_seconds(dtype, rows=256, columns=64, repeats=7):
    """The best of ``repeats`` times of each route on one (rows, columns) block of gates
    (an LSTM(64) step at batch 64), the two routes alternated: (tanh, exp) in seconds."""
    start_values = np.linspace(-6, 6, rows * columns, dtype=dtype).reshape(rows, columns)
    block = np.empty_like(start_values)
    best = {tanh_gates: np.inf, exp_gates: np.inf}
    with np.errstate(over="ignore"):
        for _ in range(repeats):
            for gates in best:
                np.copyto(block, start_values)
                began = time.perf_counter()
                gates(block, rows * 3 // 4)
                best[gates] = min(best[gates], time.perf_counter() - began)
    return best[tanh_gates], best[exp_gates]
