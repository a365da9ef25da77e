"""The gradient-check registry: one OpCase per differentiable op, function and layer.

Cases live in ``cases_*.py`` modules beside this one (one per kind of op, so each file has
one owner); every module exports ``CASES``, a list of :class:`OpCase`. ``ALL_CASES`` gathers
them. ``test_ops.py`` checks each case against finite differences; ``test_coverage.py``
fails when a ``Function`` subclass or a public ``F.*`` name is missing here.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class OpCase:
    """One registry entry.

    Attributes:
        name: the public ``F`` name it checks (or a layer/op name).
        fn: called as ``fn(*tensors, **kwargs)``; returns a Tensor.
        inputs: hypothesis strategy drawing ``(arrays, kwargs)``: float64 arrays for the
            positional inputs and constant keyword arguments.
        covers: further public ``F`` names this case exercises.
        requires_grad: which inputs to differentiate (default: all).
        atol, rtol: tolerances of the finite-difference comparison.
    """

    name: str
    fn: Callable
    inputs: st.SearchStrategy
    covers: tuple = ()
    requires_grad: tuple | None = None
    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------ strategies
def floats(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def away_from(array, kinks, margin=1e-2):
    """Move elements that lie within ``margin`` of a kink to ``kink +- 2 * margin``."""
    array = np.array(array, dtype=np.float64)
    for k in kinks:
        near = np.abs(array - k) < margin
        array[near] = k + np.where(array[near] >= k, 2 * margin, -2 * margin)
    return array


def well_separated(array, gap=1e-4):
    """Whether every two elements differ by more than ``gap`` (far more than the finite
    differences' step): a max or min over them then has one clear winner."""
    values = np.sort(np.ravel(array))
    return values.size < 2 or bool(np.min(np.diff(values)) > gap)


def arrays(n=1, shape=None, min_dims=1, max_dims=3, min_side=1, max_side=4, low=-3.0, high=3.0,
           kinks=(), distinct=False):
    """Strategy for ``n`` float64 arrays of one shape (drawn unless given)."""
    shapes = st.just(tuple(shape)) if shape is not None else hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )

    @st.composite
    def _strategy(draw):
        s = draw(shapes)
        out = []
        for _ in range(n):
            a = draw(hnp.arrays(np.float64, s, elements=floats(low, high)))
            a = away_from(a, kinks)
            if distinct:  # break ties (max/min reductions) with a tiny deterministic ramp
                a = a + np.arange(a.size).reshape(a.shape) * 1e-3
                assume(well_separated(a))  # a drawn step of -1e-3 can undo the ramp
            out.append(a)
        return out

    return _strategy()


def broadcastable(n=2, max_dims=3, max_side=4, low=-3.0, high=3.0):
    """Strategy for ``n`` float64 arrays whose shapes broadcast together."""

    @st.composite
    def _strategy(draw):
        shapes = draw(
            hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=max_dims, max_side=max_side)
        )
        return [
            draw(hnp.arrays(np.float64, s, elements=floats(low, high)))
            for s in shapes.input_shapes
        ]

    return _strategy()


def with_kwargs(arrays_strategy, **kwarg_strategies):
    """Combine an arrays strategy with strategies for keyword arguments."""
    return st.tuples(arrays_strategy, st.fixed_dictionaries(kwarg_strategies))


def no_kwargs(arrays_strategy):
    """An inputs strategy with no keyword arguments."""
    return st.tuples(arrays_strategy, st.just({}))


# ------------------------------------------------------------------ gathering
def _load_cases():
    cases = []
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if info.name.startswith("cases_"):
            module = importlib.import_module(f"{__package__}.{info.name}")
            cases.extend(module.CASES)
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"gradcheck registry: duplicate case names {sorted(duplicates)}")
    return cases


ALL_CASES = _load_cases()


def one_example(strategy):
    """One deterministic example of a strategy (outside hypothesis's test runner)."""
    found = []

    @settings(max_examples=1, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value):
        found.append(value)

    draw()
    return found[0]
