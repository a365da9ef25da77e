"""3-D, transposed, grouped, depthwise, separable convolutions, ConvLSTM, 3-D and adaptive
pooling: values against plain NumPy loops (the definitions), output shapes (also symbolic,
with None axes), config round trips, save/load, and errors that name the layer."""

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
import npgrad.layers as L
from npgrad.layers import get_layer_class
from tests.layers.test_core_layers import check_relu_inside_the_op


# ------------------------------------------------------------------ NumPy definitions
def _same_pads(size, span, stride):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def naive_conv(x, kernel, strides, padding, dilation, groups=1):
    """Direct loops over output positions: x (N, *S, C), kernel (*K, C/groups, F)."""
    rank = x.ndim - 2
    ksize, cg, f = kernel.shape[:rank], kernel.shape[-2], kernel.shape[-1]
    spans = [(k - 1) * d + 1 for k, d in zip(ksize, dilation)]
    pads = [_same_pads(n, sp, s) if padding == "same" else (0, 0)
            for n, sp, s in zip(x.shape[1:-1], spans, strides)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    outs = [(n - sp) // s + 1 for n, sp, s in zip(xp.shape[1:-1], spans, strides)]
    y = np.zeros((x.shape[0], *outs, f))
    fg = f // groups
    for pos in itertools.product(*map(range, outs)):
        for tap in itertools.product(*map(range, ksize)):
            pixel = xp[(slice(None),) + tuple(p * s + t * d for p, s, t, d in
                                              zip(pos, strides, tap, dilation))]  # (N, C)
            for g in range(groups):
                y[(slice(None),) + pos + (slice(g * fg, (g + 1) * fg),)] += \
                    pixel[:, g * cg:(g + 1) * cg] @ kernel[tap][:, g * fg:(g + 1) * fg]
    return y


def naive_depthwise(x, kernel, strides, padding, dilation):
    """Depthwise = grouped conv with one channel per group, filter c*M + m = kernel[..., c, m]."""
    c, m = kernel.shape[-2:]
    grouped = kernel.reshape(kernel.shape[:-2] + (1, c * m))
    return naive_conv(x, grouped, strides, padding, dilation, groups=c)


def naive_conv_transpose(x, kernel, strides, padding, out_sizes, dilation):
    """Scatter definition: every input pixel adds x @ kernel[tap]^T at p * s + tap * d."""
    rank = x.ndim - 2
    ksize, f = kernel.shape[:rank], kernel.shape[-2]
    spans = [(k - 1) * d + 1 for k, d in zip(ksize, dilation)]
    full = [(n - 1) * s + sp for n, s, sp in zip(x.shape[1:-1], strides, spans)]
    before = [_same_pads(o, sp, s)[0] if padding == "same" else 0
              for o, sp, s in zip(out_sizes, spans, strides)]
    buffer = np.zeros((x.shape[0], *[max(fl, b + o) for fl, b, o in zip(full, before, out_sizes)],
                       f))
    for pos in itertools.product(*(range(n) for n in x.shape[1:-1])):
        for tap in itertools.product(*map(range, ksize)):
            target = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, dilation))
            buffer[(slice(None),) + target] += x[(slice(None),) + pos] @ kernel[tap].T
    return buffer[(slice(None),) + tuple(slice(b, b + o) for b, o in zip(before, out_sizes))]


def naive_pool(x, pool, strides, padding, mode):
    """Window max/mean; 'same' pads with -inf (max) or averages the valid cells only."""
    pads = [_same_pads(n, p, s) if padding == "same" else (0, 0)
            for n, p, s in zip(x.shape[1:-1], pool, strides)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=np.nan)
    outs = [(n - p) // s + 1 for n, p, s in zip(xp.shape[1:-1], pool, strides)]
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for pos in itertools.product(*map(range, outs)):
        window = xp[(slice(None),) + tuple(slice(o * s, o * s + p)
                                           for o, s, p in zip(pos, strides, pool))]
        window = window.reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + pos] = (np.nanmax if mode == "max" else np.nanmean)(window, axis=1)
    return y


