"""sync_batch_norm against F.batch_norm on the whole batch, without MPI.

The ranks are threads of this process and the allreduce a barrier that sums their buffers
(:class:`ThreadRanks`), so the op runs exactly as under MPI: every rank blocks in each
reduction until all have contributed. The combination the data-parallel trainer makes
(``sum_r share_r * gradient_r``, each rank's loss a mean over its slice) must equal one
process's gradient of the concatenated batch, for uneven slices and stand-in slices too.
"""

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad.primitives.sync_batch_norm import SyncBatchNorm, sync_batch_norm


class ThreadRanks:
    """``size`` ranks as threads; ``allreduce(rank)`` is that rank's summing collective."""

    def __init__(self, size):
        self.size = size
        self.barrier = threading.Barrier(size, timeout=30)
        self.buffers = [None] * size
        self.calls = [0] * size

    def allreduce(self, rank):
        def reduce(buffer):
            self.calls[rank] += 1
            self.buffers[rank] = np.array(buffer, copy=True)
            self.barrier.wait()
            total = np.sum(self.buffers, axis=0)  # the same order on every rank
            self.barrier.wait()
            buffer[...] = total
            return buffer
        return reduce

    def run(self, work):
        """``work(rank, allreduce)`` on every rank at once; the results in rank order."""
        results, errors = [None] * self.size, []

        def target(rank):
            try:
                results[rank] = work(rank, self.allreduce(rank))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                self.barrier.abort()

        threads = [threading.Thread(target=target, args=(r,)) for r in range(self.size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return results


def reference(x, gamma, beta, upstream, axis, momentum=0.9):
    """F.batch_norm on the whole batch: output, dx, dgamma, dbeta, moving mean and variance."""
    channels = x.shape[axis]
    mean, var = np.zeros(channels, x.dtype), np.ones(channels, x.dtype)
    xt, gt, bt = (npgrad.Tensor(a.copy(), requires_grad=True) for a in (x, gamma, beta))
    out = F.batch_norm(xt, gt, bt, mean, var, training=True, momentum=momentum, axis=axis)
    out.backward(upstream)
    return out.numpy(), xt.grad, gt.grad, bt.grad, mean, var


def data_parallel(x, gamma, beta, upstream, axis, sizes, momentum=0.9):
    """The op on slices of ``sizes`` rows (0: a stand-in row with share 0), one thread each;
    gradients combined as DataParallel combines them."""
    n, channels = len(x), x.shape[axis]
    starts = np.concatenate([[0], np.cumsum(sizes)])

    def work(rank, allreduce):
        rows = slice(starts[rank], starts[rank + 1]) if sizes[rank] else slice(0, 1)
        share = sizes[rank] / n
        mean, var = np.zeros(channels, x.dtype), np.ones(channels, x.dtype)
        xt, gt, bt = (npgrad.Tensor(a.copy(), requires_grad=True) for a in (x[rows], gamma, beta))
        out = sync_batch_norm(xt, gt, bt, mean, var, allreduce, share=share, momentum=momentum,
                              axis=axis)
        # this rank's loss is a mean over its slice: the global sum's terms divided by share
        out.backward(upstream[rows] / share if share else upstream[rows])
        return out.numpy(), xt.grad, gt.grad, bt.grad, mean, var, share

    return work, ThreadRanks(len(sizes)).run(work)


@st.composite
def batches(draw):
    ndim = draw(st.integers(2, 4))
    axis = draw(st.sampled_from([1, ndim - 1]))
    shape = [draw(st.integers(2, 9))] + [draw(st.integers(1, 3)) for _ in range(ndim - 1)]
    n = shape[0]
    ranks = draw(st.integers(2, 3))
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=ranks - 1, max_size=ranks - 1)))
    sizes = list(np.diff([0] + cuts + [n]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.normal(size=shape) * 3 + rng.normal(size=shape[axis]).reshape(
        [-1 if i == axis else 1 for i in range(ndim)]) * 5
    gamma = rng.uniform(0.5, 2.0, shape[axis])
    beta = rng.normal(size=shape[axis])
    upstream = rng.normal(size=shape)
    return x, gamma, beta, upstream, axis, sizes


@given(batches())
def test_slices_on_several_ranks_give_one_process_on_the_whole_batch(case):
    x, gamma, beta, upstream, axis, sizes = case
    out, dx, dgamma, dbeta, mean, var = reference(x, gamma, beta, upstream, axis)
    _, ranks = data_parallel(x, gamma, beta, upstream, axis, sizes)
    outputs, dxs = [], []
    for (y, g, gg, gb, m, v, share), size in zip(ranks, sizes):
        # every rank holds the global moving statistics
        np.testing.assert_allclose(m, mean, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(v, var, rtol=1e-13, atol=1e-13)
        if size:
            outputs.append(y)
            dxs.append(g * share)  # the trainer weights this rank's gradients by its share
        else:
            assert np.all(g == 0)  # a stand-in row: no gradient, no statistics
    np.testing.assert_allclose(np.concatenate(outputs), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.concatenate(dxs), dx, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(sum(r[2] * r[6] for r in ranks), dgamma, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sum(r[3] * r[6] for r in ranks), dbeta, rtol=1e-12, atol=1e-12)


def test_per_process_statistics_differ_from_the_global_ones():
    """The control: plain batch norm on each slice is not the whole batch's batch norm."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)) + np.arange(8)[:, None]  # the halves have different means
    gamma, beta, upstream = np.ones(3), np.zeros(3), rng.normal(size=(8, 3))
    out = reference(x, gamma, beta, upstream, 1)[0]
    halves = np.concatenate([reference(x[:4], gamma, beta, upstream[:4], 1)[0],
                             reference(x[4:], gamma, beta, upstream[4:], 1)[0]])
    assert np.abs(halves - out).max() > 0.5
    _, ranks = data_parallel(x, gamma, beta, upstream, 1, [4, 4])
    np.testing.assert_allclose(np.concatenate([r[0] for r in ranks]), out, atol=1e-13)


def test_each_call_makes_two_reductions_forward_and_one_backward():
    rng = np.random.default_rng(1)
    x, upstream = rng.normal(size=(6, 2, 2, 3)), rng.normal(size=(6, 2, 2, 3))
    group = ThreadRanks(2)

    def work(rank, allreduce):
        xt = npgrad.Tensor(x[rank * 3:rank * 3 + 3], requires_grad=True)
        out = sync_batch_norm(xt, np.ones(3), np.zeros(3), None, None, allreduce, share=0.5)
        calls = group.calls[rank]
        out.backward(upstream[:3])
        return calls, group.calls[rank]

    assert group.run(work) == [(2, 3), (2, 3)]


def test_a_large_mean_keeps_the_variance_exact():
    """Centered squares (two passes) instead of sum x^2 - n mean^2: no cancellation."""
    rng = np.random.default_rng(2)
    x = 1e8 + rng.normal(size=(10, 2))
    expected_var = x.var(axis=0)
    ranks = data_parallel(x, np.ones(2), np.zeros(2), np.zeros_like(x), 1, [4, 6], momentum=0.0)[1]
    for rank in ranks:
        np.testing.assert_allclose(rank[5], expected_var, rtol=1e-9)


def test_the_identity_reduction_is_plain_batch_norm():
    rng = np.random.default_rng(3)
    for dtype, tolerance in (("float64", 1e-14), ("float32", 2e-6)):
        x = rng.normal(size=(7, 3, 4)).astype(dtype)
        gamma, beta = rng.normal(size=4).astype(dtype), rng.normal(size=4).astype(dtype)
        upstream = rng.normal(size=x.shape).astype(dtype)
        expected = reference(x, gamma, beta, upstream, 2)
        mean, var = np.zeros(4, dtype), np.ones(4, dtype)
        xt, gt, bt = (npgrad.Tensor(a.copy(), requires_grad=True) for a in (x, gamma, beta))
        out = sync_batch_norm(xt, gt, bt, mean, var, lambda buffer: buffer, momentum=0.9)
        out.backward(upstream)
        for got, want in zip((out.numpy(), xt.grad, gt.grad, bt.grad, mean, var), expected):
            assert got.dtype == np.dtype(dtype)
            np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


def test_input_without_gradient_skips_the_backward_reduction():
    calls = []

    def count(buffer):
        calls.append(buffer.size)
        return buffer

    gamma = npgrad.Tensor(np.ones(3), requires_grad=True)
    out = sync_batch_norm(np.random.randn(5, 3), gamma, None, None, None, count)
    out.backward(np.ones((5, 3)))
    assert calls == [4, 3] and gamma.grad.shape == (3,)


def test_bad_arguments_are_refused_with_a_message():
    x = np.random.randn(4, 3)

    def identity(buffer):
        return buffer

    with pytest.raises(TypeError, match="allreduce must be a callable"):
        sync_batch_norm(x, None, None, None, None, allreduce=None)
    with pytest.raises(ValueError, match="share must be >= 0"):
        sync_batch_norm(x, None, None, None, None, identity, share=-1)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        sync_batch_norm(x, None, None, None, None, identity, axis=2)
    with pytest.raises(ValueError, match="gamma has shape"):
        sync_batch_norm(x, np.ones(2), None, None, None, identity)
    with pytest.raises(ValueError, match="no axis to reduce"):
        sync_batch_norm(np.ones(3), None, None, None, None, identity, axis=0)
    with pytest.raises(ValueError, match="empty on every process"):
        sync_batch_norm(x, None, None, None, None, identity, share=0)
    with pytest.raises(ValueError, match="allreduce returned shape"):
        sync_batch_norm(x, None, None, None, None, lambda buffer: buffer[:1])
    assert SyncBatchNorm.__doc__
