"""Registry cases: the Transformer fast paths (last-axis layer norm, and the general layer
norm over several axes, which ``F.layer_norm`` no longer reaches for the last axis alone)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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


CASES = [
    OpCase("layer_norm_last_axis", layer_norm_last_axis, _norm_inputs((-1,))),
    OpCase("layer_norm_last_axis_no_affine", lambda x, g, b, **kw: layer_norm_last_axis(x, **kw),
           _norm_inputs((-1,)), requires_grad=(True, False, False)),
    OpCase("layer_norm_two_axes", lambda x, g, b, **kw: layer_norm(x, g, b, axis=(-2, -1), **kw),
           _norm_inputs((-2, -1))),
]
