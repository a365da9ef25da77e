"""The issue-12 layers: NumPy references, training vs inference, configs, saving, errors.

Keras parity lives in test_misc_layers_keras.py (live, needs Keras) and
test_misc_layers_reference.py (stored Keras values); gradients in
tests/gradcheck/cases_misc_layers.py.
"""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
import npgrad.layers as L
from npgrad import saving
from npgrad.models import Sequential

RNG = np.random.default_rng(3)


def _x(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _floats(shape, low=-3.0, high=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=64))


# ------------------------------------------------------------------ normalization


@given(data=st.data())
def test_group_normalization_matches_a_numpy_reference(data):
    groups = data.draw(st.sampled_from([1, 2, 3]))
    channels = groups * data.draw(st.integers(1, 3))
    shape = (2,) + data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)) + (channels,)
    x = data.draw(_floats(shape))
    layer = L.GroupNormalization(groups=groups, dtype="float64")
    y = layer(x).numpy()
    grouped = x.reshape(x.shape[:-1] + (groups, channels // groups))
    axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
    mean = grouped.mean(axis=axes, keepdims=True)
    var = grouped.var(axis=axes, keepdims=True)
    expected = ((grouped - mean) / np.sqrt(var + 1e-3)).reshape(x.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-9)


def test_group_normalization_errors_name_the_layer_and_argument():
    with pytest.raises(ValueError, match="groups"):
        L.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="cannot be split into groups=4"):
        L.GroupNormalization(groups=4)(_x(2, 6))
    layer = L.GroupNormalization(groups=2)
    layer(_x(2, 4))
    with pytest.raises(ValueError, match="incompatible"):
        layer(_x(2, 6))


@given(x=_floats((3, 2, 5)))
def test_rms_and_unit_normalization_match_numpy(x):
    rms = L.RMSNormalization(axis=[1, 2], dtype="float64")
    expected = x / np.sqrt(np.mean(x ** 2, axis=(1, 2), keepdims=True) + 1e-6)
    np.testing.assert_allclose(rms(x).numpy(), expected, rtol=1e-6, atol=1e-9)
    assert rms.get_weights()[0].shape == (2, 5)
    unit = L.UnitNormalization(dtype="float64")(x).numpy()
    norms = np.maximum(np.sqrt((x ** 2).sum(-1, keepdims=True)), 1e-12)
    np.testing.assert_allclose(unit, x / norms, rtol=1e-6, atol=1e-9)


def test_normalization_adapt_merges_batches_exactly_and_inverts():
    data = _x(30, 4).astype("float64") * 3 + 2
    whole, batched = L.Normalization(dtype="float64"), L.Normalization(dtype="float64")
    whole.adapt(data)
    batched.adapt(iter([data[:7], data[7:20], data[20:]]))
    for a, b in zip(whole.get_weights(), batched.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.get_weights()[0], data.mean(0))
    y = whole(data).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-9)
    inverse = L.Normalization(mean=data.mean(0), variance=data.var(0), invert=True, dtype="float64")
    np.testing.assert_allclose(inverse(y).numpy(), data, rtol=1e-9)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        L.Normalization(mean=1.0)
    layer = L.Normalization(mean=[0.0, 1.0], variance=[1.0, 1.0])
    with pytest.raises(ValueError, match="cannot override"):
        layer.adapt(_x(4, 2))
    with pytest.raises(ValueError, match="incompatible"):
        layer(_x(4, 3))


def test_spectral_normalization_bounds_the_kernel_norm_and_keeps_keras_order():
    npgrad.utils.set_random_seed(0)
    layer = L.SpectralNormalization(L.Dense(6), power_iterations=5)
    x = _x(4, 8)
    before = layer(x).numpy()  # inference: the kernel is used as is
    assert [w.name.split("/")[-1] for w in layer.weights] == ["kernel", "vector_u", "bias"]
    assert len(layer.trainable_weights) == 2
    for _ in range(20):
        layer(x, training=True)
    assert np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0] == pytest.approx(1, rel=1e-3)
    assert not np.allclose(before, layer(x).numpy())
    with pytest.raises(ValueError, match="no attribute 'kernel' nor 'embeddings'"):
        L.SpectralNormalization(L.Permute((1,)))(x)
    with pytest.raises(ValueError, match="power_iterations"):
        L.SpectralNormalization(L.Dense(2), power_iterations=0)


# ------------------------------------------------------------------ noise


