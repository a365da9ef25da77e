"""Weight initializers with Keras 3 names, defaults and semantics.

Every initializer is a callable ``init(shape, dtype='float32') -> ndarray`` with
``get_config()``. Random ones draw from :func:`npgrad.random.generator` (so
``npgrad.utils.set_random_seed`` makes them reproducible) unless given their own ``seed``,
in which case every call returns the same values, as in Keras 3.

Example:
    >>> init = npgrad.initializers.get("glorot_uniform")
    >>> kernel = init((3, 3, 16, 32))          # conv kernel: fan_in = 3*3*16, fan_out = 3*3*32
"""

import math

import numpy as np

from npgrad import random as _random
from npgrad.utils.config import Configurable, resolve

# Keras's correction: the stddev of a standard normal truncated to [-2, 2].
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape):
    """Return ``(fan_in, fan_out)`` for a weight shape, as Keras computes them.

    A 2D shape is a Dense kernel ``(in, out)``. For conv kernels ``(..., in, out)`` the
    receptive field size (the product of the leading spatial dims) multiplies both.

    Args:
        shape: tuple of ints.

    Returns:
        Tuple ``(fan_in, fan_out)`` of ints.
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field_size = math.prod(shape[:-2])
    return shape[-2] * receptive_field_size, shape[-1] * receptive_field_size


def _check_shape(shape, who):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(dim) for dim in shape)
    except TypeError as exc:
        raise TypeError(f"{who}: expected a shape tuple of ints, got {shape!r}") from exc
    if any(dim < 0 for dim in shape):
        raise ValueError(f"{who}: shape dims must be non-negative, got {shape}")
    return shape


def _check_dtype(dtype, who):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"{who}: expected a floating dtype, got {dtype}")
    return dtype


def _truncated_normal(rng, shape, mean, stddev):
    """Normal samples with everything beyond 2 stddev redrawn (Keras's truncation)."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return values * stddev + mean


class Initializer(Configurable):
    """Base class: subclasses implement ``__call__(shape, dtype)`` and ``get_config()``."""

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


class _RandomInitializer(Initializer):
    """An initializer that draws random numbers, optionally from its own seed."""

    def __init__(self, seed=None):
        if seed is not None and (
            not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0
        ):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _rng(self):
        # A seeded initializer gives the same values on every call (Keras 3 semantics).
        if self.seed is None:
            return _random.generator()
        return np.random.default_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype="float32"):
        return np.zeros(_check_shape(shape, "Zeros"), dtype=_check_dtype(dtype, "Zeros"))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype="float32"):
        return np.ones(_check_shape(shape, "Ones"), dtype=_check_dtype(dtype, "Ones"))