def naive_adaptive(x, output_size, mode):
    """Bin i of an axis of length L covers [floor(i*L/O), ceil((i+1)*L/O)) (PyTorch, Keras)."""
    bins = [[(i * n // o, math.ceil((i + 1) * n / o)) for i in range(o)]
            for n, o in zip(x.shape[1:-1], output_size)]
    y = np.zeros((x.shape[0], *output_size, x.shape[-1]))
    for pos in itertools.product(*map(range, output_size)):
        box = x[(slice(None),) + tuple(slice(*bins[a][p]) for a, p in enumerate(pos))]
        box = box.reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + pos] = box.max(axis=1) if mode == "max" else box.mean(axis=1)
    return y


# ------------------------------------------------------------------ values (hypothesis)
@st.composite
def geometries(draw, rank, max_kernel=3, max_side=6):
    seed = draw(st.integers(0, 2**32 - 1))
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = (1,) * rank
    if strides == (1,) * rank:
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    sizes = tuple(draw(st.integers((k - 1) * d + 1 if padding == "valid" else 1,
                                   max(max_side, (k - 1) * d + 1)))
                  for k, d in zip(kernel, dilation))
    return np.random.default_rng(seed), kernel, strides, dilation, padding, sizes


@given(geometries(3, max_kernel=2, max_side=4), st.integers(1, 2), st.integers(1, 3))
def test_conv3d_matches_the_definition(geometry, groups, per_group):
    rng, kernel, strides, dilation, padding, sizes = geometry
    x = rng.standard_normal((2, *sizes, 2 * groups))
    w = rng.standard_normal(kernel + (2, groups * per_group))
    b = rng.standard_normal(groups * per_group)
    fn = F.conv3d if groups == 1 else F.conv
    y = fn(x, w, b, strides=strides, padding=padding, dilation_rate=dilation)
    expected = naive_conv(x, w, strides, padding, dilation, groups) + b
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


@given(geometries(2), st.integers(2, 3))
def test_grouped_conv2d_matches_the_definition(geometry, groups):
    rng, kernel, strides, dilation, padding, sizes = geometry
    x = rng.standard_normal((2, *sizes, 2 * groups))
    w = rng.standard_normal(kernel + (2, 2 * groups))
    y = F.conv(x, w, strides=strides, padding=padding, dilation_rate=dilation)
    expected = naive_conv(x, w, strides, padding, dilation, groups)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_depthwise_and_separable_match_the_definition(rank, data):
    rng, kernel, strides, dilation, padding, sizes = data.draw(geometries(rank))
    c, m, f = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)), 3
    x = rng.standard_normal((2, *sizes, c))
    dw = rng.standard_normal(kernel + (c, m))
    pw, b = rng.standard_normal((1,) * rank + (c * m, f)), rng.standard_normal(f)
    kwargs = dict(strides=strides, padding=padding, dilation_rate=dilation)
    depthwise = naive_depthwise(x, dw, strides, padding, dilation)
    fn = F.depthwise_conv1d if rank == 1 else F.depthwise_conv2d
    np.testing.assert_allclose(fn(x, dw, **kwargs).numpy(), depthwise, rtol=1e-10, atol=1e-10)
    separable = F.separable_conv1d if rank == 1 else F.separable_conv2d
    expected = depthwise @ pw.reshape(c * m, f) + b
    np.testing.assert_allclose(separable(x, dw, pw, b, **kwargs).numpy(), expected, rtol=1e-10,
                               atol=1e-10)


