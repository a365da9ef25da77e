"""Keras's image utilities: ``array_to_img``, ``img_to_array``, ``save_img``, ``load_img``
(``npgrad.utils`` and ``npgrad.preprocessing.image``) and ``smart_resize``
(``npgrad.preprocessing.image``).

Keras needs Pillow for them; npgrad does not. When Pillow is installed, images are real
``PIL.Image.Image`` objects and every format Pillow knows is read and written, exactly as in
Keras. Without it, ``array_to_img`` and ``load_img`` return an
:class:`npgrad.utils.image_fallback.Image` (the same pixels, ``mode``, ``size``,
``convert``, ``resize``, ``save``, ``np.asarray(image)``) and PNG files are read and written
by :mod:`npgrad.utils.png`; other formats raise ``ImportError`` saying to install Pillow.
Files are written atomically (a temporary name, then renamed).

Example (keras.io's DCGAN):
    >>> img = npgrad.utils.array_to_img(generated_images[i])   # floats, rescaled to 0-255
    >>> img.save("generated_img_%03d_%d.png" % (epoch, i))
    >>> x = npgrad.utils.img_to_array(npgrad.utils.load_img("cat.png", target_size=(64, 64)))
"""

from __future__ import annotations

import functools
import io
import os
import pathlib
import warnings

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.config import floatx, image_data_format
from npgrad.utils.image_fallback import PILLOW_HINT, Image as FallbackImage
from npgrad.utils.png import PNG_SIGNATURE, decode_png

#: the ``interpolation`` names of ``load_img`` (Pillow's filters); without Pillow, npgrad
#: offers the first two
PIL_INTERPOLATION_METHODS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
#: the ``interpolation`` names of ``smart_resize`` (Keras's torch backend)
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


@functools.lru_cache(maxsize=None)
def pillow():
    """The ``PIL.Image`` module, or None when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _data_format(data_format, name):
    if data_format is None:
        return image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(f"{name}: data_format must be 'channels_first' or 'channels_last', "
                         f"got {data_format!r}")
    return value


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Convert a 3-D array (one image) to an image.

    Args:
        x: array-like (H, W, C) (or (C, H, W) with ``data_format="channels_first"``),
            C being 1 (grey), 3 (RGB) or 4 (RGBA).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default
            :func:`npgrad.config.image_data_format`).
        scale: shift and stretch the values so that the smallest is 0 and the largest 255
            (a constant image becomes 0); otherwise the values are cast to uint8 as they are.
        dtype: the dtype the array is first converted to (default
            :func:`npgrad.config.floatx`).

    Returns:
        A ``PIL.Image.Image`` when Pillow is installed, else an npgrad
        :class:`~npgrad.utils.image_fallback.Image`; mode ``"L"``, ``"RGB"`` or
        ``"RGBA"``, or ``"I"`` (32-bit grey) for one channel of values above 255.

    Raises:
        ValueError: not a 3-D array, or a channel count other than 1, 3, 4.
    """
    data_format = _data_format(data_format, "array_to_img")
    x = np.asarray(x, dtype=dtype or floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected image array to have rank 3 (single image), "
                         f"got array with shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x.astype(np.float64) if x.dtype.kind != "f" else x
        x = x - np.min(x)
        largest = np.max(x)
        if largest != 0:
            x /= largest
        x *= 255
    channels = x.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"array_to_img: unsupported channel number {channels} (expected 1, "
                         f"3 or 4), shape {x.shape}")
    if channels == 1:
        pixels = x[:, :, 0].astype("int32") if np.max(x) > 255 else x[:, :, 0].astype("uint8")
    else:
        pixels = x.astype("uint8")
    image_module = pillow()
    if image_module is not None:
        return image_module.fromarray(pixels)
    return FallbackImage(pixels, "I" if pixels.dtype == np.int32 else None)


