"""The fused LSTM and GRU ops alone against torch.nn.LSTM/GRU, at the text workload's shapes.

    NPGRAD_BENCH_THREADS=1 python benchmarks/bench_rnn_ops.py --rounds 9 --calls 3

One call is a forward over a batch of 64 sequences of 80 steps (64 features, 64 units),
the last state summed, and backward to the input and every weight (the input needs its
gradient, as under an Embedding). Rounds alternate between the libraries. Besides wall
time it reports process time (CPU seconds of this process), which a busy machine disturbs
far less: with one thread each, the ratio of CPU times is what each library's code costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import import_torch, limit_threads

from npgrad import Tensor
from npgrad.primitives import recurrent as ops

BATCH, STEPS, FEATURES, UNITS = 64, 80, 64, 64


def npgrad_call(kind, rng):
    k = 4 if kind == "lstm" else 3
    x = Tensor(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32),
               requires_grad=True)
    kernel = Tensor((rng.standard_normal((FEATURES, k * UNITS)) * 0.1).astype(np.float32),
                    requires_grad=True)
    rec = Tensor((rng.standard_normal((UNITS, k * UNITS)) * 0.1).astype(np.float32),
                 requires_grad=True)
    bias = Tensor(np.zeros((2, k * UNITS) if kind == "gru" else (k * UNITS,), np.float32),
                  requires_grad=True)
    weights = (x, kernel, rec, bias)

    def call():
        out = ops.lstm(x, kernel, rec, bias)[0] if kind == "lstm" else ops.gru(x, kernel, rec, bias)
        out[:, -1].sum().backward()
        for w in weights:
            w.grad = None

    return call


def torch_call(torch, kind, rng):
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](FEATURES, UNITS, batch_first=True)
    x = torch.from_numpy(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))
    x.requires_grad_(True)

    def call():
        out, _ = layer(x)
        out[:, -1].sum().backward()
        layer.zero_grad(set_to_none=True)
        x.grad = None

    return call


def measure(calls_by_library, rounds, calls):
    """{library: (wall seconds per call list, cpu seconds per call list)}, rounds alternating."""
    times = {name: ([], []) for name in calls_by_library}
    for fn in calls_by_library.values():
        fn()  # warm up
    for _ in range(rounds):
        for name, fn in calls_by_library.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                fn()
            times[name][0].append((time.perf_counter() - wall) / calls)
            times[name][1].append((time.process_time() - cpu) / calls)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=3, help="calls per timed round")
    args = parser.parse_args(argv)
    limit_threads()
    torch = import_torch()
    print("| op, fwd+bwd | npgrad wall / CPU (ms) | PyTorch wall / CPU (ms) | ratio wall / CPU |")
    print("|---|---|---|---|")
    for kind in ("lstm", "gru"):
        libraries = {"npgrad": npgrad_call(kind, np.random.default_rng(0))}
        if torch is not None:
            libraries["torch"] = torch_call(torch, kind, np.random.default_rng(0))
        times = measure(libraries, args.rounds, args.calls)
        cells = []
        for name in libraries:
            wall, cpu = times[name]
            cells.append(f"{statistics.median(wall) * 1e3:.1f} / {statistics.median(cpu) * 1e3:.1f}")
        ratio = "n/a"
        if torch is not None:
            ratios = [statistics.median(a / b for a, b in zip(times["npgrad"][i], times["torch"][i]))
                      for i in (0, 1)]
            ratio = f"**{ratios[0]:.2f}** / **{ratios[1]:.2f}**"
        cells += ["n/a"] * (2 - len(cells))
        print(f"| {kind.upper()}({UNITS}), {BATCH} x {STEPS} steps | {cells[0]} | {cells[1]} | {ratio} |")


if __name__ == "__main__":
    main()
