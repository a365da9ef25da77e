"""GAN: phase isolation, learning a toy distribution, sampling, saving, errors, freezing."""

import numpy as np
import pytest

import npgrad
from npgrad import layers as L
from npgrad import losses, optimizers
from npgrad.models.gan import GAN, load_gan

LATENT = 4


def toy_networks(out_dim=2, batch_norm=True, dropout=0.0):
    """A small MLP generator and discriminator; BN in both so statistics are exercised."""
    g_layers = [npgrad.Input(shape=(LATENT,)), L.Dense(16), L.LeakyReLU(0.2)]
    d_layers = [npgrad.Input(shape=(out_dim,)), L.Dense(16), L.LeakyReLU(0.2)]
    if batch_norm:
        g_layers.append(L.BatchNormalization())
        d_layers.append(L.BatchNormalization())
    if dropout:
        d_layers.append(L.Dropout(dropout))
    g_layers.append(L.Dense(out_dim))
    d_layers.append(L.Dense(1))
    return npgrad.Sequential(g_layers), npgrad.Sequential(d_layers)


def toy_gan(seed=0, **kwargs):
    npgrad.utils.set_random_seed(seed)
    generator, discriminator = toy_networks(**kwargs)
    gan = GAN(generator, discriminator, latent_dim=LATENT)
    gan.compile(d_optimizer=optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=optimizers.Adam(1e-3, beta_1=0.5))
    return gan


def gaussian_data(n=512, mean=(3.0, -2.0), std=(0.5, 1.0), seed=0):
    return np.random.default_rng(seed).normal(mean, std, size=(n, len(mean))).astype(np.float32)


def snapshot(network):
    return [w.data.copy() for w in network.weights]


def assert_identical(network, before):
    for w, old in zip(network.weights, before):
        np.testing.assert_array_equal(w.data, old, err_msg=f"{w.name} changed")


def changed_names(network, before):
    return [w.name for w, old in zip(network.weights, before) if not np.array_equal(w.data, old)]


# ---------------------------------------------------------------- phases touch one network
def test_discriminator_step_leaves_generator_bit_identical():
    gan = toy_gan(dropout=0.2)
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.train_discriminator_step(gaussian_data(64))
    assert_identical(gan.generator, g_before)  # BN moving statistics included
    changed = changed_names(gan.discriminator, d_before)
    for w in gan.discriminator.trainable_weights:
        assert w.name in changed
    assert any("moving_mean" in name for name in changed)  # D ran in training mode
    assert all(w.grad is None for w in gan.weights)


def test_generator_step_leaves_discriminator_bit_identical():
    gan = toy_gan(dropout=0.2)
    gan.train_discriminator_step(gaussian_data(64))  # optimizer slots exist for D now
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    d_iterations = gan.d_optimizer.iterations
    gan.train_generator_step(64)
    assert_identical(gan.discriminator, d_before)
    assert gan.d_optimizer.iterations == d_iterations
    changed = changed_names(gan.generator, g_before)
    for w in gan.generator.trainable_weights:
        assert w.name in changed
    assert all(w.grad is None for w in gan.weights)


def test_train_step_updates_both_and_logs_losses():
    gan = toy_gan()
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    logs = gan.train_step(gaussian_data(32))
    assert set(logs) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) and v > 0 for v in logs.values())
    assert changed_names(gan.generator, g_before) and changed_names(gan.discriminator, d_before)
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 1
    d_loss, g_loss = gan.train_on_batch(gaussian_data(16))
    assert np.isfinite(d_loss) and np.isfinite(g_loss)
    assert set(gan.train_on_batch(gaussian_data(16), return_dict=True)) == {"d_loss", "g_loss"}


