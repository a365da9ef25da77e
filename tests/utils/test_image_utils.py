"""Image files without Pillow (and with it): the PNG reader, npgrad's stand-in image, and
Keras's array_to_img / img_to_array / save_img / load_img / smart_resize.

Every test of the Pillow-free path runs in the plain environment; the ``backend`` fixture
runs the file tests once without Pillow (npgrad's PNG reader and image) and once with it
when it is installed. Keras's and Pillow's values come from
tests/reference/image_utils/image_utils.npz (tests/reference/make_image_utils_reference.py).

The reader checks the CRC of the chunks the pixels are made of (IHDR, PLTE, tRNS, IDAT;
Pillow checks all but IDAT's) and ignores other chunks' CRCs, as Pillow does for ancillary
chunks it does not read.
"""

import io
import json
import struct
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import npgrad
from npgrad.utils import image_utils, png
from npgrad.utils.image_fallback import Image

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "image_utils" / "image_utils.npz"
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


@pytest.fixture(scope="module")
def ref():
    with np.load(REFERENCE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(params=["npgrad", "pillow"])
def backend(request, monkeypatch):
    """Run a test without Pillow (npgrad's PNG reader and image), then with it."""
    if request.param == "npgrad":
        monkeypatch.setattr(image_utils, "pillow", lambda: None)
    else:
        pytest.importorskip("PIL.Image")
    return request.param


@pytest.fixture
def no_pillow(monkeypatch):
    monkeypatch.setattr(image_utils, "pillow", lambda: None)


# ------------------------------------------------------------------ a PNG writer for tests
def chunk(kind, data, crc=None):
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def paeth(left, up, corner):
    estimate = left + up - corner
    pa, pb, pc = np.abs(estimate - left), np.abs(estimate - up), np.abs(estimate - corner)
    return np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))


