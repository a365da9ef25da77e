"""The default recurrent gates' two routes (``recurrent_gates``): one ``tanh`` (sigmoid
gates' weights halved) or one ``exp`` (weights negated, the tanh gate's times -2) for every
gate, against the sigmoid and tanh, and how a route is chosen. The fused ops on both routes
are pinned to their composed steps in ``test_recurrent_fused_pins.py``.
"""


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from npgrad import Tensor
from npgrad.primitives import recurrent as ops
from npgrad.primitives import recurrent_gates as gates

ATOL = {np.float32: 2e-7, np.float64: 1e-15}  # absolute: float rounding of 1


@pytest.mark.parametrize("route", gates.ROUTES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), units=st.integers(1, 9), n=st.integers(1, 7),
       scale=st.sampled_from([0.1, 1.0, 10.0, 100.0]))
def test_each_route_gives_the_sigmoid_and_tanh_of_the_pre_activations(route, dtype, seed, units,
                                                                      n, scale):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((4 * units, n)) * scale).astype(dtype)  # o, i, f, g
    scaled = z.copy()  # what the weights' factors give
    sigmoid_factor, tanh_factor = gates.WEIGHT_FACTORS[route]
    scaled[: 3 * units] *= dtype(sigmoid_factor)
    scaled[3 * units :] *= dtype(tanh_factor)
    activate = {"tanh": gates.tanh_gates, "exp": gates.exp_gates}[route]
    with np.errstate(over="ignore"):  # exp(-z) beyond float range: the limits
        got = activate(scaled, 3 * units)
    assert got is scaled and got.dtype == dtype
    wide = z.astype(np.float64)
    expected = np.concatenate([special.expit(wide[: 3 * units]), np.tanh(wide[3 * units :])])
    # absolute: a gate scales a state (the tanh route rounds the sigmoid's tiny values to 0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL[dtype])
    assert np.all((got[: 3 * units] >= 0) & (got[: 3 * units] <= 1))
    assert np.all(np.abs(got[3 * units :]) <= 1)
    if route == "exp":  # the sigmoid keeps its relative precision in both tails, down to the
        # smallest normal number (beyond, exp overflows and the result is 0)
        np.testing.assert_allclose(got[: 3 * units], expected[: 3 * units],
                                   rtol=5e-7 if dtype == np.float32 else 1e-15,
                                   atol=np.finfo(dtype).tiny)


def test_the_environment_fixes_the_route_and_rejects_other_names(monkeypatch):
    for route in gates.ROUTES:
        monkeypatch.setenv(gates.ENVIRONMENT, route)
        assert gates.gate_route(np.float32) == route
    monkeypatch.setenv(gates.ENVIRONMENT, "sigmoid")
    with pytest.raises(ValueError, match="NPGRAD_GATE_ROUTE.*'tanh', 'exp'.*'sigmoid'"):
        gates.gate_route(np.float32)


def test_the_route_is_measured_once_per_dtype(monkeypatch):
    monkeypatch.delenv(gates.ENVIRONMENT, raising=False)
    monkeypatch.setattr(gates, "_measured", {})
    calls = []

    def seconds(dtype):
        calls.append(np.dtype(dtype))
        return (3.0, 1.0) if dtype == np.float32 else (1.0, 0.9)

    monkeypatch.setattr(gates, "route_seconds", seconds)
    assert [gates.gate_route(d) for d in ("float32", np.float32, np.float64)] == \
        ["exp", "exp", "tanh"]
    assert calls == [np.dtype(np.float32), np.dtype(np.float64)]


def test_exp_is_kept_only_when_clearly_faster():
    assert gates.choose(1.0, 0.5) == "exp"
    assert gates.choose(1.0, 0.85) == "tanh"  # close: the tanh route, no flipping
    assert gates.choose(1.0, 1.5) == "tanh"


def test_route_seconds_times_both_routes_on_a_step_block():
    tanh_seconds, exp_seconds = gates.route_seconds(np.float32, rows=8, columns=4, repeats=2)
    assert 0 < tanh_seconds < 1 and 0 < exp_seconds < 1


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_each_op_activates_through_the_routes_functions(kind, monkeypatch):
    # the LSTM's gates go the route's way; the GRU's gates (and the LSTM's cell tanh) keep
    # their own activations on both routes
    rng = np.random.default_rng(0)
    k = 4 if kind == "lstm" else 3
    x = rng.standard_normal((2, 3, 2)).astype(np.float32)
    kernel = rng.standard_normal((2, k * 3)).astype(np.float32)
    rec = rng.standard_normal((3, k * 3)).astype(np.float32)
    results = {}
    for route in gates.ROUTES:
        monkeypatch.setenv(gates.ENVIRONMENT, route)
        calls = []
        for name in ("tanh_gates", "exp_gates"):
            original = getattr(gates, name)
            monkeypatch.setattr(gates, name, lambda *a, _f=original, _n=name, **kw:
                                (calls.append(_n), _f(*a, **kw))[1])
        out = ops.lstm(Tensor(x), kernel, rec)[0] if kind == "lstm" else ops.gru(Tensor(x),
                                                                                  kernel, rec)
        monkeypatch.undo()
        results[route] = out.numpy()
        expected = {("lstm", "exp"): {"exp_gates"}, ("lstm", "tanh"): {"tanh_gates"},
                    ("gru", "exp"): set(), ("gru", "tanh"): set()}[kind, route]
        assert set(calls) == expected
    np.testing.assert_allclose(results["exp"], results["tanh"], rtol=0, atol=1e-6)