def test_noise_layers_are_the_identity_at_inference():
    x = npgrad.Tensor(_x(3, 4, 5))
    for layer in [L.SpatialDropout1D(0.5), L.GaussianNoise(0.3), L.GaussianDropout(0.3),
                  L.AlphaDropout(0.3), L.ActivityRegularization(l1=0.1)]:
        assert layer(x) is x


def test_noise_layers_in_training_have_the_documented_statistics():
    x = np.ones((200, 50, 40), dtype="float32")
    drop = L.SpatialDropout1D(0.4, seed=1)(x, training=True).numpy()
    assert np.all(np.ptp(drop, axis=1) == 0)  # whole channels kept or dropped
    assert set(np.unique(drop)) == {0.0, np.float32(1 / 0.6)}
    assert (drop[:, 0] == 0).mean() == pytest.approx(0.4, abs=0.02)
    noise = L.GaussianNoise(0.5, seed=2)(x, training=True).numpy() - 1
    assert noise.mean() == pytest.approx(0, abs=0.01) and noise.std() == pytest.approx(0.5, rel=0.02)
    gd = L.GaussianDropout(0.2, seed=3)(x, training=True).numpy()
    assert gd.mean() == pytest.approx(1, abs=0.01) and gd.var() == pytest.approx(0.25, rel=0.03)
    images = np.ones((64, 4, 4, 3), dtype="float32")
    maps = L.SpatialDropout2D(0.5, seed=4)(images, training=True).numpy()
    assert np.all(np.ptp(maps.reshape(64, 16, 3), axis=1) == 0)


def test_seeded_noise_is_reproducible_and_global_seed_controls_unseeded():
    x = _x(5, 6)
    a = L.GaussianNoise(0.5, seed=9)(x, training=True).numpy()
    b = L.GaussianNoise(0.5, seed=9)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    npgrad.utils.set_random_seed(5)
    c = L.AlphaDropout(0.5)(x, training=True).numpy()
    npgrad.utils.set_random_seed(5)
    np.testing.assert_array_equal(c, L.AlphaDropout(0.5)(x, training=True).numpy())


def test_activity_regularization_penalty_reaches_the_model_loss():
    model = Sequential([L.Dense(3, input_shape=(4,)), L.ActivityRegularization(l2=0.5)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _x(8, 4), _x(8, 3)
    out = model(x)
    (penalty,) = model.losses
    assert penalty.numpy() == pytest.approx(0.5 * (out.numpy() ** 2).sum() / 8, rel=1e-5)
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_noise_argument_errors():
    with pytest.raises(ValueError, match="GaussianNoise: argument `stddev`"):
        L.GaussianNoise(2.0)
    with pytest.raises(ValueError, match="AlphaDropout: argument `rate`"):
        L.AlphaDropout(1.0)
    with pytest.raises(ValueError, match="rank 4"):
        L.SpatialDropout2D(0.2)(_x(2, 3), training=True)


# ------------------------------------------------------------------ reshaping glue


@given(data=st.data())
def test_padding_then_cropping_is_the_identity(data):
    pads = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(3))
    x = data.draw(_floats((1, 2, 3, 2, 2)))
    padded = L.ZeroPadding3D(pads)(x)
    np.testing.assert_array_equal(L.Cropping3D(pads)(padded).numpy(), x.astype("float32"))
    np.testing.assert_array_equal(padded.numpy(), np.pad(x, ((0, 0),) + pads + ((0, 0),)).astype("float32"))
    seq = x[:, 0, 0]
    start, end = pads[0]
    np.testing.assert_array_equal(L.ZeroPadding1D((start, end))(seq).numpy(),
                                  np.pad(seq, ((0, 0), (start, end), (0, 0))).astype("float32"))


@given(data=st.data())
def test_upsampling_permute_repeat_match_numpy(data):
    x = data.draw(_floats((2, 3, 2, 2, 1)))
    size = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    expected = x.repeat(size[0], 1).repeat(size[1], 2).repeat(size[2], 3)
    np.testing.assert_array_equal(L.UpSampling3D(size)(x).numpy(), expected.astype("float32"))
    np.testing.assert_array_equal(L.UpSampling1D(size[0])(x[:, :, 0, 0]).numpy(),
                                  x[:, :, 0, 0].repeat(size[0], 1).astype("float32"))
    dims = data.draw(st.permutations([1, 2, 3, 4]))
    np.testing.assert_array_equal(L.Permute(dims)(x).numpy(),
                                  np.transpose(x, [0] + list(dims)).astype("float32"))
    n = data.draw(st.integers(1, 4))
    np.testing.assert_array_equal(L.RepeatVector(n)(x[:, :, 0, 0, 0]).numpy(),
                                  np.repeat(x[:, None, :, 0, 0, 0], n, 1).astype("float32"))


def test_reshaping_errors():
    with pytest.raises(ValueError, match="permutation"):
        L.Permute((0, 1))
    with pytest.raises(ValueError, match="cropping"):
        L.Cropping1D((3, 3))(_x(2, 5, 1))
    with pytest.raises(ValueError, match="rank 3"):
        L.Cropping1D()(_x(2, 5))
    with pytest.raises(ValueError, match="ZeroPadding3D: argument `padding`"):
        L.ZeroPadding3D(((1, 1), (1, 1)))


def test_lambda_saves_a_registered_name_and_refuses_unknown_functions(tmp_path):
    @L.register_function(package="tests")
    def scaled_tanh(x, factor=1.0):
        return npgrad.functional.tanh(x) * factor

    model = Sequential([L.Dense(3, input_shape=(2,)),
                        L.Lambda(scaled_tanh, arguments={"factor": 2.0})])
    x = _x(4, 2)
    path = tmp_path / "lambda.npgrad"
    saving.save_model(model, path)
    np.testing.assert_allclose(saving.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0))
    assert model.layers[1].get_config()["function"] == "tests>scaled_tanh"

    def unregistered(x):
        return x

    config = L.Lambda(unregistered).get_config()
    with pytest.raises(ValueError, match="register_function.*custom_objects"):
        L.Lambda.from_config(config)
    layer = L.Lambda.from_config(config, custom_objects={"unregistered": unregistered})
    assert layer.function is unregistered
    with pytest.raises(ValueError, match="anonymous `lambda`"):
        L.Lambda.from_config(L.Lambda(lambda t: t).get_config())


