"""Two cores as two processes or two model replicas: npgrad data-parallel against threads,
and PyTorch.

    python benchmarks/bench_processes.py                          # every workload
    python benchmarks/bench_processes.py --only resnet --blocks 3 --rounds 5

NumPy gives npgrad's second core only to BLAS: element-wise passes (batch norm, ReLUs,
padding copies, recurrent gates) run on one. Two MPI processes of one BLAS thread each
(``npgrad.distribution.DataParallel``, the global batch cut in two, one gradient allreduce
per step) run all of it on both cores. This benchmark trains the models of
``bench_workloads.py`` (global batch 64, Adam, 4 steps a round; the DCGAN through
``train_on_batch``, which cuts the global batch as ``fit`` does) five ways, each in a
process of its own, so that neither library's threads nor its heap meet the other's:

- npgrad, ``mpiexec -n N``, one BLAS thread per process;
- npgrad, one process, N BLAS threads;
- npgrad, one process, ``DataParallel(threads=N)``: N replicas of the model in N threads,
  one BLAS thread each (``npgrad.distribution.threads``), the MPI setup without MPI;
- npgrad, one process started, ``DataParallel(processes=N)``: ``fit`` forks N - 1 copies
  of it (``npgrad.distribution.processes``), one BLAS thread each, the MPI setup from a
  plain ``python``. The fork costs tens of milliseconds per ``fit`` (the copy-on-write
  faults of the pages either process writes next), which a real ``fit`` of hundreds of
  steps spreads thin: this setup times its rounds inside one ``fit`` of all of them (a
  callback's clock in the caller) and drops the first, which holds the fork, as the others
  drop their warm-up. The DCGAN goes through ``fit`` here (the same ``train_step`` as its
  ``train_on_batch`` elsewhere, which does not fork);
- PyTorch, one process, N threads.

Blocks of rounds alternate between the setups; the table gives the median seconds
per round and the ratios to PyTorch, and a second table the ratio block by block (the
median and the range of the blocks' ratios, see :func:`block_ratios`). Separate processes
matter in both directions: in one process, PyTorch right after npgrad met OpenBLAS's
still-spinning workers (slower, see ``harness.compare``), and after npgrad had trained,
PyTorch's ResNet ran 0.35-0.39 s per round against 0.39-0.47 s in a process of its own
(npgrad's freed memory had left a warm heap behind). Batch normalization keeps per-process
statistics in the data-parallel runs, over processes or threads (what Keras's distribution
strategies do by default), so those runs normalize over 32 samples where the others use 64.
Needs ``pip install "npgrad[mpi]"``
(mpi4py and MPICH's ``mpiexec``) and, for the last setup, PyTorch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("resnet", "lstm", "gru", "conv1d", "dcgan", "transformer", "gelu", "cifarcnn", "seedcnn",
         "mobilenet", "unet", "bilstm", "textavg")


def child(kind, library, steps, rounds):
    """Train ``kind`` for one warm-up and ``rounds`` timed rounds; print the seconds (rank 0)."""
    sys.path.insert(0, str(HERE))
    import bench_workloads

    import npgrad

    if library == "npgrad-forked":
        seconds = rounds_in_one_forked_fit(kind, steps, rounds, int(os.environ["BENCH_THREADS"]))
        print(json.dumps(seconds))
        return
    if library == "torch":
        from harness import import_torch

        torch = import_torch()
        torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
        run = bench_workloads.torch_trainer(kind, steps, torch)
        chief = True
    else:
        npgrad.distribution.initialize()  # a no-op outside mpiexec
        if npgrad.distribution.num_processes() > 1:
            npgrad.distribution.set_distribution(npgrad.distribution.DataParallel())
        if library == "npgrad-threads":
            npgrad.distribution.set_distribution(
                npgrad.distribution.DataParallel(threads=int(os.environ["BENCH_THREADS"])))
        if library == "npgrad-forked":
            npgrad.distribution.set_distribution(
                npgrad.distribution.DataParallel(processes=int(os.environ["BENCH_THREADS"])))
        npgrad.utils.set_num_threads(int(os.environ["BENCH_THREADS"]))
        run = bench_workloads.npgrad_trainer(kind, steps)
        chief = npgrad.distribution.process_id() == 0
    run()
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    if chief:
        print(json.dumps(seconds))


def rounds_in_one_forked_fit(kind, steps, rounds, processes):
    """Seconds of each round of ``steps`` steps in one ``fit`` under
    ``DataParallel(processes=processes)``, the first round (the fork's) left out."""
    import bench_workloads
    import numpy as np

    import npgrad

    npgrad.utils.set_num_threads(processes)
    npgrad.distribution.set_distribution(npgrad.distribution.DataParallel(processes=processes))
    x, y = bench_workloads.data(kind, steps)
    x = np.concatenate([x] * (rounds + 1))
    y = None if y is None else np.concatenate([y] * (rounds + 1))
    if kind == "dcgan":  # GAN.train_step through fit
        model = bench_workloads.npgrad_gan()
    else:
        model = bench_workloads.npgrad_model(kind)
        model.compile(optimizer="adam", loss=bench_workloads.npgrad_loss(kind))
    times = []

    class Clock(npgrad.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % steps == 0:
                times.append(time.perf_counter())

    model.fit(x, y, batch_size=bench_workloads.BATCHES.get(kind, bench_workloads.BATCH),
              epochs=1, shuffle=False, verbose=0, callbacks=[Clock()])
    return [float(t) for t in np.diff(times)]


def measure(kind, setup, steps, rounds):
    """Seconds per round of one block of ``rounds``, in fresh processes."""
    processes, threads, library = setup
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--library",
               library, "--steps", str(steps), "--rounds", str(rounds)]
    if processes > 1:
        mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) \
            or shutil.which("mpiexec")
        if mpiexec is None:
            raise SystemExit("mpiexec not found: pip install \"npgrad[mpi]\"")
        command = [mpiexec, "-n", str(processes)] + command
    env = dict(os.environ, BENCH_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join([str(HERE.parent / "src"),
                                           os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def block_ratios(seconds, reference, blocks):
    """(median, lowest, highest) of the per-block ratios of two setups' rounds, or None.

    The setups run block after block in turn, so block ``b`` of each was timed in the same
    stretch of minutes: on a shared host whose speed drifts (PyTorch's own Embedding + LSTM
    rounds took 0.052-0.076 s in four runs of one afternoon) the ratio of each block's
    medians is steadier than the ratio of the whole runs' medians, and their spread says
    how far a single ratio can be trusted.
    """
    if not seconds or len(seconds) != len(reference) or len(seconds) % blocks:
        return None
    per = len(seconds) // blocks
    ratios = [statistics.median(seconds[b * per:(b + 1) * per])
              / statistics.median(reference[b * per:(b + 1) * per]) for b in range(blocks)]
    return statistics.median(ratios), min(ratios), max(ratios)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(KINDS), help="comma list of " + ",".join(KINDS))
    parser.add_argument("--cores", type=int, default=2, help="processes, or threads per process")
    parser.add_argument("--blocks", type=int, default=3, help="alternations of the setups")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per block")
    parser.add_argument("--steps", type=int, default=4, help="training steps per round")
    parser.add_argument("--child", choices=KINDS)
    parser.add_argument("--library", choices=("npgrad", "npgrad-threads", "npgrad-forked",
                                              "torch"),
                        default="npgrad")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.library, args.steps, args.rounds)
        return None
    n = args.cores
    setups = {f"npgrad, {n} processes x 1 thread": (n, 1, "npgrad"),
              f"npgrad, 1 process x {n} threads": (1, n, "npgrad"),
              f"npgrad, 1 process x {n} replicas": (1, n, "npgrad-threads"),
              f"npgrad, {n} processes forked by fit": (1, n, "npgrad-forked")}
    try:
        import torch  # noqa: F401
        setups[f"PyTorch, 1 process x {n} threads"] = (1, n, "torch")
    except ImportError:
        print("PyTorch not installed: npgrad's setups only")
    table = {}
    for kind in args.only.split(","):
        seconds = {name: [] for name in setups}
        for _ in range(args.blocks):
            for name, setup in setups.items():
                seconds[name] += measure(kind, setup, args.steps, args.rounds) or []
        table[kind] = {name: statistics.median(s) if s else None for name, s in seconds.items()}
        table[kind]["rounds"] = seconds
    names = list(setups)
    torch_name = next((name for name in names if name.startswith("PyTorch")), None)
    print(f"\n### {n} cores: seconds per round of {args.steps} steps (median), ratio to PyTorch\n")
    print("| workload | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for kind, row in table.items():
        cells = []
        for name in names:
            if row[name] is None:
                cells.append("-")
                continue
            ratio = f" ({row[name] / row[torch_name]:.2f})" if torch_name else ""
            cells.append(f"{row[name]:.3f}{ratio}")
        print(f"| {kind} | " + " | ".join(cells) + " |")
    if torch_name:
        ours = [name for name in names if name != torch_name]
        print(f"\n### the ratio block by block: median [lowest-highest] of the {args.blocks} "
              "blocks' ratios\n")
        print("| workload | " + " | ".join(ours) + " |")
        print("|---|" + "---|" * len(ours))
        for kind, row in table.items():
            cells = []
            for name in ours:
                spread = block_ratios(row["rounds"][name], row["rounds"][torch_name], args.blocks)
                cells.append("-" if spread is None else "{:.2f} [{:.2f}-{:.2f}]".format(*spread))
            print(f"| {kind} | " + " | ".join(cells) + " |")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = HERE / "results" / f"processes-{stamp}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"cores": n, "steps": args.steps, "table": table}, indent=1))
    print(f"\nwrote {path}")
    return table


if __name__ == "__main__":
    main()
