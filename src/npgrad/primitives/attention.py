"""Attention maths: fused scaled dot-product attention and a general ``einsum``.

:class:`ScaledDotProductAttention` is one op for ``softmax(q k^T * scale + bias) @ v`` on
arrays laid out ``(..., T, D)`` (batch and heads leading, e.g. ``(B, H, T, D)``): two batched
GEMMs (``np.matmul``), a numerically stable softmax computed in place, optional masks
(boolean keep-masks, a causal mask) and dropout on the weights, and a hand-written backward
that reuses the saved weights. :class:`AttentionWeights` is its first half (the weights
alone), used when a caller wants the attention scores as a differentiable output.
:class:`Einsum` contracts operands with ``np.einsum``; its backward is again an einsum with
the operand's subscripts moved to the output.

Example:
    >>> import numpy as np, npgrad
    >>> from npgrad.primitives.attention import scaled_dot_product_attention
    >>> q = npgrad.Tensor(np.random.randn(2, 4, 5, 8), requires_grad=True)   # (B, H, T, D)
    >>> out = scaled_dot_product_attention(q, q, q, is_causal=True)
    >>> out.shape
    (2, 4, 5, 8)
"""

from __future__ import annotations

import math
import string

import numpy as np

from npgrad import random as _random
from npgrad.autograd.function import Function, composed_backward_graph
from npgrad.autograd.tensor import Tensor
from npgrad.primitives import activation, elementwise, last_axis
from npgrad.primitives import parallel as _parallel
from npgrad.primitives.linalg import dense, matmul
from npgrad.primitives.nn import Dropout
from npgrad.primitives.shape import reshape, transpose


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _large_negative(dtype):
    """A finite stand-in for -inf: masked logits minus the row maximum cannot overflow."""
    return dtype.type(-0.7 * np.finfo(dtype).max)


def _swap(x):
    """The last two axes exchanged (a view): k -> k^T for batched GEMMs."""
    return np.swapaxes(x, -1, -2)


# ------------------------------------------------------------------ the shared maths
def _weights_forward(q_scaled, k, bias, keep, out=None):
    """softmax(q_scaled @ k^T + bias) over the last axis, zero where ``keep`` is False
    (into ``out`` when given).

    Shapes: q_scaled (..., T, D), k (..., S, D), bias and keep broadcast to (..., T, S).
    A query row whose keys are all masked gets all-zero weights (Keras's Softmax layer).
    """
    def fill(scores=None):
        scores = np.matmul(q_scaled, _swap(k), out=scores)  # (..., T, S)
        if bias is not None:
            scores += bias
        if keep is not None:
            np.copyto(scores, _large_negative(scores.dtype), where=np.logical_not(keep))
        return scores

    scores = fill(out)
    # the softmax in place (its unshifted attempt may need the scores again: ``fill``)
    last_axis.softmax(scores, out=scores, refill=lambda: fill(scores))
    if keep is not None:
        scores *= keep  # rows with every key masked were uniform: make them zero
    return scores


def _batch_rows(q, k, v, *others):
    """(n, rows) for sharing an attention op between threads (``parallel.py``) over its
    leading axis: ``n`` its size, ``rows(a, lo, hi)`` an operand's part of samples lo..hi
    (the whole operand where it broadcasts along that axis). ``(None, rows)`` (one block,
    everything whole) where q, k and v do not share their leading axes or a mask or bias
    has a leading axis of another size."""
    nd = q.ndim
    n = q.shape[0] if nd >= 3 else None
    if n is not None and (k.shape[:-2] != q.shape[:-2] or v.shape[:-2] != q.shape[:-2]
                          or any(np.ndim(a) == nd and np.shape(a)[0] not in (1, n)
                                 for a in others if a is not None)):
        n = None

    def rows(a, lo, hi):
        if n is None or a is None or np.ndim(a) != nd or np.shape(a)[0] != n:
            return a
        return a[lo:hi]

    return n, rows


