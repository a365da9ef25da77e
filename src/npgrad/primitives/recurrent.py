"""Recurrent ops: a whole SimpleRNN, LSTM or GRU sequence as one fused Function.

Each op projects the whole input sequence with one GEMM up front ((T*N, F) @ kernel), then
runs one recurrent GEMM per step. Its backward is a hand-written backpropagation through
time: one loop over the steps in reverse (one GEMM per step for the state gradient), then
one GEMM each for dkernel, drecurrent_kernel and dx. No per-step graph is built, so a
1,000-step sequence needs no recursion and memory grows linearly in T.

Layouts follow Keras: kernel (F, k*U), recurrent_kernel (U, k*U), gates side by side along
the last axis: SimpleRNN k=1; LSTM k=4 in the order i, f, c, o; GRU k=3 in the order z, r, h.
Outputs are in processing order: with ``go_backwards`` the first output belongs to the last
input step (as Keras).

Fused activations (by name): 'tanh', 'sigmoid', 'relu', 'linear', 'hard_sigmoid'. The
public wrappers (``simple_rnn``, ``lstm``, ``gru``) also take any callable of Tensors; they
then compose the steps from autograd ops instead (slower, same maths).

Recurrent dropout: ``recurrent_mask`` (N, U) multiplies the previous state where it enters
the recurrent matmul (the same mask at every step, variational dropout).

Padded sequences: ``mask`` (N, T) booleans (True = a real step, Keras masking). At a masked
step every state is carried over unchanged (h_t = h_{t-1}, and c_t = c_{t-1} for the LSTM),
so the returned sequence repeats the previous state there (the initial state before the
first real step). In the backward pass a masked step sends the state gradients straight
through to the previous step and gives no gradient to x_t or the weights. Without a mask
the ops run exactly as before (one ``is None`` test per step).

Shape letters: N batch, T time steps, F input features, U units.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.autograd.tensor import Tensor
from npgrad.primitives.recurrent_activations import COMPOSED_ACTIVATIONS, FUSED_ACTIVATIONS, fused
from npgrad.primitives import elementwise as _elementwise
from npgrad.primitives import linalg as _linalg
from npgrad.primitives import shape as _shape

# ------------------------------------------------------------------ shared helpers


def _time_major(x, go_backwards):
    """(N, T, F) -> contiguous (T, N, F), steps in processing order."""
    xt = x.transpose(1, 0, 2)
    if go_backwards:
        xt = xt[::-1]
    return np.ascontiguousarray(xt)


def _batch_major(at, go_backwards):
    """Inverse of :func:`_time_major` for a gradient: (T, N, F) -> (N, T, F)."""
    if go_backwards:
        at = at[::-1]
    return at.transpose(1, 0, 2)


def _check_shapes(op, x, kernel, recurrent_kernel, states, gates):
    """Validate x (N, T, F), kernel (F, k*U), recurrent_kernel (U, k*U), states (N, U)."""
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


def _step_mask(op, mask, n, t_steps, go_backwards):
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


def _split_masked(grad, keep_t, dtype):
    """grad at a step split into (the part through the step, the part carried past it)."""
    keep_f = keep_t.astype(dtype)
    return grad * keep_f, grad * (1 - keep_f)


def _check_mask(op, mask, n, units, dtype):
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=dtype)
    if mask.shape != (n, units):
        raise ValueError(f"{op}: expected recurrent_mask of shape {(n, units)}, got {mask.shape}")
    return mask


def _previous_states(h0, hs, mask):
    """States entering the recurrent matmul at each step: [h0, h_1, ..., h_{T-1}] (* mask).

    Returns (T*N, U).
    """
    prev = np.concatenate([h0[None], hs[:-1]], axis=0)
    if mask is not None:
        prev *= mask
    return prev.reshape(-1, prev.shape[-1])


def _input_grads(self, xt, kernel, dz, go_backwards, x_index=0, kernel_index=1):
    """dx = dZ @ kernel^T and dkernel = X^T @ dZ, one GEMM each. dz: (T, N, k*U)."""
    t_steps, n, _ = dz.shape
    dz2 = dz.reshape(t_steps * n, -1)
    dx = dkernel = None
    if self.needs_input_grad[x_index]:
        dx = _batch_major((dz2 @ kernel.T).reshape(t_steps, n, -1), go_backwards)
    if self.needs_input_grad[kernel_index]:
        dkernel = xt.reshape(t_steps * n, -1).T @ dz2
    return dx, dkernel


# ------------------------------------------------------------------ SimpleRNN


class SimpleRNNSequence(Function):
    """h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias) over a whole sequence.

    Inputs (positional): x (N, T, F), kernel (F, U), recurrent_kernel (U, U), h0 (N, U),
    optional bias (U,). Constants: activation (name), go_backwards, recurrent_mask (N, U),
    mask (N, T) timestep mask (a masked step carries the state over).
    Output: (N, T, U), the states in processing order (the last one is the final state).
    """

    def forward(self, x, kernel, recurrent_kernel, h0, *bias, activation="tanh",
                go_backwards=False, recurrent_mask=None, mask=None):
        units = _check_shapes("simple_rnn", x, kernel, recurrent_kernel, [h0], 1)
        act, self.d_act = fused(activation, "simple_rnn")
        xt = _time_major(x, go_backwards)  # (T, N, F)
        t_steps, n, n_in = xt.shape
        rmask = _check_mask("simple_rnn", recurrent_mask, n, units, xt.dtype)
        keep, skip = _step_mask("simple_rnn", mask, n, t_steps, go_backwards)
        # hs: (T, N, U), pre-activations first, overwritten step by step by the states
        hs = (xt.reshape(t_steps * n, n_in) @ kernel).reshape(t_steps, n, units)
        if bias:
            hs += bias[0]
        h = h0
        for t in range(t_steps):
            hs[t] += (h if rmask is None else h * rmask) @ recurrent_kernel
            act(hs[t])
            if keep is not None:  # masked rows keep the previous state
                np.copyto(hs[t], h, where=skip[t])
            h = hs[t]
        self.save_for_backward(xt, kernel, recurrent_kernel, h0, hs)
        self.mask, self.keep, self.go_backwards = rmask, keep, go_backwards
        self.has_bias = bool(bias)
        return hs.transpose(1, 0, 2)

    def backward(self, grad):
        xt, kernel, recurrent_kernel, h0, hs = self.saved
        mask, keep, d_act = self.mask, self.keep, self.d_act
        g = grad.transpose(1, 0, 2)  # (T, N, U)
        da = np.empty_like(hs)  # d pre-activation, (T, N, U)
        dh = np.zeros_like(h0, dtype=hs.dtype)
        rec_t = recurrent_kernel.T
        carried = None
        for t in range(hs.shape[0] - 1, -1, -1):
            dh = dh + g[t]
            if keep is not None:
                # h_t = keep * act(a_t) + (1 - keep) * h_{t-1}
                dh, carried = _split_masked(dh, keep[t], hs.dtype)
            # at masked rows hs[t] holds the carried state, but dh is 0 there
            np.multiply(dh, d_act(hs[t]), out=da[t])
            # h_{t-1} enters only through (h_{t-1} * mask) @ recurrent_kernel
            dh = da[t] @ rec_t
            if mask is not None:
                dh *= mask
            if carried is not None:
                dh += carried
        dx, dkernel = _input_grads(self, xt, kernel, da, self.go_backwards)
        drec = None
        if self.needs_input_grad[2]:
            drec = _previous_states(h0, hs, mask).T @ da.reshape(-1, da.shape[-1])
        grads = [dx, dkernel, drec, dh if self.needs_input_grad[3] else None]
        if self.has_bias:
            grads.append(da.sum(axis=(0, 1)) if self.needs_input_grad[4] else None)
        return tuple(grads)


# ------------------------------------------------------------------ LSTM


class LSTMSequence(Function):
    """A whole LSTM sequence (Keras maths, gates i, f, c, o).

    z = x_t @ kernel + (h_{t-1} * mask) @ recurrent_kernel + bias, split into i, f, g, o;
    i, f, o = rec_act(.); g = act(.); c_t = f * c_{t-1} + i * g; h_t = o * act(c_t).

    Inputs (positional): x (N, T, F), kernel (F, 4U), recurrent_kernel (U, 4U), h0 (N, U),
    c0 (N, U), optional bias (4U,). Constants: activation, recurrent_activation (names),
    go_backwards, recurrent_mask (N, U), mask (N, T) timestep mask (a masked step carries
    h and c over).
    Output: (N, T + 1, U): the T hidden states in processing order, then the final cell state.
    """

    def forward(self, x, kernel, recurrent_kernel, h0, c0, *bias, activation="tanh",
                recurrent_activation="sigmoid", go_backwards=False, recurrent_mask=None,
                mask=None):
        units = _check_shapes("lstm", x, kernel, recurrent_kernel, [h0, c0], 4)
        act, self.d_act = fused(activation, "lstm")
        rec_act, self.d_rec_act = fused(recurrent_activation, "lstm")
        xt = _time_major(x, go_backwards)
        t_steps, n, n_in = xt.shape
        u = units
        rmask = _check_mask("lstm", recurrent_mask, n, units, xt.dtype)
        keep, skip = _step_mask("lstm", mask, n, t_steps, go_backwards)
        # gates: (T, N, 4U), pre-activations, turned into activations in place
        gates = (xt.reshape(t_steps * n, n_in) @ kernel).reshape(t_steps, n, 4 * u)
        if bias:
            gates += bias[0]
        dtype = gates.dtype
        cs = np.empty((t_steps, n, u), dtype=dtype)  # cell states (carried at masked steps)
        act_cs = np.empty((t_steps, n, u), dtype=dtype)  # act(f * c_{t-1} + i * g)
        out = np.empty((t_steps + 1, n, u), dtype=dtype)  # h_1..h_T, then c_T
        h, c = h0, c0
        for t in range(t_steps):
            z = gates[t]
            z += (h if rmask is None else h * rmask) @ recurrent_kernel
            rec_act(z[:, : 2 * u])
            act(z[:, 2 * u : 3 * u])
            rec_act(z[:, 3 * u :])
            i, f, g, o = z[:, :u], z[:, u : 2 * u], z[:, 2 * u : 3 * u], z[:, 3 * u :]
            c_new = cs[t]
            np.multiply(f, c, out=c_new)
            c_new += i * g
            act_c = act_cs[t]
            act_c[...] = c_new
            act(act_c)
            np.multiply(o, act_c, out=out[t])
            if keep is not None:  # masked rows keep the previous h and c
                np.copyto(out[t], h, where=skip[t])
                np.copyto(c_new, c, where=skip[t])
            h, c = out[t], c_new
        out[t_steps] = c
        self.save_for_backward(xt, kernel, recurrent_kernel, h0, c0, gates, cs, act_cs, out)
        self.mask, self.keep, self.go_backwards = rmask, keep, go_backwards
        self.has_bias = bool(bias)
        return out.transpose(1, 0, 2)

    def backward(self, grad):
        xt, kernel, recurrent_kernel, h0, c0, gates, cs, act_cs, out = self.saved
        mask, keep, d_act, d_rec = self.mask, self.keep, self.d_act, self.d_rec_act
        t_steps, n, u = cs.shape
        g_out = grad.transpose(1, 0, 2)  # (T + 1, N, U)
        dz = np.empty_like(gates)  # d pre-activations, (T, N, 4U)
        dh = np.zeros((n, u), dtype=gates.dtype)
        dc = np.array(g_out[t_steps], dtype=gates.dtype)
        rec_t = recurrent_kernel.T
        carried_h = carried_c = None
        deriv = d_rec(gates)  # every gate's derivative for all steps at once, (T, N, 4U)
        deriv[:, :, 2 * u : 3 * u] = d_act(gates[:, :, 2 * u : 3 * u])
        d_act_cs = d_act(act_cs)  # (T, N, U)
        for t in range(t_steps - 1, -1, -1):
            z, dv = gates[t], deriv[t]
            i, f, g, o = z[:, :u], z[:, u : 2 * u], z[:, 2 * u : 3 * u], z[:, 3 * u :]
            c_prev = cs[t - 1] if t > 0 else c0
            dh = dh + g_out[t]
            if keep is not None:
                # (h_t, c_t) = keep * (new h, new c) + (1 - keep) * (h_{t-1}, c_{t-1})
                dh, carried_h = _split_masked(dh, keep[t], gates.dtype)
                dc, carried_c = _split_masked(dc, keep[t], gates.dtype)
            # h = o * act(c): dc += dh * o * act'(c); do = dh * act(c)
            dc = dc + dh * o * d_act_cs[t]
            d = dz[t]
            np.multiply(dh, act_cs[t], out=d[:, 3 * u :])
            np.multiply(dc, g, out=d[:, :u])  # c = f * c_prev + i * g
            np.multiply(dc, c_prev, out=d[:, u : 2 * u])
            np.multiply(dc, i, out=d[:, 2 * u : 3 * u])
            d *= dv  # through the four gate activations in one pass
            dc = dc * f
            dh = d @ rec_t
            if mask is not None:
                dh *= mask
            if carried_h is not None:
                dh += carried_h
                dc += carried_c
        dx, dkernel = _input_grads(self, xt, kernel, dz, self.go_backwards)
        drec = None
        if self.needs_input_grad[2]:
            drec = _previous_states(h0, out[:t_steps], mask).T @ dz.reshape(-1, 4 * u)
        grads = [dx, dkernel, drec, dh if self.needs_input_grad[3] else None,
                 dc if self.needs_input_grad[4] else None]
        if self.has_bias:
            grads.append(dz.sum(axis=(0, 1)) if self.needs_input_grad[5] else None)
        return tuple(grads)


# ------------------------------------------------------------------ GRU


class GRUSequence(Function):
    """A whole GRU sequence (Keras maths, gates z, r, h).

    reset_after=True (bias (2, 3U): input bias row 0, recurrent bias row 1):
        xz, xr, xh = x_t @ kernel + b_in;  rz, rr, rh = (h_{t-1} * mask) @ recurrent_kernel + b_rec
        z = rec_act(xz + rz); r = rec_act(xr + rr); hh = act(xh + r * rh)
    reset_after=False (bias (3U,)):
        z = rec_act(xz + hm @ U_z); r = rec_act(xr + hm @ U_r); hh = act(xh + (r * hm) @ U_h)
        where hm = h_{t-1} * mask
    then h_t = z * h_{t-1} + (1 - z) * hh.

    Inputs (positional): x (N, T, F), kernel (F, 3U), recurrent_kernel (U, 3U), h0 (N, U),
    optional bias. Constants: activation, recurrent_activation, reset_after, go_backwards,
    recurrent_mask, mask (N, T) timestep mask (a masked step carries the state over).
    Output: (N, T, U), the states in processing order.
    """

    def forward(self, x, kernel, recurrent_kernel, h0, *bias, activation="tanh",
                recurrent_activation="sigmoid", reset_after=True, go_backwards=False,
                recurrent_mask=None, mask=None):
        units = u = _check_shapes("gru", x, kernel, recurrent_kernel, [h0], 3)
        if bias:
            expected = (2, 3 * u) if reset_after else (3 * u,)
            if bias[0].shape != expected:
                raise ValueError(
                    f"gru: expected bias of shape {expected} (reset_after={reset_after}), "
                    f"got {bias[0].shape}"
                )
        act, self.d_act = fused(activation, "gru")
        rec_act, self.d_rec_act = fused(recurrent_activation, "gru")
        xt = _time_major(x, go_backwards)
        t_steps, n, n_in = xt.shape
        rmask = _check_mask("gru", recurrent_mask, n, units, xt.dtype)
        keep, skip = _step_mask("gru", mask, n, t_steps, go_backwards)
        # xp: (T, N, 3U) input projections; gates: z, r, hh after activation
        xp = (xt.reshape(t_steps * n, n_in) @ kernel).reshape(t_steps, n, 3 * u)
        if bias:
            xp += bias[0][0] if reset_after else bias[0]
        dtype = xp.dtype
        gates = np.empty((t_steps, n, 3 * u), dtype=dtype)
        # reset_after: the recurrent h-part rh (before r multiplies it); else r * hm
        saved_h = np.empty((t_steps, n, u), dtype=dtype)
        hs = np.empty((t_steps, n, u), dtype=dtype)
        rec_zr, rec_h = recurrent_kernel[:, : 2 * u], recurrent_kernel[:, 2 * u :]
        h = h0
        for t in range(t_steps):
            hm = h if rmask is None else h * rmask
            gz = gates[t]
            if reset_after:
                rec = hm @ recurrent_kernel
                if bias:
                    rec += bias[0][1]
                np.add(xp[t, :, : 2 * u], rec[:, : 2 * u], out=gz[:, : 2 * u])
                rec_act(gz[:, : 2 * u])
                saved_h[t] = rec[:, 2 * u :]
                np.multiply(gz[:, u : 2 * u], rec[:, 2 * u :], out=gz[:, 2 * u :])
            else:
                np.add(xp[t, :, : 2 * u], hm @ rec_zr, out=gz[:, : 2 * u])
                rec_act(gz[:, : 2 * u])
                np.multiply(gz[:, u : 2 * u], hm, out=saved_h[t])
                np.matmul(saved_h[t], rec_h, out=gz[:, 2 * u :])
            gz[:, 2 * u :] += xp[t, :, 2 * u :]
            act(gz[:, 2 * u :])
            z, hh = gz[:, :u], gz[:, 2 * u :]
            # h = z * h_prev + (1 - z) * hh = hh + z * (h_prev - hh)
            np.subtract(h, hh, out=hs[t])
            hs[t] *= z
            hs[t] += hh
            if keep is not None:  # masked rows keep the previous state
                np.copyto(hs[t], h, where=skip[t])
            h = hs[t]
        self.save_for_backward(xt, kernel, recurrent_kernel, h0, gates, saved_h, hs)
        self.mask, self.keep, self.go_backwards = rmask, keep, go_backwards
        self.has_bias, self.reset_after = bool(bias), reset_after
        return hs.transpose(1, 0, 2)

    def backward(self, grad):
        xt, kernel, recurrent_kernel, h0, gates, saved_h, hs = self.saved
        mask, keep, d_act, d_rec = self.mask, self.keep, self.d_act, self.d_rec_act
        reset_after = self.reset_after
        t_steps, n, u = hs.shape
        g_out = grad.transpose(1, 0, 2)
        dx_part = np.empty_like(gates)  # d(x_t @ kernel + b_in), (T, N, 3U)
        # reset_after: d(hm @ recurrent_kernel + b_rec); else dz, dr, dhh pre-activations
        drec_part = np.empty_like(gates) if reset_after else dx_part
        dh = np.zeros((n, u), dtype=gates.dtype)
        rec_t = recurrent_kernel.T
        rec_zr_t, rec_h_t = recurrent_kernel[:, : 2 * u].T, recurrent_kernel[:, 2 * u :].T
        carried = None
        for t in range(t_steps - 1, -1, -1):
            gz = gates[t]
            z, r, hh = gz[:, :u], gz[:, u : 2 * u], gz[:, 2 * u :]
            h_prev = hs[t - 1] if t > 0 else h0
            dh = dh + g_out[t]
            if keep is not None:
                # h_t = keep * (new h) + (1 - keep) * h_{t-1}
                dh, carried = _split_masked(dh, keep[t], gates.dtype)
            dxp = dx_part[t]
            # h = z * h_prev + (1 - z) * hh
            np.multiply(dh * (h_prev - hh), d_rec(z), out=dxp[:, :u])
            dah = dxp[:, 2 * u :]
            np.multiply(dh * (1 - z), d_act(hh), out=dah)
            dh_prev = dh * z
            if reset_after:
                # hh = act(xh + r * rh)
                rh = saved_h[t]
                np.multiply(dah * rh, d_rec(r), out=dxp[:, u : 2 * u])
                drp = drec_part[t]
                drp[:, : 2 * u] = dxp[:, : 2 * u]
                np.multiply(dah, r, out=drp[:, 2 * u :])
                dhm = drp @ rec_t
            else:
                # hh = act(xh + (r * hm) @ U_h)
                hm = h_prev if mask is None else h_prev * mask
                drh = dah @ rec_h_t
                np.multiply(drh * hm, d_rec(r), out=dxp[:, u : 2 * u])
                dhm = drh * r + dxp[:, : 2 * u] @ rec_zr_t
            if mask is not None:
                dhm *= mask
            dh = dh_prev + dhm
            if carried is not None:
                dh += carried
        dx, dkernel = _input_grads(self, xt, kernel, dx_part, self.go_backwards)
        drec = None
        if self.needs_input_grad[2]:
            prev = _previous_states(h0, hs, mask)  # (T*N, U)
            if reset_after:
                drec = prev.T @ drec_part.reshape(-1, 3 * u)
            else:
                d2 = dx_part.reshape(-1, 3 * u)
                drec = np.empty_like(recurrent_kernel, dtype=d2.dtype)
                drec[:, : 2 * u] = prev.T @ d2[:, : 2 * u]
                drec[:, 2 * u :] = saved_h.reshape(-1, u).T @ d2[:, 2 * u :]
        grads = [dx, dkernel, drec, dh if self.needs_input_grad[3] else None]
        if self.has_bias:
            dbias = None
            if self.needs_input_grad[4]:
                db_in = dx_part.sum(axis=(0, 1))
                dbias = np.stack([db_in, drec_part.sum(axis=(0, 1))]) if reset_after else db_in
            grads.append(dbias)
        return tuple(grads)


# ------------------------------------------------------------------ public wrappers


def _zeros_state(x, units):
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float32)
    return np.zeros((data.shape[0], units), dtype=dtype)


def _activation_fn(activation):
    """A callable of Tensors for a name or callable (for the composed path)."""
    if callable(activation):
        return activation
    try:
        return COMPOSED_ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(
            f"recurrent: unknown activation {activation!r}; give one of "
            f"{sorted(COMPOSED_ACTIVATIONS)} or a callable"
        ) from None


def _is_fusable(*activations):
    return all(isinstance(a, str) and a in FUSED_ACTIVATIONS for a in activations)


def _steps(x, go_backwards):
    """The input steps x[:, t] (Tensors) in processing order."""
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    return [_shape.getitem(x, (slice(None), t)) for t in order]


def _step_keeps(op, mask, x, go_backwards):
    """Per step (processing order) the (N, 1) keep mask, or None at every step (composed path)."""
    keep, _ = _step_mask(op, mask, x.shape[0], x.shape[1], go_backwards)
    return [None] * x.shape[1] if keep is None else list(keep)


def _carry(keep_t, new, old):
    """The new state where the step is real, the old one where it is masked."""
    return new if keep_t is None else _elementwise.where(keep_t, new, old)


def _masked(h, recurrent_mask):
    return h if recurrent_mask is None else _elementwise.multiply(h, recurrent_mask)


def simple_rnn(x, kernel, recurrent_kernel, bias=None, h0=None, activation="tanh",
               go_backwards=False, recurrent_mask=None, mask=None):
    """A whole SimpleRNN sequence: h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

    Args:
        x: (N, T, F) inputs.
        kernel: (F, U). recurrent_kernel: (U, U). bias: optional (U,).
        h0: initial state (N, U); zeros when None.
        activation: a fused name ('tanh', 'sigmoid', 'relu', 'linear', 'hard_sigmoid') or
            any callable of Tensors (then the steps are composed from autograd ops).
        go_backwards: process the steps last to first (outputs in processing order).
        recurrent_mask: optional (N, U) recurrent-dropout mask (constant).
        mask: optional (N, T) boolean timestep mask (True = a real step); at a masked step
            the state is carried over unchanged.

    Returns:
        Tensor (N, T, U): the state after every step; its last step is the final state.
    """
    units = recurrent_kernel.shape[0]
    h0 = _zeros_state(x, units) if h0 is None else h0
    if _is_fusable(activation):
        extra = () if bias is None else (bias,)
        return SimpleRNNSequence.apply(x, kernel, recurrent_kernel, h0, *extra,
                                       activation=activation, go_backwards=bool(go_backwards),
                                       recurrent_mask=recurrent_mask, mask=mask)
    act = _activation_fn(activation)
    h, outputs = h0, []
    keeps = _step_keeps("simple_rnn", mask, x, go_backwards)
    for x_t, keep_t in zip(_steps(x, go_backwards), keeps):
        a = _linalg.dense(x_t, kernel, bias) + _linalg.matmul(_masked(h, recurrent_mask),
                                                              recurrent_kernel)
        h = _carry(keep_t, act(a), h)
        outputs.append(h)
    return _shape.stack(outputs, axis=1)


def lstm(x, kernel, recurrent_kernel, bias=None, h0=None, c0=None, activation="tanh",
         recurrent_activation="sigmoid", go_backwards=False, recurrent_mask=None, mask=None):
    """A whole LSTM sequence with Keras maths (gates i, f, c, o).

    Args:
        x: (N, T, F) inputs.
        kernel: (F, 4U). recurrent_kernel: (U, 4U). bias: optional (4U,).
        h0, c0: initial hidden and cell states (N, U); zeros when None.
        activation, recurrent_activation: fused names or callables of Tensors.
        go_backwards: process the steps last to first (outputs in processing order).
        recurrent_mask: optional (N, U) recurrent-dropout mask (constant).
        mask: optional (N, T) boolean timestep mask (True = a real step); at a masked step
            h and c are carried over unchanged.

    Returns:
        (hs, c): hs (N, T, U) the hidden states, c (N, U) the final cell state.
    """
    units = recurrent_kernel.shape[0]
    h0 = _zeros_state(x, units) if h0 is None else h0
    c0 = _zeros_state(x, units) if c0 is None else c0
    t_steps = x.shape[1]
    if _is_fusable(activation, recurrent_activation):
        extra = () if bias is None else (bias,)
        out = LSTMSequence.apply(x, kernel, recurrent_kernel, h0, c0, *extra,
                                 activation=activation, recurrent_activation=recurrent_activation,
                                 go_backwards=bool(go_backwards), recurrent_mask=recurrent_mask,
                                 mask=mask)
        return _shape.getitem(out, (slice(None), slice(0, t_steps))), \
            _shape.getitem(out, (slice(None), t_steps))
    act, rec_act = _activation_fn(activation), _activation_fn(recurrent_activation)
    u = units
    h, c, outputs = h0, c0, []
    keeps = _step_keeps("lstm", mask, x, go_backwards)
    for x_t, keep_t in zip(_steps(x, go_backwards), keeps):
        z = _linalg.dense(x_t, kernel, bias) + _linalg.matmul(_masked(h, recurrent_mask),
                                                              recurrent_kernel)
        i = rec_act(_shape.getitem(z, (slice(None), slice(0, u))))
        f = rec_act(_shape.getitem(z, (slice(None), slice(u, 2 * u))))
        g = act(_shape.getitem(z, (slice(None), slice(2 * u, 3 * u))))
        o = rec_act(_shape.getitem(z, (slice(None), slice(3 * u, 4 * u))))
        c_new = f * c + i * g
        h = _carry(keep_t, o * act(c_new), h)
        c = _carry(keep_t, c_new, c)
        outputs.append(h)
    return _shape.stack(outputs, axis=1), c


def gru(x, kernel, recurrent_kernel, bias=None, h0=None, activation="tanh",
        recurrent_activation="sigmoid", reset_after=True, go_backwards=False,
        recurrent_mask=None, mask=None):
    """A whole GRU sequence with Keras maths (gates z, r, h).

    Args:
        x: (N, T, F) inputs.
        kernel: (F, 3U). recurrent_kernel: (U, 3U).
        bias: optional; (2, 3U) when reset_after (input bias row 0, recurrent bias row 1),
            else (3U,).
        h0: initial state (N, U); zeros when None.
        activation, recurrent_activation: fused names or callables of Tensors.
        reset_after: apply the reset gate after the recurrent matmul (Keras default, CuDNN
            compatible) or before it.
        go_backwards: process the steps last to first (outputs in processing order).
        recurrent_mask: optional (N, U) recurrent-dropout mask (constant).
        mask: optional (N, T) boolean timestep mask (True = a real step); at a masked step
            the state is carried over unchanged.

    Returns:
        Tensor (N, T, U): the state after every step; its last step is the final state.
    """
    units = u = recurrent_kernel.shape[0]
    h0 = _zeros_state(x, units) if h0 is None else h0
    if _is_fusable(activation, recurrent_activation):
        extra = () if bias is None else (bias,)
        return GRUSequence.apply(x, kernel, recurrent_kernel, h0, *extra, activation=activation,
                                 recurrent_activation=recurrent_activation,
                                 reset_after=bool(reset_after), go_backwards=bool(go_backwards),
                                 recurrent_mask=recurrent_mask, mask=mask)
    act, rec_act = _activation_fn(activation), _activation_fn(recurrent_activation)

    def cols(t, lo, hi):
        return _shape.getitem(t, (slice(None), slice(lo, hi)))

    b_in = b_rec = None
    if bias is not None:
        b_in = _shape.getitem(bias, 0) if reset_after else bias
        b_rec = _shape.getitem(bias, 1) if reset_after else None
    h, outputs = h0, []
    keeps = _step_keeps("gru", mask, x, go_backwards)
    for x_t, keep_t in zip(_steps(x, go_backwards), keeps):
        xp = _linalg.dense(x_t, kernel, b_in)
        hm = _masked(h, recurrent_mask)
        if reset_after:
            rec = _linalg.dense(hm, recurrent_kernel, b_rec)
            z = rec_act(cols(xp, 0, u) + cols(rec, 0, u))
            r = rec_act(cols(xp, u, 2 * u) + cols(rec, u, 2 * u))
            hh = act(cols(xp, 2 * u, 3 * u) + r * cols(rec, 2 * u, 3 * u))
        else:
            rec = _linalg.matmul(hm, _shape.getitem(recurrent_kernel, (slice(None), slice(0, 2 * u))))
            z = rec_act(cols(xp, 0, u) + cols(rec, 0, u))
            r = rec_act(cols(xp, u, 2 * u) + cols(rec, u, 2 * u))
            rec_h = _shape.getitem(recurrent_kernel, (slice(None), slice(2 * u, 3 * u)))
            hh = act(cols(xp, 2 * u, 3 * u) + _linalg.matmul(r * hm, rec_h))
        h = _carry(keep_t, z * h + (1 - z) * hh, h)
        outputs.append(h)
    return _shape.stack(outputs, axis=1)
