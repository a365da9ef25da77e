"""Every registry case: analytic gradients against float64 central differences."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npgrad.utils.gradcheck import gradcheck
from tests.gradcheck.registry import ALL_CASES


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_backward_matches_finite_differences(case, data):
    arrays, kwargs = data.draw(case.inputs)
    gradcheck(case.fn, arrays, kwargs, eps=case.eps, atol=case.atol, rtol=case.rtol,
              requires_grad=case.requires_grad)
