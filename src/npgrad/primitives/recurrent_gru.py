"""The fused GRU: a whole sequence as one Function (Keras maths, gates z, r, h).

Forward: one GEMM projects every step's input, then each step runs its recurrent GEMM and
in-place NumPy calls on contiguous gate blocks (z and r are activated by one call).
Backward with ``reset_after=True`` (Keras's default): the factors each gate's gradient
needs are computed for all steps at once before the loop, so a step is one GEMM and eight
small calls, writing the step's gradients into one (N, 4, U) block [d(rh), dz, dr, dhh]:
its last three gates are the input-projection gradient in Keras's order, its first three
the recurrent-projection gradient in the order h, z, r (the recurrent kernel is permuted
to match for the step GEMM and its gradient permuted back). ``reset_after=False`` needs two
GEMMs per step (the reset gate multiplies the state before its product) and keeps a plain
per-step loop.

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
        xt = common.time_major(x, go_backwards)
        t_steps, n, n_in = xt.shape
        rmask = common.check_recurrent_mask("gru", recurrent_mask, n, u, xt.dtype)
        keep, skip = common.step_mask("gru", mask, n, t_steps, go_backwards)
        # gates: (T, N, 3U) input projections, turned into the activations z, r, hh in place
        gates = (xt.reshape(t_steps * n, n_in) @ kernel).reshape(t_steps, n, 3 * u)
        b_rh = None
        if bias and reset_after:
            gates += bias[0][0]
            gates[..., : 2 * u] += bias[0][1, : 2 * u]  # z and r add both biases
            b_rh = bias[0][1, 2 * u :]
        elif bias:
            gates += bias[0]
        dtype = gates.dtype
        # hs: h0, h_1 .. h_T (the output is hs[1:]); saved_h: rh (reset_after) or r * hm
        hs = np.empty((t_steps + 1, n, u), dtype=dtype)
        hs[0] = h0
        saved_h = np.empty((t_steps, n, u), dtype=dtype)
        rec = np.empty((n, 3 * u), dtype=dtype)
        tmp = np.empty((n, u), dtype=dtype)
        rec_zr, rec_h = recurrent_kernel[:, : 2 * u], recurrent_kernel[:, 2 * u :]
        with np.errstate(over="ignore"):  # exp overflow inside the sigmoid gives its limit
            for t in range(t_steps):
                h, gz = hs[t], gates[t]
                hm = h if rmask is None else h * rmask
                zr, hh = gz[:, : 2 * u], gz[:, 2 * u :]
                if reset_after:
                    np.matmul(hm, recurrent_kernel, out=rec)
                    zr += rec[:, : 2 * u]
                    rec_act(zr)
                    if b_rh is None:
                        np.copyto(saved_h[t], rec[:, 2 * u :])
                    else:
                        np.add(rec[:, 2 * u :], b_rh, out=saved_h[t])
                    np.multiply(gz[:, u : 2 * u], saved_h[t], out=tmp)  # r * rh
                else:
                    zr += hm @ rec_zr
                    rec_act(zr)
                    np.multiply(gz[:, u : 2 * u], hm, out=saved_h[t])  # r * hm
                    np.matmul(saved_h[t], rec_h, out=tmp)
                hh += tmp
                act(hh)
                # h = z * h_prev + (1 - z) * hh = hh + z * (h_prev - hh)
                h_new = hs[t + 1]
                np.subtract(h, hh, out=h_new)
                h_new *= gz[:, :u]
                h_new += hh
                if keep is not None:  # masked rows keep the previous state
                    np.copyto(h_new, h, where=skip[t])
        self.save_for_backward(xt, kernel, recurrent_kernel, gates, saved_h, hs)
        self.mask, self.keep, self.go_backwards = rmask, keep, go_backwards
        self.has_bias, self.reset_after = bool(bias), reset_after
        return hs[1:].transpose(1, 0, 2)

    def backward(self, grad):
        g_out = grad.transpose(1, 0, 2)  # (T, N, U)
        backward = self._backward_reset_after if self.reset_after else self._backward_reset_before
        dh, dx_part, db_rec, drec = backward(g_out)
        xt, kernel = self.saved[0], self.saved[1]
        dx, dkernel = common.input_grads(self, xt, kernel, dx_part, self.go_backwards)
        grads = [dx, dkernel, drec, dh if self.needs_input_grad[3] else None]
        if self.has_bias:
            dbias = None
            if self.needs_input_grad[4]:
                db_in = dx_part.sum(axis=(0, 1))
                dbias = np.stack([db_in, db_rec]) if self.reset_after else db_in
            grads.append(dbias)
        return tuple(grads)

    def _factors(self, gates, saved_h, hs):
        """(T, N, 3, U) per step: [(h_prev - hh) * z', (1 - z) * hh', rh * r']: the
        pre-activation gradients of z per unit of dh, of hh per unit of dh, and of r per
        unit of d(hh pre-activation)."""
        t_steps, n, u = saved_h.shape
        z, r, hh = (gates[..., k * u : (k + 1) * u] for k in range(3))
        factors = _workspace.scratch("gru_factors", (t_steps, n, 3, u), gates.dtype)
        fz, fh, fr = factors[:, :, 0], factors[:, :, 1], factors[:, :, 2]
        self.d_rec_act(z, out=fz)
        fz *= hs[:t_steps] - hh
        self.d_act(hh, out=fh)
        np.subtract(1, z, out=fr)  # fr as a scratch for (1 - z) before it holds its own
        fh *= fr
        self.d_rec_act(r, out=fr)
        fr *= saved_h
        return factors

    def _backward_reset_after(self, g_out):
        """BPTT for reset_after=True; returns (dh0, d input projection (T, N, 3U), the
        recurrent bias's gradient (3U,) or None, drecurrent_kernel or None)."""
        _, _, recurrent_kernel, gates, saved_h, hs = self.saved
        mask, keep = self.mask, self.keep
        t_steps, n, u = saved_h.shape
        dtype = gates.dtype
        factors = self._factors(gates, saved_h, hs)
        z, r = gates[..., :u], gates[..., u : 2 * u]
        columns = common.gate_columns(u, _RECURRENT_ORDER)
        rec_p_t = recurrent_kernel[:, columns].T  # rows in the order h, z, r
        # per step [d rh, dz, dr, dhh] (pre-activations): [1:] is d(x_t @ kernel + b_in),
        # [:3] is d(hm @ recurrent_kernel + b_rec) in the order h, z, r
        blocks = _workspace.scratch("gru_blocks", (t_steps, n, 4, u), dtype)
        dh = np.zeros((n, u), dtype=dtype)
        product = np.empty((n, u), dtype=dtype)
        carried = None
        for t in range(t_steps - 1, -1, -1):
            dh += g_out[t]
            if keep is not None:
                # h_t = keep * (new h) + (1 - keep) * h_{t-1}
                dh, carried = common.split_masked(dh, keep[t], dtype)
            b = blocks[t]
            np.multiply(dh, factors[t, :, 0], out=b[:, 1])  # dz
            np.multiply(dh, factors[t, :, 1], out=b[:, 3])  # dhh (h = z h_prev + (1-z) hh)
            np.multiply(b[:, 3], factors[t, :, 2], out=b[:, 2])  # dr (hh = act(xh + r rh))
            np.multiply(b[:, 3], r[t], out=b[:, 0])  # d rh
            np.matmul(b.reshape(n, 4 * u)[:, : 3 * u], rec_p_t, out=product)
            if mask is not None:
                product *= mask
            dh *= z[t]
            dh += product
            if carried is not None:
                dh += carried
        flat = blocks.reshape(t_steps, n, 4 * u)
        dx_part, drec_part_p = flat[..., u:], flat[..., : 3 * u]
        drec = None
        if self.needs_input_grad[2]:
            prev = hs[:t_steps] if mask is None else hs[:t_steps] * mask
            drec = common.unpermute_columns(
                prev.reshape(-1, u).T @ drec_part_p.reshape(-1, 3 * u), columns)
        db_rec = None
        if self.has_bias and self.needs_input_grad[4]:
            db_rec = common.unpermute_columns(drec_part_p.sum(axis=(0, 1)), columns)
        return dh, dx_part, db_rec, drec

    def _backward_reset_before(self, g_out):
        """BPTT for reset_after=False (two GEMMs per step); returns as
        :meth:`_backward_reset_after`."""
        _, _, recurrent_kernel, gates, saved_h, hs = self.saved
        mask, keep, d_act, d_rec = self.mask, self.keep, self.d_act, self.d_rec_act
        t_steps, n, u = saved_h.shape
        dtype = gates.dtype
        dx_part = np.empty_like(gates)  # dz, dr, dhh pre-activations, (T, N, 3U)
        dh = np.zeros((n, u), dtype=dtype)
        rec_zr_t, rec_h_t = recurrent_kernel[:, : 2 * u].T, recurrent_kernel[:, 2 * u :].T
        carried = None
        for t in range(t_steps - 1, -1, -1):
            gz = gates[t]
            z, r, hh = gz[:, :u], gz[:, u : 2 * u], gz[:, 2 * u :]
            h_prev = hs[t]
            dh = dh + g_out[t]
            if keep is not None:
                dh, carried = common.split_masked(dh, keep[t], dtype)
            dxp = dx_part[t]
            np.multiply(dh * (h_prev - hh), d_rec(z), out=dxp[:, :u])
            dah = dxp[:, 2 * u :]
            np.multiply(dh * (1 - z), d_act(hh), out=dah)
            # hh = act(xh + (r * hm) @ U_h)
            hm = h_prev if mask is None else h_prev * mask
            drh = dah @ rec_h_t
            np.multiply(drh * hm, d_rec(r), out=dxp[:, u : 2 * u])
            dhm = drh * r + dxp[:, : 2 * u] @ rec_zr_t
            if mask is not None:
                dhm *= mask
            dh = dh * z + dhm
            if carried is not None:
                dh += carried
        drec = None
        if self.needs_input_grad[2]:
            prev = hs[:t_steps] if mask is None else hs[:t_steps] * mask
            d2 = dx_part.reshape(-1, 3 * u)
            drec = np.empty_like(recurrent_kernel, dtype=d2.dtype)
            drec[:, : 2 * u] = prev.reshape(-1, u).T @ d2[:, : 2 * u]
            drec[:, 2 * u :] = saved_h.reshape(-1, u).T @ d2[:, 2 * u :]
        return dh, dx_part, None, drec
