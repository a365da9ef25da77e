"""Image preprocessing layers: Rescaling, Resizing, CenterCrop, RandomCrop, RandomContrast and
RandomBrightness (Keras 3 semantics, NHWC); the color layers are in color_augmentation.py.

Images are a batch ``(N, H, W, C)`` or one image ``(H, W, C)``. The deterministic layers
(Rescaling, Resizing, CenterCrop) act in training and inference alike and are
differentiable: resizing is two linear maps (``A_h @ image @ A_w^T`` per channel, with the
interpolation weights in ``A``), composed from ``matmul``. The random ones act only with
``training=True`` and return their input unchanged otherwise (a plain call is inference in
npgrad; Keras's image layers default to ``training=True``). RandomContrast and
RandomBrightness stay differentiable.

Randomness comes from ``npgrad.random.generator()`` (``npgrad.utils.set_random_seed``
makes it reproducible) unless a layer is given ``seed=``.

Example:
    >>> x = np.random.rand(2, 32, 48, 3).astype("float32") * 255
    >>> Resizing(16, 16, crop_to_aspect_ratio=True)(Rescaling(1 / 255)(x)).shape
    (2, 16, 16, 3)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.image_base import (
    ImageLayer,
    RandomImageLayer,
    check_images,
    factor_arg,
    number_arg,
    value_range_arg,
)
from npgrad.layers.layer import Layer

_INTERPOLATIONS = ("bilinear", "nearest")


def _size(value, layer_cls, arg):
    return arguments.positive_int(value, layer_cls, arg)


# ------------------------------------------------------------------ interpolation matrices


def interpolation_matrix(in_size, out_size, interpolation="bilinear", antialias=False):
    """The (out_size, in_size) matrix that resizes one axis (half-pixel centres).

    'bilinear': output i reads the input at ``max((i + 0.5) * in / out - 0.5, 0)``, the two
    neighbours weighted linearly (PyTorch's ``align_corners=False``, TensorFlow's
    ``half_pixel_centers``); with ``antialias`` and downsampling, a triangle filter
    stretched by the scale (PIL's, PyTorch's ``antialias=True``). 'nearest': input
    ``floor((i + 0.5) * in / out)`` (PyTorch's 'nearest-exact').
    """
    scale = in_size / out_size
    rows = np.arange(out_size)
    matrix = np.zeros((out_size, in_size))
    if interpolation == "nearest":
        source = np.minimum(np.floor((rows + 0.5) * scale).astype(np.int64), in_size - 1)
        matrix[rows, source] = 1.0
        return matrix
    if antialias and scale > 1.0:
        support = scale  # the triangle filter max(0, 1 - |t|), stretched by the scale
        for i in range(out_size):
            centre = scale * (i + 0.5)
            low = max(int(centre - support + 0.5), 0)
            high = min(int(centre + support + 0.5), in_size)
            taps = np.arange(low, high)
            weights = np.maximum(0.0, 1.0 - np.abs((taps - centre + 0.5) / scale))
            matrix[i, low:high] = weights / weights.sum()
        return matrix
    source = np.maximum((rows + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    frac = source - low
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


def resize_images(x, height, width, interpolation="bilinear", antialias=False):
    """Resize (N, H, W, C) images to (N, height, width, C), differentiably.

    Args:
        x: Tensor of images.
        height, width: the output size.
        interpolation: 'bilinear' or 'nearest'.
        antialias: filter when downsampling (bilinear only).
    """
    n, h, w, c = x.shape
    if (h, w) == (height, width):
        return x
    dtype = x.dtype
    rows = interpolation_matrix(h, height, interpolation, antialias).astype(dtype)  # (oh, H)
    cols = interpolation_matrix(w, width, interpolation, antialias).astype(dtype)   # (ow, W)
    out = F.matmul(rows, F.reshape(x, (n, h, w * c)))                               # (N, oh, W*C)
    out = F.transpose(F.reshape(out, (n, height, w, c)), (0, 1, 3, 2))             # (N, oh, C, W)
    out = F.matmul(out, cols.T)                                                     # (N, oh, C, ow)
    return F.transpose(out, (0, 1, 3, 2))


def aspect_crop_box(height, width, target_height, target_width):
    """The centred (top, left, crop_height, crop_width) box with the target's aspect ratio."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (int(float(height - crop_height) / 2), int(float(width - crop_width) / 2),
            crop_height, crop_width)


