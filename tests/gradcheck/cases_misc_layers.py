"""Registry cases: the issue-12 layers (normalization variants, noise, reshaping glue,
image preprocessing, STFT) through the layer API, in float64.

Each case builds a fresh float64 layer from the drawn input's shape and binds the drawn
arrays as its weights (in ``get_weights`` order, sub-layers' included), so the check sees
the gradient with respect to the input and to every weight. Random layers get a ``seed``:
a fresh layer with the same seed draws the same noise, so the function is deterministic.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
import npgrad.layers as L
from tests.gradcheck.registry import OpCase, away_from, floats


def _layers(layer):
    """The layer and every sub-layer under it."""
    found, stack = [], [layer]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current._sublayers())
    return found


def _bind(layer, tensors):
    """Make ``tensors`` (in ``layer.weights`` order, maybe fewer) the layer's weights."""
    old = layer.weights[:len(tensors)]
    layer.set_weights([t.data for t in tensors] + layer.get_weights()[len(tensors):])
    swap = {id(o): t for o, t in zip(old, tensors)}
    for owner in _layers(layer):
        for i, weight in enumerate(owner._own_weights):
            if id(weight) in swap:
                owner._own_weights[i] = swap[id(weight)]
        for attr, value in list(vars(owner).items()):
            if id(value) in swap:
                setattr(owner, attr, swap[id(value)])


def _layer_fn(make, training=False, with_losses=False):
    """fn(x, *weights, **config) -> output of a fresh float64 ``make(**config)``."""

    def fn(x, *weights, **config):
        layer = make(dtype="float64", **config)
        layer._maybe_build(x.shape)
        _bind(layer, weights)
        out = layer(x, training=training)
        if with_losses:  # the activity penalty joins the output, so its gradient is checked
            for penalty in layer.losses:
                out = out + penalty
        return out

    fn.__name__ = f"{getattr(make, '__name__', 'layer')}_layer"
    return fn


def _array(draw, shape, low=-2.0, high=2.0, kinks=()):
    a = draw(hnp.arrays(np.float64, tuple(shape), elements=floats(low, high)))
    return away_from(a, kinks) if kinks else a


def _spread(a):
    """Add a deterministic ramp so no two elements tie (normalization needs variance)."""
    return a + np.linspace(0.0, 1.0, a.size).reshape(a.shape)


# ------------------------------------------------------------------ normalization


@st.composite
def _group_norm(draw):
    shape, axis = draw(st.sampled_from([((2, 6), -1), ((2, 3, 4), -1), ((2, 4, 3, 2), 1),
                                        ((1, 2, 2, 6), -1)]))
    channels = shape[axis]
    groups = draw(st.sampled_from([g for g in (1, 2, 3, -1) if g == -1 or channels % g == 0]))
    if groups == -1 and int(np.prod(shape[1:])) // channels == 1:
        groups = 1  # one element per group has no variance to differentiate
    center, scale = draw(st.booleans()), draw(st.booleans())
    arrays = [_spread(_array(draw, shape))]
    if scale:
        arrays.append(_array(draw, (channels,), 0.5, 2.0))
    if center:
        arrays.append(_array(draw, (channels,)))
    return arrays, {"groups": groups, "axis": axis, "center": center, "scale": scale}


@st.composite
def _group_norm_op(draw):
    shape, axis = draw(st.sampled_from([((2, 6), -1), ((2, 3, 4), 2), ((2, 4, 2, 3), 1),
                                        ((1, 2, 2, 6), 3)]))
    channels = shape[axis]
    groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
    arrays = [_spread(_array(draw, shape)), _array(draw, (channels,), 0.5, 2.0),
              _array(draw, (channels,))]
    return arrays, {"groups": groups, "axis": axis, "epsilon": 1e-3}


@st.composite
def _rms_norm(draw):
    shape, axis = draw(st.sampled_from([((3, 4), -1), ((2, 3, 4), [1, 2]), ((2, 3, 2), 1)]))
    axes = [axis] if isinstance(axis, int) else axis
    return [_array(draw, shape), _array(draw, tuple(shape[a] for a in axes), 0.5, 2.0)], \
        {"axis": axis}


@st.composite
def _unit_norm(draw):
    shape, axis = draw(st.sampled_from([((3, 4), -1), ((2, 3, 4), [1, 2]), ((2, 3, 2), 1)]))
    return [_array(draw, shape, 0.2, 2.0) * draw(st.sampled_from([1.0, -1.0]))], {"axis": axis}