@pytest.mark.parametrize("strides, dilation, padding, m", [
    ((1, 1), (1, 2), "same", 2),   # merged (width, channel) rows, dilated along the width
    ((2, 1), (1, 1), "valid", 1),  # strided rows, merged rows along the width
    ((1, 2), (2, 1), "same", 2),   # strided along the width: the per-channel contraction
])
def test_depthwise_backward_is_the_adjoint_on_strided_input(strides, dilation, padding, m):
    """The einsum paths against the definition, on an input whose width and channels are
    not one run in memory (every other column of an image, which 'valid' padding passes on
    uncopied): the output matches the loops, and the gradients satisfy
    <y, g> = <x, dx> = <kernel, dkernel> (y is bilinear in x and kernel)."""
    rng = np.random.default_rng(3)
    c = 5
    x_data = rng.standard_normal((3, 9, 16, c))[:, :, ::2]
    assert x_data.strides[2] != c * x_data.strides[3]
    x = npgrad.Tensor(x_data, requires_grad=True)
    w = npgrad.Tensor(rng.standard_normal((3, 2, c, m)), requires_grad=True)
    y = F.depthwise_conv2d(x, w, strides=strides, padding=padding, dilation_rate=dilation)
    np.testing.assert_allclose(y.numpy(), naive_depthwise(x_data, w.numpy(), strides, padding,
                                                          dilation), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(y.shape)
    (y * npgrad.Tensor(g)).sum().backward()
    inner = float(np.sum(y.numpy() * g))
    np.testing.assert_allclose(float(np.sum(x_data * x.grad)), inner, rtol=1e-10)
    np.testing.assert_allclose(float(np.sum(w.numpy() * w.grad)), inner, rtol=1e-10)


@pytest.mark.parametrize("rank", [1, 3])
@given(data=st.data())
def test_conv_transpose_matches_the_scatter_definition(rank, data):
    rng, kernel, strides, dilation, padding, sizes = data.draw(
        geometries(rank, max_kernel=3 if rank == 1 else 2, max_side=4 if rank == 1 else 2))
    x = rng.standard_normal((2, *sizes, 2))
    w = rng.standard_normal(kernel + (3, 2))
    fn = F.conv1d_transpose if rank == 1 else F.conv3d_transpose
    y = fn(x, w, strides=strides, padding=padding, dilation_rate=dilation)
    expected = naive_conv_transpose(x, w, strides, padding, y.shape[1:-1], dilation)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)
    # Keras's output lengths
    for n, k, s, d, o in zip(sizes, kernel, strides, dilation, y.shape[1:-1]):
        span = (k - 1) * d + 1
        assert o == (n * s + max(span - s, 0) if padding == "valid" else n * s)


