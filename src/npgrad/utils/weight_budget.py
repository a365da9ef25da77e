"""A ceiling on the weights a block of code may create: how a loader trusts a config.

A saved model's config says how big each layer is (``Dense(6000)``), and the file holds the
weights themselves. A loader builds the model from the config inside
``with weight_budget(values):`` where ``values`` is the number of weight values the file
actually holds; every weight created inside is charged (:func:`charge`) *before* its array is
allocated, so a 6 KB config declaring a 36-million-value kernel is refused without allocating
it. Outside a ``weight_budget`` block, :func:`charge` does nothing.

The charge is made by ``Layer.add_weight``, just before the initializer allocates.

Example:
    >>> with weight_budget(10_000, "model.npgrad"):
    ...     Dense(6000).build((None, 6000))       # raises WeightBudgetExceeded
"""

from __future__ import annotations

import contextlib
import contextvars
import math

__all__ = ["WeightBudgetExceeded", "charge", "weight_budget"]

_BUDGET = contextvars.ContextVar("npgrad_weight_budget", default=None)


class WeightBudgetExceeded(ValueError):
    """More weight values were about to be created than the active budget allows.

    Attributes:
        shape: the shape of the weight refused.
        used: values created before it; limit: the budget.
    """

    def __init__(self, shape, used, limit, what):
        self.shape, self.used, self.limit = shape, used, limit
        super().__init__(
            f"a weight of shape {shape} ({math.prod(shape)} values) would bring the weights "
            f"created to {used + math.prod(shape)} values, over the {limit} allowed by {what}; "
            f"refused before allocating it"
        )


class _Budget:
    def __init__(self, limit, what):
        self.limit, self.what, self.used = int(limit), what, 0


@contextlib.contextmanager
def weight_budget(values, what="the file"):
    """Allow at most ``values`` weight values to be created inside the block.

    Args:
        values: the ceiling, in array elements (not bytes: dtypes may differ).
        what: what the values come from, for the error message.

    Yields:
        None. Blocks nest; the innermost one is enforced.
    """
    token = _BUDGET.set(_Budget(values, what))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(shape):
    """Count a weight of ``shape`` against the active budget, before it is allocated.

    Args:
        shape: a tuple of non-negative ints.

    Raises:
        WeightBudgetExceeded: the weight does not fit in what remains of the budget.
    """
    budget = _BUDGET.get()
    if budget is None:
        return
    size = math.prod(int(n) for n in shape)  # Python ints: no wrap-around
    if budget.used + size > budget.limit:
        raise WeightBudgetExceeded(tuple(shape), budget.used, budget.limit, budget.what)
    budget.used += size
