"""The process group and the distribution in effect for this process (Keras 3's ``set_distribution`` /
``distribution``), kept in a module of its own so the optimizers and the trainer can ask for
it without importing MPI."""

from __future__ import annotations

from npgrad.distribution.communicator import LocalCommunicator

_CURRENT = {"distribution": None, "communicator": LocalCommunicator()}


def communicator():
    """The process group: MPI's after ``initialize()`` under mpiexec, else one process."""
    return _CURRENT["communicator"]


def set_communicator(value):
    """Replace the process group (``initialize`` does it)."""
    _CURRENT["communicator"] = value


def set_distribution(value):
    """Make ``value`` (a :class:`~npgrad.distribution.DataParallel`, or None) the
    distribution that ``fit``, ``evaluate``, ``predict`` and the optimizers use."""
    if value is not None and not hasattr(value, "reduce_gradients"):
        raise TypeError(f"set_distribution: expected npgrad.distribution.DataParallel or None, "
                        f"got {type(value).__name__}")
    _CURRENT["distribution"] = value


def distribution():
    """The distribution set by :func:`set_distribution`, or None."""
    return _CURRENT["distribution"]


def active():
    """The distribution when it spans more than one process, else None (nothing to do)."""
    value = _CURRENT["distribution"]
    return value if value is not None and value.num_processes > 1 else None