def test_lambda_passes_training_and_masks():
    seen = {}

    def fn(x, training=False):
        seen["training"] = training
        return x * 2

    L.Lambda(fn)(_x(2, 3), training=True)
    assert seen["training"] is True
    assert L.Lambda(lambda x: x, output_shape=(5,)).compute_output_shape((None, 3)) == (None, 5)


def test_lambda_output_shape_on_several_inputs_and_outputs_as_keras():
    # Keras's siamese example: Lambda(distance, output_shape=(1,))([left, right])
    left, right = npgrad.Input((10,)), npgrad.Input((10,))
    distance = L.Lambda(lambda t: npgrad.ops.sum(t[0] - t[1], axis=1, keepdims=True),
                        output_shape=(1,))
    assert distance([left, right]).shape == (None, 1)
    assert distance.compute_output_shape([(7, 10), (7, 10)]) == (7, 1)
    both = L.Lambda(lambda t: [t, t * 2], output_shape=[(10,), (10,)])(left)
    assert [t.shape for t in both] == [(None, 10), (None, 10)]
    keyed = L.Lambda(lambda t: t, output_shape={"a": (2,)})
    assert keyed.compute_output_shape({"x": (4, 3)}) == {"a": (4, 2)}
    first = L.Lambda(lambda t: t[0], output_shape=lambda shapes: shapes[0])  # callable: as is
    assert first([left, right]).shape == (None, 10)
    assert L.Lambda(lambda t: t, output_shape=[(3, 2), (4,)]).get_config()["output_shape"] == [
        [3, 2], [4]]
    with pytest.raises(TypeError, match="output_shape must be a shape, or a list or dict"):
        L.Lambda(lambda t: t, output_shape=5)


def test_stacked_rnn_cells_equal_two_rnn_layers():
    x = _x(3, 5, 4)
    stacked = L.RNN(L.StackedRNNCells([L.GRUCell(3), L.LSTMCell(2)]), return_sequences=True)
    y = stacked(x)
    first, second = L.GRU(3, return_sequences=True), L.LSTM(2, return_sequences=True)
    first(x)
    second(first(x))
    first.set_weights(stacked.get_weights()[:3])
    second.set_weights(stacked.get_weights()[3:])
    np.testing.assert_allclose(y.numpy(), second(first(x)).numpy(), rtol=1e-5, atol=1e-6)
    assert stacked.cell.state_size == [3, 2, 2]
    with pytest.raises(TypeError, match="state_size"):
        L.StackedRNNCells([L.Dense(2)])


# ------------------------------------------------------------------ image preprocessing