@given(data=st.data())
def test_pool3d_matches_the_definition(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    pool = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    strides = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    sizes = tuple(data.draw(st.integers(p if padding == "valid" else 1, 5)) for p in pool)
    x = rng.standard_normal((2, *sizes, 2))
    for mode, fn in (("max", F.max_pool3d), ("avg", F.avg_pool3d)):
        np.testing.assert_allclose(fn(x, pool, strides, padding).numpy(),
                                   naive_pool(x, pool, strides, padding, mode), rtol=1e-12)


@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_adaptive_pooling_matches_the_definition(rank, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    sizes = tuple(data.draw(st.integers(1, 9)) for _ in range(rank))
    output = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    x = rng.standard_normal((2, *sizes, 3))
    np.testing.assert_allclose(F.adaptive_average_pool(x, output).numpy(),
                               naive_adaptive(x, output, "average"), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(F.adaptive_max_pool(x, output).numpy(),
                               naive_adaptive(x, output, "max"), rtol=1e-12)


def test_conv_lstm2d_matches_a_numpy_loop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 4, 2))
    layer = L.ConvLSTM2D(3, (3, 2), padding="same", return_sequences=True, dtype="float64")
    layer._maybe_build(x.shape)
    kernel, recurrent, bias = [0.4 * rng.standard_normal(w.shape) for w in layer.get_weights()]
    layer.set_weights([kernel, recurrent, bias])
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = c = np.zeros((2, 5, 4, 3))
    expected = []
    for t in range(3):
        z = naive_conv(x[:, t], kernel, (1, 1), "same", (1, 1)) + bias \
            + naive_conv(h, recurrent, (1, 1), "same", (1, 1))
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        expected.append(h)
    np.testing.assert_allclose(layer(x).numpy(), np.stack(expected, axis=1), rtol=1e-10)


# ------------------------------------------------------------------ shapes, weights, configs
# (id, factory, input shape, output shape, [(weight name, shape)...], input shape with unknown
# axes (None), its output shape)
SPECS = [
    ("conv3d", lambda: L.Conv3D(4, (3, 2, 2), strides=(2, 1, 1), padding="same"),
     (None, 5, 6, 7, 2), (None, 3, 6, 7, 4), [("kernel", (3, 2, 2, 2, 4)), ("bias", (4,))],
     (None, None, 6, None, 2), (None, None, 6, None, 4)),
    ("conv3d_groups", lambda: L.Convolution3D(6, 2, groups=3, use_bias=False), (None, 4, 4, 4, 3),
     (None, 3, 3, 3, 6), [("kernel", (2, 2, 2, 1, 6))], (None, None, None, None, 3),
     (None, None, None, None, 6)),
    ("conv2d_groups", lambda: L.Conv2D(4, 3, groups=2), (None, 7, 7, 6), (None, 5, 5, 4),
     [("kernel", (3, 3, 3, 4)), ("bias", (4,))], (None, None, 7, 6), (None, None, 5, 4)),
    ("conv1d_groups", lambda: L.Conv1D(6, 3, groups=3, padding="causal"), (None, 9, 3),
     (None, 9, 6), [("kernel", (3, 1, 6)), ("bias", (6,))], (None, None, 3), (None, None, 6)),
    ("conv1d_transpose", lambda: L.Conv1DTranspose(3, 4, strides=2), (None, 5, 2), (None, 12, 3),
     [("kernel", (4, 3, 2)), ("bias", (3,))], (None, None, 2), (None, None, 3)),
    ("conv3d_transpose", lambda: L.Conv3DTranspose(2, 3, strides=(1, 2, 2), padding="same"),
     (None, 2, 3, 4, 5), (None, 2, 6, 8, 2), [("kernel", (3, 3, 3, 2, 5)), ("bias", (2,))],
     (None, None, 3, None, 5), (None, None, 6, None, 2)),
    ("depthwise2d", lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
     (None, 6, 5, 3), (None, 6, 5, 6), [("kernel", (3, 3, 3, 2)), ("bias", (6,))],
     (None, None, None, 3), (None, None, None, 6)),
    ("depthwise1d", lambda: L.DepthwiseConv1D(3, strides=2), (None, 9, 4), (None, 4, 4),
     [("kernel", (3, 4, 1)), ("bias", (4,))], (None, None, 4), (None, None, 4)),
    ("separable2d", lambda: L.SeparableConv2D(8, 3, depth_multiplier=2), (None, 6, 5, 3),
     (None, 4, 3, 8), [("depthwise_kernel", (3, 3, 3, 2)), ("pointwise_kernel", (1, 1, 6, 8)),
                       ("bias", (8,))], (None, None, 5, 3), (None, None, 3, 8)),
    ("separable1d", lambda: L.SeparableConvolution1D(5, 2, use_bias=False), (None, 7, 3),
     (None, 6, 5), [("depthwise_kernel", (2, 3, 1)), ("pointwise_kernel", (1, 3, 5))],
     (None, None, 3), (None, None, 5)),
    ("conv_lstm2d", lambda: L.ConvLSTM2D(4, 3), (None, 5, 6, 6, 2), (None, 4, 4, 4),
     [("kernel", (3, 3, 2, 16)), ("recurrent_kernel", (3, 3, 4, 16)), ("bias", (16,))],
     (None, None, 6, 6, 2), (None, 4, 4, 4)),
    ("conv_lstm1d_seq", lambda: L.ConvLSTM1D(2, 3, padding="same", return_sequences=True),
     (None, 4, 7, 3), (None, 4, 7, 2),
     [("kernel", (3, 3, 8)), ("recurrent_kernel", (3, 2, 8)), ("bias", (8,))],
     (None, None, 7, 3), (None, None, 7, 2)),
    ("conv_lstm3d", lambda: L.ConvLSTM3D(2, 2, use_bias=False), (None, 3, 3, 3, 3, 1),
     (None, 2, 2, 2, 2), [("kernel", (2, 2, 2, 1, 8)), ("recurrent_kernel", (2, 2, 2, 2, 8))],
     (None, None, 3, 3, 3, 1), (None, 2, 2, 2, 2)),
    ("max_pool3d", lambda: L.MaxPool3D(), (None, 4, 5, 6, 2), (None, 2, 2, 3, 2), [],
     (None, None, None, None, 2), (None, None, None, None, 2)),
    ("avg_pool3d_same", lambda: L.AveragePooling3D(3, strides=2, padding="same"),
     (None, 5, 4, 3, 2), (None, 3, 2, 2, 2), [], (None, 5, None, 3, 2), (None, 3, None, 2, 2)),
    ("global_max3d", lambda: L.GlobalMaxPool3D(), (None, 2, 3, 4, 5), (None, 5), [],
     (None, None, None, None, 5), (None, 5)),
    ("global_avg3d_keepdims", lambda: L.GlobalAvgPool3D(keepdims=True), (None, 2, 3, 4, 5),
     (None, 1, 1, 1, 5), [], (None, None, None, None, 5), (None, 1, 1, 1, 5)),
    ("adaptive_avg1d", lambda: L.AdaptiveAveragePooling1D(4), (None, 10, 3), (None, 4, 3), [],
     (None, None, 3), (None, 4, 3)),
    ("adaptive_max2d", lambda: L.AdaptiveMaxPooling2D((2, 3)), (None, 7, 8, 3), (None, 2, 3, 3),
     [], (None, None, None, 3), (None, 2, 3, 3)),
    ("adaptive_avg3d", lambda: L.AdaptiveAveragePooling3D(2), (None, 3, 4, 5, 1),
     (None, 2, 2, 2, 1), [], (None, None, None, None, 1), (None, 2, 2, 2, 1)),
]
IDS = [s[0] for s in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_weights_and_output_shapes_match_keras(spec):
    _, factory, shape, out_shape, weights, _, _ = spec
    layer = factory()
    layer._maybe_build(shape)
    assert [(w.name.rsplit("/", 1)[-1], w.shape) for w in layer.weights] == weights
    assert layer.compute_output_shape(shape) == out_shape
    x = np.random.default_rng(1).standard_normal((2,) + shape[1:])
    assert layer(x).shape == (2,) + out_shape[1:]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_symbolic_call_keeps_unknown_axes(spec):
    _, factory, _, _, _, none_shape, none_out = spec
    symbolic = factory()(npgrad.Input(none_shape[1:]))
    assert tuple(symbolic.shape) == none_out


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_config_round_trip_rebuilds_the_same_layer(spec):
    _, factory, shape, _, _, _, _ = spec
    layer = factory()
    layer._maybe_build(shape)
    config = layer.get_config()
    clone = get_layer_class(type(layer).__name__).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone._maybe_build(shape)
    clone.set_weights(layer.get_weights())
    x = np.random.default_rng(2).standard_normal((2,) + shape[1:]).astype("float32")
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


@pytest.mark.parametrize("spec", [s for s in SPECS if s[4]], ids=[s[0] for s in SPECS if s[4]])
def test_save_and_load_a_model_keeps_predictions(spec, tmp_path):
    _, factory, shape, _, _, _, _ = spec
    model = npgrad.models.Sequential([npgrad.Input(shape[1:]), factory()])
    x = np.random.default_rng(3).standard_normal((2,) + shape[1:]).astype("float32")
    model.save(tmp_path / "m.npgrad")
    loaded = npgrad.models.load_model(tmp_path / "m.npgrad")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_small_model_trains():
    rng = np.random.default_rng(0)
    npgrad.utils.set_random_seed(0)
    x = rng.standard_normal((32, 4, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3, 4)) > 0).astype("int64")
    model = npgrad.models.Sequential([
        npgrad.Input((4, 6, 6, 1)), L.ConvLSTM2D(4, 3, padding="same", return_sequences=True),
        L.Conv3D(4, 2, groups=2), L.MaxPooling3D((1, 2, 2)), L.GlobalAveragePooling3D(),
        L.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("factory, error, words", [
    (lambda: L.Conv2D(6, 3, groups=4), ValueError, ["Conv2D", "groups", "filters"]),
    (lambda: L.Conv3D(4, 3, groups=0), ValueError, ["Conv3D", "groups"]),
    (lambda: L.Conv1DTranspose(2, 3, padding="causal"), ValueError, ["Conv1DTranspose", "padding"]),
    (lambda: L.Conv3DTranspose(2, 3, strides=2, output_padding=2), ValueError,
     ["Conv3DTranspose", "output_padding"]),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=0), ValueError,
     ["DepthwiseConv2D", "depth_multiplier"]),
    (lambda: L.SeparableConv1D(4, (3, 3)), TypeError, ["SeparableConv1D", "kernel_size"]),
    (lambda: L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2), ValueError, ["strides", "dilation"]),
    (lambda: L.ConvLSTM1D(2, 3, dropout=1.5), ValueError, ["dropout"]),
    (lambda: L.MaxPooling3D(pool_size=(2, 2)), TypeError, ["MaxPooling3D", "pool_size"]),
    (lambda: L.AdaptiveAveragePooling2D((1, 2, 3)), TypeError,
     ["AdaptiveAveragePooling2D", "output_size"]),
    (lambda: L.GlobalMaxPooling3D(data_format="channels_first"), ValueError, ["channels_last"]),
])
def test_bad_arguments_name_the_layer_and_argument(factory, error, words):
    with pytest.raises(error) as info:
        factory()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("layer, shape, words", [
    (L.Conv2D(4, 3, groups=2, name="grouped"), (2, 5, 5, 3),
     ["grouped", "groups=2", "(2, 5, 5, 3)"]),
    (L.Conv3D(4, 3, name="volume"), (2, 5, 5, 3), ["volume", "rank 5"]),
    (L.Conv3D(4, 3, name="small"), (2, 2, 5, 5, 1), ["small", "(2, 2, 5, 5, 1)"]),
    (L.DepthwiseConv1D(3, name="dw"), (2, 5, 5, 3), ["dw", "rank 3"]),
    (L.SeparableConv2D(3, 5, name="sep"), (2, 4, 4, 3), ["sep", "(2, 4, 4, 3)"]),
    (L.ConvLSTM2D(3, 3, name="clstm"), (2, 5, 5, 3), ["clstm", "rank 5"]),
    (L.MaxPooling3D(name="pool3"), (2, 4, 4, 3), ["pool3", "rank 5"]),
    (L.AdaptiveMaxPooling1D(2, name="ada"), (2, 4, 4, 3), ["ada", "rank 3"]),
])
def test_bad_inputs_name_the_layer_and_shape(layer, shape, words):
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, dtype="float32"))
    for word in words:
        assert word in str(info.value)


