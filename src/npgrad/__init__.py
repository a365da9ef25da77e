"""npgrad: deep learning from scratch on NumPy.

A Tensor with reverse-mode autograd at the bottom; Keras-style layers and models on top.
Code written for ``tf.keras`` runs after replacing ``tf.keras.`` with ``npgrad.``:

    >>> import npgrad
    >>> model = npgrad.Sequential([npgrad.layers.Dense(10, activation="softmax")])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

Modules mirrored from Keras: layers, models, optimizers, losses, metrics, callbacks,
activations, initializers, regularizers, datasets, utils; plus ``npgrad.Input``,
``npgrad.Model`` (also functional: ``Model(inputs, outputs)``) and ``npgrad.KerasTensor``.
"""

from npgrad.autograd import (
    Function,
    Tensor,
    Variable,
    enable_grad,
    is_grad_enabled,
    no_grad,
    tensor,
)
from npgrad.primitives.elementwise import maximum, minimum, where
from npgrad.primitives.shape import concatenate, pad, stack
from npgrad import (  # noqa: E402  (order: the core first, then what stands on it)
    errors,
    config,
    backend,
    random,
    ops,
    distribution,
    activations,
    functional,
    initializers,
    regularizers,
    constraints,
    utils,
    layers,
    losses,
    metrics,
    optimizers,
    callbacks,
    trainers,
    saving,
    models,
    datasets,
    preprocessing,
)
from npgrad.layers import Input
from npgrad.layers.node import KerasTensor
from npgrad.models import Model, Sequential, load_model

from npgrad.version import __version__  # noqa: E402, F401 - npgrad.__version__
from npgrad.primitives import blas_pools as _blas_pools

_blas_pools.warm_up()  # OpenBLAS's work buffers written once (see blas_pools.warm_up)
_blas_pools.quiet_workers()  # its workers sleep between products (primitives/parallel.py)

__all__ = [
    "Tensor", "tensor", "Variable", "Function", "no_grad", "enable_grad", "is_grad_enabled",
    "concatenate", "stack", "pad", "where", "maximum", "minimum",
    "errors", "distribution", "constraints", "activations", "functional", "initializers",
    "regularizers", "utils", "layers", "losses",
    "metrics", "optimizers", "callbacks", "trainers", "saving", "models", "datasets",
    "Input", "KerasTensor", "Model", "Sequential", "load_model",
    "config", "backend", "ops", "random", "preprocessing",
]  # fmt: skip