def test_discriminator_loss_uses_one_sided_label_smoothing():
    npgrad.utils.set_random_seed(3)
    generator, discriminator = toy_networks(batch_norm=False)
    gan = GAN(generator, discriminator, LATENT)
    gan.compile(label_smoothing=0.1)
    real = gaussian_data(16)
    bce = losses.BinaryCrossentropy(from_logits=True)
    npgrad.utils.set_random_seed(11)
    z = npgrad.random.generator().standard_normal((16, LATENT)).astype(np.float32)
    with npgrad.no_grad():
        fake = generator(z, training=True)
        expected = 0.5 * (float(bce(np.full((16, 1), 0.9), discriminator(real, training=True)).data)
                          + float(bce(np.zeros((16, 1)), discriminator(fake, training=True)).data))
    npgrad.utils.set_random_seed(11)  # the step draws the same latent vectors
    assert gan.train_discriminator_step(real) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- it learns
def test_toy_gaussian_samples_move_toward_the_data():
    """A linear generator (which can match a Gaussian exactly) against an MLP critic."""
    data = gaussian_data(1024, mean=(2.0, -1.0), std=(0.5, 1.5))
    seed = 3
    npgrad.utils.set_random_seed(seed)
    generator = npgrad.Sequential([npgrad.Input(shape=(2,)), L.Dense(2)])
    discriminator = npgrad.Sequential([npgrad.Input(shape=(2,)), L.Dense(16), L.LeakyReLU(0.2),
                                       L.Dense(16), L.LeakyReLU(0.2), L.Dense(1)])
    gan = GAN(generator, discriminator, latent_dim=2)
    gan.compile(d_optimizer=optimizers.Adam(1e-2, beta_1=0.5),
                g_optimizer=optimizers.Adam(1e-2, beta_1=0.5))

    def distance():
        samples = gan.generate(2000, seed=seed + 1)
        return (np.abs(samples.mean(0) - data.mean(0)).sum()
                + np.abs(samples.var(0) - data.var(0)).sum())

    before = distance()
    history = gan.fit(data, epochs=8, batch_size=64, verbose=0)
    after = distance()
    assert len(history.history["d_loss"]) == len(history.history["g_loss"]) == 8
    assert after <= 0.5 * before, (before, after)


# ---------------------------------------------------------------- sampling
def test_generate_shapes_dtype_and_seed():
    gan = toy_gan()
    state = npgrad.random.generator().bit_generator.state
    images = gan.generate(7, seed=2, batch_size=3)
    assert images.shape == (7, 2) and images.dtype == np.float32
    np.testing.assert_array_equal(images, gan.generate(7, seed=2, batch_size=3))
    # another batching differs only by BLAS rounding
    np.testing.assert_allclose(images, gan.generate(7, seed=2), rtol=1e-5, atol=1e-6)
    assert npgrad.random.generator().bit_generator.state == state  # a seed leaves it alone
    assert not np.array_equal(gan.generate(7, seed=3), images)
    assert gan.generate(1).shape == (1, 2)
    assert gan(np.zeros((5, LATENT), np.float32)).shape == (5, 2)


def test_generate_image_shapes():
    npgrad.utils.set_random_seed(0)
    generator = npgrad.Sequential([npgrad.Input(shape=(LATENT,)), L.Dense(4 * 4 * 2),
                                   L.Reshape((4, 4, 2)),
                                   L.Conv2DTranspose(1, 3, strides=2, padding="same",
                                                     activation="tanh")])
    discriminator = npgrad.Sequential([npgrad.Input(shape=(8, 8, 1)), L.Conv2D(2, 3, strides=2),
                                       L.Flatten(), L.Dense(1)])
    gan = GAN(generator, discriminator, LATENT)
    gan.compile()
    images = gan.generate(5, seed=0)
    assert images.shape == (5, 8, 8, 1)
    assert np.all(np.abs(images) <= 1.0)
    logs = gan.train_step(np.zeros((4, 8, 8, 1), np.float32))
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])


