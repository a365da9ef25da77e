"""Element-wise passes shared between threads (``npgrad.primitives.parallel``): the pool's
rules, and every op that uses it pinned to the same op on one thread."""

import os
import queue
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import Tensor
from npgrad.primitives import activation_extra, attention, blas_pools, conv, conv_taps, normal_cdf
from npgrad.primitives import layer_norm, parallel
from npgrad.primitives import workspace
from npgrad.primitives.rectify import masked, rectify, relu_mask
from tests.primitives.pool_jobs import share


@pytest.fixture
def two_threads():
    previous = npgrad.utils.get_num_threads()
    npgrad.utils.set_num_threads(2)
    yield
    npgrad.utils.set_num_threads(previous)


@pytest.fixture
def shared(two_threads, monkeypatch):
    """Two threads, blocks of any size: every pass of more than one row is shared. Yields
    the list of block counts of the calls that used the pool."""
    yield share(monkeypatch, pretend=False)


def _alone(fn, monkeypatch):
    """fn() with the pool off (one thread runs every pass)."""
    with monkeypatch.context() as m:
        m.setenv("NPGRAD_PARALLEL", "0")
        return fn()


# ------------------------------------------------------------------ the pool's rules
@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 500), row_bytes=st.integers(1, 4096), parts=st.integers(1, 8),
       min_bytes=st.integers(1, 2**20))
def test_block_bounds_cover_the_rows_once_in_order(n, row_bytes, parts, min_bytes):
    bounds = parallel.block_bounds(n, row_bytes, parts, min_bytes)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert len(bounds) <= max(1, parts * parallel.BLOCKS_PER_THREAD)
    if len(bounds) > 1:  # every block worth a thread
        assert all((hi - lo) * row_bytes >= min_bytes * 0.5 for lo, hi in bounds)
        assert all(hi > lo for lo, hi in bounds)


def test_blocks_come_back_in_order(shared):
    def block(lo, hi):
        return lo, hi, float(np.arange(lo, hi).sum())

    results = parallel.map_blocks(block, 1000, 8)
    assert [r[:2] for r in results] == parallel.block_bounds(1000, 8, 2)
    assert sum(r[2] for r in results) == sum(range(1000))
    assert shared == [4]


def test_a_worker_takes_blocks(shared):
    seen = []
    gate = threading.Barrier(2, timeout=10)

    def block(lo, hi):
        seen.append(threading.get_ident())
        if lo in (0, 250):  # the first two blocks wait for each other: two threads ran them
            gate.wait()

    parallel.for_blocks(block, 1000, 8)
    assert len(set(seen)) == 2


def test_the_caller_does_not_wait_for_a_worker_that_took_no_block(shared, monkeypatch):
    # a worker that has not woken by the time the caller took every block runs nothing
    # (here it never wakes: its inbox is not served), and the caller returns at once
    unserved = [queue.SimpleQueue()]
    monkeypatch.setattr(parallel, "_workers", lambda count: unserved[:count])
    results = []
    caller = threading.Thread(
        target=lambda: results.append(parallel.map_blocks(lambda lo, hi: (lo, hi), 100, 8)))
    caller.start()
    caller.join(10)
    assert results == [[(0, 25), (25, 50), (50, 75), (75, 100)]]
    job = unserved[0].get_nowait()
    job.work()  # the worker wakes late: the job is closed, nothing runs again
    assert job.results == results[0] and job.running == 0


def test_the_caller_waits_for_the_blocks_a_worker_is_running(shared):
    started, finish = threading.Event(), threading.Event()
    main = threading.get_ident()

    def block(lo, hi):
        if threading.get_ident() != main:  # the worker's block ends well after the caller's
            started.set()
            finish.wait(10)
            return "worker"
        if lo == 0:  # the caller's first block lets the worker take one, then times its end
            assert started.wait(10)
            threading.Timer(0.05, finish.set).start()
        return "caller"

    results = parallel.map_blocks(block, 100, 8)
    assert finish.is_set() and "worker" in results and None not in results