def _crop(x, top, left, height, width):
    return F.getitem(x, (slice(None), slice(top, top + height), slice(left, left + width)))


# ------------------------------------------------------------------ deterministic layers


class Rescaling(Layer):
    """``x * scale + offset`` (e.g. ``Rescaling(1 / 255)`` maps pixels to [0, 1]).

    Args:
        scale: a number, or per-channel numbers broadcast against the last axis.
        offset: a number or per-channel numbers (default 0).

    Shapes: any -> same (float).
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        try:
            self._scale = np.asarray(scale, dtype=np.float64)
            self._offset = np.asarray(offset, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"Rescaling: `scale` and `offset` must be numbers, got {scale!r}, "
                            f"{offset!r}") from None
        self.scale, self.offset = scale, offset

    def call(self, x, training=False):
        return x * self._scale.astype(x.dtype) + self._offset.astype(x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(scale=self._scale.tolist(), offset=self._offset.tolist())
        return config


class Resizing(ImageLayer):
    """Resize images to ``(height, width)``.

    Args:
        height, width: the output size.
        interpolation: 'bilinear' (default) or 'nearest' (half-pixel centres, as Keras).
        crop_to_aspect_ratio: first crop the largest centred box with the target's aspect
            ratio (no distortion).
        pad_to_aspect_ratio: first pad evenly with ``fill_value`` to the target's aspect ratio.
        fill_mode: 'constant' (the only mode, as Keras's PyTorch backend).
        fill_value: padding value for ``pad_to_aspect_ratio``.
        antialias: low-pass filter when downsampling (bilinear only).
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> (N, height, width, C), or (H, W, C) -> (height, width, C).
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "Resizing")
        self.height = _size(height, "Resizing", "height")
        self.width = _size(width, "Resizing", "width")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"Resizing: argument `interpolation` must be one of "
                             f"{list(_INTERPOLATIONS)}, got {interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of `crop_to_aspect_ratio` and "
                             "`pad_to_aspect_ratio` can be True")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: only fill_mode='constant' is supported, got {fill_mode!r}")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = number_arg(fill_value, "Resizing", "fill_value")
        self.antialias = bool(antialias)

    def _batch(self, x, training):
        n, h, w, c = x.shape
        if self.crop_to_aspect_ratio:
            x = _crop(x, *aspect_crop_box(h, w, self.height, self.width))
        elif self.pad_to_aspect_ratio:
            pad_h = max(h, int(float(w * self.height) / self.width))
            pad_w = max(w, int(float(h * self.width) / self.height))
            top, left = int(float(pad_h - h) / 2), int(float(pad_w - w) / 2)
            # Keras pads the same amount on both sides (so the padded size may differ by one)
            x = F.pad(x, ((0, 0), (top, top), (left, left), (0, 0)), value=self.fill_value)
        return resize_images(x, self.height, self.width, self.interpolation, self.antialias)

    def compute_output_shape(self, input_shape):
        check_images(self, input_shape)
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                      pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                      fill_value=self.fill_value, antialias=self.antialias)
        return config


