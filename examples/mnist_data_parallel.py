"""The seed CNN on MNIST, data-parallel over MPI processes (one machine or several), or
over replicas of the model in threads of one process.

    mpiexec -n 2 python examples/mnist_data_parallel.py             # 2 processes here
    mpiexec -n 8 -f hosts python examples/mnist_data_parallel.py    # across machines
    python examples/mnist_data_parallel.py --threads 2              # 2 replicas, no MPI
    python examples/mnist_data_parallel.py --processes 2            # fit forks, no MPI
    python examples/mnist_data_parallel.py --quick                  # also runs alone

Every process builds the same model and runs the same script; ``fit`` cuts each global batch
(``--batch-size``, default 128) into one slice per process, sums the gradients with one MPI
allreduce per step, and logs global losses and accuracies. Only rank 0 prints and saves.
Processes that share a machine's cores split them (``mpiexec -n 2`` on 2 cores: one BLAS
thread each; ``OPENBLAS_NUM_THREADS`` overrides). ``pip install "npgrad[mpi]"`` installs
mpi4py and MPICH's ``mpiexec``. With ``--threads N`` one process runs N replicas side by
side, each on its slice of every batch with one BLAS thread (``DataParallel(threads=N)``,
see docs/distributed.md): nothing to install. With ``--processes N`` each ``fit`` forks
N - 1 copies of this process, which train as ``mpiexec -n N`` would
(``DataParallel(processes=N)``, Linux): nothing to install either.
"""

import argparse
import os
import time

from _common import load_mnist
from mnist_cnn import build_model

import npgrad


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--quick", action="store_true", help="small subset and one epoch")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/mnist_data_parallel")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="replicas of the model in threads of this process (no MPI)")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes fit forks from this one (no MPI)")
    args = parser.parse_args(argv)

    npgrad.distribution.initialize()  # joins the MPI world under mpiexec; a no-op alone
    strategy = npgrad.distribution.DataParallel(threads=args.threads, processes=args.processes)
    npgrad.distribution.set_distribution(strategy)
    chief = npgrad.distribution.process_id() == 0
    npgrad.utils.set_random_seed(args.seed)  # rank 0's weights are broadcast anyway

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data, quick=args.quick)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        verbose=2 if chief else 0)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    steps = sum(1 for _ in range(0, len(x_train), args.batch_size)) * args.epochs
    if chief:
        print(f"processes {npgrad.distribution.num_processes()}, forked by fit "
              f"{args.processes or 1}, replicas {strategy.num_processes}, "
              f"{steps / seconds:.1f} steps/s, "
              f"allreduce {1e3 * strategy.seconds_in_allreduce / max(strategy.allreduce_calls, 1):.2f} "
              f"ms per step")
        print(f"train loss {history.history['loss'][-1]:.4f}; test loss {loss:.4f}, "
              f"test accuracy {accuracy:.4f}")
        os.makedirs(args.out, exist_ok=True)
        model.save(os.path.join(args.out, "model.npgrad"))  # only rank 0 writes


if __name__ == "__main__":
    main()
