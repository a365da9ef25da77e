"""Single-head attention layers (Keras 3): ``Attention`` (Luong) and ``AdditiveAttention`` (Bahdanau).

Both are called on a list ``[query, value]`` or ``[query, value, key]`` (key defaults to
value): query (B, Tq, dim), value (B, Tv, dim_v), key (B, Tv, dim). They compute scores
(B, Tq, Tv), a softmax over the keys, and the weighted sum of the values (B, Tq, dim_v).
Masks follow Keras: the value's Keras mask (B, Tv) and ``use_causal_mask`` push masked
scores down by 1e9 before the softmax; the query's mask (B, Tq) zeroes masked output rows
and is passed on to the output. They compose existing differentiable ops (the weights of
``Attention`` are at most two scalars), so autograd differentiates them.

Example:
    >>> q, v = np.random.randn(2, 3, 4), np.random.randn(2, 5, 4)
    >>> out, scores = npgrad.layers.Attention()([q, v], return_attention_scores=True)
    >>> out.shape, scores.shape
    ((2, 3, 4), (2, 3, 5))
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import random as _random
from npgrad.autograd.tensor import Tensor
from npgrad.layers.masks import get_keras_mask, set_keras_mask
from npgrad.layers.layer import Layer
from npgrad.layers.node import KerasTensor, Node, is_symbolic
from npgrad.primitives.nn import Dropout

__all__ = ["Attention", "AdditiveAttention"]

#: what Keras subtracts from masked scores before the softmax
_MASKED_SCORE_OFFSET = 1.0e9


def _as_bool(mask):
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    return mask if mask.dtype == bool else mask > 0.5


class Attention(Layer):
    """Dot-product (Luong-style) attention, as Keras 3's ``Attention``.

    ``scores = query @ key^T`` (times a learned scalar ``scale`` when ``use_scale``), or with
    ``score_mode="concat"``: ``scores = concat_score_weight * sum(tanh(scale * (q + k)), -1)``;
    ``weights = softmax(scores)`` over the keys; ``output = weights @ value``.

    Args:
        use_scale: learn a scalar that multiplies the scores.
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: dropout rate on the attention weights (training only).
        seed: optional int seeding the dropout.

    Weights: scale () when use_scale; concat_score_weight () when score_mode="concat".

    Call: ``layer([query, value(, key)], mask=None, training=False,
    return_attention_scores=False, use_causal_mask=False)``: returns (B, Tq, dim_v), plus the
    attention weights (B, Tq, Tv) (after dropout, as Keras) when asked.
    """

    supports_masking = True

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{cls}: argument `score_mode` must be 'dot' or 'concat', got "
                             f"{score_mode!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"{cls}: argument `dropout` must be a float in [0, 1), got "
                             f"{dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._rng = _random.make_generator(seed) if seed is not None else None

    # ------------------------------------------------------------- checks
    def _validate(self, inputs, mask=None):
        cls = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{cls} layer '{self.name}' must be called on a list of inputs, "
                             f"namely [query, value] or [query, value, key]; got "
                             f"{type(inputs).__name__}")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{cls} layer '{self.name}' accepts a list of 2 or 3 inputs "
                             f"([query, value] or [query, value, key]); got {len(inputs)}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{cls} layer '{self.name}': mask must be a list "
                             f"[query_mask, value_mask]; got {mask!r}")

    def _check_shapes(self, shapes):
        cls = type(self).__name__
        query, value = tuple(shapes[0]), tuple(shapes[1])
        key = tuple(shapes[2]) if len(shapes) > 2 else value
        if len(query) < 2 or len(value) < 2 or len(key) < 2:
            raise ValueError(f"{cls} layer '{self.name}': query, value and key need rank >= 2 "
                             f"(batch..., steps, features); got {query}, {value}, {key}")
        if query[-1] != key[-1] and query[-1] is not None and key[-1] is not None:
            raise ValueError(f"{cls} layer '{self.name}': query and key must have the same "
                             f"last dimension; got query {query} and key {key}")
        if value[-2] != key[-2] and value[-2] is not None and key[-2] is not None:
            raise ValueError(f"{cls} layer '{self.name}': value and key must have the same "
                             f"number of steps; got value {value} and key {key}")

    # ------------------------------------------------------------- weights
    def build(self, input_shape):
        self._validate(list(input_shape))
        self._check_shapes(input_shape)
        self.scale = self.add_weight("scale", (), "ones") if self.use_scale else None
        self.concat_score_weight = None
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")

    # ------------------------------------------------------------- calling
    def __call__(self, inputs, *, mask=None, training=None, return_attention_scores=False,
                 use_causal_mask=False):
        """Attend from ``inputs[0]`` (query) to ``inputs[1]`` (value; ``inputs[2]`` keys)."""
        self._validate(inputs, mask)
        if is_symbolic(inputs):
            return self._symbolic_call(list(inputs), mask, training, return_attention_scores,
                                       use_causal_mask)
        if mask is None:
            masks = [get_keras_mask(x) for x in inputs]
            mask = masks if any(m is not None for m in masks) else None
        xs = [self._prepare_input(x) for x in inputs]
        self._check_shapes([x.shape for x in xs])
        self._maybe_build([x.shape for x in xs])
        out, weights = self.call(xs, mask=mask, training=bool(training),
                                 use_causal_mask=use_causal_mask)
        query_mask = self.compute_mask(xs, mask)
        if query_mask is not None:
            set_keras_mask(out, query_mask)
        return (out, weights) if return_attention_scores else out

    def _symbolic_call(self, inputs, mask, training, return_scores, use_causal_mask):
        for x in inputs:
            if not isinstance(x, KerasTensor):
                raise TypeError(f"{self.name}: cannot mix symbolic tensors (npgrad.Input) and "
                                f"data ({type(x).__name__}) in one call")
            if x._keras_history is None:
                raise ValueError(f"{self.name}: {x!r} was not produced by npgrad.Input or a layer")
        shapes = [x.shape for x in inputs]
        self._check_shapes(shapes)
        self._maybe_build(shapes)
        outputs = KerasTensor(self.compute_output_shape(shapes), dtype=self.dtype)
        if return_scores:
            key = shapes[2] if len(shapes) > 2 else shapes[1]
            scores = KerasTensor(tuple(shapes[0][:-1]) + (key[-2],), dtype=self.dtype)
            outputs = [outputs, scores]
        kwargs = {}
        for arg, given in (("mask", mask), ("return_attention_scores", return_scores or None),
                           ("use_causal_mask", use_causal_mask or None), ("training", training)):
            if given is not None:
                kwargs[arg] = given
        Node(self, (inputs,), kwargs, outputs)
        return outputs

    def _scores(self, query, key):
        """(B, Tq, Tv) scores of every query against every key."""
        if self.score_mode == "dot":
            scores = F.matmul(query, F.transpose(key, self._swap_last(len(key.shape))))
            return scores * self.scale if self.scale is not None else scores
        summed = F.expand_dims(query, -2) + F.expand_dims(key, -3)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            summed = summed * self.scale
        return self.concat_score_weight * F.sum(F.tanh(summed), axis=-1)

    @staticmethod
    def _swap_last(rank):
        return tuple(range(rank - 2)) + (rank - 1, rank - 2)

    def call(self, inputs, mask=None, training=False, use_causal_mask=False):
        """Scores, masked softmax, dropout, weighted sum; returns (output, weights)."""
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask = mask[0] if mask else None
        value_mask = mask[1] if mask else None
        scores = self._scores(query, key)
        keep = None
        if value_mask is not None:
            keep = np.expand_dims(_as_bool(value_mask), -2)  # (B, 1, Tv)
        if use_causal_mask:
            causal = np.tril(np.ones(scores.shape[-2:], dtype=bool))[None]  # (1, Tq, Tv)
            keep = causal if keep is None else keep & causal
        if keep is not None:  # Keras: masked scores - 1e9 (a constant offset)
            scores = scores + (~keep) * scores.dtype.type(-_MASKED_SCORE_OFFSET)
        weights = F.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            rng = self._rng if self._rng is not None else _random.generator()
            kept = rng.random(weights.shape, dtype=weights.dtype) >= self.dropout
            weights = Dropout.apply(weights, mask=kept * weights.dtype.type(
                1.0 / (1.0 - self.dropout)))
        out = F.matmul(weights, value)
        if query_mask is not None:
            out = out * np.expand_dims(_as_bool(query_mask), -1).astype(out.dtype)
        return out, weights

    def compute_mask(self, inputs, mask=None):
        """The query's mask (Keras): masked query steps stay masked in the output."""
        if mask is None or mask[0] is None:
            return None
        return _as_bool(mask[0])

    def compute_output_shape(self, input_shape):
        """(*query_shape[:-1], value_shape[-1])."""
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode,
                      dropout=self.dropout, seed=self.seed)
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention, as Keras 3's ``AdditiveAttention``.

    ``scores = sum(scale * tanh(query[:, :, None] + key[:, None]), axis=-1)`` with a learned
    ``scale`` of shape (dim,) when ``use_scale`` (default); softmax over the keys; weighted
    sum of the values.

    Args:
        use_scale: learn the per-feature ``scale`` (default True).
        dropout: dropout rate on the attention weights (training only).
        seed: optional int seeding the dropout.

    Weights: scale (dim,) (glorot_uniform, as Keras) when use_scale.

    Call: as :class:`Attention`.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate(list(input_shape))
        self._check_shapes(input_shape)
        dim = input_shape[0][-1]
        self.scale = self.add_weight("scale", (dim,), "glorot_uniform") if self.use_scale \
            else None

    def _scores(self, query, key):
        summed = F.tanh(F.expand_dims(query, -2) + F.expand_dims(key, -3))  # (B, Tq, Tv, dim)
        if self.scale is not None:
            summed = summed * self.scale
        return F.sum(summed, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
