"""Where each workload's training step goes, and its GEMM floor: the per-workload profile.

    python benchmarks/profile_workloads.py                     # every workload, 2 threads
    python benchmarks/profile_workloads.py --only resnet,lstm --rounds 5

For each workload of ``bench_workloads.py`` (global batch 64, Adam, 4 steps a round, one
process, ``NPGRAD_BENCH_THREADS`` threads, default 2) this trains one warm-up round, then
times ``--rounds`` rounds with a clock around every op's ``forward`` and ``backward`` (the
outermost op only: an op that calls another is timed once) and around the optimizer's
update. What no clock covers is the rest: the engine, the layers' Python, the loss and
``fit``'s own code. The op classes are grouped in families (:data:`FAMILIES`).

The GEMM floor is the step's multiply-add work divided by the rate of a large square
sgemm measured in the same process at the same threads: the time the step would take if it
were nothing but large, square products. The work is counted on the PyTorch twin of the
model (``torch.utils.flop_counter.FlopCounterMode`` over one training step: the products
and convolutions of its forward and backward), so the column is empty without PyTorch; the
text LSTM's and GRU's products, which that counter does not see inside PyTorch's fused
recurrent op, are counted by hand (:func:`recurrent_work`).

The clocks add a few microseconds an op (the step with them is within a few percent of
``bench_workloads.py``'s); shares, not absolute times, are what to read on a noisy host.
Prints a markdown table and writes benchmarks/results/profile-<time>.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_workloads
from harness import THREADS, import_torch, machine_info, op_classes

import npgrad
from npgrad.optimizers.optimizer import Optimizer

KINDS = ("resnet", "cifarcnn", "mobilenet", "seedcnn", "dcgan", "conv1d", "lstm", "gru",
         "transformer", "gelu", "textavg")
#: (family, pattern of op class names), the first match wins
FAMILIES = (
    ("attention", r"Attention"),
    ("convolution", r"Conv|Depthwise"),  # a fused Conv2D + MaxPool2D op is one
    ("pooling", r"Pool"),
    ("recurrent", r"LSTM|GRU|RNN|BatchHalves"),
    ("normalization", r"Norm"),
    ("dense", r"Dense|MatMul|Einsum|Embedding"),
    ("activations", r"ReLU|GELU|Tanh|Sigmoid|Softmax|Swish|SiLU|Elu|Hard"),
)
STEPS = 4


def family(name):
    """The family of an op class name (``other ops`` when no pattern matches)."""
    for label, pattern in FAMILIES:
        if re.search(pattern, name):
            return label
    return "other ops"


class Clocks:
    """Seconds per op class and direction, and in the optimizer, while installed."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)
        self.depth = 0
        self.saved = []

    def _wrap(self, owner, attribute, key):
        original = owner.__dict__[attribute]
        clocks = self

        def timed(*args, **kwargs):
            if clocks.depth:  # inside another op or the optimizer: counted there
                return original(*args, **kwargs)
            clocks.depth += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                clocks.seconds[key] += time.perf_counter() - start
                clocks.depth -= 1

        self.saved.append((owner, attribute, original))
        setattr(owner, attribute, timed)

    def install(self):
        for cls in op_classes():
            for attribute in ("forward", "backward"):
                if attribute in cls.__dict__:
                    self._wrap(cls, attribute, (cls.__name__, attribute))
        self._wrap(Optimizer, "_apply_reduced", ("optimizer", "update"))
        return self

    def remove(self):
        for owner, attribute, original in reversed(self.saved):
            setattr(owner, attribute, original)
        self.saved = []


