"""Recurrent-layer benchmarks: npgrad LSTM/GRU against torch.nn.LSTM/GRU on the CPU.

    python benchmarks/bench_rnn.py                    # 7 interleaved rounds of 10 steps
    python benchmarks/bench_rnn.py --rounds 3 --steps 5

Workloads (issue 5): one layer of 128 units on a batch of 64 sequences of 28 steps with 28
features (MNIST rows), float32, 2 threads for both libraries. "forward+backward" is the
training cost: the layer's last output, a sum, and backward to every weight (the input needs
no gradient, as in a model's first layer); "forward" is inference under no_grad. Prints a
markdown table of medians and ratios, writes benchmarks/results/rnn-<time>.json.
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
from npgrad.layers.recurrent import GRU, LSTM  # noqa: E402

BATCH, STEPS, FEATURES, UNITS = 64, 28, 28, 128


def npgrad_workload(kind, steps, backward=True):
    layer = {"lstm": LSTM, "gru": GRU}[kind](UNITS)
    x = np.random.default_rng(0).standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    layer(x)  # build

    def run():
        for _ in range(steps):
            if backward:
                layer(x).sum().backward()
                for w in layer.weights:
                    w.zero_grad()
            else:
                with npgrad.no_grad():
                    layer(x)

    return run


def torch_workload(torch, kind, steps, backward=True):
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](FEATURES, UNITS, batch_first=True)
    x = torch.from_numpy(
        np.random.default_rng(0).standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))

    def run():
        for _ in range(steps):
            if backward:
                out, _ = layer(x)
                out[:, -1].sum().backward()
                layer.zero_grad(set_to_none=True)
            else:
                with torch.no_grad():
                    layer(x)

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="layer calls per timed round")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    limit_threads()
    torch = import_torch()
    if torch is None:
        print("PyTorch not installed: timing npgrad alone")
    results = []
    for kind in ("lstm", "gru"):
        for backward in (True, False):
            what = "forward+backward" if backward else "forward"
            name = (f"{kind.upper()}({UNITS}) {what}, batch {BATCH}, {STEPS} steps x "
                    f"{FEATURES} features, {args.steps} calls")
            t_run = torch_workload(torch, kind, args.steps, backward) if torch else None
            results.append(compare(name, npgrad_workload(kind, args.steps, backward), t_run,
                                   rounds=args.rounds))
            print_table(results[-1:], "progress")
    print_table(results, "npgrad vs PyTorch recurrent layers (CPU, 2 threads, float32, medians)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, args.out or Path(__file__).parent / "results" / f"rnn-{stamp}.json")
    return results


if __name__ == "__main__":
    main()
