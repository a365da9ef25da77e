"""A small stand-in for ``PIL.Image.Image``, used by the image utilities when Pillow is
not installed (npgrad itself needs only NumPy and SciPy).

It holds the pixels of an ``"L"``, ``"LA"``, ``"RGB"``, ``"RGBA"`` or ``"I"`` (32-bit grey)
image and offers what Keras's image utilities and keras.io's examples use of a Pillow image:
``mode``, ``size`` (width, height), ``width``, ``height``, ``convert``, ``resize`` (nearest
and bilinear), ``save`` (PNG) and ``np.asarray(image)``. Its conversions and resizing
compute what Pillow computes (the same integer formulas: ITU-R 601-2 luma for grey, the
fixed-point triangle filter for bilinear, with its widening when shrinking, and
premultiplied alpha while resampling RGBA), so an image comes out the same with or
without Pillow.

Example:
    >>> image = Image.fromarray(np.zeros((4, 6, 3), dtype=np.uint8))
    >>> image.size, image.mode
    ((6, 4), 'RGB')
    >>> image.resize((3, 2), Image.BILINEAR).save("small.png")
"""

from __future__ import annotations

import os

import numpy as np

from npgrad.utils.png import encode_png, write_png

#: channels of each mode
MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I": 1}
#: Pillow's resampling filter numbers (``PIL.Image.Resampling``)
RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box",
                  5: "hamming"}
#: Pillow's fixed-point precision in resampling (Resample.c)
_PRECISION_BITS = 32 - 8 - 2

PILLOW_HINT = "install Pillow for it: pip install pillow"