@given(data=st.data())
def test_resizing_identity_and_integer_nearest_upsampling(data):
    h, w = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    x = data.draw(_floats((2, h, w, 2))).astype("float32")
    np.testing.assert_array_equal(L.Resizing(h, w)(x).numpy(), x)
    s = data.draw(st.integers(1, 3))
    nearest = L.Resizing(h * s, w * s, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(nearest, x.repeat(s, 1).repeat(s, 2))
    # bilinear interpolation preserves constants
    np.testing.assert_allclose(L.Resizing(3, 7)(np.full((1, h, w, 1), 2.5)).numpy(), 2.5, rtol=1e-6)


def test_crops_and_random_color_layers():
    x = np.arange(2 * 6 * 8 * 3, dtype="float32").reshape(2, 6, 8, 3)
    np.testing.assert_array_equal(L.CenterCrop(2, 4)(x).numpy(), x[:, 2:4, 2:6])
    np.testing.assert_array_equal(L.Rescaling(0.5, offset=1)(x).numpy(), x * 0.5 + 1)
    crop = L.RandomCrop(3, 5, seed=0)(x, training=True).numpy()
    assert crop.shape == (2, 3, 5, 3)
    assert any(np.array_equal(crop, x[:, i:i + 3, j:j + 5]) for i in range(4) for j in range(4))
    images = RNG.uniform(50, 200, (8, 5, 5, 3)).astype("float32")
    bright = L.RandomBrightness((0.1, 0.2), seed=1)(images, training=True).numpy() - images
    assert np.all((bright >= 0.1 * 255 - 1e-3) & (bright <= 0.2 * 255 + 1e-3))
    assert np.allclose(bright.reshape(8, -1).std(1), 0, atol=1e-3)  # one offset per image
    contrast = L.RandomContrast(0.5, seed=2)(images, training=True).numpy()
    mean = images.mean(axis=(1, 2), keepdims=True)
    ratio = (contrast - mean) / (images - mean)
    assert np.all((ratio > 1 - 1e-3) & (ratio < 1.5 + 1e-3))
    assert contrast.min() >= 0 and contrast.max() <= 255


def test_color_layers_in_training_and_inference():
    images = RNG.uniform(0, 255, (16, 4, 4, 3)).astype("float32")
    for layer in (L.RandomGrayscale(1.0), L.RandomInvert(), L.Solarization(),
                  L.RandomColorDegeneration(1.0), L.RandomPosterization(4), L.RandomSharpness(0.9),
                  L.RandomHue(0.5), L.RandomSaturation(0.5), L.RandomGaussianBlur(),
                  L.Equalization(), L.RandomColorJitter(brightness_factor=0.3),
                  L.RandomErasing()):
        x = npgrad.Tensor(images)
        assert layer(x, training=False) is x  # inference: unchanged
    # a direct call without training augments, as Keras's image layers do (their call
    # defaults to training=True); inside a model the model's mode decides
    gray = L.RandomGrayscale(1.0)
    assert not np.allclose(gray(images).numpy(), images)
    model = npgrad.Sequential([npgrad.Input((4, 4, 3)), gray])
    np.testing.assert_array_equal(model.predict(images, verbose=0), images)
    gray = L.RandomGrayscale(1.0)(images, training=True).numpy()
    np.testing.assert_allclose(gray[..., 0], images @ [0.2989, 0.587, 0.114], rtol=1e-5)
    np.testing.assert_array_equal(gray[..., 0], gray[..., 2])
    np.testing.assert_allclose(L.Solarization()(images, training=True).numpy(), 255 - images,
                               rtol=1e-6)
    flipped = L.RandomInvert(seed=1)(images, training=True).numpy()
    assert all(np.allclose(f, i) or np.allclose(f, 255 - i) for f, i in zip(flipped, images))
    posterized = L.RandomPosterization((2, 2))(images, training=True).numpy()
    assert set(np.unique(posterized)) <= {0.0, 64.0, 128.0, 192.0}
    half_turn = L.RandomHue((1.0, 1.0), value_range=(0, 1))(images / 255, training=True).numpy()
    twice = L.RandomHue((1.0, 1.0), value_range=(0, 1))(half_turn, training=True).numpy()
    np.testing.assert_allclose(twice, images / 255, atol=1e-5)  # two half turns of hue
    gray = L.RandomSaturation((-0.5, -0.1))(images, training=True).numpy()
    np.testing.assert_allclose(np.ptp(gray, axis=-1), 0, atol=1e-3)  # no saturation left
    flat = np.full((2, 6, 6, 3), 100.0, dtype="float32")
    blurred = L.RandomGaussianBlur(factor=(1.0, 1.0))(flat, training=True).numpy()
    np.testing.assert_allclose(blurred[:, 1:-1, 1:-1], 100.0, rtol=1e-5)  # zero-padded edges only
    assert np.all(blurred[:, 0] < 100.0)
    erased = L.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=-1.0,
                             value_range=(-1, 255))(images, training=True).numpy()
    boxes = (erased == -1).all(axis=-1)
    assert np.all(boxes.sum(axis=(1, 2)) > 0) and np.all(boxes.sum(axis=(1, 2)) <= 9)
    np.testing.assert_array_equal(erased[~boxes], images[~boxes])
    equalized = L.Equalization()(images, training=True).numpy()
    assert equalized.min() == 0 and equalized.max() == 255
    jitter = L.RandomColorJitter(brightness_factor=(0.1, 0.1), seed=0)(images, training=True)
    np.testing.assert_allclose(jitter.numpy(), np.clip(images + 25.5, 0, 255), rtol=1e-5)
    stretched = L.AutoContrast()(images * 0.5 + 10).numpy()  # always on, like Keras
    np.testing.assert_allclose(stretched.min(axis=(1, 2)), 0, atol=1e-3)
    np.testing.assert_allclose(stretched.max(axis=(1, 2)), 255, rtol=1e-5)
    with pytest.raises(ValueError, match="3 \\(RGB\\) channels"):
        L.RandomGrayscale(1.0)(images[..., :2], training=True)