# ---------------------------------------------------------------- saving
def test_save_load_round_trip(tmp_path):
    gan = toy_gan(dropout=0.1)
    gan.compile(d_optimizer=optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=optimizers.Adam(1e-3, beta_1=0.5), label_smoothing=0.2)
    gan.fit(gaussian_data(128), epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "gan.npgrad"
    gan.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan.npgrad"]  # no temp files left
    loaded = GAN.load(path)
    assert isinstance(loaded, GAN) and loaded.latent_dim == LATENT
    assert loaded.label_smoothing == 0.2
    np.testing.assert_array_equal(loaded.generate(20, seed=4), gan.generate(20, seed=4))
    for a, b in zip(loaded.weights, gan.weights):  # BN statistics of both networks too
        np.testing.assert_array_equal(a.data, b.data)
    assert loaded.g_optimizer.iterations == gan.g_optimizer.iterations == 4
    assert loaded.d_optimizer is not loaded.g_optimizer

    # optimizer state restored: the next step is the same step
    batch = gaussian_data(32, seed=9)
    for model in (gan, loaded):
        npgrad.utils.set_random_seed(21)
        model.train_step(batch)
    for a, b in zip(loaded.weights, gan.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_load_gan_rejects_other_files(tmp_path):
    model_path = tmp_path / "model.npgrad"
    generator, _ = toy_networks()
    generator.save(model_path)
    with pytest.raises(ValueError, match="not an npgrad GAN file"):
        load_gan(model_path)
    text = tmp_path / "text.npgrad"
    text.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not a valid npgrad file"):
        load_gan(text)
    with pytest.raises(FileNotFoundError):
        load_gan(tmp_path / "missing.npgrad")


def test_save_without_overwrite(tmp_path):
    gan = toy_gan()
    path = tmp_path / "gan.npgrad"
    gan.save(path)
    with pytest.raises(FileExistsError):
        gan.save(path, overwrite=False)


# ---------------------------------------------------------------- errors
def test_argument_errors():
    generator, discriminator = toy_networks()
    with pytest.raises(TypeError, match="generator"):
        GAN(object(), discriminator, LATENT)
    with pytest.raises(ValueError, match="latent_dim"):
        GAN(generator, discriminator, 0)
    with pytest.raises(ValueError, match="different"):
        GAN(generator, generator, LATENT)
    gan = GAN(generator, discriminator, LATENT)
    with pytest.raises(RuntimeError, match="compile"):
        gan.fit(gaussian_data(8))
    shared = optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer"):
        gan.compile(d_optimizer=shared, g_optimizer=shared)
    with pytest.raises(ValueError, match="label_smoothing"):
        gan.compile(label_smoothing=1.0)
    gan.compile()
    with pytest.raises(ValueError, match="no y"):
        gan.fit(gaussian_data(8), np.zeros(8))
    with pytest.raises(ValueError, match="empty"):
        gan.fit(np.zeros((0, 2), np.float32))
    with pytest.raises(ValueError, match="batch_size"):
        gan.fit(gaussian_data(8), batch_size=0)
    with pytest.raises(ValueError, match="n must be"):
        gan.generate(0)


# ---------------------------------------------------------------- freezing
def test_frozen_layers_stay_bit_identical_under_fit():
    npgrad.utils.set_random_seed(0)
    frozen_dense, frozen_bn = L.Dense(8), L.BatchNormalization()
    model = npgrad.Sequential([npgrad.Input(shape=(2,)), frozen_dense, frozen_bn,
                               L.Activation("relu"), L.Dense(2, activation="softmax")])
    frozen_dense.trainable = False
    frozen_bn.trainable = False
    before = [w.data.copy() for w in frozen_dense.weights + frozen_bn.weights]
    head = [w.data.copy() for w in model.layers[-1].weights]
    model.compile("adam", "sparse_categorical_crossentropy")
    x = gaussian_data(64)
    model.fit(x, (x[:, 0] > 3).astype(np.int64), epochs=2, batch_size=16, verbose=0)
    for w, old in zip(frozen_dense.weights + frozen_bn.weights, before):
        np.testing.assert_array_equal(w.data, old)
    assert not all(np.array_equal(w.data, old) for w, old in zip(model.layers[-1].weights, head))


def test_frozen_generator_layer_stays_bit_identical_under_gan_fit():
    gan = toy_gan()
    first = gan.generator.layers[0]
    first.trainable = False
    before = [w.data.copy() for w in first.weights]
    others = snapshot(gan.generator)
    gan.fit(gaussian_data(64), epochs=1, batch_size=16, verbose=0)
    for w, old in zip(first.weights, before):
        np.testing.assert_array_equal(w.data, old)
    assert changed_names(gan.generator, others)


def test_generator_ema_becomes_the_generator_when_fit_ends(tmp_path):
    generator, discriminator = toy_networks()
    gan = GAN(generator, discriminator, latent_dim=LATENT)
    g_optimizer = optimizers.Adam(1e-3, beta_1=0.5, use_ema=True, ema_momentum=0.9)
    gan.compile(d_optimizer=optimizers.Adam(1e-3, beta_1=0.5), g_optimizer=g_optimizer)
    raw = []
    keep = npgrad.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: raw.append(snapshot(generator)))
    gan.fit(gaussian_data(128), epochs=2, batch_size=32, verbose=0, callbacks=[keep])
    averages = g_optimizer.get_state(generator.trainable_weights)
    for index, weight in enumerate(generator.trainable_weights):
        np.testing.assert_array_equal(weight.data, averages[f"slots/{index}/average"])
    assert changed_names(generator, raw[-1])  # the averages differ from the last raw weights
    # the averages are optimizer state: saved, loaded, and training resumes from them
    gan.save(tmp_path / "gan.npgrad")
    loaded = load_gan(tmp_path / "gan.npgrad")
    assert loaded.g_optimizer.use_ema and loaded.g_optimizer.ema_momentum == 0.9
    np.testing.assert_array_equal(loaded.generate(8, seed=1), gan.generate(8, seed=1))


# ---------------------------------------------------------------- a Model with two overrides
def test_gan_overrides_compile_and_the_steps_only():
    from npgrad.models.model import Model

    loop_and_saving = {"fit", "evaluate", "predict", "save", "save_weights", "load_weights",
                       "train_on_batch", "reset_metrics", "get_metrics_result"}
    assert not loop_and_saving & set(vars(GAN)), "GAN must reuse Model's loop and saving"
    assert isinstance(toy_gan(), Model)


def test_gan_saves_in_the_common_format_and_loads_with_load_model(tmp_path):
    gan = toy_gan(seed=5)
    gan.fit(gaussian_data(64), epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "gan.npgrad"
    gan.save(path)
    loaded = npgrad.models.load_model(path)
    assert type(loaded) is GAN and loaded.latent_dim == LATENT
    np.testing.assert_array_equal(loaded.generate(6, seed=2), gan.generate(6, seed=2))
    assert loaded.d_optimizer.iterations == gan.d_optimizer.iterations == 4
    assert loaded.g_optimizer.iterations == gan.g_optimizer.iterations == 4
    # a resumed fit continues exactly as the original does
    npgrad.utils.set_random_seed(9)
    gan.fit(gaussian_data(64), epochs=1, batch_size=16, verbose=0)
    npgrad.utils.set_random_seed(9)
    loaded.fit(gaussian_data(64), epochs=1, batch_size=16, verbose=0)
    for a, b in zip(gan.weights, loaded.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_files_of_the_first_gan_format_still_load(tmp_path):
    from pathlib import Path

    reference = Path(__file__).resolve().parents[1] / "reference"
    gan = npgrad.models.load_model(reference / "legacy_gan_v1.npgrad")
    with np.load(reference / "legacy_gan_v1_expect.npz") as expect:
        # float32 rounding may move with the ops' arithmetic order (batch norm's, say),
        # never more: wrong or missing weights would be off by far more than this
        np.testing.assert_allclose(gan.generate(5, seed=11), expect["samples"], rtol=1e-5,
                                   atol=1e-6)
        assert gan.d_optimizer.iterations == int(expect["d_iter"])
        assert gan.g_optimizer.iterations == int(expect["g_iter"])
    assert gan.label_smoothing == pytest.approx(0.1)
    gan.save(tmp_path / "converted.npgrad")  # converting: save again in today's format
    converted = GAN.load(tmp_path / "converted.npgrad")
    np.testing.assert_array_equal(converted.generate(5, seed=11), gan.generate(5, seed=11))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp litter
