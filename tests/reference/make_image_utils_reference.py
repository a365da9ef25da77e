"""Regenerate tests/reference/image_utils/image_utils.npz: what Keras 3 and Pillow compute for
the image utilities, so tests/utils/test_image_utils.py checks npgrad's Pillow-free path
without either installed.

Run where Keras 3 and Pillow are installed (Keras on its PyTorch backend):

    KERAS_BACKEND=torch /work/refenv/bin/python tests/reference/make_image_utils_reference.py

Stored (Keras 3.15.1, torch 2.13, Pillow 13.0.0):

- ``smart/<case>/x``, ``smart/<case>/y``: ``keras.preprocessing.image.smart_resize(x,
  size, interpolation, data_format)``, the arguments in ``smart/<case>/args`` (JSON text).
- ``pil/<mode>``: a small image of each mode (uint8 pixels, random); ``pil/<mode>/<case>``
  what Pillow's ``Image.fromarray(pixels, mode).resize(size, filter, box=box)`` returns, the
  arguments in ``pil/<mode>/<case>/args``; ``pil/<mode>/convert_<mode2>`` what
  ``convert(mode2)`` returns.
- ``keras/array_to_img/<case>``: ``np.asarray(keras.utils.array_to_img(x, ...))``.
- ``resize/<case>/x``, ``resize/<case>/y``: ``keras.ops.image.resize(x, size, ...)`` with
  ``pad_to_aspect_ratio`` or ``crop_to_aspect_ratio`` (what ``image_dataset_from_directory``
  resizes with), the arguments in ``resize/<case>/args``.
"""

import io
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from PIL import Image  # noqa: E402

OUT = Path(__file__).resolve().parent / "image_utils" / "image_utils.npz"

SMART_CASES = [
    # (name, shape, dtype, size, interpolation, data_format)
    ("wide_bilinear", (5, 9, 2), "float32", (3, 3), "bilinear", "channels_last"),
    ("tall_nearest", (9, 4, 1), "float32", (4, 4), "nearest", "channels_last"),
    ("batch_bicubic", (2, 6, 8, 3), "float32", (5, 4), "bicubic", "channels_last"),
    ("up_bilinear", (3, 4, 2), "float64", (7, 9), "bilinear", "channels_last"),
    ("first_bilinear", (2, 7, 5), "float32", (4, 6), "bilinear", "channels_first"),
    ("first_batch_nearest", (2, 1, 6, 6), "float32", (4, 3), "nearest", "channels_first"),
    ("uint8_bilinear", (6, 10, 3), "uint8", (4, 4), "bilinear", "channels_last"),
    ("uint8_bicubic", (8, 8, 1), "uint8", (5, 7), "bicubic", "channels_last"),
]

PIL_MODES = {"L": (7, 9), "RGB": (7, 9, 3), "RGBA": (7, 9, 4), "LA": (7, 9, 2)}
PIL_CASES = [
    # (name, (width, height), filter, box)
    ("down_nearest", (4, 3), 0, None),
    ("down_bilinear", (4, 3), 2, None),
    ("up_nearest", (13, 10), 0, None),
    ("up_bilinear", (13, 10), 2, None),
    ("tall_bilinear", (8, 3), 2, None),     # rows shrink much more than columns
    ("mixed_bilinear", (12, 4), 2, None),
    ("box_bilinear", (5, 5), 2, (1, 2, 8, 6)),
    ("box_nearest", (5, 5), 0, (1.5, 0.25, 8.75, 6.5)),
    ("fbox_bilinear", (6, 4), 2, (0.3, 1.7, 8.2, 5.9)),
]

ARRAY_TO_IMG_CASES = [
    # (name, shape, low, high, kwargs)
    ("scaled_rgb", (3, 4, 3), -2.0, 3.0, {}),
    ("scaled_gray", (4, 3, 1), 0.0, 1.0, {}),
    ("unscaled_rgba", (2, 5, 4), 0.0, 255.0, {"scale": False}),
    ("first_rgb", (3, 4, 2), -1.0, 1.0, {"data_format": "channels_first"}),
]


RESIZE_CASES = [
    # (name, shape, kwargs)
    ("pad_wide", (4, 9, 3), {"size": (6, 6), "pad_to_aspect_ratio": True}),
    ("pad_tall", (9, 4, 1), {"size": (5, 8), "pad_to_aspect_ratio": True,
                             "interpolation": "nearest"}),
    ("crop_wide", (4, 9, 3), {"size": (6, 6), "crop_to_aspect_ratio": True}),
    ("plain_first", (2, 5, 7), {"size": (3, 4), "data_format": "channels_first"}),
]


def main():
    rng = np.random.default_rng(2024)
    store = {}
    for name, shape, dtype, size, interpolation, data_format in SMART_CASES:
        x = (rng.random(shape) * 255).astype(dtype)
        y = keras.preprocessing.image.smart_resize(x, size, interpolation=interpolation,
                                                   data_format=data_format)
        store[f"smart/{name}/x"] = x
        store[f"smart/{name}/y"] = np.asarray(y)
        store[f"smart/{name}/args"] = np.array(json.dumps(
            {"size": list(size), "interpolation": interpolation, "data_format": data_format}))
    for mode, shape in PIL_MODES.items():
        pixels = rng.integers(0, 256, size=shape).astype(np.uint8)
        if mode in ("RGBA", "LA"):  # transparent, opaque and partial alphas
            pixels[..., -1] = rng.choice([0, 255, 1, 77, 128, 200], size=shape[:2])
        store[f"pil/{mode}"] = pixels
        image = Image.fromarray(pixels, mode)
        for name, size, resample, box in PIL_CASES:
            store[f"pil/{mode}/{name}"] = np.asarray(image.resize(size, resample, box=box))
            store[f"pil/{mode}/{name}/args"] = np.array(json.dumps(
                {"size": list(size), "resample": resample, "box": box}))
        for target in PIL_MODES:
            store[f"pil/{mode}/convert_{target}"] = np.asarray(image.convert(target))
    for name, shape, low, high, kwargs in ARRAY_TO_IMG_CASES:
        x = rng.uniform(low, high, size=shape).astype(np.float32)
        store[f"keras/array_to_img/{name}/x"] = x
        store[f"keras/array_to_img/{name}/y"] = np.asarray(keras.utils.array_to_img(x, **kwargs))
        store[f"keras/array_to_img/{name}/args"] = np.array(json.dumps(kwargs))
    for name, shape, kwargs in RESIZE_CASES:
        x = (rng.random(shape) * 255).astype(np.float32)
        store[f"resize/{name}/x"] = x
        store[f"resize/{name}/y"] = keras.ops.convert_to_numpy(keras.ops.image.resize(x, **kwargs))
        store[f"resize/{name}/args"] = np.array(json.dumps(kwargs))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **store)
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT} ({len(store)} arrays, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