def test_image_layer_errors():
    with pytest.raises(ValueError, match="interpolation"):
        L.Resizing(2, 2, interpolation="lanczos3")
    with pytest.raises(ValueError, match="only one of"):
        L.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank 4"):
        L.CenterCrop(2, 2)(_x(4, 4))
    with pytest.raises(ValueError, match="RandomBrightness: argument `factor`"):
        L.RandomBrightness(1.5)


# ------------------------------------------------------------------ categorical preprocessing


@given(values=_floats((12,), -5, 5), bins=st.lists(st.floats(-4, 4), min_size=1, max_size=5))
def test_discretization_and_category_encoding_match_numpy(values, bins):
    bins = sorted(bins)
    codes = L.Discretization(bin_boundaries=bins)(values).numpy()
    np.testing.assert_array_equal(codes, np.digitize(values, bins))
    counts = L.CategoryEncoding(len(bins) + 1, output_mode="count")(codes.reshape(3, 4)).numpy()
    for row, c in zip(codes.reshape(3, 4), counts):
        np.testing.assert_array_equal(c, np.bincount(row, minlength=len(bins) + 1))


def test_discretization_adapt_gives_quantiles():
    layer = L.Discretization(num_bins=4)
    layer.adapt(np.arange(1000, dtype="float32"))
    np.testing.assert_allclose(layer.bin_boundaries, [249, 499, 749], atol=2)
    with pytest.raises(ValueError, match="exactly one"):
        L.Discretization()
    with pytest.raises(ValueError, match="codes must lie"):
        L.CategoryEncoding(3)(np.array([[0, 3]]))


def test_hashing_is_stable_uniform_and_masks():
    layer = L.Hashing(7)
    tokens = np.array([f"token{i}" for i in range(700)])
    codes = layer(tokens).numpy()
    np.testing.assert_array_equal(codes, L.Hashing(7)(tokens).numpy())  # a stable hash
    assert codes.min() >= 0 and codes.max() < 7 and np.bincount(codes).min() > 60
    masked = L.Hashing(5, mask_value="")(np.array(["", "a", ""])).numpy()
    assert masked[0] == masked[2] == 0 and masked[1] > 0
    salted = L.Hashing(1000, salt=[1, 2])(tokens).numpy()
    assert not np.array_equal(salted, L.Hashing(1000)(tokens).numpy())
    assert L.Hashing(4, output_mode="one_hot")(np.array([[3], [5]])).shape == (2, 4)


