"""Pooling and upsampling (NHWC). STUB: being written by a helper."""


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling; backward routes each window's gradient to its first maximum."""
    raise NotImplementedError


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling (with 'same', averages over valid cells only, as Keras)."""
    raise NotImplementedError


def global_avg_pool2d(x, keepdims=False):
    """Mean over H and W: (N, H, W, C) -> (N, C)."""
    raise NotImplementedError


def global_max_pool2d(x, keepdims=False):
    """Max over H and W: (N, H, W, C) -> (N, C)."""
    raise NotImplementedError


def upsampling2d(x, size=2):
    """Nearest-neighbour upsampling: (N, H, W, C) -> (N, H*sh, W*sw, C)."""
    raise NotImplementedError
