"""Registry cases: 3-D, transposed, grouped, depthwise and separable convolutions, 3-D and
adaptive pooling (small channels-last shapes, float64, odd sizes, strides, both paddings,
dilation where Keras allows it)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
import npgrad.layers as L
from npgrad.primitives.windows import transpose_output_length, window_geometry
from tests.gradcheck.registry import OpCase, floats

batches = st.integers(1, 2)
channels = st.integers(1, 3)
paddings = st.sampled_from(["valid", "same"])


def _array(draw, shape):
    return draw(hnp.arrays(np.float64, tuple(shape), elements=floats()))


def _distinct(draw, shape):
    """Tie-free values (a shuffled ramp, 0.1 apart) for max pooling."""
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    return (np.asarray(order, dtype=np.float64) * 0.1 - size * 0.05).reshape(shape)


def _geometry(draw, rank, max_kernel=3, dilate=True):
    """Kernel, strides, dilation (strides > 1 and dilation > 1 never together, as Keras),
    padding and input sizes the kernel fits."""
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = (1,) * rank
    if dilate and strides == (1,) * rank:
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = draw(paddings)
    sizes = tuple(
        draw(st.integers((k - 1) * d + 1 if padding == "valid" else 1, max((k - 1) * d + 1, 4)))
        for k, d in zip(kernel, dilation)
    )
    return kernel, strides, dilation, padding, sizes


@st.composite
def _conv3d_inputs(draw):
    n, c, f = draw(batches), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel, strides, dilation, padding, sizes = _geometry(draw, 3, max_kernel=2)
    arrays = [_array(draw, (n,) + sizes + (c,)), _array(draw, kernel + (c, f)),
              _array(draw, (f,))]
    return arrays, dict(strides=strides, padding=padding, dilation_rate=dilation)


def _inverts(size, kernel, stride, padding, output_padding, dilation):
    out = transpose_output_length(size, kernel, stride, padding, output_padding, dilation)
    try:
        return window_geometry(out, (kernel - 1) * dilation + 1, stride, padding, "", "")[0] == size
    except ValueError:
        return False


def _transpose_inputs(rank, max_kernel):
    @st.composite
    def _strategy(draw):
        n, c, f = draw(batches), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(rank))
        strides = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        dilation = (1,) * rank if strides != (1,) * rank else tuple(
            draw(st.integers(1, 2)) for _ in range(rank))
        padding = draw(paddings)
        sizes = tuple(draw(st.integers(1, 3)) for _ in range(rank))
        output_padding = None
        if draw(st.booleans()):
            candidate = tuple(draw(st.integers(0, s - 1)) for s in strides)
            if all(_inverts(*args) for args in zip(sizes, kernel, strides, (padding,) * rank,
                                                   candidate, dilation)):
                output_padding = candidate
        arrays = [_array(draw, (n,) + sizes + (c,)), _array(draw, kernel + (f, c)),
                  _array(draw, (f,))]
        return arrays, dict(strides=strides, padding=padding, output_padding=output_padding,
                            dilation_rate=dilation)

    return _strategy()


@st.composite
def _grouped_inputs(draw):
    rank = draw(st.integers(1, 2))
    groups, group_channels, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 2)), \
        draw(st.integers(1, 2))
    kernel, strides, dilation, padding, sizes = _geometry(draw, rank)
    arrays = [_array(draw, (draw(batches),) + sizes + (groups * group_channels,)),
              _array(draw, kernel + (group_channels, groups * per_group)),
              _array(draw, (groups * per_group,))]
    return arrays, dict(strides=strides, padding=padding, dilation_rate=dilation)


def _depthwise_inputs(rank):
    @st.composite
    def _strategy(draw):
        c, m = draw(channels), draw(st.integers(1, 2))
        kernel, strides, dilation, padding, sizes = _geometry(draw, rank)
        arrays = [_array(draw, (draw(batches),) + sizes + (c,)), _array(draw, kernel + (c, m)),
                  _array(draw, (c * m,))]
        return arrays, dict(strides=strides, padding=padding, dilation_rate=dilation)

    return _strategy()


def _separable_inputs(rank):
    @st.composite
    def _strategy(draw):
        c, m, f = draw(channels), draw(st.integers(1, 2)), draw(st.integers(1, 3))
        kernel, strides, dilation, padding, sizes = _geometry(draw, rank)
        arrays = [_array(draw, (draw(batches),) + sizes + (c,)), _array(draw, kernel + (c, m)),
                  _array(draw, (1,) * rank + (c * m, f)), _array(draw, (f,))]
        return arrays, dict(strides=strides, padding=padding, dilation_rate=dilation)

    return _strategy()


def _pool3d_inputs(tie_free):
    @st.composite
    def _strategy(draw):
        pool = tuple(draw(st.integers(1, 2)) for _ in range(3))
        strides = draw(st.none() | st.tuples(*(st.integers(1, 2),) * 3))
        padding = draw(paddings)
        sizes = tuple(draw(st.integers(p if padding == "valid" else 1, 3)) for p in pool)
        shape = (draw(batches),) + sizes + (draw(st.integers(1, 2)),)
        x = _distinct(draw, shape) if tie_free else _array(draw, shape)
        return [x], dict(pool_size=pool, strides=strides, padding=padding)

    return _strategy()


@st.composite
def _global3d_inputs(draw, tie_free):
    shape = (draw(batches),) + tuple(draw(st.integers(1, 3)) for _ in range(3)) + (2,)
    x = _distinct(draw, shape) if tie_free else _array(draw, shape)
    return [x], dict(keepdims=draw(st.booleans()))


def _adaptive_inputs(tie_free):
    @st.composite
    def _strategy(draw):
        rank = draw(st.integers(1, 3))
        sizes = tuple(draw(st.integers(1, 5)) for _ in range(rank))
        output = tuple(draw(st.integers(1, 4)) for _ in range(rank))  # more bins than cells too
        shape = (draw(batches),) + sizes + (draw(st.integers(1, 2)),)
        x = _distinct(draw, shape) if tie_free else _array(draw, shape)
        return [x], dict(output_size=output)

    return _strategy()


# ------------------------------------------------------------------ layers
def _layer_fn(cls):
    """fn(x, *weights, **config): a fresh float64 ``cls`` whose own weights are the given
    Tensors (in get_weights order), so the check differentiates the input and every weight."""

    def fn(x, *weights, **config):
        layer = cls(dtype="float64", **config)
        layer._maybe_build(x.shape)
        if weights:
            layer.set_weights([w.data for w in weights])
        for position, (old, new) in enumerate(zip(list(layer._own_weights), weights)):
            for attr, value in list(vars(layer).items()):
                if value is old:
                    setattr(layer, attr, new)
            layer._own_weights[position] = new
        return layer(x)

    fn.__name__ = f"{cls.__name__}_layer"
    return fn


def _cell_layer_fn(cls):
    """fn(x, *weights, **config): a fresh float64 ``cls`` whose cell's weights are the given
    Tensors (the ConvLSTM layers keep their weights in a sub-layer, their cell)."""

    def fn(x, *weights, **config):
        layer = cls(dtype="float64", **config)
        layer._maybe_build(x.shape)
        cell = layer.cell
        layer.set_weights([w.data for w in weights])
        for name, new in zip(("kernel", "recurrent_kernel", "bias"), weights):
            old = getattr(cell, name)
            position = next(i for i, w in enumerate(cell._own_weights) if w is old)
            cell._own_weights[position] = new
            setattr(cell, name, new)
        return layer(x)

    fn.__name__ = f"{cls.__name__}_layer"
    return fn


@st.composite
def _conv_lstm2d_layer(draw):
    f, c, k = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    padding = draw(paddings)
    h, w = draw(st.integers(k if padding == "valid" else 1, 3)), draw(st.integers(k, 3))
    oh = h - k + 1 if padding == "valid" else h
    config = {"filters": f, "kernel_size": k, "padding": padding,
              "return_sequences": draw(st.booleans()), "go_backwards": draw(st.booleans())}
    arrays = [0.5 * _array(draw, (2, 3, h, w, c)), 0.5 * _array(draw, (k, k, c, 4 * f)),
              0.5 * _array(draw, (k, k, f, 4 * f)), 0.5 * _array(draw, (4 * f,))]
    assert oh >= 1
    return arrays, config


@st.composite
def _conv_lstm1d_layer(draw):
    f, c, k = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    length = draw(st.integers(k, 4))
    config = {"filters": f, "kernel_size": k, "return_sequences": True}
    arrays = [0.5 * _array(draw, (2, 3, length, c)), 0.5 * _array(draw, (k, c, 4 * f)),
              0.5 * _array(draw, (k, f, 4 * f)), 0.5 * _array(draw, (4 * f,))]
    return arrays, config


@st.composite
def _grouped_conv2d_layer(draw):
    groups = draw(st.integers(1, 3))
    c, f = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = draw(st.integers(1, 3))
    h, w = draw(st.integers(k, 4)), draw(st.integers(k, 4))
    config = {"filters": f, "kernel_size": k, "groups": groups,
              "padding": draw(paddings)}
    return [_array(draw, (2, h, w, c)), _array(draw, (k, k, c // groups, f)),
            _array(draw, (f,))], config


CASES = [
    OpCase("conv3d", F.conv3d, _conv3d_inputs()),
    OpCase("conv3d_transpose", F.conv3d_transpose, _transpose_inputs(3, 2)),
    OpCase("conv1d_transpose", F.conv1d_transpose, _transpose_inputs(1, 4)),
    OpCase("conv", F.conv, _grouped_inputs()),
    OpCase("depthwise_conv1d", F.depthwise_conv1d, _depthwise_inputs(1)),
    OpCase("depthwise_conv2d", F.depthwise_conv2d, _depthwise_inputs(2)),
    OpCase("separable_conv1d", F.separable_conv1d, _separable_inputs(1)),
    OpCase("separable_conv2d", F.separable_conv2d, _separable_inputs(2)),
    OpCase("max_pool3d", F.max_pool3d, _pool3d_inputs(tie_free=True)),
    OpCase("avg_pool3d", F.avg_pool3d, _pool3d_inputs(tie_free=False)),
    OpCase("global_avg_pool3d", F.global_avg_pool3d, _global3d_inputs(tie_free=False)),
    OpCase("global_max_pool3d", F.global_max_pool3d, _global3d_inputs(tie_free=True)),
    OpCase("adaptive_average_pool", F.adaptive_average_pool, _adaptive_inputs(tie_free=False)),
    OpCase("adaptive_max_pool", F.adaptive_max_pool, _adaptive_inputs(tie_free=True)),
    OpCase("layer_conv2d_groups", _layer_fn(L.Conv2D), _grouped_conv2d_layer()),
    OpCase("layer_conv_lstm2d", _cell_layer_fn(L.ConvLSTM2D), _conv_lstm2d_layer()),
    OpCase("layer_conv_lstm1d", _cell_layer_fn(L.ConvLSTM1D), _conv_lstm1d_layer()),
]


def _layer_case(cls, rank, weights, extra_config=None, transposed=False, max_kernel=2):
    """Strategy for a conv-like layer: input, weights in Keras order, config."""

    @st.composite
    def _strategy(draw):
        c, f = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(rank))
        stride = draw(st.integers(1, 2))
        padding = draw(paddings)
        if transposed:
            sizes = tuple(draw(st.integers(1, 3)) for _ in range(rank))
            if padding == "same" and stride == 1:
                kernel = tuple(k | 1 for k in kernel)  # odd kernels map 'same' back exactly
        else:
            sizes = tuple(draw(st.integers(k, 4)) for k in kernel)
        config = {"kernel_size": kernel, "strides": stride, "padding": padding,
                  **(extra_config or {})}
        m = config.get("depth_multiplier", 1)
        shapes = {"kernel": kernel + ((f, c) if transposed else (c, f)),
                  "depthwise": kernel + (c, m), "pointwise": (1,) * rank + (c * m, f),
                  "bias": (f,), "depthwise_bias": (c * m,)}
        if "kernel" in weights or "pointwise" in weights:
            config["filters"] = f
        arrays = [_array(draw, (2,) + sizes + (c,))] + [_array(draw, shapes[w]) for w in weights]
        return arrays, config

    return _strategy()


@st.composite
def _pool_layer(draw, tie_free, pooled=True):
    shape = (2,) + tuple(draw(st.integers(2, 4)) for _ in range(3)) + (2,)
    x = _distinct(draw, shape) if tie_free else _array(draw, shape)
    config = {"pool_size": 2, "padding": draw(paddings)} if pooled else {}
    return [x], config


@st.composite
def _adaptive_layer(draw, rank, tie_free):
    shape = (2,) + tuple(draw(st.integers(1, 5)) for _ in range(rank)) + (2,)
    x = _distinct(draw, shape) if tie_free else _array(draw, shape)
    return [x], {"output_size": tuple(draw(st.integers(1, 3)) for _ in range(rank))}


CASES += [
    OpCase("layer_conv3d", _layer_fn(L.Conv3D), _layer_case(L.Conv3D, 3, ("kernel", "bias"))),
    OpCase("layer_conv1d_transpose", _layer_fn(L.Conv1DTranspose),
           _layer_case(L.Conv1DTranspose, 1, ("kernel", "bias"), transposed=True, max_kernel=3)),
    OpCase("layer_conv3d_transpose", _layer_fn(L.Conv3DTranspose),
           _layer_case(L.Conv3DTranspose, 3, ("kernel", "bias"), transposed=True)),
    OpCase("layer_depthwise_conv1d", _layer_fn(L.DepthwiseConv1D),
           _layer_case(L.DepthwiseConv1D, 1, ("depthwise", "depthwise_bias"),
                       {"depth_multiplier": 2}, max_kernel=3)),
    OpCase("layer_depthwise_conv2d", _layer_fn(L.DepthwiseConv2D),
           _layer_case(L.DepthwiseConv2D, 2, ("depthwise", "depthwise_bias"))),
    OpCase("layer_separable_conv1d", _layer_fn(L.SeparableConv1D),
           _layer_case(L.SeparableConv1D, 1, ("depthwise", "pointwise", "bias"), max_kernel=3)),
    OpCase("layer_separable_conv2d", _layer_fn(L.SeparableConv2D),
           _layer_case(L.SeparableConv2D, 2, ("depthwise", "pointwise", "bias"),
                       {"depth_multiplier": 2})),
    OpCase("layer_max_pooling3d", _layer_fn(L.MaxPooling3D), _pool_layer(tie_free=True)),
    OpCase("layer_average_pooling3d", _layer_fn(L.AveragePooling3D), _pool_layer(tie_free=False)),
    OpCase("layer_global_max_pooling3d", _layer_fn(L.GlobalMaxPooling3D),
           _pool_layer(tie_free=True, pooled=False)),
    OpCase("layer_global_average_pooling3d", _layer_fn(L.GlobalAveragePooling3D),
           _pool_layer(tie_free=False, pooled=False)),
    OpCase("layer_adaptive_average_pooling1d", _layer_fn(L.AdaptiveAveragePooling1D),
           _adaptive_layer(1, tie_free=False)),
    OpCase("layer_adaptive_average_pooling2d", _layer_fn(L.AdaptiveAveragePooling2D),
           _adaptive_layer(2, tie_free=False)),
    OpCase("layer_adaptive_max_pooling1d", _layer_fn(L.AdaptiveMaxPooling1D),
           _adaptive_layer(1, tie_free=True)),
    OpCase("layer_adaptive_max_pooling2d", _layer_fn(L.AdaptiveMaxPooling2D),
           _adaptive_layer(2, tie_free=True)),
]