# FarmHash's published Fingerprint64 test vectors (google/farmhash, as ported and tested in
# tecnickcom/farmhash64): short, medium, long and multi-block inputs
FARMHASH_VECTORS = [
    (0x9AE16A3B2F90404F, ""), (0xB3454265B6DF75E3, "a"), (0x24A5B3A074E7F369, "abc"),
    (0x1A5502DE4A1F8101, "abcd"), (0xFEE9D22990C82909, "abcdefgh"),
    (0xAD052244B781C4EB, "0123456789"), (0x46A7416ED4861E3B, "0123456789=012345"),
    (0x80D73B843BA57DB8, "size:  a.out:  bad magic"),
    (0xA9961670CE2A46D9, "I wouldn't marry him with a ten foot pole."),
    (0x55182F8859ECA4CE, "For every action there is an equal and opposite government program."),
    (0x098EFF6958C5E91A, "The fugacity of a constituent in a mixture of gases at a given "
                         "temperature is proportional to its mole fraction.  Lewis-Randall Rule"),
]


def test_fingerprint64_and_siphash_match_published_values():
    from npgrad.layers.string_hashing import fingerprint64, siphash64

    for expected, text in FARMHASH_VECTORS:
        assert fingerprint64(text.encode()) == expected, text
    # SipHash-2-4's reference vector: key 00..0f, message 00..0e
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little"))
    assert siphash64(key, bytes(range(15))) == 0xA129CA6149BE45E5


def test_hashing_gives_the_bins_of_keras_documentation():
    letters = np.array([["A"], ["B"], ["C"], ["D"], ["E"]])
    np.testing.assert_array_equal(L.Hashing(3)(letters).numpy().ravel(), [1, 0, 1, 1, 2])
    masked = np.array([["A"], ["B"], [""], ["C"], ["D"]])
    np.testing.assert_array_equal(L.Hashing(3, mask_value="")(masked).numpy().ravel(),
                                  [1, 1, 0, 2, 2])
    np.testing.assert_array_equal(L.Hashing(3, salt=[133, 137])(letters).numpy().ravel(),
                                  [1, 2, 1, 0, 2])
    np.testing.assert_array_equal(L.Hashing(3, salt=133)(letters).numpy().ravel(), [0, 0, 2, 1, 0])
    # integers hash as their decimal text, floats are truncated first (tf.as_string)
    np.testing.assert_array_equal(L.Hashing(97)(np.array([12, -3])).numpy(),
                                  L.Hashing(97)(np.array(["12", "-3"])).numpy())
    np.testing.assert_array_equal(L.Hashing(97)(np.array([12.7])).numpy(),
                                  L.Hashing(97)(np.array(["12"])).numpy())


