"""The channels-last batch norm (one (M, C) pass plan, GEMV sums) pinned to the general maths.

The same data is normalized twice in float64: with the channels last (the fused path) and
moved to axis 1 (the general path shared with layer norm, which reduces with NumPy's means);
outputs, the gradients of x, gamma and beta, and the updated moving statistics must agree.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad import Tensor


def _run(x, gamma, beta, axis, training, upstream, moving):
    mean, var = moving[0].copy(), moving[1].copy()
    tx = Tensor(x, requires_grad=True)
    tg = None if gamma is None else Tensor(gamma, requires_grad=True)
    tb = None if beta is None else Tensor(beta, requires_grad=True)
    y = F.batch_norm(tx, tg, tb, mean, var, training=training, momentum=0.9, axis=axis)
    (y * upstream).sum().backward()
    grads = [tx.grad] + [t.grad if t is not None else None for t in (tg, tb)]
    return y.data, grads, (mean, var)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 5), st.integers(1, 7),
       st.integers(1, 6), st.booleans(), st.booleans(), st.booleans())
def test_channels_last_equals_the_general_path(seed, ndim_extra, n, side, c, training, scale,
                                               center):
    rng = np.random.default_rng(seed)
    shape = (max(n, 2),) + (side,) * (ndim_extra - 1) + (c,)  # (N, ..., C), rank 2 to 4
    x = rng.standard_normal(shape) * 3 + rng.standard_normal(c) * 5  # offset channels
    gamma = rng.uniform(0.5, 2.0, c) if scale else None
    beta = rng.standard_normal(c) if center else None
    upstream = rng.standard_normal(shape)
    moving = (rng.standard_normal(c), rng.uniform(0.5, 2.0, c))
    fast = _run(x, gamma, beta, -1, training, upstream, moving)
    # channels moved to axis 1: the general path, the same numbers
    move = lambda a: np.moveaxis(a, -1, 1)  # noqa: E731
    general = _run(move(x), gamma, beta, 1, training, move(upstream), moving)
    np.testing.assert_allclose(fast[0], np.moveaxis(general[0], 1, -1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fast[1][0], np.moveaxis(general[1][0], 1, -1), rtol=1e-9,
                               atol=1e-10)
    for got, expected in zip(fast[1][1:], general[1][1:]):
        if expected is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    for got, expected in zip(fast[2], general[2]):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_fused_forward_keeps_no_activation_sized_array_of_its_own():
    x = Tensor(np.random.default_rng(0).standard_normal((8, 5, 3)), requires_grad=True)
    y = F.batch_norm(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), training=True)
    kept, mean, inv, gamma, out = y._ctx.saved  # the input itself; backward centers it again
    assert kept is x.data and out is None and mean.shape == inv.shape == gamma.shape == (3,)
    np.testing.assert_allclose(mean, x.data.reshape(40, 3).mean(0))


def test_wide_rows_equal_the_general_path():
    # 256 rows of 16 channels: seen as 16 rows of 256 (channels.wide_copies), and 3 rows
    # of 5 channels (an odd row count: no widening); both equal the general path
    from npgrad.primitives import channels

    assert channels.wide_copies(256, 16) == 16 and channels.wide_copies(3, 5) == 1
    rng = np.random.default_rng(3)
    for shape in ((4, 8, 8, 16), (3, 5)):
        c = shape[-1]
        x = rng.standard_normal(shape) * 2 + rng.standard_normal(c)
        upstream = rng.standard_normal(shape)
        args = (rng.uniform(0.5, 2, c), rng.standard_normal(c))
        moving = (np.zeros(c), np.ones(c))
        fast = _run(x, *args, -1, True, upstream, moving)
        move = lambda a: np.moveaxis(a, -1, 1)  # noqa: E731
        general = _run(move(x), *args, 1, True, move(upstream), moving)
        np.testing.assert_allclose(fast[0], np.moveaxis(general[0], 1, -1), atol=1e-10)
        np.testing.assert_allclose(fast[1][0], np.moveaxis(general[1][0], 1, -1), atol=1e-10)
        for got, expected in zip(fast[1][1:] + list(fast[2]), general[1][1:] + list(general[2])):
            np.testing.assert_allclose(got, expected, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([-1, 1]), st.booleans(),
       st.sampled_from([None, 0.7]))
def test_relu_inside_equals_relu_after(seed, training, axis, affine, cap):
    # batch_norm(relu=True, relu_cap=cap): one op with the channels last, batch_norm then
    # relu otherwise; against the composition ReLU(max_value=cap) was before it was one op:
    # where(y > 0, y, 0), then where(. < cap, ., cap) (gradient 0 at 0 and at the cap)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 4, 5, 3)) + 0.3
    c = x.shape[axis]
    gamma, beta = (rng.uniform(0.5, 2, c), rng.standard_normal(c)) if affine else (None, None)
    upstream = rng.standard_normal(x.shape)
    results = []
    for fused in (True, False):
        moving = [np.zeros(c), np.ones(c)]
        tensors = [Tensor(x, requires_grad=True)] + [
            Tensor(p, requires_grad=True) for p in (gamma, beta) if p is not None]
        params = tensors[1:] if affine else [None, None]
        y = F.batch_norm(tensors[0], *params, *moving, training=training, axis=axis,
                         relu=fused, relu_cap=cap if fused else None)
        if not fused:
            y = F.where(y.data > 0, y, 0.0)
            if cap is not None:
                y = F.where(y.data < cap, y, cap)
        (y * upstream).sum().backward()
        results.append([y.data] + [t.grad for t in tensors] + moving)
    assert (results[0][0] == 0).any() and (results[0][0] > 0).any()  # the relu clips some
    if cap is not None:
        assert (results[0][0] == cap).any()  # and the cap some
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_relu_cap_needs_the_relu_and_a_bound_of_at_least_zero():
    x = np.ones((4, 3))
    moving = [np.zeros(3), np.ones(3)]
    with pytest.raises(ValueError, match="relu_cap=6.0 caps the fused ReLU and needs relu=True"):
        F.batch_norm(x, None, None, *moving, relu_cap=6.0)
    with pytest.raises(ValueError, match="relu_cap must be a number >= 0, got -1"):
        F.batch_norm(x, None, None, *moving, relu=True, relu_cap=-1)