def _share_batch(block, n, row_bytes):
    """``block(lo, hi)`` over the leading axis, shared between threads; once, whole, when
    ``n`` is None."""
    if n is None:
        block(None, None)
    else:
        _parallel.for_blocks(block, n, row_bytes, blas=True,
                             min_bytes=_parallel.COMPUTE_BLOCK_BYTES)


def _empty(shape, *operands):
    return np.empty(shape, dtype=np.result_type(*operands))


def _softmax_backward(weights, dweights):
    """d(scores) from d(weights) through the softmax: w * (dw - sum(dw * w))."""
    dscores = dweights * weights
    total = last_axis.total(dscores)
    np.subtract(dweights, total, out=dscores)  # (dw - sum) * w: one (..., T, S) array in all
    dscores *= weights
    return dscores


def _weights_recorded(fn, q, k, *bias):
    """The attention weights written with recorded ops (the fused ops' composition)."""
    scores = matmul(q * fn.scale, transpose(k, _swap_axes(k.ndim)))
    if bias:
        scores = scores + bias[0]
    if fn.keep is not None:
        scores = elementwise.where(fn.keep, scores, _large_negative(scores.dtype))
    weights = activation.softmax(scores)
    return weights if fn.keep is None else weights * fn.keep


def _swap_axes(ndim):
    axes = list(range(ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return axes


def _composed_inputs(fn, *values):
    """q (q_scaled / scale), the other saved operands, and the bias (kept for this)."""
    q_scaled = values[0]
    return [q_scaled / q_scaled.dtype.type(fn.scale), *values[1:], *fn.bias]


def _scores_backward(fn, dscores, q_scaled, k, scale, has_bias, dq=None, dk=None):
    """dq, dk (and dbias) from d(scores), where scores = (q * scale) @ k^T + bias; dq and
    dk into the arrays given (a part of the batch's), else new ones."""
    needs = fn.needs_input_grad
    # scores = qs k^T: dqs = dscores k, dk = dscores^T qs; q = qs / scale
    if needs[0]:
        dq = np.multiply(np.matmul(dscores, k), q_scaled.dtype.type(scale), out=dq)
    if needs[1]:
        dk = np.matmul(_swap(dscores), q_scaled, out=dk)
    dbias = dscores if has_bias and needs[-1] else None
    return dq, dk, dbias


class AttentionWeights(Function):
    """softmax(q @ k^T * scale + bias) with masks: the attention weights alone, (..., T, S).

    Inputs: q (..., T, D), k (..., S, D), optionally bias (broadcast to (..., T, S)).
    Constants: ``scale``, ``keep`` (a boolean array broadcast to (..., T, S), True where a
    query may attend to a key, or None). Fully masked rows give zero weights.
    """

    def forward(self, q, k, *bias, scale=1.0, keep=None):
        q_scaled = q * q.dtype.type(scale)
        bias_value = bias[0] if bias else None
        n, rows = _batch_rows(q_scaled, k, k, bias_value, keep)
        weights = _empty(np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
                         + (q.shape[-2], k.shape[-2]), q_scaled, k)

        def block(lo, hi):
            _weights_forward(rows(q_scaled, lo, hi), rows(k, lo, hi), rows(bias_value, lo, hi),
                             rows(keep, lo, hi), out=weights[lo:hi])

        _share_batch(block, n, weights[0].nbytes)
        self.save_for_backward(q_scaled, k, weights)
        self.scale, self.has_bias, self.keep, self.bias = scale, bool(bias), keep, bias
        return weights

    def backward(self, grad):
        q_scaled, k, weights = self.saved
        dscores = _softmax_backward(weights, grad)
        dq, dk, dbias = _scores_backward(self, dscores, q_scaled, k, self.scale, self.has_bias)
        return (dq, dk, dbias) if self.has_bias else (dq, dk)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        return _composed_inputs(self, *self.saved[:2])

    def composed(self, q, k, *bias):
        return _weights_recorded(self, q, k, *bias)


class ScaledDotProductAttention(Function):
    """softmax(q @ k^T * scale + bias, masked) [* dropout] @ v, fused, on (..., T, D) arrays.

    Inputs: q (..., T, D), k (..., S, D), v (..., S, Dv), optionally bias (broadcast to
    (..., T, S)); leading axes broadcast (np.matmul rules), so k and v may be shared across
    query heads (grouped-query attention). Constants: ``scale``, ``keep`` (boolean, broadcast
    to (..., T, S), or None), ``dropout_mask`` (weights multiplier of shape (..., T, S): 0 for a
    dropped weight, 1 / (1 - rate) for a kept one; or None). Output: (..., T, Dv).
    """

    def forward(self, q, k, v, *bias, scale=1.0, keep=None, dropout_mask=None):
        q_scaled = q * q.dtype.type(scale)  # scaling q costs T*D, scaling scores T*S
        bias_value, mask = (bias[0] if bias else None), dropout_mask
        n, rows = _batch_rows(q_scaled, k, v, bias_value, keep, mask)
        lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        weights = _empty(lead + (q.shape[-2], k.shape[-2]), q_scaled, k)  # (..., T, S)
        used_dtype = weights.dtype if mask is None else np.result_type(weights, mask)
        out = _empty(np.broadcast_shapes(lead, v.shape[:-2]) + (q.shape[-2], v.shape[-1]),
                     used_dtype, v)

        def block(lo, hi):  # each part of the batch: its weights, then its output
            part = _weights_forward(rows(q_scaled, lo, hi), rows(k, lo, hi),
                                    rows(bias_value, lo, hi), rows(keep, lo, hi),
                                    out=weights[lo:hi])
            used = part * rows(mask, lo, hi) if mask is not None else part
            np.matmul(used, rows(v, lo, hi), out=out[lo:hi])

        _share_batch(block, n, weights[0].nbytes)
        self.save_for_backward(q_scaled, k, v, weights)
        self.scale, self.has_bias, self.dropout_mask = scale, bool(bias), dropout_mask
        self.keep, self.bias = keep, bias  # for the composition (second-order gradients)
        return out  # (..., T, Dv)

    def backward(self, grad, out=None):
        """The gradients of q, k, v (and the bias); ``out``: optional arrays (or views) for
        dq, dk and dv, written in place (the packed op's one (B, T, 3, H, D) block)."""
        q_scaled, k, v, weights = self.saved
        mask = self.dropout_mask
        needs = self.needs_input_grad
        through_scores = needs[0] or needs[1] or (self.has_bias and needs[3])
        n, rows = _batch_rows(q_scaled, k, v, mask, grad)
        used_dtype = weights.dtype if mask is None else np.result_type(weights, mask)
        given = (None, None, None) if out is None else out
        # out = used @ v: dv = used^T grad (..., S, Dv); d(used) = grad v^T (..., T, S)
        dv = None if not needs[2] else given[2] if given[2] is not None else \
            _empty(weights.shape[:-2] + v.shape[-2:], used_dtype, grad)
        ds_dtype = np.result_type(grad, v, weights)  # the mask multiplies in place
        dscores = _empty(weights.shape, ds_dtype) if self.has_bias and needs[3] else None
        dq = None if not needs[0] else given[0] if given[0] is not None else \
            _empty(weights.shape[:-1] + k.shape[-1:], ds_dtype, k)
        dk = None if not needs[1] else given[1] if given[1] is not None else \
            _empty(weights.shape[:-2] + (k.shape[-2], q_scaled.shape[-1]), ds_dtype, q_scaled)

        def block(lo, hi):
            part, g, m = weights[lo:hi], rows(grad, lo, hi), rows(mask, lo, hi)
            if dv is not None:
                np.matmul(_swap(part * m if m is not None else part), g, out=dv[lo:hi])
            if not through_scores:
                return
            dweights = np.matmul(g, _swap(rows(v, lo, hi)))
            if m is not None:
                dweights *= m
            ds = _softmax_backward(part, dweights)
            if dscores is not None:
                dscores[lo:hi] = ds
            _scores_backward(self, ds, rows(q_scaled, lo, hi), rows(k, lo, hi), self.scale,
                             False, dq=None if dq is None else dq[lo:hi],
                             dk=None if dk is None else dk[lo:hi])

        _share_batch(block, n, weights[0].nbytes)
        return (dq, dk, dv, dscores) if self.has_bias else (dq, dk, dv)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        return _composed_inputs(self, *self.saved[:3])

    def composed(self, q, k, v, *bias):
        weights = _weights_recorded(self, q, k, *bias)
        if self.dropout_mask is not None:
            weights = weights * self.dropout_mask
        return matmul(weights, v)


def _keep_mask(mask, is_causal, t, s):
    """One boolean keep-mask from a user mask (bool, or numbers where nonzero keeps) and causality."""
    keep = None
    if mask is not None:
        keep = np.asarray(_raw(mask))
        if keep.dtype != bool:
            keep = keep != 0
    if is_causal:
        # query i attends to keys 0..i (top-left aligned, as Keras and PyTorch)
        causal = np.tril(np.ones((t, s), dtype=bool))
        keep = causal if keep is None else keep & causal
    return keep


def attention_dropout_mask(shape, rate, dtype, seed=None):
    """The dropout multiplier of attention weights: 0 where dropped, 1 / (1 - rate) elsewhere.

    Args:
        shape: the weights' shape, e.g. (B, H, T, S).
        rate: the fraction dropped, in (0, 1).
        dtype: the weights' dtype (float32 when not a floating dtype).
        seed: None (``npgrad.random``'s generator), an int or a ``np.random.Generator``.

    Returns:
        An array of ``shape`` and the (floating) dtype.
    """
    dtype = np.dtype(dtype)
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float32)
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(seed) if seed is not None else _random.generator()
    kept = rng.random(shape, dtype=dtype) >= rate
    return kept * dtype.type(1.0 / (1.0 - rate))


def scaled_dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                                 is_causal=False, dropout_rate=0.0, training=False, seed=None,
                                 return_weights=False):
    """Scaled dot-product attention on head-major arrays (..., T, D), one fused op.

    ``out = dropout(softmax(query @ key^T * scale + bias, masked)) @ value``.

    Args:
        query: (..., T, D), e.g. (B, H, T, D).
        key: (..., S, D), leading axes broadcastable with query's.
        value: (..., S, Dv).
        bias: optional additive bias, broadcastable to (..., T, S) (differentiable).
        mask: optional keep-mask broadcastable to (..., T, S): True (or nonzero) where a query
            may attend to a key. A query whose keys are all masked gets zero weights.
        scale: multiplier of the logits (default ``1 / sqrt(D)``).
        is_causal: also mask keys after the query (query i sees keys 0..i).
        dropout_rate: fraction of attention weights dropped when ``training``.
        training: apply dropout.
        seed: optional int (or a ``np.random.Generator``) for the dropout mask, else
            ``npgrad.random``'s generator.
        return_weights: also return the attention weights (before dropout) as a
            differentiable Tensor; the computation then runs as two ops.

    Returns:
        Tensor (..., T, Dv), or ``(output, weights)`` with weights (..., T, S).
    """
    name = "scaled_dot_product_attention"
    q_shape, k_shape, v_shape = (np.shape(_raw(a)) for a in (query, key, value))
    if len(q_shape) < 2 or len(k_shape) < 2 or len(v_shape) < 2:
        raise ValueError(f"{name}: query, key and value need rank >= 2, got shapes "
                         f"{q_shape}, {k_shape}, {v_shape}")
    if q_shape[-1] != k_shape[-1] or k_shape[-2] != v_shape[-2]:
        raise ValueError(
            f"{name}: query (..., T, D), key (..., S, D) and value (..., S, Dv) do not match: "
            f"got {q_shape}, {k_shape}, {v_shape}"
        )
    if isinstance(dropout_rate, bool) or not 0 <= dropout_rate < 1:
        raise ValueError(f"{name}: dropout_rate must be a float in [0, 1), got {dropout_rate!r}")
    t, s = q_shape[-2], k_shape[-2]
    scale = 1.0 / np.sqrt(q_shape[-1]) if scale is None else float(scale)
    keep = _keep_mask(mask, is_causal, t, s)
    weights_shape = np.broadcast_shapes(q_shape[:-2], k_shape[:-2]) + (t, s)
    for what, extra in (("mask", keep), ("bias", bias)):
        if extra is not None:
            try:
                np.broadcast_shapes(np.shape(_raw(extra)), weights_shape)
            except ValueError:
                raise ValueError(f"{name}: {what} of shape {np.shape(_raw(extra))} does not "
                                 f"broadcast to the weights' shape {weights_shape}") from None
    dropout_mask = None
    if training and dropout_rate > 0:
        dtype = np.result_type(*(np.asarray(_raw(a)).dtype for a in (query, key, value)))
        dropout_mask = attention_dropout_mask(weights_shape, dropout_rate, dtype, seed)
    extras = () if bias is None else (bias,)
    if not return_weights:
        return ScaledDotProductAttention.apply(query, key, value, *extras, scale=scale,
                                               keep=keep, dropout_mask=dropout_mask)
    weights = AttentionWeights.apply(query, key, *extras, scale=scale, keep=keep)
    used = weights if dropout_mask is None else Dropout.apply(weights, mask=dropout_mask)
    return matmul(used, value), weights


