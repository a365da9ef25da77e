"""Synchronized batch normalization: batch statistics of the global batch, across processes.

In data-parallel training every process holds a slice of the global batch. Plain batch norm
normalizes each slice by its own statistics; :func:`sync_batch_norm` reduces per-channel sums
over the processes so every slice is normalized by the mean and (biased) variance of the
whole global batch, and its backward reduces the two per-channel gradient sums the batch-norm
gradient needs, so the gradients equal those of one process on the global batch.

The op knows nothing of MPI: the caller passes ``allreduce``, a callable that sums a float64
NumPy buffer over the processes and returns the sum (``communicator.allreduce_sum``; it may
work in place). Every process must call the op the same number of times in the same order,
as with any collective. Per call: two allreduces in forward (``[count, sum x]``, then the
centered squares ``sum (x - mean)^2``, so the variance is as exact as one process's two-pass
one) and one in backward (``[sum g, sum g * xhat]``), each of ``C`` or ``2C + 1`` values.

Gradient weights. Data-parallel training sums ``share_r * gradient_r`` over the ranks,
where ``share_r`` is the rank's weight (its part ``n_r / n`` of the global batch in ``fit``;
``1 / size`` in a hand-written loop). For the sum to be the gradient of the global objective
``sum_r share_r * L_r``, rank ``s`` returns

    dx = gamma * inv * (g - (S_g + xhat * S_gx) / (n * share_s))
    S_g = sum_r share_r * sum(g_r),   S_gx = sum_r share_r * sum(g_r * xhat_r)

(one process: ``share = 1`` and this is plain batch norm's backward); ``dgamma`` and
``dbeta`` are the local sums, weighted by the trainer like every other gradient. A rank
whose ``share`` is 0 holds a stand-in sample (a last batch smaller than the number of
processes): it adds nothing to the statistics and gets a zero ``dx``.

Example (one process: the identity reduction gives plain batch norm):
    >>> import numpy as np, npgrad
    >>> from npgrad.primitives.sync_batch_norm import sync_batch_norm
    >>> x = npgrad.Tensor(np.random.randn(8, 4), requires_grad=True)
    >>> y = sync_batch_norm(x, None, None, None, None, allreduce=lambda buffer: buffer)
    >>> y.shape
    (8, 4)
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.autograd.tensor import Tensor
from npgrad.primitives import channels as _channels
from npgrad.primitives.linalg import sum_rows
from npgrad.primitives.nn import gamma_beta_grads


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _to_rows(array, axis):
    """``array`` as an (M, C) matrix with the channel axis last (a view when it already is)."""
    moved = np.moveaxis(array, axis, -1)
    return moved.reshape(-1, moved.shape[-1])  # a copy when the channels are not last


def _from_rows(rows, shape, axis):
    """Undo :func:`_to_rows` for an (M, C) matrix of an array of ``shape``."""
    moved_shape = tuple(np.delete(shape, axis)) + (shape[axis],)
    return np.moveaxis(rows.reshape(moved_shape), -1, axis)


def _reduced(allreduce, buffer, what):
    """``allreduce(buffer)``, checked: a float64 buffer of the same size back."""
    result = allreduce(buffer)
    result = buffer if result is None else np.asarray(result, dtype=np.float64)
    if result.shape != buffer.shape:
        raise ValueError(f"sync_batch_norm: allreduce returned shape {result.shape} for {what}, "
                         f"expected {buffer.shape}")
    return result


class SyncBatchNorm(Function):
    """Batch normalization by the statistics of the global batch (sums reduced over ranks).

    Positional inputs: x, then gamma if ``has_gamma``, then beta if ``has_beta``.
    Constants: ``axis`` (the channel axis, non-negative), ``epsilon``, ``allreduce`` (sums a
    float64 buffer over the processes), ``share`` (this rank's gradient weight, see the
    module docstring), ``stats`` (a dict that receives the global ``mean`` and ``variance``).
    """

    def forward(self, x, *params, axis=-1, epsilon=1e-3, has_gamma=True, has_beta=True,
                allreduce=None, share=1.0, stats=None):
        dtype, channels = x.dtype, x.shape[axis]
        x2 = _to_rows(x, axis)  # (M, C)
        # the (M, C) rows seen as wide rows, as BatchNorm does (``primitives/channels.py``:
        # a 16-channel broadcast is about three times slower per element than a 256-wide one)
        copies = _channels.wide_copies(x2.shape[0], channels)
        xw = x2.reshape(x2.shape[0] // copies, copies * channels)
        params = list(params)
        gamma = params.pop(0).reshape(channels) if has_gamma else None
        beta = params.pop(0).reshape(channels) if has_beta else None
        contributes = share != 0  # a stand-in sample adds nothing
        # 1st reduction: [count, sum x] (C + 1,), reduced in float64
        sums = np.zeros(channels + 1)
        if contributes:
            sums[0] = x2.shape[0]
            sums[1:] = _channels.fold(sum_rows(xw), copies)  # GEMVs, as BatchNorm's
        sums = _reduced(allreduce, sums, "the counts and sums")
        count = sums[0]
        if not count > 0:
            raise ValueError("sync_batch_norm: the global batch is empty on every process")
        mean = sums[1:] / count  # (C,) float64
        xhat = np.subtract(xw, _channels.tile(mean.astype(dtype), copies))  # centered for now
        # 2nd reduction: sum (x - mean)^2 (C,), centered on the global mean (two-pass
        # variance); einsum reads xhat once and writes nothing
        squares = np.zeros(channels)
        if contributes:
            squares[:] = _channels.fold(np.einsum("ij,ij->j", xhat, xhat), copies)
        variance = _reduced(allreduce, squares, "the centered squares") / count  # biased
        inv = (1.0 / np.sqrt(variance + epsilon)).astype(dtype)  # (C,)
        xhat *= _channels.tile(inv, copies)
        out = xhat * _channels.tile(gamma, copies) if gamma is not None else xhat.copy()
        if beta is not None:
            out += _channels.tile(beta, copies)
        if stats is not None:
            stats["mean"], stats["variance"] = mean.astype(dtype), variance.astype(dtype)
        self.save_for_backward(xhat, inv, gamma)
        self.axis, self.shape, self.has_gamma, self.has_beta = axis, x.shape, has_gamma, has_beta
        self.allreduce, self.share, self.count = allreduce, float(share), count
        self.copies = copies
        return _from_rows(out.reshape(x2.shape), x.shape, self.axis)

    def backward(self, grad):
        xhat, inv, gamma = self.saved  # xhat in wide rows
        copies = self.copies
        gw = _to_rows(grad, self.axis).reshape(xhat.shape)
        dtype, channels = xhat.dtype, inv.shape[0]
        needs = self.needs_input_grad
        dbeta = _channels.fold(sum_rows(gw), copies)  # (C,) = sum(g), this rank's
        dgamma = _channels.fold(np.einsum("ij,ij->j", gw, xhat), copies)  # sum(g * xhat)
        dx = None
        if needs[0]:
            # 3rd reduction: [share * sum g, share * sum g * xhat] (2C,)
            local = np.concatenate([dbeta, dgamma]).astype(np.float64) * self.share
            total = _reduced(self.allreduce, local, "the gradient sums")
            if self.share == 0:
                dx = np.zeros(self.shape, dtype=dtype)
            else:
                # dx = gamma * inv * (g - (S_g + xhat * S_gx) / (n * share))
                per_sample = self.count * self.share
                sum_g = (total[:channels] / per_sample).astype(dtype)
                sum_gx = (total[channels:] / per_sample).astype(dtype)
                scale = inv if gamma is None else gamma * inv
                dx2 = np.multiply(xhat, _channels.tile(sum_gx, copies))
                np.subtract(gw, dx2, out=dx2)
                dx2 -= _channels.tile(sum_g, copies)
                dx2 *= _channels.tile(scale, copies)
                dx = _from_rows(dx2.reshape(-1, channels), self.shape, self.axis)
        return (dx, *gamma_beta_grads(self, dgamma, dbeta))


def _update_moving(moving, value, momentum, what):
    """moving = moving * momentum + value * (1 - momentum), in place (Keras 3)."""
    if moving is None:
        return
    target = _raw(moving)
    if not isinstance(target, np.ndarray):
        raise TypeError(f"sync_batch_norm: {what} must be an ndarray or Tensor to be updated in "
                        f"place, got {type(moving).__name__}")
    target[...] = target * momentum + value.reshape(target.shape) * (1.0 - momentum)


def sync_batch_norm(x, gamma, beta, moving_mean, moving_variance, allreduce, share=1.0,
                    momentum=0.99, epsilon=1e-3, axis=-1):
    """Training-mode batch normalization with the statistics of the global batch.

    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` where ``mean`` and the biased
    ``var`` are those of every process's ``x`` together (per-channel sums reduced with
    ``allreduce``). The moving statistics are updated in place from the global ones, so every
    process keeps the same. With ``allreduce`` the identity (one process) this is
    ``F.batch_norm(..., training=True)``. See the module docstring for the gradient weights.

    Args:
        x: this process's slice, e.g. (n_r, C) or (n_r, H, W, C).
        gamma, beta: (C,) scale and offset, or None.
        moving_mean, moving_variance: (C,) ndarrays or Tensors updated in place (None skips).
        allreduce: callable summing a float64 ndarray over the processes; returns the sum
            (e.g. ``npgrad.distribution.communicator().allreduce_sum``).
        share: this process's gradient weight in the data-parallel sum (``n_r / n`` in
            ``fit``); 0 marks a stand-in slice that counts for nothing.
        momentum: moving-average momentum.
        epsilon: added to the variance.
        axis: the channel axis; statistics reduce over every other axis.

    Returns:
        Tensor of ``x``'s shape and dtype.

    Raises:
        ValueError: a bad axis, a parameter of the wrong size, a negative share, or an empty
            global batch.
    """
    data = _raw(x)
    ndim = np.ndim(data)
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"sync_batch_norm: axis {axis!r} is out of range for an input with "
                         f"{ndim} axes")
    if ndim < 2:
        raise ValueError(f"sync_batch_norm: input of shape {np.shape(data)} has no axis to reduce")
    axis = int(axis) % ndim
    channels = np.shape(data)[axis]
    for value, what in ((gamma, "gamma"), (beta, "beta"), (moving_mean, "moving_mean"),
                        (moving_variance, "moving_variance")):
        if value is not None and np.size(_raw(value)) != channels:
            raise ValueError(f"sync_batch_norm: {what} has shape {np.shape(_raw(value))}, "
                             f"expected {channels} elements (one per channel)")
    if not callable(allreduce):
        raise TypeError(f"sync_batch_norm: allreduce must be a callable summing a buffer over "
                        f"the processes, got {type(allreduce).__name__}")
    if not share >= 0:
        raise ValueError(f"sync_batch_norm: share must be >= 0, got {share!r}")
    inputs = [p for p in (gamma, beta) if p is not None]
    stats = {}
    out = SyncBatchNorm.apply(x, *inputs, axis=axis, epsilon=float(epsilon),
                              has_gamma=gamma is not None, has_beta=beta is not None,
                              allreduce=allreduce, share=float(share), stats=stats)
    _update_moving(moving_mean, stats["mean"], momentum, "moving_mean")
    _update_moving(moving_variance, stats["variance"], momentum, "moving_variance")
    return out
