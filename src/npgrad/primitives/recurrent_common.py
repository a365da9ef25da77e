"""What the fused recurrent ops (``recurrent``, ``recurrent_lstm``, ``recurrent_gru``) share:
layout changes between batch-major and time-major, shape and mask checks, and the
gradients every op takes the same way.

Shape letters: N batch, T time steps, F input features, U units, k gates.
"""

from __future__ import annotations

import numpy as np

from npgrad.primitives import blas_pools as _blas_pools


def time_major(x, go_backwards, ones=False):
    """(N, T, F) -> contiguous (T, N, F), steps in processing order; with ``ones``, (T, N,
    F + 1) whose last column is 1 (a bias then rides in the input projection's GEMM)."""
    xt = x.transpose(1, 0, 2)
    if go_backwards:
        xt = xt[::-1]
    if not ones:
        return np.ascontiguousarray(xt)
    out = np.empty(xt.shape[:2] + (xt.shape[2] + 1,), dtype=x.dtype)
    out[..., :-1] = xt
    out[..., -1] = 1
    return out


def step_loop():
    """The context a recurrent op runs its loop over time steps in: NumPy's BLAS pool at one
    thread (:func:`blas_pools.one_thread`), given back after the loop.

    A step's product is small ((4U, U) @ (U, N): 1 MFLOP for an LSTM(64) on a batch of 64),
    and its output is read at once by the step's element-wise calls. Split between two
    threads, half of it is written on the other core and must cross over for those calls,
    and every step waits for both threads to be scheduled: on the shared 2-core EPYC
    (Zen 4) a lone step product took 21-24 us at two threads and 26 us at one, but the
    Embedding + LSTM(64) training step at two threads ran 0.79-0.85x the time with the loops
    at one thread in busy spells (3 runs of 21 alternated rounds in one process) and 1.015x
    in a quiet one. The batched products before and after the loop (the input projection,
    the weight and input gradients) keep every thread.
    """
    return _blas_pools.one_thread()


def batch_major(at, go_backwards):
    """Inverse of :func:`time_major` for a gradient: (T, N, F) -> (N, T, F)."""
    if go_backwards:
        at = at[::-1]
    return at.transpose(1, 0, 2)


