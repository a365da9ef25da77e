"""Neural-network ops, as ``keras.ops.nn``: activations, one_hot, softmax, convolution,
pooling, normalization, cross-entropies.

Images and sequences are channels-last (``config.image_data_format()``). Every op on floats
is differentiable through the primitives (fused convolution, pooling and cross-entropy;
the rest composed).
"""

from __future__ import annotations

import inspect

import numpy as np

from npgrad.primitives import activation, activation_extra, conv as conv_ops, elementwise, loss
from npgrad.primitives import pool, reduce
from npgrad.primitives.conv1d import conv1d
from npgrad.primitives import math as math_ops, shape as shape_ops
from npgrad.primitives.einsum import einsum
from npgrad.ops.symbolic import keras_op
from npgrad.ops.values import float_dtype, normalize_axes, raw, wrap


def _check_format(name, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{name}: npgrad supports data_format='channels_last' only, got {data_format!r}")


# ------------------------------------------------------------------ activations
@keras_op
def relu(x):
    """max(x, 0) (gradient 0 at 0)."""
    return activation.relu(x)


@keras_op
def relu6(x):
    """min(max(x, 0), 6); the gradient is 0 at exactly 0 and 6 (the ReLU(max_value=6) op)."""
    return activation_extra.relu6(x)


@keras_op
def sigmoid(x):
    """Logistic sigmoid."""
    return activation.sigmoid(x)


@keras_op
def softplus(x):
    """log(1 + exp(x)), stable."""
    return activation.softplus(x)


@keras_op
def softsign(x):
    """x / (1 + |x|)."""
    return activation.softsign(x)


@keras_op
def silu(x):
    """x * sigmoid(x)."""
    return activation.silu(x)


@keras_op
def swish(x):
    """Same as :func:`silu`."""
    return activation.silu(x)


@keras_op
def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable."""
    return math_ops.unary(x, "log_sigmoid")


@keras_op
def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise."""
    return activation.leaky_relu(x, negative_slope)


@keras_op
def hard_sigmoid(x):
    """clip(x / 6 + 0.5, 0, 1)."""
    return activation.hard_sigmoid(x)


@keras_op
def hard_silu(x):
    """x * hard_sigmoid(x), as ``x * relu6(x + 3) / 6`` in one op."""
    return activation_extra.hard_silu(x)


@keras_op
def hard_swish(x):
    """Same as :func:`hard_silu`."""
    return hard_silu(x)


@keras_op
def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return activation.elu(x, alpha)


@keras_op
def selu(x):
    """Scaled ELU (self-normalizing constants)."""
    return activation.selu(x)


@keras_op
def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation by default, as Keras."""
    return activation.gelu(x, approximate=approximate)


@keras_op
def celu(x, alpha=1.0):
    """max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))."""
    negative = elementwise.multiply(math_ops.unary(elementwise.minimum(
        elementwise.divide(x, alpha), 0.0), "expm1"), alpha)
    return elementwise.add(activation.relu(x), negative)


@keras_op
def glu(x, axis=-1):
    """Gated linear unit: a * sigmoid(b), with a, b the two halves of ``axis``."""
    n = raw(x).shape[axis]
    if n % 2:
        raise ValueError(f"glu: axis {axis} must have an even length, got {n}")
    index = [slice(None)] * raw(x).ndim
    index[axis] = slice(0, n // 2)
    a = shape_ops.getitem(x, tuple(index))
    index[axis] = slice(n // 2, n)
    b = shape_ops.getitem(x, tuple(index))
    return elementwise.multiply(a, activation.sigmoid(b))


@keras_op
def hard_tanh(x):
    """clip(x, -1, 1)."""
    return elementwise.clip(x, -1.0, 1.0)


@keras_op
def tanh_shrink(x):
    """x - tanh(x)."""
    return elementwise.subtract(x, activation.tanh(x))


@keras_op
def soft_shrink(x, threshold=0.5):
    """x - threshold above it, x + threshold below -threshold, 0 between."""
    data = raw(x)
    shift = np.where(data > threshold, -threshold, np.where(data < -threshold, threshold, 0))
    inside = np.abs(data) <= threshold
    return elementwise.where(inside, np.zeros((), data.dtype),
                             elementwise.add(x, shift.astype(data.dtype)))


@keras_op
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    data = raw(x)
    return elementwise.where(np.abs(data) > threshold, x, np.zeros((), data.dtype))


@keras_op
def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value``."""
    data = raw(x)
    return elementwise.where(data > threshold, x, np.asarray(default_value, dtype=data.dtype))