class Image:
    """An image without Pillow: pixels and a mode (see the module's docstring).

    Args:
        pixels: uint8 array (H, W) for ``"L"``, (H, W, 2) for ``"LA"``, (H, W, 3) for
            ``"RGB"``, (H, W, 4) for ``"RGBA"``; int32 (H, W) for ``"I"``.
        mode: the mode (default: from the shape, uint8 pixels).

    Attributes:
        mode: ``"L"``, ``"LA"``, ``"RGB"``, ``"RGBA"`` or ``"I"``.
        size: ``(width, height)``, as Pillow.
        info: a dict, as Pillow's (empty).
    """

    NEAREST = 0
    BILINEAR = 2

    def __init__(self, pixels, mode=None):
        pixels = np.asarray(pixels)
        if mode is None:
            mode = "L" if pixels.ndim == 2 else {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(
                pixels.shape[-1] if pixels.ndim == 3 else 0)
            if mode is None:
                raise ValueError(f"Image: pixels must have shape (H, W) or (H, W, C) with C 1 "
                                 f"to 4, got {pixels.shape}")
        if mode not in MODES:
            raise ValueError(f"Image: mode must be one of {sorted(MODES)} (without Pillow), "
                             f"got {mode!r} for pixels of shape {pixels.shape}")
        if pixels.ndim == 3 and MODES[mode] == 1 and pixels.shape[2] == 1:
            pixels = pixels[:, :, 0]
        expected = (2,) if MODES[mode] == 1 else (3,)
        if pixels.ndim not in expected or (pixels.ndim == 3 and pixels.shape[2] != MODES[mode]) \
                or 0 in pixels.shape:
            raise ValueError(f"Image: mode {mode!r} needs pixels of shape (H, W"
                             f"{'' if MODES[mode] == 1 else f', {MODES[mode]}'}), got "
                             f"{pixels.shape}")
        self._pixels = np.ascontiguousarray(pixels, dtype=np.int32 if mode == "I" else np.uint8)
        self.mode = mode
        self.info = {}

    @classmethod
    def fromarray(cls, array, mode=None):
        """An image of ``array``'s pixels (``PIL.Image.fromarray``)."""
        return cls(array, mode)

    @property
    def size(self):
        """``(width, height)``."""
        return (self._pixels.shape[1], self._pixels.shape[0])

    @property
    def width(self):
        """Width in pixels."""
        return self._pixels.shape[1]

    @property
    def height(self):
        """Height in pixels."""
        return self._pixels.shape[0]

    def __array__(self, dtype=None, copy=None):
        pixels = self._pixels if dtype is None else self._pixels.astype(dtype)
        return pixels.copy() if copy or pixels is self._pixels else pixels

    def __repr__(self):
        return f"<npgrad Image mode={self.mode} size={self.width}x{self.height}>"

    def copy(self):
        """A copy of the image."""
        return Image(self._pixels.copy(), self.mode)

    def convert(self, mode):
        """This image in another mode, by Pillow's rules: grey from colour is
        ``L = (19595 R + 38470 G + 7471 B + 32768) >> 16``; alpha is dropped, or added
        opaque; ``"I"`` values are clipped to 0-255.

        Args:
            mode: ``"L"``, ``"LA"``, ``"RGB"``, ``"RGBA"`` or ``"I"``.
        """
        if mode not in MODES:
            raise ValueError(f"Image.convert: mode must be one of {sorted(MODES)} without "
                             f"Pillow ({PILLOW_HINT}), got {mode!r}")
        if mode == self.mode:
            return self.copy()
        pixels = self._pixels
        if self.mode == "I":
            pixels = np.clip(pixels, 0, 255).astype(np.uint8)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        colour, alpha = pixels[..., :3 if pixels.shape[2] >= 3 else 1], None
        if pixels.shape[2] in (2, 4):
            alpha = pixels[..., -1:]
        if mode in ("L", "LA", "I") and colour.shape[2] == 3:
            weights = np.array([19595, 38470, 7471], dtype=np.int64)
            colour = ((colour.astype(np.int64) @ weights + 0x8000) >> 16)[..., None]
        elif mode in ("RGB", "RGBA") and colour.shape[2] == 1:
            colour = np.repeat(colour, 3, axis=2)
        if mode in ("LA", "RGBA"):
            alpha = np.full(colour.shape[:2] + (1,), 255) if alpha is None else alpha
            colour = np.concatenate([colour, alpha], axis=2)
        return Image(colour.astype(np.int32 if mode == "I" else np.uint8), mode)

    def resize(self, size, resample=None, box=None):
        """This image resampled to ``size``, as Pillow's ``Image.resize``.

        Args:
            size: ``(width, height)``.
            resample: ``Image.NEAREST`` (0) or ``Image.BILINEAR`` (2), or their names
                ``"nearest"``, ``"bilinear"``; None is bilinear (Pillow's default, bicubic,
                needs Pillow).
            box: ``(left, upper, right, lower)``, the region of this image to resample
                (default: all of it).

        Raises:
            ImportError: a filter only Pillow offers (bicubic, lanczos, box, hamming).
            ValueError: a bad size or filter.
        """
        method = _resample_name(resample)
        width, height = _check_size(size)
        # Pillow holds the box in C floats (float32)
        box = (0.0, 0.0, float(self.width), float(self.height)) if box is None else \
            tuple(float(np.float32(b)) for b in box)
        if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]):
            raise ValueError(f"Image.resize: box must be (left, upper, right, lower) with "
                             f"left < right and upper < lower, got {box}")
        if (width, height) == self.size and box == (0, 0, self.width, self.height):
            return self.copy()
        pixels = self._pixels if self._pixels.ndim == 3 else self._pixels[:, :, None]
        if method == "nearest":
            rows = _nearest_index(box[1], box[3], height, self.height)
            cols = _nearest_index(box[0], box[2], width, self.width)
            return Image(self._pixels[rows][:, cols], self.mode)
        premultiply = self.mode in ("LA", "RGBA")
        if premultiply:  # Pillow resamples "RGBa"/"La": colour times alpha, then back
            pixels = _premultiply(pixels)
        out = pixels.astype(np.int64)
        passes = [(1, box[0], box[2], width), (0, box[1], box[3], height)]
        # Pillow 13 resamples the columns first when the image loses more than twice as
        # many rows as columns (each pass rounds to 8 bits, so the order shows)
        if height < self.height and 2 * (self.width - width) < self.height - height:
            passes.reverse()
        for axis, start, stop, size in passes:
            if (size, start, stop) != (out.shape[axis], 0, out.shape[axis]):
                out = _resample_axis(out, axis, start, stop, size, self.mode)
        if premultiply:
            out = _unpremultiply(out)
        out = out.astype(np.int32 if self.mode == "I" else np.uint8)
        return Image(out if self._pixels.ndim == 3 else out[:, :, 0], self.mode)

    def save(self, fp, format=None, **params):  # noqa: A002 - Pillow's argument name
        """Write the image as PNG (other formats need Pillow).

        Args:
            fp: a file name (written to a temporary name, then renamed) or a binary file
                object.
            format: ``"PNG"`` (default: from ``fp``'s extension).
            **params: Pillow's encoder options, ignored.

        Raises:
            ImportError: a format other than PNG.
            ValueError: no format given for a file object, or an ``"I"`` image (32-bit
                grey, which npgrad's PNG writer cannot write).
        """
        if format is None:
            if hasattr(fp, "write"):
                raise ValueError("Image.save: give format='png' to write to a file object "
                                 "(there is no file name to take the format from)")
            format = os.path.splitext(os.fspath(fp))[1][1:]  # noqa: A001
        if str(format).lower() != "png":
            raise ImportError(f"Image.save: npgrad writes PNG only without Pillow, got "
                              f"format {format!r} ({PILLOW_HINT})")
        if self.mode == "I":
            raise ValueError("Image.save: a mode 'I' image (32-bit grey) cannot be written as "
                             f"PNG without Pillow; convert('L') first, or {PILLOW_HINT}")
        if hasattr(fp, "write"):
            fp.write(encode_png(self._pixels, gray_alpha=True))
        else:
            write_png(fp, self._pixels, gray_alpha=True)


