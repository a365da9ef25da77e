"""3-D, transposed, grouped, depthwise convolutions, 3-D and adaptive pooling, ConvLSTM2D:
npgrad against PyTorch on the CPU (forward + backward, float32, same threads).

    python benchmarks/bench_conv_more.py              # batch 8, 5 interleaved rounds
    python benchmarks/bench_conv_more.py --rounds 3 --batch 4

PyTorch runs NCHW / NCDHW (its native layout); the transposes to get there are done once,
outside the timed calls. Prints a markdown table of medians and npgrad/PyTorch ratios and
writes benchmarks/results/conv_more-<time>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import compare, import_torch, limit_threads, print_table, write_json  # noqa: E402

import npgrad  # noqa: E402
import npgrad.functional as F  # noqa: E402
import npgrad.layers as L  # noqa: E402


def _channels_first(array):
    return np.ascontiguousarray(np.moveaxis(array, -1, 1))


def _kernel_to_torch(kernel):
    """Keras (*K, C, F) -> torch (F, C, *K); transposed (*K, F, C) -> torch (C, F, *K)."""
    rank = kernel.ndim - 2  # both cases move the last two axes first, swapped
    return np.ascontiguousarray(kernel.transpose((rank + 1, rank) + tuple(range(rank))))


def workloads(batch, torch, rounds):
    rng = np.random.default_rng(0)
    results = []

    def tensor(shape):
        return npgrad.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def add(name, np_step, torch_step):
        results.append(compare(f"{name}, batch {batch}", np_step, torch_step, rounds=rounds))

    def pair(np_fn, np_args, torch_fn, torch_args, upstream):
        def np_step():
            np_fn(*np_args).backward(upstream)

        if torch is None:
            return np_step, None
        targs = [torch.from_numpy(a).requires_grad_() for a in torch_args]
        tgrad = torch.from_numpy(_channels_first(upstream))

        def torch_step():
            torch_fn(*targs).backward(tgrad)

        return np_step, torch_step

    nnf = torch.nn.functional if torch is not None else None

    # Conv3D(16, 3) on (N, 8, 16, 16, 8) volumes
    x, k = tensor((batch, 8, 16, 16, 8)), tensor((3, 3, 3, 8, 16))
    g = rng.standard_normal((batch, 6, 14, 14, 16)).astype(np.float32)
    add("conv3d 3x3x3, 8->16 ch, 8x16x16", *pair(
        F.conv3d, (x, k), nnf and nnf.conv3d,
        (_channels_first(x.data), _kernel_to_torch(k.data)), g))

    # Conv3DTranspose(8, 3, strides=2, 'same') on (N, 4, 8, 8, 16)
    x, k = tensor((batch, 4, 8, 8, 16)), tensor((3, 3, 3, 8, 16))
    g = rng.standard_normal((batch, 8, 16, 16, 8)).astype(np.float32)

    def torch_conv3d_transpose(tx, tk):
        # 'same', stride 2, kernel 3 == padding 1 with output_padding 1
        return nnf.conv_transpose3d(tx, tk, stride=2, padding=1, output_padding=1)

    add("conv3d_transpose 3x3x3 s2 same, 16->8 ch", *pair(
        lambda a, b: F.conv3d_transpose(a, b, strides=2, padding="same"), (x, k),
        torch_conv3d_transpose, (_channels_first(x.data), _kernel_to_torch(k.data)), g))

    # DepthwiseConv2D(3, 'same') on MobileNet-like (N, 32, 32, 64)
    x, k = tensor((batch, 32, 32, 64)), tensor((3, 3, 64, 1))
    g = rng.standard_normal((batch, 32, 32, 64)).astype(np.float32)
    add("depthwise_conv2d 3x3 same, 64 ch, 32x32", *pair(
        lambda a, b: F.depthwise_conv2d(a, b, padding="same"), (x, k),
        nnf and (lambda tx, tk: nnf.conv2d(tx, tk, padding=1, groups=64)),
        (_channels_first(x.data), np.ascontiguousarray(k.data.transpose(2, 3, 0, 1))), g))

    # grouped Conv2D(64, 3, groups=4) on (N, 16, 16, 64)
    x, k = tensor((batch, 16, 16, 64)), tensor((3, 3, 16, 64))
    g = rng.standard_normal((batch, 14, 14, 64)).astype(np.float32)
    add("conv2d groups=4, 64->64 ch, 16x16", *pair(
        F.conv, (x, k), nnf and (lambda tx, tk: nnf.conv2d(tx, tk, groups=4)),
        (_channels_first(x.data), _kernel_to_torch(k.data)), g))

    # MaxPooling3D(2) and adaptive average pooling
    x = tensor((batch, 8, 16, 16, 16))
    g = rng.standard_normal((batch, 4, 8, 8, 16)).astype(np.float32)
    add("max_pool3d 2, 16 ch, 8x16x16", *pair(
        F.max_pool3d, (x,), nnf and (lambda tx: nnf.max_pool3d(tx, 2)),
        (_channels_first(x.data),), g))
    x = tensor((batch, 28, 28, 32))
    g = rng.standard_normal((batch, 5, 5, 32)).astype(np.float32)
    add("adaptive_average_pool 28x28 -> 5x5, 32 ch", *pair(
        lambda a: F.adaptive_average_pool(a, 5), (x,),
        nnf and (lambda tx: nnf.adaptive_avg_pool2d(tx, 5)), (_channels_first(x.data),), g))

    # ConvLSTM2D(16, 3, 'same') over 6 steps of 16x16x4 (no PyTorch layer: npgrad alone)
    layer = L.ConvLSTM2D(16, 3, padding="same", return_sequences=True)
    seq = rng.standard_normal((batch, 6, 16, 16, 4)).astype(np.float32)
    layer(seq)
    g = rng.standard_normal((batch, 6, 16, 16, 16)).astype(np.float32)
    results.append(compare(f"ConvLSTM2D 16 filters 3x3, 6 steps 16x16, batch {batch} "
                           f"(npgrad only)", lambda: layer(seq).backward(g), None, rounds=rounds))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    limit_threads()
    results = workloads(args.batch, import_torch(), args.rounds)
    print_table(results, "more convolutions and pooling: forward + backward, medians")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, Path(__file__).parent / "results" / f"conv_more-{stamp}.json")


if __name__ == "__main__":
    main()
