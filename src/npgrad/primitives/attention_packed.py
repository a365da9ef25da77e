"""Self-attention with the query, key and value projections packed into one GEMM.

When a multi-head attention layer attends a sequence to itself (``mha(x, x)``), its three
projections read the same input. :class:`PackedSelfAttention` multiplies ``x`` once by the
three kernels side by side ((C, H*Dk + H*Dk + H*Dv), one wide GEMM instead of three narrow
ones), takes the heads as strided views of that product (no transposed copies), runs the
fused scaled dot-product attention on them, and hands back the heads in (B, T, H, Dv) layout
for the output projection. Its backward writes the three head gradients side by side and
finishes with one GEMM for the input's gradient and one for the three kernels' (instead of
three each plus two sums of the input gradients). The maths is
:class:`~npgrad.primitives.attention.ScaledDotProductAttention`'s; the tests pin this op to
the unpacked composition in float64.

Example:
    >>> x = np.random.randn(2, 5, 8)
    >>> w = [np.random.randn(8, 2, 4) for _ in range(3)]
    >>> packed_self_attention(x, *w).shape
    (2, 5, 2, 4)
"""

from __future__ import annotations

import math

import numpy as np

from npgrad.autograd.function import Function, composed_backward_graph
from npgrad.autograd.tensor import Tensor
from npgrad.primitives.attention import ScaledDotProductAttention, attention_dropout_mask
from npgrad.primitives.linalg import matmul, sum_rows
from npgrad.primitives.shape import reshape, transpose


def _heads(block, b, t, heads):
    """(B*T, H*D) columns -> (B, H, T, D): a strided view when the block is one."""
    return block.reshape(b, t, heads, -1).transpose(0, 2, 1, 3)


class PackedSelfAttention(Function):
    """softmax((x Wq + bq)(x Wk + bk)^T * scale, masked) [* dropout] (x Wv + bv), per head.

    Positional inputs: x (B, T, C), wq (C, H, Dk), wk (C, H, Dk), wv (C, H, Dv), then, when
    ``has_bias``, bq (H, Dk), bk (H, Dk), bv (H, Dv). Constants: ``scale``, ``keep`` (a
    boolean keep-mask broadcast to (B, H, T, T), or None), ``dropout_mask`` (a weights
    multiplier of shape (B, H, T, T), or None), ``has_bias``. Output: (B, T, H, Dv).
    """

    def forward(self, x, wq, wk, wv, *biases, scale=1.0, keep=None, dropout_mask=None,
                has_bias=True):
        b, t, c = x.shape
        heads, dk, dv = wq.shape[1], wq.shape[2], wv.shape[2]
        self.split = np.cumsum([heads * dk, heads * dk])  # column offsets of k and v
        kernels = np.concatenate([w.reshape(c, -1) for w in (wq, wk, wv)], axis=1)
        x2 = x.reshape(b * t, c)
        qkv = x2 @ kernels
        if has_bias:
            qkv += np.concatenate([bias.reshape(-1) for bias in biases])
        q, k, v = (_heads(block, b, t, heads) for block in np.split(qkv, self.split, axis=1))
        self.attention = ScaledDotProductAttention()
        self.attention.needs_input_grad = (True, True, True)
        out = self.attention.forward(q, k, v, scale=scale, keep=keep, dropout_mask=dropout_mask)
        self.save_for_backward(x2, kernels)
        self.shapes = (b, t, c, heads, dk, dv)
        self.has_bias = has_bias
        # for the composition (second-order gradients)
        self.biases, self.settings = biases, {"scale": scale, "keep": keep,
                                              "dropout_mask": dropout_mask}
        return out.transpose(0, 2, 1, 3)  # (B, T, H, Dv), a view the output projection reads

    def backward(self, grad):
        x2, kernels = self.saved
        b, t, c, heads, dk, dv = self.shapes
        # the three head gradients go straight into their columns of one (B, T, 3HD)
        # array, the attention's products writing (B, H, T, D) views of it (a copy of each
        # took 0.73 ms for a (64, 64) batch of 4 heads of 32)
        dqkv = np.empty((b, t, kernels.shape[1]), dtype=np.result_type(grad, x2, kernels))
        views = tuple(block.reshape(b, t, heads, -1).transpose(0, 2, 1, 3)
                      for block in np.split(dqkv, self.split, axis=2))
        self.attention.backward(grad.transpose(0, 2, 1, 3), out=views)
        self.attention.saved = ()
        dqkv = dqkv.reshape(b * t, -1)
        needs = self.needs_input_grad
        dx = (dqkv @ kernels.T).reshape(b, t, c) if needs[0] else None
        dw = x2.T @ dqkv if any(needs[1:4]) else None
        sizes = ((heads, dk), (heads, dk), (heads, dv))
        dws = [None if dw is None or not need else block.reshape((c,) + size)
               for block, size, need in zip(np.split(dw, self.split, axis=1) if dw is not None
                                             else (None,) * 3, sizes, needs[1:4])]
        if not self.has_bias:
            return (dx, *dws)
        db = sum_rows(dqkv) if any(needs[4:]) else None
        dbs = [None if db is None or not need else block.reshape(size)
               for block, size, need in zip(np.split(db, self.split) if db is not None
                                             else (None,) * 3, sizes, needs[4:])]
        return (dx, *dws, *dbs)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        x2, kernels = self.saved
        b, t, c, heads, dk, dv = self.shapes
        sizes = ((heads, dk), (heads, dk), (heads, dv))
        kernel_values = [w.reshape((c,) + size)
                         for w, size in zip(np.split(kernels, self.split, axis=1), sizes)]
        return [x2.reshape(b, t, c), *kernel_values, *self.biases]

    def composed(self, x, wq, wk, wv, *biases):
        b, t, c, heads, _, _ = self.shapes
        x2 = reshape(x, (b * t, c))
        heads_of = []
        for i, w in enumerate((wq, wk, wv)):
            block = matmul(x2, reshape(w, (c, -1)))
            if biases:
                block = block + reshape(biases[i], (-1,))
            heads_of.append(transpose(reshape(block, (b, t, heads, -1)), (0, 2, 1, 3)))
        out = ScaledDotProductAttention.apply(*heads_of, **self.settings)
        return transpose(out, (0, 2, 1, 3))


