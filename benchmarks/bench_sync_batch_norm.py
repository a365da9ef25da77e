"""What synchronized BatchNormalization costs per step, on 2 MPI processes.

    OPENBLAS_NUM_THREADS=1 mpiexec -n 2 python benchmarks/bench_sync_batch_norm.py --rounds 5

A small CNN with three BatchNormalization layers (two after convolutions, one after a dense
layer) trains on synthetic 28x28x1 images at a global batch of 128, alternately with
per-process statistics and with ``synchronized=True``, in the same MPI job (so the machine's
noise hits both alike). Reported: median steps per second of each, and for the synchronized
runs the time per step spent inside the batch-norm allreduces (3 per layer: 2 forward,
1 backward) and per call, which includes waiting for the other rank to reach the same layer;
and the bare cost of one such allreduce when the ranks are in step. Results go to
benchmarks/results/sync_batch_norm.json (rank 0).
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import npgrad
from npgrad import layers as L
from npgrad.distribution import DataParallel

ROOT = Path(__file__).resolve().parents[1]


class TimedDataParallel(DataParallel):
    """DataParallel that times the allreduces made outside the gradient and log reductions
    (those are the batch-norm ones)."""

    def __init__(self):
        super().__init__()
        self.other = 0
        self.bn_seconds, self.bn_calls = 0.0, 0
        allreduce = self.communicator.allreduce_sum

        def timed(buffer):
            if self.other:
                return allreduce(buffer)
            start = time.perf_counter()
            result = allreduce(buffer)
            self.bn_seconds += time.perf_counter() - start
            self.bn_calls += 1
            return result

        self.communicator.allreduce_sum = timed

    def reduce_gradients(self, grads):
        self.other += 1
        try:
            return super().reduce_gradients(grads)
        finally:
            self.other -= 1

    def global_logs(self, metrics, logs):
        self.other += 1
        try:
            return super().global_logs(metrics, logs)
        finally:
            self.other -= 1


def build(synchronized):
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([
        npgrad.Input((28, 28, 1)),
        L.Conv2D(16, 3, use_bias=False), L.BatchNormalization(synchronized=synchronized),
        L.ReLU(), L.MaxPooling2D(),
        L.Conv2D(32, 3, use_bias=False), L.BatchNormalization(synchronized=synchronized),
        L.ReLU(), L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(64, use_bias=False), L.BatchNormalization(synchronized=synchronized), L.ReLU(),
        L.Dense(10),
    ])
    model.compile("adam", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    args = parser.parse_args(argv)
    npgrad.distribution.initialize()
    strategy = TimedDataParallel()
    npgrad.distribution.set_distribution(strategy)
    chief = strategy.is_chief
    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, n)
    models = {False: build(False), True: build(True)}
    for model in models.values():  # warm up: allocations, first-step broadcast
        model.fit(x[:args.batch_size * 2], y[:args.batch_size * 2], batch_size=args.batch_size,
                  verbose=0)
    rates = {False: [], True: []}
    bn_ms_per_step, bn_us_per_call, calls_per_step = [], [], []
    for _ in range(args.rounds):
        for synchronized, model in models.items():
            strategy.bn_seconds, strategy.bn_calls = 0.0, 0
            strategy.communicator.barrier()
            start = time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
            rates[synchronized].append(args.steps / (time.perf_counter() - start))
            if synchronized:
                bn_ms_per_step.append(strategy.bn_seconds / args.steps * 1e3)
                bn_us_per_call.append(strategy.bn_seconds / strategy.bn_calls * 1e6)
                calls_per_step.append(strategy.bn_calls / args.steps)
    # the bare cost of one small allreduce, ranks in step (no work between calls)
    buffer = np.zeros(65)
    strategy.communicator.barrier()
    start = time.perf_counter()
    for _ in range(1000):
        strategy.communicator.allreduce_sum(buffer)
    bare_us = (time.perf_counter() - start) / 1000 * 1e6
    table = {
        "processes": strategy.num_processes,
        "global_batch": args.batch_size,
        "batch_norm_layers": 3,
        "steps_per_second_per_process_statistics": statistics.median(rates[False]),
        "steps_per_second_synchronized": statistics.median(rates[True]),
        "batch_norm_allreduces_per_step": statistics.median(calls_per_step),
        "batch_norm_allreduce_ms_per_step": statistics.median(bn_ms_per_step),
        "batch_norm_allreduce_us_per_call": statistics.median(bn_us_per_call),
        "bare_allreduce_us_per_call": bare_us,
        "runs": {"per_process": rates[False], "synchronized": rates[True]},
    }
    table["slowdown_synchronized"] = (table["steps_per_second_per_process_statistics"]
                                      / table["steps_per_second_synchronized"])
    if chief:
        print(json.dumps(table, indent=2))
        out = ROOT / "benchmarks" / "results" / "sync_batch_norm.json"
        out.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
