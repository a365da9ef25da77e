"""The built-in PNG writer (decoded back by hand), image grids and the GANMonitor callback."""

import struct
import zlib

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from npgrad.models.gan import GAN, GANMonitor, image_grid
from npgrad.utils.png import PNG_SIGNATURE, encode_png, write_png


def read_png(data):
    """Decode an 8-bit, non-interlaced PNG with filter 0 rows: (header fields, pixels)."""
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, color, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1])
    channels = {0: 1, 2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * channels)
    assert np.all(rows[:, 0] == 0)  # filter type None on every row
    pixels = rows[:, 1:].reshape(height, width, channels)
    header = dict(width=width, height=height, depth=depth, color=color,
                  compression=compression, filtering=filtering, interlace=interlace)
    return header, pixels


@pytest.mark.parametrize("shape, color", [((5, 7), 0), ((5, 7, 1), 0), ((4, 3, 3), 2),
                                          ((2, 6, 4), 6)])
def test_write_png_round_trips_pixels(tmp_path, shape, color):
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path / "image.png"
    write_png(path, image)
    header, pixels = read_png(path.read_bytes())
    assert header == dict(width=shape[1], height=shape[0], depth=8, color=color,
                          compression=0, filtering=0, interlace=0)
    np.testing.assert_array_equal(pixels.reshape(image.shape), image)
    assert [p.name for p in tmp_path.iterdir()] == ["image.png"]


def test_write_png_rejects_bad_images(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        encode_png(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        encode_png(np.zeros((2, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="empty"):
        encode_png(np.zeros((0, 3), dtype=np.uint8))


def test_image_grid_layout_and_scaling():
    images = np.stack([np.full((2, 3, 1), value) for value in (-1.0, 0.0, 1.0)])
    grid = image_grid(images, columns=2, value_range=(-1, 1), padding=1)
    # 2 rows x 2 columns of 2x3 tiles with 1-pixel borders
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[1:3, 1:4], 0)      # -1 -> 0
    np.testing.assert_array_equal(grid[1:3, 5:8], 128)    # 0 -> 127.5 rounds to 128
    np.testing.assert_array_equal(grid[4:6, 1:4], 255)    # 1 -> 255
    np.testing.assert_array_equal(grid[4:6, 5:8], 0)      # the empty fourth tile
    assert grid[0].max() == 0 and grid[:, 0].max() == 0   # borders
    rgb = image_grid(np.zeros((4, 2, 2, 3)), value_range=(0, 1))
    assert rgb.shape == (7, 7, 3)
    with pytest.raises(ValueError, match="expected images"):
        image_grid(np.zeros((4, 10)))


def test_gan_monitor_writes_a_grid_every_epoch(tmp_path):
    npgrad.utils.set_random_seed(0)
    generator = npgrad.Sequential([npgrad.Input(shape=(3,)), L.Dense(16, activation="tanh"),
                                   L.Reshape((4, 4, 1))])
    discriminator = npgrad.Sequential([npgrad.Input(shape=(4, 4, 1)), L.Flatten(), L.Dense(1)])
    gan = GAN(generator, discriminator, latent_dim=3)
    gan.compile()
    monitor = GANMonitor(tmp_path / "grids", num_images=6, columns=3, seed=1)
    gan.fit(np.zeros((16, 4, 4, 1), np.float32), epochs=2, batch_size=8, verbose=0,
            callbacks=[monitor])
    assert [p.rsplit("/", 1)[-1] for p in monitor.paths] == ["samples_epoch_001.png",
                                                            "samples_epoch_002.png"]
    with open(monitor.paths[-1], "rb") as file:
        data = file.read()
    assert data[:8] == PNG_SIGNATURE
    try:  # decode ours; matplotlib's PNG may use other filters, so only check its size then
        import matplotlib  # noqa: F401
    except ImportError:
        header, pixels = read_png(data)
        expected = image_grid(gan.generate(6, seed=1), columns=3)
        np.testing.assert_array_equal(pixels[..., 0], expected)
    else:
        (width, height) = struct.unpack(">II", data[16:24])
        assert (height, width) == (2 * 5 + 1, 3 * 5 + 1)
