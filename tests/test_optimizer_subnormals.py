"""Optimizer slots never hold (or make) subnormal numbers: every ``FLUSH_EVERY`` steps the
values below a tiny bound go to 0 (``optimizers.optimizer.flush_tiny``), so a dead unit's
decaying moments do not slow every later update (a microcode assist per operation on
Intel CPUs)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad.optimizers.optimizer import FLUSH_EVERY, flush_tiny

BOUND = {np.float32: 5e-26, np.float64: 1.5e-287}


@settings(max_examples=50, deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_flush_zeroes_tiny_values_and_keeps_the_rest(dtype, data):
    info = np.finfo(dtype)
    small, large = float(dtype(1e-20)), float(dtype(1e3))
    values = data.draw(hnp.arrays(dtype, st.integers(1, 40), elements=st.one_of(
        st.floats(-small, small, width=info.bits), st.floats(-large, large, width=info.bits))))
    slot = values.copy()
    flush_tiny(slot)
    small = np.abs(values) < BOUND[dtype] * 0.99
    assert np.all(slot[small] == 0)
    # the rest move by less than the spacing of the flush constant
    np.testing.assert_allclose(slot[~small], values[~small], rtol=0, atol=BOUND[dtype] * 2.1)
    assert not np.any((slot != 0) & (np.abs(slot) < info.tiny))


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd", "nadam", "adamax", "lion"])
def test_a_dead_units_moments_never_become_subnormal(optimizer):
    # one real gradient, then zeros: the moments decay towards 0 step after step
    kwargs = {"sgd": {"momentum": 0.9}}.get(optimizer, {})
    opt = npgrad.optimizers.get({"class_name": optimizer, "config": kwargs})
    var = npgrad.Variable(np.ones(8, np.float32))
    opt.apply_gradients([(np.full(8, 1e-3, np.float32), var)])
    tiny = np.finfo(np.float32).tiny
    for _ in range(1500):
        opt.apply_gradients([(np.zeros(8, np.float32), var)])
        for slot in opt._slots_for(var).values():
            values = np.abs(np.asarray(slot))
            assert not np.any((values > 0) & (values < tiny * 2**20))
    assert opt.iterations == 1501 and FLUSH_EVERY < 1501
