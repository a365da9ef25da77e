"""Noise and penalty layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
AlphaDropout and ActivityRegularization (Keras 3 semantics).

The noise layers act only with ``training=True`` (``fit`` passes it) and return their input
unchanged otherwise. A layer given ``seed=`` draws from its own generator; without one it
draws from ``npgrad.random.generator()``, so ``npgrad.utils.set_random_seed`` makes runs
reproducible. Noise is a constant of the graph: gradients flow to the input through the
multiplication or addition only.

Example:
    >>> drop = SpatialDropout2D(0.5)
    >>> y = drop(np.ones((2, 4, 4, 3)), training=True)   # whole feature maps are 0 or 2
"""

from __future__ import annotations

import math

import numpy as np

from npgrad import random as npgrad_random
from npgrad import regularizers
from npgrad.layers import arguments
from npgrad.layers.core import Dropout
from npgrad.layers.layer import Layer

# SELU's constants, as AlphaDropout keeps SELU's self-normalizing mean and variance
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _rate(value, layer_cls, arg="rate", high_inclusive=True):
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not (0 <= value <= 1 if high_inclusive else 0 <= value < 1):
        interval = "[0, 1]" if high_inclusive else "[0, 1)"
        raise ValueError(f"{layer_cls}: argument `{arg}` must be a float in {interval}, got {value!r}")
    return float(value)


def _seed(value, layer_cls):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                              or value < 0):
        raise ValueError(f"{layer_cls}: argument `seed` must be a non-negative int or None, "
                         f"got {value!r}")
    return None if value is None else int(value)


class _NoiseLayer(Layer):
    """Shared: the seed, the generator, shape-preserving output, masks passing through."""

    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _seed(seed, type(self).__name__)
        self._rng = None if self.seed is None else np.random.default_rng(self.seed)

    def _generator(self):
        # looked up at call time: set_random_seed replaces the global generator
        return self._rng if self._rng is not None else npgrad_random.generator()

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


# ------------------------------------------------------------------ spatial dropout


class _SpatialDropout(Dropout):
    """Dropout with one draw per (sample, channel): whole feature maps are dropped."""

    _rank = None

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def _check(self, shape):
        layout = "(batch, " + ", ".join(["..."] * (self._rank - 2)) + ", channels)"
        arguments.check_ndim(self, shape, self._rank, layout)

    def build(self, input_shape):
        self._check(input_shape)

    def _noise_shape(self, shape):
        self._check(shape)
        return (shape[0],) + (1,) * (self._rank - 2) + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape", None)
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of (N, T, C) sequences while training (Tompson et al., 2014).

    Args:
        rate: fraction of channels dropped, in [0, 1); the kept ones are scaled by 1 / (1 - rate).
        seed: optional int for a layer-private generator.

    Shapes: (N, T, C) -> same.
    """

    _rank = 3


class SpatialDropout2D(_SpatialDropout):
    """Drop whole feature maps of (N, H, W, C) images while training.

    Args:
        rate: fraction of channels dropped, in [0, 1).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, C) -> same.
    """

    _rank = 4

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        arguments.check_data_format(data_format, type(self).__name__)
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout3D(SpatialDropout2D):
    """Drop whole feature maps of (N, D, H, W, C) volumes while training.

    Args:
        rate: fraction of channels dropped, in [0, 1).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, D, H, W, C) -> same.
    """

    _rank = 5


# ------------------------------------------------------------------ gaussian noise


class GaussianNoise(_NoiseLayer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` while training.

    Args:
        stddev: the noise's standard deviation, in [0, 1].
        seed: optional int for a layer-private generator.

    Shapes: any -> same.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _rate(stddev, "GaussianNoise", "stddev")

    def call(self, x, training=False):
        if not training or self.stddev == 0:
            return x
        noise = self._generator().normal(0.0, self.stddev, size=x.shape).astype(x.dtype)
        return x + noise

    def get_config(self):
        config = super().get_config()
        config["stddev"] = self.stddev
        return config


class GaussianDropout(_NoiseLayer):
    """Multiply by Gaussian noise of mean 1 and variance ``rate / (1 - rate)`` while training.

    Args:
        rate: the equivalent dropout rate, in [0, 1).
        seed: optional int for a layer-private generator.

    Shapes: any -> same.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, "GaussianDropout", high_inclusive=False)

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._generator().normal(1.0, stddev, size=x.shape).astype(x.dtype)
        return x * noise

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        return config


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps SELU's mean and variance (Klambauer et al., 2017), while training.

    Dropped units are set to SELU's negative saturation ``alpha' = -alpha * scale`` instead
    of 0, then the result is affinely corrected: ``y = a * (x * keep + alpha' * (1 - keep)) + b``
    with ``a = ((1 - rate) (1 + rate alpha'^2)) ** -0.5`` and ``b = -a alpha' rate``.

    Args:
        rate: fraction of units dropped, in [0, 1).
        noise_shape: optional shape of the keep mask, broadcast to the input (None entries
            take the input's size).
        seed: optional int for a layer-private generator.

    Shapes: any -> same.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, "AlphaDropout", high_inclusive=False)
        self.noise_shape = None if noise_shape is None else tuple(
            None if d is None else int(d) for d in noise_shape)

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        shape = x.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != x.ndim:
                raise arguments.incompatible(self, f"rank {len(self.noise_shape)} (noise_shape "
                                                   f"{self.noise_shape})", x.shape)
            shape = tuple(d if n is None else n for n, d in zip(self.noise_shape, x.shape))
        keep = (self._generator().random(shape) >= self.rate).astype(x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        dropped = x * keep + (alpha_p * (1 - keep)).astype(x.dtype)
        return dropped * x.dtype.type(a) + x.dtype.type(b)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate,
                      noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return config


# ------------------------------------------------------------------ activity penalty


class ActivityRegularization(Layer):
    """Pass the input through and add ``(l1 * sum|x| + l2 * sum x^2) / batch_size`` to ``losses``.

    As in Keras 3, the penalty is recorded on every call (training or not) and divided by
    the batch size; ``layer.losses`` (and so ``model.losses``, which ``fit`` adds to the
    loss) holds the penalty of the latest call, a scalar Tensor in the graph.

    Args:
        l1: L1 factor (default 0).
        l2: L2 factor (default 0).

    Shapes: any -> same.
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self._regularizer = regularizers.L1L2(l1=l1, l2=l2)
        self.l1, self.l2 = self._regularizer.l1, self._regularizer.l2
        self._penalty = None

    def call(self, x, training=False):
        penalty = self._regularizer(x)
        if x.ndim > 0 and x.shape[0] > 0:
            penalty = penalty / x.shape[0]
        self._penalty = penalty
        return x

    @property
    def losses(self):
        """The activity penalty of the latest call (empty before the first call)."""
        return [] if self._penalty is None else [self._penalty]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config


__all__ = [
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization",
]  # fmt: skip
