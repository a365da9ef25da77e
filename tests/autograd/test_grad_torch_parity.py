"""Second-order gradients against PyTorch's torch.autograd.grad(create_graph=True): a
gradient penalty on a small convolutional critic, value and weight gradients, in float64.
Skips when PyTorch is not installed."""

import numpy as np
import pytest

import npgrad.functional as F
from npgrad import Tensor
from npgrad.autograd import grad

torch = pytest.importorskip("torch")


def test_a_gradient_penalty_matches_pytorch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 6, 2))
    k1, b1 = rng.standard_normal((3, 3, 2, 4)) * 0.5, rng.standard_normal(4) * 0.1
    k2 = rng.standard_normal((4 * 3 * 3, 1)) * 0.3
    gamma, beta = rng.uniform(0.5, 1.5, 36), rng.standard_normal(36) * 0.1

    def critic_np(x, k1, b1, gamma, beta, k2):
        h = F.leaky_relu(F.conv2d(x, k1, b1, strides=2, padding="same"), 0.2)
        h = F.layer_norm(F.reshape(h, (3, 36)), gamma, beta, epsilon=1e-3)
        return F.dense(F.gelu(h), k2)

    weights = [Tensor(a, requires_grad=True) for a in (k1, b1, gamma, beta, k2)]
    points = Tensor(x, requires_grad=True)
    (slopes,) = grad(critic_np(points, *weights).sum(), points, create_graph=True)
    penalty = ((((slopes * slopes).sum(axis=(1, 2, 3))) ** 0.5 - 1.0) ** 2).mean()
    ours = grad(penalty, weights)

    t = {name: torch.tensor(a, requires_grad=True)
         for name, a in zip(("k1", "b1", "gamma", "beta", "k2"), (k1, b1, gamma, beta, k2))}
    tx = torch.tensor(x, requires_grad=True)
    # NCHW, kernel (F, C, KH, KW); 'same' at stride 2 on 6x6 pads (0, 1), as TensorFlow does
    h = torch.nn.functional.pad(tx.permute(0, 3, 1, 2), (0, 1, 0, 1))
    h = torch.nn.functional.conv2d(h, t["k1"].permute(3, 2, 0, 1), t["b1"], stride=2)
    h = torch.nn.functional.leaky_relu(h, 0.2).permute(0, 2, 3, 1).reshape(3, 36)
    h = torch.nn.functional.layer_norm(h, (36,), t["gamma"], t["beta"], eps=1e-3)
    out = torch.nn.functional.gelu(h) @ t["k2"]
    (tslopes,) = torch.autograd.grad(out.sum(), tx, create_graph=True)
    tpenalty = ((tslopes.pow(2).sum(dim=(1, 2, 3)).sqrt() - 1) ** 2).mean()
    theirs = torch.autograd.grad(tpenalty, list(t.values()))

    np.testing.assert_allclose(slopes.numpy(), tslopes.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert penalty.item() == pytest.approx(tpenalty.item(), rel=1e-9)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-7, atol=1e-10)
