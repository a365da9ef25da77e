"""MNIST handwritten digits, loaded like ``keras.datasets.mnist``.

Example:
    >>> from npgrad.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.shape, y_train[:3]
    ((60000, 28, 28), array([5, 0, 4], dtype=uint8))
"""

from __future__ import annotations

import numpy as np

from npgrad.datasets._download import DEFAULT_TIMEOUT, DatasetSpec, load_idx_dataset

__all__ = ["MIRRORS", "SHA256", "SPEC", "load_data"]

#: Base URLs tried in order; each serves ``<file name>.gz``. Overridden by
#: ``load_data(mirrors=...)`` or the ``NPGRAD_MNIST_MIRROR`` environment variable.
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

#: SHA-256 of the *uncompressed* files, so that gzip and raw copies verify alike.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Everything the loader knows about the files; read at call time (tests replace it).
SPEC = DatasetSpec(
    name="mnist",
    title="MNIST",
    files={
        "train-images-idx3-ubyte": (np.uint8, (60000, 28, 28)),
        "train-labels-idx1-ubyte": (np.uint8, (60000,)),
        "t10k-images-idx3-ubyte": (np.uint8, (10000, 28, 28)),
        "t10k-labels-idx1-ubyte": (np.uint8, (10000,)),
    },
    mirrors=MIRRORS,
    mirror_env="NPGRAD_MNIST_MIRROR",
    data_subfolders=("mnist",),
    sha256=SHA256,
)


def load_data(path=None, *, mirrors=None, verify=True, timeout=DEFAULT_TIMEOUT):
    """Load the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digits.

    Each of the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, raw or ``.gz``) is looked for in:
    the ``path`` folder; ``$NPGRAD_DATA/mnist`` and ``$NPGRAD_DATA``; the cache
    (``$NPGRAD_CACHE/mnist``, else ``$XDG_CACHE_HOME/npgrad/datasets/mnist``, else
    ``~/.cache/npgrad/datasets/mnist``). Only if it is in none of them is it downloaded from
    the mirrors into the cache (atomically, SHA-256 verified). Set ``NPGRAD_OFFLINE=1`` to
    never download.

    Args:
        path: folder holding the IDX files, or a Keras-style ``mnist.npz`` file. A bare
            ``"mnist.npz"`` that does not exist (Keras' default) is ignored.
        mirrors: base URLs to download from instead of :data:`MIRRORS`
            (or ``NPGRAD_MNIST_MIRROR``, comma-separated).
        verify: also check the SHA-256 of files found in ``path`` / ``NPGRAD_DATA``
            (about 0.1 s). Files in the cache and downloads are always checked; every file
            always gets the structural check (header, dims, length).
        timeout: seconds per HTTP request.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,); pixels 0..255, labels 0..9.

    Raises:
        CorruptFileError: a file was found but is truncated, has a wrong header, or (a
            ``ChecksumError``) the wrong SHA-256; the message names the file.
        DatasetNotFoundError: a file is nowhere to be found and could not be downloaded;
            the message lists where it looked and how to supply the data.
    """
    return load_idx_dataset(SPEC, path=path, mirrors=mirrors, verify=verify, timeout=timeout)
