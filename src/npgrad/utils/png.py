"""A minimal PNG writer and reader (zlib + struct only), used for sample grids when
matplotlib is missing and by ``npgrad.utils.load_img``/``save_img`` when Pillow is.

The reader takes non-interlaced images of every colour type (grey, RGB, palette, grey with
alpha, RGBA) at 8 bits per sample (grey and palette images also at 1, 2 and 4 bits), with
the five row filters. A damaged file raises ``ValueError`` naming the file and the fault:
a truncated chunk, a bad CRC (checked on the chunks the image is made of: IHDR, PLTE, tRNS,
IDAT; Pillow checks them too, except IDAT's), too little image data. Memory stays bounded:
the sizes in the header are checked before anything is allocated, against
:data:`MAX_IMAGE_PIXELS` (Pillow's decompression-bomb limit) and then against the
compressed data, which is inflated no further than the header says.

Example:
    >>> image = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    >>> npgrad.utils.png.write_png("ramp.png", image)
    >>> np.array_equal(npgrad.utils.png.read_png("ramp.png"), image)
    True
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


def encode_png(image, gray_alpha=False):
    """The bytes of a PNG file holding ``image``.

    Args:
        image: uint8 array of shape (H, W) (grayscale), (H, W, 1), (H, W, 3) (RGB) or
            (H, W, 4) (RGBA).
        gray_alpha: also take (H, W, 2) images, grey and alpha (PNG colour type 4).

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
    elif image.ndim == 3 and (image.shape[2] in (3, 4) or (gray_alpha and image.shape[2] == 2)):
        color_type = {2: 4, 3: 2, 4: 6}[image.shape[2]]
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


def write_png(path, image, gray_alpha=False):
    """Write ``image`` to ``path`` as an 8-bit PNG (see :func:`encode_png` for shapes).

    The file is written to a temporary name next to ``path`` and renamed, so a reader never
    sees half a file.

    Args:
        path: destination file name.
        image: uint8 array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).
        gray_alpha: also take (H, W, 2) images (grey and alpha).
    """
    data = encode_png(image, gray_alpha=gray_alpha)
    path = os.fspath(path)
    temp = f"{path}.tmp{os.getpid()}"
    with open(temp, "wb") as file:
        file.write(data)
    os.replace(temp, path)


# ------------------------------------------------------------------ reading
#: the most pixels :func:`decode_png` accepts: Pillow's decompression-bomb error limit
#: (twice ``PIL.Image.MAX_IMAGE_PIXELS``)
MAX_IMAGE_PIXELS = 2 * 89478485

#: samples per pixel of each colour type: grey, RGB, palette, grey + alpha, RGBA
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: the bit depths the PNG standard allows for each colour type
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
#: the chunks whose CRC is checked: those the pixels are made of
_CHECKED = (b"IHDR", b"PLTE", b"tRNS", b"IDAT")


def read_png(path):
    """Read a PNG file into a uint8 array (see :func:`decode_png`).

    Args:
        path: a file name, or a binary file object.

    Returns:
        uint8 array (H, W), (H, W, 2), (H, W, 3) or (H, W, 4).

    Raises:
        ValueError: the file is not a PNG npgrad can read, or it is damaged (the message
            names the file).
    """
    if hasattr(path, "read"):
        return decode_png(path.read(), name=getattr(path, "name", "<file object>"))
    with open(path, "rb") as file:
        data = file.read()
    return decode_png(data, name=os.fspath(path))


