"""Layer fusion: run two consecutive layers as one op when a model's graph allows it.

Sequential and functional models ask :func:`fused_pair` about each layer whose output
feeds only one other layer (and is not a model output); when it returns a runner, the
pair runs as one op with the same values and gradients as the two layers:

- ``Conv2D`` (stride 1, relu or linear) + ``MaxPooling2D((2, 2))``:
  ``F.conv2d_max_pool2d`` (conv, optional ReLU and pooling in one pass over the data),
  about half the work;
- ``BatchNormalization`` (channels last) + ``ReLU()``, ``Activation('relu')`` or a capped
  ``ReLU(max_value=...)`` (MobileNet's ReLU6): ``F.batch_norm(..., relu=True,
  relu_cap=...)``, the ReLU applied in place inside the normalization: one
  activation-sized array and one pass fewer per pair, the pattern of every residual
  network;
- ``Add`` of two tensors of one shape + a plain ReLU (the end of a residual block):
  ``F.add_relu``, likewise;
- ``Conv2D`` (linear) + ``BatchNormalization``, and the same followed by a ReLU as above
  (:func:`fused_run`, three layers): at inference (``predict``, ``evaluate``, a call with
  ``training=False``) the normalization is folded into the convolution, whose kernel is
  scaled by ``gamma / sqrt(moving_variance + epsilon)`` per output channel and whose bias
  absorbs the shift: one convolution instead of a convolution and a pass of batch norm,
  with the ReLU applied in place. The folding is written with npgrad ops, so gradients
  still reach the kernel, bias, gamma, beta and input. In training the convolution runs
  as is, then batch norm (+ ReLU) as above.

Calling the layers one by one (``layer(x)``) is never affected; ``model.fuse_layers =
False`` turns fusion off for a model.
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad.layers.conv import Conv2D
from npgrad.layers.core import Activation, ReLU
from npgrad.layers.masks import get_keras_mask
from npgrad.layers.merging import Add
from npgrad.layers.normalization import BatchNormalization, check_sizes
from npgrad.layers.pooling import MaxPooling2D

__all__ = ["fusable", "conv_max_pool", "batch_norm_relu", "add_relu", "conv_batch_norm",
           "folded_kernel_and_bias", "fused_pair", "fused_run"]


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


def _plain_relu(layer):
    """A ReLU layer with Keras's defaults, or Activation('relu')."""
    if type(layer) is ReLU:
        return layer.max_value is None and layer.negative_slope == 0 and layer.threshold == 0
    return type(layer) is Activation and layer.activation is F.relu


def _capped_relu(layer):
    """A ReLU layer with only ``max_value`` set (it may be None): what batch norm fuses."""
    return _plain_relu(layer) or (
        type(layer) is ReLU and layer.negative_slope == 0 and layer.threshold == 0)


def _relu_cap(layer):
    """The upper bound of a fusable ReLU layer (None for a plain one)."""
    return layer.max_value if type(layer) is ReLU else None


def _batch_norm_relu_fusable(norm, act):
    return (type(norm) is BatchNormalization and _capped_relu(act)
            and not getattr(norm, "synchronized", False))


def batch_norm_relu(norm, act, x, training=False):
    """Run BatchNormalization then a (capped) ReLU on ``x`` as one op (builds ``norm`` if
    needed).

    Falls back to the two layers when ``x`` carries a timestep mask (masked statistics) or
    the normalized axis turns out not to be the last one.
    """
    if get_keras_mask(x) is not None:
        return act(norm(x, training=training), training=training)
    x = norm._prepare_input(x)
    norm._maybe_build(x.shape)
    if norm._axes[0] != len(x.shape) - 1:
        return act(norm(x, training=training), training=training)
    return norm.call(x, training=training, relu=True, relu_cap=_relu_cap(act))


def add_relu(add, act, inputs, training=False):
    """Run Add on two tensors then a plain ReLU as one op (``F.add_relu``).

    Falls back to the two layers for more than two inputs, inputs of different shapes
    (broadcast merges) or inputs carrying timestep masks.
    """
    inputs = list(inputs)
    if len(inputs) != 2 or any(get_keras_mask(x) is not None for x in inputs):
        return act(add(inputs, training=training), training=training)
    xs = [add._prepare_input(x) for x in inputs]
    if xs[0].shape != xs[1].shape:
        return act(add(xs, training=training), training=training)
    add._maybe_build([x.shape for x in xs])
    return F.add_relu(xs[0], xs[1])


