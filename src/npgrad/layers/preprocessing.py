"""Image augmentation layers: RandomFlip, RandomTranslation, RandomRotation, RandomZoom.

They follow Keras 3: images are NHWC (a batch ``(N, H, W, C)`` or one image ``(H, W, C)``),
each sample draws its own transformation, and the layers act only when ``training=True``
(``fit`` passes it); with ``training=False`` (``evaluate``, ``predict``, a plain call) they
return their input unchanged, the very same Tensor.

Randomness comes from ``npgrad.random.generator()``, so ``npgrad.utils.set_random_seed``
makes augmentation reproducible; a layer given ``seed=`` draws from its own generator instead.

Gradients: augmentation sits at the model's input, where nobody needs a gradient, so in
training mode the output is a new constant Tensor (no graph edge back to the input). At
inference the input passes through untouched, so gradients with respect to the input
(saliency maps, adversarial examples) flow as if the layer were not there.

The affine layers (translation, rotation, zoom) map every output pixel ``(x, y)`` back to
an input location ``(x_in, y_in) = A (x, y, 1)`` with the same 2x3 matrices Keras uses, then
sample there bilinearly (or nearest), vectorized over the whole batch.
Locations outside the image are filled according to ``fill_mode``:

- ``'constant'``: ``fill_value`` (k k k k | a b c d | k k k k)
- ``'nearest'``:  the edge pixel (a a a a | a b c d | d d d d)
- ``'reflect'``:  mirrored about the edge (d c b a | a b c d | d c b a)
- ``'wrap'``:     tiled (a b c d | a b c d | a b c d)

Unlike Keras (whose default is ``'reflect'``), the default here is ``'constant'`` with 0:
on MNIST-like images that is black background, which is what one wants.

Example:
    >>> augment = npgrad.Sequential([RandomRotation(0.05), RandomTranslation(0.1, 0.1)])
    >>> x = np.random.rand(8, 28, 28, 1).astype("float32")
    >>> augment(x, training=True).shape
    (8, 28, 28, 1)
"""

from __future__ import annotations

import math

import numpy as np
from npgrad import random as npgrad_random
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.layer import Layer

_FILL_MODES = ("constant", "nearest", "reflect", "wrap")
_INTERPOLATIONS = ("bilinear", "nearest")


def _check_images(layer, shape):
    """Raise unless ``shape`` is (N, H, W, C) or (H, W, C)."""
    if len(shape) not in (3, 4):
        raise arguments.incompatible(layer, "rank 4 (N, H, W, C) or rank 3 (H, W, C)", shape)


def _factor_range(value, layer_cls, arg, low=None, high=None):
    """Normalize a factor to ``(lower, upper)``: a number f means (-f, f), a pair is kept.

    Raises:
        TypeError: not a number or a pair of numbers.
        ValueError: lower > upper, or a bound outside ``[low, high]``.
    """
    def is_number(v):
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    if is_number(value):
        lower, upper = -abs(float(value)), abs(float(value))
    else:
        try:
            pair = tuple(value)
        except TypeError:
            raise TypeError(
                f"{layer_cls}: argument `{arg}` must be a float or a tuple (lower, upper), "
                f"got {value!r}"
            ) from None
        if len(pair) != 2 or not all(is_number(v) for v in pair):
            raise TypeError(
                f"{layer_cls}: argument `{arg}` must be a float or a tuple (lower, upper), "
                f"got {value!r}"
            )
        lower, upper = float(pair[0]), float(pair[1])
    if not (math.isfinite(lower) and math.isfinite(upper)) or lower > upper:
        raise ValueError(
            f"{layer_cls}: argument `{arg}` must give finite bounds with lower <= upper, "
            f"got {value!r}"
        )
    if (low is not None and lower < low) or (high is not None and upper > high):
        raise ValueError(
            f"{layer_cls}: argument `{arg}` must lie in [{low}, {high}], got {value!r}"
        )
    return lower, upper


def _as_config(value):
    """A factor as given, in JSON-able form (float or [lower, upper])."""
    return float(value) if np.isscalar(value) else [float(v) for v in value]


def _choice(value, allowed, layer_cls, arg):
    """Lower-case a string option and check it is one of ``allowed``."""
    mode = value.lower() if isinstance(value, str) else value
    if mode not in allowed:
        raise ValueError(f"{layer_cls}: argument `{arg}` must be one of {list(allowed)}, got {value!r}")
    return mode


