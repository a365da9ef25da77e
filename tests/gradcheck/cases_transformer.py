"""Registry cases: the Transformer fast paths (last-axis layer norm, and the general layer
norm over several axes, which ``F.layer_norm`` no longer reaches for the last axis alone;
self-attention with packed q/k/v projections, with and without biases and a causal mask)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad.primitives.attention_packed import packed_self_attention
from npgrad.primitives.layer_norm import layer_norm_last_axis
from npgrad.primitives.nn import layer_norm
from tests.gradcheck.registry import OpCase, arrays, floats


@st.composite
def _norm_inputs(draw, axes):
    (x,) = draw(arrays(1, min_dims=max(2, len(axes)), max_dims=3, min_side=2))
    param_shape = tuple(x.shape[a] for a in axes)
    gamma = draw(hnp.arrays(np.float64, param_shape, elements=floats(0.5, 2.0)))
    beta = draw(hnp.arrays(np.float64, param_shape, elements=floats()))
    return [x, gamma, beta], {"epsilon": draw(st.sampled_from([1e-3, 1e-5]))}


@st.composite
def _packed_inputs(draw):
    b, t, c = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, dk, dv = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes = [(b, t, c), (c, h, dk), (c, h, dk), (c, h, dv)]
    if draw(st.booleans()):
        shapes += [(h, dk), (h, dk), (h, dv)]
    arrays_ = [draw(hnp.arrays(np.float64, s, elements=floats(-1.5, 1.5))) for s in shapes]
    causal = draw(st.booleans())
    return arrays_, {"keep": np.tril(np.ones((t, t), bool)) if causal else None}


CASES = [
    OpCase("packed_self_attention", packed_self_attention, _packed_inputs()),
    OpCase("layer_norm_last_axis", layer_norm_last_axis, _norm_inputs((-1,))),
    OpCase("layer_norm_last_axis_no_affine", lambda x, g, b, **kw: layer_norm_last_axis(x, **kw),
           _norm_inputs((-1,)), requires_grad=(True, False, False)),
    OpCase("layer_norm_two_axes", lambda x, g, b, **kw: layer_norm(x, g, b, axis=(-2, -1), **kw),
           _norm_inputs((-2, -1))),
]