# ------------------------------------------------------------------ einsum
def _parse_einsum(subscripts, shapes):
    """Split ``"ab,bc->ac"`` into input and output subscripts (implicit output made explicit).

    Ellipses are replaced by fresh capital letters, one per broadcast axis, so the backward
    can name every axis.
    """
    name = "einsum"
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"{name}: {subscripts!r} names {len(terms)} operands, got {len(shapes)}")
    n_ellipsis = max((len(shape) - (len(term) - 3) for term, shape in zip(terms, shapes)
                      if "..." in term), default=0)
    fresh = string.ascii_uppercase[:n_ellipsis]
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            count = len(shape) - (len(term) - 3)
            term = term.replace("...", fresh[n_ellipsis - count:] if count else "")
        if not term.isalpha() or len(term) != len(shape):
            raise ValueError(f"{name}: subscripts {term!r} do not fit an operand of shape {shape}")
        if len(set(term)) != len(term):
            raise ValueError(f"{name}: repeated subscripts within one operand ({term!r}, a "
                             f"diagonal) are not supported")
        expanded.append(term)
    if arrow:
        output = output.replace("...", fresh)
    else:  # implicit mode: letters that appear once, in alphabetical order, after the ellipsis
        letters = "".join(expanded)
        output = fresh + "".join(sorted(c for c in set(letters) if c.islower()
                                        and letters.count(c) == 1))
    if len(set(output)) != len(output) or any(c not in "".join(expanded) for c in output):
        raise ValueError(f"{name}: bad output subscripts in {subscripts!r}")
    return expanded, output


