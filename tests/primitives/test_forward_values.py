"""Forward values of the core ops against NumPy/SciPy references, and PyTorch when installed."""

import numpy as np
import pytest
from scipy import special

import npgrad.functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 5)) * 3

CASES = [  # name, npgrad, reference
    ("relu", lambda x: F.relu(x), lambda x: np.maximum(x, 0)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    ("elu", lambda x: F.elu(x), lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", lambda x: F.selu(x), lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x))),
    ("gelu", lambda x: F.gelu(x), lambda x: x * special.ndtr(x)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate=True), lambda x: 0.5 * x * (
        1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    ("sigmoid", lambda x: F.sigmoid(x), special.expit),
    ("hard_sigmoid", lambda x: F.hard_sigmoid(x), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("silu", lambda x: F.silu(x), lambda x: x * special.expit(x)),
    ("softsign", lambda x: F.softsign(x), lambda x: x / (1 + np.abs(x))),
    ("tanh", lambda x: F.tanh(x), np.tanh),
    ("softplus", lambda x: F.softplus(x), lambda x: np.log1p(np.exp(x))),
    ("softmax", lambda x: F.softmax(x), lambda x: special.softmax(x, axis=-1)),
    ("log_softmax", lambda x: F.log_softmax(x, axis=0), lambda x: special.log_softmax(x, axis=0)),
    ("exp", lambda x: F.exp(x), np.exp),
    ("log_abs", lambda x: F.log(F.abs(x)), lambda x: np.log(np.abs(x))),
    ("sqrt_abs", lambda x: F.sqrt(F.abs(x)), lambda x: np.sqrt(np.abs(x))),
    ("power", lambda x: F.power(F.abs(x), 1.5), lambda x: np.abs(x) ** 1.5),
    ("var_axis0", lambda x: F.var(x, axis=0), lambda x: np.var(x, axis=0)),
    ("std_ddof1", lambda x: F.std(x, ddof=1), lambda x: np.std(x, ddof=1)),
    ("max_keepdims", lambda x: F.max(x, axis=1, keepdims=True), lambda x: x.max(1, keepdims=True)),
    ("matmul", lambda x: F.matmul(x, x.T), lambda x: x @ x.T),
]


@pytest.mark.parametrize("name, fn, reference", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_reference(name, fn, reference):
    np.testing.assert_allclose(fn(X).numpy(), reference(X), rtol=1e-12, atol=1e-12)


def test_extreme_inputs_stay_finite():
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32)
    for fn in (F.sigmoid, F.tanh, F.softplus, F.softmax, F.log_softmax, F.elu, F.gelu, F.silu):
        out = fn(big).numpy()
        assert np.all(np.isfinite(out)), fn.__name__
        assert out.dtype == np.float32


@pytest.mark.slow
def test_activations_match_pytorch():
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(X)
    pairs = [
        (F.relu, torch.relu), (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh),
        (F.elu, torch.nn.functional.elu), (F.selu, torch.nn.functional.selu),
        (F.gelu, torch.nn.functional.gelu), (F.softplus, torch.nn.functional.softplus),
        (F.silu, torch.nn.functional.silu), (lambda x: F.softmax(x), lambda x: torch.softmax(x, -1)),
        (lambda x: F.log_softmax(x), lambda x: torch.log_softmax(x, -1)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(X).numpy(), theirs(t).numpy(), rtol=1e-10, atol=1e-12)