def _resample_name(resample):
    """'nearest' or 'bilinear' from a Pillow filter number or a name."""
    if resample is None:
        return "bilinear"
    name = RESAMPLE_NAMES.get(resample, resample) if not isinstance(resample, str) else \
        resample.lower()
    if name in ("nearest", "bilinear"):
        return name
    if name in RESAMPLE_NAMES.values():
        raise ImportError(f"Image.resize: the {name!r} filter needs Pillow ({PILLOW_HINT}); "
                          f"without it npgrad offers 'nearest' and 'bilinear'")
    raise ValueError(f"Image.resize: resample must be Image.NEAREST, Image.BILINEAR or one of "
                     f"{sorted(set(RESAMPLE_NAMES.values()))}, got {resample!r}")


def _check_size(size):
    try:
        width, height = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"Image.resize: size must be (width, height), got {size!r}") from None
    if width < 1 or height < 1:
        raise ValueError(f"Image.resize: size must be positive, got {size!r}")
    return width, height


def _nearest_index(start, stop, out_size, in_size):
    """Pillow's nearest source pixels: ``floor(start + (i + 0.5) * scale)``, the position
    accumulated step by step in doubles as Pillow does (ImagingScaleAffine)."""
    scale = float(np.float32(stop) - np.float32(start)) / out_size
    steps = np.full(out_size, scale)
    steps[0] = start + scale * 0.5
    position = np.cumsum(steps)
    return np.clip(position.astype(np.int64), 0, in_size - 1)


def _resample_axis(pixels, axis, start, stop, out_size, mode):
    """Pillow's bilinear resampling of one axis (Resample.c, 8-bit fixed point): the
    triangle filter, widened by the scale when shrinking, cut at the image's edges and
    renormalised; each output rounded and clipped to 0-255 (``"I"``: not clipped)."""
    in_size = pixels.shape[axis]
    scale = float(np.float32(stop) - np.float32(start)) / out_size
    filter_scale = max(scale, 1.0)
    support = filter_scale  # the triangle's support (1) times the filter scale
    center = start + (np.arange(out_size) + 0.5) * scale
    first = np.maximum((center - support + 0.5).astype(np.int64), 0)
    last = np.minimum((center + support + 0.5).astype(np.int64), in_size)
    taps = int(np.ceil(support)) * 2 + 1
    index = first[:, None] + np.arange(taps)
    weights = np.maximum(1.0 - np.abs((index - center[:, None] + 0.5) / filter_scale), 0.0)
    weights[index >= last[:, None]] = 0.0
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals != 0)
    if mode == "I":  # 32-bit images resample in floating point
        fixed = weights
    else:  # rounded to 22-bit fixed point, as Pillow's normalize_coeffs_8bpc
        fixed = np.floor(weights * (1 << _PRECISION_BITS) + 0.5).astype(np.int64)
    index = np.minimum(index, in_size - 1)
    moved = np.moveaxis(pixels, axis, 0)
    total = sum(moved[index[:, k]] * fixed[:, k].reshape((-1,) + (1,) * (moved.ndim - 1))
                for k in range(taps))
    if mode == "I":
        total = np.floor(total + 0.5).astype(np.int64)  # Pillow rounds to the nearest int
    else:
        total = np.clip((total + (1 << (_PRECISION_BITS - 1))) >> _PRECISION_BITS, 0, 255)
    return np.moveaxis(total, 0, axis)


def _premultiply(pixels):
    """Colour times alpha / 255, rounded as Pillow (``MULDIV255``)."""
    alpha = pixels[..., -1:].astype(np.int64)
    product = pixels[..., :-1].astype(np.int64) * alpha + 128
    colour = ((product >> 8) + product) >> 8
    return np.concatenate([colour, alpha], axis=-1)


def _unpremultiply(pixels):
    """Colour times 255 / alpha, truncated and clipped as Pillow; alpha 0 and 255 kept."""
    alpha = pixels[..., -1:]
    colour = pixels[..., :-1]
    divided = np.clip(255 * colour // np.maximum(alpha, 1), 0, 255)
    colour = np.where((alpha == 0) | (alpha == 255), colour, divided)
    return np.concatenate([colour, alpha], axis=-1)
