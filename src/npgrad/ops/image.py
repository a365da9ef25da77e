"""Image ops, as ``keras.ops.image`` (NHWC images, batched (N, H, W, C) or single (H, W, C)):
resize, colour conversions, padding, cropping, patches.

``resize``, ``rgb_to_grayscale``, ``pad_images``, ``crop_images`` and ``extract_patches`` are
differentiable (gathers and weighted sums); HSV conversions return constants.
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import elementwise, reduce, shape as shape_ops
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import raw, wrap


def _batched(images, name):
    ndim = raw(images).ndim
    if ndim not in (3, 4):
        raise ValueError(f"{name}: images must be (N, H, W, C) or (H, W, C), got shape "
                         f"{raw(images).shape}")
    return (shape_ops.expand_dims(images, 0), True) if ndim == 3 else (images, False)


def _unbatch(out, single):
    return shape_ops.getitem(out, 0) if single else out


def _check_format(name, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{name}: npgrad images are channels_last, got data_format={data_format!r}")


def _source_coordinates(out_size, in_size, method):
    scale = in_size / out_size
    if method == "nearest":
        index = np.floor((np.arange(out_size) + 0.5) * scale).astype(np.intp)
        return np.minimum(index, in_size - 1), None, None
    # half-pixel centres (TensorFlow, torch align_corners=False)
    position = np.maximum((np.arange(out_size) + 0.5) * scale - 0.5, 0)
    low = np.minimum(np.floor(position).astype(np.intp), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    return low, high, position - low


@keras_op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize images to ``size = (height, width)`` (bilinear or nearest, half-pixel centres).

    ``antialias`` and the aspect-ratio options are not supported (the output is stretched).
    """
    _check_format("resize", data_format)
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"resize: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    if antialias or crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError("resize: antialias and the aspect-ratio options are not supported")
    x, single = _batched(images, "resize")
    _, h, w, _ = raw(x).shape
    out = x
    for axis, (in_size, out_size) in ((1, (h, size[0])), (2, (w, size[1]))):
        low, high, frac = _source_coordinates(int(out_size), in_size, interpolation)
        pick = lambda index: shape_ops.getitem(out, (slice(None),) * axis + (index,))  # noqa: E731
        if frac is None:
            out = pick(low)
            continue
        shape = [1, 1, 1, 1]
        shape[axis] = -1
        weight = frac.astype(raw(x).dtype if raw(x).dtype.kind == "f" else np.float32).reshape(shape)
        lower, upper = pick(low), pick(high)
        out = elementwise.add(lower, elementwise.multiply(elementwise.subtract(upper, lower), weight))
    return _unbatch(out, single)


@keras_op
def rgb_to_grayscale(images, data_format=None):
    """Luma (0.2989 R + 0.5870 G + 0.1140 B), keeping a channel axis of 1."""
    _check_format("rgb_to_grayscale", data_format)
    weights = np.array([0.2989, 0.5870, 0.1140], dtype=raw(images).dtype
                       if raw(images).dtype.kind == "f" else np.float32)
    return reduce.sum(elementwise.multiply(images, weights), axis=-1, keepdims=True)


