"""The exceptions every npgrad file reader raises for a file it cannot use.

One family for all loaders (models, weights, optimizer state, Keras files, IDX/npz data sets),
so a caller catches one type whatever the bytes were:

    >>> try:
    ...     model = npgrad.models.load_model(path)
    ... except npgrad.errors.UnreadableFileError as error:
    ...     print(error.path, error.entry, error.reason)

It subclasses ``ValueError`` (a bad value, as Keras raises for a bad file), so code written
against Keras's ``ValueError`` keeps working.
"""

from __future__ import annotations

import os

__all__ = ["UnreadableFileError"]


class UnreadableFileError(ValueError):
    """A file exists but cannot be used: truncated, corrupt, hostile, or of another format.

    Args:
        path: the offending file (None for bytes that came from no file).
        reason: what was wrong, in words (what was expected and what was found).
        entry: the member of an archive (zip entry, HDF5 dataset, JSON key) at fault, or None.

    Attributes:
        path, entry, reason: as given.
    """

    def __init__(self, path: str | os.PathLike | None, reason: str, entry: str | None = None):
        self.path = None if path is None else os.fspath(path)
        self.entry = entry
        self.reason = reason
        where = f"{self.path!r}" if self.path is not None else "the data"
        if entry is not None:
            where += f" (entry {entry!r})"
        super().__init__(f"cannot read {where}: {reason}")

    def __reduce__(self):
        # rebuilt from its attributes: pickling (multiprocessing, MPI) would otherwise call
        # __init__ with the message alone
        return (type(self), (self.path, self.reason, self.entry))
