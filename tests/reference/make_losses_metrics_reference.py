"""Regenerate tests/reference/losses_metrics/*.npz from Keras 3 (torch backend).

Run with a Python that has keras and torch:
    KERAS_BACKEND=torch /work/refenv/bin/python tests/reference/make_losses_metrics_reference.py

The cases (inputs, constructor arguments) live in tests/reference/losses_metrics_cases.py,
shared with the tests, so npgrad computes exactly what Keras computed here.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import numpy as np  # noqa: E402

from tests.reference import losses_metrics_cases as cases  # noqa: E402

OUT = HERE / "losses_metrics"


def loss_reference(keras, torch):
    """Value, gradient and unreduced values of every loss case."""
    out = {}
    for name, (cls, kwargs, y_true, y_pred, weight) in cases.loss_cases().items():
        loss = getattr(keras.losses, cls)(**kwargs)
        pred = torch.tensor(y_pred, requires_grad=True)
        value = loss(y_true, pred) if weight is None else loss(y_true, pred, sample_weight=weight)
        value.backward()
        out[f"{name}/value"] = value.detach().numpy()
        out[f"{name}/grad"] = pred.grad.numpy()
        none = getattr(keras.losses, cls)(**{**kwargs, "reduction": "none"})
        out[f"{name}/none"] = np.asarray(none(y_true, torch.tensor(y_pred)).detach().numpy())
    return out


def loss_target_reference(keras, torch):
    """The gradient of every loss case whose targets are floats with respect to y_true
    (Keras's losses are ops on both arguments)."""
    out = {}
    for name, (cls, kwargs, y_true, y_pred, weight) in cases.loss_cases().items():
        if y_true.dtype.kind != "f":
            continue
        loss = getattr(keras.losses, cls)(**kwargs)
        target = torch.tensor(y_true, requires_grad=True)
        pred = torch.tensor(y_pred)
        value = loss(target, pred) if weight is None else loss(target, pred, sample_weight=weight)
        value.backward()
        out[f"{name}/target_grad"] = target.grad.numpy()
    return out


def metric_reference(keras):
    """Result after each batch of every metric case."""
    out = {}
    for name, (cls, kwargs, batches) in cases.metric_cases().items():
        metric = getattr(keras.metrics, cls)(**kwargs)
        results = []
        for batch in batches:
            metric.update_state(*batch)
            results.append(np.asarray(metric.result(), dtype=np.float64))
        out[f"{name}/results"] = np.stack(results)
    return out


def optimizer_reference(keras, torch):
    """20-step trajectories of a vector and a matrix for every optimizer case."""
    out = {}
    a, b, p0 = cases.quadratic()
    for name, (cls, kwargs, steps) in cases.optimizer_cases().items():
        vector, matrix = keras.Variable(p0.copy()), keras.Variable(cases.matrix_start())
        opt = getattr(keras.optimizers, cls)(**kwargs)
        trajectory, matrices = [], []
        for _ in range(steps):
            grads = [cases.quadratic_gradient(a, b, np.asarray(vector.numpy())),
                     cases.matrix_gradient(np.asarray(matrix.numpy()))]
            opt.apply_gradients(zip([torch.tensor(g) for g in grads], [vector, matrix]))
            trajectory.append(np.asarray(vector.numpy()).copy())
            matrices.append(np.asarray(matrix.numpy()).copy())
        out[f"{name}/trajectory"] = np.stack(trajectory)
        out[f"{name}/matrix_trajectory"] = np.stack(matrices)
    return out


def activation_reference(keras, torch):
    """Value and gradient (random upstream) of every activation case."""
    out = {}
    x = cases.activation_input()
    for name, kwargs in cases.activation_cases().items():
        fn = getattr(keras.activations, name.split(":")[0])
        tx = torch.tensor(x, requires_grad=True)
        y = fn(tx, **kwargs)
        (y * torch.tensor(cases.activation_upstream(y.shape))).sum().backward()
        out[f"{name}/value"] = y.detach().numpy()
        out[f"{name}/grad"] = tx.grad.numpy()
    return out


def main():
    import keras
    import torch

    OUT.mkdir(exist_ok=True)
    np.savez(OUT / "losses.npz", **loss_reference(keras, torch))
    np.savez(OUT / "loss_targets.npz", **loss_target_reference(keras, torch))
    np.savez(OUT / "metrics.npz", **metric_reference(keras))
    np.savez(OUT / "optimizers.npz", **optimizer_reference(keras, torch))
    np.savez(OUT / "activations.npz", **activation_reference(keras, torch))
    print("keras", keras.__version__, "->", sorted(p.name for p in OUT.glob("*.npz")))


if __name__ == "__main__":
    main()
