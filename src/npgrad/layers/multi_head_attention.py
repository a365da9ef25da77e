"""Multi-head attention layers (Keras 3): ``MultiHeadAttention`` and ``GroupQueryAttention``.

Both project the query, key and value with :class:`~npgrad.layers.EinsumDense` sub-layers
(Keras's weight names, shapes and order: query, key, value, attention_output), run the fused
scaled dot-product attention op on (B, heads, T, head_size) arrays, and project the heads
back. They are called as ``layer(query, value, key=None, attention_mask=None, ...)``, on
arrays/Tensors or on symbolic tensors (``npgrad.Input``) in a functional model.

Masks combine as in Keras: the Keras masks of ``query`` (B, T) and ``value``/``key`` (B, S)
(e.g. from ``Embedding(mask_zero=True)``), an explicit ``attention_mask`` (B, T, S) (True
where query t may attend to key s) and ``use_causal_mask`` are ANDed; the output carries the
query's mask. A query row with every key masked gets zero attention weights.

Example:
    >>> mha = npgrad.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.randn(3, 5, 8).astype("float32")
    >>> out, scores = mha(x, x, return_attention_scores=True, use_causal_mask=True)
    >>> out.shape, scores.shape
    ((3, 5, 8), (3, 2, 5, 5))
"""

from __future__ import annotations

import math

import numpy as np

from npgrad import initializers, regularizers
from npgrad import random as _random
from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.einsum_dense import EinsumDense
from npgrad.layers.masks import get_keras_mask, set_keras_mask
from npgrad.layers.layer import Layer
from npgrad.layers.node import KerasTensor, Node, is_symbolic
from npgrad.primitives.attention import scaled_dot_product_attention
from npgrad.primitives.attention_packed import packed_self_attention
from npgrad.primitives.shape import reshape, transpose