class CenterCrop(ImageLayer):
    """Crop the centred ``(height, width)`` box of each image.

    An image smaller than the target on either side is instead cropped to the target's
    aspect ratio and resized (bilinear), as Keras's ``smart_resize``. With an odd
    difference, the extra row/column is cut at the end.

    Args:
        height, width: the output size.
        data_format: None or 'channels_last'.

    Shapes: (N, H, W, C) -> (N, height, width, C), or (H, W, C) -> (height, width, C).
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        arguments.check_data_format(data_format, "CenterCrop")
        self.height = _size(height, "CenterCrop", "height")
        self.width = _size(width, "CenterCrop", "width")

    def _batch(self, x, training):
        n, h, w, c = x.shape
        if h >= self.height and w >= self.width:
            return _crop(x, (h - self.height) // 2, (w - self.width) // 2, self.height, self.width)
        x = _crop(x, *aspect_crop_box(h, w, self.height, self.width))
        return resize_images(x, self.height, self.width)

    def compute_output_shape(self, input_shape):
        check_images(self, input_shape)
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config


# ------------------------------------------------------------------ random layers


class RandomCrop(RandomImageLayer):
    """Crop a random ``(height, width)`` box while training (Keras 3.15 semantics).

    In training, one random offset is drawn per call (the same box for the whole batch, as
    Keras); an image not larger than the target on both sides is instead sliced from the
    corner of its centred aspect-ratio box and the rest resized to the target, as Keras.
    At inference the input passes through unchanged, as in Keras 3.15 (whose output then
    keeps the input's size).

    Args:
        height, width: the crop size.
        seed: optional int for a layer-private generator.
        data_format: None or 'channels_last'.

    Shapes: training: (N, H, W, C) -> (N, height, width, C); inference: unchanged.
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        arguments.check_data_format(data_format, "RandomCrop")
        self.height = _size(height, "RandomCrop", "height")
        self.width = _size(width, "RandomCrop", "width")

    def _batch(self, x, training):
        n, h, w, c = x.shape
        if h > self.height and w > self.width:
            rng = self.generator()
            top = int(rng.uniform(0, h - self.height + 1))
            left = int(rng.uniform(0, w - self.width + 1))
            return _crop(x, top, left, self.height, self.width)
        # Keras slices a target-sized window at the aspect-ratio box's corner (what remains of
        # a smaller image) and resizes that
        top, left = aspect_crop_box(h, w, self.height, self.width)[:2]
        x = _crop(x, top, left, self.height, self.width)
        return resize_images(x, self.height, self.width)

    def compute_output_shape(self, input_shape):
        check_images(self, input_shape)
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config


class RandomContrast(RandomImageLayer):
    """Scale each image's deviation from its per-channel mean by a random factor, while training.

    ``y = clip((x - mean) * a + mean, value_range)`` with ``a`` drawn per image uniformly
    from ``[1 - lower, 1 + upper]``. As in Keras 3.15, a number ``f`` gives
    ``(lower, upper) = (0, f)`` (factors in [1, 1 + f]) and a pair is taken as given.

    Args:
        factor: a number in [0, 1] or a pair (lower, upper).
        value_range: the pixel range the output is clipped to (default (0, 255)).
        seed: optional int for a layer-private generator.

    Shapes: any image batch -> same.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_arg(factor, (0.0, 1.0), "RandomContrast")
        self.value_range = value_range_arg(value_range, "RandomContrast")

    def _batch(self, x, training):
        lower, upper = self.factor
        a = self.generator().uniform(1.0 - lower, 1.0 + upper, size=(x.shape[0], 1, 1, 1))
        mean = F.mean(x, axis=(1, 2), keepdims=True)
        out = (x - mean) * a.astype(x.dtype) + mean
        return F.clip(out, *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


class RandomBrightness(RandomImageLayer):
    """Add a random brightness offset to each image while training.

    ``y = clip(x + d * (high - low), value_range)`` with ``d`` drawn per image uniformly
    from the factor range: a number ``f`` in [-1, 1] gives ``[-|f|, |f|]``.

    Args:
        factor: a number in [-1, 1] or a pair (lower, upper).
        value_range: the pixel range (default (0, 255)).
        seed: optional int for a layer-private generator.

    Shapes: any image batch -> same.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_arg(factor, (-1.0, 1.0), "RandomBrightness")
        self.value_range = value_range_arg(value_range, "RandomBrightness")

    def _batch(self, x, training):
        low, high = self.value_range
        delta = self.generator().uniform(*self.factor, size=(x.shape[0], 1, 1, 1)) * (high - low)
        return F.clip(x + delta.astype(x.dtype), low, high)

    def get_config(self):
        config = super().get_config()
        config.update(factor=list(self.factor), value_range=list(self.value_range))
        return config


__all__ = ["Rescaling", "Resizing", "CenterCrop", "RandomCrop", "RandomContrast",
           "RandomBrightness", "interpolation_matrix", "resize_images", "aspect_crop_box"]
