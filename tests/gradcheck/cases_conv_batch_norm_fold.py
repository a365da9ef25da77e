"""Registry cases: Conv2D + BatchNormalization folded into one convolution at inference.

A Sequential model of the two layers, called with ``training=False``, runs them as one
``F.conv2d`` whose kernel and bias are computed from both layers' weights
(``layers/fusion.py``). The case differentiates the output with respect to the input, the
conv kernel and bias, and gamma and beta (the moving statistics are constants), so the
fold's own arithmetic is checked against finite differences, not only against the layers.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
import npgrad.layers as L
from npgrad.autograd.engine import graph_ops
from npgrad.primitives.nn import BatchNorm
from tests.gradcheck.registry import OpCase, floats


def _bind(layer, names, tensors):
    for name, tensor in zip(names, tensors):
        old = getattr(layer, name)
        setattr(layer, name, tensor)
        layer._own_weights[[w is old for w in layer._own_weights].index(True)] = tensor


def folded_conv_batch_norm(x, kernel, bias, gamma, beta, moving_mean=(), moving_variance=(),
                           strides=1, padding="same"):
    f = kernel.shape[-1]
    model = npgrad.Sequential([
        npgrad.Input(x.shape[1:], dtype="float64"),
        L.Conv2D(f, kernel.shape[:2], strides=strides, padding=padding, dtype="float64"),
        L.BatchNormalization(dtype="float64")])
    conv, norm = model.layers
    _bind(conv, ("kernel", "bias"), (kernel, bias))
    _bind(norm, ("gamma", "beta"), (gamma, beta))
    norm.moving_mean.data[...] = moving_mean
    norm.moving_variance.data[...] = moving_variance
    out = model(x, training=False)
    assert BatchNorm not in {type(op) for op in graph_ops(out)}, "the normalization was not folded into the conv"
    return out


@st.composite
def _inputs(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(kh, 5)), draw(st.integers(kw, 5))

    def array(shape, low=-2.0, high=2.0):
        return draw(hnp.arrays(np.float64, shape, elements=floats(low, high)))

    arrays = [array((2, h, w, c)), array((kh, kw, c, f)), array((f,)), array((f,), 0.5, 2.0),
              array((f,))]
    config = {"moving_mean": array((f,)), "moving_variance": array((f,), 0.1, 3.0),
              "strides": draw(st.integers(1, 2)),
              "padding": draw(st.sampled_from(["valid", "same"]))}
    return arrays, config


CASES = [OpCase("layer_conv2d_batch_norm_folded", folded_conv_batch_norm, _inputs())]