def sgemm_rate(size=1024, repeats=5):
    """FLOP/s of a (size, size) float32 product here (the best of ``repeats``)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(np.float32) for _ in range(2))
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def recurrent_work(gates):
    """FLOPs of a training step of the text RNNs: each step's input and recurrent products,
    (N, F + U) @ (F + U, gates * U), three times (forward, input and weight gradients)."""
    n, steps = bench_workloads.BATCH, bench_workloads.TEXT_STEPS
    f = u = bench_workloads.EMBED
    return 3 * 2 * n * steps * (f + u) * gates * u


def gemm_work(kind, torch):
    """Multiply-adds (as FLOPs) of one training step of the PyTorch twin, or None. PyTorch's
    fused recurrent ops escape its counter, so the text RNNs are counted by hand."""
    if kind in ("lstm", "gru"):
        return recurrent_work(4 if kind == "lstm" else 3)
    if torch is None:
        return None
    from torch.utils.flop_counter import FlopCounterMode

    run = bench_workloads.torch_trainer(kind, 1, torch)
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return counter.get_total_flops()


def profile(kind, rounds, torch):
    """{step_ms, ops, families, optimizer_ms, rest_ms, gflop, floor_ms} of one workload."""
    run = bench_workloads.npgrad_trainer(kind, STEPS)
    run()
    clocks = Clocks().install()
    try:
        total = sum(_seconds(run) for _ in range(rounds))
    finally:
        clocks.remove()
    steps = rounds * STEPS
    per_step = {key: 1e3 * value / steps for key, value in clocks.seconds.items()}
    step_ms = 1e3 * total / steps
    optimizer_ms = per_step.pop(("optimizer", "update"), 0.0)
    families = collections.defaultdict(float)
    for (name, _), ms in per_step.items():
        families[family(name)] += ms
    flops = gemm_work(kind, torch)
    rate = sgemm_rate()
    return {
        "step_ms": step_ms,
        "ops": {f"{name}.{direction}": ms for (name, direction), ms in per_step.items()},
        "families": dict(families),
        "optimizer_ms": optimizer_ms,
        "rest_ms": step_ms - sum(per_step.values()) - optimizer_ms,
        "gflop": None if flops is None else flops / 1e9,
        "sgemm_gflops": rate / 1e9,
        "floor_ms": None if flops is None else 1e3 * flops / rate,
    }


def shares(result, top=5):
    """'family 41 %, ...' for the largest parts of a step, the optimizer and the rest."""
    parts = dict(result["families"])
    parts["optimizer"] = result["optimizer_ms"]
    parts["Python/engine/loss"] = result["rest_ms"]
    biggest = sorted(parts.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {100 * ms / result['step_ms']:.0f} %" for name, ms in biggest)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(KINDS),
                        help="comma list of " + ",".join(KINDS))
    args = parser.parse_args(argv)
    kinds = [k for k in args.only.split(",") if k]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(KINDS)}")
    torch = import_torch()
    if torch is not None:
        torch.set_num_threads(THREADS)
    npgrad.utils.set_num_threads(THREADS)
    results = {}
    print("| workload | step | GEMM work | GEMM floor | where the time goes |")
    print("|---|---|---|---|---|")
    for kind in kinds:
        result = profile(kind, args.rounds, torch)
        results[kind] = result
        work = "" if result["gflop"] is None else f"{result['gflop']:.2f} GFLOP"
        floor = "" if result["floor_ms"] is None else \
            f"{result['floor_ms']:.1f} ms at {result['sgemm_gflops']:.0f} GF/s"
        print(f"| {bench_workloads.NAMES.get(kind, kind)} | {result['step_ms']:.1f} ms | "
              f"{work} | {floor} | {shares(result)} |", flush=True)
    print()
    for kind, result in results.items():
        ops = sorted(result["ops"].items(), key=lambda kv: -kv[1])[:6]
        listed = ", ".join(f"{name} {ms:.2f}" for name, ms in ops)
        print(f"{kind}: largest ops, ms a step: {listed}; optimizer "
              f"{result['optimizer_ms']:.2f}")
    path = Path(__file__).parent / "results" / f"profile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine_info(), "results": results}, indent=2))
    print(f"\nwrote {path}")
    return results


if __name__ == "__main__":
    main()