def test_lookups_invert_and_special_tokens():
    vocab = ["a", "b", "c"]
    lookup = L.StringLookup(vocabulary=vocab, mask_token="")
    tokens = np.array([["a", "", "c", "zzz"]])
    codes = lookup(tokens).numpy()
    np.testing.assert_array_equal(codes, [[2, 0, 4, 1]])
    inverse = L.StringLookup(vocabulary=vocab, mask_token="", invert=True)
    assert inverse(codes).tolist() == [["a", "", "c", "[UNK]"]]
    ints = L.IntegerLookup(num_oov_indices=2)
    ints.adapt(np.array([5, 5, 9, 7, 7, 7]))
    assert ints.get_vocabulary() == [-1, -1, 7, 5, 9]
    np.testing.assert_array_equal(ints(np.array([7, 100, 101])).numpy(), [2, 0, 1])  # floormod
    hashed = L.IntegerLookup(vocabulary=[7], num_oov_indices=5, oov_method="farmhash")
    np.testing.assert_array_equal(hashed(np.array([100, 101])).numpy(),
                                  L.Hashing(5)(np.array(["100", "101"])).numpy())
    strings = L.StringLookup(vocabulary=vocab, num_oov_indices=3, salt=7)
    np.testing.assert_array_equal(strings(np.array(["x", "yy"])).numpy(),
                                  L.Hashing(3, salt=7)(np.array(["x", "yy"])).numpy())
    strict = L.StringLookup(vocabulary=vocab, num_oov_indices=0)
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        strict(np.array(["q"]))
    with pytest.raises(ValueError, match="repeated"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        L.StringLookup(vocabulary=vocab, max_tokens=3)


def test_lookups_adapt_and_encode_rows_of_different_lengths():
    # keras.io's multi-label classification: StringLookup(output_mode="multi_hot") adapted on
    # ragged label lists; each inner list became one token, silently
    terms = [["cs.LG", "cs.CV"], ["cs.LG"], ["stat.ML", "cs.LG"]]
    lookup = L.StringLookup(output_mode="multi_hot")
    lookup.adapt(terms)
    assert lookup.get_vocabulary() == ["[UNK]", "cs.LG", "stat.ML", "cs.CV"]
    np.testing.assert_array_equal(lookup(terms).numpy(),
                                  [[0, 1, 0, 1], [0, 1, 0, 0], [0, 1, 1, 0]])
    counts = L.IntegerLookup(output_mode="count")
    counts.adapt([[1, 2], [2], [3, 2, 2]])
    np.testing.assert_array_equal(counts([[1, 2], [2, 2, 2]]).numpy(), [[0, 1, 0, 1], [0, 3, 0, 0]])
    with pytest.raises(ValueError, match="rows of different lengths"):
        L.StringLookup(vocabulary=["a"])([["a"], ["a", "b"]])


def test_keras_older_output_mode_names_are_taken():
    # Keras still takes 'binary' for 'multi_hot' and 'tf-idf' for 'tf_idf' (keras.io's
    # wide-and-deep example passes output_mode="binary"); the config holds the new name
    vocab = ["a", "b", "c"]
    tokens = np.array([["a", "c"], ["b", "b"]])
    binary = L.StringLookup(vocabulary=vocab, output_mode="binary")
    np.testing.assert_array_equal(
        binary(tokens).numpy(),
        L.StringLookup(vocabulary=vocab, output_mode="multi_hot")(tokens).numpy())
    assert binary.get_config()["output_mode"] == "multi_hot"
    ints = L.IntegerLookup(vocabulary=[4, 7], output_mode="binary")
    np.testing.assert_array_equal(ints(np.array([[7, 9]])).numpy(), [[1, 0, 1]])
    encoding = L.CategoryEncoding(3, output_mode="binary")
    np.testing.assert_array_equal(encoding(np.array([[0, 2]])).numpy(), [[1, 0, 1]])
    text = L.TextVectorization(output_mode="tf-idf")
    text.adapt(np.array(["a b", "a c"]))
    assert text.get_config()["output_mode"] == "tf_idf"
    with pytest.raises(ValueError, match="output_mode"):
        L.StringLookup(vocabulary=vocab, output_mode="bits")


def test_text_vectorization_pipeline_and_round_trip():
    layer = L.TextVectorization(ngrams=2, output_sequence_length=6)
    layer.adapt(["Hello, World!", "hello there world"])
    assert layer.tokenize("Hello, WORLD!") == ["hello", "world", "hello world"]
    clone = L.TextVectorization.from_config(json.loads(json.dumps(layer.get_config())))
    x = np.array(["hello world", "nobody"])
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    assert layer(x).shape == (2, 6)
    with pytest.raises(ValueError, match="output_sequence_length"):
        L.TextVectorization(output_mode="count", output_sequence_length=3)


def test_spectrograms_shapes_and_parseval():
    audio = _x(2, 1024)
    mel = L.MelSpectrogram(fft_length=256, sequence_stride=128, num_mel_bins=16)
    assert mel(audio).shape == mel.compute_output_shape((2, 1024)) == (2, 16, 9)
    stft = L.STFTSpectrogram(mode="stft", frame_length=64, frame_step=64, window=None,
                             scaling=None)
    x = _x(1, 64, 1)
    out = stft(x).numpy()[0, 0]
    np.testing.assert_allclose(out[:33] + 1j * out[33:], np.fft.rfft(x[0, :, 0]), atol=1e-4)


# ------------------------------------------------------------------ configs and saving

ROUND_TRIPS = [
    (lambda: L.GroupNormalization(groups=2, epsilon=1e-4), (2, 3, 4)),
    (lambda: L.RMSNormalization(axis=[1, 2]), (2, 3, 4)),
    (lambda: L.UnitNormalization(axis=1), (2, 3)),
    (lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0]), (2, 2)),
    (lambda: L.SpectralNormalization(L.Dense(3)), (2, 4)),
    (lambda: L.SpatialDropout3D(0.2, seed=1), (1, 2, 2, 2, 3)),
    (lambda: L.AlphaDropout(0.2, noise_shape=(None, 1)), (2, 3)),
    (lambda: L.ActivityRegularization(l1=0.1), (2, 3)),
    (lambda: L.Cropping2D(((1, 0), (0, 1))), (1, 3, 3, 1)),
    (lambda: L.Cropping1D((1, 0)), (1, 3, 1)),
    (lambda: L.ZeroPadding1D((0, 2)), (1, 3, 1)),
    (lambda: L.UpSampling3D((1, 2, 1)), (1, 2, 2, 2, 1)),
    (lambda: L.Permute((2, 1)), (2, 3, 4)),
    (lambda: L.RepeatVector(2), (2, 3)),
    (lambda: L.Identity(), (2, 3)),
    (lambda: L.RNN(L.StackedRNNCells([L.SimpleRNNCell(2), L.GRUCell(3)])), (2, 3, 4)),
    (lambda: L.Rescaling([1.0, 0.5], offset=1.0), (1, 2, 2, 2)),
    (lambda: L.Resizing(3, 2, interpolation="nearest", pad_to_aspect_ratio=True), (1, 4, 5, 2)),
    (lambda: L.CenterCrop(2, 2), (1, 4, 5, 2)),
    (lambda: L.RandomCrop(2, 2, seed=3), (1, 4, 5, 2)),
    (lambda: L.RandomContrast((0.1, 0.2)), (1, 4, 5, 2)),
    (lambda: L.RandomBrightness(0.2, value_range=(0, 1)), (1, 4, 5, 2)),
    (lambda: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot"), (2, 3)),
    (lambda: L.RandomGrayscale(0.3, seed=1), (1, 2, 2, 3)),
    (lambda: L.RandomInvert((0.2, 0.4)), (1, 2, 2, 3)),
    (lambda: L.Solarization(0.1, (0.2, 0.5), value_range=(0, 1)), (1, 2, 2, 3)),
    (lambda: L.RandomColorDegeneration(0.5), (1, 2, 2, 3)),
    (lambda: L.AutoContrast(value_range=(-1, 1)), (1, 2, 2, 3)),
    (lambda: L.RandomPosterization((2, 5), seed=2), (1, 2, 2, 3)),
    (lambda: L.RandomSharpness(0.3), (1, 3, 3, 2)),
    (lambda: L.RandomHue(0.2, value_range=(0, 1)), (1, 2, 2, 3)),
    (lambda: L.RandomSaturation((0.2, 0.6)), (1, 2, 2, 3)),
    (lambda: L.RandomGaussianBlur(0.5, kernel_size=5, sigma=(0.2, 0.8)), (1, 4, 4, 3)),
    (lambda: L.Equalization(bins=64), (1, 4, 4, 3)),
    (lambda: L.RandomErasing(0.5, fill_value=[1.0, 2.0, 3.0]), (1, 4, 4, 3)),
    (lambda: L.RandomColorJitter(brightness_factor=0.1, saturation_factor=0.2, seed=4),
     (1, 3, 3, 3)),
    (lambda: L.CategoryEncoding(4, output_mode="count"), (2, 3)),
    (lambda: L.STFTSpectrogram(mode="magnitude", frame_length=8), (1, 20, 1)),
    (lambda: L.MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=4), (1, 40)),
]


