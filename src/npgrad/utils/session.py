"""``clear_session``: forget what earlier models left behind in this process.

Example:
    >>> import npgrad
    >>> npgrad.utils.clear_session()
    >>> npgrad.layers.Dense(2).name
    'dense'
"""

from __future__ import annotations

import gc

from npgrad.primitives import workspace
from npgrad.utils.naming import reset_uids


def clear_session(free_memory=True):
    """Reset what Keras keeps between models (``keras.backend.clear_session``, also
    ``keras.utils.clear_session``): layer names start over (the next Dense is ``dense``, not
    ``dense_12``), and with ``free_memory`` the scratch buffers the ops reuse (this
    thread's) are released and Python's garbage collector runs."""
    reset_uids()
    if free_memory:
        workspace.clear()
        gc.collect()
