"""The fused LSTM's backward (gate derivatives precomputed for all steps) pinned to the
composed LSTM (autograd ops per step), gradients in float64, with masks and go_backwards."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import recurrent as ops

COMPOSED = {"tanh": F.tanh, "relu": F.relu, "hard_sigmoid": F.hard_sigmoid,
            "sigmoid": F.sigmoid, "linear": F.linear}


def _grads(activation, recurrent_activation, arrays, mask, go_backwards, upstream):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    x, kernel, rec, bias, h0, c0 = tensors
    hs, c = ops.lstm(x, kernel, rec, bias, h0, c0, activation=activation,
                     recurrent_activation=recurrent_activation, go_backwards=go_backwards,
                     mask=mask)
    ((hs * upstream[0]).sum() + (c * upstream[1]).sum()).backward()
    return hs.numpy(), [t.grad for t in tensors]


@pytest.mark.parametrize("activation,recurrent_activation",
                         [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("linear", "sigmoid")])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3), t=st.integers(1, 5),
       f=st.integers(1, 3), u=st.integers(1, 5), masked=st.booleans(), backwards=st.booleans())
def test_fused_lstm_gradients_equal_the_composed_steps(activation, recurrent_activation, seed, n,
                                                       t, f, u, masked, backwards):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, t, f)), rng.standard_normal((f, 4 * u)),
              rng.standard_normal((u, 4 * u)) * 0.5, rng.standard_normal(4 * u),
              rng.standard_normal((n, u)), rng.standard_normal((n, u))]
    mask = rng.random((n, t)) < 0.7 if masked else None
    upstream = (rng.standard_normal((n, t, u)), rng.standard_normal((n, u)))
    fused = _grads(activation, recurrent_activation, arrays, mask, backwards, upstream)
    composed = _grads(lambda z: COMPOSED[activation](z),
                      lambda z: COMPOSED[recurrent_activation](z), arrays, mask, backwards,
                      upstream)
    np.testing.assert_allclose(fused[0], composed[0], rtol=1e-10, atol=1e-12)
    for got, expected in zip(fused[1], composed[1]):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)
