"""Single layers of the models people train, forward + backward: npgrad against PyTorch.

    python benchmarks/bench_layers.py                 # batch 32, 5 interleaved rounds
    python benchmarks/bench_layers.py --rounds 7 --only depthwise,maxpool
    python benchmarks/bench_layers.py --forward --only concatenate   # forward alone (no_grad)

The workloads in ``bench_workloads.py`` are whole models; this table looks for the layer
shapes where npgrad falls far behind (a "cliff"), so that the general paths get fixed, not
only the ones in the benchmarked models: VGG-style 3x3 convolutions from 3 to 256 channels,
a 5x5 convolution (Keras's MNIST and CIFAR tutorials), 1x1 bottlenecks, a strided 3x3, the
7x7 stride-2 stem of ResNet-50, MobileNet's depthwise 3x3 convolutions (stride 1 and 2),
a transposed convolution, max and average pooling (ResNet-50's overlapping 3x3 stride-2
pool among them), batch normalization in training mode, Keras's activations (the
``activation=`` strings of Dense and Conv layers), a segmentation head's 3x3 convolution to
3 classes and the softmax over them per pixel (and over 256 channels), the concatenation of
two feature maps along the channels (a U-Net's or DenseNet's skip connection).

Every layer is run on (N, H, W, C) float32 data with an input that needs its gradient, the
upstream gradient all ones; PyTorch runs NCHW (its native layout), the data made once,
outside the timed calls. Each timed call comes right after ``--settle`` untimed calls of the
same library, so the other library's spinning worker threads are gone (without it, calls
this short measured PyTorch up to 1.5x slower than PyTorch alone in its own process).
Convolutions have no bias and 'same' padding. ``--forward`` times the forward alone, under
each library's ``no_grad``. Threads: 2 each, or ``NPGRAD_BENCH_THREADS``.
Prints a markdown table of medians and npgrad/PyTorch ratios and writes
benchmarks/results/layers-<time>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import compare, import_torch, limit_threads, print_table, write_json

import npgrad
import npgrad.functional as F

#: name -> (kind, H (= W), C in, C out, kernel, stride)
LAYERS = {
    "conv 3x3 3->64, 32x32": ("conv", 32, 3, 64, 3, 1),
    "conv 3x3 64->64, 32x32": ("conv", 32, 64, 64, 3, 1),
    "conv 3x3 16->16, 32x32 (a CIFAR ResNet's first stage)": ("conv", 32, 16, 16, 3, 1),
    "conv 3x3 32->32, 16x16": ("conv", 16, 32, 32, 3, 1),
    "conv 3x3 s2 16->32, 32x32": ("conv", 32, 16, 32, 3, 2),
    "conv 3x3 128->128, 16x16": ("conv", 16, 128, 128, 3, 1),
    "conv 3x3 256->256, 8x8": ("conv", 8, 256, 256, 3, 1),
    "conv 5x5 32->64, 28x28": ("conv", 28, 32, 64, 5, 1),
    "conv 1x1 64->256, 16x16": ("conv", 16, 64, 256, 1, 1),
    "conv 1x1 256->64, 16x16": ("conv", 16, 256, 64, 1, 1),
    "conv 3x3 s2 64->128, 32x32": ("conv", 32, 64, 128, 3, 2),
    "conv 7x7 s2 3->64, 64x64": ("conv", 64, 3, 64, 7, 2),
    "conv 3x3 32->3, 64x64 (a segmentation head)": ("conv", 64, 32, 3, 3, 1),
    "depthwise 3x3 32 ch, 56x56": ("depthwise", 56, 32, 32, 3, 1),
    "depthwise 3x3 128 ch, 16x16": ("depthwise", 16, 128, 128, 3, 1),
    "depthwise 3x3 s2 64 ch, 32x32": ("depthwise", 32, 64, 64, 3, 2),
    "conv_transpose 4x4 s2 128->64, 8x8": ("transpose", 8, 128, 64, 4, 2),
    "maxpool 2x2 s2, 64 ch, 32x32": ("maxpool", 32, 64, 64, 2, 2),
    "maxpool 3x3 s2, 64 ch, 32x32": ("maxpool", 32, 64, 64, 3, 2),
    "avgpool 2x2 s2, 64 ch, 32x32": ("avgpool", 32, 64, 64, 2, 2),
    "batch_norm 64 ch, 32x32 (training)": ("batchnorm", 32, 64, 64, 1, 1),
    "batch_norm 16 ch, 32x32 (training)": ("batchnorm", 32, 16, 16, 1, 1),
    "batch_norm 256 ch, 8x8 (training)": ("batchnorm", 8, 256, 256, 1, 1),
    "softmax over 3 classes a pixel, 64x64": ("softmax", 64, 3, 3, 1, 1),
    "concatenate 16 + 16 channels, 32x32 (a skip connection)": ("concat", 32, 16, 16, 1, 1),
    "concatenate 64 + 64 channels, 32x32": ("concat", 32, 64, 64, 1, 1),
    "softmax over 256 channels, 16x16": ("softmax", 16, 256, 256, 1, 1),
}
#: activations, each on a (batch, 32, 32, 64) float32 array: Keras name -> PyTorch function
ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu", "elu": "elu",
               "selu": "selu", "gelu": "gelu", "sigmoid": "sigmoid", "silu": "silu",
               "hard_sigmoid": "hardsigmoid", "hard_silu": "hardswish", "softplus": "softplus",
               "mish": "mish", "tanh": "tanh"}
LAYERS.update({f"activation {name}, 64 ch, 32x32": (f"act:{name}", 32, 64, 64, 1, 1)
               for name in ACTIVATIONS})


def _channels_first(array):
    return np.ascontiguousarray(np.moveaxis(array, -1, 1))


def _npgrad_layer(kind, x, c, f, k, s, rng, forward=False):
    """A callable running the npgrad layer forward and backward (forward alone, under
    ``no_grad``, with ``forward``)."""
    def param(shape, scale=0.1):
        return npgrad.Tensor((rng.standard_normal(shape) * scale).astype(np.float32),
                             requires_grad=True)

    if kind.startswith("act:"):
        activation = npgrad.activations.get(kind[4:])
        fn = lambda: activation(x)
    elif kind == "softmax":
        fn = lambda: F.softmax(x)
    elif kind == "concat":  # x and a second input of f channels, along the channels
        other = param(x.shape[:-1] + (f,), 1.0)
        fn = lambda: F.concatenate([x, other], axis=-1)
    elif kind == "conv":
        w = param((k, k, c, f))
        fn = lambda: F.conv2d(x, w, strides=s, padding="same")
    elif kind == "depthwise":
        w = param((k, k, c, 1))
        fn = lambda: F.depthwise_conv2d(x, w, strides=s, padding="same")
    elif kind == "transpose":
        w = param((k, k, f, c))
        fn = lambda: F.conv2d_transpose(x, w, strides=s, padding="same")
    elif kind == "maxpool":
        fn = lambda: F.max_pool2d(x, k, s)
    elif kind == "avgpool":
        fn = lambda: F.avg_pool2d(x, k, s)
    else:
        gamma, beta = param((c,), 0.0), param((c,), 0.0)
        gamma.data += 1
        mean, var = np.zeros(c, np.float32), np.ones(c, np.float32)
        fn = lambda: F.batch_norm(x, gamma, beta, mean, var, training=True)
    upstream = np.ones(fn().shape, np.float32)

    def step():
        if forward:
            with npgrad.no_grad():
                fn()
        else:
            fn().backward(upstream)

    return step


def _torch_layer(torch, kind, x, c, f, k, s, forward=False):
    """The same layer in PyTorch (NCHW), forward and backward (forward alone with
    ``forward``), or None without PyTorch."""
    if torch is None:
        return None
    nn = torch.nn
    if kind.startswith("act:"):
        module = getattr(torch.nn.functional, ACTIVATIONS[kind[4:]])
        if kind == "act:leaky_relu":  # Keras's default slope, 0.2 (PyTorch's is 0.01)
            module = lambda x: torch.nn.functional.leaky_relu(x, 0.2)  # noqa: E731
    elif kind == "softmax":  # over the channels, NCHW's axis 1
        module = nn.Softmax(dim=1)
    elif kind == "concat":  # NCHW: along axis 1
        other = torch.zeros((x.shape[0], f, x.shape[1], x.shape[2]), requires_grad=True)
        module = lambda t: torch.cat([t, other], dim=1)  # noqa: E731
    elif kind == "conv":
        module = nn.Conv2d(c, f, k, stride=s, padding=k // 2, bias=False)
    elif kind == "depthwise":
        module = nn.Conv2d(c, c, k, stride=s, padding=k // 2, groups=c, bias=False)
    elif kind == "transpose":
        # Keras 'same' with kernel 4, stride 2: output 2H, padding 1 each side
        module = nn.ConvTranspose2d(c, f, k, stride=s, padding=(k - s) // 2, bias=False)
    elif kind == "maxpool":
        module = nn.MaxPool2d(k, s)
    elif kind == "avgpool":
        module = nn.AvgPool2d(k, s)
    else:
        module = nn.BatchNorm2d(c, eps=1e-3)
    tx = torch.from_numpy(_channels_first(x.data)).requires_grad_()
    upstream = torch.ones_like(module(tx))

    def step():
        if forward:
            with torch.no_grad():
                module(tx)
        else:
            module(tx).backward(upstream)

    return step


def workloads(batch, torch, rounds, only=None, settle=1, forward=False):
    rng = np.random.default_rng(0)
    results = []
    for name, (kind, size, c, f, k, s) in LAYERS.items():
        if only and not any(word in name for word in only):
            continue
        x = npgrad.Tensor(rng.standard_normal((batch, size, size, c)).astype(np.float32),
                          requires_grad=True)
        results.append(compare(f"{name}, batch {batch}",
                               _npgrad_layer(kind, x, c, f, k, s, rng, forward),
                               _torch_layer(torch, kind, x, c, f, k, s, forward), rounds=rounds,
                               settle=settle))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--settle", type=int, default=1,
                        help="untimed calls before each timed one (see harness.compare)")
    parser.add_argument("--only", default="",
                        help="comma-separated words; run the layers whose name has one")
    parser.add_argument("--forward", action="store_true",
                        help="time the forward alone (under no_grad)")
    args = parser.parse_args()
    limit_threads()
    only = [word for word in args.only.split(",") if word]
    results = workloads(args.batch, import_torch(), args.rounds, only, args.settle,
                        args.forward)
    what = "forward alone" if args.forward else "forward + backward"
    print_table(results, f"single layers: {what}, medians")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, Path(__file__).parent / "results" / f"layers-{stamp}.json")


if __name__ == "__main__":
    main()
