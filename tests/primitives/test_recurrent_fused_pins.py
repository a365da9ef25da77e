"""The fused recurrent ops pinned to their composed steps (autograd ops per step) in float64:
outputs and every gradient, odd sizes, with and without bias, recurrent dropout, timestep
masks and go_backwards; and the in-place activations pinned to their formulas.

The LSTM op reorders its gates internally (o, i, f, g) and the GRU's backward writes its
gradients in a permuted block; these tests are what holds those layouts to Keras's maths.

Every test of the default activations runs on both routes of ``recurrent_gates`` (one
``tanh`` or one ``exp`` for all gates), whichever this machine would pick.
"""

import os
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import npgrad.functional as F
from npgrad import Tensor, no_grad
from npgrad.primitives import recurrent as ops
from npgrad.primitives.recurrent_activations import FUSED_ACTIVATIONS
from npgrad.primitives.recurrent_gates import ENVIRONMENT, ROUTES

COMPOSED = {"tanh": F.tanh, "relu": F.relu, "hard_sigmoid": F.hard_sigmoid,
            "sigmoid": F.sigmoid, "linear": F.linear}
PAIRS = [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("linear", "sigmoid"),
         ("sigmoid", "tanh")]


def _route(route):
    """The default gates' route fixed for the duration (hypothesis-safe, unlike monkeypatch)."""
    return mock.patch.dict(os.environ, {ENVIRONMENT: route})


def _composed(name):
    return lambda z: COMPOSED[name](z)


