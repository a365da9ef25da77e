"""Color augmentation layers: RandomGrayscale, RandomInvert, Solarization,
RandomColorDegeneration, AutoContrast, RandomPosterization, RandomSharpness, RandomHue,
RandomSaturation, RandomGaussianBlur, Equalization, RandomColorJitter and RandomErasing
(Keras 3.15 semantics, NHWC, NumPy).

The random layers act only with ``training=True`` (a plain call is inference in npgrad;
Keras's image layers default to ``training=True``). They work on the pixel values in NumPy
and return constants of the graph: augmentation sits at a model's input, where nobody needs
a gradient. Each draws one random amount per image.

Example:
    >>> images = np.random.uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    >>> augment = npgrad.Sequential([RandomHue(0.1), RandomSaturation(0.3), RandomSharpness(0.5)])
    >>> augment(images, training=True).shape
    (8, 32, 32, 3)
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.image_base import (
    ColorLayer,
    ImageLayer,
    RandomImageLayer,
    factor_arg,
    grayscale,
    hsv_to_rgb,
    number_arg,
    rgb_to_hsv,
    to_range,
    value_range_arg,
)

_KERAS_EPSILON = 1e-7


class RandomGrayscale(ColorLayer):
    """Turn each RGB image to grayscale with probability ``factor`` while training.

    The luma ``0.2989 R + 0.587 G + 0.114 B`` replaces all three channels.

    Args:
        factor: probability in [0, 1] (default 0.5).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, 3) -> same.
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        arguments.check_data_format(data_format, "RandomGrayscale")
        self.factor = number_arg(factor, "RandomGrayscale", "factor")
        if not 0 <= self.factor <= 1:
            raise ValueError(f"RandomGrayscale: argument `factor` must lie in [0, 1], got {factor!r}")

    def _color(self, images, rng):
        apply = rng.uniform(0, 1, images.shape[0]) < self.factor
        return np.where(apply[:, None, None, None], grayscale(images), images)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomInvert(ColorLayer):
    """Invert each image (``high - x``) with a random probability while training.

    Per image, a probability p is drawn from the factor range and the image is inverted
    with probability p (Keras). ``factor=1.0`` (default) gives p in [0, 1].

    Args:
        factor: a number in [0, 1] (range [0, f]) or a pair.
        value_range: the pixel range (default (0, 255)).
        seed: optional int for a layer-private generator.
        data_format: None or 'channels_last'.

    Shapes: any image batch -> same.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self._factor_and_range("RandomInvert", factor, (0.0, 1.0), value_range, data_format)

    def _color(self, images, rng):
        n = images.shape[0]
        probability = rng.uniform(*self.factor, size=n)
        apply = rng.uniform(0, 1, n) < probability
        return np.where(apply[:, None, None, None], self.value_range[1] - images, images)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


def _unit_factor(value, layer_cls, arg):
    """Solarization's factors: a number f in [0, 1] gives (0, f); a pair is sorted."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (0.0, value)
    if len(pair) != 2 or not all(0 <= number_arg(v, layer_cls, arg) <= 1 for v in pair):
        raise ValueError(f"{layer_cls}: argument `{arg}` must be a number or a pair in [0, 1], "
                         f"got {value!r}")
    return tuple(sorted(float(v) for v in pair))


