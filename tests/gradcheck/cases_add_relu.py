"""Registry cases: relu(a + b) as one op (the end of a residual block)."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from tests.gradcheck.registry import OpCase, floats


@st.composite
def add_relu_inputs(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (2, 2, 3)]))
    b_shape = draw(st.sampled_from([shape, shape[-1:]]))  # same shape or broadcast
    a = draw(hnp.arrays(np.float64, shape, elements=floats()))
    b = draw(hnp.arrays(np.float64, b_shape, elements=floats()))
    assume(np.min(np.abs(a + b)) > 1e-3)  # finite differences need a + b clear of the kink
    return [a, b], {}


CASES = [OpCase("add_relu", F.add_relu, add_relu_inputs())]
