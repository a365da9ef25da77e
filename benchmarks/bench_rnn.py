"""Recurrent-layer benchmarks: npgrad LSTM/GRU against torch.nn.LSTM/GRU on the CPU.

    python benchmarks/bench_rnn.py                    # 7 interleaved rounds of 10 steps
    python benchmarks/bench_rnn.py --rounds 3 --steps 5
    python benchmarks/bench_rnn.py --only lstm --shape 64,80,64,64   # the text LSTM's layer

Workloads (issue 5): one layer of 128 units on a batch of 64 sequences of 28 steps with 28
features (MNIST rows), float32, 2 threads for both libraries; ``--shape N,T,F,U`` sets the
batch, steps, features and units. "forward+backward" is the
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
SHAPE = (BATCH, STEPS, FEATURES, UNITS)


def npgrad_workload(kind, steps, backward=True, shape=SHAPE):
    batch, length, features, units = shape
    layer = {"lstm": LSTM, "gru": GRU}[kind](units)
    x = np.random.default_rng(0).standard_normal((batch, length, features)).astype(np.float32)
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


def torch_workload(torch, kind, steps, backward=True, shape=SHAPE):
    batch, length, features, units = shape
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](features, units, batch_first=True)
    x = torch.from_numpy(
        np.random.default_rng(0).standard_normal((batch, length, features)).astype(np.float32))

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
    parser.add_argument("--only", default="lstm,gru", help="comma list of lstm,gru")
    parser.add_argument("--shape", default=",".join(map(str, SHAPE)),
                        help="batch,steps,features,units")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    try:
        shape = tuple(int(v) for v in args.shape.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        parser.error(f"--shape takes four positive ints (batch,steps,features,units), got "
                     f"{args.shape!r}")
    kinds = args.only.split(",")
    if not kinds or not set(kinds) <= {"lstm", "gru"}:
        parser.error(f"--only takes a comma list of lstm, gru; got {args.only!r}")
    batch, length, features, units = shape
    limit_threads()
    torch = import_torch()
    if torch is None:
        print("PyTorch not installed: timing npgrad alone")
    results = []
    for kind in (k for k in ("lstm", "gru") if k in kinds):
        for backward in (True, False):
            what = "forward+backward" if backward else "forward"
            name = (f"{kind.upper()}({units}) {what}, batch {batch}, {length} steps x "
                    f"{features} features, {args.steps} calls")
            t_run = torch_workload(torch, kind, args.steps, backward, shape) if torch else None
            results.append(compare(name, npgrad_workload(kind, args.steps, backward, shape),
                                   t_run, rounds=args.rounds))
            print_table(results[-1:], "progress")
    print_table(results, "npgrad vs PyTorch recurrent layers (CPU, 2 threads, float32, medians)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, args.out or Path(__file__).parent / "results" / f"rnn-{stamp}.json")
    return results


if __name__ == "__main__":
    main()