def check_shapes(op, x, kernel, recurrent_kernel, states, gates):
    """Validate x (N, T, F), kernel (F, k*U), recurrent_kernel (U, k*U), states (N, U);
    return U."""
    if x.ndim != 3:
        raise ValueError(f"{op}: expected x of rank 3 (batch, time, features), got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"{op}: expected at least one time step, got x of shape {x.shape}")
    units = recurrent_kernel.shape[0] if recurrent_kernel.ndim == 2 else -1
    expected_k = (x.shape[2], gates * units)
    if kernel.shape != expected_k:
        raise ValueError(f"{op}: expected kernel of shape {expected_k}, got {kernel.shape}")
    if recurrent_kernel.shape != (units, gates * units):
        raise ValueError(
            f"{op}: expected recurrent_kernel of shape (units, {gates} * units), "
            f"got {recurrent_kernel.shape}"
        )
    for s in states:
        if s.shape != (x.shape[0], units):
            raise ValueError(
                f"{op}: expected initial state of shape {(x.shape[0], units)}, got {s.shape}"
            )
    return units


def step_mask(op, mask, n, t_steps, go_backwards):
    """The timestep mask (N, T) as (keep (T, N, 1) bool, skip (T, N, 1) bool) in processing
    order, or (None, None) when there is none."""
    if mask is None:
        return None, None
    mask = np.asarray(mask)
    if mask.shape != (n, t_steps):
        raise ValueError(f"{op}: expected a timestep mask of shape (batch, time) = "
                         f"{(n, t_steps)}, got {mask.shape}")
    keep = np.ascontiguousarray(mask.astype(bool).T[:, :, None])
    if go_backwards:
        keep = keep[::-1]
    return keep, ~keep


def step_gradients(grad, t_steps, last_only=False):
    """The output gradient of a fused op on transposed states, step by step.

    Args:
        grad: (N, T', U) gradient of the op's batch-major output, T' >= ``t_steps`` (an
            LSTM's output carries its final cell state after the steps); with
            ``last_only``, of an output that held only the last step (and what follows
            it): (N, T' - t_steps + 1, U).
        t_steps: the number of time steps.
        last_only: the op output only its last step (see :func:`last_steps`).

    Returns:
        (blocks, live): ``blocks[t]`` is step t's (U, N) gradient (``blocks[T']`` too, for
        the steps after ``t_steps``), ``live[t]`` whether step ``t < t_steps`` gets a
        nonzero one (read ``blocks[t]`` only where it does). With more than one live step
        (``return_sequences``) the steps are copied once into contiguous blocks: adding a
        strided (U, N) view of ``grad`` into a state gradient costs 3-5x the add of a
        contiguous block (a (64, 32) float32 block: about 4 against 0.7-0.9 us), every step.
    """
    g_out = grad.transpose(1, 2, 0)  # (T', U, N) views
    if last_only:
        live = np.zeros(t_steps, dtype=bool)
        live[-1] = grad[:, 0].any()
        return _FromStep(g_out, t_steps - 1), live
    live = grad[:, :t_steps].any(axis=(0, 2))
    if np.count_nonzero(live) > 1:
        g_out = np.ascontiguousarray(g_out)
    return g_out, live


class _FromStep:
    """Step gradients that start at step ``first`` (the earlier steps got none)."""

    def __init__(self, blocks, first):
        self.blocks, self.first = blocks, first

    def __getitem__(self, t):
        return self.blocks[t - self.first]


def last_steps(states, t_steps, last_only):
    """A fused op's output from its (T', U, N) transposed ``states`` (the state after every
    step, then what follows the steps, e.g. an LSTM's final cell state): (N, T', U), or
    with ``last_only`` only the last step's state and what follows it, (N, T' - t_steps + 1,
    U).

    ``last_only`` is what a layer without ``return_sequences`` asks for (Keras's default):
    the op then hands over, and takes the gradient of, the one state the layer keeps. The
    whole sequence would be a transposing copy of every state (166,000 values for an
    LSTM(64) over 80 steps of 32 sequences: 0.12-0.23 ms, made in the helper process too
    when the batch is split, and sent back), then a slice, whose gradient is again a
    sequence-sized array of zeros.
    """
    return (states[t_steps - 1 :] if last_only else states).transpose(2, 0, 1)


def split_masked(grad, keep_t, dtype):
    """grad at a step split into (the part through the step, the part carried past it)."""
    keep_f = keep_t.astype(dtype)
    return grad * keep_f, grad * (1 - keep_f)


def check_recurrent_mask(op, mask, n, units, dtype):
    """The recurrent-dropout mask as an (N, U) array of ``dtype``, or None."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=dtype)
    if mask.shape != (n, units):
        raise ValueError(f"{op}: expected recurrent_mask of shape {(n, units)}, got {mask.shape}")
    return mask


def previous_states(h0, hs, mask):
    """States entering the recurrent matmul at each step: [h0, h_1, ..., h_{T-1}] (* mask).

    Returns (T*N, U).
    """
    prev = np.concatenate([h0[None], hs[:-1]], axis=0)
    if mask is not None:
        prev *= mask
    return prev.reshape(-1, prev.shape[-1])


def input_grads(function, xt, kernel, dz, go_backwards, x_index=0, kernel_index=1):
    """dx = dZ @ kernel^T and dkernel = X^T @ dZ, one GEMM each (None where ``function``
    needs no gradient). xt: (T, N, F), dz: (T, N, k*U)."""
    t_steps, n, _ = dz.shape
    dz2 = dz.reshape(t_steps * n, -1)
    dx = dkernel = None
    if function.needs_input_grad[x_index]:
        dx = batch_major((dz2 @ kernel.T).reshape(t_steps, n, -1), go_backwards)
    if function.needs_input_grad[kernel_index]:
        dkernel = xt.reshape(t_steps * n, -1).T @ dz2
    return dx, dkernel


def gate_columns(units, order):
    """Column indices that put k gate blocks of ``units`` columns each into ``order``.

    ``w[:, gate_columns(u, (3, 0, 1, 2))]`` moves the last gate block first;
    ``unpermuted[:, columns] = permuted`` puts a gradient back in the original order.
    """
    return np.concatenate([np.arange(k * units, (k + 1) * units) for k in order])


def unpermute_columns(permuted, columns):
    """A gradient computed for ``w[..., columns]`` as the gradient of ``w`` itself."""
    out = np.empty_like(permuted)
    out[..., columns] = permuted
    return out


def row_sums(matrix):
    """Sums of the rows of a (k*U, T*N) gradient matrix (the bias gradient), as one GEMV:
    several times faster than ``matrix.sum(axis=1)`` on long rows."""
    return matrix @ np.ones(matrix.shape[1], dtype=matrix.dtype)
