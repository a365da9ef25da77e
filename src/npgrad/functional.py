"""The layers' functional maths, ``import npgrad.functional as F`` (kept for existing code).

**The public op namespace is** :mod:`npgrad.ops` (Keras 3's ``keras.ops``): new code should
use ``from npgrad import ops``. ``F`` stays as a thin alias layer over the same primitives in
``npgrad.primitives``, with the fused entry points the built-in layers call (``F.dense``,
``F.conv2d``, ``F.max_pool2d``, ``F.batch_norm``, ``F.conv2d_max_pool2d``...) and
per-sample loss values; its elementwise and shape names are the very functions
``npgrad.ops`` builds on. Names follow Keras where Keras has one, NumPy otherwise. Every function accepts Tensors,
ndarrays or numbers and returns a Tensor. Every name listed in ``__all__`` has an entry in
the gradient-check registry (``tests/gradcheck``).

Example:
    >>> import numpy as np, npgrad
    >>> import npgrad.functional as F
    >>> x = npgrad.Tensor(np.random.randn(2, 28, 28, 1).astype("float32"))
    >>> k = npgrad.Tensor(np.random.randn(3, 3, 1, 8).astype("float32"), requires_grad=True)
    >>> y = F.max_pool2d(F.relu(F.conv2d(x, k, padding="same")), 2)
    >>> y.shape
    (2, 14, 14, 8)
"""

from npgrad.primitives.activation import (
    elu,
    gelu,
    hard_sigmoid,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from npgrad.primitives.adaptive_pool import adaptive_average_pool, adaptive_max_pool
from npgrad.primitives.attention import dot_product_attention, einsum
from npgrad.primitives.conv import conv2d, conv2d_transpose
from npgrad.primitives.conv1d import conv1d
from npgrad.primitives.conv_nd import conv, conv1d_transpose, conv3d, conv3d_transpose
from npgrad.primitives.conv_pool import conv2d_max_pool2d
from npgrad.primitives.depthwise import (
    depthwise_conv1d,
    depthwise_conv2d,
    separable_conv1d,
    separable_conv2d,
)
from npgrad.primitives.elementwise import (
    abs,
    add,
    add_relu,
    cast,
    clip,
    divide,
    exp,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    sqrt,
    square,
    subtract,
    where,
)
from npgrad.primitives.linalg import dense, matmul
from npgrad.primitives.loss import (
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)
from npgrad.primitives.nn import batch_norm, dropout, embedding, layer_norm
from npgrad.primitives.pool import (
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    upsampling2d,
)
from npgrad.primitives.pool_nd import avg_pool3d, global_avg_pool3d, global_max_pool3d, max_pool3d
from npgrad.primitives.reduce import max, mean, min, std, sum, var
from npgrad.primitives.shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    getitem,
    pad,
    reshape,
    squeeze,
    stack,
    transpose,
)

from npgrad.primitives.group_norm import group_norm  # issue 12

mse = mean_squared_error
mae = mean_absolute_error
swish = silu


def flatten(x):
    """Flatten every axis but the first (batch) one: (N, ...) -> (N, prod(...))."""
    n = x.shape[0]
    return reshape(x, (n, -1))


def zero_padding2d(x, padding=1):
    """Pad the spatial axes of an NHWC tensor with zeros.

    Args:
        x: (N, H, W, C) tensor.
        padding: int, (pad_h, pad_w) or ((top, bottom), (left, right)).

    Returns:
        Tensor of shape (N, H + top + bottom, W + left + right, C).
    """
    if isinstance(padding, int):
        padding = ((padding, padding), (padding, padding))
    elif all(isinstance(p, int) for p in padding):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    return pad(x, ((0, 0), tuple(padding[0]), tuple(padding[1]), (0, 0)))


__all__ = [
    # elementwise
    "abs", "add", "add_relu", "cast", "clip", "divide", "exp", "log", "maximum", "minimum",
    "multiply", "negative", "power", "sqrt", "square", "subtract", "where",
    # reductions
    "max", "mean", "min", "std", "sum", "var",
    # shape
    "broadcast_to", "concatenate", "expand_dims", "flatten", "getitem", "pad", "reshape",
    "squeeze", "stack", "transpose", "zero_padding2d",
    # linear algebra
    "dense", "matmul",
    # activations
    "elu", "gelu", "hard_sigmoid", "leaky_relu", "linear", "log_softmax", "relu", "selu",
    "sigmoid", "silu", "softmax", "softplus", "softsign", "tanh",
    # convolution and pooling
    "conv1d", "conv2d", "conv2d_transpose", "conv2d_max_pool2d", "avg_pool2d", "global_avg_pool2d",
    "global_max_pool2d", "max_pool2d", "upsampling2d",
    # layers' maths
    "batch_norm", "dropout", "embedding", "layer_norm",
    # losses (per-sample values; the Loss classes average them)
    "binary_crossentropy", "categorical_crossentropy", "huber", "mean_absolute_error",
    "mean_squared_error", "sparse_categorical_crossentropy",
    # more convolution and pooling (3-D, transposed, grouped, depthwise, separable, adaptive)
    "adaptive_average_pool", "adaptive_max_pool", "avg_pool3d", "conv", "conv1d_transpose",
    "conv3d", "conv3d_transpose", "depthwise_conv1d", "depthwise_conv2d", "global_avg_pool3d",
    "global_max_pool3d", "max_pool3d", "separable_conv1d", "separable_conv2d",
    # group normalization
    "group_norm",
    # attention
    "dot_product_attention", "einsum",
]  # fmt: skip
