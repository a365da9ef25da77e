"""``keras.backend``: the backend-level helpers Keras 3 code still calls.

Example:
    >>> import npgrad as keras
    >>> keras.backend.epsilon(), keras.backend.floatx(), keras.backend.image_data_format()
    (1e-07, 'float32', 'channels_last')
    >>> keras.backend.standardize_dtype("float"), keras.backend.result_type("int32", "float16")
    ('float32', 'float16')
    >>> keras.backend.clear_session()   # layer names start over: the next Dense is 'dense'

The settings are those of :mod:`npgrad.config` (the same functions). Dtypes are named as
Keras names them (strings such as ``'float32'``); :func:`result_type` follows Keras's rule
that an integer or bool meeting a float takes the float's type (NumPy would widen
``int32`` and ``float16`` to ``float64``).
"""

from __future__ import annotations

import numpy as np

from npgrad.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from npgrad.utils.naming import get_uid
from npgrad.utils.session import clear_session

#: Python types as Keras standardizes them
_PYTHON_TYPES = {bool: "bool", int: "int64", float: "float32", str: "string"}


def standardize_dtype(dtype=None):
    """A dtype's Keras name: ``'float32'`` for ``'float'``, ``float`` or ``np.float32``; the
    default float type (:func:`floatx`) for None."""
    if dtype is None:
        return floatx()
    if dtype in _PYTHON_TYPES:
        return floatx() if dtype is float else _PYTHON_TYPES[dtype]
    name = getattr(dtype, "name", dtype)
    if name in ("string", "str"):
        return "string"
    try:
        return np.dtype("float32" if name == "float" else name).name
    except TypeError:
        raise ValueError(f"standardize_dtype: invalid dtype {dtype!r}") from None


def is_float_dtype(dtype):
    """Whether ``dtype`` is a floating type (``float16``, ``float32``, ``float64``)."""
    return standardize_dtype(dtype).startswith("float")


def is_int_dtype(dtype):
    """Whether ``dtype`` is a signed or unsigned integer type."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes):
    """The dtype an op on these dtypes returns, by Keras's rules: integers and bools meeting
    a float take the float's type (the widest float present); otherwise NumPy's promotion.
    Python ``int`` and ``float`` count as weak types, which give way to any array dtype of
    their kind. No dtypes: :func:`floatx`."""
    if not dtypes:
        return floatx()
    weak = {d for d in dtypes if d in (int, float)}
    strong = [standardize_dtype(d) for d in dtypes if d not in (int, float)]
    if not strong:
        return standardize_dtype(float) if float in weak else "int64"
    floats = [d for d in strong if is_float_dtype(d)]
    if floats:
        return np.result_type(*floats).name
    if float in weak:
        return floatx()
    if int in weak and strong == ["bool"] * len(strong):
        return "int64"
    return np.result_type(*strong).name


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic tensor of a functional model (``npgrad.Input(...)`` and
    what layers make of it), not data."""
    from npgrad.layers.node import KerasTensor

    return isinstance(x, KerasTensor)


__all__ = [
    "backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
    "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
    "set_floatx", "set_image_data_format", "standardize_dtype",
]  # fmt: skip
