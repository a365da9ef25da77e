"""Augmentation layers: identity at inference, exact flips/shifts/rotations, seeds, bad arguments."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
from npgrad.layers.preprocessing import RandomFlip, RandomRotation, RandomTranslation, RandomZoom

ALL_LAYERS = [
    lambda seed=None: RandomFlip(seed=seed),
    lambda seed=None: RandomTranslation(0.2, 0.3, seed=seed),
    lambda seed=None: RandomRotation(0.1, seed=seed),
    lambda seed=None: RandomZoom(0.2, 0.1, seed=seed),
]
IDS = ["flip", "translation", "rotation", "zoom"]


def _images(n=3, h=6, w=5, c=2, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c)).astype(np.float32)


def _one_pixel(h, w, y, x, n=1):
    img = np.zeros((n, h, w, 1), np.float32)
    img[:, y, x, 0] = 1.0
    return img


@pytest.mark.parametrize("make", ALL_LAYERS, ids=IDS)
def test_identity_at_inference_returns_the_same_tensor(make):
    layer = make()
    x = npgrad.Tensor(_images(), requires_grad=True)
    assert layer(x, training=False) is x
    # as Keras's, a direct call without training augments (their call defaults to True)
    assert layer(x) is not x


@pytest.mark.parametrize("make", ALL_LAYERS, ids=IDS)
@given(n=st.integers(1, 3), h=st.integers(2, 7), w=st.integers(2, 7), c=st.integers(1, 3))
def test_training_preserves_shape_and_dtype(make, n, h, w, c):
    layer = make()
    x = _images(n, h, w, c)
    y = layer(x, training=True)
    assert y.shape == x.shape and y.dtype == np.float32
    assert not y.requires_grad  # a constant: no graph edge back to the input
    # one unbatched image (H, W, C) works too
    assert layer(x[0], training=True).shape == x[0].shape


@pytest.mark.parametrize("make", ALL_LAYERS, ids=IDS)
def test_seeded_layers_are_reproducible_and_differ_across_calls(make):
    x = _images(n=16, h=8, w=8, c=1)
    a, b = make(seed=3), make(seed=3)
    first_a, first_b = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    # a second call draws new transformations
    assert not np.array_equal(a(x, training=True).numpy(), first_a)


@pytest.mark.parametrize("make", ALL_LAYERS, ids=IDS)
def test_global_seed_makes_unseeded_layers_reproducible(make):
    x = _images(n=16, h=8, w=8, c=1)
    npgrad.utils.set_random_seed(11)
    first = make()(x, training=True).numpy()
    npgrad.utils.set_random_seed(11)
    np.testing.assert_array_equal(make()(x, training=True).numpy(), first)


def test_flips_are_exact_reversals():
    x = _images(n=64, h=4, w=5, c=2)
    y = RandomFlip("horizontal", seed=0)(x, training=True).numpy()
    flipped = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    kept = np.all(y == x, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 10 < flipped.sum() < 54   # about half flipped

    y = RandomFlip("vertical", seed=1)(x, training=True).numpy()
    flipped = np.all(y == x[:, ::-1], axis=(1, 2, 3))
    assert np.all(flipped | np.all(y == x, axis=(1, 2, 3))) and 10 < flipped.sum() < 54

    y = RandomFlip("horizontal_and_vertical", seed=2)(x, training=True).numpy()
    options = [x, x[:, ::-1], x[:, :, ::-1], x[:, ::-1, ::-1]]
    which = np.array([[np.array_equal(y[i], o[i]) for o in options] for i in range(len(x))])
    assert which.any(axis=1).all() and which.any(axis=0).all()  # each of the four happens


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_translation_by_a_known_factor_moves_a_pixel_exactly(fill_mode):
    x = _one_pixel(8, 8, y=3, x=2)
    layer = RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode=fill_mode)
    y = layer(x, training=True).numpy()[0, :, :, 0]
    assert y[5, 0] == 1.0          # down by 0.25 * 8 = 2 rows, left by 2 columns
    assert y.sum() == 1.0 or fill_mode != "constant"


def test_seeded_random_translation_moves_by_the_drawn_amount():
    x = _one_pixel(20, 20, y=10, x=10, n=32)
    y = RandomTranslation(0.2, 0.2, interpolation="nearest", seed=5)(x, training=True).numpy()
    rows, cols = [], []
    for img in y[..., 0]:
        (r,), (c,) = np.nonzero(img)
        rows.append(r - 10)
        cols.append(c - 10)
    rows, cols = np.array(rows), np.array(cols)
    assert np.all(np.abs(rows) <= 4) and np.all(np.abs(cols) <= 4)      # within 0.2 * 20
    assert len(set(rows.tolist())) > 3 and len(set(cols.tolist())) > 3  # really random
    # the same seed moves every image by the same amount again
    again = RandomTranslation(0.2, 0.2, interpolation="nearest", seed=5)(x, training=True)
    np.testing.assert_array_equal(again.numpy(), y)


def test_translation_fill_modes_fill_the_uncovered_border():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)
    shift_right = dict(height_factor=(0.0, 0.0), width_factor=(0.25, 0.25))
    const = RandomTranslation(**shift_right, fill_value=-1.0)(x, training=True).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(const[:, 0], -1.0)
    np.testing.assert_array_equal(const[:, 1:], x[0, :, :3, 0])
    near = RandomTranslation(**shift_right, fill_mode="nearest")(x, training=True).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(near[:, 0], x[0, :, 0, 0])
    wrap = RandomTranslation(**shift_right, fill_mode="wrap")(x, training=True).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(wrap, np.roll(x[0, :, :, 0], 1, axis=1))


def test_quarter_turn_rotation_is_rot90_counter_clockwise():
    x = _images(n=2, h=6, w=6, c=3)
    y = RandomRotation((0.25, 0.25))(x, training=True).numpy()
    np.testing.assert_allclose(y, np.rot90(x, k=1, axes=(1, 2)), atol=1e-6)
    y = RandomRotation((-0.5, -0.5), fill_mode="nearest")(x, training=True).numpy()
    np.testing.assert_allclose(y, x[:, ::-1, ::-1], atol=1e-6)


def test_zoom_out_by_one_halves_the_image_about_its_centre():
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 2, 2, 0] = 1.0                      # 2 pixels up-left of the centre (4, 4)
    y = RandomZoom((1.0, 1.0), interpolation="nearest")(x, training=True).numpy()[0, :, :, 0]
    # zoom 2: output pixel at offset d reads the input at 2 d, so (2, 2) lands at (3, 3)
    assert y[3, 3] == 1.0 and y.sum() == 1.0
    # zoom in by 0.5 on the height only: the pixel moves 4 rows away from the centre
    y = RandomZoom((-0.5, -0.5), (0.0, 0.0), interpolation="nearest")(x, training=True).numpy()
    assert y[0, 0, 2, 0] == 1.0


def test_zero_factors_are_the_identity_in_training():
    x = _images()
    for layer in (RandomTranslation(0.0, 0.0), RandomRotation(0.0), RandomZoom(0.0)):
        np.testing.assert_allclose(layer(x, training=True).numpy(), x, atol=1e-6)


@pytest.mark.parametrize("make", ALL_LAYERS, ids=IDS)
def test_config_round_trip_is_json(make):
    layer = make(seed=7)
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert clone.get_config() == layer.get_config()
    x = _images(n=8, h=8, w=8, c=1)
    np.testing.assert_array_equal(clone(x, training=True).numpy(), layer(x, training=True).numpy())


@pytest.mark.parametrize("make, exc", [
    (lambda: RandomFlip("diagonal"), ValueError),
    (lambda: RandomFlip(seed=-1), ValueError),
    (lambda: RandomTranslation(1.5, 0.1), ValueError),
    (lambda: RandomTranslation((0.3, 0.1), 0.1), ValueError),
    (lambda: RandomTranslation(0.1, "wide"), TypeError),
    (lambda: RandomTranslation(0.1, 0.1, fill_mode="mirror"), ValueError),
    (lambda: RandomTranslation(0.1, 0.1, interpolation="bicubic"), ValueError),
    (lambda: RandomRotation((0.2, -0.2)), ValueError),
    (lambda: RandomRotation(float("nan")), ValueError),
    (lambda: RandomRotation(0.1, fill_value="black"), TypeError),
    (lambda: RandomZoom(-1.5), ValueError),
    (lambda: RandomZoom(0.1, (0.1, 0.2, 0.3)), TypeError),
])
def test_bad_arguments_raise_naming_the_layer(make, exc):
    with pytest.raises(exc, match=r"Random\w+: argument"):
        make()


@pytest.mark.parametrize("make", ALL_LAYERS, ids=IDS)
def test_non_image_input_raises(make):
    with pytest.raises(ValueError, match="rank 4"):
        make()(np.zeros((4, 5), np.float32), training=True)


def test_augmentation_inside_a_model_acts_in_fit_only():
    npgrad.utils.set_random_seed(0)
    model = npgrad.Sequential([
        npgrad.Input(shape=(8, 8, 1)),
        RandomFlip("horizontal"), RandomTranslation(0.1, 0.1), RandomRotation(0.05), RandomZoom(0.1),
        npgrad.layers.Flatten(),
        npgrad.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _images(n=16, h=8, w=8, c=1), np.arange(16) % 2
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # predict runs the augmentation layers with training=False: deterministic
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    # and an input gradient flows straight through them at inference (saliency, FGSM); a
    # direct model call without training augments, as in Keras 3, so inference says so
    image = npgrad.Tensor(x[:2], requires_grad=True)
    model(image, training=False)[:, 0].sum().backward()
    assert image.grad is not None and np.abs(image.grad).sum() > 0


@pytest.mark.parametrize("fill_mode, scipy_mode", [("constant", "grid-constant"),
                                                   ("nearest", "nearest"),
                                                   ("reflect", "reflect"),
                                                   ("wrap", "grid-wrap")])
@pytest.mark.parametrize("interpolation, order", [("bilinear", 1), ("nearest", 0)])
def test_sampler_agrees_with_scipy_map_coordinates(fill_mode, scipy_mode, interpolation, order):
    from scipy import ndimage

    from npgrad.layers.preprocessing import _affine_sample

    rng = np.random.default_rng(0)
    x = rng.random((4, 9, 7, 2))
    n, h, w, c = x.shape
    # rotation + anisotropic zoom + shift: source locations fall inside and outside the image
    angle = rng.uniform(-1, 1, n)
    m = np.stack([1.1 * np.cos(angle), -np.sin(angle), rng.normal(0, 3, n),
                  np.sin(angle), 0.8 * np.cos(angle), rng.normal(0, 3, n)], axis=1)
    ours = _affine_sample(x, m, fill_mode, interpolation, fill_value=-0.5)
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    a = m[:, :, None, None]
    coords = np.empty((4, n, h, w, c))
    coords[0] = np.arange(n)[:, None, None, None]
    coords[1] = (a[:, 3] * xx + a[:, 4] * yy + a[:, 5])[..., None]
    coords[2] = (a[:, 0] * xx + a[:, 1] * yy + a[:, 2])[..., None]
    coords[3] = np.arange(c)
    reference = ndimage.map_coordinates(x, coords, order=order, mode=scipy_mode, cval=-0.5,
                                        prefilter=False)
    np.testing.assert_allclose(ours, reference, atol=1e-12)