class _RandomImageLayer(Layer):
    """Shared machinery: seeded or global generator, NHWC checks, training switch."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)
                                 or seed < 0):
            raise ValueError(f"{type(self).__name__}: argument `seed` must be a non-negative int "
                             f"or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._rng = None if seed is None else np.random.default_rng(self.seed)

    def _generator(self):
        # looked up at call time: set_random_seed replaces the global generator
        return self._rng if self._rng is not None else npgrad_random.generator()

    def build(self, input_shape):
        _check_images(self, input_shape)

    def call(self, x, training=True):  # Keras: a direct call augments
        _check_images(self, x.shape)
        if not training:
            return x
        images = x.data if x.ndim == 4 else x.data[None]
        out = self._augment(images, self._generator())
        return Tensor(out if x.ndim == 4 else out[0])

    def _augment(self, images, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


class RandomFlip(_RandomImageLayer):
    """Flip each image left-right and/or up-down, each with probability 1/2, while training.

    Args:
        mode: 'horizontal' (flip the width axis), 'vertical' (the height axis) or
            'horizontal_and_vertical' (both, drawn independently).
        seed: optional int for a layer-private generator.

    Shapes: (N, H, W, C) -> same, or (H, W, C) -> same.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.mode = _choice(mode, ("horizontal", "vertical", "horizontal_and_vertical"),
                            "RandomFlip", "mode")

    def _augment(self, images, rng):
        n = images.shape[0]
        out = images
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = rng.random(n) < 0.5
            out = np.where(flip[:, None, None, None], out[:, :, ::-1], out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = rng.random(n) < 0.5
            out = np.where(flip[:, None, None, None], out[:, ::-1], out)
        return out.copy() if out is images else out

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(_RandomImageLayer):
    """Resample each image through a per-sample 2x3 affine map (output -> input coordinates)."""

    def __init__(self, fill_mode="constant", interpolation="bilinear", fill_value=0.0,
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.fill_mode = _choice(fill_mode, _FILL_MODES, name, "fill_mode")
        self.interpolation = _choice(interpolation, _INTERPOLATIONS, name, "interpolation")
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.number)):
            raise TypeError(f"{name}: argument `fill_value` must be a number, got {fill_value!r}")
        self.fill_value = float(fill_value)

    def _matrices(self, n, height, width, rng):  # pragma: no cover - abstract
        """(N, 6) rows [a0, a1, a2, b0, b1, b2]: x_in = a0 x + a1 y + a2, y_in = b0 x + b1 y + b2."""
        raise NotImplementedError

    def _augment(self, images, rng):
        n, height, width, channels = images.shape
        m = self._matrices(n, height, width, rng)
        return _affine_sample(images, m, self.fill_mode, self.interpolation, self.fill_value)

    def get_config(self):
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, interpolation=self.interpolation,
                      fill_value=self.fill_value)
        return config


def _fill_index(index, size, fill_mode):
    """Map integer pixel indices (any shape) into ``[0, size)`` by ``fill_mode``.

    Returns:
        (index inside the image, mask of indices that were inside; None unless 'constant').
    """
    if fill_mode == "nearest":
        return np.clip(index, 0, size - 1), None
    if fill_mode == "wrap":
        return np.mod(index, size), None
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a: period 2 * size
        index = np.mod(index, 2 * size)
        return np.where(index >= size, 2 * size - 1 - index, index), None
    inside = (index >= 0) & (index < size)
    return np.clip(index, 0, size - 1), inside


def _affine_sample(images, m, fill_mode, interpolation, fill_value):
    """Sample ``images`` (N, H, W, C) at ``A_n (x, y, 1)`` for every output pixel.

    Bilinear: each output pixel is the weighted sum of the 4 input pixels around its source
    location (weights ``(1 - wy)(1 - wx)``, ...); nearest: the closest one. Neighbours outside
    the image are mapped back in (nearest, reflect, wrap) or read as ``fill_value``
    (constant), which is what ``scipy.ndimage.map_coordinates`` does with ``order=1`` and the
    modes 'nearest', 'reflect', 'grid-wrap', 'grid-constant'. All vectorized: 4 gathers.
    """
    n, height, width, channels = images.shape
    dtype = images.dtype
    y, x = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64),
                       indexing="ij")                                    # (H, W) each
    a = m[:, :, None, None]                                              # (N, 6, 1, 1)
    x_in = a[:, 0] * x + a[:, 1] * y + a[:, 2]                           # (N, H, W)
    y_in = a[:, 3] * x + a[:, 4] * y + a[:, 5]                           # (N, H, W)
    batch = np.arange(n)[:, None, None]                                  # (N, 1, 1)
    fill = dtype.type(fill_value)

    def gather(yi, xi):
        """images[n, yi, xi, :] with the fill rule: (N, H, W, C)."""
        yi, y_ok = _fill_index(yi, height, fill_mode)
        xi, x_ok = _fill_index(xi, width, fill_mode)
        values = images[batch, yi, xi]                                   # (N, H, W, C)
        if y_ok is not None:
            values = np.where((y_ok & x_ok)[..., None], values, fill)
        return values

    if interpolation == "nearest":
        return gather(np.floor(y_in + 0.5).astype(np.int64), np.floor(x_in + 0.5).astype(np.int64))
    y0, x0 = np.floor(y_in), np.floor(x_in)
    wy, wx = (y_in - y0).astype(dtype)[..., None], (x_in - x0).astype(dtype)[..., None]
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    top = gather(y0, x0) * (1 - wx) + gather(y0, x0 + 1) * wx
    bottom = gather(y0 + 1, x0) * (1 - wx) + gather(y0 + 1, x0 + 1) * wx
    return (top * (1 - wy) + bottom * wy).astype(dtype, copy=False)