def decode_png(data, name="<PNG bytes>"):
    """Decode the bytes of a PNG file.

    Args:
        data: the bytes of the file.
        name: what the errors call the data (the file name).

    Returns:
        uint8 array: (H, W) for grey images, (H, W, 2) grey and alpha, (H, W, 3) RGB,
        (H, W, 4) RGBA. Palette images are expanded to RGB, or RGBA when they have a
        ``tRNS`` chunk; 1, 2 and 4-bit grey levels are stretched to 0-255 (as Pillow shows
        them). A ``tRNS`` chunk of a grey or RGB image (one transparent colour) is ignored.

    Raises:
        ValueError: not a PNG file; 16-bit samples or Adam7 interlacing (not supported); a
            damaged file: truncated, a bad CRC, sizes out of bounds, corrupt compressed data,
            too little image data, an unknown row filter.
    """
    data = bytes(data)
    if data[:8] != PNG_SIGNATURE:
        raise ValueError(f"decode_png: {name} is not a PNG file (no PNG signature)")
    header, palette, alpha, idat = None, None, None, []
    pos = 8
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError(f"decode_png: {name} is truncated (a chunk header is cut off at "
                             f"byte {pos})")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if not kind.isalpha():
            raise ValueError(f"decode_png: {name} is damaged (bad chunk type {kind!r} at "
                             f"byte {pos})")
        end = pos + 12 + length
        if length > 2**31 - 1 or end > len(data):
            raise ValueError(f"decode_png: {name} is truncated (chunk {kind.decode()} at byte "
                             f"{pos} declares {length} bytes, {max(len(data) - pos - 12, 0)} "
                             f"remain)")
        body = data[pos + 8:pos + 8 + length]
        if kind in _CHECKED:
            (crc,) = struct.unpack(">I", data[end - 4:end])
            if crc != zlib.crc32(kind + body):
                raise ValueError(f"decode_png: {name} is damaged (bad CRC in chunk "
                                 f"{kind.decode()} at byte {pos})")
        if header is None and kind != b"IHDR":
            raise ValueError(f"decode_png: {name} is damaged (the first chunk is "
                             f"{kind.decode()!r}, not IHDR)")
        if kind == b"IHDR":
            if header is not None:
                raise ValueError(f"decode_png: {name} is damaged (two IHDR chunks)")
            header = _parse_header(body, name)
        elif kind == b"PLTE":
            if length % 3 or not 0 < length <= 768:
                raise ValueError(f"decode_png: {name} is damaged (a PLTE chunk of {length} "
                                 f"bytes: expected 3 per colour, 1 to 256 colours)")
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            alpha = np.frombuffer(body, dtype=np.uint8)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos = end
    if header is None:
        raise ValueError(f"decode_png: {name} is truncated (no IHDR chunk)")
    if not idat:
        raise ValueError(f"decode_png: {name} is truncated (no IDAT chunk: no image data)")
    width, height, depth, color_type = header
    channels = _CHANNELS[color_type]
    row_bytes = (width * channels * depth + 7) // 8
    raw = _inflate(idat, height * (1 + row_bytes), name)
    rows = _unfilter(raw, height, row_bytes, max(1, channels * depth // 8), name)
    samples = _unpack(rows, width * channels, depth)
    if color_type == 0 and depth < 8:
        samples = samples * np.uint8(255 // (2**depth - 1))  # 1, 2, 4 bits: 255, 85, 17
    if color_type == 3:
        if palette is None:
            raise ValueError(f"decode_png: {name} is damaged (a palette image without PLTE)")
        table = np.zeros((256, 4), dtype=np.uint8)  # indices past the palette: black (Pillow)
        table[:len(palette), :3] = palette
        table[:, 3] = 255
        if alpha is not None:
            table[:min(len(alpha), 256), 3] = alpha[:256]
        pixels = table[samples.reshape(height, width)]
        return np.ascontiguousarray(pixels if alpha is not None else pixels[..., :3])
    pixels = samples.reshape(height, width, channels)
    return pixels[..., 0] if channels == 1 else pixels


def _parse_header(body, name):
    """(width, height, bit depth, colour type) from an IHDR chunk, every field checked."""
    if len(body) != 13:
        raise ValueError(f"decode_png: {name} is damaged (IHDR has {len(body)} bytes, not 13)")
    width, height, depth, color_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", body)
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise ValueError(f"decode_png: {name} is damaged (image size {width}x{height})")
    if color_type not in _CHANNELS or depth not in _DEPTHS[color_type]:
        raise ValueError(f"decode_png: {name} is damaged (colour type {color_type} with "
                         f"bit depth {depth})")
    if depth == 16:
        raise ValueError(f"decode_png: {name} has 16-bit samples, which npgrad's PNG reader "
                         f"does not support (install Pillow: pip install pillow)")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ValueError(f"decode_png: {name} is damaged (compression {compression}, filter "
                         f"method {filtering}, interlace {interlace}: expected 0, 0, 0 or 1)")
    if interlace:
        raise ValueError(f"decode_png: {name} is interlaced (Adam7), which npgrad's PNG reader "
                         f"does not support (install Pillow: pip install pillow)")
    if width * height > MAX_IMAGE_PIXELS:
        raise ValueError(f"decode_png: {name} declares {width}x{height} = {width * height} "
                         f"pixels, more than MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} (a "
                         f"decompression bomb?)")
    return width, height, depth, color_type


def _inflate(chunks, expected, name):
    """The first ``expected`` bytes the zlib stream split over ``chunks`` inflates to; never
    more (a stream longer than the header says stops there, as Pillow reads it)."""
    inflater = zlib.decompressobj()
    parts, size = [], 0
    try:
        for chunk in chunks:
            if size >= expected:
                break
            part = inflater.decompress(chunk, expected - size)
            parts.append(part)
            size += len(part)
    except zlib.error as error:
        raise ValueError(f"decode_png: {name} is damaged (corrupt image data: {error})") from None
    if size < expected:
        raise ValueError(f"decode_png: {name} is truncated (the image data inflates to {size} "
                         f"bytes, the header needs {expected})")
    return b"".join(parts)


def _unfilter(raw, height, row_bytes, bpp, name):
    """Undo the row filters (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth): (height, row_bytes)."""
    table = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + row_bytes)
    filters, rows = table[:, 0], table[:, 1:].copy()
    if filters.max() > 4:
        row = int(np.argmax(filters > 4))
        raise ValueError(f"decode_png: {name} is damaged (row {row} has filter type "
                         f"{filters[row]}: expected 0 to 4)")
    if not filters.any():
        return rows
    previous = np.zeros(row_bytes, dtype=np.uint8)
    for y in range(height):
        kind, row = filters[y], rows[y]
        if kind == 1:  # Sub: a running sum along the row, per byte of a pixel
            usable = row_bytes - row_bytes % bpp
            row[:usable] = np.cumsum(row[:usable].reshape(-1, bpp), axis=0, dtype=np.uint8).ravel()
        elif kind == 2:  # Up
            row += previous
        elif kind in (3, 4):  # Average, Paeth: each byte needs the one just decoded
            row[:] = _unfilter_sequential(row.tolist(), previous.tolist(), bpp, kind == 4)
        previous = row
    return rows


def _unfilter_sequential(row, above, bpp, paeth):
    """The Average (``paeth`` False) or Paeth filter of one row, byte by byte."""
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up = above[i]
        if not paeth:
            row[i] = (row[i] + ((left + up) >> 1)) & 0xFF
            continue
        corner = above[i - bpp] if i >= bpp else 0
        estimate = left + up - corner
        pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
        predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
        row[i] = (row[i] + predictor) & 0xFF
    return row


def _unpack(rows, count, depth):
    """The first ``count`` samples of each row of ``depth``-bit samples: (height, count)."""
    if depth == 8:
        return rows[:, :count]
    shifts = np.arange(8 - depth, -1, -depth, dtype=np.uint8)
    samples = (rows[:, :, None] >> shifts) & np.uint8(2**depth - 1)
    return samples.reshape(len(rows), -1)[:, :count]
