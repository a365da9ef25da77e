"""Attention layers and ops: NumPy references, masks, causality, scores, shapes, models, saving,
and the errors users see."""

import numpy as np
import pytest

import npgrad
import npgrad.functional as F
import npgrad.layers as L
from npgrad.primitives.attention import scaled_dot_product_attention

RNG = np.random.default_rng(0)


def _softmax(s, keep=None):
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    m = np.max(s, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def _attention_ref(q, k, v, keep=None, scale=None, bias=None):
    """(..., T, D) NumPy reference: softmax(q k^T scale + bias, masked) v."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if bias is not None:
        s = s + bias
    w = _softmax(s, keep)
    return w @ v, w


def _mha_ref(layer, query, value, key=None, keep=None):
    """MultiHeadAttention in NumPy from the layer's weights (Keras's layout)."""
    key = value if key is None else key
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    q = np.einsum("btd,dnh->bnth", query, wq) + bq[None, :, None]
    k = np.einsum("bsd,dnh->bnsh", key, wk) + bk[None, :, None]
    v = np.einsum("bsd,dnh->bnsh", value, wv) + bv[None, :, None]
    out, w = _attention_ref(q, k, v, None if keep is None else keep[:, None])
    return np.einsum("bnth,nhe->bte", out, wo) + bo, w


# ------------------------------------------------------------------ the op
def test_scaled_dot_product_attention_matches_numpy_with_bias_mask_and_causal():
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 4, 5)), \
        RNG.standard_normal((2, 3, 4, 2))
    bias = RNG.standard_normal((1, 3, 4, 4))
    keep = RNG.random((2, 1, 4, 4)) > 0.4
    causal = np.tril(np.ones((4, 4), bool))
    out, weights = scaled_dot_product_attention(q, k, v, bias=bias, mask=keep, is_causal=True,
                                                return_weights=True)
    ref_out, ref_w = _attention_ref(q, k, v, keep & causal, bias=bias)
    np.testing.assert_allclose(weights.numpy(), ref_w, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)
    fused = scaled_dot_product_attention(q, k, v, bias=bias, mask=keep, is_causal=True)
    np.testing.assert_allclose(fused.numpy(), ref_out, atol=1e-12)


def test_fully_masked_rows_give_zero_weights_and_no_nan():
    q = RNG.standard_normal((1, 1, 3, 2))
    keep = np.array([[True, True, False], [False, False, False], [True, False, False]])
    x = npgrad.Tensor(q, requires_grad=True)
    out, weights = scaled_dot_product_attention(x, x, x, mask=keep, return_weights=True)
    assert np.all(weights.numpy()[0, 0, 1] == 0) and np.all(out.numpy()[0, 0, 1] == 0)
    (out.sum() + weights.sum()).backward()
    assert np.all(np.isfinite(x.grad))


def test_softmax_is_stable_for_huge_logits_in_float32():
    q = np.full((1, 1, 2, 4), 1e4, dtype=np.float32)
    out = scaled_dot_product_attention(q, q, q)
    assert out.dtype == np.float32 and np.all(np.isfinite(out.numpy()))


def test_rows_far_below_zero_and_above_the_unshifted_bound_keep_their_weights():
    # the softmax leaves the rows' maxima out only where that changes nothing: a row of
    # scores near -200 (every exponential underflows: the scores are made again and shifted)
    # and a block with scores above 64 must give the reference weights, in float32 too
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        q, k, v = (RNG.standard_normal((2, 3, 4, 5)).astype(dtype) for _ in range(3))
        for offset in (-200.0, 80.0):
            bias = np.zeros((1, 1, 4, 4), dtype)
            bias[..., 2, :] = offset + np.arange(4)
            out, weights = scaled_dot_product_attention(q, k, v, bias=bias, return_weights=True)
            ref_out, ref_w = _attention_ref(q.astype(np.float64), k, v, bias=bias)
            np.testing.assert_allclose(weights.numpy(), ref_w, rtol=tol, atol=tol)
            fused = scaled_dot_product_attention(q, k, v, bias=bias)
            np.testing.assert_allclose(fused.numpy(), ref_out, rtol=tol, atol=tol)
            np.testing.assert_allclose(weights.numpy()[..., 2, :].sum(-1), 1, rtol=tol)


def test_dropout_is_inverted_and_only_in_training():
    q = RNG.standard_normal((2, 2, 8, 4))
    plain = scaled_dot_product_attention(q, q, q).numpy()
    same = scaled_dot_product_attention(q, q, q, dropout_rate=0.5, training=False).numpy()
    np.testing.assert_array_equal(plain, same)
    _, w = scaled_dot_product_attention(q, q, q, dropout_rate=0.5, training=True, seed=1,
                                        return_weights=True)
    out = scaled_dot_product_attention(q, q, q, dropout_rate=0.5, training=True, seed=1)
    # the same seed gives the same dropped weights in both code paths
    dropped = scaled_dot_product_attention(q, q, q, dropout_rate=0.5, training=True, seed=1,
                                           return_weights=True)[0]
    np.testing.assert_allclose(out.numpy(), dropped.numpy(), atol=1e-12)
    assert not np.allclose(out.numpy(), plain)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0)  # returned weights: before dropout


def test_dot_product_attention_keras_layout_and_grouped_heads():
    q, k, v = RNG.standard_normal((2, 5, 4, 3)), RNG.standard_normal((2, 6, 2, 3)), \
        RNG.standard_normal((2, 6, 2, 7))
    out = F.dot_product_attention(q, k, v, scale=0.5)
    kr, vr = np.repeat(k, 2, axis=2), np.repeat(v, 2, axis=2)  # key head h // 2 serves head h
    ref, _ = _attention_ref(q.transpose(0, 2, 1, 3), kr.transpose(0, 2, 1, 3),
                            vr.transpose(0, 2, 1, 3), scale=0.5)
    np.testing.assert_allclose(out.numpy(), ref.transpose(0, 2, 1, 3), atol=1e-12)
    assert out.shape == (2, 5, 4, 7)


@pytest.mark.parametrize("shapes, message", [
    (((2, 3, 4), (2, 3, 4), (2, 3, 4)), "must be 4-D"),
    (((2, 3, 4, 5), (2, 3, 3, 5), (2, 3, 3, 5)), "N divisible by K"),
    (((2, 3, 4, 5), (2, 3, 4, 6), (2, 3, 4, 5)), "expected query"),
])
def test_dot_product_attention_errors_name_the_op(shapes, message):
    with pytest.raises(ValueError, match=f"dot_product_attention.*{message}"):
        F.dot_product_attention(*[np.zeros(s) for s in shapes])


def test_bad_mask_shape_is_reported():
    q = np.zeros((1, 2, 3, 4))
    with pytest.raises(ValueError, match="mask of shape .* does not broadcast"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((5, 3), bool))


@pytest.mark.parametrize("subscripts", ["ij,jk->ik", "bij,bjk->bik", "ij->ji", "ij,ij->", "ab,b",
                                        "...i,i->...", "abc,cde->abde"])
def test_einsum_matches_numpy(subscripts):
    terms = subscripts.split("->")[0].split(",")
    sizes = dict(zip("abcdeijk", [2, 3, 4, 2, 3, 3, 4, 2]))
    ops = [RNG.standard_normal([sizes.get(c, 2) for c in t.replace("...", "a")]) for t in terms]
    np.testing.assert_allclose(F.einsum(subscripts, *ops).numpy(), np.einsum(subscripts, *ops),
                               atol=1e-12)


def test_einsum_errors():
    with pytest.raises(ValueError, match="repeated subscripts"):
        F.einsum("ii->i", np.eye(2))
    with pytest.raises(ValueError, match="names 2 operands, got 1"):
        F.einsum("ij,jk->ik", np.eye(2))
    with pytest.raises(ValueError, match="subscript 'j' has sizes 2 and 3"):
        F.einsum("ij,jk->ik", np.ones((2, 2)), np.ones((3, 2)))


# ------------------------------------------------------------------ EinsumDense
@pytest.mark.parametrize("equation, output_shape, bias_axes, in_shape, kernel, bias, out", [
    ("ab,bc->ac", 64, "c", (2, 32), (32, 64), (64,), (2, 64)),
    ("abc,cd->abd", (None, 64), "d", (2, 5, 32), (32, 64), (64,), (2, 5, 64)),
    ("abc,cde->abde", (None, 4, 8), "de", (2, 5, 16), (16, 4, 8), (4, 8), (2, 5, 4, 8)),
    ("...b,bc->...c", 3, "c", (2, 5, 7, 4), (4, 3), (3,), (2, 5, 7, 3)),
    ("abc...,cd->abd...", (5, 6), "b", (2, 5, 4, 3), (4, 6), (5, 1, 1), (2, 5, 6, 3)),
])
def test_einsum_dense_shapes_match_keras(equation, output_shape, bias_axes, in_shape, kernel,
                                         bias, out):
    layer = L.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    x = RNG.standard_normal(in_shape).astype("float32")
    y = layer(x)
    assert [w.shape for w in layer.weights] == [kernel, bias]
    assert y.shape == out
    assert layer.compute_output_shape((None,) + in_shape[1:]) == (None,) + out[1:]
    ref = np.einsum(equation, x, layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_einsum_dense_glorot_uses_keras_fans():
    # Keras: fan_in = the kernel's input axes (16), fan_out = its output axes (4 * 64)
    layer = L.EinsumDense("abc,cde->abde", output_shape=(None, 4, 64))
    layer(np.zeros((1, 2, 16)))
    limit = np.sqrt(6 / (16 + 256))
    k = layer.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit


def test_einsum_dense_errors_name_the_layer():
    with pytest.raises(ValueError, match="invalid einsum equation"):
        L.EinsumDense("ab->b", output_shape=3)
    with pytest.raises(ValueError, match="bias axis 'z'"):
        L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="z")(np.ones((2, 4)))
    layer = L.EinsumDense("ab,bc->ac", output_shape=3, name="proj")
    layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="Input 0 of layer 'proj' is incompatible"):
        layer(np.ones((2, 5)))


# ------------------------------------------------------------------ MultiHeadAttention
def test_mha_weights_match_keras_layout():
    mha = L.MultiHeadAttention(num_heads=4, key_dim=8, value_dim=6, output_shape=10)
    mha(np.zeros((2, 5, 16)), np.zeros((2, 7, 12)), key=np.zeros((2, 7, 3)))
    assert [(w.name, w.shape) for w in mha.weights] == [
        ("query/kernel", (16, 4, 8)), ("query/bias", (4, 8)),
        ("key/kernel", (3, 4, 8)), ("key/bias", (4, 8)),
        ("value/kernel", (12, 4, 6)), ("value/bias", (4, 6)),
        ("attention_output/kernel", (4, 6, 10)), ("attention_output/bias", (10,))]
    assert mha.count_params() == 16 * 32 + 32 + 3 * 32 + 32 + 12 * 24 + 24 + 24 * 10 + 10


def test_mha_matches_numpy_with_attention_and_causal_masks():
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, dtype="float64")
    x = RNG.standard_normal((2, 4, 6))
    keep = RNG.random((2, 4, 4)) > 0.3
    out, scores = mha(x, x, attention_mask=keep, use_causal_mask=True,
                      return_attention_scores=True)
    ref, ref_w = _mha_ref(mha, x, x, keep=keep & np.tril(np.ones((4, 4), bool)))
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), ref_w, atol=1e-12)
    assert np.all(np.triu(scores.numpy(), 1) == 0)  # nothing attends to the future


def test_mha_combines_keras_masks_and_passes_the_query_mask_on():
    embed = L.Embedding(10, 6, mask_zero=True, dtype="float64")
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, dtype="float64")
    tokens = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])
    x = embed(tokens)
    out, scores = mha(x, x, return_attention_scores=True)
    mask = tokens != 0
    keep = mask[:, :, None] & mask[:, None, :]
    ref, ref_w = _mha_ref(mha, x.numpy(), x.numpy(), keep=keep)
    np.testing.assert_allclose(scores.numpy(), ref_w, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    np.testing.assert_array_equal(out._keras_mask, mask)


def test_mha_cross_attention_shapes_and_value_dim():
    mha = L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=5)
    out, scores = mha(np.zeros((2, 4, 7)), np.zeros((2, 9, 3)), return_attention_scores=True)
    assert out.shape == (2, 4, 7) and scores.shape == (2, 3, 4, 9)


def test_mha_attention_axes_over_images():
    x = RNG.standard_normal((2, 3, 4, 6)).astype("float32")
    both = L.MultiHeadAttention(num_heads=2, key_dim=3)
    out, scores = both(x, x, return_attention_scores=True)
    assert out.shape == x.shape and scores.shape == (2, 2, 3, 4, 3, 4)
    rows = L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(2,))
    out, scores = rows(x, x, return_attention_scores=True)
    assert out.shape == x.shape and scores.shape == (2, 3, 2, 4, 4)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="attention_axes=.*not supported"):
        L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1,))(x, x)


def test_mha_dropout_acts_in_training_only():
    mha = L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=3)
    x = RNG.standard_normal((2, 6, 8)).astype("float32")
    np.testing.assert_array_equal(mha(x, x).numpy(), mha(x, x, training=False).numpy())
    assert not np.allclose(mha(x, x, training=True).numpy(), mha(x, x).numpy())


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_heads=0, key_dim=2), "num_heads"),
    (dict(num_heads=2, key_dim=-1), "key_dim"),
    (dict(num_heads=2, key_dim=2, dropout=1.5), "dropout"),
    (dict(num_heads=2, key_dim=2, sliding_window=0), "sliding_window"),
    (dict(num_heads=2, key_dim=2, flash_attention=True), "flash attention"),
])
def test_mha_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"MultiHeadAttention.*{message}"):
        L.MultiHeadAttention(**kwargs)


def test_mha_gate_and_sliding_window():
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, use_gate=True,
                               sliding_window=2, dtype="float64")
    x = RNG.standard_normal((2, 5, 4))
    out, scores = mha(x, x, return_attention_scores=True)
    assert [w.name for w in mha.weights][:6] == ["query/kernel", "query/bias", "key/kernel",
                                                 "key/bias", "gate/kernel", "gate/bias"]
    band = np.abs(np.arange(5)[:, None] - np.arange(5)[None]) < 2
    assert np.all(scores.numpy()[..., ~band] == 0) and np.all(scores.numpy()[..., band] > 0)
    wq, bq, wk, bk, wg, bg, wv, bv, wo, bo = mha.get_weights()
    q = np.einsum("btd,dnh->bnth", x, wq) + bq[None, :, None]
    k = np.einsum("bsd,dnh->bnsh", x, wk) + bk[None, :, None]
    v = np.einsum("bsd,dnh->bnsh", x, wv) + bv[None, :, None]
    heads, _ = _attention_ref(q, k, v, band)
    gate = 1 / (1 + np.exp(-(np.einsum("btd,dnh->btnh", x, wg) + bg)))
    ref = np.einsum("btnh,nhe->bte", heads.transpose(0, 2, 1, 3) * gate, wo) + bo
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)


def test_mha_bad_inputs_name_the_layer():
    mha = L.MultiHeadAttention(num_heads=2, key_dim=2, name="attn")
    mha(np.zeros((2, 3, 4)), np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="'attn'.*expected query of shape"):
        mha(np.zeros((2, 3, 6)), np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="'attn'.*value and key"):
        mha(np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), key=np.zeros((2, 6, 4)))
    with pytest.raises(TypeError, match="'attn'.*no value"):
        mha(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="attention_mask of shape"):
        mha(np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), attention_mask=np.ones((2, 3, 4), bool))


# ------------------------------------------------------------------ GroupQueryAttention
def test_gqa_equals_mha_with_shared_key_value_heads():
    gqa = L.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2,
                                dtype="float64")
    x = RNG.standard_normal((2, 5, 6))
    out, scores = gqa(x, x, use_causal_mask=True, return_attention_scores=True)
    wq, bq, wk, bk, wv, bv, wo, bo = gqa.get_weights()
    mha = L.MultiHeadAttention(num_heads=4, key_dim=3, dtype="float64")
    mha(x, x)
    # query head h uses key/value head h // 2: repeat them (Keras's ops.repeat on the heads)
    mha.set_weights([wq, bq, np.repeat(wk, 2, axis=1), np.repeat(bk, 2, axis=0),
                     np.repeat(wv, 2, axis=1), np.repeat(bv, 2, axis=0), wo, bo])
    ref, ref_scores = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), ref_scores.numpy(), atol=1e-12)
    assert [w.shape for w in gqa.weights] == [(6, 4, 3), (4, 3), (6, 2, 3), (2, 3), (6, 2, 3),
                                              (2, 3), (4, 3, 6), (6,)]


def test_gqa_bad_head_counts():
    with pytest.raises(ValueError, match="divisible"):
        L.GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)


# ------------------------------------------------------------------ Attention, AdditiveAttention
def test_attention_dot_and_masks_match_numpy():
    q, v = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4))
    q_mask = np.array([[True, True, False], [True, False, True]])
    v_mask = RNG.random((2, 5)) > 0.3
    v_mask[:, 0] = True
    layer = L.Attention(dtype="float64")
    out, w = layer([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
    ref_w = _softmax(q @ v.transpose(0, 2, 1), v_mask[:, None, :])
    np.testing.assert_allclose(w.numpy(), ref_w, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), (ref_w @ v) * q_mask[..., None], atol=1e-12)
    np.testing.assert_array_equal(out._keras_mask, q_mask)


def test_attention_concat_and_additive_scores():
    q, v, k = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 2)), \
        RNG.standard_normal((2, 5, 4))
    concat = L.Attention(use_scale=True, score_mode="concat", dtype="float64")
    concat([q, v, k])
    concat.set_weights([np.array(0.7), np.array(1.3)])
    scores = 1.3 * np.tanh(0.7 * (q[:, :, None] + k[:, None])).sum(-1)
    np.testing.assert_allclose(concat([q, v, k]).numpy(), _softmax(scores) @ v, atol=1e-12)
    additive = L.AdditiveAttention(dtype="float64")
    additive([q, v, k])
    scale = additive.get_weights()[0]
    assert scale.shape == (4,)
    scores = (scale * np.tanh(q[:, :, None] + k[:, None])).sum(-1)
    np.testing.assert_allclose(additive([q, v, k]).numpy(), _softmax(scores) @ v, atol=1e-12)


def test_attention_causal_mask():
    x = RNG.standard_normal((1, 4, 3))
    _, w = L.Attention()([x, x], use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.triu(w.numpy()[0], 1) < 1e-6)


def test_attention_errors_name_the_layer():
    layer = L.Attention(name="att")
    with pytest.raises(ValueError, match="Attention layer 'att' must be called on a list"):
        layer(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="list of 2 or 3 inputs"):
        layer([np.zeros((2, 3, 4))])
    with pytest.raises(ValueError, match="same last dimension"):
        layer([np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 3))])
    with pytest.raises(ValueError, match="score_mode"):
        L.Attention(score_mode="cosine")


# ------------------------------------------------------------------ models, configs, saving
def _encoder_model():
    tokens = npgrad.Input((6,), dtype="int64")
    x = L.Embedding(20, 8, mask_zero=True)(tokens)
    y = L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)(x, x)
    x = L.LayerNormalization()(L.Add()([x, y]))
    x = L.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)(
        x, x, use_causal_mask=True)
    x = L.EinsumDense("abc,cd->abd", output_shape=(None, 8), bias_axes="d")(x)
    a = L.Attention(use_scale=True)([x, x])
    b = L.AdditiveAttention()([x, x])
    pooled = L.GlobalAveragePooling1D()(L.Add()([a, b]))
    return npgrad.Model(tokens, L.Dense(3, activation="softmax")(pooled))


def test_functional_model_trains_saves_and_loads(tmp_path):
    npgrad.utils.set_random_seed(0)
    model = _encoder_model()
    data = np.random.default_rng(1).integers(0, 20, (32, 6))
    labels = data[:, 0] % 3
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.evaluate(data, labels, verbose=0)
    model.fit(data, labels, epochs=3, batch_size=8, verbose=0)
    after = model.evaluate(data, labels, verbose=0)
    assert after < before
    path = tmp_path / "encoder.npgrad"
    model.save(path)
    loaded = npgrad.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_symbolic_call_with_scores_and_a_mask_input():
    q, v = npgrad.Input((4, 6)), npgrad.Input((5, 6))
    mask = npgrad.Input((4, 5), dtype="bool")
    out, scores = L.MultiHeadAttention(num_heads=3, key_dim=2)(
        q, v, attention_mask=mask, return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 3, 4, 5)
    model = npgrad.Model([q, v, mask], [out, scores])
    keep = np.ones((2, 4, 5), bool)
    keep[:, :, 3:] = False
    y, s = model([RNG.standard_normal((2, 4, 6)), RNG.standard_normal((2, 5, 6)), keep])
    assert y.shape == (2, 4, 6) and np.all(s.numpy()[..., 3:] == 0)
    o2, s2 = L.Attention()([q, v], return_attention_scores=True)
    assert o2.shape == (None, 4, 6) and s2.shape == (None, 4, 5)


def test_einsum_dense_in_a_sequential_model():
    model = npgrad.Sequential([
        npgrad.Input((5, 4)),
        L.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d", activation="relu"),
        L.Flatten(), L.Dense(1)])
    assert model.output_shape == (None, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(RNG.standard_normal((8, 5, 4)), RNG.standard_normal((8, 1)), epochs=1, verbose=0)


@pytest.mark.parametrize("layer", [
    L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, dropout=0.1, output_shape=(5,),
                         attention_axes=(1,), kernel_regularizer="l2", seed=2),
    L.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2, use_bias=False),
    L.Attention(use_scale=True, score_mode="concat", dropout=0.2),
    L.AdditiveAttention(use_scale=False),
    L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="e", activation="tanh"),
], ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_the_code_in_docs_attention_runs(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "attention.md"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_attention"}
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 3
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"attention.md block {number}", "exec"), namespace)


def test_masks_given_as_symbolic_inputs():
    q, v = npgrad.Input((3, 4)), npgrad.Input((5, 4))
    q_mask, v_mask = npgrad.Input((3,), dtype="bool"), npgrad.Input((5,), dtype="bool")
    a = L.Attention()([q, v], mask=[q_mask, v_mask])
    m = L.MultiHeadAttention(num_heads=2, key_dim=2)(q, v, value_mask=v_mask)
    model = npgrad.Model([q, v, q_mask, v_mask], [a, m])
    data = [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4)),
            np.array([[True, False, True]] * 2), np.array([[True, True, False, False, True]] * 2)]
    out_a, out_m = model(data)
    assert np.all(out_a.numpy()[:, 1] == 0)  # masked query rows are zeroed
    same_m = model([data[0], data[1] + np.array([0, 0, 9, 9, 0])[None, :, None], *data[2:]])[1]
    np.testing.assert_allclose(out_m.numpy(), same_m.numpy(), atol=1e-6)  # masked values unseen


def test_keras_style_configs_load():
    """What Keras 3's get_config() writes (its keys, serialized initializers) builds the layer."""
    glorot = {"module": "keras.initializers", "class_name": "GlorotUniform",
              "config": {"seed": None}, "registered_name": None}
    zeros = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
             "registered_name": None}
    common = {"trainable": True, "dropout": 0.0, "use_bias": True, "use_gate": False,
              "sliding_window": None, "kernel_initializer": glorot, "bias_initializer": zeros,
              "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
              "kernel_constraint": None, "bias_constraint": None, "seed": None}
    mha = L.MultiHeadAttention.from_config(dict(
        common, name="mha", num_heads=2, key_dim=3, value_dim=3, output_shape=None,
        attention_axes=None))
    gqa = L.get_layer_class("GroupedQueryAttention").from_config(dict(
        common, name="gqa", head_dim=2, num_query_heads=4, num_key_value_heads=2))
    dense = L.EinsumDense.from_config({
        "name": "ed", "trainable": True, "output_shape": [4], "equation": "ab,bc->ac",
        "activation": "linear", "bias_axes": "c", "kernel_initializer": glorot,
        "bias_initializer": zeros, "kernel_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
        "quantization_config": None})
    x = np.ones((1, 2, 6), "float32")
    assert mha(x, x).shape == (1, 2, 6) and gqa(x, x).shape == (1, 2, 6)
    assert dense(np.ones((1, 5))).shape == (1, 4)
