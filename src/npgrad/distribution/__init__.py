"""Data-parallel training over MPI, with Keras 3's ``keras.distribution`` names.

The same script runs in every process (``mpiexec -n 4 python train.py``, or across
machines with a hostfile); each process holds the whole model and trains on its slice of
every global batch:

    >>> import npgrad
    >>> npgrad.distribution.initialize()          # joins the MPI world under mpiexec; else a no-op
    >>> npgrad.distribution.set_distribution(npgrad.distribution.DataParallel())
    >>> model.fit(x, y, batch_size=256)           # the global batch; each process gets a slice

Install with ``pip install "npgrad[mpi]"`` (mpi4py and the MPICH wheel, which brings
``mpiexec``). Without MPI, ``DataParallel(processes=N)`` forks the ranks from a plain
``python train.py`` for each ``fit``, ``evaluate`` and ``predict`` (Linux), and
``DataParallel(threads=N)`` runs replicas of the model in threads. See docs/distributed.md.
"""

from __future__ import annotations

import os

from npgrad.distribution.communicator import DistributionError, MPICommunicator
from npgrad.distribution.current import (
    communicator,
    distribution,
    set_communicator,
    set_distribution,
)
from npgrad.distribution.data_parallel import DataParallel

__all__ = [
    "initialize", "DataParallel", "set_distribution", "distribution", "list_devices",
    "process_id", "num_processes", "DistributionError", "communicator",
]

#: environment variables MPI launchers set in the processes they start
_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                       "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")

def launched_by_mpi():
    """Whether this process was started by an MPI launcher (``mpiexec``/``mpirun``/``srun``)."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def initialize(job_addresses=None, num_processes=None, process_id=None, timeout=None):
    """Join the MPI world when this process was started by ``mpiexec``; otherwise do nothing.

    Args:
        job_addresses: Keras's argument for JAX clusters; MPI's launcher already knows the
            hosts (pass a hostfile to ``mpiexec``), so it must be None here.
        num_processes, process_id: when given, checked against what MPI says.
        timeout: seconds a collective may wait before the job is declared broken
            (default ``NPGRAD_MPI_TIMEOUT`` or 120).

    Returns:
        The communicator (``rank``, ``size``).

    Raises:
        ImportError: under ``mpiexec`` without mpi4py (``pip install "npgrad[mpi]"``).
        ValueError: ``num_processes`` / ``process_id`` disagree with MPI.
    """
    if job_addresses is not None:
        raise ValueError("npgrad.distribution.initialize: job_addresses is not used with MPI; "
                         "give mpiexec a hostfile instead (see docs/distributed.md)")
    if launched_by_mpi():
        if not isinstance(communicator(), MPICommunicator):
            try:
                import mpi4py  # noqa: F401
            except ImportError:
                raise ImportError(
                    "npgrad.distribution: this process was started by an MPI launcher but "
                    "mpi4py is not installed; pip install \"npgrad[mpi]\""
                ) from None
            set_communicator(MPICommunicator(timeout=timeout))
    comm = communicator()
    if num_processes is not None and int(num_processes) != comm.size:
        raise ValueError(f"npgrad.distribution.initialize: num_processes={num_processes}, but "
                         f"MPI started {comm.size} processes")
    if process_id is not None and int(process_id) != comm.rank:
        raise ValueError(f"npgrad.distribution.initialize: process_id={process_id}, but MPI "
                         f"says this is rank {comm.rank}")
    return comm


def process_id():
    """This process's rank (0 when not distributed)."""
    return communicator().rank


def num_processes():
    """The number of processes training together (1 when not distributed)."""
    return communicator().size


def list_devices(device_type=None):
    """One device per process, as ``"cpu:<rank>"`` (Keras 3 lists its devices this way).

    Args:
        device_type: None or ``"cpu"`` (npgrad computes on the CPU).
    """
    if device_type not in (None, "cpu", "CPU"):
        raise ValueError(f"list_devices: npgrad runs on the CPU, got device_type={device_type!r}")
    return [f"cpu:{rank}" for rank in range(num_processes())]


def is_chief():
    """Whether this process prints and writes files (rank 0, or not distributed)."""
    return process_id() == 0