@pytest.mark.parametrize("index", range(len(ROUND_TRIPS)))
def test_config_round_trip_through_json_gives_the_same_layer(index):
    make, shape = ROUND_TRIPS[index]
    layer = make()
    x = np.abs(_x(*shape)) if "Discretization" in type(layer).__name__ else _x(*shape)
    if type(layer).__name__ == "CategoryEncoding":
        x = RNG.integers(0, 4, shape)
    y = layer(x, training=False).numpy()  # random layers: their deterministic side
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    clone(x, training=False)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x, training=False).numpy(), y, rtol=1e-6)
    assert clone.get_config() == layer.get_config() | {"name": clone.name}


def test_a_model_of_new_layers_saves_and_loads(tmp_path):
    npgrad.utils.set_random_seed(1)
    norm = L.Normalization()
    data = _x(32, 6, 4) * 2 + 1
    norm.adapt(data)
    model = Sequential([
        npgrad.Input((6, 4)), norm, L.GroupNormalization(groups=2), L.RMSNormalization(),
        L.GaussianNoise(0.1), L.SpatialDropout1D(0.1), L.Permute((2, 1)), L.Cropping1D((1, 0)),
        L.ZeroPadding1D(1), L.UpSampling1D(2), L.Flatten(), L.SpectralNormalization(L.Dense(5)),
        L.AlphaDropout(0.1), L.RepeatVector(2),
        L.RNN(L.StackedRNNCells([L.SimpleRNNCell(3), L.LSTMCell(2)])), L.UnitNormalization(),
        L.ActivityRegularization(l2=1e-3),
    ])
    model.compile(optimizer="adam", loss="mse")
    model.fit(data, _x(32, 2), epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "misc.npgrad"
    saving.save_model(model, path)
    loaded = saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert loaded.layers[0].get_weights()[2].dtype == np.int32  # Normalization's count
