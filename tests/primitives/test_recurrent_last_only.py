"""The fused LSTM and GRU ops asked for their last step only (``last_only``, what a layer
without ``return_sequences`` uses): the same values and gradients, bit for bit, as the
whole sequence's last step, and an output of one step (plus an LSTM's cell state)."""

import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npgrad import Tensor
from npgrad.autograd.engine import graph_ops
from npgrad.layers import recurrent as layers
from npgrad.primitives import batch_halves, helper_process
from npgrad.primitives import recurrent as ops
from npgrad.primitives import recurrent_common as common


def _last_step(kind, arrays, return_sequences, **kwargs):
    """The last hidden state (and an LSTM's cell state) and every input's gradient of a
    weighted sum of them."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    x, kernel, rec, *states, bias = tensors
    if kind == "lstm":
        hs, c = ops.lstm(x, kernel, rec, bias, *states, return_sequences=return_sequences,
                         **kwargs)
    else:
        hs, c = ops.gru(x, kernel, rec, bias, *states, return_sequences=return_sequences,
                        **kwargs), None
    last = hs[:, -1]
    weights = np.linspace(-1, 1, last.data.size).reshape(last.shape)
    loss = (last * weights).sum()
    if c is not None:
        loss = loss + (c * c).sum()
    loss.backward()
    values = [last.data] + ([] if c is None else [c.data])
    return values + [t.grad for t in tensors], hs.shape


def _arrays(kind, n, t, f, u, seed, reset_after=True):
    rng = np.random.default_rng(seed)
    k = {"lstm": 4, "gru": 3}[kind] * u
    arrays = [rng.standard_normal((n, t, f)), rng.standard_normal((f, k)) * 0.5,
              rng.standard_normal((u, k)) * 0.5]
    arrays += [rng.standard_normal((n, u)) for _ in range(2 if kind == "lstm" else 1)]
    arrays.append(rng.standard_normal((2, k) if kind == "gru" and reset_after else (k,)))
    return arrays


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["lstm", "gru"]), n=st.integers(1, 6), t=st.integers(1, 7),
       f=st.integers(1, 4), u=st.integers(1, 5), go_backwards=st.booleans(),
       masked=st.booleans(), reset_after=st.booleans(), seed=st.integers(0, 99))
def test_the_last_step_alone_equals_the_sequences_last_step(kind, n, t, f, u, go_backwards,
                                                            masked, reset_after, seed):
    arrays = _arrays(kind, n, t, f, u, seed, reset_after)
    kwargs = {"go_backwards": go_backwards}
    if kind == "gru":
        kwargs["reset_after"] = reset_after
    if masked:  # padded sequences: the last state is carried over masked steps
        kwargs["mask"] = np.random.default_rng(seed + 1).random((n, t)) > 0.4
    whole, whole_shape = _last_step(kind, arrays, True, **kwargs)
    last, last_shape = _last_step(kind, arrays, False, **kwargs)
    assert whole_shape == (n, t, u) and last_shape == (n, 1, u)
    for a, b in zip(whole, last):
        np.testing.assert_array_equal(b, a)


@pytest.mark.skipif(not helper_process.available(),
                    reason="the helper process needs os.fork and os.memfd_create")
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_last_step_alone_on_two_halves_of_the_batch(kind):
    arrays = _arrays(kind, 6, 5, 3, 4, seed=3)
    whole, _ = _last_step(kind, arrays, True)
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "1"}), \
            mock.patch.multiple(batch_halves, MIN_BATCH=2, MIN_FLOPS=0):
        halves, _ = _last_step(kind, arrays, False)
    for a, b in zip(whole, halves):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("layer, steps", [(layers.LSTM, 2), (layers.GRU, 1)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_a_layer_without_return_sequences_asks_its_op_for_the_last_step(
        layer, steps, return_sequences):
    x = Tensor(np.random.default_rng(0).standard_normal((3, 9, 2)), requires_grad=True)
    out = layer(4, return_sequences=return_sequences, dtype="float64")(x)
    (op,) = [node for node in graph_ops(out) if type(node).__name__.endswith("Sequence")]
    # the op's output: the last step only (and an LSTM's cell state after it), or them all
    assert op.out_shape == ((3, steps, 4) if not return_sequences else (3, 9 + steps - 1, 4))
    assert out.shape == ((3, 9, 4) if return_sequences else (3, 4))


def test_masked_output_zeros_apply_to_the_last_step_alone():
    x = np.random.default_rng(1).standard_normal((2, 4, 3))
    mask = np.array([[True, True, True, False], [True, True, True, True]])
    layer = layers.GRU(5, zero_output_for_mask=True, dtype="float64")
    out = layer(Tensor(x), mask=mask).data
    # Keras: the last output of a row whose last step is masked is zeroed
    np.testing.assert_array_equal(out[0], 0.0)
    assert np.all(out[1] != 0.0)


def test_step_gradients_of_the_last_step_read_only_that_step():
    grad = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)  # (N, last h + c, U)
    blocks, live = common.step_gradients(grad, 5, last_only=True)
    assert live.tolist() == [False, False, False, False, True]
    np.testing.assert_array_equal(blocks[4], grad[:, 0].T)  # the last step's (U, N)
    np.testing.assert_array_equal(blocks[5], grad[:, 1].T)  # the cell state after it