def img_to_array(img, data_format=None, dtype=None):
    """Convert an image (Pillow's or npgrad's, or anything ``np.asarray`` takes) to a 3-D
    array.

    Args:
        img: the image.
        data_format: ``"channels_last"`` (H, W, C) or ``"channels_first"`` (C, H, W)
            (default :func:`npgrad.config.image_data_format`).
        dtype: the array's dtype (default :func:`npgrad.config.floatx`).

    Returns:
        ndarray of rank 3 (a grey image gets a channel axis of 1).

    Raises:
        ValueError: the image is not 2-D or 3-D.
    """
    data_format = _data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[:, :, None]
    raise ValueError(f"img_to_array: unsupported image shape {x.shape} (expected (H, W) or "
                     f"(H, W, C))")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an array (one image) as an image file.

    A file name is written to a temporary name in the same folder, then renamed: a reader
    never sees half a file.

    Args:
        path: a file name or a binary file object.
        x: the array (see :func:`array_to_img`).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        file_format: ``"png"``, ``"jpeg"``, ... (default: the file name's extension; needed
            for a file object). Without Pillow, PNG only.
        scale: rescale the values to 0-255 (see :func:`array_to_img`).
        **kwargs: passed to Pillow's ``Image.save`` (ignored without Pillow).

    Raises:
        ValueError: no format given and none in the file name.
        ImportError: a format other than PNG without Pillow.
    """
    data_format = _data_format(data_format, "save_img")
    is_name = isinstance(path, (str, os.PathLike))
    if file_format is None and is_name:
        file_format = pathlib.Path(path).suffix[1:].lower()
    if not file_format:
        raise ValueError(f"save_img: cannot tell the image format of {path!r}: give "
                         f"file_format='png' (or 'jpeg', ...) or a file name with an extension")
    file_format = "jpeg" if file_format.lower() == "jpg" else file_format.lower()
    if pillow() is None and file_format != "png":
        raise ImportError(f"save_img: npgrad writes PNG without Pillow, got file_format "
                          f"{file_format!r} ({PILLOW_HINT})")
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    if not is_name:
        img.save(path, format=file_format, **kwargs)
        return
    path = os.fspath(path)
    temp = f"{path}.tmp{os.getpid()}"
    try:
        img.save(temp, format=file_format, **kwargs)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file.

    Args:
        path: a file name (str, bytes or ``pathlib.Path``) or an ``io.BytesIO``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``: the image is converted to it
            (a grey image of mode ``"L"`` or ``"I"`` stays as it is for ``"grayscale"``).
        target_size: ``(height, width)`` to resize to, or None.
        interpolation: the resampling filter when resizing: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"hamming"``, ``"box"``, ``"lanczos"`` (without Pillow: the
            first two).
        keep_aspect_ratio: resize the largest centred crop that has the target's aspect
            ratio, rather than stretching the whole image.

    Returns:
        A ``PIL.Image.Image`` when Pillow is installed, else an npgrad
        :class:`~npgrad.utils.image_fallback.Image`.

    Raises:
        TypeError: ``path`` is neither path-like nor an ``io.BytesIO``.
        ValueError: a bad ``color_mode`` or ``interpolation``; a damaged PNG file (without
            Pillow; the message names the file).
        ImportError: without Pillow, a file that is not a PNG, or a filter other than
            nearest and bilinear.
    """
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(f'load_img: color_mode must be "grayscale", "rgb", or "rgba", got '
                         f'{color_mode!r}')
    image_module = pillow()
    if isinstance(path, io.BytesIO):
        data, name = path.read(), "<io.BytesIO>"
    elif isinstance(path, (pathlib.Path, bytes, str)):
        name = str(path.resolve()) if isinstance(path, pathlib.Path) else path
        with open(name, "rb") as file:
            data = file.read()
        name = os.fsdecode(name)
    else:
        raise TypeError(f"load_img: path should be path-like or io.BytesIO, not {type(path)}")
    if image_module is not None:
        img = image_module.open(io.BytesIO(data))
    elif data[:8] == PNG_SIGNATURE:
        img = FallbackImage(decode_png(data, name=name))
    else:
        raise ImportError(f"load_img: {name} is not a PNG file; npgrad reads PNG files without "
                          f"Pillow, other formats need it ({PILLOW_HINT})")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif img.mode != color_mode.upper():
        img = img.convert(color_mode.upper())
    if target_size is None:
        return img
    width_height = (int(target_size[1]), int(target_size[0]))
    if img.size == width_height:
        return img
    if interpolation not in PIL_INTERPOLATION_METHODS:
        raise ValueError(f"load_img: invalid interpolation method {interpolation!r}; supported "
                         f"methods are {', '.join(PIL_INTERPOLATION_METHODS)}")
    if image_module is None and interpolation not in ("nearest", "bilinear"):
        raise ImportError(f"load_img: interpolation={interpolation!r} needs Pillow "
                          f"({PILLOW_HINT}); without it npgrad offers 'nearest' and 'bilinear'")
    resample = interpolation if image_module is None else \
        getattr(image_module.Resampling, interpolation.upper())
    box = _aspect_crop(img.size, width_height) if keep_aspect_ratio else None
    return img.resize(width_height, resample, box=box)


