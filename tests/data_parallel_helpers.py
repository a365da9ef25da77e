"""What the data-parallel tests share: a small float64 model, its data, and training it under
a distribution (``DataParallel(threads=...)`` or ``DataParallel(processes=...)``) to compare
with the same model trained alone."""

import numpy as np

import npgrad
from npgrad import layers as L
from npgrad.distribution import DataParallel


def data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    return x, (x[:, :3].sum(axis=1) > 0).astype("int64")


def mlp(seed=1, optimizer=None):
    npgrad.utils.set_random_seed(seed)
    model = npgrad.Sequential([npgrad.Input((6,)), L.Dense(8, activation="tanh", dtype="float64"),
                               L.Dense(2, dtype="float64")])
    model.compile(optimizer or npgrad.optimizers.Adam(0.01),
                  npgrad.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def bn_model(synchronized):
    """Dense, BatchNormalization (``synchronized`` over the ranks or not), Dense; SGD."""
    npgrad.utils.set_random_seed(2)
    model = npgrad.Sequential([
        npgrad.Input((6,)), L.Dense(4, dtype="float64"),
        L.BatchNormalization(synchronized=synchronized, dtype="float64"), L.Dense(2, dtype="float64"),
    ])
    model.compile(npgrad.optimizers.SGD(0.1),
                  npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def trained_under(options, run, build=mlp):
    """``run(model)`` under ``DataParallel(**options)`` (None: no distribution); returns
    ``(model, result)`` and leaves no distribution set."""
    npgrad.distribution.set_distribution(None if options is None else DataParallel(**options))
    try:
        model = build()
        return model, run(model)
    finally:
        npgrad.distribution.set_distribution(None)


def assert_same_weights(a, b, atol=1e-12):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(u, v, rtol=0, atol=atol)
