"""Layer fusion: run two consecutive layers as one op when a model's graph allows it.

Sequential and functional models ask :func:`fused_pair` about each layer whose output
feeds only one other layer (and is not a model output); when it returns a runner, the
pair runs as one op with the same values and gradients as the two layers:

- ``Conv2D`` (stride 1, relu or linear) + ``MaxPooling2D((2, 2))``:
  ``F.conv2d_max_pool2d`` (conv, optional ReLU and pooling in one pass over the data),
  about half the work;
- ``BatchNormalization`` (channels last) + ``ReLU()`` or ``Activation('relu')``:
  ``F.batch_norm(..., relu=True)``, the ReLU applied in place inside the normalization:
  one activation-sized array and one pass fewer per pair, the pattern of every residual
  network;
- ``Add`` of two tensors of one shape + a plain ReLU (the end of a residual block):
  ``F.add_relu``, likewise.

Calling the layers one by one (``layer(x)``) is never affected; ``model.fuse_layers =
False`` turns fusion off for a model.
"""

from __future__ import annotations

import npgrad.functional as F
from npgrad.layers.conv import Conv2D
from npgrad.layers.core import Activation, ReLU
from npgrad.layers.masks import get_keras_mask
from npgrad.layers.merging import Add
from npgrad.layers.normalization import BatchNormalization
from npgrad.layers.pooling import MaxPooling2D

__all__ = ["fusable", "conv_max_pool", "batch_norm_relu", "add_relu", "fused_pair"]


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


def _batch_norm_relu_fusable(norm, act):
    return (type(norm) is BatchNormalization and _plain_relu(act)
            and not getattr(norm, "synchronized", False))


def batch_norm_relu(norm, act, x, training=False):
    """Run BatchNormalization then a plain ReLU on ``x`` as one op (builds ``norm`` if needed).

    Falls back to the two layers when ``x`` carries a timestep mask (masked statistics) or
    the normalized axis turns out not to be the last one.
    """
    if get_keras_mask(x) is not None:
        return act(norm(x, training=training), training=training)
    x = norm._prepare_input(x)
    norm._maybe_build(x.shape)
    if norm._axes[0] != len(x.shape) - 1:
        return act(norm(x, training=training), training=training)
    return norm.call(x, training=training, relu=True)


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
