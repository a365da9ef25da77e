"""Initializers: Keras names and fans, distribution statistics, seeding, get/serialize."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad.random
from npgrad import initializers


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((4, 6), (4, 6)),
        ((3, 3, 16, 32), (3 * 3 * 16, 3 * 3 * 32)),   # Conv2D kernel (kh, kw, in, out)
        ((5, 2, 8), (5 * 2, 5 * 8)),                  # Conv1D kernel (k, in, out)
    ],
)
def test_compute_fans_matches_keras(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_glorot_uniform_respects_limit_and_fills_it():
    shape = (3, 3, 16, 32)
    fan_in, fan_out = 3 * 3 * 16, 3 * 3 * 32
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    values = initializers.GlorotUniform(seed=1)(shape)
    assert values.shape == shape and values.dtype == np.float32
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit
    # uniform on [-limit, limit] has variance limit**2 / 3
    np.testing.assert_allclose(values.var(), limit**2 / 3, rtol=0.05)


@pytest.mark.parametrize(
    "name, shape, expected_std",
    [
        ("he_normal", (400, 300), math.sqrt(2.0 / 400)),
        ("lecun_normal", (400, 300), math.sqrt(1.0 / 400)),
        ("glorot_normal", (400, 300), math.sqrt(2.0 / 700)),
        ("he_normal", (3, 3, 20, 40), math.sqrt(2.0 / 180)),
    ],
)
def test_truncated_variance_scaling_normal_has_target_std(name, shape, expected_std):
    values = initializers.get(name)(shape)
    np.testing.assert_allclose(values.std(), expected_std, rtol=0.03)
    np.testing.assert_allclose(values.mean(), 0.0, atol=0.03 * expected_std * 10)
    # truncated at 2 stddev of the *pre-correction* normal
    assert np.abs(values).max() <= 2.0 * expected_std / 0.87962566103423978 + 1e-6


@pytest.mark.parametrize(
    "name, limit_of",
    [
        ("he_uniform", lambda fi, fo: math.sqrt(6.0 / fi)),
        ("lecun_uniform", lambda fi, fo: math.sqrt(3.0 / fi)),
    ],
)
def test_uniform_variants_limits(name, limit_of):
    values = initializers.get(name)((50, 30))
    limit = limit_of(50, 30)
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.95 * limit


def test_variance_scaling_untruncated_and_fan_out():
    init = initializers.VarianceScaling(scale=3.0, mode="fan_out", distribution="untruncated_normal")
    values = init((100, 500))
    np.testing.assert_allclose(values.std(), math.sqrt(3.0 / 500), rtol=0.03)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_random_normal_uniform_truncated_defaults():
    normal = initializers.RandomNormal()((200, 200))
    np.testing.assert_allclose(normal.std(), 0.05, rtol=0.03)
    uniform = initializers.RandomUniform()((200, 200))
    assert uniform.min() >= -0.05 and uniform.max() < 0.05
    truncated = initializers.TruncatedNormal(mean=1.0, stddev=0.1)((200, 200))
    assert truncated.min() >= 0.8 and truncated.max() <= 1.2
    np.testing.assert_allclose(truncated.mean(), 1.0, atol=0.005)


@pytest.mark.parametrize("shape", [(4, 7), (7, 4), (5, 5), (2, 3, 4, 6)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    q = initializers.Orthogonal(gain=2.0)(shape, dtype="float64") / 2.0
    flat = q.reshape(-1, shape[-1])
    if flat.shape[0] < flat.shape[1]:
        np.testing.assert_allclose(flat @ flat.T, np.eye(flat.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-12)


def test_orthogonal_and_identity_reject_bad_rank():
    with pytest.raises(ValueError, match="Orthogonal"):
        initializers.Orthogonal()((5,))
    with pytest.raises(ValueError, match="Identity"):
        initializers.Identity()((2, 2, 2))


def test_constant_identity_zeros_ones():
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 3)), np.full((2, 3), 2.5))
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3 * np.eye(2, 3))
    assert initializers.get("zeros")((3,)).tolist() == [0, 0, 0]
    assert initializers.get("ones")((2,), dtype="float64").dtype == np.float64


@pytest.mark.parametrize(
    "name", ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
             "lecun_uniform", "orthogonal", "random_normal", "random_uniform", "truncated_normal"]
)
def test_global_seed_makes_draws_reproducible(name):
    npgrad.random.seed(123)
    first = initializers.get(name)((6, 5))
    npgrad.random.seed(123)
    second = initializers.get(name)((6, 5))
    third = initializers.get(name)((6, 5))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


def test_own_seed_gives_same_values_every_call():
    init = initializers.HeNormal(seed=7)
    np.testing.assert_array_equal(init((4, 4)), init((4, 4)))
    assert not np.array_equal(init((4, 4)), initializers.HeNormal(seed=8)((4, 4)))


@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("glorot_uniform", initializers.GlorotUniform),
        ("GlorotUniform", initializers.GlorotUniform),
        ("he_normal", initializers.HeNormal),
        ("orthogonal", initializers.Orthogonal),
        ("Orthogonal", initializers.Orthogonal),
        ("zeros", initializers.Zeros),
        ("uniform", initializers.RandomUniform),
        ({"class_name": "Constant", "config": {"value": 3.0}}, initializers.Constant),
        (initializers.LecunUniform, initializers.LecunUniform),
    ],
)
def test_get_resolves_identifiers(identifier, cls):
    assert type(initializers.get(identifier)) is cls


def test_get_passes_instances_and_callables_through():
    instance = initializers.Ones()
    assert initializers.get(instance) is instance

    def custom(shape, dtype="float32"):
        return np.full(shape, 4.0, dtype=dtype)

    assert initializers.get(custom) is custom
    assert initializers.get(None) is None


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError):
        initializers.get(3.5)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_middle")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="dtype"):
        initializers.Zeros()((2,), dtype="int32")
    with pytest.raises(ValueError, match="seed"):
        initializers.GlorotUniform(seed=-1)


@pytest.mark.parametrize(
    "instance",
    [
        initializers.RandomNormal(mean=1.0, stddev=2.0, seed=3),
        initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=4),
        initializers.GlorotUniform(seed=5),
        initializers.Orthogonal(gain=0.5, seed=6),
        initializers.Constant(1.5),
    ],
    ids=lambda i: type(i).__name__,
)
def test_serialize_round_trip_through_json(instance):
    config = json.loads(json.dumps(initializers.serialize(instance)))
    rebuilt = initializers.get(config)
    assert type(rebuilt) is type(instance)
    assert rebuilt.get_config() == instance.get_config()
    np.testing.assert_array_equal(rebuilt((3, 4)), instance((3, 4)))


@given(
    dims=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    name=st.sampled_from(["glorot_uniform", "he_uniform", "lecun_uniform"]),
)
def test_uniform_bound_holds_for_any_shape(dims, name):
    fan_in, fan_out = initializers.compute_fans(dims)
    scale = {"glorot_uniform": 2.0 / (fan_in + fan_out), "he_uniform": 2.0 / fan_in,
             "lecun_uniform": 1.0 / fan_in}[name]
    values = initializers.get(name)(tuple(dims), dtype="float64")
    assert values.shape == tuple(dims)
    assert np.abs(values).max() <= math.sqrt(3.0 * scale)
