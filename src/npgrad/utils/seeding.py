"""Reproducibility: one call seeds everything npgrad draws."""

import random

import numpy as np

from npgrad import random as npgrad_random


def set_random_seed(seed):
    """Seed npgrad's generator (initializers, dropout, shuffling) and Python's and NumPy's legacy ones.

    After ``set_random_seed(s)``, building and fitting the same model on the same data gives
    bitwise-identical weights.

    Args:
        seed: non-negative int.
    """
    npgrad_random.seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