def test_a_built_layer_rejects_other_channels():
    layer = L.DepthwiseConv2D(3, name="dw_built")
    layer(np.zeros((1, 5, 5, 3), dtype="float32"))
    with pytest.raises(ValueError, match="dw_built.*channel axis 3"):
        layer(np.zeros((1, 5, 5, 4), dtype="float32"))


def test_functional_errors_name_the_op():
    with pytest.raises(ValueError, match="conv3d: input must have rank 5"):
        F.conv3d(np.zeros((1, 4, 4, 2)), np.zeros((2, 2, 2, 2, 3)))
    with pytest.raises(ValueError, match="conv: 5 filters cannot be split into 2 groups"):
        F.conv(np.zeros((1, 4, 4, 4)), np.zeros((2, 2, 2, 5)))
    with pytest.raises(ValueError, match="depthwise_conv2d: kernel of shape"):
        F.depthwise_conv2d(np.zeros((1, 4, 4, 2)), np.zeros((2, 2, 3, 1)))
    with pytest.raises(ValueError, match="separable_conv2d: pointwise_kernel must have shape"):
        F.separable_conv2d(np.zeros((1, 4, 4, 2)), np.zeros((2, 2, 2, 1)), np.zeros((1, 1, 3, 4)))
    with pytest.raises(ValueError, match="max_pool3d: window of effective size 3"):
        F.max_pool3d(np.zeros((1, 2, 4, 4, 1)), 3)


