"""Data-parallel training against one process: model A on MNIST, global batch 128, one epoch.

    python benchmarks/bench_data_parallel.py --rounds 3

Runs ``examples/mnist_data_parallel.py`` alternately as one process with 2 BLAS threads and as
``mpiexec -n 2`` with 1 thread each (the 2 cores shared either way), and reports the median
steps per second, the test accuracy after the epoch and the time each step spends in the
gradient allreduce. Needs MNIST (``NPGRAD_DATA``) and ``pip install "npgrad[mpi]"``.
Results go to benchmarks/results/data_parallel.json.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mnist_data_parallel.py"


def run(processes, threads, epochs):
    command = [sys.executable, str(EXAMPLE), "--epochs", str(epochs), "--out", "/tmp/npgrad_dp"]
    if processes > 1:
        mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) \
            or shutil.which("mpiexec")
        command = [mpiexec, "-n", str(processes)] + command
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads),
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    steps = float(re.search(r"([0-9.]+) steps/s", out).group(1))
    allreduce = float(re.search(r"allreduce ([0-9.]+) ms", out).group(1))
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    return steps, allreduce, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    setups = {"1 process x 2 threads": (1, 2), "2 processes x 1 thread (mpiexec)": (2, 1)}
    measured = {name: [] for name in setups}
    for _ in range(args.rounds):  # interleaved, so the machine's noise hits both alike
        for name, (processes, threads) in setups.items():
            measured[name].append(run(processes, threads, args.epochs))
            print(name, measured[name][-1], flush=True)
    table = {}
    for name, runs in measured.items():
        table[name] = {
            "steps_per_second": statistics.median(r[0] for r in runs),
            "allreduce_ms_per_step": statistics.median(r[1] for r in runs),
            "test_accuracy": statistics.median(r[2] for r in runs),
            "runs": runs,
        }
    one, two = (table[name]["steps_per_second"] for name in setups)
    table["speedup_2_processes"] = two / one
    print(json.dumps(table, indent=2))
    out = ROOT / "benchmarks" / "results" / "data_parallel.json"
    out.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
