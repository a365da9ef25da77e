"""The fused GRU: a whole sequence as one Function (Keras maths, gates z, r, h).

Like the LSTM op (``recurrent_lstm``), the op works on transposed states: h is held as
(U, N) and a step's gates as (3U, N), so each gate is one contiguous (U, N) block, on
which NumPy's elementwise loops run about twice as fast as on the rows of (N, 3U).

Forward: one batched GEMM projects every step's input, then each step runs its recurrent
GEMM and in-place NumPy calls (z and r are activated by one call). Backward with
``reset_after=True`` (Keras's default): the factors each gate's gradient needs are computed
for all steps at once before the loop, so a step is one GEMM and eight small calls, writing
the step's gradients into one block [d(rh), dz, dr, dhh] of a (4, U, T, N) array: its last
three gates are the input-projection gradient in Keras's order, its first three the
recurrent-projection gradient in the order h, z, r (the recurrent kernel is permuted to
match for the step GEMM and its gradient permuted back). ``reset_after=False`` needs two
GEMMs per step (the reset gate multiplies the state before its product).

Shape letters: N batch, T time steps, F input features, U units.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import recurrent_common as common
from npgrad.primitives import workspace as _workspace
from npgrad.primitives.recurrent_activations import fused

# the recurrent gradient's gate order in the backward block: h, z, r (Keras: z, r, h)
_RECURRENT_ORDER = (2, 0, 1)


def _rows(states, mask):
    """(T, U, N) states (times an (U, N) mask) as (T*N, U) rows in (t, n) order."""
    if mask is not None:
        states = states * mask
    t_steps, u, n = states.shape
    return np.ascontiguousarray(states.transpose(0, 2, 1)).reshape(t_steps * n, u)


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
    recurrent_mask, mask (N, T) timestep mask (a masked step carries the state over),
    last_only.
    Output: (N, T, U), the states in processing order; with ``last_only`` (N, 1, U), the
    last one.
    """

    def forward(self, x, kernel, recurrent_kernel, h0, *bias, activation="tanh",
                recurrent_activation="sigmoid", reset_after=True, go_backwards=False,
                recurrent_mask=None, mask=None, last_only=False):
        u = common.check_shapes("gru", x, kernel, recurrent_kernel, [h0], 3)
        if bias:
            expected = (2, 3 * u) if reset_after else (3 * u,)
            if bias[0].shape != expected:
                raise ValueError(
                    f"gru: expected bias of shape {expected} (reset_after={reset_after}), "
                    f"got {bias[0].shape}"
                )
        act, self.d_act = fused(activation, "gru")
        rec_act, self.d_rec_act = fused(recurrent_activation, "gru")
        xt = common.time_major(x, go_backwards)  # (T, N, F)
        t_steps, n, _ = xt.shape
        rmask = common.check_recurrent_mask("gru", recurrent_mask, n, u, xt.dtype)
        keep, skip = common.step_mask("gru", mask, n, t_steps, go_backwards)
        dtype = np.result_type(xt, kernel)
        # gates: (T, 3U, N) input projections (kernel^T @ x_t^T, one batched GEMM), turned
        # into the activations z, r, hh in place
        gates = np.empty((t_steps, 3 * u, n), dtype=dtype)
        np.matmul(kernel.T, xt.transpose(0, 2, 1), out=gates)
        b_rh = None
        if bias and reset_after:
            gates += bias[0][0][:, None]
            gates[:, : 2 * u] += bias[0][1, : 2 * u, None]  # z and r add both biases
            b_rh = bias[0][1, 2 * u :, None]
        elif bias:
            gates += bias[0][:, None]
        # hs: h0, h_1 .. h_T, each (U, N) (the output is hs[1:], transposed);
        # saved_h: rh (reset_after) or r * hm, the product's other side in hh
        hs = np.empty((t_steps + 1, u, n), dtype=dtype)
        hs[0] = h0.T
        saved_h = np.empty((t_steps, u, n), dtype=dtype)
        rec = np.empty((3 * u, n), dtype=dtype)
        tmp = np.empty((u, n), dtype=dtype)
        rec_t = np.ascontiguousarray(recurrent_kernel.T)  # (3U, U): z, r, h rows
        mask_t = None if rmask is None else np.ascontiguousarray(rmask.T)
        skip_t = None if skip is None else skip.transpose(0, 2, 1)  # (T, 1, N)
        with common.step_loop(), np.errstate(over="ignore"):  # exp overflow: its limit
            for t in range(t_steps):
                h, gz = hs[t], gates[t]
                hm = h if mask_t is None else h * mask_t
                zr, r, hh = gz[: 2 * u], gz[u : 2 * u], gz[2 * u :]
                if reset_after:
                    np.matmul(rec_t, hm, out=rec)
                    zr += rec[: 2 * u]
                    rec_act(zr)
                    if b_rh is None:
                        np.copyto(saved_h[t], rec[2 * u :])
                    else:
                        np.add(rec[2 * u :], b_rh, out=saved_h[t])
                    np.multiply(r, saved_h[t], out=tmp)  # r * rh
                else:
                    zr += rec_t[: 2 * u] @ hm
                    rec_act(zr)
                    np.multiply(r, hm, out=saved_h[t])  # r * hm
                    np.matmul(rec_t[2 * u :], saved_h[t], out=tmp)
                hh += tmp
                act(hh)
                # h = z * h_prev + (1 - z) * hh = hh + z * (h_prev - hh)
                h_new = hs[t + 1]
                np.subtract(h, hh, out=h_new)
                h_new *= gz[:u]
                h_new += hh
                if skip_t is not None:  # masked columns keep the previous state
                    np.copyto(h_new, h, where=skip_t[t])
        self.save_for_backward(xt, kernel, recurrent_kernel, gates, saved_h, hs)
        self.mask, self.keep, self.go_backwards = mask_t, keep, go_backwards
        self.has_bias, self.reset_after = bool(bias), reset_after
        self.last_only = last_only
        return common.last_steps(hs[1:], t_steps, last_only)

    def backward(self, grad):
        xt, kernel = self.saved[0], self.saved[1]
        t_steps, n, _ = xt.shape
        # (T, U, N), the steps with one
        g_out, live = common.step_gradients(grad, t_steps, self.last_only)
        keep_t = None if self.keep is None else self.keep.transpose(0, 2, 1)  # (T, 1, N)
        backward = self._backward_reset_after if self.reset_after else self._backward_reset_before
        dh, dx_part, db_rec, drec = backward(g_out, live, keep_t)
        dx = dkernel = None
        if self.needs_input_grad[0]:  # (T*N, F) rows in (t, n) order
            dx = common.batch_major((dx_part.T @ kernel.T).reshape(t_steps, n, -1),
                                    self.go_backwards)
        if self.needs_input_grad[1]:
            dkernel = (dx_part @ xt.reshape(t_steps * n, -1)).T
        grads = [dx, dkernel, drec, dh.T if self.needs_input_grad[3] else None]
        if self.has_bias:
            dbias = None
            if self.needs_input_grad[4]:
                db_in = common.row_sums(dx_part)
                dbias = np.stack([db_in, db_rec]) if self.reset_after else db_in
            grads.append(dbias)
        return tuple(grads)

    def _factors(self, gates, saved_h, hs):
        """(T, 3, U, N) per step: [(h_prev - hh) * z', (1 - z) * hh', rh * r']: the
        pre-activation gradients of z per unit of dh, of hh per unit of dh, and of r per
        unit of d(hh pre-activation)."""
        t_steps, u, n = saved_h.shape
        z, r, hh = gates[:, :u], gates[:, u : 2 * u], gates[:, 2 * u :]
        factors = _workspace.scratch("gru_factors", (t_steps, 3, u, n), gates.dtype)
        fz, fh, fr = factors[:, 0], factors[:, 1], factors[:, 2]
        self.d_rec_act(z, out=fz)
        fz *= hs[:t_steps] - hh
        self.d_act(hh, out=fh)
        np.subtract(1, z, out=fr)  # fr as a scratch for (1 - z) before it holds its own
        fh *= fr
        self.d_rec_act(r, out=fr)
        fr *= saved_h
        return factors

    def _backward_reset_after(self, g_out, live, keep_t):
        """BPTT for reset_after=True; returns (dh0 (U, N), d input projection (3U, T*N),
        the recurrent bias's gradient (3U,) or None, drecurrent_kernel or None)."""
        _, _, recurrent_kernel, gates, saved_h, hs = self.saved
        mask = self.mask
        t_steps, u, n = saved_h.shape
        dtype = gates.dtype
        factors = self._factors(gates, saved_h, hs)
        z, r = gates[:, :u], gates[:, u : 2 * u]
        columns = common.gate_columns(u, _RECURRENT_ORDER)
        rec_p = recurrent_kernel[:, columns]  # (U, 3U), columns h, z, r
        # blocks[:, :, t] = [d rh, dz, dr, dhh] (pre-activations): blocks[1:] is
        # d(x_t @ kernel + b_in), blocks[:3] d(hm @ recurrent_kernel + b_rec) in h, z, r order
        blocks = _workspace.scratch("gru_blocks", (4, u, t_steps, n), dtype)
        dh = np.zeros((u, n), dtype=dtype)
        product = np.empty((u, n), dtype=dtype)
        carried = None
        with common.step_loop():  # NumPy's BLAS at one thread (recurrent_common)
            for t in range(t_steps - 1, -1, -1):
                if live[t]:
                    dh += g_out[t]
                if keep_t is not None:
                    # h_t = keep * (new h) + (1 - keep) * h_{t-1}
                    dh, carried = common.split_masked(dh, keep_t[t], dtype)
                b = blocks[:, :, t]
                np.multiply(dh, factors[t, 0], out=b[1])  # dz
                np.multiply(dh, factors[t, 1], out=b[3])  # dhh (h = z h_prev + (1-z) hh)
                np.multiply(b[3], factors[t, 2], out=b[2])  # dr (hh = act(xh + r rh))
                np.multiply(b[3], r[t], out=b[0])  # d rh
                np.matmul(rec_p, b[:3].reshape(3 * u, n), out=product)
                if mask is not None:
                    product *= mask
                dh *= z[t]
                dh += product
                if carried is not None:
                    dh += carried
        dx_part = blocks[1:].reshape(3 * u, t_steps * n)
        drec_part = blocks[:3].reshape(3 * u, t_steps * n)  # rows h, z, r
        drec = None
        if self.needs_input_grad[2]:
            drec = common.unpermute_columns((drec_part @ _rows(hs[:t_steps], mask)).T, columns)
        db_rec = None
        if self.has_bias and self.needs_input_grad[4]:
            db_rec = common.unpermute_columns(common.row_sums(drec_part), columns)
        return dh, dx_part, db_rec, drec

    def _backward_reset_before(self, g_out, live, keep_t):
        """BPTT for reset_after=False (two GEMMs per step); returns as
        :meth:`_backward_reset_after`."""
        _, _, recurrent_kernel, gates, saved_h, hs = self.saved
        mask, d_act, d_rec = self.mask, self.d_act, self.d_rec_act
        t_steps, u, n = saved_h.shape
        dtype = gates.dtype
        d_part = _workspace.scratch("gru_blocks", (3, u, t_steps, n), dtype)  # dz, dr, dhh
        dh = np.zeros((u, n), dtype=dtype)
        rec_zr, rec_h = recurrent_kernel[:, : 2 * u], recurrent_kernel[:, 2 * u :]
        carried = None
        with common.step_loop():  # NumPy's BLAS at one thread (recurrent_common)
            for t in range(t_steps - 1, -1, -1):
                gz = gates[t]
                z, r, hh = gz[:u], gz[u : 2 * u], gz[2 * u :]
                h_prev = hs[t]
                if live[t]:
                    dh = dh + g_out[t]
                if keep_t is not None:
                    dh, carried = common.split_masked(dh, keep_t[t], dtype)
                d = d_part[:, :, t]
                np.multiply(dh * (h_prev - hh), d_rec(z), out=d[0])
                np.multiply(dh * (1 - z), d_act(hh), out=d[2])
                # hh = act(xh + U_h^T-side product of s = r * hm): ds = U_h @ dhh
                hm = h_prev if mask is None else h_prev * mask
                ds = rec_h @ d[2]
                np.multiply(ds * hm, d_rec(r), out=d[1])
                dhm = ds * r + rec_zr @ d[:2].reshape(2 * u, n)
                if mask is not None:
                    dhm *= mask
                dh = dh * z + dhm
                if carried is not None:
                    dh += carried
        dx_part = d_part.reshape(3 * u, t_steps * n)
        drec = None
        if self.needs_input_grad[2]:
            drec = np.empty_like(recurrent_kernel, dtype=dtype)
            drec[:, : 2 * u] = (dx_part[: 2 * u] @ _rows(hs[:t_steps], mask)).T
            drec[:, 2 * u :] = (dx_part[2 * u :] @ _rows(saved_h, None)).T
        return dh, dx_part, None, drec