def packed_self_attention(x, wq, wk, wv, bq=None, bk=None, bv=None, keep=None, scale=None,
                          dropout_rate=0.0, training=False, seed=None):
    """Multi-head self-attention of ``x`` with packed projections (see the module docstring).

    Args:
        x: (B, T, C) sequence.
        wq, wk: (C, H, Dk) query and key kernels; wv: (C, H, Dv) value kernel.
        bq, bk, bv: the biases (H, Dk), (H, Dk), (H, Dv): all three or none.
        keep: optional boolean keep-mask broadcastable to (B, H, T, T).
        scale: logits multiplier (default ``1 / sqrt(Dk)``).
        dropout_rate: fraction of attention weights dropped when ``training``.
        training: apply dropout.
        seed: None, an int or a ``np.random.Generator`` for the dropout mask.

    Returns:
        Tensor (B, T, H, Dv): each head's attention output, before the output projection.
    """
    name = "packed_self_attention"
    shapes = [np.shape(a.data if isinstance(a, Tensor) else a) for a in (x, wq, wk, wv)]
    (xs, qs, ks, vs) = shapes
    if len(xs) != 3 or any(len(s) != 3 for s in (qs, ks, vs)) or not (
            xs[2] == qs[0] == ks[0] == vs[0] and qs == ks and qs[1] == vs[1]):
        raise ValueError(f"{name}: expected x (B, T, C), wq and wk (C, H, Dk), wv (C, H, Dv), "
                         f"got {xs}, {qs}, {ks}, {vs}")
    biases = [bq, bk, bv]
    if any(bias is None for bias in biases) and any(bias is not None for bias in biases):
        raise ValueError(f"{name}: give all three biases or none")
    b, t = xs[0], xs[1]
    scale = 1.0 / math.sqrt(qs[2]) if scale is None else float(scale)
    dropout_mask = None
    if training and dropout_rate > 0:
        dtype = (x.data if isinstance(x, Tensor) else np.asarray(x)).dtype
        dropout_mask = attention_dropout_mask((b, qs[1], t, t), dropout_rate, dtype, seed)
    extras = [] if bq is None else biases
    return PackedSelfAttention.apply(x, wq, wk, wv, *extras, scale=scale, keep=keep,
                                     dropout_mask=dropout_mask, has_bias=bq is not None)