# ------------------------------------------------------------------ ConvLSTM options
def _sequence(seed=0, shape=(2, 4, 5, 5, 2)):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def test_conv_lstm_go_backwards_equals_reversed_steps():
    x = _sequence()
    forward = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    backward = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, go_backwards=True)
    forward._maybe_build(x.shape)
    backward._maybe_build(x.shape)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(x).numpy(), forward(x[:, ::-1]).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_conv_lstm_states_initial_state_and_stateful():
    x = _sequence()
    layer = L.ConvLSTM2D(3, 3, padding="same", return_state=True)
    out, h, c = layer(x)
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    # running the second half from the first half's states equals running it all at once
    _, h1, c1 = layer(x[:, :2])
    out2, _, _ = layer(x[:, 2:], initial_state=[h1, c1])
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    stateful = L.ConvLSTM2D(3, 3, padding="same", stateful=True)
    stateful._maybe_build(x.shape)
    stateful.set_weights(layer.get_weights())
    stateful(x[:, :2])
    np.testing.assert_allclose(stateful(x[:, 2:]).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, 2:]).numpy(), layer(x[:, 2:])[0].numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="initial states of shape"):
        layer(x, initial_state=[h.numpy()[:, :2], c])


def test_conv_lstm_dropout_only_in_training_and_seeded():
    x = _sequence()
    layers = [L.ConvLSTM2D(3, 3, padding="same", dropout=0.5, recurrent_dropout=0.3, seed=7)
              for _ in range(2)]
    for layer in layers:
        layer._maybe_build(x.shape)
    layers[1].set_weights(layers[0].get_weights())
    plain = layers[0](x).numpy()
    np.testing.assert_array_equal(layers[1](x).numpy(), plain)  # inference: no dropout
    dropped = layers[0](x, training=True).numpy()
    assert not np.allclose(dropped, plain)
    np.testing.assert_array_equal(layers[1](x, training=True).numpy(), dropped)  # same seed