__all__ = ["MultiHeadAttention", "GroupQueryAttention", "GroupedQueryAttention"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _projection_equation(free_dims, bound_dims, output_dims):
    """Keras's einsum equation for a projection: ``(equation, bias_axes, output_rank)``."""
    letters = iter(_LETTERS)
    free = "".join(next(letters) for _ in range(free_dims))
    bound = "".join(next(letters) for _ in range(bound_dims))
    out = "".join(next(letters) for _ in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free) + len(out)


def _mask_of(x):
    return get_keras_mask(x)


def _as_bool(mask):
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    return mask if mask.dtype == bool else mask > 0.5


def causal_mask(t, s):
    """The (1, T, S) boolean mask where query i sees keys 0..i (Keras's causal mask)."""
    return np.tril(np.ones((t, s), dtype=bool))[None]


class _HeadsAttention(Layer):
    """What MultiHeadAttention and GroupQueryAttention share: the call protocol with
    (query, value, key) inputs, symbolic calls, Keras's mask combination and the sub-layers."""

    supports_masking = True

    def _common_init(self, dropout, use_bias, kernel_initializer, bias_initializer,
                     kernel_regularizer, bias_regularizer, activity_regularizer,
                     kernel_constraint, bias_constraint, use_gate, sliding_window,
                     flash_attention, seed):
        cls = type(self).__name__
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"{cls}: argument `dropout` must be a float in [0, 1), got "
                             f"{dropout!r}")
        for value, arg in ((kernel_constraint, "kernel_constraint"),
                           (bias_constraint, "bias_constraint"),
                           (activity_regularizer, "activity_regularizer")):
            if value is not None:
                raise ValueError(f"{cls}: argument `{arg}` is not supported by npgrad yet, "
                                 f"got {value!r}")
        if sliding_window is not None and (isinstance(sliding_window, bool) or not isinstance(
                sliding_window, (int, np.integer)) or sliding_window <= 0):
            raise ValueError(f"{cls}: argument `sliding_window` must be None or a positive int, "
                             f"got {sliding_window!r}")
        if flash_attention:
            raise ValueError(f"{cls}: flash attention is not available in npgrad (NumPy); "
                             f"use flash_attention=None")
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        self.sliding_window = None if sliding_window is None else int(sliding_window)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.seed = seed
        self._dropout_rng = _random.make_generator(seed) if seed is not None else None

    def _dense(self, equation, output_shape, bias_axes, name, activation=None):
        return EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
            activation=activation,
            kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
            name=name, dtype=self.dtype)

    def _common_config(self):
        return dict(
            dropout=self.dropout,
            use_bias=self.use_bias,
            use_gate=self.use_gate,
            sliding_window=self.sliding_window,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=None,
            kernel_constraint=None,
            bias_constraint=None,
            seed=self.seed,
        )

    # ------------------------------------------------------------- calling
    def __call__(self, query, value=None, key=None, *, training=None, attention_mask=None,
                 return_attention_scores=False, use_causal_mask=False, query_mask=None,
                 value_mask=None, key_mask=None):
        """Attend from ``query`` to ``value`` (and ``key``, default ``value``).

        Args:
            query: (B, T, dim) query sequence.
            value: (B, S, dim_v) value sequence (required).
            key: optional (B, S, dim_k) keys; ``value`` when None.
            training: apply dropout on the attention weights.
            attention_mask: optional boolean (B, T, S): True where query t may attend to key s.
            return_attention_scores: also return the attention weights (B, heads, T, S).
            use_causal_mask: query t attends only to keys 0..t.
            query_mask, value_mask, key_mask: (B, T) / (B, S) masks; default the Keras
                masks attached to the inputs.

        Returns:
            (B, T, output dim), or ``(output, scores)``.
        """
        name = f"{type(self).__name__} '{self.name}'"
        if value is None:
            raise TypeError(f"{name} must be called as layer(query, value, key=None), got no "
                            f"value")
        if any(is_symbolic(t) for t in (query, value, key, attention_mask)):
            masks = {"query_mask": query_mask, "value_mask": value_mask, "key_mask": key_mask}
            return self._symbolic_call(query, value, key, training, attention_mask,
                                       return_attention_scores, use_causal_mask, masks)
        query_mask = _mask_of(query) if query_mask is None else query_mask
        value_mask = _mask_of(value) if value_mask is None else value_mask
        key_mask = (_mask_of(key) if key is not None else None) if key_mask is None else key_mask
        q = self._prepare_input(query)
        v = self._prepare_input(value)
        k = self._prepare_input(key) if key is not None else None
        if not self.built:
            self.build(q.shape, v.shape, None if k is None else k.shape)
        self._check_shapes(q.shape, v.shape, None if k is None else k.shape)
        keep = self.compute_attention_mask(q.shape, v.shape, query_mask, value_mask, key_mask,
                                           attention_mask, use_causal_mask)
        out, scores = self.call(q, v, k, keep, bool(training), return_attention_scores)
        if query_mask is not None:
            set_keras_mask(out, _as_bool(query_mask))
        return (out, scores) if return_attention_scores else out

    def _symbolic_call(self, query, value, key, training, attention_mask, return_scores,
                       use_causal_mask, masks):
        tensors = {"query": query, "value": value, "key": key, "attention_mask": attention_mask}
        for arg, t in tensors.items():
            if t is not None and not isinstance(t, KerasTensor):
                raise TypeError(f"{self.name}: cannot mix symbolic tensors (npgrad.Input) and "
                                f"data ({arg} is a {type(t).__name__}) in one call")
            if t is not None and t._keras_history is None:
                raise ValueError(f"{self.name}: {t!r} was not produced by npgrad.Input or a layer")
        shapes = (query.shape, value.shape, None if key is None else key.shape)
        if not self.built:
            self.build(*shapes)
        out_shape = self.compute_output_shape(*shapes)
        outputs = KerasTensor(out_shape, dtype=self.dtype)
        if return_scores:
            scores = self.scores_shape(query.shape, value.shape)
            outputs = [outputs, KerasTensor(scores, dtype=self.dtype)]
        kwargs = {}
        for arg, given in (("key", key), ("attention_mask", attention_mask),
                           ("return_attention_scores", return_scores or None),
                           ("use_causal_mask", use_causal_mask or None), ("training", training),
                           *masks.items()):
            if given is not None:
                kwargs[arg] = given
        Node(self, (query, value), kwargs, outputs)
        return outputs

    def compute_attention_mask(self, query_shape, value_shape, query_mask=None, value_mask=None,
                               key_mask=None, attention_mask=None, use_causal_mask=False):
        """The boolean (B, T, S) keep-mask from the inputs' masks, as Keras combines them.

        The query mask (B, T) becomes (B, T, 1), the value and key masks (B, S) become
        (B, 1, S), the causal and sliding-window masks are (1, T, S); all are ANDed with
        ``attention_mask``.

        Returns:
            A boolean array broadcastable to (B, T, S), or None when nothing is masked.
        """
        auto = None
        for mask, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):
            if mask is not None:
                mask = np.expand_dims(_as_bool(mask), axis)
                auto = mask if auto is None else auto & mask
        if use_causal_mask:
            mask = causal_mask(query_shape[1], value_shape[1])
            auto = mask if auto is None else auto & mask
        if self.sliding_window is not None:  # a symmetric band: |t - s| < sliding_window
            t, s = np.arange(query_shape[1])[:, None], np.arange(value_shape[1])[None, :]
            mask = (np.abs(t - s) < self.sliding_window)[None]
            auto = mask if auto is None else auto & mask
        if attention_mask is not None:
            attention_mask = _as_bool(attention_mask)
            auto = attention_mask if auto is None else attention_mask & auto
        return auto

    def _attend(self, q, k, v, keep, training, return_scores, attn_rank=1, lead=0):
        """Attention on projected (B, *lead, *attn, heads, size) Tensors (k, v may have fewer
        heads: each serves ``heads / kv_heads`` consecutive query heads).

        Returns the (B, *lead, *attn, heads, size_v) output and the scores
        (B, *lead, heads, *attn_q, *attn_k) or None.
        """
        qs, ks, vs = q.shape, k.shape, v.shape
        b, lead_dims = qs[0], tuple(qs[1:1 + lead])
        attn_q, attn_k = qs[1 + lead:-2], ks[1 + lead:-2]
        heads, kv_heads = qs[-2], ks[-2]
        t, s = math.prod(attn_q), math.prod(attn_k)

        def heads_first(x, n_heads):  # (B, *lead, *attn, N, D) -> (B, *lead, N, T, D)
            rank = len(x.shape)
            axes = tuple(range(1 + lead)) + (rank - 2,) + tuple(range(1 + lead, rank - 2)) \
                + (rank - 1,)
            x = transpose(x, axes)
            steps = math.prod(x.shape[2 + lead:-1])
            if attn_rank != 1:
                x = reshape(x, (b,) + lead_dims + (n_heads, steps, x.shape[-1]))
            return x

        qh, kh, vh = heads_first(q, heads), heads_first(k, kv_heads), heads_first(v, kv_heads)
        groups = heads // kv_heads
        if groups > 1:  # query heads (kv, g): keys and values broadcast over g
            qh = reshape(qh, (b,) + lead_dims + (kv_heads, groups, t, qs[-1]))
            kh = reshape(kh, (b,) + lead_dims + (kv_heads, 1, s, ks[-1]))
            vh = reshape(vh, (b,) + lead_dims + (kv_heads, 1, s, vs[-1]))
        if keep is not None:
            keep = self._keep_in_heads_layout(keep, b, lead_dims, attn_q, attn_k, groups, heads)
        rate = self.dropout if training else 0.0
        result = scaled_dot_product_attention(
            qh, kh, vh, mask=keep, scale=1.0 / math.sqrt(qs[-1]), dropout_rate=rate,
            training=training, seed=self._dropout_rng, return_weights=return_scores)
        out, scores = result if return_scores else (result, None)
        dv = vs[-1]
        if groups > 1:
            out = reshape(out, (b,) + lead_dims + (heads, t, dv))
            if scores is not None:
                scores = reshape(scores, (b,) + lead_dims + (heads, t, s))
        if attn_rank != 1:
            out = reshape(out, (b,) + lead_dims + (heads,) + tuple(attn_q) + (dv,))
            if scores is not None:
                scores = reshape(scores, (b,) + lead_dims + (heads,) + tuple(attn_q)
                                 + tuple(attn_k))
        rank = len(out.shape)  # (B, *lead, N, *attn, Dv) -> (B, *lead, *attn, N, Dv)
        axes = tuple(range(1 + lead)) + tuple(range(2 + lead, rank - 1)) + (1 + lead, rank - 1)
        return transpose(out, axes), scores

    def _keep_in_heads_layout(self, keep, b, lead_dims, attn_q, attn_k, groups, heads):
        """A Keras-layout keep-mask (B, [*lead], *attn_q, *attn_k), maybe with a heads axis
        before the attention axes, as a mask broadcastable to the op's weights."""
        n_attn = len(attn_q) + len(attn_k)
        full_rank = 1 + len(lead_dims) + 1 + n_attn
        while keep.ndim < full_rank:  # Keras inserts the missing axes before the attention axes
            keep = np.expand_dims(keep, -n_attn - 1)
        target = keep.shape[:-n_attn] + tuple(attn_q) + tuple(attn_k)
        try:
            keep = np.broadcast_to(keep, np.broadcast_shapes(keep.shape, target))
        except ValueError:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': attention_mask of shape {keep.shape} does "
                f"not broadcast to the attention shape (B, T, S) = "
                f"{(b,) + tuple(attn_q) + tuple(attn_k)}") from None
        keep = keep.reshape(keep.shape[:-n_attn] + (math.prod(attn_q), math.prod(attn_k)))
        if groups > 1:  # (..., N, T, S) -> (..., K, G, T, S), or (..., 1, 1, T, S)
            n = keep.shape[-3]
            split = (heads // groups, groups) if n == heads else (1, 1)
            keep = keep.reshape(keep.shape[:-3] + split + keep.shape[-2:])
        return keep

    def _check_shapes(self, query_shape, value_shape, key_shape):
        key_shape = value_shape if key_shape is None else key_shape
        name = f"{type(self).__name__} '{self.name}'"
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"{name}: all dimensions of value and key, except the last one, "
                             f"must be equal; got value shape {tuple(value_shape)} and key "
                             f"shape {tuple(key_shape)}")
        for what, shape, built in (("query", query_shape, self._query_dense),
                                   ("value", value_shape, self._value_dense),
                                   ("key", key_shape, self._key_dense)):
            expected = built.kernel.shape[0]
            if len(shape) < 3 or shape[-1] != expected:
                raise ValueError(f"{name}: expected {what} of shape (batch, steps, ..., "
                                 f"{expected}), got shape {tuple(shape)}")
            if shape[0] is not None and query_shape[0] is not None and shape[0] != query_shape[0]:
                raise ValueError(f"{name}: query and {what} have different batch sizes: "
                                 f"{tuple(query_shape)} and {tuple(shape)}")
        if len(query_shape) != len(value_shape) or len(key_shape) != len(value_shape):
            raise ValueError(f"{name}: query, value and key must have the same rank, got "
                             f"{tuple(query_shape)}, {tuple(value_shape)}, {tuple(key_shape)}")