@st.composite
def _normalization(draw):
    mean = _array(draw, (3,))
    variance = _array(draw, (3,), 0.1, 3.0)
    config = {"mean": mean.tolist(), "variance": variance.tolist(),
              "invert": draw(st.booleans())}
    return [_array(draw, (4, 3))], config


@st.composite
def _spectral(draw):
    n_in, units = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return [_array(draw, (2, n_in)), _array(draw, (n_in, units)), _array(draw, (1, units)),
            _array(draw, (units,))], {"units": units}


def _spectral_dense(dtype, units):
    return L.SpectralNormalization(L.Dense(units, dtype=dtype), dtype=dtype)


# ------------------------------------------------------------------ noise and penalties


@st.composite
def _noise(draw, arg, values, rank=2):
    shape = {2: (3, 4), 3: (2, 3, 4), 4: (2, 3, 2, 3), 5: (2, 2, 2, 2, 3)}[rank]
    return [_array(draw, shape)], {arg: draw(st.sampled_from(values)),
                                   "seed": draw(st.integers(0, 1000))}


@st.composite
def _activity(draw):
    config = {"l1": draw(st.sampled_from([0.0, 0.1])), "l2": draw(st.sampled_from([0.0, 0.3]))}
    return [_array(draw, (3, 4), kinks=(0.0,))], config


# ------------------------------------------------------------------ reshaping glue


@st.composite
def _shaped(draw, shape, **config_strategies):
    config = {k: draw(s) for k, s in config_strategies.items()}
    return [_array(draw, shape)], config


@st.composite
def _stacked_rnn(draw):
    n, t, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    u1, u2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    arrays = [_array(draw, (n, t, f), -1.0, 1.0),
              _array(draw, (f, u1)), _array(draw, (u1, u1)), _array(draw, (u1,)),
              _array(draw, (u1, 4 * u2)), _array(draw, (u2, 4 * u2)), _array(draw, (4 * u2,))]
    return arrays, {"u1": u1, "u2": u2}


def _stacked_rnn_fn(x, *weights, u1, u2):
    cells = L.StackedRNNCells([L.SimpleRNNCell(u1, dtype="float64"),
                               L.LSTMCell(u2, dtype="float64")], dtype="float64")
    layer = L.RNN(cells, return_sequences=True, dtype="float64")
    layer._maybe_build(x.shape)
    _bind(layer, weights)
    return layer(x)


def _lambda_fn(x, power):
    return L.Lambda(lambda t, p: F.tanh(t) * p, arguments={"p": power}, dtype="float64")(x)


# ------------------------------------------------------------------ image preprocessing


@st.composite
def _resize(draw):
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    config = {"height": draw(st.integers(1, 6)), "width": draw(st.integers(1, 6)),
              "interpolation": draw(st.sampled_from(["bilinear", "nearest"])),
              "antialias": draw(st.booleans())}
    aspect = draw(st.sampled_from([None, "crop_to_aspect_ratio", "pad_to_aspect_ratio"]))
    if aspect:
        config[aspect] = True
    return [_array(draw, (2, h, w, 2))], config


@st.composite
def _center_crop(draw):
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return [_array(draw, (1, h, w, 2))], {"height": draw(st.integers(1, 5)),
                                          "width": draw(st.integers(1, 5))}


@st.composite
def _color(draw, cls):
    config = {"factor": draw(st.sampled_from([0.2, 0.5, (0.1, 0.3)])), "value_range": (-100, 100),
              "seed": draw(st.integers(0, 1000))}
    return [_array(draw, (2, 3, 3, 2))], config


@st.composite
def _stft(draw):
    mode = draw(st.sampled_from(["log", "magnitude", "psd", "real", "imag", "stft"]))
    frame = draw(st.integers(3, 6))
    config = {"mode": mode, "frame_length": frame, "frame_step": draw(st.integers(1, frame)),
              "padding": draw(st.sampled_from(["valid", "same"]))}
    x = _array(draw, (1, draw(st.integers(frame, 12)), draw(st.integers(1, 2))))
    bins = 2 ** int(np.ceil(np.log2(frame))) // 2 + 1
    weights = []
    if mode != "imag":
        weights.append(_array(draw, (frame, 1, bins)))
    if mode != "real":
        weights.append(_array(draw, (frame, 1, bins)))
    return [x] + weights, config


