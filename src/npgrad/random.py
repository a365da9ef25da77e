"""The library's random number generator: one seeded NumPy Generator for everything.

Initializers, dropout masks, data shuffling and augmentation draw from ``generator()``, so
``npgrad.utils.set_random_seed(seed)`` makes a whole training run bitwise reproducible.
"""

import numpy as np

_generator = np.random.default_rng()


def generator():
    """Return the global ``numpy.random.Generator`` npgrad draws from."""
    return _generator


def seed(value):
    """Reseed the global generator (use ``npgrad.utils.set_random_seed`` in user code).

    Args:
        value: a non-negative int.
    """
    global _generator
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"seed: expected a non-negative int, got {value!r}")
    _generator = np.random.default_rng(int(value))


def make_generator(seed_value=None):
    """A generator for one consumer: seeded when ``seed_value`` is given, else drawn from the global one."""
    if seed_value is None:
        return np.random.default_rng(_generator.integers(2**63))
    return np.random.default_rng(seed_value)
