"""Where a training step's memory goes: NumPy's live allocations after every op, forward and
backward, for one of `bench_workloads.py`'s workloads.

    python benchmarks/trace_memory.py transformer        # resnet, lstm, gru, conv1d, dcgan, ...
    python benchmarks/trace_memory.py resnet --summary   # the peak only

NumPy reports its array allocations to `tracemalloc`, so the numbers are the arrays alone
(no interpreter, no allocator slack): what the step holds after each op ran, and the peak so
far. The first step runs untraced (scratch buffers and optimizer slots are made there); the
second is the one shown. `bench_workloads.py --only memory` measures the whole process's
resident memory against PyTorch's instead.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_workloads  # noqa: E402
from harness import op_classes  # noqa: E402

MIB = 2 ** 20


def _traced(cls, method, log):
    original = cls.__dict__.get(method)
    if original is None:
        return

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        current, peak = tracemalloc.get_traced_memory()
        log.append((method, cls.__name__, current / MIB, peak / MIB))
        return result

    setattr(cls, method, wrapper)


def trace(kind, steps=1):
    """Run ``steps`` training steps of ``kind`` after a warm one; return (log, peak MiB)."""
    log = []
    for cls in op_classes():
        _traced(cls, "forward", log)
        _traced(cls, "backward", log)
    run = bench_workloads.npgrad_trainer(kind, steps)
    run()  # warm: scratch buffers, optimizer slots
    log.clear()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    return log, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(bench_workloads.NAMES))
    parser.add_argument("--summary", action="store_true", help="print the peak only")
    args = parser.parse_args(argv)
    log, peak = trace(args.kind)
    if not args.summary:
        print(f"{'':4}{'pass':9}{'op':30}{'live MiB':>10}{'peak MiB':>10}")
        for i, (method, name, current, high) in enumerate(log):
            print(f"{i:<4}{method:9}{name:30}{current:10.2f}{high:10.2f}")
    print(f"{args.kind}: peak {peak:.1f} MiB of NumPy arrays over one training step")
    return peak


if __name__ == "__main__":
    main()
