"""A minimal PNG writer (zlib + struct only), used for sample grids when matplotlib is missing.

Example:
    >>> image = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    >>> npgrad.utils.png.write_png("ramp.png", image)
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind, data):
    """One PNG chunk: length, type, data, CRC-32 of type + data (big-endian)."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image):
    """The bytes of a PNG file holding ``image``.

    Args:
        image: uint8 array of shape (H, W) (grayscale), (H, W, 1), (H, W, 3) (RGB) or
            (H, W, 4) (RGBA).

    Returns:
        bytes: signature, IHDR, one IDAT (zlib, filter 0 on every row), IEND.

    Raises:
        TypeError: the array is not uint8.
        ValueError: a shape other than the above, or an empty image.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"write_png: image must be uint8, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    # PNG colour types: 0 grayscale, 2 RGB, 6 RGBA
    if image.ndim == 2:
        color_type = 0
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        color_type = {3: 2, 4: 6}[image.shape[2]]
    else:
        raise ValueError(
            f"write_png: image must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"got {image.shape}"
        )
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"write_png: image is empty (shape {image.shape})")
    rows = np.ascontiguousarray(image).reshape(height, -1)
    # each scanline starts with its filter byte: 0 = None (raw bytes)
    raw = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b""))


def write_png(path, image):
    """Write ``image`` to ``path`` as an 8-bit PNG (see :func:`encode_png` for shapes).

    The file is written to a temporary name next to ``path`` and renamed, so a reader never
    sees half a file.

    Args:
        path: destination file name.
        image: uint8 array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).
    """
    data = encode_png(image)
    path = os.fspath(path)
    temp = f"{path}.tmp{os.getpid()}"
    with open(temp, "wb") as file:
        file.write(data)
    os.replace(temp, path)