def filter_rows(rows, bpp, filters):
    """Apply PNG filter ``filters[y]`` to each row of bytes (the encoder's side)."""
    rows = rows.astype(np.int64)
    out = []
    for y, row in enumerate(rows):
        kind = filters[y % len(filters)]
        up = rows[y - 1] if y else np.zeros_like(row)
        left = np.concatenate([np.zeros(bpp, np.int64), row[:-bpp]])
        corner = np.concatenate([np.zeros(bpp, np.int64), up[:-bpp]])
        predictor = [0, left, up, (left + up) // 2, paeth(left, up, corner)][kind]
        out.append(np.concatenate([[kind], (row - predictor) % 256]))
    return np.array(out, dtype=np.uint8).tobytes()


def make_png(samples, color_type, depth=8, filters=(0,), palette=None, trns=None, idats=1,
             interlace=0, extra=b""):
    """A PNG of ``samples`` (H, W, channels) of ``depth``-bit values, each row filtered."""
    samples = np.asarray(samples)
    samples = samples.reshape(samples.shape[0], samples.shape[1], -1)
    height, width, channels = samples.shape
    flat = samples.reshape(height, width * channels).astype(np.uint8)
    if depth < 8:  # pack the samples, most significant bits first, rows padded
        per_byte = 8 // depth
        padded = np.zeros((height, -(-width * channels // per_byte) * per_byte), np.uint8)
        padded[:, :flat.shape[1]] = flat
        shifts = np.arange(8 - depth, -1, -depth)
        flat = (padded.reshape(height, -1, per_byte) << shifts).sum(axis=2).astype(np.uint8)
    data = zlib.compress(filter_rows(flat, max(1, channels * depth // 8), filters))
    parts = [data[i * len(data) // idats:(i + 1) * len(data) // idats] for i in range(idats)]
    out = png.PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth,
                                                           color_type, 0, 0, interlace))
    out += extra
    if palette is not None:
        out += chunk(b"PLTE", np.asarray(palette, np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    return out + b"".join(chunk(b"IDAT", part) for part in parts) + chunk(b"IEND", b"")


def image_of(channels, height=6, width=7, seed=0):
    shape = (height, width) if channels == 1 else (height, width, channels)
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


# ------------------------------------------------------------------ the PNG reader
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_decode_reads_what_the_encoder_writes(channels):
    image = image_of(channels)
    np.testing.assert_array_equal(png.decode_png(png.encode_png(image, gray_alpha=True)), image)


@given(st.integers(1, 4), st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**16),
       st.lists(st.integers(0, 4), min_size=1, max_size=5), st.integers(1, 3))
def test_decode_inverts_every_filter_and_layout(channels, height, width, seed, filters, idats):
    image = image_of(channels, height, width, seed)
    data = make_png(image, COLOR_TYPES[channels], filters=filters, idats=idats)
    np.testing.assert_array_equal(png.decode_png(data), image)
    np.testing.assert_array_equal(png.decode_png(png.encode_png(image, gray_alpha=True)), image)


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_grey_of_low_bit_depth_is_stretched_to_255(depth):
    levels = np.random.default_rng(depth).integers(0, 2**depth, size=(5, 11))
    data = make_png(levels, 0, depth=depth, filters=(0, 1, 2, 3, 4))
    np.testing.assert_array_equal(png.decode_png(data), levels * (255 // (2**depth - 1)))


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_palette_images_expand_to_rgb_or_rgba(depth):
    rng = np.random.default_rng(depth)
    palette = rng.integers(0, 256, size=(min(2**depth, 5), 3))
    index = rng.integers(0, len(palette), size=(4, 9))
    index[0, 0] = len(palette) if len(palette) < 2**depth else 0  # past the palette: black
    expected = np.vstack([palette, [[0, 0, 0]]])[index]
    rgb = png.decode_png(make_png(index, 3, depth=depth, palette=palette, filters=(1, 4)))
    np.testing.assert_array_equal(rgb, expected)
    rgba = png.decode_png(make_png(index, 3, depth=depth, palette=palette, trns=[0, 128]))
    alpha = np.array([0, 128] + [255] * 254)[index]
    np.testing.assert_array_equal(rgba, np.dstack([expected, alpha]))


def test_read_png_takes_a_path_or_a_file(tmp_path):
    image = image_of(3)
    png.write_png(tmp_path / "a.png", image)
    np.testing.assert_array_equal(png.read_png(tmp_path / "a.png"), image)
    with open(tmp_path / "a.png", "rb") as file:
        np.testing.assert_array_equal(png.read_png(file), image)


def damaged(data, match, name="<PNG bytes>"):
    with pytest.raises(ValueError, match=match) as info:
        png.decode_png(data)
    assert name in str(info.value) and "decode_png" in str(info.value)


def test_every_truncation_is_a_value_error_or_the_whole_image():
    data = make_png(image_of(3, 5, 6), 2, filters=(4,), idats=2)
    iend = data.rindex(b"IEND") - 4
    for cut in range(len(data)):
        if cut == iend:  # everything but IEND: the image is all there, as Pillow reads it
            assert png.decode_png(data[:cut]).shape == (5, 6, 3)
            continue
        with pytest.raises(ValueError, match="truncated|not a PNG|damaged"):
            png.decode_png(data[:cut])


def test_damaged_files_raise_value_errors_naming_the_fault(tmp_path):
    good = make_png(image_of(1), 0)
    damaged(b"GIF89a" + good[6:], "not a PNG file")
    idat = good.index(b"IDAT")
    damaged(good[:idat + 4] + bytes([good[idat + 4] ^ 1]) + good[idat + 5:], "bad CRC in chunk IDAT")
    damaged(good[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 2**31, 1, 8, 0, 0, 0, 0)),
            r"image size 2147483648x1")
    damaged(good[:8] + chunk(b"IHDR", b"\0" * 12), "IHDR has 12 bytes")
    damaged(good[:8] + chunk(b"gAMA", b"\0\0\0\1") + good[8:], "the first chunk is 'gAMA'")
    damaged(good[:8] + good[8:33] + chunk(b"IEND", b""), "no IDAT chunk")
    damaged(good[:8] + struct.pack(">I4s", 2**31 + 5, b"IHDR") + good[16:], "truncated")
    header = lambda *fields: good[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", *fields))  # noqa: E731
    damaged(header(4, 4, 16, 2, 0, 0, 0) + good[33:], "16-bit samples")
    damaged(header(4, 4, 8, 2, 0, 0, 1) + good[33:], r"interlaced \(Adam7\)")
    damaged(header(4, 4, 3, 2, 0, 0, 0) + good[33:], "colour type 2 with bit depth 3")
    damaged(header(4, 4, 8, 0, 1, 0, 0) + good[33:], "compression 1")
    damaged(make_png(np.zeros((2, 2)), 3), "palette image without PLTE")
    damaged(make_png(np.zeros((2, 2)), 3, palette=np.zeros((2, 4))), "PLTE chunk of 8 bytes")
    bad_filter = png.PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(b"\0\1\2\7\3\4")) + chunk(b"IEND", b"")
    damaged(bad_filter, "row 1 has filter type 7")
    garbage = good[:33] + chunk(b"IDAT", b"\x78\x9c not zlib at all") + chunk(b"IEND", b"")
    damaged(garbage, "corrupt image data")
    (tmp_path / "bad.png").write_bytes(good[:40])
    with pytest.raises(ValueError, match="bad.png is truncated"):
        png.read_png(tmp_path / "bad.png")


def test_an_ancillary_chunks_crc_is_not_checked():
    image = image_of(3)
    text = chunk(b"tEXt", b"Comment\0hello", crc=12345)
    data = make_png(image, 2, extra=text)
    np.testing.assert_array_equal(png.decode_png(data), image)
    np.testing.assert_array_equal(png.decode_png(data[:-4] + b"\0\0\0\0"), image)  # IEND's


def test_sizes_are_checked_before_anything_is_allocated():
    huge = png.PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 2**30, 2**30, 8, 6, 0, 0, 0))
    damaged(huge + chunk(b"IDAT", zlib.compress(b"\0" * 100)), "MAX_IMAGE_PIXELS")
    # the header promises more than the data holds: too little image data
    small = make_png(image_of(1, 4, 4), 0)
    claims = small[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 4000, 8, 0, 0, 0, 0)) \
        + small[33:]
    damaged(claims, "inflates to 20 bytes, the header needs 16004000")


def test_inflating_stops_at_what_the_header_needs():
    bomb = zlib.compress(b"\0" * 50_000_000, 9)  # 50 MB of zeros in about 50 KB
    data = png.PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", bomb) + chunk(b"IEND", b"")
    start = time.perf_counter()
    np.testing.assert_array_equal(png.decode_png(data), np.zeros((2, 3), np.uint8))
    assert time.perf_counter() - start < 1.0


@given(st.lists(st.tuples(st.integers(8, 200), st.integers(0, 255)), min_size=1, max_size=4))
def test_corrupted_bytes_give_a_value_error_or_an_image(flips):
    data = bytearray(make_png(image_of(4, 5, 5), 6, filters=(1, 3)))
    for position, value in flips:
        data[position % len(data)] = value
    try:
        out = png.decode_png(bytes(data))
    except ValueError as error:
        assert str(error).startswith("decode_png: <PNG bytes>")
    else:
        assert out.dtype == np.uint8


# ------------------------------------------------------------------ npgrad's image
def test_fallback_image_basics():
    pixels = image_of(3, 4, 6)
    img = Image(pixels)
    assert (img.mode, img.size, img.width, img.height) == ("RGB", (6, 4), 6, 4)
    assert repr(img) == "<npgrad Image mode=RGB size=6x4>"
    np.testing.assert_array_equal(np.asarray(img), pixels)
    assert np.asarray(img, dtype=np.float32).dtype == np.float32
    assert Image(pixels[:, :, :1]).mode == "L" and Image(pixels[:, :, 0], "I").mode == "I"
    with pytest.raises(ValueError, match="needs pixels of shape"):
        Image(pixels, "RGBA")
    with pytest.raises(ValueError, match="mode must be one of"):
        Image(pixels, "CMYK")


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_fallback_image_computes_what_pillow_computes(ref, mode):
    img = Image(ref[f"pil/{mode}"], mode)
    for key in ref:
        if key.startswith(f"pil/{mode}/") and not key.endswith("/args") and "convert" not in key:
            args = json.loads(str(ref[key + "/args"]))
            out = img.resize(tuple(args["size"]), args["resample"], box=args["box"])
            np.testing.assert_array_equal(np.asarray(out), ref[key], err_msg=key)
    for target in ("L", "LA", "RGB", "RGBA"):
        np.testing.assert_array_equal(np.asarray(img.convert(target)),
                                      ref[f"pil/{mode}/convert_{target}"])


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA"])
def test_fallback_resize_matches_live_pillow(mode):
    pil = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(3)
    for _ in range(20):
        height, width = rng.integers(2, 30, size=2)
        pixels = image_of({"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode], height, width,
                          int(rng.integers(1000)))
        size = tuple(int(s) for s in rng.integers(1, 40, size=2))
        for resample in (0, 2):
            expected = np.asarray(pil.fromarray(pixels, mode).resize(size, resample))
            np.testing.assert_array_equal(np.asarray(Image(pixels, mode).resize(size, resample)),
                                          expected)


def test_fallback_image_errors(tmp_path):
    img = Image(image_of(3))
    with pytest.raises(ImportError, match="pip install pillow"):
        img.resize((3, 3), "bicubic")
    with pytest.raises(ValueError, match="resample must be"):
        img.resize((3, 3), "sharpest")
    with pytest.raises(ValueError, match="size must be"):
        img.resize((0, 3))
    with pytest.raises(ValueError, match="box must be"):
        img.resize((3, 3), box=(4, 0, 2, 3))
    with pytest.raises(ImportError, match="pip install pillow"):
        img.save(tmp_path / "a.jpg")
    with pytest.raises(ValueError, match="format='png'"):
        img.save(io.BytesIO())
    with pytest.raises(ValueError, match="mode 'I'"):
        Image(np.full((2, 2), 1000), "I").save(tmp_path / "i.png")
    with pytest.raises(ValueError, match="mode must be one of"):
        img.convert("P")


def test_fallback_save_writes_png_atomically(tmp_path):
    pixels = image_of(2)
    Image(pixels, "LA").save(tmp_path / "a.png")
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
    np.testing.assert_array_equal(png.read_png(tmp_path / "a.png"), pixels)
    buffer = io.BytesIO()
    Image(pixels[..., 0]).save(buffer, format="PNG")
    np.testing.assert_array_equal(png.decode_png(buffer.getvalue()), pixels[..., 0])


# ------------------------------------------------------------------ Keras's functions
@pytest.mark.parametrize("channels, color_mode", [(1, "grayscale"), (3, "rgb"), (4, "rgba")])
def test_array_png_file_array_round_trip(tmp_path, backend, channels, color_mode):
    pixels = image_of(channels, 5, 8).reshape(5, 8, channels)
    npgrad.utils.save_img(tmp_path / "x.png", pixels, scale=False)
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]
    img = npgrad.utils.load_img(tmp_path / "x.png", color_mode=color_mode)
    assert img.size == (8, 5)
    array = npgrad.utils.img_to_array(img)
    assert array.dtype == np.float32 and array.shape == (5, 8, channels)
    np.testing.assert_array_equal(array, pixels)


@pytest.mark.parametrize("path_type", [str, Path, bytes, "bytesio"])
def test_load_img_takes_keras_path_types(tmp_path, backend, path_type):
    pixels = image_of(3)
    png.write_png(tmp_path / "x.png", pixels)
    path = tmp_path / "x.png"
    if path_type == "bytesio":
        source = io.BytesIO(path.read_bytes())
    else:
        source = path_type(str(path).encode()) if path_type is bytes else path_type(str(path))
    np.testing.assert_array_equal(np.asarray(npgrad.utils.load_img(source)), pixels)
    with pytest.raises(TypeError, match="path-like or io.BytesIO"):
        npgrad.utils.load_img(3)


def test_palette_and_grey_alpha_files_load_in_every_colour_mode(tmp_path, backend):
    rng = np.random.default_rng(1)
    palette = rng.integers(0, 256, size=(6, 3))
    index = rng.integers(0, 6, size=(4, 5))
    (tmp_path / "p.png").write_bytes(make_png(index, 3, palette=palette, trns=[0, 90, 255]))
    load = lambda mode, name="p.png": np.asarray(  # noqa: E731
        npgrad.utils.load_img(tmp_path / name, color_mode=mode))
    rgb = palette[index]
    alpha = np.array([0, 90, 255, 255, 255, 255])[index]
    luma = (rgb.astype(np.int64) @ [19595, 38470, 7471] + 0x8000) >> 16  # Pillow's "L"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow: "convert to RGBA"
        np.testing.assert_array_equal(load("rgb"), rgb)
        np.testing.assert_array_equal(load("rgba"), np.dstack([rgb, alpha]))
        np.testing.assert_array_equal(load("grayscale"), luma)
    grey_alpha = image_of(2)
    png.write_png(tmp_path / "la.png", grey_alpha, gray_alpha=True)
    np.testing.assert_array_equal(load("grayscale", "la.png"), grey_alpha[..., 0])
    np.testing.assert_array_equal(load("rgba", "la.png")[..., 3], grey_alpha[..., 1])
    np.testing.assert_array_equal(load("rgb", "la.png"), np.repeat(grey_alpha[..., :1], 3, 2))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
def test_load_img_target_size_as_pillow(tmp_path, ref, backend, interpolation, keep_aspect_ratio):
    pixels = ref["pil/RGBA"]
    png.write_png(tmp_path / "x.png", pixels)
    img = npgrad.utils.load_img(tmp_path / "x.png", color_mode="rgba", target_size=(3, 4),
                                interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio)
    assert img.size == (4, 3)
    box = [0, 0, 9, 6] if keep_aspect_ratio else None  # Keras's 4:3 crop of the 9x7 image
    resample = {"nearest": 0, "bilinear": 2}[interpolation]
    expected = Image(pixels).resize((4, 3), resample, box=box)  # checked against Pillow above
    np.testing.assert_array_equal(np.asarray(img), np.asarray(expected))
    if not keep_aspect_ratio:  # Pillow's own result, stored
        np.testing.assert_array_equal(np.asarray(img), ref[f"pil/RGBA/down_{interpolation}"])


def test_load_img_errors(tmp_path, no_pillow):
    png.write_png(tmp_path / "x.png", image_of(3))
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        npgrad.utils.load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="invalid interpolation method 'cubic'"):
        npgrad.utils.load_img(tmp_path / "x.png", target_size=(2, 2), interpolation="cubic")
    with pytest.raises(ImportError, match="pip install pillow"):
        npgrad.utils.load_img(tmp_path / "x.png", target_size=(2, 2), interpolation="bicubic")
    (tmp_path / "x.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    with pytest.raises(ImportError, match="not a PNG file.*pip install pillow"):
        npgrad.utils.load_img(tmp_path / "x.jpg")
    (tmp_path / "cut.png").write_bytes(png.encode_png(image_of(3))[:60])
    with pytest.raises(ValueError, match="cut.png is truncated"):
        npgrad.utils.load_img(tmp_path / "cut.png")
    # the size asked for is the image's: nothing to resample, any filter name passes
    assert npgrad.utils.load_img(tmp_path / "x.png", target_size=(6, 7),
                                 interpolation="lanczos").size == (7, 6)


@pytest.mark.parametrize("case", ["scaled_rgb", "scaled_gray", "unscaled_rgba", "first_rgb"])
def test_array_to_img_as_keras(ref, backend, case):
    kwargs = json.loads(str(ref[f"keras/array_to_img/{case}/args"]))
    img = npgrad.utils.array_to_img(ref[f"keras/array_to_img/{case}/x"], **kwargs)
    np.testing.assert_array_equal(np.asarray(img), ref[f"keras/array_to_img/{case}/y"])


def test_array_to_img_scaling_and_modes(backend):
    x = np.array([[[-1.0], [0.0]], [[0.5], [1.0]]])
    np.testing.assert_array_equal(np.asarray(npgrad.utils.array_to_img(x)),
                                  [[0, 127], [191, 255]])  # (x + 1) / 2 * 255, truncated
    np.testing.assert_array_equal(np.asarray(npgrad.utils.array_to_img(np.full((2, 2, 3), 7.0))), 0)
    big = npgrad.utils.array_to_img(np.full((2, 3, 1), 1000.0), scale=False)
    assert big.mode == "I" and np.asarray(big).dtype == np.int32 and np.asarray(big)[0, 0] == 1000
    ints = npgrad.utils.array_to_img(np.arange(12).reshape(2, 2, 3), dtype="int32")
    assert np.asarray(ints).max() == 255 and np.asarray(ints).min() == 0
    assert npgrad.utils.array_to_img(np.zeros((3, 2, 4)), data_format="channels_first").size == (4, 2)
    with pytest.raises(ValueError, match="rank 3"):
        npgrad.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unsupported channel number 2"):
        npgrad.utils.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="data_format must be"):
        npgrad.utils.array_to_img(np.zeros((2, 2, 3)), data_format="nhwc")


def test_img_to_array_layouts(backend):
    img = npgrad.utils.array_to_img(image_of(3, 4, 5), scale=False)
    assert npgrad.utils.img_to_array(img).shape == (4, 5, 3)
    first = npgrad.utils.img_to_array(img, data_format="channels_first", dtype="uint8")
    assert first.shape == (3, 4, 5) and first.dtype == np.uint8
    grey = npgrad.utils.array_to_img(image_of(1, 4, 5)[..., None])
    assert npgrad.utils.img_to_array(grey).shape == (4, 5, 1)
    assert npgrad.utils.img_to_array(grey, data_format="channels_first").shape == (1, 4, 5)
    with pytest.raises(ValueError, match="unsupported image shape"):
        npgrad.utils.img_to_array(np.zeros(3))


def test_save_img_formats(tmp_path, backend):
    x = image_of(4, 3, 3)
    buffer = io.BytesIO()
    npgrad.utils.save_img(buffer, x, file_format="png", scale=False)
    np.testing.assert_array_equal(png.decode_png(buffer.getvalue()), x)
    with pytest.raises(ValueError, match="cannot tell the image format"):
        npgrad.utils.save_img(tmp_path / "noext", x)
    npgrad.utils.save_img(str(tmp_path / "first.PNG"), np.moveaxis(x, 2, 0),
                          data_format="channels_first", scale=False)
    np.testing.assert_array_equal(png.read_png(tmp_path / "first.PNG"), x)
    if backend == "npgrad":
        with pytest.raises(ImportError, match="pip install pillow"):
            npgrad.utils.save_img(tmp_path / "x.jpg", x)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["first.PNG"]
    else:
        with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
            npgrad.utils.save_img(tmp_path / "x.jpg", x)
        assert npgrad.utils.load_img(tmp_path / "x.jpg").size == (3, 3)


def test_the_dcgan_and_pixelcnn_idioms_write_pngs(tmp_path, backend):
    generated = np.random.default_rng(0).uniform(-1, 1, size=(6, 6, 1)).astype(np.float32)
    npgrad.utils.array_to_img(generated).save(str(tmp_path / "generated_img_000_0.png"))
    pixels = png.read_png(tmp_path / "generated_img_000_0.png")
    assert pixels.shape == (6, 6) and pixels.min() == 0 and pixels.max() == 255
    # keras.io's PixelCNN: a 0/1 picture stacked to RGB, uint8, through preprocessing.image
    picture = (np.random.default_rng(1).random((7, 7)) > 0.5).astype(np.float32)
    rgb = np.clip(np.stack((picture, picture, picture), 2) * 255.0, 0, 255).astype("uint8")
    npgrad.preprocessing.image.save_img(str(tmp_path / "generated_image_0.png"), rgb)
    np.testing.assert_array_equal(png.read_png(tmp_path / "generated_image_0.png"), rgb)


# ------------------------------------------------------------------ smart_resize
def test_smart_resize_matches_keras(ref):
    cases = sorted({key.split("/")[1] for key in ref if key.startswith("smart/")})
    assert len(cases) == 8
    for case in cases:
        x, expected = ref[f"smart/{case}/x"], ref[f"smart/{case}/y"]
        out = npgrad.preprocessing.image.smart_resize(x, **json.loads(str(ref[f"smart/{case}/args"])))
        assert out.shape == expected.shape and out.dtype == expected.dtype, case
        if x.dtype == np.uint8:  # rounded halves may fall either way (float32 sums)
            assert np.abs(out.astype(int) - expected).max() <= 1, case
        else:
            np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4, err_msg=case)


def test_smart_resize_crops_the_centre_and_keeps_tensors():
    x = np.arange(2 * 8 * 3, dtype=np.float32).reshape(2, 8, 3)
    out = npgrad.preprocessing.image.smart_resize(x, (2, 2), interpolation="nearest")
    np.testing.assert_array_equal(out, x[:, 3:5])  # the centred 2x2 crop, not resampled
    tensor = npgrad.preprocessing.image.smart_resize(npgrad.Tensor(x), (2, 2))
    assert isinstance(tensor, npgrad.Tensor) and tensor.shape == (2, 2, 3)
    with pytest.raises(ValueError, match="tuple of 2 integers"):
        npgrad.preprocessing.image.smart_resize(x, (2,))
    with pytest.raises(ValueError, match="incorrect rank"):
        npgrad.preprocessing.image.smart_resize(x[0], (2, 2))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        npgrad.preprocessing.image.smart_resize(x, (2, 2), interpolation="lanczos3")


def test_resize_images_pads_and_crops_as_keras_ops(ref):
    cases = sorted({key.split("/")[1] for key in ref if key.startswith("resize/")})
    assert len(cases) == 4
    for case in cases:
        kwargs = json.loads(str(ref[f"resize/{case}/args"]))
        out = image_utils.resize_images(ref[f"resize/{case}/x"], **kwargs)
        np.testing.assert_allclose(out, ref[f"resize/{case}/y"], rtol=1e-5, atol=1e-4,
                                   err_msg=case)


# ------------------------------------------------------------------ image_dataset_from_directory
@pytest.fixture
def image_folder(tmp_path):
    """class_a: 3 images, class_b: 2 (one in a nested folder), plus files to ignore."""
    root = tmp_path / "images"
    sizes = {"class_a/a0.png": (6, 8), "class_a/a1.png": (8, 6), "class_a/A2.PNG": (5, 5),
             "class_b/b0.png": (4, 10), "class_b/deep/b1.png": (7, 7)}
    for i, (name, (h, w)) in enumerate(sizes.items()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        png.write_png(root / name, image_of(3, h, w, seed=i))
    (root / "class_a" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    png.write_png(root / ".hidden" / "x.png", image_of(3))
    return root


def test_image_dataset_lists_labels_and_batches(image_folder, backend, capsys):
    ds = npgrad.utils.image_dataset_from_directory(image_folder, image_size=(4, 4), batch_size=2,
                                                   shuffle=False)
    assert capsys.readouterr().out == "Found 5 files belonging to 2 classes.\n"
    assert ds.class_names == ["class_a", "class_b"] and len(ds) == 3
    names = [Path(p).relative_to(image_folder).as_posix() for p in ds.file_paths]
    assert names == ["class_a/A2.PNG", "class_a/a0.png", "class_a/a1.png", "class_b/b0.png",
                     "class_b/deep/b1.png"]
    images, labels = ds[0]
    assert images.shape == (2, 4, 4, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and labels.tolist() == [0, 0]
    expected = image_utils.resize_images(png.read_png(ds.file_paths[1]).astype(np.float32), (4, 4))
    np.testing.assert_allclose(images[1], expected, rtol=1e-6)
    last_images, last_labels = ds[-1]
    assert last_images.shape == (1, 4, 4, 3) and last_labels.tolist() == [1]
    assert [len(x) for x, _ in ds] == [2, 2, 1]
    with pytest.raises(IndexError):
        ds[3]


def test_image_dataset_label_modes_and_layouts(image_folder, no_pillow):
    make = lambda **kw: npgrad.utils.image_dataset_from_directory(  # noqa: E731
        image_folder, image_size=(3, 5), shuffle=False, verbose=False, **{"batch_size": 5, **kw})
    _, onehot = make(label_mode="categorical")[0]
    np.testing.assert_array_equal(onehot, np.eye(2, dtype=np.float32)[[0, 0, 0, 1, 1]])
    _, binary = make(label_mode="binary")[0]
    assert binary.shape == (5, 1) and binary.dtype == np.float32
    assert binary[:, 0].tolist() == [0, 0, 0, 1, 1]
    images = make(label_mode=None)[0]
    assert isinstance(images, np.ndarray) and images.shape == (5, 3, 5, 3)
    grey, _ = make(color_mode="grayscale", data_format="channels_first")[0]
    assert grey.shape == (5, 1, 3, 5)
    assert make(color_mode="rgba", crop_to_aspect_ratio=True)[0][0].shape == (5, 3, 5, 4)
    assert make(pad_to_aspect_ratio=True, interpolation="nearest")[0][0].shape == (5, 3, 5, 3)
    only_b = make(class_names=["class_b"])
    assert only_b.class_names == ["class_b"] and len(only_b.file_paths) == 2
    flat = npgrad.utils.image_dataset_from_directory(image_folder / "class_a", labels=[3, 1, 3],
                                                     image_size=4, shuffle=False, verbose=False)
    assert flat.class_names == ["1", "3"] and flat[0][1].tolist() == [3, 1, 3]
    single = make(batch_size=None)
    assert len(single) == 5 and single[4][0].shape == (3, 5, 3) and single[4][1] == 1


def test_image_dataset_shuffles_and_splits_as_keras(image_folder, no_pillow):
    kwargs = dict(image_size=(4, 4), seed=7, validation_split=0.4, verbose=False)
    train, val = npgrad.utils.image_dataset_from_directory(image_folder, subset="both", **kwargs)
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2
    assert sorted(train.file_paths + val.file_paths) == sorted(
        npgrad.utils.image_dataset_from_directory(image_folder, shuffle=False,
                                                  verbose=False).file_paths)
    again = npgrad.utils.image_dataset_from_directory(image_folder, subset="validation", **kwargs)
    assert again.file_paths == val.file_paths and not val.shuffle and train.shuffle
    labels = {p: int("class_b" in p) for p in train.file_paths}
    first = [(x.copy(), y.copy()) for x, y in train]
    assert [y.tolist() for _, y in first] == [[labels[p] for p in train.file_paths]]
    second = list(train)  # the next pass is reshuffled: the same images in another order
    assert sorted(second[0][1].tolist()) == sorted(first[0][1].tolist())
    try:
        from keras.src.utils import dataset_utils
    except ImportError:
        return
    paths, keras_labels, names = dataset_utils.index_directory(
        str(image_folder), "inferred", formats=(".bmp", ".gif", ".jpeg", ".jpg", ".png"),
        shuffle=True, seed=7, verbose=False)
    keras_val, _ = dataset_utils.get_training_or_validation_split(paths, keras_labels, 0.4,
                                                                   "validation")
    assert val.file_paths == keras_val and names == train.class_names


def test_image_dataset_trains_a_model(image_folder, no_pillow):
    ds = npgrad.utils.image_dataset_from_directory(image_folder, image_size=(4, 4), batch_size=2,
                                                   seed=1, verbose=False)
    model = npgrad.Sequential([npgrad.Input((4, 4, 3)), npgrad.layers.Rescaling(1 / 255),
                               npgrad.layers.Flatten(), npgrad.layers.Dense(2)])
    model.compile(optimizer="adam", loss=npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, validation_data=ds, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert model.predict(ds, verbose=0).shape == (5, 2)


def test_image_dataset_errors(image_folder, tmp_path, no_pillow):
    make = lambda **kw: npgrad.utils.image_dataset_from_directory(  # noqa: E731
        image_folder, verbose=False, **kw)
    with pytest.raises(ValueError, match="give a `seed`"):
        make(validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="`validation_split` must be set"):
        make(subset="training")
    with pytest.raises(ValueError, match="needs exactly 2 classes"):
        make(label_mode="binary", class_names=["class_a"])
    with pytest.raises(ValueError, match="do not match the subfolders"):
        make(class_names=["class_c"])
    with pytest.raises(ValueError, match="interpolation"):
        make(interpolation="lanczos3")
    with pytest.raises(ValueError, match="`labels` should be"):
        make(labels="folders")
    with pytest.raises(ValueError, match="lengths of `labels`"):
        make(labels=[0, 1])
    with pytest.raises(ValueError, match="only one of"):
        make(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images found"):
        npgrad.utils.image_dataset_from_directory(tmp_path / "empty", verbose=False)
    (image_folder / "class_b" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(ImportError, match="pip install pillow"):
        make()
