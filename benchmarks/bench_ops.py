"""Op-level benchmarks at the MNIST CNN's shapes: npgrad against PyTorch on the CPU.

    python benchmarks/bench_ops.py              # batch 32 and 128, 7 interleaved rounds
    python benchmarks/bench_ops.py --rounds 5 --batch 32

Each workload is forward + backward of one op (the input image needs no gradient for the
first conv, as in training), float32, 2 threads for both libraries. Prints a markdown table
of medians and npgrad/PyTorch ratios and writes benchmarks/results/ops-<time>.json.
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

REPEAT = 10  # calls per timed round, so one round is well above the timer's noise


def _np(shape, rng, requires_grad=True):
    return npgrad.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=requires_grad)


def _torch(array, torch, requires_grad=True, nchw=False):
    data = array.data.transpose(0, 3, 1, 2) if nchw else array.data
    return torch.from_numpy(np.ascontiguousarray(data)).requires_grad_(requires_grad)


def _repeat(fn):
    def run():
        for _ in range(REPEAT):
            fn()
    return run


def workloads(batch, torch, rounds):
    rng = np.random.default_rng(0)
    results = []

    def add(name, np_step, torch_step):
        results.append(compare(f"{name}, batch {batch}", _repeat(np_step),
                               _repeat(torch_step) if torch_step else None, rounds=rounds))

    # conv1: (N, 28, 28, 1) -> 32 filters 3x3; the image needs no gradient
    for (h, c, f, needs_x) in ((28, 1, 32, False), (13, 32, 64, True)):
        x, k, b = _np((batch, h, h, c), rng, needs_x), _np((3, 3, c, f), rng), _np((f,), rng)
        upstream = rng.standard_normal((batch, h - 2, h - 2, f)).astype(np.float32)

        def np_conv(x=x, k=k, b=b, g=upstream):
            F.conv2d(x, k, b).backward(g)

        t_step = None
        if torch:
            tx, tb = _torch(x, torch, needs_x, nchw=True), _torch(b, torch)
            tk = torch.from_numpy(np.ascontiguousarray(k.data.transpose(3, 2, 0, 1))).requires_grad_()
            tg = torch.from_numpy(np.ascontiguousarray(upstream.transpose(0, 3, 1, 2)))

            def t_step(tx=tx, tk=tk, tb=tb, tg=tg):
                torch.nn.functional.conv2d(tx, tk, tb).backward(tg)

        add(f"conv2d {h}x{h}x{c} -> {f}, 3x3", np_conv, t_step)

    # max_pool2d 2x2 over the first conv's output
    x = _np((batch, 26, 26, 32), rng)
    upstream = rng.standard_normal((batch, 13, 13, 32)).astype(np.float32)

    def np_pool():
        F.max_pool2d(x, 2).backward(upstream)

    t_step = None
    if torch:
        tx = _torch(x, torch, nchw=True)
        tg = torch.from_numpy(np.ascontiguousarray(upstream.transpose(0, 3, 1, 2)))

        def t_step():
            torch.nn.functional.max_pool2d(tx, 2).backward(tg)

    add("max_pool2d 2x2 on 26x26x32", np_pool, t_step)

    # the fused conv + relu + pool that Sequential runs for the first block
    x, k, b = _np((batch, 28, 28, 1), rng, False), _np((3, 3, 1, 32), rng), _np((32,), rng)
    upstream = rng.standard_normal((batch, 13, 13, 32)).astype(np.float32)

    def np_fused():
        F.conv2d_max_pool2d(x, k, b, relu=True).backward(upstream)

    t_step = None
    if torch:
        tx, tb = _torch(x, torch, False, nchw=True), _torch(b, torch)
        tk = torch.from_numpy(np.ascontiguousarray(k.data.transpose(3, 2, 0, 1))).requires_grad_()
        tg = torch.from_numpy(np.ascontiguousarray(upstream.transpose(0, 3, 1, 2)))

        def t_step():
            nnf = torch.nn.functional
            nnf.max_pool2d(nnf.relu(nnf.conv2d(tx, tk, tb)), 2).backward(tg)

    add("conv2d+relu+max_pool2d (fused) 28x28x1 -> 32", np_fused, t_step)

    # dense 1600 -> 10
    x, w, b = _np((batch, 1600), rng), _np((1600, 10), rng), _np((10,), rng)
    upstream = rng.standard_normal((batch, 10)).astype(np.float32)

    def np_dense():
        F.dense(x, w, b).backward(upstream)

    t_step = None
    if torch:
        tx, tb = _torch(x, torch), _torch(b, torch)
        tw = torch.from_numpy(np.ascontiguousarray(w.data.T)).requires_grad_()
        tg = torch.from_numpy(upstream)

        def t_step():
            torch.nn.functional.linear(tx, tw, tb).backward(tg)

    add("dense 1600 -> 10", np_dense, t_step)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, nargs="*", default=[32, 128])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    limit_threads()
    torch = import_torch()
    results = []
    for batch in args.batch:
        results += workloads(batch, torch, args.rounds)
    print_table(results, f"ops: forward + backward, {REPEAT} calls per round, medians")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, args.out or Path(__file__).parent / "results" / f"ops-{stamp}.json")


if __name__ == "__main__":
    main()