def test_one_block_on_one_thread_off_and_inside_a_block(shared, monkeypatch):
    def count(lo, hi):
        return parallel.map_blocks(lambda a, b: b - a, hi - lo, 8)

    nested = parallel.map_blocks(count, 100, 8)
    assert all(len(inner) == 1 for inner in nested)  # no nesting: a block runs whole
    monkeypatch.setenv("NPGRAD_PARALLEL", "0")
    assert parallel.map_blocks(lambda a, b: (a, b), 100, 8) == [(0, 100)]
    monkeypatch.setenv("NPGRAD_PARALLEL", "2")
    with pytest.raises(ValueError, match="NPGRAD_PARALLEL must be '0' or '1', got '2'"):
        parallel.map_blocks(lambda a, b: None, 100, 8)
    monkeypatch.setenv("NPGRAD_PARALLEL", "1")
    npgrad.utils.set_num_threads(1)
    assert parallel.threads() == 1
    assert parallel.map_blocks(lambda a, b: (a, b), 100, 8) == [(0, 100)]


def test_another_thread_using_the_pool_gets_one_block(shared):
    inside, release = threading.Event(), threading.Event()
    answers = []

    def hold(lo, hi):
        if lo == 0:
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=parallel.for_blocks, args=(hold, 100, 8))
    holder.start()
    assert inside.wait(10)
    answers.append(parallel.map_blocks(lambda a, b: (a, b), 100, 8))
    release.set()
    holder.join(10)
    assert answers == [[(0, 100)]]


def test_an_error_in_a_block_reaches_the_caller_and_the_pool_goes_on(shared):
    def fail(lo, hi):
        if lo > 0:
            raise ArithmeticError(f"block {lo}")
        return lo

    with pytest.raises(ArithmeticError, match="block"):
        parallel.map_blocks(fail, 100, 8)
    assert parallel.map_blocks(lambda a, b: b - a, 100, 8) == [25, 25, 25, 25]


