"""The recurrent ops on two halves of the batch, the second half in the helper process
(``npgrad.primitives.batch_halves``, ``helper_process``): pinned to the op run whole, and the
helper's life cycle (what it keeps, a killed helper, forks, errors, the switch)."""

import gc
import os
import signal
import time
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npgrad import Tensor
from npgrad.autograd.engine import graph_ops
from npgrad.primitives import batch_halves, helper_process
from npgrad.primitives import recurrent as ops
from npgrad.trainers import trainer as trainer_module
from npgrad.utils import threads

pytestmark = pytest.mark.skipif(not helper_process.available(),
                                reason="the helper process needs os.fork and os.memfd_create")


@pytest.fixture
def split():
    """Split every recurrent op of two samples or more (the size thresholds off)."""
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "1"}), \
            mock.patch.multiple(batch_halves, MIN_BATCH=2, MIN_FLOPS=0):
        yield


def _inputs(kind, n, t=6, f=5, u=4, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    k = {"lstm": 4, "gru": 3, "simple_rnn": 1}[kind] * u
    arrays = [rng.standard_normal((n, t, f)), rng.standard_normal((f, k)) * 0.5,
              rng.standard_normal((u, k)) * 0.5]
    arrays += [rng.standard_normal((n, u)) for _ in range(2 if kind == "lstm" else 1)]
    arrays.append(rng.standard_normal((2, k) if kind == "gru" else (k,)))
    return [a.astype(dtype) for a in arrays]


def _run(kind, arrays, **kwargs):
    """The op's output and every input's gradient of sum(output * weights)."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    x, kernel, rec, *states, bias = tensors
    if kind == "lstm":
        hs, c = ops.lstm(x, kernel, rec, bias, *states, **kwargs)
        out = hs * 1.5 + c.reshape((c.shape[0], 1, -1)) * 0.5
    else:
        out = getattr(ops, kind)(x, kernel, rec, bias, *states, **kwargs)
    classes = {type(op).__name__ for op in graph_ops(out)}
    weights = np.linspace(-1, 1, out.data.size).reshape(out.shape)
    (out * weights).sum().backward()
    return [out.data] + [t.grad for t in tensors], classes


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["lstm", "gru", "simple_rnn"]), n=st.integers(2, 9),
       go_backwards=st.booleans(), masked=st.booleans(), dropout=st.booleans(),
       seed=st.integers(0, 99))
def test_halves_match_the_whole_op_in_float64(kind, n, go_backwards, masked, dropout, seed):
    arrays = _inputs(kind, n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    kwargs = {"go_backwards": go_backwards}
    if masked:
        kwargs["mask"] = rng.random((n, 6)) > 0.3
    if dropout:
        kwargs["recurrent_mask"] = (rng.random((n, 4)) > 0.5) * 2.0
    whole, whole_ops = _run(kind, arrays, **kwargs)
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "1"}), \
            mock.patch.multiple(batch_halves, MIN_BATCH=2, MIN_FLOPS=0):
        halves, halves_ops = _run(kind, arrays, **kwargs)
    assert "BatchHalves" in halves_ops and "BatchHalves" not in whole_ops
    for a, b in zip(whole, halves):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)


def test_float32_halves_match_the_whole_op(split):
    arrays = _inputs("lstm", 40, t=30, f=16, u=24, dtype="float32")
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "0"}):
        whole, _ = _run("lstm", arrays)
    halves, classes = _run("lstm", arrays)
    assert "BatchHalves" in classes
    # each sample's maths is the same, to the rounding of products blocked for another N
    np.testing.assert_allclose(halves[0], whole[0], rtol=1e-5, atol=2e-6)
    for a, b in zip(whole[1:], halves[1:]):
        # a gradient sums 40 x 30 float32 products: its rounding scales with its largest
        # entries (an AVX-512 Xeon: 3e-5 off on an entry of 0.03 in a gradient up to 15)
        np.testing.assert_allclose(b, a, rtol=2e-4, atol=1e-5 * np.abs(a).max())


def test_the_helper_keeps_a_half_until_the_graph_lets_go(split):
    arrays = [Tensor(a, requires_grad=True) for a in _inputs("gru", 6)]
    gc.collect()
    before = batch_halves.helper_holds()
    out = ops.gru(arrays[0], arrays[1], arrays[2], arrays[4], arrays[3])
    assert batch_halves.helper_holds() == before + 1
    out.sum().backward(retain_graph=True)
    first = arrays[1].grad.copy()
    arrays[1].grad = None
    out.sum().backward()  # retain_graph: the helper still had its half
    np.testing.assert_allclose(arrays[1].grad, first)
    del out
    gc.collect()
    assert batch_halves.helper_holds() == before
    with_no_grad = ops.gru(*[Tensor(a.data) for a in arrays[:3]], Tensor(arrays[4].data),
                           Tensor(arrays[3].data))
    assert with_no_grad.shape == (6, 6, 4)
    assert batch_halves.helper_holds() == before  # inference keeps nothing there


def test_an_error_in_this_half_leaves_the_helper_in_step(split):
    arrays = [Tensor(a) for a in _inputs("lstm", 4)]
    x, kernel, rec, h0, c0, bias = arrays
    with pytest.raises(ValueError, match="lstm"):  # raised by the op, in both halves
        ops.lstm(x, Tensor(np.ones((6, 16))), rec, bias, h0, c0)
    with pytest.raises(ValueError, match="recurrent_mask"):  # the op names the bad shape
        ops.lstm(x, kernel, rec, bias, h0, c0, recurrent_mask=np.ones((4, 3)))
    hs, _ = ops.lstm(x, kernel, rec, bias, h0, c0)  # the next request is answered
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "0"}):
        reference, _ = ops.lstm(x, kernel, rec, bias, h0, c0)
    np.testing.assert_allclose(hs.data, reference.data)


def test_a_killed_helper_costs_nothing_but_the_second_core(split):
    arrays = _inputs("lstm", 6)
    whole, _ = _run("lstm", arrays)
    helper = helper_process.get()
    os.kill(helper.pid, signal.SIGKILL)
    os.waitpid(helper.pid, 0)
    try:
        after, classes = _run("lstm", arrays)  # this forward finds it gone: runs whole here
        for a, b in zip(whole, after):
            np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)
        assert helper_process.get() is None  # and no more splitting in this process
        _, classes = _run("lstm", arrays)
        assert "BatchHalves" not in classes
    finally:
        helper_process.shut_down()
        helper_process._STATE["failed"] = False


def test_a_process_forked_later_does_not_share_the_helper(split):
    _run("gru", _inputs("gru", 4))
    assert helper_process.running() is not None
    pid = os.fork()
    if pid == 0:  # e.g. a DataParallel(processes=2) rank
        os._exit(0 if helper_process.running() is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _run("gru", _inputs("gru", 4))  # this process's helper still answers


def test_the_shared_area_grows_for_large_halves(split):
    helper = helper_process.get()
    size = helper.area.size
    arrays = _inputs("simple_rnn", 8, t=300, f=200, u=300)  # 2.4 MB of x a half, 4x the out
    whole, _ = _run("simple_rnn", arrays)
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "1"}):
        halves, _ = _run("simple_rnn", arrays)
    assert helper.area.size > size
    for a, b in zip(whole, halves):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)


def test_when_it_splits():
    arrays = [Tensor(a, requires_grad=True) for a in _inputs("lstm", 16, t=80, f=64, u=64)]

    def classes(**env):
        with mock.patch.dict(os.environ, env):
            hs, _ = ops.lstm(arrays[0], arrays[1], arrays[2], arrays[5], arrays[3], arrays[4])
        return {type(op).__name__ for op in graph_ops(hs)}

    assert "BatchHalves" in classes(**{batch_halves.ENVIRONMENT: "1"})  # big enough
    assert "BatchHalves" not in classes(**{batch_halves.ENVIRONMENT: "0"})
    with mock.patch.object(batch_halves._blas_pools, "get_threads", return_value=1):
        assert not batch_halves.wanted()  # one core to use: nothing to split over
        assert "BatchHalves" not in classes()
    with mock.patch.object(batch_halves._blas_pools, "get_threads", return_value=2):
        assert batch_halves.wanted()
        assert "BatchHalves" in classes()
        small = [Tensor(a) for a in _inputs("lstm", 16)]  # 16 x 6 steps: too little work
        hs, _ = ops.lstm(small[0], small[1], small[2], small[5], small[3], small[4])
        assert "BatchHalves" not in {type(op).__name__ for op in graph_ops(hs)}
        with mock.patch.dict(os.environ, {"PMI_SIZE": "2"}):  # one of two MPI ranks
            assert batch_halves.under_mpi() and not batch_halves.wanted()
            assert "BatchHalves" not in classes()
    with mock.patch.dict(os.environ, {batch_halves.ENVIRONMENT: "2"}), \
            pytest.raises(ValueError, match="NPGRAD_SPLIT_BATCH must be 0, 1 or unset, got '2'"):
        batch_halves.wanted()


def test_another_thread_finds_the_helper_busy_and_runs_whole(split):
    helper = helper_process.get()
    arrays = _inputs("gru", 4)
    with helper.lock:  # as if another thread's request were under way
        _, classes = _run("gru", arrays)
    assert "BatchHalves" not in classes


def test_this_process_counts_the_helpers_cpu_time_as_its_own(split):
    _run("lstm", _inputs("lstm", 64, t=40))
    helper = helper_process.running()
    assert helper.cpu_seconds() > 0
    times = os.times()
    assert threads._cpu_seconds() >= times.user + times.system + helper.cpu_seconds() - 0.05


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="needs smaps_rollup")
def test_a_helper_holding_old_copies_of_rewritten_memory_is_refreshed(split):
    helper_process.shut_down()
    data = np.ones((24, 1 << 20), dtype=np.float32)  # 96 MiB made before the fork...
    arrays = [Tensor(a, requires_grad=True) for a in _inputs("gru", 4)]
    out = ops.gru(arrays[0], arrays[1], arrays[2], arrays[4], arrays[3])
    helper = helper_process.running()
    before = helper.private_mib()
    data += 1  # ...rewritten after it: the helper keeps the old pages
    assert helper.private_mib() > before + 80
    assert not batch_halves.refresh_helper()  # the graph still needs the helper's half
    out.sum().backward()
    del out
    gc.collect()
    assert batch_halves.refresh_helper()  # nothing kept there: ended, memory given back
    assert helper_process.running() is None
    assert not batch_halves.refresh_helper()  # no helper now
    _, classes = _run("gru", _inputs("gru", 4))  # the next split op forks a fresh one
    assert "BatchHalves" in classes and helper_process.running().pid != helper.pid
    assert helper_process.running().private_mib() < 64


def test_fit_reads_the_helpers_memory_at_most_every_few_seconds(split, monkeypatch):
    _run("gru", _inputs("gru", 4))  # a helper is running
    helper = helper_process.running()
    reads = []
    monkeypatch.setattr(type(helper), "private_mib", lambda self: reads.append(1) or 0.0)
    monkeypatch.setitem(batch_halves._CHECKED, "at", None)
    every = batch_halves.REFRESH_EVERY
    assert not batch_halves.refresh_helper(interval=every)
    assert not batch_halves.refresh_helper(interval=every)  # too soon: nothing read
    assert len(reads) == 1
    assert not batch_halves.refresh_helper()  # a direct call reads now
    assert len(reads) == 2
    monkeypatch.setitem(trainer_module._ADAPTED, "at", None)
    trainer_module.adapt_threads_now()  # what fit runs: within the interval, no read
    assert len(reads) == 2
    monkeypatch.setitem(batch_halves._CHECKED, "at", time.monotonic() - every)
    trainer_module.adapt_threads_now()  # the interval has passed
    assert len(reads) == 3
