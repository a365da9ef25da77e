"""Automatic names, as Keras gives them: ``dense``, ``dense_1``, ``dense_2``...

One counter per base name, for the whole process, until :func:`reset_uids` (what
``npgrad.backend.clear_session()`` calls).

Example:
    >>> reset_uids()
    >>> unique_name("probe"), unique_name("probe"), get_uid("probe")
    ('probe', 'probe_1', 3)
"""

from __future__ import annotations

_COUNTS = {}


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``... (Keras's layer names)."""
    count = _COUNTS.get(base, 0)
    _COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def get_uid(prefix=""):
    """The next number for ``prefix`` (1 the first time), shared with :func:`unique_name`,
    as ``keras.backend.get_uid``."""
    _COUNTS[prefix] = _COUNTS.get(prefix, 0) + 1
    return _COUNTS[prefix]


def reset_uids():
    """Start every name over: the next Dense is ``dense`` again."""
    _COUNTS.clear()