class Constant(Initializer):
    """Every element equal to ``value``.

    Args:
        value: a Python number (default 0.0, as Keras).
    """

    def __init__(self, value=0.0):
        if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
            raise ValueError(f"Constant: value must be a number, got {value!r}")
        self.value = float(value)

    def __call__(self, shape, dtype="float32"):
        shape = _check_shape(shape, "Constant")
        return np.full(shape, self.value, dtype=_check_dtype(dtype, "Constant"))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_RandomInitializer):
    """Samples from N(mean, stddev**2).

    Args:
        mean: mean of the distribution.
        stddev: standard deviation (default 0.05, as Keras).
        seed: optional int; a seeded initializer returns the same values every call.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        if stddev < 0:
            raise ValueError(f"RandomNormal: stddev must be >= 0, got {stddev}")
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _check_shape(shape, "RandomNormal"), _check_dtype(dtype, "RandomNormal")
        return self._rng().normal(self.mean, self.stddev, shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_RandomInitializer):
    """Samples from U[minval, maxval).

    Args:
        minval: lower bound (default -0.05).
        maxval: upper bound (default 0.05).
        seed: optional int.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        if maxval < minval:
            raise ValueError(f"RandomUniform: maxval ({maxval}) must be >= minval ({minval})")
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _check_shape(shape, "RandomUniform"), _check_dtype(dtype, "RandomUniform")
        return self._rng().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_RandomInitializer):
    """N(mean, stddev**2) with values beyond 2 stddev of the mean redrawn.

    Args:
        mean: mean of the distribution.
        stddev: standard deviation before truncation (default 0.05).
        seed: optional int.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        if stddev < 0:
            raise ValueError(f"TruncatedNormal: stddev must be >= 0, got {stddev}")
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype="float32"):
        shape = _check_shape(shape, "TruncatedNormal")
        dtype = _check_dtype(dtype, "TruncatedNormal")
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_RandomInitializer):
    """Samples scaled to the weight's fan: variance = scale / n.

    ``n`` is fan_in, fan_out or their average (``mode``), computed by :func:`compute_fans`.
    ``distribution='truncated_normal'`` draws from a normal truncated at 2 stddev with
    stddev ``sqrt(scale / n) / 0.8796...`` (so the truncated samples have the wanted
    variance); ``'untruncated_normal'`` uses stddev ``sqrt(scale / n)``; ``'uniform'`` draws
    from U[-limit, limit] with ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: positive float.
        mode: 'fan_in', 'fan_out' or 'fan_avg'.
        distribution: 'truncated_normal' (alias 'normal'), 'untruncated_normal' or 'uniform'.
        seed: optional int.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"{type(self).__name__}: scale must be > 0, got {scale!r}")
        if mode not in self._MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {self._MODES}, got {mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"{type(self).__name__}: distribution must be one of {self._DISTRIBUTIONS}, "
                f"got {distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype="float32"):
        who = type(self).__name__
        shape, dtype = _check_shape(shape, who), _check_dtype(dtype, who)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(scale), shape)
        else:
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, shape)
        return values.astype(dtype)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling preset: only the seed is configurable."""

    _PRESET = {}

    def __init__(self, seed=None):
        super().__init__(seed=seed, **self._PRESET)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """U[-limit, limit] with ``limit = sqrt(6 / (fan_in + fan_out))`` (Keras's default kernel init).

    Args:
        seed: optional int.
    """

    _PRESET = {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"}


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))`` after truncation.

    Args:
        seed: optional int.
    """

    _PRESET = {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal"}


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(2 / fan_in)`` after truncation.

    Args:
        seed: optional int.
    """

    _PRESET = {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}


class HeUniform(_FixedVarianceScaling):
    """U[-limit, limit] with ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: optional int.
    """

    _PRESET = {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev ``sqrt(1 / fan_in)`` after truncation.

    Args:
        seed: optional int.
    """

    _PRESET = {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}


class LecunUniform(_FixedVarianceScaling):
    """U[-limit, limit] with ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: optional int.
    """

    _PRESET = {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}


class Orthogonal(_RandomInitializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal matrix, times ``gain``.

    The shape is flattened to ``(prod(shape[:-1]), shape[-1])``: rows are orthonormal when
    there are fewer rows than columns, columns otherwise.

    Args:
        gain: multiplicative factor.
        seed: optional int.
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _check_shape(shape, "Orthogonal"), _check_dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: expected a shape of rank >= 2, got {shape}")
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat = self._rng().standard_normal((max(num_rows, num_cols), min(num_rows, num_cols)))
        q, r = np.linalg.qr(flat)
        # sign fix makes the distribution uniform over orthogonal matrices
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2D shapes only; rectangular allowed).

    Args:
        gain: multiplicative factor.
    """

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _check_shape(shape, "Identity"), _check_dtype(dtype, "Identity")
        if len(shape) != 2:
            raise ValueError(f"Identity: expected a 2D shape, got {shape}")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


def _snake_case(name):
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i > 0:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


_CLASSES = [
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
    Identity,
]
ALL_OBJECTS = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS.update({_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS.update(
    {
        "uniform": RandomUniform,
        "normal": RandomNormal,
        "one": Ones,
        "zero": Zeros,
        "OrthogonalInitializer": Orthogonal,
        "IdentityInitializer": Identity,
    }
)


def serialize(initializer):
    """Return ``{"class_name": ..., "config": ...}`` for an initializer (JSON-able).

    Args:
        initializer: an :class:`Initializer` instance, or None.

    Returns:
        dict, or None for None.

    Raises:
        TypeError: for anything else (e.g. a plain function), which a saved config cannot name.
    """
    if initializer is None:
        return None
    if not isinstance(initializer, Initializer):
        raise TypeError(
            f"initializers.serialize: cannot serialize {initializer!r}; use an "
            "npgrad.initializers object or name to save the layer's config"
        )
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config):
    """Rebuild an initializer from :func:`serialize`'s dict.

    Args:
        config: dict with "class_name" and optional "config".

    Returns:
        An :class:`Initializer`.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"initializers.deserialize: expected a dict with 'class_name', got {config!r}")
    cls = _lookup(config["class_name"])
    return cls.from_config(dict(config.get("config") or {}))


def _lookup(name):
    if name not in ALL_OBJECTS:
        raise ValueError(
            f"Unknown initializer {name!r}. Valid names: {', '.join(sorted(ALL_OBJECTS))}"
        )
    return ALL_OBJECTS[name]


def get(identifier):
    """Turn a name, config dict, class, instance or callable into an initializer.

    Args:
        identifier: None, a string ('glorot_uniform', 'GlorotUniform', 'he_normal', 'zeros',
            ...), a dict ``{"class_name": ..., "config": {...}}``, an Initializer class or
            instance, or any callable ``(shape, dtype) -> ndarray``.

    Returns:
        An initializer (None for None).

    Raises:
        ValueError: for an unknown name, listing the valid names.
    """
    return resolve(identifier, Initializer, _lookup, deserialize, "initializer")


def initial_value(identifier, shape, dtype):
    """The array ``get(identifier)`` makes for ``shape``, in ``dtype``. Integer and bool
    state (a counter) is drawn in float64, then cast: the initializers draw floats."""
    dtype = np.dtype(dtype)
    made = dtype if dtype.kind == "f" else np.float64
    return np.asarray(get(identifier)(tuple(shape), dtype=made), dtype=dtype)


# lowercase function-style aliases, as keras.initializers exposes them
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
