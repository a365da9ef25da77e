"""Fashion-MNIST (Zalando article images), loaded like ``keras.datasets.fashion_mnist``.

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot (see :data:`CLASS_NAMES`).

Files are verified structurally (IDX header, dims, length): no SHA-256 of the
Fashion-MNIST files is built in, because we have none from a source we could check.
Add your own with ``SHA256[...] = "..."`` (of the uncompressed files) if you want them.

Example:
    >>> from npgrad.datasets import fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
"""

from __future__ import annotations

from npgrad.datasets import mnist
from npgrad.datasets._download import DEFAULT_TIMEOUT, DatasetSpec, load_idx_dataset

__all__ = ["CLASS_NAMES", "MIRRORS", "SHA256", "SPEC", "load_data"]

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

#: Base URLs tried in order; each serves ``<file name>.gz``. Overridden by
#: ``load_data(mirrors=...)`` or the ``NPGRAD_FASHION_MNIST_MIRROR`` environment variable.
MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

#: SHA-256 of the uncompressed files; empty: verification is structural (see module doc).
SHA256: dict = {}

#: Folder where Debian's ``dataset-fashion-mnist`` package installs the files.
DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist"

SPEC = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST",
    files=dict(mnist.SPEC.files),
    mirrors=MIRRORS,
    mirror_env="NPGRAD_FASHION_MNIST_MIRROR",
    data_subfolders=("fashion_mnist", "fashion-mnist"),
    system_folders=(DEBIAN_FOLDER,),
    sha256=SHA256,
    # MNIST uses the same file names: never take MNIST's files for Fashion-MNIST's
    # when both sit in one shared folder such as $NPGRAD_DATA.
    foreign_sha256=mnist.SHA256,
)


def load_data(path=None, *, mirrors=None, verify=True, timeout=DEFAULT_TIMEOUT):
    """Load Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale clothing images.

    Works like :func:`npgrad.datasets.mnist.load_data`; the search order is the ``path``
    folder, ``$NPGRAD_DATA/fashion_mnist``, ``$NPGRAD_DATA/fashion-mnist``, ``$NPGRAD_DATA``
    (where files identical to MNIST's are skipped), the cache
    (``.../npgrad/datasets/fashion_mnist``), Debian's ``/usr/share/datasets/fashion-mnist``,
    then the mirrors. Verification is structural unless :data:`SHA256` is filled in.

    Args:
        path: folder holding the four IDX files (raw or ``.gz``), or a Keras-style ``.npz``.
        mirrors: base URLs to download from instead of :data:`MIRRORS`
            (or ``NPGRAD_FASHION_MNIST_MIRROR``).
        verify: check SHA-256 (where known) for files in ``path`` / ``NPGRAD_DATA`` too.
        timeout: seconds per HTTP request.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,); labels 0..9 index :data:`CLASS_NAMES`.

    Raises:
        CorruptFileError: a file was found but is damaged; the message names it.
        DatasetNotFoundError: not found anywhere and not downloadable; the message says
            where it looked and how to supply the data.
    """
    return load_idx_dataset(SPEC, path=path, mirrors=mirrors, verify=verify, timeout=timeout)