def test_conv_lstm_mask_keeps_states_and_passes_on():
    x = _sequence()
    layer = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    y = layer(x, mask=mask)
    np.testing.assert_allclose(y.numpy()[0, 2:], np.stack([y.numpy()[0, 1]] * 2), rtol=1e-6)
    np.testing.assert_allclose(y.numpy()[0, :2], layer(x[:1, :2]).numpy()[0], rtol=1e-5)
    assert layer.compute_mask(x, mask) is mask
    zeroed = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, zero_output_for_mask=True)
    zeroed._maybe_build(x.shape)
    zeroed.set_weights(layer.get_weights())
    z = zeroed(x, mask=mask).numpy()
    np.testing.assert_array_equal(z[0, 2:], 0.0)
    np.testing.assert_allclose(z[:, :2], y.numpy()[:, :2], rtol=1e-6)
    with pytest.raises(ValueError, match="timestep mask of shape"):
        layer(x, mask=mask[:, :3])


@st.composite
def _layer_configs(draw):
    """A random layer of the new families and an input shape it accepts."""
    kind = draw(st.sampled_from(["Conv3D", "Conv1DTranspose", "Conv3DTranspose",
                                 "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
                                 "SeparableConv2D", "MaxPooling3D", "AveragePooling3D"]))
    rank = 1 if "1D" in kind else 2 if "2D" in kind else 3
    window = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    if "Pooling" in kind:
        config = {"pool_size": window, "strides": strides, "padding": padding}
    else:
        config = {"kernel_size": window, "strides": strides, "padding": padding}
        if "Depthwise" not in kind:
            config["filters"] = draw(st.integers(1, 3))
        if "Transpose" in kind and padding == "same":
            config["kernel_size"] = tuple(k | 1 for k in window)  # maps 'same' back exactly
    sizes = tuple(draw(st.integers(w if padding == "valid" or "Transpose" in kind else 1, 6))
                  for w in window)
    return kind, config, (2,) + sizes + (draw(st.integers(1, 3)),)


