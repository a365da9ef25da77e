"""Registry cases: the fused conv2d + relu + 2x2 max-pool op."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from tests.gradcheck.registry import OpCase, floats


@st.composite
def conv_pool_inputs(draw, tie_free=True):
    """Small NHWC inputs whose conv output has at least one 2x2 window."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    extra = (kh - 1, kw - 1) if padding == "valid" else (0, 0)
    h, w = draw(st.integers(2, 5)) + extra[0], draw(st.integers(2, 5)) + extra[1]
    x = draw(hnp.arrays(np.float64, (n, h, w, c), elements=floats()))
    kernel = draw(hnp.arrays(np.float64, (kh, kw, c, f), elements=floats()))
    bias = draw(hnp.arrays(np.float64, (f,), elements=floats()))
    relu = draw(st.booleans())
    if tie_free:  # finite differences need every window's maximum clear of ties and of 0
        assume(_margin(x, kernel, bias, padding, relu) > 1e-3)
    return [x, kernel, bias], {"padding": padding, "relu": relu}


def _margin(x, kernel, bias, padding, relu):
    """Smallest gap between a window's maximum and its runner-up (and 0, with relu)."""
    z = F.conv2d(x, kernel, bias, padding=padding).numpy()
    oh, ow = z.shape[1] // 2 * 2, z.shape[2] // 2 * 2
    quarters = np.stack([z[:, dy:oh:2, dx:ow:2] for dy in (0, 1) for dx in (0, 1)])
    top2 = np.sort(quarters, axis=0)[-2:]
    margin = np.min(top2[1] - top2[0])
    if relu:
        margin = min(margin, np.min(np.abs(top2[1])))
    return margin


CASES = [
    OpCase("conv2d_max_pool2d", F.conv2d_max_pool2d, conv_pool_inputs(), atol=1e-4),
]