class Einsum(Function):
    """``np.einsum`` over the operands; the backward of operand i is an einsum of the
    incoming gradient with the other operands, producing operand i's subscripts.

    Constants: ``inputs`` (one subscript string per operand, ellipses already expanded) and
    ``output``. Operands' axes of size 1 broadcast against the others' (NumPy rules).
    """

    def forward(self, *operands, inputs=(), output=""):
        self.save_for_backward(*operands)
        self.terms, self.output = inputs, output
        # optimize: pairwise contractions through tensordot (BLAS) where NumPy can
        return np.einsum(",".join(inputs) + "->" + output, *operands, optimize=True)

    def backward(self, grad):
        return self._grads(grad, self.saved, False)

    def backward_graph(self, grad):
        return self._grads(grad, [self.graph_input(i, a) for i, a in enumerate(self.saved)], True)

    def _grads(self, grad, operands, recorded):
        grads = []
        for i, term in enumerate(self.terms):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(t, a) for j, (t, a) in enumerate(zip(self.terms, operands)) if j != i]
            available = set(self.output).union(*(set(t) for t, _ in others))
            # letters only operand i has were summed away: the gradient is constant along them
            kept = "".join(c for c in term if c in available)
            terms = [self.output] + [t for t, _ in others]
            if recorded:
                g = Einsum.apply(grad, *[a for _, a in others], inputs=tuple(terms), output=kept)
            else:
                g = np.einsum(",".join(terms) + "->" + kept, grad, *[a for _, a in others],
                              optimize=True)
            if kept != term:  # put the summed-away axes back, broadcast (a copy: grads add up)
                sizes = iter(g.shape)
                full = [next(sizes) if c in available else n
                        for c, n in zip(term, operands[i].shape)]
                g = g.reshape([n if c in available else 1 for c, n in zip(term, full)])
                g = g + np.zeros(full, g.dtype) if recorded else \
                    np.ascontiguousarray(np.broadcast_to(g, full))
            grads.append(g)
        return tuple(grads)