@given(_layer_configs())
def test_compute_output_shape_is_the_shape_call_returns(spec):
    kind, config, shape = spec
    layer = getattr(L, kind)(**config)
    y = layer(np.random.default_rng(0).standard_normal(shape))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + tuple(y.shape[1:])
    unknown = (None,) * (len(shape) - 1) + (shape[-1],)
    symbolic = getattr(L, kind)(**config)(npgrad.Input(unknown[1:]))
    assert len(symbolic.shape) == len(shape) and symbolic.shape[-1] == y.shape[-1]


def test_convolution_op_is_the_hook_keras_subclasses_use():
    # keras.io's subclassing_conv_layers recipe: a standardized kernel through convolution_op
    class Standardized(L.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean = npgrad.ops.mean(kernel, axis=(0, 1, 2), keepdims=True)
            return super().convolution_op(inputs, kernel - mean)

    class Doubled(L.Conv1D):
        def call(self, inputs):
            return self.convolution_op(inputs, self.kernel * 2.0) + self.bias

    rng = np.random.default_rng(0)
    x = rng.random((2, 6, 6, 3)).astype("float32")
    layer = Standardized(4, 3, padding="same", activation="relu", bias_initializer="ones")
    out = layer(x).numpy()
    kernel = layer.kernel.numpy()
    plain = L.Conv2D(4, 3, padding="same", activation="relu", bias_initializer="ones")
    plain(x)
    plain.set_weights([kernel - kernel.mean(axis=(0, 1, 2), keepdims=True), np.ones(4, "float32")])
    np.testing.assert_allclose(out, plain(x).numpy(), rtol=1e-5, atol=1e-6)
    seq = rng.random((2, 7, 3)).astype("float32")
    doubled = Doubled(2, 3, padding="causal")
    reference = L.Conv1D(2, 3, padding="causal")
    reference(seq)
    doubled(seq)
    reference.set_weights([doubled.kernel.numpy() * 2, doubled.bias.numpy()])
    np.testing.assert_allclose(doubled(seq).numpy(), reference(seq).numpy(), rtol=1e-5, atol=1e-6)



@pytest.mark.parametrize("layer_cls,shape", [(L.Conv2D, (2, 7, 6, 3)), (L.Conv1D, (2, 9, 3))])
def test_a_relu_conv_layer_is_one_op_with_the_unfused_values_and_gradients(layer_cls, shape):
    # Conv2D / Conv1D(activation='relu') apply the ReLU inside the convolution op
    x = np.random.default_rng(3).standard_normal(shape)
    check_relu_inside_the_op(layer_cls(4, 3, padding="same", activation="relu"),
                             layer_cls(4, 3, padding="same"), x)
