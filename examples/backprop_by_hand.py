"""Backpropagation by hand with NumPy, then with npgrad's autograd: the same gradients.

    python examples/backprop_by_hand.py            # gradients, their difference, 2,000 GD steps
    python examples/backprop_by_hand.py --quick    # the same with 100 GD steps

The network (docs/02_backpropagation.md): two sigmoid layers and a mean squared error,

    z1 = X W1 + b1,  h = sigmoid(z1),  z2 = h W2 + b2,  p = sigmoid(z2),  L = mean((p - y)^2)

on four points of the XOR problem. The chain rule, written out one line per node, gives
dL/dW1, dL/db1, dL/dW2, dL/db2; npgrad computes the same four with ``loss.backward()``.
"""

import argparse

import numpy as np

import npgrad
import npgrad.functional as F


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward_and_backward_by_hand(x, y, w1, b1, w2, b2):
    """Loss and the four gradients, the chain rule applied node by node (shapes for N=4, H=3)."""
    n = x.shape[0]
    # forward
    z1 = x @ w1 + b1                     # (4, 3)
    h = sigmoid(z1)                      # (4, 3)
    z2 = h @ w2 + b2                     # (4, 1)
    p = sigmoid(z2)                      # (4, 1)
    loss = np.mean((p - y) ** 2)         # scalar
    # backward: each line is dL/d(node) = dL/d(child) * d(child)/d(node)
    dp = 2.0 * (p - y) / n               # (4, 1)   d mean((p-y)^2) / dp
    dz2 = dp * p * (1.0 - p)             # (4, 1)   sigmoid'(z) = s(z) (1 - s(z))
    dw2 = h.T @ dz2                      # (3, 1)   z2 = h W2 + b2
    db2 = dz2.sum(axis=0)                # (1,)     b2 was broadcast over the batch: sum
    dh = dz2 @ w2.T                      # (4, 3)
    dz1 = dh * h * (1.0 - h)             # (4, 3)
    dw1 = x.T @ dz1                      # (2, 3)
    db1 = dz1.sum(axis=0)                # (3,)
    return loss, {"W1": dw1, "b1": db1, "W2": dw2, "b2": db2}


def forward_and_backward_with_npgrad(x, y, w1, b1, w2, b2):
    """The same network written with npgrad ops; autograd does the backward pass."""
    params = {name: npgrad.Tensor(value, requires_grad=True)
              for name, value in (("W1", w1), ("b1", b1), ("W2", w2), ("b2", b2))}
    h = F.sigmoid(npgrad.Tensor(x) @ params["W1"] + params["b1"])
    p = F.sigmoid(h @ params["W2"] + params["b2"])
    loss = ((p - npgrad.Tensor(y)) ** 2).mean()
    loss.backward()
    return float(loss.item()), {name: t.grad for name, t in params.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer gradient-descent steps")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=2.0)
    args = parser.parse_args(argv)
    steps = 100 if args.quick else args.steps

    rng = np.random.default_rng(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    w1, b1 = rng.normal(0, 1, (2, 3)), np.zeros(3)
    w2, b2 = rng.normal(0, 1, (3, 1)), np.zeros(1)

    loss_hand, grads_hand = forward_and_backward_by_hand(x, y, w1, b1, w2, b2)
    loss_auto, grads_auto = forward_and_backward_with_npgrad(x, y, w1, b1, w2, b2)
    print(f"loss by hand {loss_hand:.10f}   loss with npgrad {loss_auto:.10f}")
    worst = 0.0
    for name in grads_hand:
        diff = float(np.max(np.abs(grads_hand[name] - grads_auto[name])))
        worst = max(worst, diff)
        print(f"dL/d{name:2s} by hand {np.array2string(grads_hand[name].ravel(), precision=6)}")
        print(f"       npgrad  {np.array2string(grads_auto[name].ravel(), precision=6)}"
              f"   max |difference| {diff:.2e}")
    print(f"largest difference over all gradients: {worst:.2e} (float64)")

    # Plain gradient descent with the hand-written gradients.
    params = {"W1": w1.copy(), "b1": b1.copy(), "W2": w2.copy(), "b2": b2.copy()}
    for step in range(1, steps + 1):
        loss, grads = forward_and_backward_by_hand(x, y, *params.values())
        for name in params:
            params[name] -= args.lr * grads[name]
        if step in (1, steps // 10, steps // 2, steps):
            print(f"gradient descent step {step:5d}: loss {loss:.6f}")
    h = sigmoid(x @ params["W1"] + params["b1"])
    p = sigmoid(h @ params["W2"] + params["b2"]).ravel()
    print(f"predictions after {steps} steps for (0,0) (0,1) (1,0) (1,1): "
          f"{np.array2string(p, precision=3)}")
    return worst


if __name__ == "__main__":
    main()
