"""Tensor and engine behaviour: dtypes, broadcasting, accumulation, no_grad, long graphs, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import Tensor
from npgrad.autograd import Function


def test_python_data_defaults_to_float32_and_arrays_keep_dtype():
    assert npgrad.tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32
    assert Tensor(np.zeros(3, dtype=np.float64)).dtype == np.float64
    assert Tensor(np.zeros(3, dtype=np.int64)).dtype == np.int64


def test_only_floating_tensors_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="numeric"):
        Tensor(["a", "b"])


def test_integer_inputs_take_the_floating_dtype_of_the_other_operand():
    x = Tensor(np.ones(3, dtype=np.float64), requires_grad=True)
    y = x * np.arange(3)  # int64 array meets float64 tensor
    assert y.dtype == np.float64
    z = Tensor(np.ones(3, dtype=np.float32)) + np.arange(3)
    assert z.dtype == np.float32
    # with no float to take, integers stay exact integers (as Keras): arithmetic, indexing
    ids = Tensor(np.array([2**24 + 1, 5], dtype=np.int64))
    assert (ids + Tensor(np.arange(2))).dtype == np.int64 and ids[:1].item() == 2**24 + 1
    small = Tensor(np.array([1, 2], dtype=np.int32))
    assert (small * 3 - 1).dtype == np.int32 and (small @ small).dtype == np.int32
    assert (small + 0.5).dtype == np.float32  # a Python float: floatx
    flags = Tensor(np.array([True, False]))
    assert flags[::-1].dtype == np.bool_ and (flags + flags).dtype == np.float32


def test_python_scalars_do_not_promote_float32():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    for y in (x * 2.5, 2.5 * x, x / 3, 1 - x, x**2, -x):
        assert y.dtype == np.float32


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
def test_broadcast_gradients_are_summed_back_to_input_shapes(shapes):
    a_shape, b_shape = shapes.input_shapes
    a = Tensor(np.random.default_rng(0).standard_normal(a_shape), requires_grad=True)
    b = Tensor(np.random.default_rng(1).standard_normal(b_shape), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    expected_a = np.broadcast_to(b.data, shapes.result_shape).copy()
    extra = len(shapes.result_shape) - len(a_shape)
    expected_a = expected_a.sum(axis=tuple(range(extra)))
    for axis, n in enumerate(a_shape):
        if n == 1:
            expected_a = expected_a.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(a.grad, expected_a)


def test_gradients_accumulate_until_zeroed():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.zero_grad()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_shared_upstream_gradients_are_not_aliased():
    # Add returns the same array for both inputs; accumulating one must not change the other
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad += 1  # user code mutating one grad
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_accumulation_adds_in_place_into_a_gradient_nobody_else_holds():
    x = Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    (x * 2).sum().backward()
    first = id(x.grad)  # an id holds no reference: x alone holds its gradient
    (x * 3).sum().backward()
    assert id(x.grad) == first  # the same array, the sum made in it
    np.testing.assert_array_equal(x.grad, np.full((3, 4), 5.0, np.float32))


def test_accumulation_leaves_a_held_gradient_as_it_was():
    x = Tensor(np.ones(3), requires_grad=True)
    (x * 2).sum().backward()
    held = x.grad  # the user keeps the first gradient
    view = x.grad[:2]
    (x * 3).sum().backward()
    assert x.grad is not held
    np.testing.assert_array_equal(held, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(view, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [5.0, 5.0, 5.0])


def test_accumulation_widens_rather_than_adding_in_place():
    # a float64 gradient onto a float32 .grad (set by the user): the sum is float64, as the
    # out-of-place sum would be, not cut down to the array it would be added into
    x = Tensor(np.ones(2), requires_grad=True)
    x.grad = np.full(2, 0.5, np.float32)
    (x * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.5, 3.5])


class _ViewGrads(Function):
    """An op whose backward hands out views: ``mode`` says of what."""

    def forward(self, a, b, mode="fresh"):
        self.mode = mode
        return a.sum() + b.sum()

    def backward(self, grad):
        if self.mode == "fresh":  # each gradient a reshaped fresh array, as a kernel's
            return (np.full(6, grad).reshape(2, 3), np.full(6, grad).reshape(2, 3))
        both = np.full(12, grad)
        if self.mode == "halves":  # two views of one array
            return both[:6].reshape(2, 3), both[6:].reshape(2, 3)
        if self.mode == "read-only":  # a view nobody else holds, but not writeable
            fresh = np.full(6, grad).reshape(2, 3)
            fresh.flags.writeable = False
            return fresh, np.ones((2, 3))
        self.kept = np.full(6, grad)  # the op keeps the array it hands out a view of
        return self.kept.reshape(2, 3), np.ones((2, 3))


def _view_leaves():
    return (Tensor(np.zeros((2, 3)), requires_grad=True),
            Tensor(np.zeros((2, 3)), requires_grad=True))


def test_a_reshaped_fresh_gradient_becomes_grad_without_a_copy():
    # the engine keeps a view that alone holds its array (weight gradients come out of
    # products reshaped): no pass over the weights to copy them
    a, b = _view_leaves()
    _ViewGrads.apply(a, b, mode="fresh").backward()
    assert a.grad.base is not None and b.grad.base is not None  # not copied
    a.grad += 1
    np.testing.assert_array_equal(b.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 2.0))


@pytest.mark.parametrize("mode", ["halves", "kept", "read-only"])
def test_other_views_are_copied_into_grad(mode):
    # two views of one array, a view of an array the op still holds, a read-only view:
    # each .grad an array of its own, writeable
    a, b = _view_leaves()
    out = _ViewGrads.apply(a, b, mode=mode)
    out.backward(retain_graph=True)  # the op keeps what it holds
    assert a.grad.base is None  # copied
    a.grad += 1
    np.testing.assert_array_equal(b.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 2.0))
    if mode == "kept":
        np.testing.assert_array_equal(out._ctx.kept, np.ones(6))


def test_no_grad_builds_no_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    with npgrad.no_grad():
        y = x * 2
        with npgrad.enable_grad():
            z = x * 2
    assert not y.requires_grad and y._ctx is None
    assert z.requires_grad
    assert npgrad.is_grad_enabled()


def test_constants_cost_no_graph():
    y = Tensor(np.ones(3)) * 2 + 1
    assert y._ctx is None and not y.requires_grad


def test_long_chain_and_recurrence_do_not_recurse():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**5000, rtol=1e-9)

    w = Tensor(np.full((4, 4), 0.1), requires_grad=True)
    h = Tensor(np.ones((2, 4)))
    for _ in range(1000):
        h = npgrad.functional.tanh(h @ w)
    h.sum().backward()
    assert w.grad.shape == (4, 4) and np.all(np.isfinite(w.grad))


def test_each_op_backward_runs_once_per_pass():
    calls = []

    class Spy(npgrad.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            calls.append(1)
            return (grad,)

    x = Tensor(np.ones(2), requires_grad=True)
    s = Spy.apply(x)
    (s * s + s).sum().backward()  # s feeds three consumers
    assert len(calls) == 1
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_saved_arrays_are_freed_and_second_backward_raises():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * x
    loss = y.sum()
    loss.backward()
    assert y._ctx.saved is None
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_retain_graph_allows_a_second_pass():
    x = Tensor(np.ones(2), requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


def test_backward_of_non_scalar_needs_grad_of_matching_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    with pytest.raises(ValueError, match="shape"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).sum().backward()


def test_retain_grad_on_intermediate():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 3).retain_grad()
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad, [6.0, 6.0])


def test_comparisons_give_boolean_constants():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    mask = x > 0
    assert mask.dtype == bool and not mask.requires_grad
    np.testing.assert_array_equal((x == 0).numpy(), [False, True, False])


def test_tensor_methods_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    t = Tensor(a)
    np.testing.assert_allclose(t.sum(axis=0).numpy(), a.sum(axis=0))
    np.testing.assert_allclose(t.mean(axis=(0, 1), keepdims=True).numpy(), a.mean(keepdims=True))
    np.testing.assert_allclose(t.var(axis=1).numpy(), a.var(axis=1))
    np.testing.assert_allclose(t.std().numpy(), a.std())
    np.testing.assert_allclose(t.max(axis=1).numpy(), a.max(axis=1))
    np.testing.assert_allclose(t.min().numpy(), a.min())
    np.testing.assert_allclose(t.T.numpy(), a.T)
    np.testing.assert_allclose(t.reshape(2, 6).numpy(), a.reshape(2, 6))
    np.testing.assert_allclose(t.transpose(1, 0).numpy(), a.T)
    np.testing.assert_allclose(t.flatten().numpy(), a.ravel())
    np.testing.assert_allclose(t[1:, [0, 2]].numpy(), a[1:, [0, 2]])
    np.testing.assert_allclose(t.expand_dims(0).squeeze(0).numpy(), a)
    np.testing.assert_allclose(abs(t).numpy(), np.abs(a))
    np.testing.assert_allclose(t.clip(-0.5, 0.5).numpy(), np.clip(a, -0.5, 0.5))
    np.testing.assert_allclose((t @ t.T).numpy(), a @ a.T)
    np.testing.assert_allclose(npgrad.concatenate([t, t], axis=0).numpy(), np.concatenate([a, a]))
    np.testing.assert_allclose(npgrad.stack([t, t]).numpy(), np.stack([a, a]))
    np.testing.assert_allclose(npgrad.where(a > 0, t, 0.0).numpy(), np.where(a > 0, a, 0.0))
    np.testing.assert_allclose(npgrad.maximum(t, 0.1).numpy(), np.maximum(a, 0.1))
    np.testing.assert_allclose(npgrad.pad(t, 1).numpy(), np.pad(a, 1))
    assert t.shape == (3, 4) and t.ndim == 2 and t.size == 12 and len(t) == 3
    assert np.asarray(t) is a


def test_ndarray_on_the_left_defers_to_tensor():
    x = Tensor(np.ones(3), requires_grad=True)
    y = np.full(3, 2.0) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 2.0))


def test_detach_cuts_the_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d._ctx is None


def test_shape_errors_name_the_op():
    a = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="matmul: inner dimensions"):
        a @ Tensor(np.ones((4, 2)))
    with pytest.raises(ValueError, match="add: operands with shapes"):
        a + Tensor(np.ones(4))
    with pytest.raises(ValueError, match="reshape"):
        a.reshape(5)
    with pytest.raises(ValueError, match="axis"):
        a.sum(axis=2)
    with pytest.raises(TypeError, match="expected a Tensor"):
        a + "x"


@given(st.integers(1, 4), st.integers(1, 4))
def test_getitem_with_repeated_indices_accumulates(n, repeats):
    x = Tensor(np.zeros(n), requires_grad=True)
    idx = np.array([n - 1] * repeats)
    x[idx].sum().backward()
    expected = np.zeros(n)
    expected[n - 1] = repeats
    np.testing.assert_array_equal(x.grad, expected)


def test_float64_flows_through_unchanged():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    y = npgrad.functional.softmax(npgrad.functional.relu(x @ w) * 0.5).mean()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64 and w.grad.dtype == np.float64


def test_gradcheck_reports_nan_gradients_instead_of_passing_them():
    class NanGrad(npgrad.Function):
        def forward(self, x):
            return x * 2.0

        def backward(self, grad):
            return (grad * np.nan,)

    with pytest.raises(npgrad.utils.GradcheckError, match="analytic nan"):
        npgrad.utils.gradcheck(lambda x: NanGrad.apply(x), [np.ones(3)])


@given(st.floats(-1e6, 1e6, allow_nan=False, width=32), st.sampled_from([(), (1,), (1, 1)]))
def test_a_single_element_tensor_is_a_python_number(value, shape):
    # Keras code: float(loss), f"{acc:.4f}", "%.3f" % loss, if loss < best: ...
    t = Tensor(np.full(shape, value, dtype=np.float32))
    exact = float(np.float32(value))
    assert float(t) == exact and int(t) == int(exact)
    assert f"{t:.3e}" == f"{exact:.3e}" and "%.2f" % t == "%.2f" % exact
    assert round(t, 1) == round(exact, 1)
    assert bool(t > 0) == (exact > 0) and bool(t) == (exact != 0)
    assert [10, 20, 30][Tensor(np.array(1))] == 20


def test_a_larger_tensor_refuses_to_be_one_number():
    t = Tensor(np.ones((2, 3), np.float32))
    for convert in (float, int, round, lambda x: f"{x:.2f}"):
        with pytest.raises(TypeError, match=r"single-element tensor .* got shape \(2, 3\)"):
            convert(t)
    with pytest.raises(ValueError, match=r"truth value of a tensor of shape \(2, 3\) is ambiguous"):
        bool(t)
    with pytest.raises(TypeError, match="only an integer tensor can be used as an index"):
        [1, 2][Tensor(np.array(1.0))]
    assert f"{t}" == str(t)  # no format spec: the repr, as before


def test_floor_division_modulo_and_bitwise_operators_as_keras_tensors():
    ids = Tensor(np.array([7, -3, 4], dtype=np.int32))
    np.testing.assert_array_equal((ids // 2).numpy(), [3, -2, 2])
    np.testing.assert_array_equal((ids % 3).numpy(), [1, 0, 1])
    np.testing.assert_array_equal((10 % ids).numpy(), np.mod(10, [7, -3, 4]))
    np.testing.assert_array_equal((ids & 1).numpy(), [1, 1, 0])
    np.testing.assert_array_equal((~ids).numpy(), [-8, 2, -5])
    flags = Tensor(np.array([True, False]))
    np.testing.assert_array_equal((flags | ~flags).numpy(), [True, True])
    np.testing.assert_array_equal((flags ^ True).numpy(), [False, True])
    x = Tensor(np.array([7.5, -3.0]), requires_grad=True)
    (x % 2.0).sum().backward()  # d(x mod 2)/dx = 1
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_np_array_of_a_tensor_is_a_snapshot_np_asarray_a_view():
    # NumPy 2's protocol: a weight snapshot np.array(v) must not follow later updates (the
    # transfer-learning guide compared snapshots to see that nothing trained)
    from npgrad.autograd.variable import Variable

    v = Variable(np.ones(3, dtype=np.float32))
    snapshot = np.array(v)
    v.assign(np.zeros(3, dtype=np.float32))
    np.testing.assert_array_equal(snapshot, [1.0, 1.0, 1.0])
    t = Tensor(np.ones(2))
    assert np.asarray(t) is t.data and np.array(t) is not t.data
    assert np.array(t, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(t, dtype=np.float32, copy=False)