class MultiHeadAttention(_HeadsAttention):
    """Multi-head attention, "Attention is all you need" (Vaswani et al., 2017), as Keras 3.

    The query, key and value are projected to ``num_heads`` heads of ``key_dim`` (query,
    key) and ``value_dim`` (value) features; each head computes
    ``softmax(q k^T / sqrt(key_dim)) v``; the heads are projected back to ``output_shape``
    (default: the query's last dimension).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention weights (training only).
        use_bias: whether the projections have biases.
        output_shape: the output's last dimension(s) (int or tuple); default the query's.
        attention_axes: the axes attention runs over (default: every axis but batch and
            features). Must be trailing axes before the features, e.g. (2,) for a
            (B, rows, cols, C) input.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: for the
            four projections.
        use_gate: gate each head's output with ``sigmoid(query projection)`` (gated
            attention, Qiu et al., 2025), adding gate/kernel and gate/bias.
        sliding_window: optional int: query t attends only to keys s with
            ``|t - s| < sliding_window`` (with ``use_causal_mask``, Mistral's causal window).
        seed: optional int seeding the dropout.
        activity_regularizer, kernel_constraint, bias_constraint, flash_attention: Keras
            arguments accepted with their defaults only.

    Weights (Keras order): query/kernel (dim, heads, key_dim), query/bias (heads, key_dim),
    key/kernel, key/bias, [gate/kernel (dim, heads, value_dim), gate/bias,]
    value/kernel (dim_v, heads, value_dim), value/bias,
    attention_output/kernel (heads, value_dim, out), attention_output/bias (out,).

    Call: ``layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)``; query (B, T, dim), value (B, S, dim_v);
    output (B, T, out); scores (B, heads, T, S).

    Example:
        >>> x = npgrad.Input((10, 16))
        >>> y = MultiHeadAttention(num_heads=4, key_dim=8)(x, x)   # self-attention
        >>> y.shape
        (None, 10, 16)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, sliding_window=None, flash_attention=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = arguments.positive_int(num_heads, "MultiHeadAttention", "num_heads")
        self.key_dim = arguments.positive_int(key_dim, "MultiHeadAttention", "key_dim")
        self.value_dim = self.key_dim if value_dim is None else arguments.positive_int(
            value_dim, "MultiHeadAttention", "value_dim")
        if output_shape is not None and not isinstance(output_shape, bool):
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            try:
                output_shape = tuple(arguments.positive_int(n, "MultiHeadAttention",
                                                            "output_shape")
                                     for n in output_shape)
            except TypeError:
                raise ValueError(f"MultiHeadAttention: argument `output_shape` must be an int "
                                 f"or a tuple of ints, got {output_shape!r}") from None
        self.output_shape = output_shape or None
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"MultiHeadAttention: argument `attention_axes` must be an int, "
                             f"list or tuple, got {attention_axes!r}")
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self._common_init(dropout, use_bias, kernel_initializer, bias_initializer,
                          kernel_regularizer, bias_regularizer, activity_regularizer,
                          kernel_constraint, bias_constraint, use_gate, sliding_window,
                          flash_attention, seed)

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Create the four projections from the input shapes (batch axis first)."""
        if value_shape is None:
            raise ValueError(f"MultiHeadAttention '{self.name}': build needs the query and "
                             f"value shapes")
        key_shape = value_shape if key_shape is None else key_shape
        rank = len(query_shape)
        if rank < 3:
            raise arguments.incompatible(self, "a query of rank >= 3 (batch, steps, features)",
                                         query_shape)
        self._attn_axes = self._resolve_axes(rank)
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            arguments.known_axis(self, shape, -1, f"{what} feature axis")
        eq, bias_axes, out_rank = _projection_equation(rank - 1, 1, 2)
        heads_k = [None] * (out_rank - 3) + [self.num_heads, self.key_dim]
        heads_v = [None] * (out_rank - 3) + [self.num_heads, self.value_dim]
        self._query_dense = self._dense(eq, heads_k, bias_axes, "query")
        self._query_dense.build(tuple(query_shape))
        eq_k, bias_k, _ = _projection_equation(len(key_shape) - 1, 1, 2)
        self._key_dense = self._dense(eq_k, heads_k, bias_k, "key")
        self._key_dense.build(tuple(key_shape))
        if self.use_gate:  # sigmoid(query projection) gates each head's output (Keras)
            self._gate_dense = self._dense(eq, heads_v, bias_axes, "gate", "sigmoid")
            self._gate_dense.build(tuple(query_shape))
        eq_v, bias_v, _ = _projection_equation(len(value_shape) - 1, 1, 2)
        self._value_dense = self._dense(eq_v, heads_v, bias_v, "value")
        self._value_dense.build(tuple(value_shape))
        out_dims = self.output_shape or (query_shape[-1],)
        eq_o, bias_o, out_rank = _projection_equation(rank - 1, 2, len(out_dims))
        self._output_dense = self._dense(eq_o, [None] * (out_rank - 1 - len(out_dims))
                                         + list(out_dims), bias_o, "attention_output")
        self._output_dense.build(tuple(query_shape[:-1]) + (self.num_heads, self.value_dim))

    def _resolve_axes(self, rank):
        """Attention axes as positive ints; they must be the trailing axes before features."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(sorted(a if a >= 0 else rank - 1 + a for a in self.attention_axes))
        if not axes or axes != tuple(range(axes[0], rank - 1)) or axes[0] < 1:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': attention_axes={self.attention_axes} is not "
                f"supported for inputs of rank {rank}: npgrad supports the trailing axes before "
                f"the feature axis, e.g. {tuple(range(1, rank - 1))} or ({rank - 2},)")
        return axes

    def call(self, query, value, key, keep, training, return_attention_scores):
        """Project, attend, project back (see :meth:`__call__` for the arguments)."""
        key = value if key is None else key
        if not return_attention_scores and self._is_self_attention(query, value, key):
            out, scores = self._packed_self_attention(query, keep, training), None
        else:
            q = self._query_dense(query)  # (B, *steps, heads, key_dim)
            k = self._key_dense(key)
            v = self._value_dense(value)
            lead = self._attn_axes[0] - 1
            out, scores = self._attend(q, k, v, keep, training, return_attention_scores,
                                       attn_rank=len(self._attn_axes), lead=lead)
        if self.use_gate:
            out = out * self._gate_dense(query)
        return self._output_dense(out), scores

    def _is_self_attention(self, query, value, key):
        """True when query, key and value are one (B, T, C) sequence and the projections are
        plain: the case :func:`packed_self_attention` computes with one GEMM."""
        same = query is value or (query.data is value.data and not query.requires_grad
                                  and not value.requires_grad)
        dense = (self._query_dense, self._key_dense, self._value_dense)
        return (same and (key is value or key.data is value.data and not key.requires_grad)
                and len(query.shape) == 3 and self._attn_axes == (1,)
                and all(layer.kernel.dtype == query.dtype for layer in dense))

    def _packed_self_attention(self, x, keep, training):
        """(B, T, heads, value_dim) attention output of self-attention, projections packed."""
        b, t = x.shape[0], x.shape[1]
        if keep is not None:
            keep = self._keep_in_heads_layout(keep, b, (), (t,), (t,), 1, self.num_heads)
        dense = (self._query_dense, self._key_dense, self._value_dense)
        biases = [layer.bias for layer in dense] if self.use_bias else [None] * 3
        return packed_self_attention(
            x, *(layer.kernel for layer in dense), *biases, keep=keep,
            dropout_rate=self.dropout if training else 0.0, training=training,
            seed=self._dropout_rng)

    def scores_shape(self, query_shape, value_shape):
        """Shape of the attention scores: (B, *other axes, heads, *T axes, *S axes)."""
        axes = self._attn_axes
        lead = tuple(query_shape[1:axes[0]])
        return ((query_shape[0],) + lead + (self.num_heads,)
                + tuple(query_shape[a] for a in axes) + tuple(value_shape[a] for a in axes))

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        """The query's shape with its last axis (or axes) replaced by ``output_shape``."""
        query_shape = tuple(query_shape)
        if value_shape is not None:
            key = tuple(value_shape if key_shape is None else key_shape)
            if tuple(value_shape)[1:-1] != key[1:-1]:
                raise ValueError(f"MultiHeadAttention '{self.name}': all dimensions of value "
                                 f"and key, except the last one, must be equal; got "
                                 f"{tuple(value_shape)} and {key}")
        if self.output_shape:
            return query_shape[:-1] + tuple(self.output_shape)
        return query_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            output_shape=None if self.output_shape is None else list(self.output_shape),
            attention_axes=None if self.attention_axes is None else list(self.attention_axes),
            **self._common_config(),
        )
        return config