def _dense_like(terms, output):
    """The split when ``x, w -> out`` is a dense layer: x's last axes contract with w's
    first axes and out is x's free axes then w's free axes (reshape + one GEMM); else None."""
    if len(terms) != 2:
        return None
    x, w = terms
    for n in range(1, min(len(x), len(w)) + 1):
        if x[-n:] == w[:n] and output == x[:-n] + w[n:] and not set(x[:-n]) & set(w[n:]):
            return n
    return None


def einsum(subscripts, *operands):
    """Einstein summation, NumPy's ``einsum`` notation (``"btd,dhk->bthk"``), differentiable.

    Two-operand contractions shaped like a dense layer (the input's last axes against the
    kernel's first ones) run as one GEMM; the rest run through ``np.einsum``.

    Args:
        subscripts: e.g. ``"ij,jk->ik"``; ``...`` broadcasts, implicit output is allowed.
            Repeated subscripts within one operand (diagonals) are not supported.
        *operands: Tensors or arrays.

    Returns:
        Tensor with the output subscripts' shape.
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    shapes = [np.shape(_raw(a)) for a in operands]
    terms, output = _parse_einsum(subscripts, shapes)
    sizes = {}
    for term, shape in zip(terms, shapes):
        for letter, n in zip(term, shape):
            if sizes.setdefault(letter, n) != n and 1 not in (n, sizes[letter]):
                raise ValueError(f"einsum: subscript {letter!r} has sizes {sizes[letter]} and "
                                 f"{n} in {subscripts!r} (operand shapes {shapes})")
    n = _dense_like(terms, output)
    if n is not None and shapes[0][-n:] == shapes[1][:n]:
        x, w = operands
        lead, free = shapes[0][:-n], shapes[1][n:]
        contracted = int(np.prod(shapes[0][len(lead):]))
        out = matmul(reshape(x, (int(np.prod(lead)), contracted)),
                     reshape(w, (contracted, int(np.prod(free)))))
        return reshape(out, tuple(lead) + tuple(free))
    return Einsum.apply(*operands, inputs=tuple(terms), output=output)


def _group_heads(extra, heads, groups, name, what):
    """Reshape a (B, N, T, S)-broadcastable mask or bias to (B, K, G, T, S) for K key heads."""
    shape = np.shape(_raw(extra))
    if len(shape) < 3 or shape[-3] == 1:  # no head axis to split: broadcasts as is
        if len(shape) >= 3:
            shape = shape[:-3] + (1, 1) + shape[-2:]
            return reshape(extra, shape) if isinstance(extra, Tensor) else np.reshape(extra, shape)
        return extra
    if shape[-3] != heads:
        raise ValueError(f"{name}: {what} of shape {shape} does not broadcast to {heads} heads")
    shape = shape[:-3] + (heads // groups, groups) + shape[-2:]
    return reshape(extra, shape) if isinstance(extra, Tensor) else np.reshape(extra, shape)


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Scaled dot-product attention with Keras 3's ``keras.ops.nn.dot_product_attention`` layout.

    ``softmax(query @ key^T * scale + bias, masked) @ value`` for every batch and head.

    Args:
        query: (B, T, N, H): batch, query steps, heads, head size.
        key: (B, S, K, H); K may divide N (grouped-query attention: each key head serves
            N / K consecutive query heads).
        value: (B, S, K, Hv).
        bias: optional additive logits bias broadcastable to (B, N, T, S).
        mask: optional boolean mask broadcastable to (B, N, T, S), True where a query may
            attend to a key; a query whose keys are all masked gets zero weights.
        scale: logits multiplier (default ``1 / sqrt(H)``).
        is_causal: query t attends only to keys 0..t.

    Returns:
        Tensor (B, T, N, Hv).

    Example:
        >>> x = np.random.randn(2, 5, 4, 8).astype("float32")
        >>> F.dot_product_attention(x, x, x, is_causal=True).shape
        (2, 5, 4, 8)
    """
    name = "dot_product_attention"
    shapes = [np.shape(_raw(a)) for a in (query, key, value)]
    if any(len(s) != 4 for s in shapes):
        raise ValueError(f"{name}: query, key and value must be 4-D (B, T, heads, head_size), "
                         f"got shapes {shapes[0]}, {shapes[1]}, {shapes[2]}")
    (b, t, heads, d), (_, s, kv_heads, dk), (_, sv, kv_heads_v, _) = shapes
    if dk != d or sv != s or kv_heads_v != kv_heads or heads % kv_heads:
        raise ValueError(
            f"{name}: expected query (B, T, N, H), key (B, S, K, H) and value (B, S, K, Hv) "
            f"with N divisible by K, got {shapes[0]}, {shapes[1]}, {shapes[2]}"
        )
    q = transpose(query, (0, 2, 1, 3))  # (B, N, T, H)
    k = transpose(key, (0, 2, 1, 3))  # (B, K, S, H)
    v = transpose(value, (0, 2, 1, 3))
    groups = heads // kv_heads
    if groups > 1:  # (B, K, G, T, H) against (B, K, 1, S, H): k and v broadcast over groups
        q = reshape(q, (b, kv_heads, groups, t, d))
        k = reshape(k, (b, kv_heads, 1, s, d))
        v = reshape(v, (b, kv_heads, 1, s, shapes[2][3]))
        bias = None if bias is None else _group_heads(bias, heads, groups, name, "bias")
        mask = None if mask is None else _group_heads(mask, heads, groups, name, "mask")
    out = scaled_dot_product_attention(q, k, v, bias=bias, mask=mask, scale=scale,
                                       is_causal=is_causal)
    if groups > 1:
        out = reshape(out, (b, heads, t, shapes[2][3]))
    return transpose(out, (0, 2, 1, 3))


