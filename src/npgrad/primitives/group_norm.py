"""Group normalization on the fused normalization op (one forward, one backward pass).

Group normalization is layer normalization of a regrouped tensor: the channel axis of size C
is split into (groups, C / groups), the statistics reduce over every axis but the batch and
the group axes, and gamma/beta broadcast along the two channel axes. ``LayerNorm`` (in
``nn.py``) already takes separate statistics and parameter axes, with its gradient-checked
backward ``dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``; this file only
does the regrouping. Composed from elementwise ops instead, a forward and backward pass over
(32, 16, 16, 64) takes about ten times longer.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.primitives.nn import LayerNorm
from npgrad.primitives.shape import reshape


def _shape(x):
    return x.shape if isinstance(x, Tensor) else np.shape(x)


def group_norm(x, gamma=None, beta=None, groups=1, axis=-1, epsilon=1e-3):
    """Group normalization with Keras GroupNormalization semantics.

    Args:
        x: input (N, ..., C, ...), the channels on ``axis``.
        gamma: scale (C,), or None.
        beta: offset (C,), or None.
        groups: number of groups, a divisor of C.
        axis: the channel axis (not 0).
        epsilon: added to the variance.

    Returns:
        Tensor of ``x``'s shape and dtype: each group of consecutive ``C / groups`` channels
        of each sample normalized over those channels and every other non-batch axis.
    """
    shape = tuple(_shape(x))
    ndim = len(shape)
    a = axis % ndim if -ndim <= axis < ndim else None
    if a is None or a == 0:
        raise ValueError(f"group_norm: axis {axis} must be a non-batch axis of an input of "
                         f"rank {ndim}")
    channels = shape[a]
    if groups <= 0 or channels % groups:
        raise ValueError(f"group_norm: {channels} channels cannot be split into {groups} groups")
    for value, what in ((gamma, "gamma"), (beta, "beta")):
        if value is not None and int(np.prod(_shape(value))) != channels:
            raise ValueError(f"group_norm: {what} has shape {_shape(value)}, expected "
                             f"({channels},)")
    grouped_shape = shape[:a] + (groups, channels // groups) + shape[a + 1:]
    stat_axes = tuple(d for d in range(1, ndim + 1) if d != a)
    params = [p for p in (gamma, beta) if p is not None]
    out = LayerNorm.apply(reshape(x, grouped_shape), *params, stat_axes=stat_axes,
                          param_axes=(a, a + 1), epsilon=float(epsilon),
                          has_gamma=gamma is not None, has_beta=beta is not None)
    return reshape(out, shape)


__all__ = ["group_norm"]
