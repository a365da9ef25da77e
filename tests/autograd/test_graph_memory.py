"""What the graph keeps alive: ops and leaves, never an intermediate array nobody saved."""

import gc
import weakref

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import npgrad
import npgrad.functional as F
from npgrad import layers as L
from npgrad.autograd.engine import graph_ops
from npgrad.primitives.activation import ReLU, Softmax


def _leaf(shape, seed=0):
    rng = np.random.default_rng(seed)
    return npgrad.Tensor(rng.standard_normal(shape), requires_grad=True)


def test_an_intermediate_nobody_saved_is_freed_with_its_tensor():
    x, w = _leaf((4, 5)), _leaf((5, 3), seed=1)
    h = x @ w
    product = weakref.ref(h.data)
    y = F.relu(h)  # saves a mask of h > 0, not h
    expected_mask = h.data > 0
    del h
    gc.collect()
    assert product() is None
    y.sum().backward()
    np.testing.assert_allclose(w.grad, x.data.T @ expected_mask)
    np.testing.assert_allclose(x.grad, expected_mask @ w.data.T)


def test_an_array_an_op_saved_lives_until_its_backward():
    x, w = _leaf((4, 5)), _leaf((5, 3), seed=1)
    h = F.tanh(x @ w)  # tanh saves its output; the next product saves its input h
    out = weakref.ref(h.data)
    y = (h @ _leaf((3, 2), seed=2)).sum()
    del h
    gc.collect()
    assert out() is not None
    y.backward()
    gc.collect()
    assert out() is None  # backward freed what the ops saved
    assert x.grad.shape == (4, 5)


def test_retain_grad_on_an_intermediate_still_works():
    x = _leaf((3, 4))
    h = (x * 3.0).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    np.testing.assert_allclose(x.grad, 18 * x.data)


def test_gradients_reach_inputs_through_a_tensor_used_twice():
    x = _leaf((2, 3))
    h = F.relu(x) + 1.0
    y = (h * h + h).sum()
    del h
    y.backward()
    expected = (2 * (np.maximum(x.data, 0) + 1) + 1) * (x.data > 0)
    np.testing.assert_allclose(x.grad, expected)


def test_softmax_keeps_its_logits_for_the_losses():
    logits = _leaf((4, 3)) @ _leaf((3, 3), seed=1)
    kept = logits.data
    probs = F.softmax(logits)
    del logits
    gc.collect()
    assert probs._ctx.input_tensors[0].data is kept
    loss = npgrad.losses.CategoricalCrossentropy()(np.eye(3)[[0, 1, 2, 0]], probs)
    expected = npgrad.losses.CategoricalCrossentropy(from_logits=True)(np.eye(3)[[0, 1, 2, 0]], kept)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)


def test_graph_ops_lists_each_op_once():
    x = _leaf((2, 3))
    h = F.relu(x)
    ops = graph_ops(F.softmax(h + h))
    assert [type(op).__name__ for op in ops].count("ReLU") == 1
    assert isinstance(ops[0], Softmax) and any(isinstance(op, ReLU) for op in ops)


class _Spy(L.Layer):
    """A ReLU that remembers its input array (weakly), and whether an earlier spy's input
    was already freed when this one ran."""

    def __init__(self, earlier=None, **kwargs):
        super().__init__(**kwargs)
        self.earlier, self.seen, self.earlier_alive = earlier, None, None

    def call(self, x):
        self.seen = weakref.ref(x.data)
        if self.earlier is not None:
            gc.collect()
            self.earlier_alive = self.earlier.seen() is not None
        return F.relu(x)


def test_a_functional_model_drops_each_output_after_its_last_reader():
    first = _Spy()
    second = _Spy(earlier=first)
    inputs = npgrad.Input((6,))
    hidden = L.Dense(5)(first(L.Dense(8)(inputs)))
    model = npgrad.Model(inputs, L.Dense(2)(second(hidden)))
    x = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
    out = model(x, training=True)
    # the first Dense's output fed only the first ReLU, which saved a mask: by the time
    # the second spy runs, the model no longer holds it
    assert second.earlier_alive is False
    out.sum().backward()
    assert all(w.grad is not None for w in model.trainable_weights)


def test_a_model_output_read_again_later_is_kept():
    inputs = npgrad.Input((3,))
    hidden = L.Dense(4)(inputs)
    model = npgrad.Model(inputs, [hidden, L.Dense(2)(L.ReLU()(hidden))])
    x = np.ones((2, 3), "float32")
    first, second = model(x, training=True)
    np.testing.assert_allclose(first.data, model.layers[1](x).data, rtol=1e-6)
    assert second.shape == (2, 2)


# random graphs: each step applies one op to earlier values (so values are shared), every
# intermediate Tensor is dropped as soon as it is made, and the gradients must still match
# central differences
_UNARY = {"tanh": F.tanh, "relu": lambda a: F.relu(a) + 0.5 * a, "square": lambda a: a * a}
_BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b}


@st.composite
def _programs(draw):
    steps = []
    for k in range(draw(st.integers(1, 7))):
        available = 2 + k  # the two inputs, then one value per earlier step
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(_UNARY))), draw(st.integers(0, available - 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(_BINARY))),
                          draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1))))
    return steps


def _evaluate(program, a, b, keep):
    """The program's last value plus the sum of every value (so every step reaches the
    output); with ``keep`` False only weak references to the intermediates survive."""
    values = [a, b]
    total = None
    for op, *args in program:
        fn = _UNARY.get(op) or _BINARY[op]
        out = fn(*(values[i] for i in args))
        total = out.sum() if total is None else total + out.sum()
        values.append(out)
    result = total + values[-1].sum()
    if not keep:
        del values[2:]
    return result


@given(program=_programs(), seed=st.integers(0, 2**16))
def test_random_graphs_match_finite_differences_with_intermediates_dropped(program, seed):
    rng = np.random.default_rng(seed)
    a0, b0 = rng.uniform(-0.9, 0.9, (2, 3)), rng.uniform(-0.9, 0.9, (2, 3))
    a, b = npgrad.Tensor(a0, requires_grad=True), npgrad.Tensor(b0, requires_grad=True)
    _evaluate(program, a, b, keep=False).backward()
    a_kept, b_kept = npgrad.Tensor(a0, requires_grad=True), npgrad.Tensor(b0, requires_grad=True)
    _evaluate(program, a_kept, b_kept, keep=True).backward()
    np.testing.assert_array_equal(a.grad, a_kept.grad)
    np.testing.assert_array_equal(b.grad, b_kept.grad)
    assert npgrad.utils.gradcheck(lambda x, y: _evaluate(program, x, y, keep=False), [a0, b0])