CASES = [
    OpCase("group_norm", F.group_norm, _group_norm_op()),
    OpCase("layer_group_normalization", _layer_fn(L.GroupNormalization), _group_norm()),
    OpCase("layer_rms_normalization", _layer_fn(L.RMSNormalization), _rms_norm()),
    OpCase("layer_unit_normalization", _layer_fn(L.UnitNormalization), _unit_norm()),
    OpCase("layer_normalization_fixed_stats", _layer_fn(L.Normalization), _normalization()),
    # inference: the layer runs its kernel as is; vector_u takes no part
    OpCase("layer_spectral_normalization_inference", _layer_fn(_spectral_dense), _spectral(),
           requires_grad=(True, True, False, True)),
    OpCase("layer_spatial_dropout1d", _layer_fn(L.SpatialDropout1D, training=True),
           _noise("rate", [0.0, 0.5], rank=3)),
    OpCase("layer_spatial_dropout2d", _layer_fn(L.SpatialDropout2D, training=True),
           _noise("rate", [0.3], rank=4)),
    OpCase("layer_spatial_dropout3d", _layer_fn(L.SpatialDropout3D, training=True),
           _noise("rate", [0.3], rank=5)),
    OpCase("layer_gaussian_noise", _layer_fn(L.GaussianNoise, training=True),
           _noise("stddev", [0.1, 1.0])),
    OpCase("layer_gaussian_dropout", _layer_fn(L.GaussianDropout, training=True),
           _noise("rate", [0.2, 0.6])),
    OpCase("layer_alpha_dropout", _layer_fn(L.AlphaDropout, training=True),
           _noise("rate", [0.2, 0.6])),
    OpCase("layer_activity_regularization", _layer_fn(L.ActivityRegularization, with_losses=True),
           _activity()),
    OpCase("layer_permute", _layer_fn(L.Permute),
           _shaped((2, 3, 4, 2), dims=st.sampled_from([(1, 2, 3), (3, 1, 2), (2, 3, 1)]))),
    OpCase("layer_repeat_vector", _layer_fn(L.RepeatVector), _shaped((2, 3), n=st.integers(1, 3))),
    OpCase("layer_identity", _layer_fn(L.Identity), _shaped((2, 3))),
    OpCase("layer_cropping1d", _layer_fn(L.Cropping1D),
           _shaped((2, 5, 2), cropping=st.sampled_from([1, (0, 2), (2, 1)]))),
    OpCase("layer_cropping2d", _layer_fn(L.Cropping2D),
           _shaped((1, 4, 5, 2), cropping=st.sampled_from([1, (1, 0), ((0, 1), (2, 1))]))),
    OpCase("layer_cropping3d", _layer_fn(L.Cropping3D),
           _shaped((1, 3, 4, 3, 1), cropping=st.sampled_from([1, (0, 1, 1), ((1, 0), (0, 2), (1, 1))]))),
    OpCase("layer_zero_padding1d", _layer_fn(L.ZeroPadding1D),
           _shaped((2, 3, 2), padding=st.sampled_from([1, (0, 2)]))),
    OpCase("layer_zero_padding3d", _layer_fn(L.ZeroPadding3D),
           _shaped((1, 2, 2, 2, 1), padding=st.sampled_from([1, (0, 1, 2), ((1, 0), (0, 1), (2, 0))]))),
    OpCase("layer_upsampling1d", _layer_fn(L.UpSampling1D),
           _shaped((2, 3, 2), size=st.integers(1, 3))),
    OpCase("layer_upsampling3d", _layer_fn(L.UpSampling3D),
           _shaped((1, 2, 2, 2, 1), size=st.sampled_from([2, (1, 2, 3)]))),
    OpCase("layer_lambda", _lambda_fn, _shaped((2, 3), power=st.sampled_from([0.5, 2.0]))),
    OpCase("layer_stacked_rnn_cells", _stacked_rnn_fn, _stacked_rnn()),
    OpCase("layer_rescaling", _layer_fn(L.Rescaling),
           _shaped((2, 2, 2, 3), scale=st.sampled_from([0.5, [1.0, 2.0, -1.0]]),
                   offset=st.sampled_from([0.0, -1.0]))),
    OpCase("layer_resizing", _layer_fn(L.Resizing), _resize()),
    OpCase("layer_center_crop", _layer_fn(L.CenterCrop), _center_crop()),
    OpCase("layer_random_contrast_training", _layer_fn(L.RandomContrast, training=True),
           _color(L.RandomContrast)),
    OpCase("layer_random_brightness_training", _layer_fn(L.RandomBrightness, training=True),
           _color(L.RandomBrightness)),
    OpCase("layer_stft_spectrogram", _layer_fn(L.STFTSpectrogram), _stft(), atol=1e-4),
]
