"""Keep freed memory for reuse: what a deep-learning framework's caching allocator does.

A training step allocates and frees the same large arrays (im2col columns, activations,
gradients) every step. With glibc's default settings, blocks over a few MB are handed back to
the operating system when freed (``munmap``, or trimming the heap) and the next step's
allocation page-faults every page back in, zero-filled by the kernel. On the seed CNN at batch
128 that doubled the step time. PyTorch avoids it with its own caching allocator; npgrad asks
glibc's ``malloc`` to keep such blocks instead (``mallopt``: serve them from the heap, do not
trim it). Peak memory is unchanged (it is the same arrays); memory is just not returned to the
OS between steps.

``Model.fit``, ``evaluate``, ``predict``, ``train_on_batch`` and an optimizer's first
update (a custom training loop) call :func:`keep_freed_memory`; it acts once. Set
``NPGRAD_MALLOC_TUNING=0`` to leave malloc alone. Outside glibc (macOS, Windows, musl)
nothing happens. A DCGAN trained by ``train_on_batch`` (``bench_workloads.py``'s, 2 threads)
ran 0.75-0.96 s per round of 4 steps without it and 0.67-0.74 s with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 2**20  # glibc's largest accepted value on 64-bit systems
_TRIM_THRESHOLD = 2**30

_state = {"done": False, "result": False}


def keep_freed_memory():
    """Ask glibc's malloc to keep freed blocks up to 32 MiB and not to trim the heap.

    Returns:
        True when the settings were applied (now or earlier), False when this is not glibc or
        ``NPGRAD_MALLOC_TUNING=0`` is set.
    """
    if _state["done"]:
        return _state["result"]
    _state["done"] = True
    if os.environ.get("NPGRAD_MALLOC_TUNING", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    applied = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1
    applied = mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) == 1 and applied
    _state["result"] = applied
    return applied
