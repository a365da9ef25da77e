"""npgrad.random: Keras 3's sampling functions and SeedGenerator."""

import numpy as np
import pytest

import npgrad
from npgrad import random


def test_int_seeds_repeat_and_seed_generators_advance_reproducibly():
    a = random.normal((3,), seed=5)
    b = random.normal((3,), seed=5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    gen = random.SeedGenerator(7)
    first, second = random.uniform((4,), seed=gen), random.uniform((4,), seed=gen)
    assert not np.array_equal(first.numpy(), second.numpy())
    replay = random.SeedGenerator(7)
    np.testing.assert_array_equal(random.uniform((4,), seed=replay).numpy(), first.numpy())
    assert random.SeedGenerator.from_config(gen.get_config()).initial_seed == 7


def test_global_seed_makes_unseeded_draws_reproducible():
    npgrad.utils.set_random_seed(3)
    a = random.normal((5,))
    npgrad.utils.set_random_seed(3)
    np.testing.assert_array_equal(random.normal((5,)).numpy(), a.numpy())


def test_distributions_shapes_dtypes_and_ranges():
    x = random.uniform((1000,), 2.0, 3.0, seed=0).numpy()
    assert x.dtype == np.float32 and x.min() >= 2 and x.max() < 3
    n = random.normal((20000,), 1.0, 2.0, seed=0).numpy()
    assert abs(n.mean() - 1) < 0.05 and abs(n.std() - 2) < 0.05
    t = random.truncated_normal((5000,), 0.0, 1.5, seed=0).numpy()
    assert np.abs(t).max() <= 3.0
    i = random.randint((100,), 3, 7, seed=0).numpy()
    assert i.dtype == np.int32 and set(np.unique(i)) <= {3, 4, 5, 6}
    assert random.gamma((50,), 2.0, seed=0).numpy().min() > 0
    bt = random.beta((50,), 2.0, 3.0, seed=0).numpy()
    assert bt.min() > 0 and bt.max() < 1
    bn = random.binomial((50,), 10, 0.5, seed=0).numpy()
    assert bn.dtype == np.float32 and bn.max() <= 10
    assert random.normal((2, 2), dtype="float64", seed=1).dtype == np.float64


def test_categorical_follows_the_logits():
    logits = np.log(np.array([[0.1, 0.9], [0.99, 0.01]]))
    samples = random.categorical(logits, 2000, seed=0).numpy()
    assert samples.shape == (2, 2000) and samples.dtype == np.int32
    assert 0.85 < samples[0].mean() < 0.95 and samples[1].mean() < 0.05


def test_dropout_scales_kept_units_and_is_differentiable():
    x = npgrad.Tensor(np.ones((200, 50), dtype="float32"), requires_grad=True)
    y = random.dropout(x, 0.25, seed=1)
    kept = y.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, y.numpy())
    columns = random.dropout(np.ones((4, 6)), 0.5, noise_shape=(1, None), seed=2).numpy()
    assert (columns == columns[0]).all()


def test_shuffle_permutes_along_an_axis():
    x = np.arange(12).reshape(4, 3)
    rows = random.shuffle(x, seed=0).numpy()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))
    cols = random.shuffle(x, axis=1, seed=0).numpy()
    assert (np.sort(cols, axis=1) == x).all()


def test_bad_seeds_are_refused():
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed="a")
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.SeedGenerator(1.5)
