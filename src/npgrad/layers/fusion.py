"""Layer fusion: run Conv2D + MaxPooling2D((2, 2)) as one op when a model's graph allows it.

Sequential and functional models ask :func:`fusable` about each Conv2D whose output feeds
only a MaxPooling2D, and run the pair with :func:`conv_max_pool`: one
``F.conv2d_max_pool2d`` call (conv, optional ReLU and pooling in one pass over the data),
with the same values and gradients as the two layers, about half the work. Calling the
layers one by one (``layer(x)``) is never affected.
"""

from __future__ import annotations

import npgrad.functional as F
from npgrad.layers.conv import Conv2D
from npgrad.layers.pooling import MaxPooling2D

__all__ = ["fusable", "conv_max_pool"]


def fusable(conv, pool):
    """Whether ``conv`` then ``pool`` can run as one ``F.conv2d_max_pool2d`` op."""
    return (
        type(conv) is Conv2D and type(pool) is MaxPooling2D
        and conv.strides == (1, 1) and conv.dilation_rate == (1, 1)
        and conv.activation in (F.relu, F.linear)
        and pool.pool_size == (2, 2) and pool.strides == (2, 2) and pool.padding == "valid"
    )


def conv_max_pool(conv, x):
    """Run a fusable Conv2D + MaxPooling2D pair on ``x`` as one op (builds ``conv`` if needed)."""
    x = conv._prepare_input(x)
    conv._maybe_build(x.shape)
    conv._check_input(x)
    return F.conv2d_max_pool2d(x, conv.kernel, conv.bias, padding=conv.padding,
                               relu=conv.activation is F.relu)
