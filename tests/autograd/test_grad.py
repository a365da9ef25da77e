"""npgrad.autograd.grad: gradients returned rather than accumulated, and with
create_graph=True gradients that are differentiated again (gradient penalties, Hessians)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import Tensor, config
from npgrad.autograd import Function, grad
from npgrad.utils import GradcheckError, gradgradcheck


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_grad_returns_the_gradients_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, -2.0, 3.0]), leaf([0.5, 0.25, 2.0])
    gx, gw = grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(gx.numpy(), w.data)
    np.testing.assert_allclose(gw.numpy(), x.data)
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad  # no graph without create_graph
    (only,) = grad((x * x).sum(), x)  # one tensor in, a one-tuple out
    np.testing.assert_allclose(only.numpy(), 2 * x.data)


def test_the_gradient_of_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (gh,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.data)


def test_only_the_ops_that_lead_to_the_inputs_run():
    asked = []

    class Spy(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, g):
            asked.append(self.needs_input_grad)
            return g, g

    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    grad(Spy.apply(x, w).sum(), x)
    assert asked == [(True, False)]  # w's gradient is never computed
    assert Spy.apply(x, w)._ctx.needs_input_grad == (True, True)


def test_grad_outputs_several_outputs_and_unused_inputs():
    x, y = leaf([1.0, 2.0]), leaf([5.0])
    out = x * x
    (gx,) = grad(out, x, grad_outputs=np.array([10.0, 1.0]))
    np.testing.assert_allclose(gx.numpy(), [20.0, 4.0])
    (gx,) = grad([(x * 2.0).sum(), (x * x).sum()], x)  # gradients of several outputs add up
    np.testing.assert_allclose(gx.numpy(), 2.0 + 2 * x.data)
    with pytest.raises(RuntimeError, match=r"inputs\[1\] was not used.*allow_unused"):
        grad((x * x).sum(), [x, y])
    gx, gy = grad((x * x).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_clear_errors_for_wrong_arguments():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"inputs\[0\] does not require grad"):
        grad((x * 2.0).sum(), Tensor(np.ones(2)))
    with pytest.raises(RuntimeError, match="scalar output.*pass grad"):
        grad(x * 2.0, x)
    with pytest.raises(ValueError, match="grad shape"):
        grad(x * 2.0, x, grad_outputs=np.ones(3))
    with pytest.raises(ValueError, match="1 outputs but 2 grad_outputs"):
        grad((x * 2.0).sum(), x, grad_outputs=[None, None])
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Tensor"):
        grad((x * 2.0).sum(), np.ones(2))


def test_the_graph_is_freed_unless_retained():
    x = leaf([1.0, 2.0])
    out = (npgrad.ops.exp(x) * x).sum()
    first = grad(out, x, retain_graph=True)[0].numpy()
    np.testing.assert_allclose(grad(out, x)[0].numpy(), first)
    with pytest.raises(RuntimeError, match="second time"):
        grad(out, x)


def test_create_graph_gives_higher_derivatives():
    x = leaf([0.5, -1.5, 2.0])
    (g1,) = grad((x ** 4).sum(), x, create_graph=True)
    assert g1.requires_grad
    (g2,) = grad(g1.sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    np.testing.assert_allclose(g1.numpy(), 4 * x.data ** 3)
    np.testing.assert_allclose(g2.numpy(), 12 * x.data ** 2)
    np.testing.assert_allclose(g3.numpy(), 24 * x.data)


@given(hnp.arrays(np.float64, (3, 3), elements=st.floats(-2, 2)),
       hnp.arrays(np.float64, 3, elements=st.floats(-2, 2)),
       hnp.arrays(np.float64, 3, elements=st.floats(-2, 2)))
def test_the_hessian_of_a_quadratic_form_is_a_plus_its_transpose(a, x0, v):
    x = leaf(x0)
    (g,) = grad((x @ (Tensor(a) @ x)), x, create_graph=True)
    (hv,) = grad((g * Tensor(v)).sum(), x)  # a Hessian-vector product
    np.testing.assert_allclose(hv.numpy(), (a + a.T) @ v, atol=1e-12)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class Cube(Function):  # backward right, backward_graph wrongly treats 3 x^2 as constant
        def forward(self, x):
            self.save_for_backward(x)
            return x ** 3

        def backward(self, g):
            return g * 3 * self.saved[0] ** 2

        def backward_graph(self, g):
            return g * (3 * self.saved[0] ** 2)

    with pytest.raises(GradcheckError, match="wrong"):
        gradgradcheck(Cube.apply, [np.array([0.5, -1.0])])
    with pytest.raises(ValueError, match="gradgradcheck: requires_grad has 2 entries for 1 inputs"):
        gradgradcheck(Cube.apply, [np.array([0.5])], requires_grad=[True, False])


def _critic(seed):
    npgrad.utils.set_random_seed(seed)
    L = npgrad.layers
    return npgrad.Sequential([
        L.Input((6, 6, 2)),
        L.Conv2D(4, 3, strides=2, padding="same"), L.LeakyReLU(0.2),
        L.Conv2D(3, 3, padding="same", activation="tanh"), L.Flatten(), L.Dense(1),
    ])


def _penalty(critic, x, create_graph):
    x = Tensor(x, requires_grad=True)
    (g,) = grad(critic(x).sum(), x, create_graph=create_graph)
    norms = ((g * g).sum(axis=(1, 2, 3)) + 1e-12) ** 0.5
    return ((norms - 1.0) ** 2).mean()


def test_a_wgan_gp_gradient_penalty_trains_the_critic_s_weights():
    config.set_floatx("float64")
    try:
        critic = _critic(0)
        x = np.random.default_rng(1).standard_normal((3, 6, 6, 2))
        weights = critic.trainable_weights
        analytic = grad(_penalty(critic, x, create_graph=True), weights, allow_unused=True)
        assert analytic[-1] is None  # d critic / d x does not depend on the last bias
        analytic = [np.zeros(w.shape) if dw is None else dw.numpy() for w, dw in
                    zip(weights, analytic)]
        # PyTorch's pattern: backward() of a loss holding the penalty fills each .grad
        _penalty(critic, x, create_graph=True).backward()
        for w, dw in zip(weights, analytic):
            np.testing.assert_allclose(0 if w.grad is None else w.grad, dw, atol=1e-12)
        rng = np.random.default_rng(2)
        for w, dw in zip(weights, analytic):
            direction = rng.standard_normal(w.shape)
            saved = w.data.copy()
            w.data[...] = saved + 1e-6 * direction
            plus = _penalty(critic, x, create_graph=False).item()
            w.data[...] = saved - 1e-6 * direction
            minus = _penalty(critic, x, create_graph=False).item()
            w.data[...] = saved
            numeric = (plus - minus) / 2e-6
            assert np.sum(dw * direction) == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    finally:
        config.set_floatx("float32")
