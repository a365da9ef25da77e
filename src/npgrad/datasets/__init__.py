"""Datasets in Keras' layout: ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``,
``imdb``, ``reuters``, ``boston_housing`` (each ``<name>.load_data()``).

Data is found locally (``path=``, ``NPGRAD_DATA``, the user cache) or downloaded once,
verified, into the cache; see docs/datasets.md. :mod:`npgrad.datasets.idx` reads and
writes the IDX format itself.
"""

from npgrad.datasets import (
    boston_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    idx,
    imdb,
    mnist,
    reuters,
)
from npgrad.datasets._download import ChecksumError, DatasetNotFoundError, cache_dir
from npgrad.datasets.idx import CorruptFileError, DatasetError, read_idx, write_idx

__all__ = [
    "ChecksumError",
    "CorruptFileError",
    "DatasetError",
    "DatasetNotFoundError",
    "cache_dir",
    "fashion_mnist",
    "idx",
    "mnist",
    "read_idx",
    "write_idx",
    "boston_housing",
    "cifar10",
    "cifar100",
    "imdb",
    "reuters",
]
