"""MultiHeadAttention's packed self-attention path (one GEMM for q, k, v) is the general path.

``mha(x, x)`` takes the packed op; ``mha(x, copy_of_x)`` takes the three separate
projections. Both must give the same outputs and gradients (float64, odd sizes, masks,
causal and sliding-window masks, no biases, gates, dropout with a seed, value_dim != key_dim).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import layers as L
from npgrad.autograd.engine import graph_ops
from npgrad.primitives.attention import scaled_dot_product_attention
from npgrad.primitives.attention_packed import PackedSelfAttention, packed_self_attention


def _pair(config, dim, seed=0):
    """Two MultiHeadAttention layers with the same config and weights (float64)."""
    first = L.MultiHeadAttention(dtype="float64", seed=seed, **config)
    second = L.MultiHeadAttention(dtype="float64", seed=seed, **config)
    probe = np.zeros((1, 2, dim))
    first(probe, probe)
    second(probe, probe)
    second.set_weights(first.get_weights())
    return first, second


def _grads(layer, x, upstream, packed, **kwargs):
    xt = npgrad.Tensor(x, requires_grad=True)
    if packed:
        out = layer(xt, xt, training=True, **kwargs)
        assert layer._is_self_attention(xt, xt, xt)
    else:
        vt = npgrad.Tensor(x.copy(), requires_grad=True)
        out = layer(xt, vt, training=True, **kwargs)
    (out * npgrad.Tensor(upstream)).sum().backward()
    dx = xt.grad if packed else xt.grad + vt.grad
    grads = [w.grad for w in layer.trainable_weights]
    for w in layer.trainable_weights:
        w.zero_grad()
    return out.data, dx, grads


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 3), steps=st.integers(1, 7), dim=st.integers(1, 9),
       heads=st.integers(1, 3), key_dim=st.integers(1, 4), value_dim=st.integers(1, 4),
       use_bias=st.booleans(), use_gate=st.booleans(), causal=st.booleans(),
       masked=st.sampled_from([None, "attention", "query_value"]),
       dropout=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 1000))
def test_packed_self_attention_is_the_general_path(batch, steps, dim, heads, key_dim,
                                                   value_dim, use_bias, use_gate, causal,
                                                   masked, dropout, seed):
    config = dict(num_heads=heads, key_dim=key_dim, value_dim=value_dim, use_bias=use_bias,
                  use_gate=use_gate, dropout=dropout)
    packed_layer, general_layer = _pair(config, dim, seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, dim))
    upstream = rng.standard_normal((batch, steps, dim))
    kwargs = {"use_causal_mask": causal}
    if masked == "attention":
        kwargs["attention_mask"] = rng.random((batch, steps, steps)) > 0.3
    elif masked == "query_value":
        kwargs["query_mask"] = rng.random((batch, steps)) > 0.3
        kwargs["value_mask"] = rng.random((batch, steps)) > 0.3
    fast = _grads(packed_layer, x, upstream, True, **kwargs)
    slow = _grads(general_layer, x, upstream, False, **kwargs)
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-10, atol=1e-12)
    for got, want in zip(fast[2], slow[2]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_the_layer_packs_only_self_attention_without_scores():
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3)
    x = npgrad.Tensor(np.random.default_rng(0).standard_normal((2, 4, 6)).astype("float32"),
                      requires_grad=True)
    assert _has_packed(layer(x, x))
    assert not _has_packed(layer(x, x, return_attention_scores=True)[0])
    other = npgrad.Tensor(np.ones((2, 4, 6), "float32"), requires_grad=True)
    assert not _has_packed(layer(x, other))
    assert _has_packed(layer(x, x, x))
    images = L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))
    grid = npgrad.Tensor(np.ones((2, 3, 4, 6), "float32"), requires_grad=True)
    assert not _has_packed(images(grid, grid))


def _has_packed(out):
    return any(isinstance(op, PackedSelfAttention) for op in graph_ops(out))


@pytest.mark.parametrize("dk,dv", [(4, 4), (3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_the_op_matches_projections_then_attention(dk, dv, bias):
    rng = np.random.default_rng(3)
    b, t, c, h = 2, 5, 7, 3
    arrays = [rng.standard_normal((b, t, c)), rng.standard_normal((c, h, dk)),
              rng.standard_normal((c, h, dk)), rng.standard_normal((c, h, dv))]
    if bias:
        arrays += [rng.standard_normal((h, dk)), rng.standard_normal((h, dk)),
                   rng.standard_normal((h, dv))]
    keep = np.tril(np.ones((t, t), bool))[None, None]
    upstream = rng.standard_normal((b, t, h, dv))

    def run(fn):
        tensors = [npgrad.Tensor(a, requires_grad=True) for a in arrays]
        (fn(*tensors) * npgrad.Tensor(upstream)).sum().backward()
        return [fn(*arrays).data] + [tensor.grad for tensor in tensors]

    def reference(x, wq, wk, wv, *biases):
        proj = [F.einsum("btc,chd->bhtd", x, w) for w in (wq, wk, wv)]
        if biases:
            proj = [p + F.reshape(bb, (1, h, 1, -1)) for p, bb in zip(proj, biases)]
        out = scaled_dot_product_attention(*proj, mask=keep)
        return F.transpose(out, (0, 2, 1, 3))

    def packed(x, wq, wk, wv, *biases):
        return packed_self_attention(x, wq, wk, wv, *biases, keep=keep)

    for got, want in zip(run(packed), run(reference)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_only_the_needed_gradients_are_made():
    rng = np.random.default_rng(4)
    x = npgrad.Tensor(rng.standard_normal((2, 3, 4)))
    w = [npgrad.Tensor(rng.standard_normal((4, 2, 2)), requires_grad=i == 1) for i in range(3)]
    packed_self_attention(x, *w).sum().backward()
    assert x.grad is None and w[0].grad is None and w[2].grad is None
    assert w[1].grad.shape == (4, 2, 2)


@pytest.mark.parametrize("bad", [
    dict(x=(2, 3), w=(3, 2, 2)), dict(x=(2, 3, 4), w=(5, 2, 2)),
])
def test_bad_shapes_are_named(bad):
    x = np.ones(bad["x"])
    w = np.ones(bad["w"])
    with pytest.raises(ValueError, match="packed_self_attention: expected x"):
        packed_self_attention(x, w, w, w)


def test_some_biases_but_not_all_are_refused():
    x, w, bias = np.ones((1, 2, 3)), np.ones((3, 1, 2)), np.ones((1, 2))
    with pytest.raises(ValueError, match="all three biases or none"):
        packed_self_attention(x, w, w, w, bias, None, bias)


def test_the_attention_backward_writes_the_arrays_it_is_given():
    # the packed op hands it views of one (B, T, 3, H, D) block: strided, written in place
    from npgrad.primitives.attention import ScaledDotProductAttention
    rng = np.random.default_rng(3)
    b, t, h, d = 3, 5, 2, 4
    qkv = rng.standard_normal((b, t, 3, h, d))
    q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    grad = rng.standard_normal((b, h, t, d))
    op = ScaledDotProductAttention()
    op.needs_input_grad = (True, True, True)
    op.forward(q, k, v, scale=0.5)
    expected = op.backward(grad)
    block = np.full((b, t, 3, h, d), np.nan)
    views = tuple(block[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    got = op.backward(grad, out=views)
    for view, g, e in zip(views, got, expected):
        assert g is view
        np.testing.assert_allclose(view, e, rtol=1e-12, atol=1e-12)
    assert not np.isnan(block).any()