class RandomTranslation(_AffineLayer):
    """Shift each image by a random fraction of its height and width while training.

    A pixel at row y, column x moves to ``(y + dy, x + dx)`` with ``dy = f_h * H`` and
    ``dx = f_w * W``, where ``f_h`` and ``f_w`` are drawn uniformly from the factor ranges
    (positive: down and right). Shifts need not be whole pixels: ``interpolation`` decides.

    Args:
        height_factor: float f (range [-f, f]) or tuple (lower, upper), fractions of the
            height in [-1, 1].
        width_factor: the same for the width.
        fill_mode: 'constant' (default), 'nearest', 'reflect' or 'wrap' (module docstring).
        interpolation: 'bilinear' (default) or 'nearest'.
        seed: optional int for a layer-private generator.
        fill_value: value used outside the image with fill_mode='constant'.

    Shapes: (N, H, W, C) -> same, or (H, W, C) -> same.
    """

    def __init__(self, height_factor, width_factor, fill_mode="constant",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation,
                         fill_value=fill_value, seed=seed, **kwargs)
        self._height = _factor_range(height_factor, "RandomTranslation", "height_factor", -1, 1)
        self._width = _factor_range(width_factor, "RandomTranslation", "width_factor", -1, 1)
        self.height_factor = _as_config(height_factor)
        self.width_factor = _as_config(width_factor)

    def _matrices(self, n, height, width, rng):
        dy = rng.uniform(*self._height, size=n) * height
        dx = rng.uniform(*self._width, size=n) * width
        one, zero = np.ones(n), np.zeros(n)
        # output (x, y) reads input (x - dx, y - dy)
        return np.stack([one, zero, -dx, zero, one, -dy], axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomRotation(_AffineLayer):
    """Rotate each image about its centre by a random angle while training.

    The angle is ``2 * pi * f`` with f drawn uniformly from the factor range; positive angles
    turn the image counter-clockwise (``factor=(0.25, 0.25)`` on a square image is
    ``np.rot90``).

    Args:
        factor: float f (range [-f, f]) or tuple (lower, upper), fractions of a full turn.
        fill_mode: 'constant' (default), 'nearest', 'reflect' or 'wrap'.
        interpolation: 'bilinear' (default) or 'nearest'.
        seed: optional int for a layer-private generator.
        fill_value: value used outside the image with fill_mode='constant'.

    Shapes: (N, H, W, C) -> same, or (H, W, C) -> same.
    """

    def __init__(self, factor, fill_mode="constant", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation,
                         fill_value=fill_value, seed=seed, **kwargs)
        self._range = _factor_range(factor, "RandomRotation", "factor")
        self.factor = _as_config(factor)

    def _matrices(self, n, height, width, rng):
        angle = rng.uniform(*self._range, size=n) * 2.0 * np.pi
        cos, sin = np.cos(angle), np.sin(angle)
        # Keras's matrix: rotation about the centre ((W-1)/2, (H-1)/2)
        x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
        y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
        return np.stack([cos, -sin, x_offset, sin, cos, y_offset], axis=1)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_AffineLayer):
    """Zoom each image in or out about its centre by a random amount while training.

    The zoom is ``z = 1 + f`` with f drawn from the factor range: the output pixel at distance
    d from the centre reads the input at distance ``z * d``, so positive factors zoom *out*
    (the image shrinks) and negative ones zoom *in*, as in Keras 3.

    Args:
        height_factor: float f (range [-f, f]) or tuple (lower, upper), in [-1, 1].
        width_factor: the same for the width; None (default) uses the height's zoom, keeping
            the aspect ratio.
        fill_mode: 'constant' (default), 'nearest', 'reflect' or 'wrap'.
        interpolation: 'bilinear' (default) or 'nearest'.
        seed: optional int for a layer-private generator.
        fill_value: value used outside the image with fill_mode='constant'.

    Shapes: (N, H, W, C) -> same, or (H, W, C) -> same.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="constant",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation,
                         fill_value=fill_value, seed=seed, **kwargs)
        self._height = _factor_range(height_factor, "RandomZoom", "height_factor", -1, 1)
        self.height_factor = _as_config(height_factor)
        if width_factor is None:
            self.width_factor, self._width = None, None
        else:
            self._width = _factor_range(width_factor, "RandomZoom", "width_factor", -1, 1)
            self.width_factor = _as_config(width_factor)

    def _matrices(self, n, height, width, rng):
        zoom_y = 1.0 + rng.uniform(*self._height, size=n)
        zoom_x = zoom_y if self._width is None else 1.0 + rng.uniform(*self._width, size=n)
        x_offset = (width - 1) / 2.0 * (1.0 - zoom_x)
        y_offset = (height - 1) / 2.0 * (1.0 - zoom_y)
        zero = np.zeros(n)
        return np.stack([zoom_x, zero, x_offset, zero, zoom_y, y_offset], axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


__all__ = ["RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom"]
