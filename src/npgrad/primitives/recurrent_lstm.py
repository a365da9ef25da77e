"""The fused LSTM: a whole sequence as one Function (Keras maths, gates i, f, c, o).

The op works on transposed states: h and c are held as (U, N) and a step's gates as
(4U, N) = recurrent_kernel^T @ h^T + the step's input projection, so each gate is one
contiguous (U, N) block. NumPy's elementwise loops run about twice as fast on a contiguous
block as on the same number of elements spread over the rows of a (N, 4U) matrix, and an
LSTM step is mostly such loops around one small GEMM.

Forward: one batched GEMM projects every step's input (kernel^T @ x_t^T for all t, the bias
riding in it as the kernel's last row against a column of ones in x); each step then runs
its recurrent GEMM and ten in-place NumPy calls on contiguous gate blocks (with the default
activations one ``tanh`` or one ``exp``, whichever NumPy runs faster here, activates all
four gates: see ``recurrent_gates``). Backward computes the factors each gate's gradient
needs for a chunk of steps at once (a few calls on blocks that stay in cache), so a step of
backpropagation through time is one GEMM and six small calls on contiguous blocks (a
chunk's step gradients then go into one (4U, T*N) matrix in one copy); then one GEMM each
for dx, dkernel (whose last row, against the ones, is dbias) and drecurrent_kernel.

Inside the op the gate rows are reordered from Keras's i, f, c, o to o, i, f, g (g is
Keras's c, the candidate): the three recurrent-activation gates o, i, f are one block,
activated by one call, and the three gates the cell gradient dc multiplies (i, f, g) are
another, filled by one broadcast multiply. The weights are permuted on the way in (small
copies) and their gradients on the way out; what the caller sees is Keras's layout.

Shape letters: N batch, T time steps, F input features, U units.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.function import Function
from npgrad.primitives import recurrent_common as common
from npgrad.primitives import recurrent_gates as gates_route
from npgrad.primitives import workspace as _workspace
from npgrad.primitives.recurrent_activations import fused

# the op's gate order o, i, f, g as indices of Keras's i, f, c, o
_GATE_ORDER = (3, 0, 1, 2)
# steps whose gradient factors backward computes at once: (8, 4U, N) stays in cache
_CHUNK = 8


class LSTMSequence(Function):
    """A whole LSTM sequence (Keras maths, gates i, f, c, o).

    z = x_t @ kernel + (h_{t-1} * mask) @ recurrent_kernel + bias, split into i, f, g, o;
    i, f, o = rec_act(.); g = act(.); c_t = f * c_{t-1} + i * g; h_t = o * act(c_t).

    Inputs (positional): x (N, T, F), kernel (F, 4U), recurrent_kernel (U, 4U), h0 (N, U),
    c0 (N, U), optional bias (4U,). Constants: activation, recurrent_activation (names),
    go_backwards, recurrent_mask (N, U), mask (N, T) timestep mask (a masked step carries
    h and c over), last_only.
    Output: (N, T + 1, U): the T hidden states in processing order, then the final cell
    state; with ``last_only`` (N, 2, U): the last hidden state, then the final cell state.
    """

    def forward(self, x, kernel, recurrent_kernel, h0, c0, *bias, activation="tanh",
                recurrent_activation="sigmoid", go_backwards=False, recurrent_mask=None,
                mask=None, last_only=False):
        u = common.check_shapes("lstm", x, kernel, recurrent_kernel, [h0, c0], 4)
        act, d_act = fused(activation, "lstm")
        rec_act, d_rec = fused(recurrent_activation, "lstm")
        # (T, N, F), or (T, N, F + 1) with a column of ones: the bias then rides in the input
        # projection's GEMM as the kernel's last row, and its gradient comes out of the
        # kernel gradient's GEMM (no pass over the (T, 4U, N) gates, no GEMV)
        xt = common.time_major(x, go_backwards, ones=bool(bias))
        t_steps, n, _ = xt.shape
        rmask = common.check_recurrent_mask("lstm", recurrent_mask, n, u, xt.dtype)
        keep, skip = common.step_mask("lstm", mask, n, t_steps, go_backwards)
        columns = common.gate_columns(u, _GATE_ORDER)
        kernel_p, rec_p = kernel[:, columns], recurrent_kernel[:, columns]
        if bias:  # (F + 1, 4U)
            kernel_p = np.concatenate([kernel_p, bias[0][columns][None].astype(kernel_p.dtype)])
        training = any(self.needs_input_grad)
        dtype = np.result_type(xt, kernel_p)
        # gates: (T, 4U, N) pre-activations o, i, f, g (kernel^T @ x_t^T, one batched GEMM),
        # turned into activations in place (a reused buffer when nothing needs gradients)
        gates = np.empty((t_steps, 4 * u, n), dtype=dtype) if training else \
            _workspace.scratch("lstm_gates", (t_steps, 4 * u, n), dtype)
        # with the default activations every gate comes out of one tanh or one exp, the
        # faster here (recurrent_gates): the weights are scaled on the way in (copies;
        # backward keeps the caller's)
        route = None
        if recurrent_activation == "sigmoid" and activation == "tanh":
            route = gates_route.gate_route(dtype)
        projection, rec_t = kernel_p, np.array(rec_p.T, order="C")  # rec_t: (4U, U), a copy
        if route is not None:
            projection = kernel_p.copy()
            for rows, factor in zip((slice(0, 3 * u), slice(3 * u, None)),
                                    gates_route.WEIGHT_FACTORS[route]):
                if factor != 1:
                    projection[:, rows] *= projection.dtype.type(factor)
                    rec_t[rows] *= rec_t.dtype.type(factor)
        activate_gates = {"tanh": gates_route.tanh_gates, "exp": gates_route.exp_gates}.get(route)
        np.matmul(projection.T, xt.transpose(0, 2, 1), out=gates)
        # hs: h0, h_1 .. h_T, then c_T, each (U, N) (the op's output is hs[1:], transposed);
        # cs: c0, c_1 .. c_T (in training; else two rows in turn); the state before step t
        # is row t, the state after it row t + 1
        hs = np.empty((t_steps + 2, u, n), dtype=dtype)
        hs[0] = h0.T
        cs = np.empty((t_steps + 1 if training else 2, u, n), dtype=dtype)
        cs[0] = c0.T
        act_cs = np.empty((t_steps if training else 1, u, n), dtype=dtype)  # act(c_t)
        rec = np.empty((4 * u, n), dtype=dtype)
        ig = np.empty((u, n), dtype=dtype)
        rmask_t = None if rmask is None else np.ascontiguousarray(rmask.T)
        skip_t = None if skip is None else skip.transpose(0, 2, 1)  # (T, 1, N)
        with common.step_loop(), np.errstate(over="ignore"):  # exp overflow: its limit
            for t in range(t_steps):
                z, h = gates[t], hs[t]
                c_prev, c = (cs[t], cs[t + 1]) if training else (cs[t % 2], cs[1 - t % 2])
                act_c = act_cs[t] if training else act_cs[0]
                np.matmul(rec_t, h if rmask_t is None else h * rmask_t, out=rec)
                z += rec
                if activate_gates is not None:
                    activate_gates(z, 3 * u)
                else:
                    rec_act(z[: 3 * u])
                    act(z[3 * u :])
                o, i, f, g = z[:u], z[u : 2 * u], z[2 * u : 3 * u], z[3 * u :]
                np.multiply(f, c_prev, out=c)
                np.multiply(i, g, out=ig)
                c += ig
                if skip_t is not None:  # masked columns keep the previous c (and h, below)
                    np.copyto(c, c_prev, where=skip_t[t])
                act(c, out=act_c)
                np.multiply(o, act_c, out=hs[t + 1])
                if skip_t is not None:
                    np.copyto(hs[t + 1], h, where=skip_t[t])
        hs[t_steps + 1] = cs[t_steps if training else t_steps % 2]
        self.save_for_backward(xt, kernel_p, rec_p, gates, hs, cs, act_cs)
        self.columns, self.mask, self.keep = columns, rmask_t, keep
        self.go_backwards, self.has_bias = go_backwards, bool(bias)
        self.d_act, self.d_rec_act = d_act, d_rec
        self.last_only = last_only
        return common.last_steps(hs[1:], t_steps, last_only)

    def _factors(self, gates, cs, act_cs, start, stop):
        """What the gradients of steps start .. stop-1 multiply, computed for those steps
        at once (a chunk small enough to stay in cache), in two scratch arrays:

        dc_dh (L, U, N) = o * act'(c): h = o * act(c) sends dh * dc_dh to dc;
        factors (L, 4, U, N) = [act(c) * o', g * i', c_prev * f', i * g'], the
        pre-activation gradients of o per unit of dh and of i, f, g per unit of dc.
        """
        u, n = act_cs.shape[1:]
        length = stop - start
        z = gates[start:stop]
        o, i, g = z[:, :u], z[:, u : 2 * u], z[:, 3 * u :]
        act_c = act_cs[start:stop]
        dc_dh = _workspace.scratch("lstm_dc_dh", (length, u, n), gates.dtype)
        self.d_act(act_c, out=dc_dh)
        dc_dh *= o
        factors = _workspace.scratch("lstm_factors", (length, 4, u, n), gates.dtype)
        self.d_rec_act(z[:, : 3 * u], out=factors[:, :3].reshape(length, 3 * u, n))
        factors[:, 0] *= act_c
        factors[:, 1] *= g
        factors[:, 2] *= cs[start:stop]
        self.d_act(g, out=factors[:, 3])
        factors[:, 3] *= i
        return dc_dh, factors

    def backward(self, grad):
        xt, kernel_p, rec_p, gates, hs, cs, act_cs = self.saved
        mask, keep, columns = self.mask, self.keep, self.columns
        t_steps, u, n = act_cs.shape
        dtype = gates.dtype
        f = gates[:, 2 * u : 3 * u]
        # (T + 1, U, N): the steps, c_T
        g_out, live = common.step_gradients(grad, t_steps, self.last_only)
        # dz: d pre-activations (4, U, T, N), so that (4U, T*N) is one matrix for the GEMMs.
        # A step writes its (4U, N) block into a contiguous chunk buffer first, which its
        # recurrent GEMM reads; each chunk then goes into dz in one copy. (Written straight
        # into dz, a step's rows lie T*N values apart, every one in the same cache set when
        # T*N*itemsize is a multiple of 4 KiB: the loop ran 25 % slower.)
        dz = _workspace.scratch("lstm_dz", (4, u, t_steps, n), dtype)
        steps = _workspace.scratch("lstm_dz_chunk", (_CHUNK, 4, u, n), dtype)
        dh = np.zeros((u, n), dtype=dtype)
        # C order, as every block it meets: a copy of the transposed view keeps its strides
        # (order "K"), and each of the step's three calls on an F-ordered dc against C-ordered
        # blocks took 4-5x as long (a (64, 32) add: 3.9 against 0.7 us)
        dc = np.array(g_out[t_steps], dtype=dtype, order="C")
        tmp = np.empty((u, n), dtype=dtype)
        carried_h = carried_c = None
        keep_t = None if keep is None else keep.transpose(0, 2, 1)  # (T, 1, N)
        with common.step_loop():  # NumPy's BLAS at one thread (recurrent_common)
            for t in range(t_steps - 1, -1, -1):
                k = t % _CHUNK  # the step within its chunk of the factors
                if t == t_steps - 1 or k == _CHUNK - 1:
                    length = k + 1
                    dc_dh, factors = self._factors(gates, cs, act_cs, t - k, t + 1)
                if live[t]:
                    dh += g_out[t]
                if keep_t is not None:
                    # (h_t, c_t) = keep * (new h, new c) + (1 - keep) * (h_{t-1}, c_{t-1})
                    dh, carried_h = common.split_masked(dh, keep_t[t], dtype)
                    dc, carried_c = common.split_masked(dc, keep_t[t], dtype)
                np.multiply(dh, dc_dh[k], out=tmp)
                dc += tmp  # h = o * act(c)
                step = steps[k]  # (4, U, N): do, di, df, dg
                np.multiply(dh, factors[k, 0], out=step[0])
                np.multiply(dc, factors[k, 1:], out=step[1:])
                dc *= f[t]  # c = f * c_prev + i * g
                # h_{t-1} enters only through (h_{t-1} * mask) @ recurrent_kernel
                np.matmul(rec_p, step.reshape(4 * u, n), out=dh)
                if k == 0:  # the chunk's first step: the chunk is done
                    np.copyto(dz[:, :, t : t + length], steps[:length].transpose(1, 2, 0, 3))
                if mask is not None:
                    dh *= mask
                if carried_h is not None:
                    dh += carried_h
                    dc += carried_c
        dz2 = dz.reshape(4 * u, t_steps * n)  # columns in (t, n) order, as xt's rows
        dx = dkernel = drec = None
        f_in = kernel_p.shape[0] - self.has_bias  # F; the bias row follows when there is one
        if self.needs_input_grad[0]:
            # (T*N, F) rows in (t, n) order: time-major, as the other ops' input gradients
            dx = common.batch_major((dz2.T @ kernel_p[:f_in].T).reshape(t_steps, n, -1),
                                    self.go_backwards)
        wants_db = self.has_bias and self.needs_input_grad[5]
        dkernel_and_bias = None
        if self.needs_input_grad[1] or wants_db:  # (F [+ 1], 4U): the last row sums dz
            dkernel_and_bias = (dz2 @ xt.reshape(t_steps * n, -1)).T
        if self.needs_input_grad[1]:
            dkernel = common.unpermute_columns(dkernel_and_bias[:f_in], columns)
        if self.needs_input_grad[2]:
            prev = hs[:t_steps] if mask is None else hs[:t_steps] * mask  # h0 .. h_{T-1}
            # (T, U, N) -> rows (t, n) of U: the previous states as xt's rows
            prev = np.ascontiguousarray(prev.transpose(0, 2, 1)).reshape(t_steps * n, u)
            drec = common.unpermute_columns((dz2 @ prev).T, columns)
        grads = [dx, dkernel, drec, dh.T if self.needs_input_grad[3] else None,
                 dc.T if self.needs_input_grad[4] else None]
        if self.has_bias:
            grads.append(common.unpermute_columns(dkernel_and_bias[f_in], columns)
                         if wants_db else None)
        return tuple(grads)