def test_products_inside_blas_blocks_run_on_one_blas_thread(shared):
    if not blas_pools.pools():
        pytest.skip("no OpenBLAS reachable in this process")
    counts = parallel.map_blocks(lambda lo, hi: blas_pools.get_threads(), 100, 8, blas=True)
    assert counts == [1] * 4 and blas_pools.get_threads() == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_workers_of_its_own(shared):
    parallel.for_blocks(lambda lo, hi: None, 100, 8)  # the parent's worker exists
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker thread is not here
        try:
            seen = set()
            gate = threading.Barrier(2, timeout=10)

            def block(lo, hi):
                seen.add(threading.get_ident())
                if lo in (0, 25):
                    gate.wait()

            parallel.for_blocks(block, 100, 8)
            os._exit(0 if len(seen) == 2 else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_elementwise_cuts_flat_arrays_and_leaves_broadcasts_whole(shared):
    x = np.arange(24.0).reshape(4, 6)
    out = np.empty_like(x)
    parallel.elementwise(lambda o, a, s: np.multiply(a, s, out=o), out, x, 2.0)
    np.testing.assert_array_equal(out, x * 2)
    assert shared == [4]
    row = np.arange(6.0)  # broadcast: the whole call on this thread
    parallel.elementwise(lambda o, a, r: np.add(a, r, out=o), out, x, row)
    np.testing.assert_array_equal(out, x + row)
    assert shared == [4]


def test_cheap_passes_share_only_blocks_of_a_megabyte(monkeypatch):
    # a ReLU of 1.5 MB stays on this thread (waking a worker costs more than half of it);
    # of 4 MB it is shared; a compute-bound pass (the GELU) is shared from 512 KiB
    jobs = share(monkeypatch, any_size=False)
    x = np.ones(3 * 2**17, dtype=np.float32)  # 1.5 MB
    rectify(x, out=x)
    assert jobs == []
    rectify(np.ones(2**20, dtype=np.float32))  # 4 MB: two blocks of 2 MB at least
    assert len(jobs) == 1 and jobs[0] >= 2
    normal_cdf.gelu_float32(np.ones(2**17, dtype=np.float32))  # 512 KiB
    assert len(jobs) == 2


def test_batch_and_layer_norm_share_only_blocks_of_a_megabyte(monkeypatch):
    # a few cheap calls a block: 256 KiB blocks cost more in hand-overs than they gain
    jobs = share(monkeypatch, any_size=False)
    for shape in ((64, 8, 8, 64), (32, 64, 128)):  # 1 MB each: this thread alone
        x = Tensor(np.ones(shape, dtype=np.float32), requires_grad=True)
        if len(shape) == 4:
            y = F.batch_norm(x, None, None, None, None, training=True, relu=True)
        else:
            y = F.layer_norm(x, None, None, axis=-1)
        y.sum().backward()
    assert jobs == []
    x = Tensor(np.ones((64, 16, 16, 64), dtype=np.float32), requires_grad=True)  # 4 MB
    F.batch_norm(x, None, None, None, None, training=True).sum().backward()
    assert jobs and all(blocks >= 2 for blocks in jobs)


# ------------------------------------------------------------------ the ops, pinned
@settings(max_examples=15, deadline=None)
@given(shape=st.sampled_from([(7, 3, 5, 4), (15, 6), (5, 2, 3), (9, 4, 4, 3)]),
       relu=st.booleans(), has_gamma=st.booleans(), has_beta=st.booleans(),
       training=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_shared_matches_one_thread(shape, relu, has_gamma, has_beta, training, seed):
    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        c = shape[-1]
        x0 = rng.standard_normal(shape)
        gamma0, beta0 = rng.standard_normal(c), rng.standard_normal(c)
        weights = rng.standard_normal(shape)

        def run():
            x = Tensor(x0, requires_grad=True)
            gamma = Tensor(gamma0, requires_grad=True) if has_gamma else None
            beta = Tensor(beta0, requires_grad=True) if has_beta else None
            mean, var = np.full(c, 0.1), np.full(c, 1.5)
            y = F.batch_norm(x, gamma, beta, mean, var, training=training, relu=relu)
            (y * weights).sum().backward()
            return [y.data, x.grad, mean, var] + [t.grad for t in (gamma, beta) if t is not None]

        expected = _alone(run, monkeypatch)
        got = run()
        assert jobs  # the pool ran
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _matches_alone(run, monkeypatch, jobs, dtype, tolerance):
    """run()'s arrays with the pool (which must have run: ``jobs``) equal, to
    ``tolerance``, those with the pool off, all of ``dtype``."""
    expected = _alone(run, monkeypatch)
    got = run()
    assert jobs  # the pool ran
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


def test_gelu_float32_shared_is_the_same_bits(shared, monkeypatch):
    x = np.random.default_rng(0).standard_normal(70001).astype(np.float32) * 3
    y = normal_cdf.gelu_float32(x)
    d = normal_cdf.gelu_derivative_from_output(x, y)
    assert shared  # shared between threads
    alone = _alone(lambda: (normal_cdf.gelu_float32(x),
                            normal_cdf.gelu_derivative_from_output(x, y)), monkeypatch)
    np.testing.assert_array_equal(y, alone[0])
    np.testing.assert_array_equal(d, alone[1])


@settings(max_examples=15, deadline=None)
@given(b=st.integers(1, 6), heads=st.integers(1, 3), t=st.integers(1, 5), s=st.integers(1, 5),
       use_bias=st.booleans(), use_mask=st.booleans(), causal=st.booleans(),
       dropout=st.booleans(), weights_too=st.booleans(), seed=st.integers(0, 2**16))
def test_attention_shared_matches_one_thread(b, heads, t, s, use_bias, use_mask, causal,
                                             dropout, weights_too, seed):
    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        q0, k0, v0 = (rng.standard_normal((b, heads, n, 3)) for n in (t, s, s))
        bias0 = rng.standard_normal((b, 1, t, s)) if use_bias else None
        mask = rng.random((b, 1, t, s)) > 0.3 if use_mask else None
        out_weights = rng.standard_normal((b, heads, t, 3))

        def run():
            q, k, v = (Tensor(a, requires_grad=True) for a in (q0, k0, v0))
            bias = Tensor(bias0, requires_grad=True) if use_bias else None
            result = attention.scaled_dot_product_attention(
                q, k, v, bias=bias, mask=mask, is_causal=causal and t == s,
                dropout_rate=0.3 if dropout else 0.0, training=dropout, seed=seed,
                return_weights=weights_too)
            out, w = result if weights_too else (result, None)
            loss = (out * out_weights).sum()
            if w is not None:
                loss = loss + (w * 0.5).sum()
            loss.backward()
            grads = [x.grad for x in (q, k, v, bias) if x is not None]
            return [out.data] + grads

        expected = _alone(run, monkeypatch)
        got = run()
        assert jobs or b == 1
        for a, e in zip(got, expected):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_rectify_masks_and_padding_shared_are_the_same_bits(shared, monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5, 4, 3))
    grad = rng.standard_normal(x.shape)

    def run():
        clipped = rectify(x, max_value=0.8)
        mask = relu_mask(x, max_value=0.8)
        padded = workspace.zero_padded(x, (1, 2), (2, 1)).copy()
        cols = conv._columns(x, (3, 2), (5, 4), (1, 1), (1, 1), ((1, 1), (1, 0))).copy()
        pixels = padded.reshape(-1, 3)
        windows = conv_taps._row_windows(pixels, 3, 1, pixels.shape[0] - 2).copy()
        return clipped, mask, masked(grad, mask), padded, cols, windows

    got = run()
    assert len(shared) >= 6
    for a, e in zip(got, _alone(run, monkeypatch)):
        np.testing.assert_array_equal(a, e)


def test_add_relu_shared_matches_one_thread(shared, monkeypatch):
    rng = np.random.default_rng(2)
    a0, b0, w = (rng.standard_normal((8, 5, 3)) for _ in range(3))

    def run():
        a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
        out = F.add_relu(a, b)
        (out * w).sum().backward()
        return out.data, a.grad, b.grad

    got = run()
    assert len(shared) >= 2  # the forward pass, then the masked gradient (one pass)
    for a, e in zip(got, _alone(run, monkeypatch)):
        np.testing.assert_array_equal(a, e)


@settings(max_examples=12, deadline=None)
@given(rank=st.sampled_from([1, 2]), stride=st.sampled_from([1, 2]),
       multiplier=st.integers(1, 2), channels=st.sampled_from([3, 70]),
       seed=st.integers(0, 2**16))
def test_depthwise_shared_matches_one_thread(rank, stride, multiplier, channels, seed):
    # per-sample correlations and per-block kernel-gradient sums (both einsum routes:
    # merged rows below 64 channels and stride 1, per channel otherwise)
    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        x0 = rng.standard_normal((6,) + (7,) * rank + (channels,))
        k0 = rng.standard_normal((3,) * rank + (channels, multiplier))
        op = F.depthwise_conv2d if rank == 2 else F.depthwise_conv1d

        def run():
            x, k = Tensor(x0, requires_grad=True), Tensor(k0, requires_grad=True)
            out = op(x, k, strides=stride, padding="same")
            (out * np.cos(np.arange(out.data.size)).reshape(out.shape)).sum().backward()
            return out.data, x.grad, k.grad

        expected = _alone(run, monkeypatch)
        got = run()
        assert jobs
        for a, e in zip(got, expected):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def test_pad_spatial_shared_is_np_pad(shared):
    from npgrad.primitives.windows import pad_spatial

    x = np.random.default_rng(3).standard_normal((5, 4, 3, 2, 6))
    pads = ((1, 2), (0, 0), (2, 1))
    got = pad_spatial(x, pads, value=-np.inf)
    assert shared  # the interior copied in blocks
    np.testing.assert_array_equal(
        got, np.pad(x, ((0, 0),) + pads + ((0, 0),), constant_values=-np.inf))
    mask = pad_spatial(np.ones((3, 4, 2), dtype=bool), ((1, 1),))
    np.testing.assert_array_equal(mask, np.pad(np.ones((3, 4, 2), bool), ((0, 0), (1, 1), (0, 0))))


@settings(max_examples=10, deadline=None)
@given(relu=st.booleans(), padding=st.sampled_from(["valid", "same"]),
       keep_columns=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_max_pool_shared_matches_one_thread(relu, padding, keep_columns, seed):
    # the quarters, their maximum and the routing of the pool's gradient, by blocks
    from npgrad.primitives import conv_pool

    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        if not keep_columns:  # the route through conv2d's own forward and gradients
            monkeypatch.setattr(conv_pool, "_KEEP_COLUMNS_BYTES", 0)
        rng = np.random.default_rng(seed)
        x0, k0, b0 = rng.standard_normal((5, 7, 6, 3)), rng.standard_normal((3, 3, 3, 4)), \
            rng.standard_normal(4)

        def run():
            x, k, b = (Tensor(a, requires_grad=True) for a in (x0, k0, b0))
            out = F.conv2d_max_pool2d(x, k, b, padding=padding, relu=relu)
            (out * np.sin(np.arange(out.data.size)).reshape(out.shape)).sum().backward()
            return out.data, x.grad, k.grad, b.grad

        expected = _alone(run, monkeypatch)
        got = run()
        assert jobs
        for a, e in zip(got, expected):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


_ACTIVATIONS = {
    "sigmoid": F.sigmoid, "silu": F.silu, "tanh": F.tanh, "softplus": F.softplus,
    "elu": lambda x: F.elu(x, alpha=0.7), "selu": F.selu,
    "gelu_tanh": lambda x: F.gelu(x, approximate=True), "mish": activation_extra.mish,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.3),
}


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(_ACTIVATIONS)), size=st.integers(5, 300),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_activations_shared_are_the_same_bits(name, size, dtype, seed):
    # the exponentials' passes split between threads: each block evaluates the same
    # expression, so the values and gradients do not depend on the thread count
    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        x0 = (rng.standard_normal(size) * 40).astype(dtype)  # into exp's overflow, too
        weights = rng.standard_normal(size).astype(dtype)

        def run():
            x = Tensor(x0, requires_grad=True)
            y = _ACTIVATIONS[name](x)
            (y * weights).sum().backward()
            return y.data, x.grad

        expected = _alone(run, monkeypatch)
        got = run()
        assert jobs  # the pool ran
        for a, b in zip(got, expected):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_array_equal(a, b)


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(4, 200), length=st.integers(1, 40), lead=st.integers(1, 3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_softmax_shared_by_rows_matches_one_thread(rows, length, lead, dtype, seed):
    # blocks of rows on every core (their sums are GEMVs at one BLAS thread each; a block of
    # few rows sums by NumPy's loop instead, so the last bits may differ)
    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        x0 = (rng.standard_normal((lead, rows, length)) * 30).astype(dtype)
        weights = rng.standard_normal(x0.shape).astype(dtype)

        def run():
            x = Tensor(x0, requires_grad=True)
            y = F.softmax(x)
            (y * weights).sum().backward()
            return y.data, x.grad

        _matches_alone(run, monkeypatch, jobs, dtype, 1e-6 if dtype == np.float32 else 1e-13)


@settings(max_examples=20, deadline=None)
@given(shape=st.sampled_from([(5, 7), (3, 4, 9), (2, 3, 5, 16)]), has_gamma=st.booleans(),
       has_beta=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_layer_norm_shared_by_rows_matches_one_thread(shape, has_gamma, has_beta, dtype, seed):
    # rows are independent: each block normalizes its rows; dgamma and dbeta are the
    # blocks' partial sums added in order
    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        x0 = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
        gamma0, beta0 = (rng.standard_normal(shape[-1]).astype(dtype) for _ in range(2))
        weights = rng.standard_normal(shape).astype(dtype)

        def run():
            x = Tensor(x0, requires_grad=True)
            gamma = Tensor(gamma0, requires_grad=True) if has_gamma else None
            beta = Tensor(beta0, requires_grad=True) if has_beta else None
            y = layer_norm.layer_norm_last_axis(x, gamma, beta, epsilon=1e-3)
            (y * weights).sum().backward()
            return [y.data, x.grad] + [t.grad for t in (gamma, beta) if t is not None]

        _matches_alone(run, monkeypatch, jobs, dtype, 2e-5 if dtype == np.float32 else 1e-12)


@settings(max_examples=20, deadline=None)
@given(shape=st.sampled_from([(6, 5), (3, 4, 7), (2, 3, 5, 9)]), units=st.integers(1, 12),
       use_bias=st.booleans(), input_grad=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_dense_relu_gradients_by_blocks_match_one_thread(shape, units, use_bias, input_grad,
                                                         dtype, seed):
    # through the fused ReLU each block of rows masks its gradient in its own buffer and
    # multiplies it there: dx by rows, dw and db the blocks' parts added in order
    from npgrad.primitives import linalg

    with pytest.MonkeyPatch.context() as monkeypatch:
        jobs = share(monkeypatch)
        rng = np.random.default_rng(seed)
        x0 = rng.standard_normal(shape).astype(dtype)
        k0 = rng.standard_normal((shape[-1], units)).astype(dtype)
        b0 = rng.standard_normal(units).astype(dtype)
        weights = rng.standard_normal(shape[:-1] + (units,)).astype(dtype)
        blocked = []
        original = linalg.Dense._relu_grads_by_blocks
        monkeypatch.setattr(linalg.Dense, "_relu_grads_by_blocks",
                            lambda self, *a: blocked.append(1) or original(self, *a))

        def run():
            x = Tensor(x0, requires_grad=True) if input_grad else x0
            kernel = Tensor(k0, requires_grad=True)
            bias = Tensor(b0, requires_grad=True) if use_bias else None
            y = linalg.dense(x, kernel, bias, relu=True)
            (y * weights).sum().backward()
            grads = [t.grad for t in (x, kernel, bias) if isinstance(t, Tensor)]
            return [y.data] + grads

        _matches_alone(run, monkeypatch, jobs, dtype, 1e-5 if dtype == np.float32 else 1e-12)
        assert blocked  # the pool's run took the blocks
