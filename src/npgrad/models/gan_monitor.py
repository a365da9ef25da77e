"""Sample grids for generative models: tile images, save them, and a callback that does both.

Example:
    >>> history = gan.fit(x_train, epochs=10, callbacks=[GANMonitor("runs/gan", every=2)])
    >>> save_image("grid.png", image_grid(gan.generate(64, seed=0)))
"""

from __future__ import annotations

import math
import os

import numpy as np

from npgrad.callbacks import Callback
from npgrad.trainers import arguments

__all__ = ["GANMonitor", "SampleGridCallback", "image_grid", "save_image"]


def image_grid(images, columns=None, value_range=(-1.0, 1.0), padding=1):
    """Tile images into one uint8 picture (row-major), with a black border between tiles.

    Args:
        images: ndarray (N, H, W), (N, H, W, 1) or (N, H, W, 3); values in ``value_range``
            (clipped).
        columns: tiles per row (default ``ceil(sqrt(N))``).
        value_range: (low, high) mapped to 0 and 255.
        padding: pixels between tiles and around the grid.

    Returns:
        uint8 ndarray (rows*(H+p)+p, columns*(W+p)+p) for grayscale, with a trailing axis of
        3 for RGB.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3) \
            or len(images) == 0:
        raise ValueError(
            f"image_grid: expected images (N, H, W[, 1 or 3]), got shape {images.shape}"
        )
    low, high = float(value_range[0]), float(value_range[1])
    if not high > low:
        raise ValueError(
            f"image_grid: value_range must be (low, high) with high > low, got {value_range}"
        )
    n, height, width = images.shape[:3]
    columns = int(columns or math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    scaled = np.clip((images - low) / (high - low), 0.0, 1.0) * 255.0
    scaled = np.round(scaled).astype(np.uint8)
    grid = np.zeros((rows * (height + padding) + padding, columns * (width + padding) + padding)
                    + images.shape[3:], dtype=np.uint8)
    for index in range(n):
        r, c = divmod(index, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top:top + height, left:left + width] = scaled[index]
    return grid


def save_image(path, image):
    """Save a uint8 image (H, W) or (H, W, 3) as PNG: matplotlib if installed, else write_png."""
    try:
        import matplotlib.image
    except ImportError:
        from npgrad.utils.png import write_png

        write_png(path, image)
        return
    if image.ndim == 2:
        matplotlib.image.imsave(path, image, cmap="gray", vmin=0, vmax=255)
    else:
        matplotlib.image.imsave(path, image)


class GANMonitor(Callback):
    """Write a grid of generated samples to a PNG at the end of every ``every`` epochs.

    The same latent vectors (drawn from ``seed``) are used each time, so the grids show how
    the generator's answer to fixed inputs evolves. Images are written with matplotlib when
    it is installed, otherwise with :func:`npgrad.utils.png.write_png`.

    Args:
        directory: folder for the PNGs (created if needed).
        num_images: samples per grid (default 64).
        columns: tiles per row (default ``ceil(sqrt(num_images))``).
        seed: seed of the fixed latent vectors.
        every: write every this many epochs (and always after the last).
        value_range: the generator's output range (default tanh's (-1, 1)).
        filename: pattern with ``{epoch}`` (1-based), default ``"samples_epoch_{epoch:03d}.png"``.

    Attributes:
        paths: the files written so far, in order.
    """

    chief_only = True  # only rank 0 writes in a data-parallel run

    def __init__(self, directory, num_images=64, columns=None, seed=0, every=1,
                 value_range=(-1.0, 1.0), filename="samples_epoch_{epoch:03d}.png"):
        super().__init__()
        self.directory = os.fspath(directory)
        self.num_images = arguments.positive_int(num_images, "num_images", "GANMonitor")
        self.columns = columns
        self.seed = int(seed)
        self.every = arguments.positive_int(every, "every", "GANMonitor")
        self.value_range = value_range
        self.filename = filename
        self.paths = []

    def write(self, epoch):
        """Generate the grid now and save it as epoch ``epoch`` (1-based); return the path."""
        generate = getattr(self.model, "generate", None)
        if generate is None:
            raise TypeError(
                f"GANMonitor: the model must have generate(), got {type(self.model).__name__}"
            )
        grid = image_grid(generate(self.num_images, seed=self.seed), self.columns, self.value_range)
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, self.filename.format(epoch=epoch))
        save_image(path, grid)
        self.paths.append(path)
        return path

    def on_epoch_end(self, epoch, logs=None):
        """Write the grid for this epoch when it is due (every ``every``, and the last)."""
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.write(epoch + 1)


SampleGridCallback = GANMonitor