@keras_op
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to HSV in [0, 1] (a constant)."""
    rgb = raw(images).astype(np.float64)
    maximum, minimum = rgb.max(-1), rgb.min(-1)
    delta = maximum - minimum
    safe = np.where(delta == 0, 1, delta)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.where(maximum == r, (g - b) / safe % 6,
                   np.where(maximum == g, (b - r) / safe + 2, (r - g) / safe + 4)) / 6
    hue = np.where(delta == 0, 0, hue)
    saturation = np.where(maximum == 0, 0, delta / np.where(maximum == 0, 1, maximum))
    out = np.stack([hue, saturation, maximum], -1)
    return wrap(out.astype(raw(images).dtype))


@keras_op
def hsv_to_rgb(images, data_format=None):
    """HSV in [0, 1] to RGB in [0, 1] (a constant)."""
    hsv = raw(images).astype(np.float64)
    h, s, v = hsv[..., 0] * 6, hsv[..., 1], hsv[..., 2]
    channel = lambda n: v - v * s * np.clip(np.minimum((n + h) % 6, 4 - (n + h) % 6), 0, 1)  # noqa: E731
    out = np.stack([channel(5), channel(3), channel(1)], -1)
    return wrap(out.astype(raw(images).dtype))


def _amounts(name, first, second, total, size):
    if first is None and second is None:
        raise ValueError(f"{name}: give the padding/cropping or the target size")
    if first is None:
        first = size - second - total if name == "pad_images" else total - second - size
    if second is None:
        second = size - first - total if name == "pad_images" else total - first - size
    if first < 0 or second < 0:
        raise ValueError(f"{name}: the amounts ({first}, {second}) must be non-negative")
    return int(first), int(second)


@keras_op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Pad images with zeros to a target size or by given amounts."""
    _check_format("pad_images", data_format)
    x, single = _batched(images, "pad_images")
    _, h, w, _ = raw(x).shape
    if target_height is None:
        top, bottom = int(top_padding or 0), int(bottom_padding or 0)
    else:
        top, bottom = _amounts("pad_images", top_padding, bottom_padding, h, target_height)
    if target_width is None:
        left, right = int(left_padding or 0), int(right_padding or 0)
    else:
        left, right = _amounts("pad_images", left_padding, right_padding, w, target_width)
    return _unbatch(shape_ops.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))), single)


@keras_op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crop images to a target size or by given amounts."""
    _check_format("crop_images", data_format)
    x, single = _batched(images, "crop_images")
    _, h, w, _ = raw(x).shape
    if target_height is None:
        top, bottom = int(top_cropping or 0), int(bottom_cropping or 0)
    else:
        top, bottom = _amounts("crop_images", top_cropping, bottom_cropping, h, target_height)
    if target_width is None:
        left, right = int(left_cropping or 0), int(right_cropping or 0)
    else:
        left, right = _amounts("crop_images", left_cropping, right_cropping, w, target_width)
    out = shape_ops.getitem(x, (slice(None), slice(top, h - bottom), slice(left, w - right)))
    return _unbatch(out, single)


@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of ``size`` (an int or (ph, pw)) flattened into the channel axis:
    (N, H, W, C) -> (N, OH, OW, ph * pw * C)."""
    _check_format("extract_patches", data_format)
    ph, pw = (size, size) if isinstance(size, int) else tuple(size)
    sh, sw = (ph, pw) if strides is None else ((strides, strides) if isinstance(strides, int)
                                                 else tuple(strides))
    d = int(dilation_rate)
    x, single = _batched(images, "extract_patches")
    _, h, w, c = raw(x).shape
    eh, ew = (ph - 1) * d + 1, (pw - 1) * d + 1
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        pad_h, pad_w = max((oh - 1) * sh + eh - h, 0), max((ow - 1) * sw + ew - w, 0)
        x = shape_ops.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2),
                              (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    elif padding == "valid":
        oh, ow = (h - eh) // sh + 1, (w - ew) // sw + 1
    else:
        raise ValueError(f"extract_patches: padding must be 'valid' or 'same', got {padding!r}")
    rows = (np.arange(oh) * sh)[:, None, None, None] + (np.arange(ph) * d)[None, None, :, None]
    cols = (np.arange(ow) * sw)[None, :, None, None] + (np.arange(pw) * d)[None, None, None, :]
    patches = shape_ops.getitem(x, (slice(None), rows, cols))  # (N, OH, OW, ph, pw, C)
    n = raw(patches).shape[0]
    return _unbatch(shape_ops.reshape(patches, (n, oh, ow, ph * pw * c)), single)


__all__ = [
    "crop_images", "extract_patches", "hsv_to_rgb", "pad_images", "resize", "rgb_to_grayscale",
    "rgb_to_hsv",
]  # fmt: skip