class Solarization(ColorLayer):
    """Add a random brightness, then invert the pixels above a random threshold, while training.

    On the 0-255 scale: ``y = clip(x + a, 0, 255)``, then ``255 - y`` where ``y >= t``, with
    ``a`` and ``t`` drawn per image uniformly from ``[lower, upper * 255]`` of their factor
    ranges (Keras 3.15 scales only the upper bound). With both factors 0 every pixel is
    inverted.

    Args:
        addition_factor: a number in [0, 1] (range (0, f)) or a pair.
        threshold_factor: a number in [0, 1] (range (0, f)) or a pair.
        value_range: the pixel range (default (0, 255)).
        seed: optional int for a layer-private generator.

    Shapes: any image batch -> same.
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = _unit_factor(addition_factor, "Solarization", "addition_factor")
        self.threshold_factor = _unit_factor(threshold_factor, "Solarization", "threshold_factor")
        self.value_range = value_range_arg(value_range, "Solarization")

    def _color(self, images, rng):
        shape = (images.shape[0], 1, 1, 1)
        add = rng.uniform(self.addition_factor[0], self.addition_factor[1] * 255, shape)
        threshold = rng.uniform(self.threshold_factor[0], self.threshold_factor[1] * 255, shape)
        out = np.clip(to_range(images, self.value_range, (0, 255)) + add, 0, 255)
        out = np.where(out < threshold, out, 255 - out)
        return to_range(out, (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(addition_factor=list(self.addition_factor),
                      threshold_factor=list(self.threshold_factor),
                      value_range=list(self.value_range))
        return config


class RandomColorDegeneration(ColorLayer):
    """Blend each RGB image towards its grayscale by a random amount while training.

    ``y = clip(x + f (gray - x), value_range)`` with f drawn per image from the factor range;
    a number f gives [-|f|, |f|] (Keras), so negative draws push colors away from gray.

    Args:
        factor: a number in [-1, 1] or a pair.
        value_range: the pixel range (default (0, 255)).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, 3) -> same.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self._factor_and_range("RandomColorDegeneration", factor, (-1.0, 1.0), value_range, data_format)

    def _color(self, images, rng):
        f = rng.uniform(*self.factor, size=(images.shape[0], 1, 1, 1)).astype(images.dtype)
        return np.clip(images + f * (grayscale(images) - images), *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


class AutoContrast(ImageLayer):
    """Stretch each channel of each image to the full value range (always, like Keras).

    On the 0-255 scale: ``(x - min) * 255 / (max - min)`` per image and channel; a constant
    channel (max == min) is left unchanged.

    Args:
        value_range: the pixel range (default (0, 255)).

    Shapes: any image batch -> same.
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range_arg(value_range, "AutoContrast")

    def _batch(self, x, training):
        images = to_range(x.data.astype(np.float64), self.value_range, (0, 255))
        low = images.min(axis=(1, 2), keepdims=True)
        high = images.max(axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = 255.0 / (high - low)
            out = np.clip(images * scale - low * scale, 0.0, 255.0)
        out = to_range(out, (0, 255), self.value_range)
        return Tensor(np.where(np.isnan(out), x.data, out).astype(x.dtype))

    def get_config(self):
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config


class RandomPosterization(ColorLayer):
    """Keep only the top ``b`` bits of each 8-bit pixel value while training.

    Per image, ``b`` is drawn as an integer in ``[lower, upper)`` of the factor range (the
    lower bound when both are equal, as Keras); values are mapped to 0-255, truncated to
    uint8, shifted right and left by ``8 - b``, and mapped back.

    Args:
        factor: an int in [1, 8] (range (1, f)) or a pair of ints.
        value_range: the pixel range (default (0, 255)).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: any image batch -> same.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self._factor_and_range("RandomPosterization", factor, (1.0, 8.0), value_range, data_format)

    def _color(self, images, rng):
        low, high = int(self.factor[0]), int(self.factor[1])
        n = images.shape[0]
        bits = rng.integers(low, high, n) if low != high else np.full(n, low)
        shift = (8 - bits).astype(np.uint8).reshape(-1, 1, 1, 1)
        pixels = to_range(images, self.value_range, (0, 255)).astype(np.uint8)
        pixels = np.left_shift(np.right_shift(pixels, shift), shift)
        return to_range(pixels.astype(images.dtype), (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


def _smooth(images):
    """3x3 smoothing per channel, zero 'same' padding: weights 1/13 around, 5/13 centre."""
    n, h, w, c = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros_like(images)
    for dy in range(3):
        for dx in range(3):
            weight = 5.0 / 13.0 if (dy, dx) == (1, 1) else 1.0 / 13.0
            out += weight * padded[:, dy:dy + h, dx:dx + w]
    return out


class RandomSharpness(ColorLayer):
    """Sharpen or blur each image by a random amount while training.

    ``y = clip(x + (1 - 2 f) (smooth(x) - x), value_range)``, f drawn per image from the
    factor range (a number f gives [0, f]): f < 0.5 blurs, f > 0.5 sharpens, as Keras.

    Args:
        factor: a number in [0, 1] or a pair.
        value_range: the pixel range (default (0, 255)).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, C) -> same.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self._factor_and_range("RandomSharpness", factor, (0.0, 1.0), value_range, data_format)

    def _color(self, images, rng):
        f = rng.uniform(*self.factor, size=(images.shape[0], 1, 1, 1)).astype(images.dtype) * 2
        out = images + (1.0 - f) * (_smooth(images) - images)
        return np.clip(out, *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


class RandomHue(ColorLayer):
    """Rotate each RGB image's hue by a random amount while training.

    Per image, ``d`` is drawn from the factor range (a number f gives [0, f]) with a random
    sign, and the hue (in [0, 1)) moves by ``d / 2``, wrapping around.

    Args:
        factor: a number in [0, 1] or a pair.
        value_range: the pixel range (default (0, 255)).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, 3) -> same.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self._factor_and_range("RandomHue", factor, (0.0, 1.0), value_range, data_format)

    def _color(self, images, rng):
        n = images.shape[0]
        sign = np.where(rng.uniform(size=n) > 0.5, -1.0, 1.0)
        shift = (sign * rng.uniform(*self.factor, size=n) * 0.5).reshape(-1, 1, 1)
        hsv = rgb_to_hsv(to_range(images, self.value_range, (0, 1)))
        hue = hsv[..., 0] + shift
        hue = np.where(hue > 1.0, hue - 1.0, hue)
        hue = np.where(hue < 0.0, hue + 1.0, hue)
        rgb = hsv_to_rgb(np.stack([hue, hsv[..., 1], hsv[..., 2]], axis=-1).astype(images.dtype))
        return to_range(np.clip(rgb, 0, 1), (0, 1), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


class RandomSaturation(ColorLayer):
    """Scale each RGB image's saturation by a random amount while training.

    Per image, ``f`` is drawn from the factor range (a number f gives [-|f|, |f|], as
    Keras's default bounds) and the HSV saturation is multiplied by ``f / (1 - f)``, then
    clipped to ``value_range`` (so a negative draw gives grayscale), as Keras 3.15.

    Args:
        factor: a number in [-1, 1] or a pair.
        value_range: the pixel range (default (0, 255)).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, 3) -> same.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self._factor_and_range("RandomSaturation", factor, (-1.0, 1.0), value_range, data_format)

    def _color(self, images, rng):
        f = rng.uniform(*self.factor, size=(images.shape[0], 1, 1))
        scale = f / (1 - f + _KERAS_EPSILON)
        hsv = rgb_to_hsv(images)
        saturation = np.clip(hsv[..., 1] * scale, *self.value_range)
        return hsv_to_rgb(np.stack([hsv[..., 0], saturation, hsv[..., 2]], axis=-1)
                          .astype(images.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


def _gaussian_kernel(size, sigma):
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(images, kernel_size, sigma):
    """Blur (N, H, W, C) images with a separable Gaussian, zero 'same' padding (Keras's op).

    Args:
        images: the images.
        kernel_size: (size along x, size along y), odd ints.
        sigma: (sigma along x, sigma along y).
    """
    n, h, w, c = images.shape
    kx, ky = _gaussian_kernel(kernel_size[0], sigma[0]), _gaussian_kernel(kernel_size[1], sigma[1])
    kernel = np.outer(ky, kx).reshape(kernel_size[0], kernel_size[1])  # Keras's view of it
    ph, pw = kernel_size[0] // 2, kernel_size[0] // 2
    padded = np.pad(images, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    out_h = h + 2 * ph - kernel.shape[0] + 1
    out_w = w + 2 * pw - kernel.shape[1] + 1
    out = np.zeros((n, out_h, out_w, c), dtype=np.float64)
    for dy in range(kernel.shape[0]):
        for dx in range(kernel.shape[1]):
            out += kernel[dy, dx] * padded[:, dy:dy + out_h, dx:dx + out_w]
    return out.astype(images.dtype)


def _odd_pair(value, layer_cls, arg):
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 and v % 2 == 1
                                 for v in pair):
        raise ValueError(f"{layer_cls}: argument `{arg}` must be an odd positive int or a pair of "
                         f"them, got {value!r}")
    return tuple(int(v) for v in pair)


class RandomGaussianBlur(ColorLayer):
    """Blur images with a random Gaussian while training.

    Each image is blurred with a probability drawn per image from the factor range (a number
    f gives [0, f]); one pair of sigmas, drawn from the sigma range, serves the whole batch,
    as Keras. Zero padding keeps the size; the result is clipped to ``value_range``.

    Args:
        factor: blur probability, a number in [0, 1] or a pair (default 1.0).
        kernel_size: odd int or pair of odd ints (default 3).
        sigma: a number in [0, 1] (range [0, s]) or a pair (default 1.0).
        value_range: the pixel range (default (0, 255)).
        data_format: None or 'channels_last'.
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, C) -> same.
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        arguments.check_data_format(data_format, "RandomGaussianBlur")
        self.factor = factor_arg(factor, (0.0, 1.0), "RandomGaussianBlur")
        self.kernel_size = _odd_pair(kernel_size, "RandomGaussianBlur", "kernel_size")
        self.sigma = factor_arg(sigma, (0.0, 1.0), "RandomGaussianBlur", "sigma")
        self.value_range = value_range_arg(value_range, "RandomGaussianBlur")

    def _color(self, images, rng):
        n = images.shape[0]
        apply = rng.uniform(0, 1, n) < rng.uniform(*self.factor, size=n)
        sigma = rng.uniform(*self.sigma, size=2) + 1e-6
        blurred = gaussian_blur(images, self.kernel_size, sigma)
        return np.clip(np.where(apply[:, None, None, None], blurred, images), *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), kernel_size=list(self.kernel_size),
                      sigma=list(self.sigma), value_range=list(self.value_range))
        return config


class Equalization(ColorLayer):
    """Histogram-equalize each channel while training (as Keras, over the whole batch).

    On the 0-255 scale, each channel's histogram of ``bins`` bins (pooled over the batch)
    gives a lookup table ``round(255 (cdf - cdf_min) / (cdf[-1] - cdf_min))``; a channel with
    one occupied bin is left unchanged.

    Args:
        value_range: the pixel range (default (0, 255)).
        bins: histogram bins (default 256).
        data_format: None or 'channels_last'.

    Shapes: any image batch -> same.
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "Equalization")
        self.bins = arguments.positive_int(bins, "Equalization", "bins")
        self.value_range = value_range_arg(value_range, "Equalization")

    def _equalize(self, channel):
        channel = to_range(channel.astype(np.float32), self.value_range, (0, 255))
        bins = self.bins
        index = np.clip((channel * (bins - 1) / 255.0).astype(np.int32), 0, bins - 1)
        histogram = np.bincount(index.reshape(-1), minlength=bins)
        if np.count_nonzero(histogram) <= 1:
            return to_range(channel, (0, 255), self.value_range)
        cdf = np.cumsum(histogram)
        cdf_min = cdf[np.nonzero(cdf)[0][0]]
        denominator = max(cdf[-1] - cdf_min, 1)
        table = np.clip(np.round((cdf - cdf_min) * 255 / denominator), 0, 255)
        lookup = np.clip(channel / 255.0 * (bins - 1), 0, bins - 1).astype(np.int32)
        return to_range(table[lookup], (0, 255), self.value_range)

    def _color(self, images, rng):
        return np.stack([self._equalize(images[..., i]) for i in range(images.shape[-1])], axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("seed", None)
        config.update(value_range=list(self.value_range), bins=self.bins)
        return config


class RandomColorJitter(RandomImageLayer):
    """Random brightness, contrast, saturation and hue, in that order, while training.

    Each factor given builds the matching layer (RandomBrightness, RandomContrast,
    RandomSaturation, RandomHue) with the same ``value_range`` and ``seed``; None skips it.

    Args:
        value_range: the pixel range (default (0, 255)).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the sub-layers'
            factors, or None.
        seed: optional int for the sub-layers' generators.
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, 3) -> same.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        arguments.check_data_format(data_format, "RandomColorJitter")
        from npgrad.layers.image_preprocessing import RandomBrightness, RandomContrast

        self.value_range = value_range_arg(value_range, "RandomColorJitter")
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        steps = [(brightness_factor, RandomBrightness), (contrast_factor, RandomContrast),
                 (saturation_factor, RandomSaturation), (hue_factor, RandomHue)]
        self.steps = [cls(factor, value_range=self.value_range, seed=seed, dtype=self.dtype)
                      for factor, cls in steps if factor is not None]

    def _batch(self, x, training):
        for step in self.steps:
            x = step(x, training=True)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(value_range=list(self.value_range),
                      brightness_factor=self.brightness_factor,
                      contrast_factor=self.contrast_factor,
                      saturation_factor=self.saturation_factor, hue_factor=self.hue_factor)
        return config


class RandomErasing(ColorLayer):
    """Erase a random rectangle of each image while training (Zhong et al., 2017), as Keras.

    Per image: with a probability drawn from the factor range, a box whose width and height
    are ``sqrt(s)`` of the image's (s drawn from ``scale`` for each side) at a uniform
    position is replaced by ``fill_value`` (a number or one per channel), or by Gaussian
    noise times the range's maximum when None, clipped to ``value_range``.

    Args:
        factor: erase probability, a number in [0, 1] or a pair (default 1.0).
        scale: the area fraction range per side before the square root (default (0.02, 0.33)).
        fill_value: None (noise), a number, or 3 numbers.
        value_range: the pixel range (default (0, 255)).
        seed: optional int for a layer-private generator.
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> same.
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        arguments.check_data_format(data_format, "RandomErasing")
        self.factor = factor_arg(factor, (0.0, 1.0), "RandomErasing")
        self.scale = factor_arg(scale, (0.0, 1.0), "RandomErasing", "scale")
        if fill_value is not None:
            values = np.asarray(fill_value, dtype=np.float64)
            if values.shape not in ((), (3,)):
                raise ValueError("RandomErasing: argument `fill_value` must be None, a number or 3 "
                                 f"numbers, got {fill_value!r}")
            fill_value = values.tolist()
        self.fill_value = fill_value
        self.value_range = value_range_arg(value_range, "RandomErasing")

    def _color(self, images, rng):
        n, h, w, c = images.shape
        sides = np.sqrt(rng.uniform(*self.scale, size=(n, 2)))
        box_w, box_h = sides[:, 0] * w, sides[:, 1] * h
        x0 = rng.uniform(0, 1, n) * (w - box_w)
        y0 = rng.uniform(0, 1, n) * (h - box_h)
        apply = rng.uniform(0, 1, n) < rng.uniform(*self.factor, size=n)
        ys = np.arange(h)[None, :, None]
        xs = np.arange(w)[None, None, :]
        inside = ((xs >= x0[:, None, None]) & (xs < (x0 + box_w)[:, None, None])
                  & (ys >= y0[:, None, None]) & (ys < (y0 + box_h)[:, None, None]))
        if self.fill_value is None:
            fill = rng.standard_normal(images.shape) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value), images.shape)
        fill = np.clip(fill, *self.value_range).astype(images.dtype)
        erase = (inside & apply[:, None, None])[..., None]
        return np.where(erase, fill, images)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), scale=list(self.scale), fill_value=self.fill_value,
                      value_range=list(self.value_range))
        return config


__all__ = ["RandomGrayscale", "RandomInvert", "Solarization", "RandomColorDegeneration",
           "AutoContrast", "RandomPosterization", "RandomSharpness", "RandomHue",
           "RandomSaturation", "RandomGaussianBlur", "Equalization", "RandomColorJitter",
           "RandomErasing", "gaussian_blur"]
