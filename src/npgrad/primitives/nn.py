"""Layer maths: dropout, batch normalization, layer normalization, embedding lookup.

Batch and layer normalization are fused ops with a hand-written backward (dx, dgamma,
dbeta in one pass); dropout multiplies by a constant mask; embedding gathers rows and
scatters gradients back, summing over repeated indices. Semantics follow Keras 3.

Example:
    >>> import numpy as np, npgrad
    >>> import npgrad.functional as F
    >>> x = npgrad.Tensor(np.random.randn(8, 4).astype("float32"), requires_grad=True)
    >>> mean, var = np.zeros(4, "float32"), np.ones(4, "float32")
    >>> y = F.batch_norm(x, None, None, mean, var, training=True)   # updates mean, var in place
    >>> y.shape
    (8, 4)
"""

import numpy as np
from scipy import sparse as _sparse

from npgrad import random as _random
from npgrad.autograd import engine
from npgrad.autograd.function import Function, composed_backward_graph, linear_backward_graph
from npgrad.autograd.tensor import Tensor
from npgrad.primitives import activation as _activation
from npgrad.primitives import channels as _channels
from npgrad.primitives import parallel as _parallel
from npgrad.primitives import workspace as _workspace
from npgrad.primitives.layer_norm import layer_norm_last_axis, normalize_recorded
from npgrad.primitives.linalg import sum_rows
from npgrad.primitives.rectify import rectify, relu_backward


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _axes(axis, ndim, name):
    """Normalize an int or a sequence of ints to a sorted tuple of non-negative axes."""
    items = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in items:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a!r} is out of range for an input with {ndim} axes")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out) or not out:
        raise ValueError(f"{name}: axis must name distinct axes, got {axis!r}")
    return tuple(sorted(out))


def _broadcast_shape(shape, param_axes):
    """The input's shape with 1 on every axis not in param_axes (how params broadcast)."""
    return tuple(n if i in param_axes else 1 for i, n in enumerate(shape))


def _check_param(value, size, what, name):
    """Check a per-channel array (gamma, beta, moving stats) has ``size`` elements."""
    if value is not None and np.size(_raw(value)) != size:
        raise ValueError(
            f"{name}: {what} has shape {np.shape(_raw(value))}, expected {size} elements "
            f"(one per normalized channel)"
        )


