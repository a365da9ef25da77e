"""Recurrent ops: a whole SimpleRNN, LSTM or GRU sequence as one fused Function.

SimpleRNN lives here with the public wrappers; the LSTM and GRU ops in ``recurrent_lstm``
and ``recurrent_gru``, what all three share in ``recurrent_common``.

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
from npgrad.primitives import batch_halves as _batch_halves
from npgrad.primitives import elementwise as _elementwise
from npgrad.primitives import linalg as _linalg
from npgrad.primitives import recurrent_common as common
from npgrad.primitives import shape as _shape
from npgrad.primitives.recurrent_activations import (
    COMPOSED_ACTIVATIONS,
    FUSED_ACTIVATIONS,
    fused,
)
from npgrad.primitives.recurrent_gru import GRUSequence
from npgrad.primitives.recurrent_lstm import LSTMSequence

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
        units = common.check_shapes("simple_rnn", x, kernel, recurrent_kernel, [h0], 1)
        act, self.d_act = fused(activation, "simple_rnn")
        xt = common.time_major(x, go_backwards)  # (T, N, F)
        t_steps, n, n_in = xt.shape
        rmask = common.check_recurrent_mask("simple_rnn", recurrent_mask, n, units, xt.dtype)
        keep, skip = common.step_mask("simple_rnn", mask, n, t_steps, go_backwards)
        # hs: (T, N, U), pre-activations first, overwritten step by step by the states
        hs = (xt.reshape(t_steps * n, n_in) @ kernel).reshape(t_steps, n, units)
        if bias:
            hs += bias[0]
        h = h0
        with common.step_loop(), np.errstate(over="ignore"):  # exp overflow: its limit
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
        with common.step_loop():  # NumPy's BLAS at one thread (recurrent_common)
            for t in range(hs.shape[0] - 1, -1, -1):
                dh = dh + g[t]
                if keep is not None:
                    # h_t = keep * act(a_t) + (1 - keep) * h_{t-1}
                    dh, carried = common.split_masked(dh, keep[t], hs.dtype)
                # at masked rows hs[t] holds the carried state, but dh is 0 there
                np.multiply(dh, d_act(hs[t]), out=da[t])
                # h_{t-1} enters only through (h_{t-1} * mask) @ recurrent_kernel
                dh = da[t] @ rec_t
                if mask is not None:
                    dh *= mask
                if carried is not None:
                    dh += carried
        dx, dkernel = common.input_grads(self, xt, kernel, da, self.go_backwards)
        drec = None
        if self.needs_input_grad[2]:
            drec = common.previous_states(h0, hs, mask).T @ da.reshape(-1, da.shape[-1])
        grads = [dx, dkernel, drec, dh if self.needs_input_grad[3] else None]
        if self.has_bias:
            grads.append(da.sum(axis=(0, 1)) if self.needs_input_grad[4] else None)
        return tuple(grads)


# ------------------------------------------------------------------ public wrappers

for _op in (SimpleRNNSequence, LSTMSequence, GRUSequence):
    _batch_halves.register(_op)


def _split_or_apply(op, x, kernel, recurrent_kernel, states, extra, **constants):
    """``op.apply(x, kernel, recurrent_kernel, *states, *extra, **constants)``, on two halves
    of the batch in two processes when that pays (:mod:`npgrad.primitives.batch_halves`):
    x and the states have the batch axis, the weights and the bias not. Work: the forward's
    products, 2 T N (F + U) kU."""
    shape, rec_shape = np.shape(x), np.shape(recurrent_kernel)
    flops = 0.0  # a malformed input is the op's to name
    if len(shape) == 3 and len(rec_shape) == 2:
        (n, t_steps, features), (units, width) = shape, rec_shape
        flops = 2.0 * t_steps * n * (features + units) * width
    batch_axes = (0, None, None) + (0,) * len(states) + (None,) * len(extra)
    return _batch_halves.apply(op, (x, kernel, recurrent_kernel, *states, *extra), batch_axes,
                               flops, **constants)


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
    keep, _ = common.step_mask(op, mask, x.shape[0], x.shape[1], go_backwards)
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
        return _split_or_apply(SimpleRNNSequence, x, kernel, recurrent_kernel, (h0,), extra,
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
         recurrent_activation="sigmoid", go_backwards=False, recurrent_mask=None, mask=None,
         return_sequences=True):
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
        return_sequences: False: hs holds the last step's state only (what a layer without
            ``return_sequences`` keeps; the fused op then never makes the others into an
            output, see ``recurrent_common.last_steps``).

    Returns:
        (hs, c): hs (N, T, U) the hidden states ((N, 1, U), the last, without
        ``return_sequences``), c (N, U) the final cell state.
    """
    units = recurrent_kernel.shape[0]
    h0 = _zeros_state(x, units) if h0 is None else h0
    c0 = _zeros_state(x, units) if c0 is None else c0
    t_steps = x.shape[1]
    if _is_fusable(activation, recurrent_activation):
        extra = () if bias is None else (bias,)
        last_only = not return_sequences
        out = _split_or_apply(LSTMSequence, x, kernel, recurrent_kernel, (h0, c0), extra,
                              activation=activation, recurrent_activation=recurrent_activation,
                              go_backwards=bool(go_backwards), recurrent_mask=recurrent_mask,
                              mask=mask, last_only=last_only)
        steps = 1 if last_only else t_steps  # the cell state follows them
        return _shape.getitem(out, (slice(None), slice(0, steps))), \
            _shape.getitem(out, (slice(None), steps))
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
    return _shape.stack(outputs if return_sequences else outputs[-1:], axis=1), c


def gru(x, kernel, recurrent_kernel, bias=None, h0=None, activation="tanh",
        recurrent_activation="sigmoid", reset_after=True, go_backwards=False,
        recurrent_mask=None, mask=None, return_sequences=True):
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
        return_sequences: False: only the last step's state, (N, 1, U) (as :func:`lstm`).

    Returns:
        Tensor (N, T, U): the state after every step; its last step is the final state.
    """
    units = u = recurrent_kernel.shape[0]
    h0 = _zeros_state(x, units) if h0 is None else h0
    if _is_fusable(activation, recurrent_activation):
        extra = () if bias is None else (bias,)
        return _split_or_apply(GRUSequence, x, kernel, recurrent_kernel, (h0,), extra,
                               activation=activation, recurrent_activation=recurrent_activation,
                               reset_after=bool(reset_after), go_backwards=bool(go_backwards),
                               recurrent_mask=recurrent_mask, mask=mask,
                               last_only=not return_sequences)
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
    return _shape.stack(outputs if return_sequences else outputs[-1:], axis=1)
