"""Registry cases: the fast paths of narrow networks, checked by finite differences too.

conv2d with 8-32 channels runs as per-tap GEMMs (primitives/conv_taps.py) in its forward,
both gradients and its strided input gradient; batch_norm(relu=True) is the normalization
with the ReLU inside (BatchNormalization + ReLU fusion), capped too (relu_cap: ReLU6).
"""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from tests.gradcheck.registry import OpCase, floats


@st.composite
def narrow_conv_inputs(draw):
    strides = draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from(["valid", "same"]))
    x = draw(hnp.arrays(np.float64, (1, 4, 4, 8), elements=floats()))
    kernel = draw(hnp.arrays(np.float64, (3, 3, 8, 8), elements=floats(-1.0, 1.0)))
    return [x, kernel], {"strides": strides, "padding": padding}


@st.composite
def batch_norm_relu_inputs(draw, cap=None):
    x = draw(hnp.arrays(np.float64, (4, 2, 3), elements=floats()))
    gamma = draw(hnp.arrays(np.float64, (3,), elements=floats(0.5, 2.0)))
    beta = draw(hnp.arrays(np.float64, (3,), elements=floats(-0.5, 0.5)))
    assume(np.ptp(x.reshape(-1, 3), axis=0).min() > 0.5)  # a batch variance clear of 0
    moments = x.reshape(-1, 3)
    y = (moments - moments.mean(0)) / np.sqrt(moments.var(0) + 1e-3) * gamma + beta
    assume(np.min(np.abs(y)) > 1e-3)  # finite differences need the output clear of the kink
    if cap is not None:
        assume(np.min(np.abs(y - cap)) > 1e-3)  # and of the cap
    return [x, gamma, beta], {} if cap is None else {"relu_cap": cap}


def _batch_norm_relu(x, gamma, beta, relu_cap=None):
    c = x.shape[-1]
    return F.batch_norm(x, gamma, beta, np.zeros(c), np.ones(c), training=True, relu=True,
                        relu_cap=relu_cap)


CASES = [
    OpCase("conv2d_narrow", F.conv2d, narrow_conv_inputs(), covers=("conv2d",)),
    OpCase("batch_norm_relu", _batch_norm_relu, batch_norm_relu_inputs(), covers=("batch_norm",)),
    OpCase("batch_norm_relu_capped", _batch_norm_relu, batch_norm_relu_inputs(cap=1.0),
           covers=("batch_norm",)),
]
