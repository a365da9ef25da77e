"""What does a CNN look at? Activation maps and gradient saliency maps, saved as PNGs.

    python examples/saliency.py                  # train a small CNN on 10,000 images (3 epochs)
    python examples/saliency.py --quick          # 2,000 images, 1 epoch
    python examples/saliency.py --model runs/mnist_cnn/model.npgrad   # use a saved model

For one test image of each digit 0-9 (docs/11_interpretability.md):

* activation maps: the outputs of the first Conv2D layer, one small image per filter;
* saliency map (Simonyan et al., 2013): |d score_c / d pixel|, the gradient of the winning
  class's *logit* with respect to the input pixels, computed by ``backward()`` through the
  whole network with the image as a Tensor that requires grad.

It prints each image's predicted class and probability, and how concentrated the saliency
is on the digit: the share of the total saliency that falls on the ink (pixels > 0.2)
compared with the share of the image the ink covers. PNGs are drawn with matplotlib when it
is installed, otherwise written directly as greyscale PNG files with zlib.
"""

import argparse
import os
import struct
import time
import zlib

import numpy as np
from _common import load_mnist

import npgrad
import npgrad.functional as F
import npgrad.layers
import npgrad.models
import npgrad.optimizers

L = npgrad.layers


def small_cnn():
    return npgrad.models.Sequential([
        L.Input(shape=(28, 28, 1)),
        L.Conv2D(8, (3, 3), activation="relu", padding="same"),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(16, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    ])


def logits_and_features(model, x):
    """Run the model layer by layer: the first Conv2D's output and the pre-softmax logits.

    The last layer is a Dense with a softmax; its logits are ``F.dense(h, kernel, bias)``.
    """
    layers = model.layers
    first_conv = next(i for i, layer in enumerate(layers) if isinstance(layer, L.Conv2D))
    h, features = x, None
    for i, layer in enumerate(layers[:-1]):
        h = layer(h, training=False)
        if i == first_conv:
            features = h
    head = layers[-1]
    return F.dense(h, head.kernel, head.bias), features


def saliency(model, image):
    """|d logit_c / d x| for the predicted class c, maximized over channels: (28, 28)."""
    x = npgrad.Tensor(image[None], requires_grad=True)        # (1, 28, 28, 1)
    logits, _ = logits_and_features(model, x)
    c = int(np.argmax(logits.numpy()[0]))
    logits[0, c].backward()                                   # d score_c / d every pixel
    for w in model.weights:                                   # the weights got gradients too
        w.grad = None
    return np.abs(x.grad[0]).max(axis=-1), c


def write_png(path, image):
    """Write a 2-D uint8 array as a greyscale PNG with zlib (no dependency)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))  # filter 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)          # 8-bit greyscale
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))


def _to_uint8(a):
    a = a - a.min()
    return (255 * a / a.max() if a.max() > 0 else a).astype(np.uint8)


def _grid(tiles, columns, scale=4, pad=2):
    """Tile equally sized 2-D arrays (each rescaled to 0-255) into one upscaled image."""
    h, w = tiles[0].shape
    rows = -(-len(tiles) // columns)
    out = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad), 128, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        out[pad + r * (h + pad): pad + r * (h + pad) + h,
            pad + c * (w + pad): pad + c * (w + pad) + w] = _to_uint8(tile)
    return np.kron(out, np.ones((scale, scale), np.uint8))


def save_figures(images, maps, features, out):
    """saliency.png (images over their maps) and activations.png (first conv's channels)."""
    try:
        import matplotlib

        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    paths = [os.path.join(out, "saliency.png"), os.path.join(out, "activations.png")]
    n, channels = len(images), features.shape[-1]
    if plt is None:
        write_png(paths[0], _grid([im[..., 0] for im in images] + list(maps), columns=n))
        tiles = [images[k][..., 0] if j == 0 else features[k, :, :, j - 1]
                 for k in range(n) for j in range(channels + 1)]
        write_png(paths[1], _grid(tiles, columns=channels + 1))
        print(f"matplotlib not installed: wrote greyscale PNGs with zlib: {', '.join(paths)}")
        return paths
    fig, axes = plt.subplots(2, n, figsize=(1.4 * n, 3))
    for k in range(n):
        axes[0, k].imshow(images[k][..., 0], cmap="gray")
        axes[1, k].imshow(maps[k], cmap="hot")
        for ax in axes[:, k]:
            ax.axis("off")
    fig.suptitle("input (top) and |d logit / d pixel| (bottom)")
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(n, channels + 1, figsize=(1.1 * (channels + 1), 1.1 * n))
    for k in range(n):
        axes[k, 0].imshow(images[k][..., 0], cmap="gray")
        for j in range(channels):
            axes[k, j + 1].imshow(features[k, :, :, j], cmap="viridis")
        for ax in axes[k]:
            ax.axis("off")
    fig.suptitle("first Conv2D layer: one column per filter")
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)
    print(f"saved {', '.join(paths)}")
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a saved .npgrad CNN ending in Dense(10, softmax)")
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 images, 1 epoch")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/saliency", help="where the PNGs go")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.epochs = 2000, 1
    npgrad.utils.set_random_seed(args.seed)

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, train_size=args.train_size,
                                                      test_size=1000)
    if args.model:
        model = npgrad.models.load_model(args.model)
        print(f"loaded {args.model}")
    else:
        start = time.perf_counter()
        model = small_cnn()
        model.compile(optimizer=npgrad.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=0)
        print(f"trained a small CNN on {len(x_train)} images for {args.epochs} epoch(s) "
              f"in {time.perf_counter() - start:.1f} s")
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy on {len(x_test)} images: {accuracy:.4f}")

    picks = [int(np.flatnonzero(y_test == d)[0]) for d in range(10)]
    images = x_test[picks]
    with npgrad.no_grad():
        logits, features = logits_and_features(model, npgrad.Tensor(images))
    probs = F.softmax(logits).numpy()
    maps, ratios = [], []
    print("digit  predicted  probability  saliency on ink / ink area")
    for d, image in enumerate(images):
        grad_map, c = saliency(model, image)
        maps.append(grad_map)
        ink = image[..., 0] > 0.2
        on_ink = grad_map[ink].sum() / grad_map.sum()
        ratios.append(on_ink / ink.mean())
        print(f"{d:5d}  {c:9d}  {probs[d, c]:11.3f}  {on_ink:5.2f} / {ink.mean():4.2f} "
              f"= {ratios[-1]:.1f}x")
    print(f"mean concentration of saliency on the ink: {np.mean(ratios):.1f}x its area")
    os.makedirs(args.out, exist_ok=True)
    save_figures(images, maps, features.numpy(), args.out)
    return float(np.mean(ratios))


if __name__ == "__main__":
    main()