def _conv_batch_norm_fusable(conv, norm):
    return (type(conv) is Conv2D and conv.groups == 1 and conv.activation is F.linear
            and getattr(conv, "activity_regularizer", None) is None
            and type(norm) is BatchNormalization  # synchronized too: at inference it is plain
            and conv.dtype == norm.dtype)  # else the BN's cast of its input would be skipped


def conv_batch_norm(conv, norm, act, x, training=False):
    """Run Conv2D, BatchNormalization and (when ``act`` is given) a (capped) ReLU on ``x``.

    At inference the normalization is folded into the convolution (see the module text);
    in training, or when ``x`` carries a mask or the layers are not built yet, the layers
    run one by one (batch norm and the ReLU as one op).
    """
    if training or get_keras_mask(x) is not None or not norm.built:
        y = conv(x, training=training)
        if act is None:
            return norm(y, training=training)
        if _batch_norm_relu_fusable(norm, act):
            return batch_norm_relu(norm, act, y, training)
        return act(norm(y, training=training), training=training)
    x = conv._prepare_input(x)
    conv._maybe_build(x.shape)
    conv._check_input(x)
    if norm._axes != (len(x.shape) - 1,):
        y = norm(conv.call(x), training=False)
        return y if act is None else act(y, training=False)
    check_sizes(norm, tuple(x.shape[:-1]) + (conv.filters,), norm._axes, norm._sizes)
    kernel, bias = folded_kernel_and_bias(conv, norm)
    y = F.conv2d(x, kernel, bias, strides=conv.strides, padding=conv.padding,
                 dilation_rate=conv.dilation_rate)
    return y if act is None else F.relu(y, max_value=_relu_cap(act))


def folded_kernel_and_bias(conv, norm):
    """The kernel and bias of ``norm(conv(x))`` at inference as one convolution.

    ``scale = gamma / sqrt(moving_variance + epsilon)``; kernel ``W * scale`` (per output
    channel), bias ``(b - moving_mean) * scale + beta``. Written with npgrad ops on the
    layers' weights, so a gradient through the folded conv reaches every one of them.
    """
    dtype = conv.kernel.dtype
    mean = np.asarray(getattr(norm.moving_mean, "data", norm.moving_mean), dtype=dtype)
    variance = np.asarray(getattr(norm.moving_variance, "data", norm.moving_variance),
                          dtype=dtype)
    inv = (1.0 / np.sqrt(variance + dtype.type(norm.epsilon))).astype(dtype)  # (F,)
    scale = inv if norm.gamma is None else F.multiply(norm.gamma, inv)
    kernel = F.multiply(conv.kernel, scale)
    shift = -mean if conv.bias is None else F.subtract(conv.bias, mean)
    bias = F.multiply(shift, scale)
    if norm.beta is not None:
        bias = F.add(bias, norm.beta)
    return kernel, bias


def fused_pair(first, second):
    """How to run ``first`` then ``second`` as one op: a ``runner(x, training)``, or None.

    ``x`` is what ``first`` is called with (a list of tensors for ``Add``).
    """
    if fusable(first, second):
        return lambda x, training=False: conv_max_pool(first, x)
    if _batch_norm_relu_fusable(first, second):
        return lambda x, training=False: batch_norm_relu(first, second, x, training)
    if type(first) is Add and _plain_relu(second):
        return lambda xs, training=False: add_relu(first, second, xs, training)
    return None


def fused_run(layers):
    """The longest run of ``layers[0], layers[1], ...`` (at most three) that runs as one op.

    Args:
        layers: consecutive layers, each the only consumer of the one before.

    Returns:
        ``(count, runner)``: the first ``count`` layers run as ``runner(x, training)``
        (``x`` being what ``layers[0]`` is called with); ``(1, None)`` when no run fuses.
    """
    layers = list(layers)[:3]
    if len(layers) >= 2 and _conv_batch_norm_fusable(layers[0], layers[1]):
        conv, norm = layers[0], layers[1]
        if len(layers) == 3 and _capped_relu(layers[2]):
            act = layers[2]
            return 3, lambda x, training=False: conv_batch_norm(conv, norm, act, x, training)
        return 2, lambda x, training=False: conv_batch_norm(conv, norm, None, x, training)
    runner = fused_pair(layers[0], layers[1]) if len(layers) >= 2 else None
    return (2, runner) if runner is not None else (1, None)