@keras_op
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    return elementwise.multiply(elementwise.add(x, elementwise.sqrt(
        elementwise.add(elementwise.square(x), float(b)))), 0.5)


@keras_op
def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for |x| < 1, x for x >= 1."""
    data = raw(x)
    middle = elementwise.multiply(elementwise.square(elementwise.add(x, 1.0)), 0.25)
    out = elementwise.where(data >= 1, x, middle)
    return elementwise.where(data <= -1, np.zeros((), data.dtype), out)


@keras_op
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (a tuple of axes is flattened into one)."""
    if isinstance(axis, (tuple, list)):
        return _over_axes(activation.softmax, x, axis)
    return activation.softmax(x, axis=axis)


@keras_op
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    if isinstance(axis, (tuple, list)):
        return _over_axes(activation.log_softmax, x, axis)
    return activation.log_softmax(x, axis=axis)


def _over_axes(fn, x, axes):
    data = raw(x)
    axes = normalize_axes(axes, data.ndim)
    keep = [a for a in range(data.ndim) if a not in axes]
    moved = shape_ops.transpose(x, keep + list(axes))
    flat = shape_ops.reshape(moved, [data.shape[a] for a in keep] + [-1])
    out = shape_ops.reshape(fn(flat, axis=-1), raw(moved).shape)
    return shape_ops.transpose(out, np.argsort(keep + list(axes)).tolist())


# ------------------------------------------------------------------ encodings
@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encode integer labels: a new axis of ``num_classes`` (out-of-range labels,
    such as -1, give all zeros, as Keras)."""
    labels = np.asarray(raw(x)).astype(np.int64)
    out = (labels[..., None] == np.arange(int(num_classes))).astype(float_dtype(dtype))
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return wrap(out)


@keras_op
def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot encode: one row per sample with ones at each listed label (the last axis of
    ``inputs`` holds the labels)."""
    encoded = raw(one_hot(inputs, num_classes, dtype=dtype))
    out = encoded.max(axis=-2) if encoded.ndim > 1 else encoded
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return wrap(out)


# ------------------------------------------------------------------ convolution and pooling
def _to_2d(x):
    """(N, L, C) -> (N, 1, L, C)."""
    return shape_ops.expand_dims(x, 1)


