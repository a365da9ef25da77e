"""Registry cases for attention: the fused attention ops, einsum, and the attention layers.

Layer cases build a fresh float64 layer, load the drawn weights with ``set_weights`` (Keras's
order and shapes), and bind the given Tensors as the weights of the layer and its sub-layers
(the projections of MultiHeadAttention), so the check covers the gradient with respect to
the inputs and every weight. Masks and flags are constants drawn as keyword arguments.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
import npgrad.layers as L
from npgrad.primitives.attention import scaled_dot_product_attention
from tests.gradcheck.registry import OpCase, floats


def _array(draw, shape, low=-2.0, high=2.0):
    return draw(hnp.arrays(np.float64, tuple(shape), elements=floats(low, high)))


def _keep(draw, shape):
    """A boolean keep-mask where every query row keeps at least its first key."""
    mask = draw(hnp.arrays(np.bool_, tuple(shape), elements=st.booleans()))
    mask[..., 0] = True
    return mask


# ------------------------------------------------------------------ ops
@st.composite
def _dot_product_attention(draw):
    b, t, s = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kv_heads, groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    heads, d, dv = kv_heads * groups, draw(st.integers(1, 3)), draw(st.integers(1, 3))
    arrays = [_array(draw, (b, t, heads, d)), _array(draw, (b, s, kv_heads, d)),
              _array(draw, (b, s, kv_heads, dv))]
    kwargs = {"is_causal": draw(st.booleans()) and t == s,
              "scale": draw(st.sampled_from([None, 0.7]))}
    if draw(st.booleans()):
        kwargs["mask"] = _keep(draw, (b, heads, t, s))
    return arrays, kwargs


def _sdpa_fn(q, k, v, bias, **kwargs):
    return scaled_dot_product_attention(q, k, v, bias=bias, **kwargs)


@st.composite
def _sdpa(draw):
    """(B, H, T, D) arrays with an additive bias, a mask and dropout (a fixed seed)."""
    b, h, t, s = (draw(st.integers(1, 2)) for _ in range(4))
    d, dv = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    arrays = [_array(draw, (b, h, t, d)), _array(draw, (b, h, s, d)), _array(draw, (b, h, s, dv)),
              _array(draw, (1, h, t, s))]
    kwargs = {"mask": _keep(draw, (b, 1, t, s)), "dropout_rate": 0.5, "training": True,
              "seed": draw(st.integers(0, 100))}
    return arrays, kwargs


def _weights_fn(q, k, bias, **kwargs):
    return scaled_dot_product_attention(q, k, k[..., :1], bias=bias, return_weights=True,
                                        **kwargs)[1]


@st.composite
def _weights(draw):
    b, h, t, s, d = (draw(st.integers(1, 3)) for _ in range(5))
    arrays = [_array(draw, (b, h, t, d)), _array(draw, (b, h, s, d)), _array(draw, (b, 1, t, s))]
    kwargs = {"is_causal": t == s and draw(st.booleans())}
    if draw(st.booleans()):
        kwargs["mask"] = _keep(draw, (b, h, t, s))
    return arrays, kwargs


_DENSE_LIKE = [("abc,cde->abde", (2, 3, 4), (4, 2, 3)), ("abcd,cde->abe", (2, 3, 2, 3), (2, 3, 4)),
               ("...b,bc->...c", (2, 3, 4), (4, 5))]
_GENERAL = [("bqm,muh->buqh", (2, 3, 4), (4, 2, 3)), ("ij,jk->ki", (3, 4), (4, 2)),
            ("abc,bx->acx", (2, 3, 4), (3, 2)), ("ab,cb->", (2, 3), (4, 3)),
            ("...ij,...jk->...ik", (2, 3, 2), (1, 2, 4))]


@st.composite
def _einsum(draw, equations):
    equation, *shapes = draw(st.sampled_from(equations))
    return [_array(draw, s) for s in shapes], {"subscripts": equation}


def _einsum_fn(*operands, subscripts):
    return F.einsum(subscripts, *operands)


# ------------------------------------------------------------------ layers
def _bind(layer, tensors):
    """Make ``tensors`` (in get_weights order) the weights of ``layer`` and its sub-layers."""
    old = layer.weights
    layer.set_weights([t.data for t in tensors])
    replace = {id(w): t for w, t in zip(old, tensors)}

    def visit(owner):
        for i, weight in enumerate(list(owner._own_weights)):
            new = replace.get(id(weight))
            if new is not None:
                for attr, value in list(vars(owner).items()):
                    if value is weight:
                        setattr(owner, attr, new)
                owner._own_weights[i] = new
        for sub in owner._sublayers():
            visit(sub)

    visit(layer)


def _weight_arrays(draw, layer):
    return [_array(draw, w.shape, -1.0, 1.0) for w in layer.weights]


@st.composite
def _einsum_dense(draw):
    equation, shape, out, bias = draw(st.sampled_from([
        ("abc,cde->abde", (2, 3, 4), (None, 2, 3), "de"),
        ("abcd,cde->abe", (2, 3, 2, 2), (None, 3), "e"),
        ("...b,bc->...c", (2, 4), (3,), "c"),
        ("ab,bc->ac", (3, 4), (2,), None)]))
    config = {"equation": equation, "output_shape": out, "bias_axes": bias,
              "activation": draw(st.sampled_from(["linear", "tanh"]))}
    layer = L.EinsumDense(dtype="float64", **config)
    layer(np.zeros(shape))
    return [_array(draw, shape)] + _weight_arrays(draw, layer), config


def _einsum_dense_fn(x, *weights, **config):
    layer = L.EinsumDense(dtype="float64", **config)
    layer._maybe_build(x.shape)
    _bind(layer, weights)
    return layer(x)


_HEADS_CALL = ("attention_mask", "use_causal_mask", "key_given", "scores")


@st.composite
def _mha(draw, gqa=False):
    b, t, s = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dim = draw(st.integers(1, 3))
    if gqa:
        kv = draw(st.integers(1, 2))
        config = {"head_dim": draw(st.integers(1, 2)), "num_query_heads": 2 * kv,
                  "num_key_value_heads": kv}
        cls, dim_v, dim_k = L.GroupQueryAttention, dim, dim
    else:
        config = {"num_heads": draw(st.integers(1, 2)), "key_dim": draw(st.integers(1, 2)),
                  "value_dim": draw(st.sampled_from([None, 1, 3])),
                  "output_shape": draw(st.sampled_from([None, 2])),
                  "use_bias": draw(st.booleans())}
        cls, dim_v, dim_k = L.MultiHeadAttention, draw(st.integers(1, 3)), draw(st.integers(1, 3))
    config["use_gate"] = draw(st.booleans())
    config["sliding_window"] = draw(st.sampled_from([None, 1, 2]))
    key_given = draw(st.booleans())
    shapes = [(b, t, dim), (b, s, dim_v)] + ([(b, s, dim_k)] if key_given else [])
    layer = cls(dtype="float64", **config)
    layer(*[np.zeros(sh) for sh in shapes[:2]], key=np.zeros(shapes[2]) if key_given else None)
    call = {"use_causal_mask": draw(st.booleans()), "key_given": key_given,
            "scores": draw(st.booleans())}
    if draw(st.booleans()):
        call["attention_mask"] = _keep(draw, (b, t, s))
    arrays = [_array(draw, sh) for sh in shapes] + _weight_arrays(draw, layer)
    return arrays, dict(config, **call)


def _heads_fn(cls):
    def fn(query, value, *rest, **config):
        call = {k: config.pop(k) for k in _HEADS_CALL if k in config}
        key_given, scores = call.pop("key_given"), call.pop("scores")
        key, weights = (rest[0], rest[1:]) if key_given else (None, rest)
        layer = cls(dtype="float64", **config)
        layer(query.data, value.data, key=None if key is None else key.data)
        _bind(layer, weights)
        if scores:  # the scores as the checked output (a differentiable Tensor too)
            return layer(query, value, key=key, return_attention_scores=True, **call)[1]
        return layer(query, value, key=key, **call)

    fn.__name__ = f"{cls.__name__}_layer"
    return fn


@st.composite
def _attention(draw, additive=False):
    b, tq, tv, dim = (draw(st.integers(1, 3)) for _ in range(4))
    key_given = draw(st.booleans())
    dim_v = draw(st.integers(1, 3)) if key_given else dim  # the keys are the values
    shapes = [(b, tq, dim), (b, tv, dim_v)] + ([(b, tv, dim)] if key_given else [])
    if additive:
        config = {"use_scale": draw(st.booleans())}
        layer = L.AdditiveAttention(dtype="float64", **config)
    else:
        config = {"use_scale": draw(st.booleans()),
                  "score_mode": draw(st.sampled_from(["dot", "concat"]))}
        layer = L.Attention(dtype="float64", **config)
    layer([np.zeros(sh) for sh in shapes])
    call = {"use_causal_mask": draw(st.booleans()) and tq == tv, "n_inputs": len(shapes)}
    if draw(st.booleans()):
        call["mask"] = [draw(hnp.arrays(np.bool_, (b, tq))), _keep(draw, (b, tv))]
    arrays = [_array(draw, sh) for sh in shapes] + _weight_arrays(draw, layer)
    return arrays, dict(config, **call)


def _attention_fn(cls):
    def fn(*arrays, n_inputs, use_causal_mask, mask=None, **config):
        inputs, weights = list(arrays[:n_inputs]), arrays[n_inputs:]
        layer = cls(dtype="float64", **config)
        layer([x.data for x in inputs])
        _bind(layer, weights)
        return layer(inputs, mask=mask, use_causal_mask=use_causal_mask)

    fn.__name__ = f"{cls.__name__}_layer"
    return fn


CASES = [
    OpCase("dot_product_attention", F.dot_product_attention, _dot_product_attention()),
    OpCase("scaled_dot_product_attention_bias_dropout", _sdpa_fn, _sdpa()),
    OpCase("attention_weights", _weights_fn, _weights()),
    OpCase("einsum", _einsum_fn, _einsum(_DENSE_LIKE)),
    OpCase("einsum_general", _einsum_fn, _einsum(_GENERAL)),
    OpCase("EinsumDense", _einsum_dense_fn, _einsum_dense()),
    OpCase("MultiHeadAttention", _heads_fn(L.MultiHeadAttention), _mha()),
    OpCase("GroupQueryAttention", _heads_fn(L.GroupQueryAttention), _mha(gqa=True)),
    OpCase("Attention", _attention_fn(L.Attention), _attention()),
    OpCase("AdditiveAttention", _attention_fn(L.AdditiveAttention), _attention(additive=True)),
]