# ------------------------------------------------------------------ normalization (fused)
def _moments(x, axes):
    """Mean and biased variance of x over axes, kept as size-1 axes."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return mean, np.mean(centered * centered, axis=axes, keepdims=True)


class _NormalizeMaths:
    """y = (x - mean) / sqrt(var + eps) * gamma + beta, the maths shared by batch and layer norm.

    A mixin holding forward and backward for :class:`BatchNorm` and :class:`LayerNorm`
    (not a Function itself, so each public op stays one Function class).

    Positional inputs: x, then gamma if ``has_gamma``, then beta if ``has_beta``.
    ``stat_axes`` are the axes the statistics reduce over; gamma and beta broadcast along
    ``param_axes``. ``mean``/``variance`` default to x's statistics over ``stat_axes``
    (given precomputed when the caller needs them too). With ``batch_stats`` they are x's own
    statistics and the backward differentiates through them; without, they are constants
    (batch norm at inference).
    """

    def forward(self, x, *params, stat_axes=(), param_axes=(), epsilon=1e-3, has_gamma=True,
                has_beta=True, mean=None, variance=None, batch_stats=True):
        dtype = x.dtype
        bshape = _broadcast_shape(x.shape, param_axes)
        self.batch_stats = batch_stats
        if mean is None:
            mean, variance = _moments(x, stat_axes)
            centered = x - mean
        else:
            mean = np.asarray(mean, dtype=dtype).reshape(bshape)
            variance = np.asarray(variance, dtype=dtype).reshape(bshape)
            centered = x - mean
        inv = 1 / np.sqrt(variance + dtype.type(epsilon))
        xhat = centered * inv
        params = list(params)
        gamma = params.pop(0).reshape(bshape) if has_gamma else None
        beta = params.pop(0).reshape(bshape) if has_beta else None
        out = xhat * gamma if gamma is not None else xhat.copy()
        if beta is not None:
            out += beta
        self.save_for_backward(xhat, inv, gamma)
        self.stat_axes, self.has_gamma, self.has_beta = stat_axes, has_gamma, has_beta
        self.epsilon, self.bshape, self.beta = epsilon, bshape, beta  # for composed_inputs
        # axes the parameter gradients sum over: every axis gamma is broadcast along
        self.param_sum_axes = tuple(i for i in range(x.ndim) if i not in param_axes)
        return out

    def backward(self, grad):
        xhat, inv, gamma = self.saved
        grads = []
        needs = list(self.needs_input_grad)
        if needs[0]:
            dxhat = grad * gamma if gamma is not None else grad
            if self.batch_stats:
                # xhat = (x - mu) inv with mu, var over the M stat elements:
                # dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
                axes = self.stat_axes
                dx = dxhat - dxhat.mean(axis=axes, keepdims=True)
                dx -= xhat * np.mean(dxhat * xhat, axis=axes, keepdims=True)
                dx *= inv
            else:
                dx = dxhat * inv
            grads.append(dx)
        else:
            grads.append(None)
        index = 1
        if self.has_gamma:
            shape = engine.node_shape(self.inputs[index])
            # dgamma = sum(grad * xhat) over the broadcast axes
            grads.append(np.sum(grad * xhat, axis=self.param_sum_axes).reshape(shape)
                         if needs[index] else None)
            index += 1
        if self.has_beta:
            shape = engine.node_shape(self.inputs[index])
            grads.append(np.sum(grad, axis=self.param_sum_axes).reshape(shape)
                         if needs[index] else None)
        return tuple(grads)

    backward_graph = composed_backward_graph

    def composed_inputs(self):
        # x - mean = xhat / inv: the statistics ignore the shift
        xhat, inv, gamma = self.saved
        return [xhat / inv, *_param_values(self, gamma, self.beta)]

    def composed(self, x, *params):
        params = list(params)
        gamma = params.pop(0) if self.has_gamma else None
        beta = params.pop(0) if self.has_beta else None
        inv = None if self.batch_stats else self.saved[1]
        return normalize_recorded(x, gamma, beta, self.stat_axes, self.epsilon, self.bshape, inv)


def _param_values(fn, gamma, beta):
    """A normalization op's gamma and beta values (those it has), in its inputs' shapes."""
    present = [(v, i) for v, i in ((gamma, 1), (beta, 1 + fn.has_gamma)) if v is not None]
    return [v.reshape(engine.node_shape(fn.inputs[i])) for v, i in present]


def gamma_beta_grads(fn, dgamma, dbeta):
    """The gradients of a normalization op's optional gamma and beta inputs (after x).

    Args:
        fn: the op, with ``has_gamma``, ``has_beta``, ``inputs`` and ``needs_input_grad``.
        dgamma, dbeta: the (C,) sums, reshaped here to each parameter's shape.

    Returns:
        A list with one entry per parameter input the op has (None where not needed).
    """
    grads, index, needs = [], 1, fn.needs_input_grad
    for present, grad in ((fn.has_gamma, dgamma), (fn.has_beta, dbeta)):
        if present:
            grads.append(grad.reshape(engine.node_shape(fn.inputs[index])) if needs[index] else None)
            index += 1
    return grads


def _centre(xw, out, mean, copies, squares=False):
    """A block function (``parallel.map_blocks``): ``out = xw - mean`` on its rows, and with
    ``squares`` the per-column sums of squares of those rows."""
    tiled = _channels.tile(mean, copies)

    def centre(lo, hi):
        block = np.subtract(xw[lo:hi], tiled, out=out[lo:hi])
        return np.einsum("ij,ij->j", block, block) if squares else None

    return centre


class BatchNorm(_NormalizeMaths, Function):
    """Batch normalization over every axis but the channel axes (Keras BatchNormalization).

    Training: batch mean and biased variance, differentiated through. Inference: the
    moving statistics, constants.

    With the channels on the last axis (NHWC images, (N, C) features) x is seen as an
    (M, C) matrix, itself seen as wide rows (``primitives/channels.py``: a 16-channel
    broadcast is three times slower per element than a 256-wide one), and forward and
    backward make the fewest passes over it: the column sums are GEMVs (``linalg.sum_rows``,
    several times faster than NumPy's reduction over leading axes, and letting Python's lock
    go), the centered ``xc``
    is computed into the array that becomes the output, ``xc * (gamma * inv) + beta`` made
    in place (one activation-sized array touched where a scratch ``xc`` and a separate
    output made two: 2.41 -> 1.96 ms for a (64, 32, 32, 16) forward with ReLU on a 2-core
    EPYC), nothing activation-sized is kept but the input (which the graph holds anyway:
    backward centers it again, into the array that becomes ``dx``, one pass that saves an
    activation per layer), and the backward is
    ``dx = gamma * inv * (g - sum(g) / M - xhat * sum(g * xhat) / M)`` with ``sum(g)`` and
    ``sum(g * xhat)`` being dbeta and dgamma. Training with
    ``batch_stats`` computes the batch moments itself and reports them in the ``stats``
    dict given as a constant (the wrapper updates the moving statistics from them).
    Other layouts use the general maths shared with LayerNorm.

    The passes' blocks shared between threads (``parallel.py``) are of
    ``parallel.MIN_BLOCK_BYTES`` (1 MiB) at least: each runs a few cheap calls, and on a
    2-core Xeon (KVM) a forward and backward + ReLU of (64, 8, 8, 64) float32 (1 MB) took
    1.17 ms on one thread, 1.86 shared in 256 KiB blocks, 0.97 in 1 MiB ones ((64, 16, 16,
    32): 2.60 -> 2.03; 4 and 6 MB arrays the same either way).
    """

    def forward(self, x, *params, stat_axes=(), param_axes=(), epsilon=1e-3, has_gamma=True,
                has_beta=True, mean=None, variance=None, batch_stats=True, stats=None,
                relu=False, relu_cap=None):
        self.last_axis = param_axes == (x.ndim - 1,) and x.ndim >= 2
        self.relu, self.relu_cap = relu, relu_cap
        if not self.last_axis:  # the wrapper applies relu separately on this path
            return super().forward(x, *params, stat_axes=stat_axes, param_axes=param_axes,
                                   epsilon=epsilon, has_gamma=has_gamma, has_beta=has_beta,
                                   mean=mean, variance=variance, batch_stats=batch_stats)
        dtype, c = x.dtype, x.shape[-1]
        m = x.size // max(c, 1)
        copies = _channels.wide_copies(m, c)
        xw = x.reshape(m // copies, copies * c)  # (M, C) seen as wide rows (channels.py)
        params = list(params)
        gamma = params.pop(0).reshape(c) if has_gamma else None
        beta = params.pop(0).reshape(c) if has_beta else None
        self.has_gamma, self.has_beta, self.batch_stats = has_gamma, has_beta, batch_stats
        rows, row_bytes = xw.shape[0], xw.shape[1] * dtype.itemsize
        out = np.empty(xw.shape, dtype=dtype)  # xc, then the output
        if mean is None:
            sums = _parallel.map_blocks(lambda lo, hi: sum_rows(xw[lo:hi]), rows,
                                        row_bytes, blas=True,
                                        min_bytes=_parallel.MIN_BLOCK_BYTES)
            mean = _channels.fold(_parallel.total(sums), copies) / dtype.type(m)  # (C,), GEMVs
            # sum of squares per column: einsum reads xc once and writes nothing (1.7x
            # faster than a squared copy and a GEMV)
            squares = _parallel.map_blocks(_centre(xw, out, mean, copies, squares=True),
                                           rows, row_bytes,
                                           min_bytes=_parallel.MIN_BLOCK_BYTES)
            variance = _channels.fold(_parallel.total(squares), copies) / dtype.type(m)
            if stats is not None:
                stats["mean"], stats["variance"] = mean, variance
        else:
            mean = np.asarray(mean, dtype=dtype).reshape(c)
            variance = np.asarray(variance, dtype=dtype).reshape(c)
            _parallel.for_blocks(_centre(xw, out, mean, copies), rows, row_bytes,
                                 min_bytes=_parallel.MIN_BLOCK_BYTES)
        inv = 1 / np.sqrt(variance + dtype.type(epsilon))  # (C,)
        scale = inv if gamma is None else gamma * inv
        if np.result_type(out, scale) != out.dtype:  # a wider gamma widens the output
            out = out.astype(np.result_type(out, scale))
        tiled_scale = _channels.tile(scale, copies)
        tiled_beta = None if beta is None else _channels.tile(beta, copies)

        def finish(lo, hi):  # gamma * xhat + beta, and the fused relu, in place
            block = out[lo:hi]
            block *= tiled_scale
            if tiled_beta is not None:
                block += tiled_beta
            if relu:  # BatchNormalization + ReLU in one op: no second activation-sized array
                rectify(block, out=block, max_value=relu_cap)

        _parallel.for_blocks(finish, rows, row_bytes, min_bytes=_parallel.MIN_BLOCK_BYTES)
        # x itself (the graph keeps it anyway), not xc: backward centers it again; with
        # relu the output too (the next layer keeps it), whose zeros are the relu's mask
        self.save_for_backward(x, mean, inv, gamma, out if relu else None)
        self.copies, self.epsilon, self.beta = copies, epsilon, beta
        return out.reshape(x.shape)

    def backward(self, grad):
        if not self.last_axis:
            return super().backward(grad)
        x, mean, inv, gamma, out = self.saved
        copies, c = self.copies, inv.shape[0]
        m = x.size // max(c, 1)
        dtype = inv.dtype
        xw = x.reshape(m // copies, copies * c)
        fresh = self.needs_input_grad[0] and self.batch_stats  # xc becomes dx in place
        xc = np.empty(xw.shape, dtype=np.result_type(xw, mean)) if fresh else \
            _workspace.scratch(_workspace.TEMP, xw.shape, xw.dtype)
        gw = grad.reshape(xc.shape)
        outw = None if out is None else out.reshape(xc.shape)
        if outw is not None:  # through the fused relu: zero where it clipped (gradient 0 at 0)
            gw_masked = _workspace.scratch(_workspace.TEMP2, xc.shape, dtype)
        rows, row_bytes = xc.shape[0], xc.shape[1] * xc.itemsize
        tiled_mean = _channels.tile(mean, copies)

        def sums(lo, hi):  # centre x again, mask g; sum(g) and sum(g * xc) of these rows
            block, g = xc[lo:hi], gw[lo:hi]
            np.subtract(xw[lo:hi], tiled_mean, out=block)
            if outw is not None:
                g = relu_backward(g, outw[lo:hi], self.relu_cap, out=gw_masked[lo:hi])
            return sum_rows(g), np.einsum("ij,ij->j", g, block)

        parts = _parallel.map_blocks(sums, rows, row_bytes, blas=True,
                                     min_bytes=_parallel.MIN_BLOCK_BYTES)
        if outw is not None:
            gw = gw_masked
        needs = self.needs_input_grad
        sums_g, sums_gx = zip(*parts)
        dbeta = _channels.fold(_parallel.total(sums_g), copies)  # (C,) = sum(g)
        dgamma = _channels.fold(_parallel.total(sums_gx), copies) * inv  # sum(g * xhat)
        dx = None
        if needs[0]:
            scale = _channels.tile(inv if gamma is None else gamma * inv, copies)
            if self.batch_stats:
                # dx = scale * (g - sum(g) / M - xhat * sum(g * xhat) / M), xhat = xc * inv
                dx = xc
                per_xc = _channels.tile(dgamma * inv / -dtype.type(m), copies)
                shift = _channels.tile(dbeta / dtype.type(m), copies)

                def input_grad(lo, hi):
                    block = dx[lo:hi]
                    block *= per_xc
                    block += gw[lo:hi]
                    block -= shift
                    block *= scale

            else:
                dx = np.empty(gw.shape, dtype=np.result_type(gw, scale))

                def input_grad(lo, hi):
                    np.multiply(gw[lo:hi], scale, out=dx[lo:hi])

            _parallel.for_blocks(input_grad, rows, row_bytes,
                                 min_bytes=_parallel.MIN_BLOCK_BYTES)
            dx = dx.reshape(grad.shape)
        return (dx, *gamma_beta_grads(self, dgamma, dbeta))

    def composed_inputs(self):
        if not self.last_axis:
            return super().composed_inputs()
        x, mean, _, gamma, _ = self.saved
        # centred: the batch statistics ignore the shift
        return [x - mean, *_param_values(self, gamma, self.beta)]

    def composed(self, x, *params):
        if not self.last_axis:
            return super().composed(x, *params)
        params = list(params)
        gamma = params.pop(0) if self.has_gamma else None
        beta = params.pop(0) if self.has_beta else None
        inv = None if self.batch_stats else self.saved[2]
        out = normalize_recorded(x, gamma, beta, tuple(range(x.ndim - 1)), self.epsilon,
                                 inv=inv)
        return _activation.relu(out, max_value=self.relu_cap) if self.relu else out


class LayerNorm(_NormalizeMaths, Function):
    """Layer normalization over ``axis`` of each sample (Keras LayerNormalization)."""


def _params(gamma, beta):
    inputs = [p for p in (gamma, beta) if p is not None]
    return inputs, {"has_gamma": gamma is not None, "has_beta": beta is not None}


def _update_moving(moving, batch_stat, momentum, what):
    """moving = moving * momentum + batch_stat * (1 - momentum), in place (Keras 3)."""
    if moving is None:
        return
    target = _raw(moving)
    if not isinstance(target, np.ndarray):
        raise TypeError(
            f"batch_norm: {what} must be an ndarray or Tensor to be updated in place during "
            f"training, got {type(moving).__name__}"
        )
    updated = target * momentum + batch_stat.reshape(target.shape) * (1.0 - momentum)
    target[...] = updated


def batch_norm(x, gamma, beta, moving_mean, moving_variance, training=False, momentum=0.99,
               epsilon=1e-3, axis=-1, relu=False, relu_cap=None):
    """Batch normalization with Keras 3 semantics.

    Training: ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` with the batch mean
    and biased variance over every axis but ``axis``; the moving statistics are updated in
    place: ``moving = moving * momentum + batch_stat * (1 - momentum)`` (biased batch
    variance, as Keras 3). Inference: the moving statistics are used instead.

    Args:
        x: input, e.g. (N, C) or (N, H, W, C).
        gamma: scale of shape (C,), or None (no scaling).
        beta: offset of shape (C,), or None (no centering).
        moving_mean: (C,) ndarray or Tensor, a constant; updated in place when training
            (None skips the update).
        moving_variance: (C,) ndarray or Tensor, likewise.
        training: use batch statistics (and update the moving ones).
        momentum: moving-average momentum.
        epsilon: added to the variance.
        axis: the channel axis (or a tuple of axes) kept; statistics reduce over the rest.
        relu: also apply ``max(y, 0)``, the values and gradients of a ReLU after the
            normalization; with the channels last it runs inside the same op (no second
            activation-sized array, one pass fewer), as models do for BatchNormalization
            followed by ReLU (``layers/fusion.py``).
        relu_cap: with ``relu``, the ReLU's upper bound: ``min(max(y, 0), relu_cap)``, the
            values and gradients of ``ReLU(max_value=relu_cap)`` (MobileNet's ReLU6).

    Returns:
        Tensor of ``x``'s shape and dtype.
    """
    name = "batch_norm"
    data = _raw(x)
    ndim = np.ndim(data)
    channel_axes = _axes(axis, ndim, name)
    stat_axes = tuple(i for i in range(ndim) if i not in channel_axes)
    channels = int(np.prod([np.shape(data)[i] for i in channel_axes]))
    for value, what in ((gamma, "gamma"), (beta, "beta"), (moving_mean, "moving_mean"),
                        (moving_variance, "moving_variance")):
        _check_param(value, channels, what, name)
    inputs, flags = _params(gamma, beta)
    constants = dict(stat_axes=stat_axes, param_axes=channel_axes, epsilon=float(epsilon), **flags)
    if relu_cap is not None:
        if not relu:
            raise ValueError(f"batch_norm: relu_cap={relu_cap!r} caps the fused ReLU and needs "
                             f"relu=True, got relu={relu!r}")
        if not float(relu_cap) >= 0:
            raise ValueError(f"batch_norm: relu_cap must be a number >= 0, got {relu_cap!r}")
        relu_cap = float(relu_cap)
    last_axis = channel_axes == (ndim - 1,) and ndim >= 2  # the fused channels-last path
    fuse_relu = bool(relu) and last_axis
    if training:
        if not stat_axes:
            raise ValueError(f"batch_norm: input of shape {np.shape(data)} has no axis to reduce")
        stats = {}
        if last_axis:
            # the op computes the batch moments in its own passes and reports them
            out = BatchNorm.apply(x, *inputs, batch_stats=True, stats=stats, relu=fuse_relu,
                                  relu_cap=relu_cap, **constants)
            mean, variance = stats["mean"], stats["variance"]
        else:
            data = np.asarray(data)
            mean, variance = _moments(data if data.dtype.kind == "f" else data.astype(np.float32),
                                      stat_axes)
            out = BatchNorm.apply(x, *inputs, mean=mean, variance=variance, batch_stats=True,
                                  **constants)
        _update_moving(moving_mean, mean, momentum, "moving_mean")
        _update_moving(moving_variance, variance, momentum, "moving_variance")
    else:
        if moving_mean is None or moving_variance is None:
            raise ValueError(
                "batch_norm: inference (training=False) needs moving_mean and moving_variance"
            )
        out = BatchNorm.apply(x, *inputs, mean=_raw(moving_mean), variance=_raw(moving_variance),
                              batch_stats=False, relu=fuse_relu, relu_cap=relu_cap,
                              **constants)
    return _activation.relu(out, max_value=relu_cap) if relu and not fuse_relu else out


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Layer normalization with Keras LayerNormalization semantics.

    Each sample is normalized by the mean and biased variance over ``axis``, then scaled
    by ``gamma`` and shifted by ``beta`` (both shaped like the normalized axes).

    Args:
        x: input of any rank.
        gamma: scale, shape ``[x.shape[a] for a in axis]`` (e.g. (C,)), or None.
        beta: offset of the same shape, or None.
        axis: int or tuple of ints, the axes normalized over.
        epsilon: added to the variance.

    Returns:
        Tensor of ``x``'s shape and dtype.
    """
    name = "layer_norm"
    data = _raw(x)
    norm_axes = _axes(axis, np.ndim(data), name)
    size = int(np.prod([np.shape(data)[i] for i in norm_axes]))
    _check_param(gamma, size, "gamma", name)
    _check_param(beta, size, "beta", name)
    if norm_axes == (np.ndim(data) - 1,) and all(p is None or np.ndim(_raw(p)) == 1
                                                for p in (gamma, beta)):
        return layer_norm_last_axis(x, gamma, beta, epsilon)  # fewer passes, same maths
    inputs, flags = _params(gamma, beta)
    return LayerNorm.apply(x, *inputs, stat_axes=norm_axes, param_axes=norm_axes,
                           epsilon=float(epsilon), **flags)


# ------------------------------------------------------------------ dropout
class Dropout(Function):
    """x * mask, where mask holds 0 for dropped units and 1 / (1 - rate) for kept ones."""

    def forward(self, x, mask=None):
        self.mask = mask
        return x * mask

    def backward(self, grad):
        return (grad * self.mask,)

    backward_graph = backward  # a constant mask


def _noise_shape(noise_shape, shape):
    if noise_shape is None:
        return tuple(shape)
    noise_shape = tuple(shape[i] if n is None else n for i, n in enumerate(noise_shape)) \
        if len(noise_shape) == len(shape) else None
    if noise_shape is None or any(n not in (1, s) for n, s in zip(noise_shape, shape)):
        raise ValueError(
            f"dropout: noise_shape must have one entry per input axis, each 1, None or the "
            f"input's size, got {noise_shape!r} for an input of shape {tuple(shape)}"
        )
    return noise_shape


def dropout(x, rate, training=False, seed=None, noise_shape=None):
    """Inverted dropout: zero units with probability ``rate``, scale the rest by 1 / (1 - rate).

    The output's expected value equals ``x``, so inference needs no rescaling.

    Args:
        x: input tensor.
        rate: float in [0, 1), the fraction of units dropped.
        training: drop only when True; otherwise ``x`` is returned unchanged.
        seed: optional int; the mask is then drawn from ``np.random.default_rng(seed)``
            (the same mask on every call), else from ``npgrad.random.generator()``.
        noise_shape: optional shape broadcastable to ``x`` (None entries take ``x``'s size),
            e.g. ``(N, 1, 1, C)`` drops whole feature maps.

    Returns:
        Tensor of ``x``'s shape and dtype.
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)) or not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a float in [0, 1), got {rate!r}")
    if not training or rate == 0:
        return x if isinstance(x, Tensor) else Tensor(x)
    data = np.asarray(_raw(x))
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float32)
    shape = _noise_shape(noise_shape, np.shape(data))
    rng = np.random.default_rng(seed) if seed is not None else _random.generator()
    keep = rng.random(shape, dtype=dtype) >= rate
    mask = keep * dtype.type(1.0 / (1.0 - rate))
    return Dropout.apply(x, mask=mask)


# ------------------------------------------------------------------ embedding
class Embedding(Function):
    """table[indices]: gathers rows; the backward sums gradients of repeated indices."""

    def forward(self, table, indices=None):
        self.indices, self.table_shape = indices, table.shape
        return np.take(table, indices, axis=0)

    def backward(self, grad):
        # dtable[i] = sum of grad over every position where indices == i, as a sparse
        # product onehot^T @ grad: one pass in index order (the sums np.add.at makes, in the
        # same order, bit for bit) and over 10x faster than np.add.at's per-element loop
        rows, width = self.table_shape[0], int(np.prod(self.table_shape[1:], dtype=np.int64))
        flat = self.indices.reshape(-1)
        # (rows, positions) with a single 1 per column: column j at row indices[j]
        onehot_t = _sparse.csc_matrix(
            (np.ones(flat.size, dtype=grad.dtype), flat, np.arange(flat.size + 1)),
            shape=(rows, flat.size))
        dtable = onehot_t @ grad.reshape(flat.size, width)
        return (np.asarray(dtable, dtype=grad.dtype).reshape(self.table_shape),)

    backward_graph = linear_backward_graph

    def jvp(self, tangent):
        return np.take(tangent, self.indices, axis=0)


def embedding(indices, table):
    """Row lookup ``table[indices]`` (Keras Embedding maths).

    Args:
        indices: integer array of any shape (floats holding whole numbers are accepted);
            a constant, not differentiated.
        table: (input_dim, output_dim) embedding matrix.

    Returns:
        Tensor of shape ``indices.shape + (output_dim,)``.

    Raises:
        ValueError: an index outside [0, input_dim) or with a fractional part.
    """
    table_shape = np.shape(_raw(table))
    if len(table_shape) < 1:
        raise ValueError("embedding: table must have at least one axis, got a scalar")
    index = np.asarray(_raw(indices))
    if index.dtype.kind == "f":
        fractional = index != np.round(index)
        if fractional.any():
            bad = index[fractional].flat[0].item()
            raise ValueError(f"embedding: indices must be whole numbers, got {bad!r}")
    elif index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got an array of dtype {index.dtype}")
    rows = table_shape[0]
    bad = (index < 0) | (index >= rows)
    if bad.any():
        raise ValueError(
            f"embedding: index {index[bad].flat[0].item()!r} is out of range for a table of "
            f"{rows} rows (input_dim {rows}); indices must be in [0, {rows})"
        )
    return Embedding.apply(table, indices=index.astype(np.intp))