@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (1-D and 2-D): inputs (N, ..., C_in), kernel (..., C_in, C_out)."""
    _check_format("conv", data_format)
    rank = raw(inputs).ndim - 2
    if rank == 1:
        return conv1d(inputs, kernel, strides=_one(strides), padding=padding,
                               dilation_rate=_one(dilation_rate))
    if rank == 2:
        return conv_ops.conv2d(inputs, kernel, strides=strides, padding=padding,
                               dilation_rate=dilation_rate)
    raise NotImplementedError(f"conv: npgrad supports 1-D and 2-D convolutions, got rank {rank} inputs")


def _one(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


@keras_op
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution (1-D and 2-D); kernel (..., C_out, C_in) as Keras."""
    _check_format("conv_transpose", data_format)
    rank = raw(inputs).ndim - 2
    if rank == 2:
        return conv_ops.conv2d_transpose(inputs, kernel, strides=strides, padding=padding,
                                         output_padding=output_padding,
                                         dilation_rate=dilation_rate)
    if rank == 1:
        out = conv_ops.conv2d_transpose(
            _to_2d(inputs), shape_ops.expand_dims(kernel, 0), strides=(1, _one(strides)),
            padding=padding, output_padding=None if output_padding is None
            else (0, _one(output_padding)), dilation_rate=(1, _one(dilation_rate)))
        return shape_ops.squeeze(out, 1)
    raise NotImplementedError(f"conv_transpose: npgrad supports 1-D and 2-D, got rank {rank}")


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution: kernel (..., C_in, multiplier); output channel c * m + j is
    input channel c convolved with kernel[..., c, j]."""
    _check_format("depthwise_conv", data_format)
    rank = raw(inputs).ndim - 2
    if rank == 1:
        out = depthwise_conv(_to_2d(inputs), shape_ops.expand_dims(kernel, 0),
                             (1, _one(strides)), padding, None, (1, _one(dilation_rate)))
        return shape_ops.squeeze(out, 1)
    channels = raw(inputs).shape[-1]
    outputs = [
        conv_ops.conv2d(shape_ops.getitem(inputs, (Ellipsis, slice(c, c + 1))),
                        shape_ops.getitem(kernel, (Ellipsis, slice(c, c + 1), slice(None))),
                        strides=strides, padding=padding, dilation_rate=dilation_rate)
        for c in range(channels)
    ]
    return shape_ops.concatenate(outputs, axis=-1)


@keras_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                               dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format)


def _pool(primitive, name, inputs, pool_size, strides, padding, data_format):
    _check_format(name, data_format)
    rank = raw(inputs).ndim - 2
    if rank == 1:
        strides = None if strides is None else (1, _one(strides))
        out = primitive(_to_2d(inputs), (1, _one(pool_size)), strides, padding)
        return shape_ops.squeeze(out, 1)
    if rank == 2:
        return primitive(inputs, pool_size, strides, padding)
    raise NotImplementedError(f"{name}: npgrad supports 1-D and 2-D pooling, got rank {rank}")


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling (1-D and 2-D); ``strides`` default to ``pool_size``."""
    return _pool(pool.max_pool2d, "max_pool", inputs, pool_size, strides, padding, data_format)


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling (1-D and 2-D); 'same' padding averages the valid cells only."""
    return _pool(pool.avg_pool2d, "average_pool", inputs, pool_size, strides, padding,
                 data_format)


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """(N, H, W, C * b * b) -> (N, H * b, W * b, C)."""
    _check_format("depth_to_space", data_format)
    n, h, w, c = raw(x).shape
    b = int(block_size)
    out = shape_ops.reshape(x, (n, h, w, b, b, c // (b * b)))
    out = shape_ops.transpose(out, (0, 1, 3, 2, 4, 5))
    return shape_ops.reshape(out, (n, h * b, w * b, c // (b * b)))


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """(N, H * b, W * b, C) -> (N, H, W, C * b * b)."""
    _check_format("space_to_depth", data_format)
    n, h, w, c = raw(x).shape
    b = int(block_size)
    out = shape_ops.reshape(x, (n, h // b, b, w // b, b, c))
    out = shape_ops.transpose(out, (0, 1, 3, 2, 4, 5))
    return shape_ops.reshape(out, (n, h // b, w // b, b * b * c))


# ------------------------------------------------------------------ normalization
@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` over ``axes`` (the biased variance)."""
    mean = reduce.mean(x, axis=axes, keepdims=True)
    variance = reduce.mean(elementwise.square(elementwise.subtract(x, mean)), axis=axes,
                           keepdims=keepdims)
    if not keepdims:
        mean = shape_ops.squeeze(mean, axes)
    return mean, variance


def _channel_shape(x, axis):
    shape = [1] * raw(x).ndim
    shape[axis] = raw(x).shape[axis]
    return shape


@keras_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the vectors along ``axis``."""
    shape = _channel_shape(x, axis)
    inv = elementwise.divide(1.0, elementwise.sqrt(
        elementwise.add(shape_ops.reshape(variance, shape), epsilon)))
    if scale is not None:
        inv = elementwise.multiply(inv, shape_ops.reshape(scale, shape))
    out = elementwise.multiply(elementwise.subtract(x, shape_ops.reshape(mean, shape)), inv)
    return out if offset is None else elementwise.add(out, shape_ops.reshape(offset, shape))


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    """Normalize over ``axis`` (mean 0, variance 1), then scale by gamma and shift by beta."""
    epsilon = 1e-3 if epsilon is None else epsilon
    mean, variance = moments(x, axis, keepdims=True)
    out = elementwise.divide(elementwise.subtract(x, mean),
                             elementwise.sqrt(elementwise.add(variance, epsilon)))
    if gamma is not None:
        out = elementwise.multiply(out, gamma)
    return out if beta is None else elementwise.add(out, beta)


@keras_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x / sqrt(mean(x^2) + epsilon) over ``axis``, times ``scale``."""
    epsilon = 1e-6 if epsilon is None else epsilon
    ms = reduce.mean(elementwise.square(x), axis=axis, keepdims=True)
    out = elementwise.multiply(x, math_ops.unary(elementwise.add(ms, epsilon), "rsqrt"))
    return out if scale is None else elementwise.multiply(out, scale)


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """x divided by its L-``order`` norm over ``axis`` (the norm kept at least ``epsilon``)."""
    epsilon = 1e-12 if epsilon is None else epsilon
    if order == 2:
        square_sum = reduce.sum(elementwise.square(x), axis=axis, keepdims=True)
        norm = elementwise.sqrt(elementwise.maximum(square_sum, epsilon * epsilon))
    elif order == 1:
        norm = elementwise.maximum(reduce.sum(elementwise.abs(x), axis=axis, keepdims=True),
                                   epsilon)
    else:
        raise ValueError(f"normalize: order must be 1 or 2, got {order!r}")
    return elementwise.divide(x, norm)


