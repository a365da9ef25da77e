"""rectify (primitives/rectify.py): np.maximum(x, 0) through the row-of-zeros loop, pinned to
np.maximum value for value, and taken by every ReLU-carrying op."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from npgrad.primitives import rectify as rectify_module
from npgrad.primitives.rectify import WIDTH, rectify


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(dtype=st.sampled_from([np.float32, np.float64]),
                  shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=40),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=32)),
       st.booleans())
def test_rectify_equals_np_maximum(x, in_place):
    expected = np.maximum(x, 0)
    got = rectify(x, out=x) if in_place else rectify(x)
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, expected)  # NaN where x is NaN
    if in_place:
        assert got is x


def test_odd_sizes_cover_the_tail_past_the_last_full_row():
    x = np.linspace(-3, 3, 3 * WIDTH + 17, dtype=np.float32)
    np.testing.assert_array_equal(rectify(x), np.maximum(x, 0))


def test_other_arrays_fall_back_to_np_maximum():
    ints = np.arange(-300, 300)
    np.testing.assert_array_equal(rectify(ints), np.maximum(ints, 0))
    strided = np.linspace(-1, 1, 4 * WIDTH)[::2]
    np.testing.assert_array_equal(rectify(strided), np.maximum(strided, 0))
    assert rectify(np.float32(-2.0)) == 0


@pytest.mark.parametrize("op", ["relu", "add_relu", "batch_norm_relu"])
def test_relu_ops_take_it(op, monkeypatch):
    calls = []
    original = rectify_module.rectify

    def spy(x, out=None):
        calls.append(x.shape)
        return original(x, out)

    # the ops import the function by name: patch it where each of them looks it up
    for module in ("activation", "elementwise", "nn"):
        monkeypatch.setattr(f"npgrad.primitives.{module}.rectify", spy)
    x = np.random.default_rng(0).standard_normal((4, 8, 8, 16)).astype(np.float32)
    if op == "relu":
        out = F.relu(x)
    elif op == "add_relu":
        out = F.add_relu(x, x[::-1].copy())
    else:
        c = x.shape[-1]
        out = F.batch_norm(x, None, None, np.zeros(c, np.float32), np.ones(c, np.float32),
                           training=True, relu=True)
    assert len(calls) == 1 and (np.asarray(out.data if hasattr(out, "data") else out) >= 0).all()