class GroupQueryAttention(_HeadsAttention):
    """Grouped-query attention (Ainslie et al., 2023), as Keras 3's ``GroupQueryAttention``.

    ``num_query_heads`` query heads share ``num_key_value_heads`` key/value heads: query head
    h uses key/value head ``h // (num_query_heads / num_key_value_heads)``. With equal counts
    it is multi-head attention; with one key/value head it is multi-query attention.

    Args:
        head_dim: size of each head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads; must divide num_query_heads.
        dropout: dropout rate on the attention weights (training only).
        use_bias: whether the projections have biases.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: for the
            four projections.
        use_gate: gate each head's output with ``sigmoid(query projection)``.
        sliding_window: optional int: attend only to keys with ``|t - s| < sliding_window``.
        seed: optional int seeding the dropout.

    Weights (Keras order): query/kernel (dim, num_query_heads, head_dim), query/bias, key/kernel
    (dim_k, num_key_value_heads, head_dim), key/bias, [gate/kernel, gate/bias,] value/kernel,
    value/bias,
    attention_output/kernel (num_query_heads, head_dim, dim), attention_output/bias (dim,).

    Call: as :class:`MultiHeadAttention`; query (B, T, dim), value (B, S, dim);
    output (B, T, dim); scores (B, num_query_heads, T, S).
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls = "GroupQueryAttention"
        self.head_dim = arguments.positive_int(head_dim, cls, "head_dim")
        self.num_query_heads = arguments.positive_int(num_query_heads, cls, "num_query_heads")
        self.num_key_value_heads = arguments.positive_int(num_key_value_heads, cls,
                                                          "num_key_value_heads")
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(f"{cls}: `num_query_heads` ({num_query_heads}) must be divisible "
                             f"by `num_key_value_heads` ({num_key_value_heads})")
        self.num_repeats = self.num_query_heads // self.num_key_value_heads
        self._common_init(dropout, use_bias, kernel_initializer, bias_initializer,
                          kernel_regularizer, bias_regularizer, activity_regularizer,
                          kernel_constraint, bias_constraint, use_gate, sliding_window,
                          flash_attention, seed)

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Create the four projections from the input shapes (batch axis first)."""
        if value_shape is None:
            raise ValueError(f"GroupQueryAttention '{self.name}': build needs the query and "
                             f"value shapes")
        key_shape = value_shape if key_shape is None else key_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            arguments.check_ndim(self, shape, 3, f"({what}: batch, steps, features)")
            arguments.known_axis(self, shape, -1, f"{what} feature axis")
        self.feature_dim = query_shape[-1]
        self._query_dense = self._dense("bqm,muh->bquh", (None, self.num_query_heads,
                                                          self.head_dim), "uh", "query")
        self._query_dense.build(tuple(query_shape))
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, self.num_key_value_heads,
                                                        self.head_dim), "vh", "key")
        self._key_dense.build(tuple(key_shape))
        if self.use_gate:  # sigmoid(query projection) gates each head's output (Keras)
            self._gate_dense = self._dense("bqm,muh->bquh", (None, self.num_query_heads,
                                                             self.head_dim), "uh", "gate",
                                           "sigmoid")
            self._gate_dense.build(tuple(query_shape))
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, self.num_key_value_heads,
                                                          self.head_dim), "vh", "value")
        self._value_dense.build(tuple(value_shape))
        self._output_dense = self._dense("bquh,uhm->bqm", (None, self.feature_dim), "m",
                                         "attention_output")
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))

    def call(self, query, value, key, keep, training, return_attention_scores):
        """Project, attend (keys and values shared by groups of query heads), project back."""
        key = value if key is None else key
        q = self._query_dense(query)  # (B, T, Nq, head_dim)
        k = self._key_dense(key)  # (B, S, Nkv, head_dim)
        v = self._value_dense(value)
        out, scores = self._attend(q, k, v, keep, training, return_attention_scores)
        if self.use_gate:
            out = out * self._gate_dense(query)
        return self._output_dense(out), scores

    def scores_shape(self, query_shape, value_shape):
        """(B, num_query_heads, T, S)."""
        return (query_shape[0], self.num_query_heads, query_shape[1], value_shape[1])

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        """The query's shape (the output is projected back to the query's features)."""
        if value_shape is not None and query_shape[-1] != value_shape[-1]:
            raise ValueError(
                f"GroupQueryAttention '{self.name}': the last dimension of query_shape and "
                f"value_shape must be equal, got {tuple(query_shape)} and {tuple(value_shape)}")
        return tuple(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            head_dim=self.head_dim,
            num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads,
            **self._common_config(),
        )
        return config


class GroupedQueryAttention(GroupQueryAttention):
    """Keras's class name for :class:`GroupQueryAttention` (what Keras writes in saved configs)."""
