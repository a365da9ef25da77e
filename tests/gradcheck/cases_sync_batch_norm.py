"""Registry cases: synchronized batch normalization (primitives/sync_batch_norm.py).

One process runs the op on its slice while a simulated peer (:class:`_Peer`, a constant slice
``other``) answers the reductions exactly as a second rank would: its count and sums, then
its squares centered on the global mean, then a zero gradient contribution (the peer's loss
is not part of the function checked). The function checked is then this slice's output of
batch norm over the concatenated batch, differentiated with respect to this slice and the
parameters; the local ``share`` must cancel out of it.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad.primitives.sync_batch_norm import sync_batch_norm
from tests.gradcheck.registry import OpCase, floats


class _Peer:
    """A second rank holding ``other``: its side of the three reductions of one op call."""

    def __init__(self, other, axis):
        moved = np.moveaxis(other, axis, -1)
        self.rows = moved.reshape(-1, moved.shape[-1])
        self.calls = 0
        self.mean = None

    def __call__(self, buffer):
        self.calls += 1
        if self.calls == 1:  # [count, sum x]
            buffer[0] += len(self.rows)
            buffer[1:] += self.rows.sum(axis=0)
            self.mean = buffer[1:] / buffer[0]
        elif self.calls == 2:  # sum (x - global mean)^2
            buffer += ((self.rows - self.mean) ** 2).sum(axis=0)
        return buffer  # backward: the peer's loss is not in this function (adds 0)


@st.composite
def _sync_inputs(draw):
    ndim = draw(st.integers(2, 4))
    axis = draw(st.sampled_from([1, ndim - 1]))
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=3))
    other_shape = (draw(st.integers(1, 3)),) + shape[1:]
    channels = shape[axis]
    x = draw(hnp.arrays(np.float64, shape, elements=floats()))
    other = draw(hnp.arrays(np.float64, other_shape, elements=floats()))
    gamma = draw(hnp.arrays(np.float64, (channels,), elements=floats(0.5, 2.0)))
    beta = draw(hnp.arrays(np.float64, (channels,), elements=floats()))
    return [x, gamma, beta], {"other": other, "axis": axis,
                              "share": draw(st.sampled_from([0.25, 0.5, 1.0]))}


def _sync_batch_norm(x, gamma, beta, other, axis, share):
    return sync_batch_norm(x, gamma, beta, None, None, _Peer(other, axis), share=share, axis=axis)


def _sync_batch_norm_no_affine(x, gamma, beta, other, axis, share):
    return sync_batch_norm(x, None, None, None, None, _Peer(other, axis), share=share, axis=axis)


CASES = [
    OpCase("sync_batch_norm", _sync_batch_norm, _sync_inputs()),
    OpCase("sync_batch_norm_no_affine", _sync_batch_norm_no_affine, _sync_inputs(),
           requires_grad=(True, False, False)),
]
