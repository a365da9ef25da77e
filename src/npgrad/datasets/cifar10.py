"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes, as
``keras.datasets.cifar10``.

Example:
    >>> from npgrad.datasets import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    >>> x_train.shape, y_train.shape            # ((50000, 32, 32, 3), (50000, 1)), uint8
"""

from npgrad.datasets.cifar import load_cifar10

__all__ = ["CLASS_NAMES", "load_data"]

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")


def load_data(*, path=None, verify=True):
    """Load CIFAR-10 (channels last, as Keras with ``image_data_format() == 'channels_last'``).

    Args:
        path: optional folder holding ``cifar-10-python.tar.gz`` or the extracted
            ``cifar-10-batches-py/`` (or the archive itself); otherwise ``NPGRAD_DATA``,
            Keras's and npgrad's caches are searched, then the archive is downloaded
            (SHA-256 checked).
        verify: check the SHA-256 of an archive found outside npgrad's cache.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays (50000, 32, 32, 3),
        (50000, 1), (10000, 32, 32, 3), (10000, 1).
    """
    return load_cifar10(path=path, verify=verify)