# ------------------------------------------------------------------ losses
@keras_op
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (no reduction, as Keras's op)."""
    target = raw(target).astype(raw(output).dtype if raw(output).dtype.kind == "f"
                                else float_dtype())
    if from_logits:
        # log(1 + exp(x)) - x t: smooth everywhere (softplus is computed stably)
        return elementwise.subtract(activation.softplus(output),
                                    elementwise.multiply(output, target))
    eps = 1e-7
    p = elementwise.clip(output, eps, 1 - eps)
    return elementwise.negative(elementwise.add(
        elementwise.multiply(target, elementwise.log(p)),
        elementwise.multiply(1 - target, elementwise.log(elementwise.subtract(1.0, p)))))


@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy with one-hot (or soft) targets, reduced over the class ``axis``."""
    return loss.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy with integer targets, reduced over the class ``axis``."""
    return loss.sparse_categorical_crossentropy(target, output, from_logits=from_logits,
                                                axis=axis)


@keras_op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: 20 log10(max_val) - 10 log10(mse)."""
    mse = reduce.mean(elementwise.square(elementwise.subtract(x1, x2)))
    return elementwise.subtract(20 * np.log10(max_val), elementwise.multiply(
        math_ops.unary(mse, "log10"), 10.0))


@keras_op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          **kwargs):
    """Scaled dot-product attention, (B, T, H, D) layout as Keras: softmax(q k^T * scale +
    bias, masked) v. Uses ``npgrad.functional.dot_product_attention`` when it exists."""
    from npgrad import functional  # functional is a thin alias over ops: imported late

    fused = getattr(functional, "dot_product_attention", None)
    given = dict(bias=bias, mask=mask, scale=scale, is_causal=is_causal, **kwargs)
    given = {k: v for k, v in given.items() if v is not None and v is not False}
    if fused is not None:
        accepted = inspect.signature(fused).parameters
        if all(k in accepted for k in given):  # else the composed version below
            return fused(query, key, value, **given)
    if kwargs:
        raise TypeError(f"dot_product_attention: unsupported arguments {sorted(kwargs)}")
    depth = raw(query).shape[-1]
    scale = 1.0 / np.sqrt(depth) if scale is None else scale
    logits = elementwise.multiply(einsum("bthd,bshd->bhts", query, key), float(scale))
    if bias is not None:
        logits = elementwise.add(logits, bias)
    allowed = None if mask is None else np.asarray(raw(mask), dtype=bool)
    if is_causal:
        t, s = raw(logits).shape[-2:]
        causal = np.tril(np.ones((t, s), dtype=bool))
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        floor = np.asarray(np.finfo(raw(logits).dtype).min / 2, dtype=raw(logits).dtype)
        logits = elementwise.where(np.broadcast_to(allowed, raw(logits).shape), logits, floor)
    weights = activation.softmax(logits, axis=-1)
    return einsum("bhts,bshd->bthd", weights, value)


__all__ = [
    "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "celu", "conv", "conv_transpose", "depth_to_space", "depthwise_conv",
    "dot_product_attention", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid",
    "log_softmax", "max_pool", "moments", "multi_hot", "normalize", "one_hot", "psnr", "relu",
    "relu6", "rms_normalization", "selu", "separable_conv", "sigmoid", "silu", "soft_shrink",
    "softmax", "softplus", "softsign", "space_to_depth", "sparse_categorical_crossentropy",
    "sparse_plus", "squareplus", "swish", "tanh_shrink", "threshold",
]  # fmt: skip
