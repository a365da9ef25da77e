"""What the image preprocessing and color augmentation layers share (public helpers).

Images are NHWC: a batch ``(N, H, W, C)`` or one image ``(H, W, C)``, which the base class
runs as a batch of one. Random layers act only with ``training=True``; a layer given
``seed=`` draws from its own generator, else from ``npgrad.random.generator()``. Factor and
value-range arguments follow Keras 3's rules (``_set_factor``, ``value_range``).
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import random as npgrad_random
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.layer import Layer


def check_images(layer, shape):
    """Raise unless ``shape`` is (N, H, W, C) or (H, W, C)."""
    if len(shape) not in (3, 4):
        raise arguments.incompatible(layer, "rank 4 (N, H, W, C) or rank 3 (H, W, C)", shape)


def number_arg(value, layer_cls, arg):
    """A float from a number argument (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{layer_cls}: argument `{arg}` must be a number, got {value!r}")
    return float(value)


def value_range_arg(value_range, layer_cls):
    """``value_range`` as a sorted [low, high] pair of floats."""
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{layer_cls}: argument `value_range` must be a pair (low, high), "
                         f"got {value_range!r}") from None
    return sorted((low, high))


def factor_arg(value, bounds, layer_cls, arg="factor"):
    """Keras's factor rule: a number f gives (max(-|f|, low), |f|); a pair is sorted."""
    low, high = bounds
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or value[0] > high or value[1] < low:
            raise ValueError(f"{layer_cls}: argument `{arg}` must be a number or a pair in "
                             f"[{low}, {high}], got {value!r}")
        return tuple(sorted(float(v) for v in value))
    f = number_arg(value, layer_cls, arg)
    if not low <= f <= high:
        raise ValueError(f"{layer_cls}: argument `{arg}` must lie in [{low}, {high}], got {value!r}")
    f = abs(f)
    return (max(-f, low), f)


def to_range(images, source, target):
    """Map values linearly from the ``source`` (low, high) range to ``target``."""
    (s0, s1), (t0, t1) = source, target
    if (s0, s1) == (t0, t1):
        return images
    return (images - s0) / (s1 - s0) * (t1 - t0) + t0


def grayscale(images):
    """ITU-R 601 luma ``0.2989 R + 0.587 G + 0.114 B`` of (..., 3) images, as (..., 1)."""
    if images.shape[-1] != 3:
        raise ValueError(f"grayscale needs 3 (RGB) channels, got {images.shape[-1]}")
    return images @ np.array([0.2989, 0.587, 0.114], dtype=images.dtype)[:, None]


def rgb_to_hsv(images):
    """(..., 3) RGB -> HSV with hue in [0, 1) (TensorFlow's and Keras's formulas)."""
    images = np.where(np.abs(images) < np.finfo(images.dtype).eps, 0.0, images)
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    value = np.maximum(np.maximum(r, g), b)
    spread = value - np.minimum(np.minimum(r, g), b)
    saturation = np.where(value > 0, spread / np.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * np.where(spread > 0, spread, 1.0))
    hue = np.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = np.where(value == r, norm * (g - b), hue)
    hue = np.where(spread > 0, hue, 0.0) + (hue < 0.0)
    return np.stack([hue, saturation, value], axis=-1).astype(images.dtype)


def hsv_to_rgb(images):
    """(..., 3) HSV -> RGB, the inverse of :func:`rgb_to_hsv`."""
    hue, saturation, value = images[..., 0], images[..., 1], images[..., 2]
    dh = np.remainder(hue, 1.0) * 6.0
    dr = np.clip(np.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = np.clip(2.0 - np.abs(dh - 2.0), 0.0, 1.0)
    db = np.clip(2.0 - np.abs(dh - 4.0), 0.0, 1.0)
    grey = 1.0 - saturation
    return np.stack([value * (grey + saturation * d) for d in (dr, dg, db)], axis=-1).astype(
        images.dtype)


class ImageLayer(Layer):
    """Base of the image layers: (H, W, C) images run as a batch of one; ``_batch`` does the work."""

    def build(self, input_shape):
        check_images(self, input_shape)

    def call(self, x, training=False):
        check_images(self, x.shape)
        if x.ndim == 3:
            return F.squeeze(self._batch(F.expand_dims(x, 0), training), 0)
        return self._batch(x, training)

    def _batch(self, x, training):  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        check_images(self, input_shape)
        return tuple(input_shape)


class RandomImageLayer(ImageLayer):
    """Base of the random image layers: the seed and generator; the identity unless training
    (a call without ``training`` and outside any model call augments, as Keras's do)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"{type(self).__name__}: argument `seed` must be a non-negative int "
                             f"or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._rng = None if seed is None else np.random.default_rng(self.seed)

    def generator(self):
        """The layer's own generator (seeded layers) or the global one, looked up now."""
        return self._rng if self._rng is not None else npgrad_random.generator()

    def call(self, x, training=True):  # Keras: a direct call augments
        check_images(self, x.shape)
        return super().call(x, training) if training else x

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


class ColorLayer(RandomImageLayer):
    """Base of the random color layers: NumPy on the batch, a constant Tensor out (no gradient)."""

    def _batch(self, x, training):
        images = x.data
        return Tensor(np.asarray(self._color(images, self.generator()), dtype=images.dtype))

    def _color(self, images, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def _factor_and_range(self, name, factor, bounds, value_range, data_format):
        """Check and keep the arguments most color layers share (``name`` in messages)."""
        arguments.check_data_format(data_format, name)
        self.factor = factor_arg(factor, bounds, name)
        self.value_range = value_range_arg(value_range, name)


__all__ = ["check_images", "number_arg", "value_range_arg", "factor_arg", "to_range", "grayscale",
           "rgb_to_hsv", "hsv_to_rgb", "ImageLayer", "RandomImageLayer", "ColorLayer"]
