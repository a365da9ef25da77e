"""How many threads NumPy's BLAS (OpenBLAS) uses, settable at run time.

Example:
    >>> npgrad.utils.set_num_threads(1)   # like torch.set_num_threads(1)
    >>> npgrad.utils.get_num_threads()
    1

The GEMMs of small models at batch 32 are short, and OpenBLAS's worker threads wait for each
other on every call: on a machine whose cores are busy with other work that wait can cost
far more than the product itself (see docs/performance.md). One thread is then faster.
NumPy offers no switch for this, so this module finds the OpenBLAS library NumPy loaded
(through ``/proc/self/maps`` on Linux) and calls its ``set_num_threads`` entry point, as
threadpoolctl does. Where no OpenBLAS is found (another BLAS, another OS) the functions
report that instead of guessing; the ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``
environment variables, set before Python starts, work everywhere.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

_PREFIXES = ("openblas", "scipy_openblas")
_SUFFIXES = ("", "64_", "_64")


@functools.lru_cache(maxsize=1)
def _openblas():
    """(set, get) functions of the loaded OpenBLAS, or None."""
    np.dot(np.ones(2), np.ones(2))  # make sure NumPy's BLAS is loaded
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.restype, getter.restype = None, ctypes.c_int
                    setter.argtypes = [ctypes.c_int]
                    return setter, getter
    return None


def get_num_threads():
    """Threads NumPy's OpenBLAS uses for one product, or None when no OpenBLAS was found."""
    functions = _openblas()
    return None if functions is None else int(functions[1]())


def set_num_threads(n):
    """Set the threads NumPy's OpenBLAS uses (for this process, from now on).

    Args:
        n: a positive int.

    Returns:
        The previous number of threads.

    Raises:
        ValueError: ``n`` is not a positive int.
        RuntimeError: NumPy is not using OpenBLAS here (set ``OMP_NUM_THREADS`` or the
            variable of your BLAS before starting Python instead).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    functions = _openblas()
    if functions is None:
        raise RuntimeError(
            "set_num_threads: NumPy's BLAS is not an OpenBLAS this process can reach; set "
            "OMP_NUM_THREADS (or your BLAS's variable) before starting Python instead"
        )
    setter, getter = functions
    previous = int(getter())
    setter(int(n))
    return previous