def _aspect_crop(size, target):
    """The centred crop box (left, upper, right, lower) of ``size`` (w, h) with the aspect
    ratio of ``target`` (w, h), as Keras's ``load_img(keep_aspect_ratio=True)``."""
    width, height = size
    target_width, target_height = target
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return [left, top, left + crop_width, top + crop_height]


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resize images to ``size`` without distorting them: the largest centred crop with the
    target's aspect ratio is taken, then resized (Keras's ``smart_resize``; the resizing is
    that of Keras's torch backend: half-pixel centres, no antialiasing).

    Args:
        x: an image (H, W, C) or a batch (N, H, W, C) (channels first with
            ``data_format="channels_first"``): an array or an npgrad Tensor.
        size: ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (None: the global
            :func:`npgrad.config.image_data_format`).

    Returns:
        The resized images, of ``x``'s dtype (integers rounded), as an npgrad Tensor when
        ``x`` is one, else an ndarray.

    Raises:
        ValueError: ``size`` is not two numbers, ``x`` is not of rank 3 or 4, or an unknown
            interpolation or data format.
    """
    if len(size) != 2:
        raise ValueError(f"smart_resize: expected `size` to be a tuple of 2 integers, got {size}")
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"smart_resize: interpolation must be one of {RESIZE_INTERPOLATIONS}, "
                         f"got {interpolation!r}")
    data_format = _data_format(data_format, "smart_resize")
    image = np.asarray(x)
    if image.ndim not in (3, 4):
        raise ValueError(f"smart_resize: expected an image array with shape (height, width, "
                         f"channels), or (batch_size, height, width, channels), got input "
                         f"with incorrect rank, of shape {image.shape}")
    out = resize_images(image, size, interpolation, data_format, crop_to_aspect_ratio=True)
    return Tensor(out) if isinstance(x, Tensor) else out


def resize_images(images, size, interpolation="bilinear", data_format="channels_last",
                  crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0):
    """Resize an image or a batch of images, as ``keras.ops.image.resize`` on Keras's torch
    backend (half-pixel centres, no antialiasing): arrays in, arrays out.

    Args:
        images: array (H, W, C) or (N, H, W, C) (channels first with
            ``data_format="channels_first"``).
        size: ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        crop_to_aspect_ratio: first take the largest centred crop with the target's aspect
            ratio (:func:`smart_resize`).
        pad_to_aspect_ratio: first pad the image, centred, to the target's aspect ratio.
        fill_value: the value of the padding.

    Returns:
        ndarray of ``images``'s dtype (integer results are rounded).
    """
    image = np.asarray(images)
    rows, cols = (-3, -2) if data_format == "channels_last" else (-2, -1)
    height, width = image.shape[rows], image.shape[cols]
    target_height, target_width = (int(s) for s in size)
    image = np.moveaxis(image, (rows, cols), (0, 1))  # (H, W, ...)
    out = image.astype(np.float64 if image.dtype == np.float64 else np.float32)
    if crop_to_aspect_ratio:
        crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
        crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
        top = int(float(height - crop_height) / 2)
        left = int(float(width - crop_width) / 2)
        out = out[top:top + crop_height, left:left + crop_width]
    elif pad_to_aspect_ratio:  # as Keras's torch backend: the same margin on both sides
        pad_height = max(height, int(float(width * target_height) / target_width))
        pad_width = max(width, int(float(height * target_width) / target_height))
        top = int(float(pad_height - height) / 2)
        left = int(float(pad_width - width) / 2)
        margins = [(top, top), (left, left)] + [(0, 0)] * (out.ndim - 2)
        out = np.pad(out, margins, constant_values=fill_value)
    for axis, new_size in ((1, target_width), (0, target_height)):  # torch's order
        out = _resize_axis(out, axis, new_size, interpolation)
    if image.dtype.kind in "iub":
        if image.dtype == np.uint8 and interpolation == "bicubic":
            out = np.clip(out, 0, 255)
        out = np.round(out)
    return np.moveaxis(out.astype(image.dtype), (0, 1), (rows, cols))


def _resize_axis(x, axis, out_size, interpolation):
    """Resize axis ``axis`` of ``x`` as torch's ``interpolate`` (align_corners=False)."""
    in_size = x.shape[axis]
    if in_size == out_size:
        return x
    # the source positions in the data's precision, as torch computes them
    scale = x.dtype.type(in_size) / x.dtype.type(out_size)
    moved = np.moveaxis(x, axis, 0)
    position = (np.arange(out_size, dtype=x.dtype) + x.dtype.type(0.5)) * scale
    if interpolation == "nearest":  # torch's "nearest-exact"
        index = np.minimum(np.floor(position).astype(np.int64), in_size - 1)
        return np.moveaxis(moved[index], 0, axis)
    position = position - x.dtype.type(0.5)
    if interpolation == "bilinear":
        position = np.maximum(position, 0)
        low = np.minimum(np.floor(position).astype(np.int64), in_size - 1)
        taps = [(low, 1 - (position - low)), (np.minimum(low + 1, in_size - 1), position - low)]
    else:  # bicubic, Keys's kernel with a = -0.75 (torch), edges clamped
        low = np.floor(position).astype(np.int64)
        t = position - low
        a = -0.75
        far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a  # noqa: E731 - 1 <= d < 2
        near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1  # noqa: E731 - d < 1
        weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
        taps = [(np.clip(low + k - 1, 0, in_size - 1), w) for k, w in enumerate(weights)]
    shape = (-1,) + (1,) * (moved.ndim - 1)
    out = sum(moved[index] * weight.astype(x.dtype).reshape(shape) for index, weight in taps)
    return np.moveaxis(out, 0, axis)
