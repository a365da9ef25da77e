"""Pieces of the fused recurrent loops: the LSTM's default gates against SciPy's sigmoid
(the gate routes themselves: ``test_recurrent_gate_routes.py``) and the per-step output
gradients as (U, N) blocks.

The fused ops as a whole are pinned to their composed steps in
``test_recurrent_fused_pins.py`` and ``test_lstm_fused_grads.py`` (float64, every gradient).
"""

import numpy as np
import pytest
from scipy import special

from npgrad import Tensor
from npgrad.primitives import recurrent as ops
from npgrad.primitives.recurrent_common import step_gradients


def _lstm(arrays, recurrent_activation, dtype):
    tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    x, kernel, rec, bias, h0, c0 = tensors
    hs, c = ops.lstm(x, kernel, rec, bias, h0, c0, recurrent_activation=recurrent_activation)
    return hs, c, tensors


def test_lstm_default_gates_in_float32_match_the_float64_op():
    # the halved weights are copies: the caller's arrays and the gradients' layout stay Keras's
    rng = np.random.default_rng(3)
    n, t, f, u = 5, 11, 6, 7
    arrays = [rng.standard_normal((n, t, f)), rng.standard_normal((f, 4 * u)) * 0.5,
              rng.standard_normal((u, 4 * u)) * 0.5, rng.standard_normal(4 * u) * 0.5,
              rng.standard_normal((n, u)), rng.standard_normal((n, u))]
    originals = [a.astype(np.float32) for a in arrays]
    results = {}
    for dtype in (np.float32, np.float64):
        hs, c, tensors = _lstm(arrays, "sigmoid", dtype)
        (hs.sum() + (c * 2).sum()).backward()
        results[dtype] = hs.numpy(), c.numpy(), [p.grad for p in tensors]
        if dtype == np.float32:
            for tensor, original in zip(tensors, originals):
                np.testing.assert_array_equal(tensor.numpy(), original)
    hs32, c32, grads32 = results[np.float32]
    hs64, c64, grads64 = results[np.float64]
    np.testing.assert_allclose(hs32, hs64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c32, c64, rtol=1e-5, atol=1e-6)
    for got, expected in zip(grads32, grads64):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_lstm_default_gates_match_a_composed_sigmoid_step():
    # one step by hand (Keras's gate order i, f, c, o), float64
    rng = np.random.default_rng(4)
    n, f, u = 3, 4, 2
    x, kernel = rng.standard_normal((n, 1, f)), rng.standard_normal((f, 4 * u))
    rec, bias = rng.standard_normal((u, 4 * u)), rng.standard_normal(4 * u)
    h0, c0 = rng.standard_normal((n, u)), rng.standard_normal((n, u))
    hs, c = ops.lstm(*(Tensor(a) for a in (x, kernel, rec, bias, h0, c0)))
    z = x[:, 0] @ kernel + h0 @ rec + bias
    i, fg, g, o = (z[:, k * u : (k + 1) * u] for k in range(4))
    c1 = special.expit(fg) * c0 + special.expit(i) * np.tanh(g)
    np.testing.assert_allclose(c.numpy(), c1, rtol=1e-12)
    np.testing.assert_allclose(hs.numpy()[:, 0], special.expit(o) * np.tanh(c1), rtol=1e-12)


def test_step_gradients_copy_into_contiguous_blocks_only_for_several_live_steps():
    rng = np.random.default_rng(5)
    grad = rng.standard_normal((4, 6, 3)).astype(np.float32)  # (N, T + 1, U)
    blocks, live = step_gradients(grad, 5)
    assert blocks.flags.c_contiguous and blocks.shape == (6, 3, 4) and live.all()
    for t in range(6):
        np.testing.assert_array_equal(blocks[t], grad[:, t].T)
    last_only = np.zeros_like(grad)
    last_only[:, 4] = grad[:, 4]  # return_sequences=False: one step gets a gradient
    last_only[:, 5] = grad[:, 5]  # (the cell state after the steps is not a step)
    blocks, live = step_gradients(last_only, 5)
    assert live.tolist() == [False, False, False, False, True]
    assert np.shares_memory(blocks, last_only)  # a view: nothing copied
    np.testing.assert_array_equal(blocks[4], grad[:, 4].T)
    np.testing.assert_array_equal(blocks[5], grad[:, 5].T)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_sequence_gradients_equal_with_every_step_or_the_last_only(kind):
    # return_sequences (every step live, contiguous blocks) and a last-step slice (one live
    # step, a strided view) give the same gradients as the composed reference
    rng = np.random.default_rng(6)
    n, t, f, u = 3, 4, 2, 3
    x = rng.standard_normal((n, t, f))
    gates = 4 if kind == "lstm" else 3
    kernel, rec = rng.standard_normal((f, gates * u)), rng.standard_normal((u, gates * u)) * 0.5
    h0 = rng.standard_normal((n, u))
    upstream = rng.standard_normal((n, t, u))

    def run(weights):
        tensors = [Tensor(a, requires_grad=True) for a in (x, kernel, rec, h0)]
        if kind == "lstm":
            hs, _ = ops.lstm(tensors[0], tensors[1], tensors[2], None, tensors[3],
                             Tensor(np.zeros((n, u))))
        else:
            hs = ops.gru(tensors[0], tensors[1], tensors[2], None, tensors[3])
        (hs * weights).sum().backward()
        return [p.grad for p in tensors]

    every = run(upstream)
    by_step = [run(np.where(np.arange(t)[None, :, None] == s, upstream, 0)) for s in range(t)]
    for got, parts in zip(every, zip(*by_step)):
        np.testing.assert_allclose(got, sum(parts), rtol=1e-10, atol=1e-12)