def _run(kind, activation, recurrent_activation, arrays, bias, kwargs, upstream):
    """Outputs and gradients (None where an input got none) of one fused or composed run."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    b = Tensor(bias, requires_grad=True) if bias is not None else None
    if kind == "lstm":
        x, kernel, rec, h0, c0 = tensors
        hs, c = ops.lstm(x, kernel, rec, b, h0, c0, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
        outputs = [hs, c]
    else:
        x, kernel, rec, h0 = tensors
        outputs = [ops.gru(x, kernel, rec, b, h0, activation=activation,
                           recurrent_activation=recurrent_activation, **kwargs)]
    sum(((o * w).sum() for o, w in zip(outputs, upstream)), Tensor(0.0)).backward()
    grads = [t.grad for t in tensors] + ([b.grad] if b is not None else [])
    return [o.numpy() for o in outputs], grads


def _draw(rng, kind, n, t, f, u, with_bias, reset_after):
    k = 4 if kind == "lstm" else 3
    arrays = [rng.standard_normal((n, t, f)), rng.standard_normal((f, k * u)),
              rng.standard_normal((u, k * u)) * 0.5, rng.standard_normal((n, u))]
    if kind == "lstm":
        arrays.append(rng.standard_normal((n, u)))
    bias = None
    if with_bias:
        bias = rng.standard_normal((2, k * u) if kind == "gru" and reset_after else (k * u,))
    return arrays, bias


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("activation,recurrent_activation", PAIRS)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5), t=st.integers(1, 7),
       f=st.integers(1, 4), u=st.integers(1, 7), with_bias=st.booleans(),
       masked=st.booleans(), backwards=st.booleans(), dropped=st.booleans(),
       reset_after=st.booleans())
def test_fused_op_matches_the_composed_steps(route, kind, activation, recurrent_activation, seed,
                                             n, t, f, u, with_bias, masked, backwards, dropped,
                                             reset_after):
    rng = np.random.default_rng(seed)
    arrays, bias = _draw(rng, kind, n, t, f, u, with_bias, reset_after)
    kwargs = {"go_backwards": backwards}
    if kind == "gru":
        kwargs["reset_after"] = reset_after
    if masked:
        kwargs["mask"] = rng.random((n, t)) < 0.7
    if dropped:
        kwargs["recurrent_mask"] = (rng.random((n, u)) < 0.6) * 2.0
    shapes = [(n, t, u), (n, u)] if kind == "lstm" else [(n, t, u)]
    upstream = [rng.standard_normal(s) for s in shapes]
    with _route(route):
        fused = _run(kind, activation, recurrent_activation, arrays, bias, kwargs, upstream)
    composed = _run(kind, _composed(activation), _composed(recurrent_activation), arrays, bias,
                    kwargs, upstream)
    for got, expected in zip(fused[0], composed[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert len(fused[1]) == len(composed[1])
    for got, expected in zip(fused[1], composed[1]):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("route", ROUTES)
def test_fused_ops_keep_float32_and_match_float64(route):
    rng = np.random.default_rng(3)
    for kind in ("lstm", "gru"):
        arrays, bias = _draw(rng, kind, 6, 9, 5, 7, True, True)
        upstream = [rng.standard_normal((6, 9, 7)), rng.standard_normal((6, 7))]
        with _route(route):
            wide = _run(kind, "tanh", "sigmoid", arrays, bias, {}, upstream)
            narrow = _run(kind, "tanh", "sigmoid", [a.astype(np.float32) for a in arrays],
                          bias.astype(np.float32), {}, upstream)
        for got, expected in zip(narrow[0] + narrow[1], wide[0] + wide[1]):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("route", ROUTES)
def test_saturated_gates_give_their_limits_without_warnings(route):
    rng = np.random.default_rng(4)
    for kind, k in (("lstm", 4), ("gru", 3)):
        x = rng.standard_normal((2, 3, 2)).astype(np.float32) * 1e3  # exp(-z) overflows
        kernel = rng.standard_normal((2, k * 3)).astype(np.float32)
        rec = rng.standard_normal((3, k * 3)).astype(np.float32)
        with warnings.catch_warnings(), _route(route):
            warnings.simplefilter("error")
            out = ops.lstm(x, kernel, rec)[0] if kind == "lstm" else ops.gru(x, kernel, rec)
        assert np.all(np.isfinite(out.numpy()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_activations_match_their_formulas(dtype):
    z = np.concatenate([np.linspace(-120, 120, 241), np.linspace(-3, 3, 61)]).astype(dtype)
    references = {"tanh": np.tanh(z), "sigmoid": special.expit(z), "relu": np.maximum(z, 0),
                  "linear": z, "hard_sigmoid": np.clip(z / 6 + 0.5, 0, 1)}
    for name, (act, d_act) in FUSED_ACTIVATIONS.items():
        tol = {"rtol": 4e-7, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-14, "atol": 1e-15}
        with np.errstate(over="ignore"):
            in_place = z.copy()
            assert act(in_place) is in_place
            out = np.empty_like(z)
            act(z, out=out)
        np.testing.assert_allclose(in_place, references[name], **tol)
        np.testing.assert_array_equal(out, in_place)
        y = in_place
        derivative = {"tanh": 1 - y * y, "sigmoid": y * (1 - y), "relu": (y > 0) * 1.0,
                      "linear": np.ones_like(y),
                      "hard_sigmoid": ((y > 0) & (y < 1)) / 6.0}[name]
        fresh = d_act(y)
        into = np.full_like(y, np.nan)
        d_act(y, out=into)
        np.testing.assert_allclose(fresh, derivative.astype(dtype), **tol)
        np.testing.assert_array_equal(into, fresh)
        assert fresh.dtype == dtype


def test_activations_write_into_strided_gate_columns():
    z = np.random.default_rng(5).standard_normal((4, 12))
    expected = z.copy()
    expected[:, 3:9] = special.expit(z[:, 3:9])
    act, _ = FUSED_ACTIVATIONS["sigmoid"]
    act(z[:, 3:9])
    np.testing.assert_allclose(z, expected, rtol=1e-15)


@pytest.mark.parametrize("t", [1, 2, 7])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("backwards", [False, True])
def test_lstm_inference_path_matches_the_training_path(t, masked, backwards):
    # without gradients the op keeps two cell-state rows in turn and its gates in a reused
    # buffer; two layers run back to back must not disturb each other's outputs
    rng = np.random.default_rng(t)
    first, _ = _draw(rng, "lstm", 3, t, 4, 5, True, True)
    second, _ = _draw(rng, "lstm", 3, t, 5, 5, True, True)
    kwargs = {"go_backwards": backwards,
              "mask": rng.random((3, t)) < 0.6 if masked else None}

    def stacked():
        hs, c = ops.lstm(*first[:3], None, *first[3:], **kwargs)
        hs2, c2 = ops.lstm(hs, *second[1:3], None, *second[3:], **kwargs)
        return [hs.numpy(), c.numpy(), hs2.numpy(), c2.numpy()]

    with no_grad():
        inferred = stacked()
    first = [Tensor(a, requires_grad=True) for a in first]
    trained = stacked()
    for got, expected in zip(inferred, trained):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("backwards", [False, True])
def test_time_major_with_a_column_of_ones(backwards):
    # the LSTM's input projection carries its bias as the kernel's last row
    from npgrad.primitives import recurrent_common

    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # (N, T, F)
    plain = recurrent_common.time_major(x, backwards)
    ones = recurrent_common.time_major(x, backwards, ones=True)
    expected = x.transpose(1, 0, 2)[::-1] if backwards else x.transpose(1, 0, 2)
    np.testing.assert_array_equal(plain, expected)
    assert ones.shape == (3, 2, 5) and ones.dtype == np.float32 and ones.flags.c_contiguous
    np.testing.assert_array_equal(ones[..., :4], expected)
    np.testing.assert_array_equal(ones[..., 4], 1)


def test_lstm_bias_gradient_alone_and_with_the_kernel():
    # the bias gradient comes out of the kernel gradient's GEMM: asked for alone too
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 2))
    kernel, rec = rng.standard_normal((2, 8)), rng.standard_normal((2, 8))
    h0 = np.zeros((3, 2))
    bias = Tensor(rng.standard_normal(8), requires_grad=True)
    ops.lstm(x, kernel, rec, bias, h0, h0)[0].sum().backward()
    alone = bias.grad
    k = Tensor(kernel, requires_grad=True)
    bias.grad = None
    ops.lstm(x, k, rec, bias, h0, h0)[0].sum().backward()
    np.testing.assert_allclose(bias.grad, alone, rtol=1e-12)
    # and it is the composition's: d/db of the same sum by central differences
    eps, numeric = 1e-6, np.empty(8)
    for i in range(8):
        step = np.zeros(8)
        step[i] = eps
        up = ops.lstm(x, kernel, rec, bias.data + step, h0, h0)[0].data.sum()
        down = ops.lstm(x, kernel, rec, bias.data - step, h0, h0)[0].data.sum()
        numeric[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(alone, numeric, rtol=1e-6, atol=1e-8)
