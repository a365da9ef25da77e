"""Side-by-side timing: run npgrad and PyTorch workloads interleaved, report medians and ratios.

Each workload is a pair of zero-argument callables (one per library) that do the same work.
Rounds alternate between the two so that the machine's noise (this is a shared 2-core box)
hits both alike; the median of the per-round ratios is what we quote, never absolute seconds alone.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

THREADS = int(os.environ.get("NPGRAD_BENCH_THREADS", "2"))


def limit_threads(n=THREADS):
    """Pin NumPy's BLAS and PyTorch to ``n`` threads so both libraries get the same cores."""
    import npgrad

    if npgrad.utils.get_num_threads() is not None:
        npgrad.utils.set_num_threads(n)
    torch = import_torch()
    if torch is not None:
        torch.set_num_threads(n)


def torch_training(model, loss_fn, xs, ys, batch, steps, torch):
    """A round of ``steps`` training steps of a PyTorch model in its usual loop: batches of
    ``batch`` rows of the tensors ``xs`` and ``ys`` in order, Adam as Keras sets it up
    (learning rate 1e-3, epsilon 1e-7)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def run():
        model.train()
        for i in range(steps):
            rows = slice(i * batch, (i + 1) * batch)
            optimizer.zero_grad()
            loss_fn(model(xs[rows]), ys[rows]).backward()
            optimizer.step()

    return run


def op_classes():
    """Every op class (``npgrad.autograd.Function`` and its subclasses, at any depth) defined
    so far: what the scripts that wrap each op's ``forward`` and ``backward`` walk."""
    from npgrad.autograd.function import Function

    found, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def import_torch():
    """PyTorch if installed, else None (benchmarks then report npgrad alone)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


@dataclass
class Result:
    name: str
    npgrad_s: list = field(default_factory=list)
    torch_s: list = field(default_factory=list)
    unit: str = "s"
    target: float | None = None

    @property
    def npgrad_median(self):
        return statistics.median(self.npgrad_s)

    @property
    def torch_median(self):
        return statistics.median(self.torch_s) if self.torch_s else None

    @property
    def ratio(self):
        """Median over rounds of npgrad's time / PyTorch's time in the same round.

        Each round times both libraries back to back, so a slow moment of a shared machine
        tends to hit both; the per-round ratio cancels it better than a ratio of medians.
        """
        if not self.torch_s:
            return None
        return statistics.median(a / b for a, b in zip(self.npgrad_s, self.torch_s))

    @property
    def ratio_of_medians(self):
        return self.npgrad_median / self.torch_median if self.torch_s else None

    def as_dict(self):
        return {
            "workload": self.name, "unit": self.unit, "npgrad": self.npgrad_s, "torch": self.torch_s,
            "npgrad_median": self.npgrad_median, "torch_median": self.torch_median,
            "ratio": self.ratio, "ratio_of_medians": self.ratio_of_medians, "target": self.target,
        }


def compare(name, npgrad_fn, torch_fn=None, rounds=5, warmup=1, target=None, settle=1):
    """Time both callables ``rounds`` times, interleaved, after ``warmup`` untimed calls each.

    ``settle`` untimed calls run right before each timed one, in the same round: OpenBLAS's
    worker threads busy-wait for a while after a parallel region (OpenMP's too, for less
    long), and on a 2-core machine the other library's spinning threads take the core the
    next call wants. Timed right after npgrad, PyTorch ran far slower than on its own: at
    two threads on a 2-core EPYC, a 4-step round of the LSTM text model took 0.145-0.162 s
    against 0.070-0.081 s after a settling round of its own (and 0.075-0.099 s in a process
    of its own), the seed CNN 0.124-0.133 s against 0.043-0.046 s (0.060-0.062 s alone).
    A settling call absorbs that and keeps each library's own threads awake, as in a
    training loop; sleeping between the calls instead lets npgrad's OpenBLAS threads fall
    asleep, and the timed call pay their wake-up. ``settle=0`` reproduces the older
    benchmarks, which flattered npgrad at two threads. One process still shares its heap:
    PyTorch's ResNet ran faster after npgrad had trained in the same process (0.35-0.39 s
    a round against 0.39-0.47 s alone), so ``bench_processes.py`` runs each setup in
    processes of its own.
    """
    result = Result(name, target=target)
    for _ in range(warmup):
        npgrad_fn()
        if torch_fn is not None:
            torch_fn()
    for _ in range(rounds):
        for _ in range(settle):
            npgrad_fn()
        start = time.perf_counter()
        npgrad_fn()
        result.npgrad_s.append(time.perf_counter() - start)
        if torch_fn is not None:
            for _ in range(settle):
                torch_fn()
            start = time.perf_counter()
            torch_fn()
            result.torch_s.append(time.perf_counter() - start)
    return result


def print_table(results, title):
    """Markdown table: workload, medians, ratio, target."""
    print(f"\n### {title}\n")
    print("| workload | npgrad (median s) | PyTorch (median s) | npgrad/PyTorch (median of rounds) "
          "| target |")
    print("|---|---|---|---|---|")
    for r in results:
        torch_s = f"{r.torch_median:.4f}" if r.torch_median is not None else "n/a"
        ratio = f"**{r.ratio:.2f}**" if r.ratio is not None else "n/a"
        target = f"<= {r.target:.2f}" if r.target is not None else ""
        print(f"| {r.name} | {r.npgrad_median:.4f} | {torch_s} | {ratio} | {target} |")


def machine_info():
    torch = import_torch()
    return {
        "machine": platform.machine(), "processor": platform.processor(),
        "cpus": os.cpu_count(), "threads": THREADS, "load_average": os.getloadavg(), "python": platform.python_version(),
        "numpy": np.__version__, "torch": torch.__version__ if torch else None,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_json(results, path, extra=None):
    """Write the raw timings and the machine description to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine_info(), "results": [r.as_dict() for r in results]}
    payload.update(extra or {})
    path.write_text(json.dumps(payload, indent=2))
    print(f"\nwrote {path}")
