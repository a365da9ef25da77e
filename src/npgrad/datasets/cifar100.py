"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images in 100 classes (20
superclasses), as ``keras.datasets.cifar100``.

Example:
    >>> from npgrad.datasets import cifar100
    >>> (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode="coarse")
"""

from npgrad.datasets.cifar import load_cifar100

__all__ = ["load_data"]


def load_data(label_mode="fine", *, path=None, verify=True):
    """Load CIFAR-100.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
        path, verify: as :func:`npgrad.datasets.cifar10.load_data` (the archive is
            ``cifar-100-python.tar.gz``, the folder ``cifar-100-python/``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays (50000, 32, 32, 3),
        (50000, 1), (10000, 32, 32, 3), (10000, 1).
    """
    return load_cifar100(label_mode=label_mode, path=path, verify=verify)
