"""Boston housing prices (506 samples, 13 features), as ``keras.datasets.boston_housing``.

Example:
    >>> from npgrad.datasets import boston_housing
    >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    >>> x_train.shape                           # (404, 13)
"""

from __future__ import annotations

import numpy as np

from npgrad.datasets import safe_pickle
from npgrad.datasets.idx import CorruptFileError
from npgrad.datasets.keras_files import KERAS_BASE_URL, locate

__all__ = ["SHA256", "load_data"]

SHA256 = {"boston_housing.npz": "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"}


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, *, verify=True):
    """Load the Boston housing dataset, as ``keras.datasets.boston_housing.load_data``.

    Args:
        path: ``boston_housing.npz``, a path to it, or a folder holding it.
        test_split: fraction of the samples kept for testing.
        seed: shuffling seed (Keras's order for 113).
        verify: check the SHA-256 of a file given by ``path`` or found in ``NPGRAD_DATA``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: float64 arrays (404, 13), (404,),
        (102, 13), (102,) for the default split.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1), got {test_split}")
    file = locate("boston_housing", "Boston housing", "boston_housing.npz",
                  KERAS_BASE_URL + "boston_housing.npz", SHA256["boston_housing.npz"],
                  path=None if path == "boston_housing.npz" else path, verify=verify)
    arrays = safe_pickle.load_npz(file)
    try:
        x, y = arrays["x"], arrays["y"]
    except KeyError as error:
        raise CorruptFileError(f"{file}: no array {error} (expected x and y)", file) from error
    rng = np.random.RandomState(seed)
    order = np.arange(len(x))
    rng.shuffle(order)
    x, y = x[order], y[order]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])