def einsum_dense(equation, x, kernel, bias=None):
    """``einsum(equation, x, kernel) + bias``: the maths of an EinsumDense layer.

    When the contraction is shaped like a dense layer (x's last axes against the kernel's
    first ones) and the bias spans exactly the kernel's free axes (``"abc,cde->abde"`` with a
    (d, e) bias), it runs as one fused dense op (GEMM + bias, one backward); otherwise as
    :func:`einsum` plus a broadcast add.

    Args:
        equation: ``"[X],[Y]->[Z]"``, as :func:`einsum`.
        x: the input.
        kernel: the kernel.
        bias: None or an array broadcastable to the output.

    Returns:
        Tensor with the output subscripts' shape.
    """
    shapes = [np.shape(_raw(x)), np.shape(_raw(kernel))]
    terms, output = _parse_einsum(equation, shapes)
    n = _dense_like(terms, output)
    if n is not None and shapes[0][-n:] == shapes[1][:n] and (
            bias is None or np.shape(_raw(bias)) == shapes[1][n:]):
        lead, free = shapes[0][:-n], shapes[1][n:]
        contracted, units = math.prod(shapes[1][:n]), math.prod(free)
        out = dense(reshape(x, (math.prod(lead), contracted)), reshape(kernel, (contracted, units)),
                    None if bias is None else reshape(bias, (units,)))
        return reshape(out, tuple(lead) + tuple(free))
    out = einsum(equation, x, kernel)
    return out if bias is None else out + bias
