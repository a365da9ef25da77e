"""Registry cases: every layer with weights (and the composed weightless ones) through the layer API.

Each case builds a fresh float64 layer from the drawn input's shape, loads the drawn
weights with ``set_weights`` (which checks their number, order and shapes against Keras's),
and then binds the given Tensors as the layer's weights, so the gradient check sees the
gradient of the output with respect to the input and to every weight.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.layers as L
from tests.gradcheck.registry import OpCase, away_from, floats


def _bind(layer, weights):
    """Make ``weights`` (Tensors, the first ones in get_weights order) the layer's own weights.

    Weights not given (batch norm's moving statistics in training) keep their initial values.
    """
    layer.set_weights([w.data for w in weights] + layer.get_weights()[len(weights):])
    for i, (old, new) in enumerate(zip(list(layer._own_weights), weights)):
        for attr, value in list(vars(layer).items()):
            if value is old:
                setattr(layer, attr, new)
        layer._own_weights[i] = new


def _layer_fn(cls, training=False):
    """fn(x, *weights, **config) -> the output of a fresh float64 ``cls(**config)``."""

    def fn(x, *weights, **config):
        layer = cls(dtype="float64", **config)
        layer._maybe_build(x.shape)
        _bind(layer, weights)
        return layer(x, training=training)

    fn.__name__ = f"{cls.__name__}_layer"
    return fn


def _array(draw, shape, low=-2.0, high=2.0, kinks=()):
    a = draw(hnp.arrays(np.float64, tuple(shape), elements=floats(low, high)))
    return away_from(a, kinks) if kinks else a


# ------------------------------------------------------------------ strategies
@st.composite
def _dense(draw):
    lead = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    n_in, units = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    use_bias = draw(st.booleans())
    config = {"units": units, "use_bias": use_bias,
              "activation": draw(st.sampled_from(["linear", "tanh", "sigmoid"]))}
    arrays = [_array(draw, lead + (n_in,)), _array(draw, (n_in, units))]
    if use_bias:
        arrays.append(_array(draw, (units,)))
    return arrays, config


@st.composite
def _conv2d(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    strides = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (1, 1) if strides != (1, 1) else (draw(st.integers(1, 2)),) * 2
    padding = draw(st.sampled_from(["valid", "same", "SAME"]))
    h = draw(st.integers((kh - 1) * dilation[0] + 1, 5))
    w = draw(st.integers((kw - 1) * dilation[1] + 1, 5))
    c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    config = {"filters": f, "kernel_size": (kh, kw), "strides": strides, "padding": padding,
              "dilation_rate": dilation}
    return [_array(draw, (2, h, w, c)), _array(draw, (kh, kw, c, f)), _array(draw, (f,))], config


@st.composite
def _conv1d(draw):
    k = draw(st.integers(1, 3))
    stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same", "causal"]))
    length = draw(st.integers((k - 1) * dilation + 1, 6))
    c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    config = {"filters": f, "kernel_size": k, "strides": stride, "padding": padding,
              "dilation_rate": dilation}
    return [_array(draw, (2, length, c)), _array(draw, (k, c, f)), _array(draw, (f,))], config


@st.composite
def _conv2d_transpose(draw):
    k = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same"]))
    output_padding = draw(st.none() | st.integers(0, stride - 1))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    if output_padding is not None and padding == "same" and k % 2 == 0:
        k += 1  # an even kernel, 'same' and explicit output_padding has no consistent geometry
    config = {"filters": f, "kernel_size": k, "strides": stride, "padding": padding,
              "output_padding": output_padding}
    return [_array(draw, (2, h, w, c)), _array(draw, (k, k, f, c)), _array(draw, (f,))], config


@st.composite
def _batch_norm(draw, training):
    shape = draw(st.sampled_from([(5, 3), (3, 2, 2, 2), (4, 3, 2)]))
    axis = draw(st.sampled_from([-1, 1]))
    c = shape[axis]
    config = {"axis": axis, "momentum": 0.9, "epsilon": 1e-3}
    arrays = [_array(draw, shape), _array(draw, (c,), 0.5, 2.0), _array(draw, (c,))]
    if not training:
        arrays += [_array(draw, (c,)), _array(draw, (c,), 0.5, 2.0)]
    return arrays, config


@st.composite
def _layer_norm(draw):
    shape = draw(st.sampled_from([(3, 4), (2, 3, 4), (2, 2, 3, 2)]))
    axis = draw(st.sampled_from([-1, [1, 2], [-1, -2]])) if len(shape) > 2 else -1
    axes = [axis] if isinstance(axis, int) else axis
    param_shape = tuple(shape[a] for a in axes)
    center, scale = draw(st.booleans()), draw(st.booleans())
    config = {"axis": axis, "center": center, "scale": scale}
    arrays = [_array(draw, shape)]
    if scale:
        arrays.append(_array(draw, param_shape, 0.5, 2.0))
    if center:
        arrays.append(_array(draw, param_shape))
    return arrays, config


@st.composite
def _prelu(draw):
    shape = draw(st.sampled_from([(3, 4), (2, 3, 3, 2)]))
    shared = None if len(shape) == 2 else draw(st.sampled_from([None, [1, 2]]))
    alpha_shape = [d for d in shape[1:]]
    for a in shared or []:
        alpha_shape[a - 1] = 1
    config = {"shared_axes": shared}
    return [_array(draw, shape, kinks=(0.0,)), _array(draw, alpha_shape)], config


@st.composite
def _embedding(draw):
    input_dim, output_dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    indices = draw(hnp.arrays(np.int64, (2, 3), elements=st.integers(0, input_dim - 1)))
    config = {"input_dim": input_dim, "output_dim": output_dim}
    return [indices.astype(np.float64), _array(draw, (input_dim, output_dim))], config


@st.composite
def _relu(draw):
    config = {"max_value": draw(st.sampled_from([None, 1.5])),
              "negative_slope": draw(st.sampled_from([0.0, 0.2])),
              "threshold": draw(st.sampled_from([0.0, -0.5, 0.5]))}
    kinks = tuple(v for v in (config["max_value"], config["threshold"]) if v is not None)
    return [_array(draw, (3, 4), kinks=kinks)], config


@st.composite
def _pool1d(draw):
    pool = draw(st.integers(1, 3))
    length = draw(st.integers(pool, 6))
    x = _array(draw, (2, length, 2))
    x = x + np.arange(x.size).reshape(x.shape) * 1e-3  # break ties of max
    config = {"pool_size": pool, "strides": draw(st.sampled_from([None, 1, 2])),
              "padding": draw(st.sampled_from(["valid", "same"]))}
    return [x], config


@st.composite
def _reshape(draw):
    x = _array(draw, (2, 3, 4))
    return [x], {"target_shape": draw(st.sampled_from([(12,), (4, -1), (-1, 2, 2)]))}


@st.composite
def _dropout(draw):
    return [_array(draw, (4, 5))], {"rate": draw(st.sampled_from([0.0, 0.3, 0.6])),
                                    "seed": draw(st.integers(0, 100))}


CASES = [
    OpCase("layer_dense", _layer_fn(L.Dense), _dense()),
    OpCase("layer_conv2d", _layer_fn(L.Conv2D), _conv2d()),
    OpCase("layer_conv1d", _layer_fn(L.Conv1D), _conv1d()),
    OpCase("layer_conv2d_transpose", _layer_fn(L.Conv2DTranspose), _conv2d_transpose()),
    OpCase("layer_batch_normalization_training", _layer_fn(L.BatchNormalization, training=True),
           _batch_norm(training=True)),
    # inference: the moving statistics are constants (no gradient)
    OpCase("layer_batch_normalization_inference", _layer_fn(L.BatchNormalization),
           _batch_norm(training=False), requires_grad=(True, True, True, False, False)),
    OpCase("layer_layer_normalization", _layer_fn(L.LayerNormalization), _layer_norm()),
    OpCase("layer_prelu", _layer_fn(L.PReLU), _prelu()),
    # indices are integers: only the table is differentiated
    OpCase("layer_embedding", _layer_fn(L.Embedding), _embedding(), requires_grad=(False, True)),
    OpCase("layer_relu", _layer_fn(L.ReLU), _relu()),
    OpCase("layer_max_pooling1d", _layer_fn(L.MaxPooling1D), _pool1d()),
    OpCase("layer_average_pooling1d", _layer_fn(L.AveragePooling1D), _pool1d()),
    OpCase("layer_reshape", _layer_fn(L.Reshape), _reshape()),
    OpCase("layer_dropout_training", _layer_fn(L.Dropout, training=True), _dropout()),
]
