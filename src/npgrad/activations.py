"""Activation functions by Keras name: ``activations.get('relu')`` -> a function of Tensors."""

import npgrad.functional as F

elu = F.elu
gelu = F.gelu
hard_sigmoid = F.hard_sigmoid
leaky_relu = F.leaky_relu
linear = F.linear
log_softmax = F.log_softmax
relu = F.relu
selu = F.selu
sigmoid = F.sigmoid
silu = F.silu
swish = F.silu
softmax = F.softmax
softplus = F.softplus
softsign = F.softsign
tanh = F.tanh

_BY_NAME = {
    "elu": elu, "gelu": gelu, "hard_sigmoid": hard_sigmoid, "leaky_relu": leaky_relu,
    "linear": linear, "log_softmax": log_softmax, "relu": relu, "selu": selu, "sigmoid": sigmoid,
    "silu": silu, "swish": swish, "softmax": softmax, "softplus": softplus, "softsign": softsign,
    "tanh": tanh,
}  # fmt: skip


def get(identifier):
    """Resolve an activation: None or 'linear' -> identity, a Keras name, or a callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(
                f"unknown activation {identifier!r}; valid names: {sorted(_BY_NAME)}"
            ) from None
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name or a callable, got {type(identifier).__name__}")


def serialize(activation):
    """The Keras name of a built-in activation (for configs), or raise for custom callables."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    raise ValueError(
        f"cannot serialize custom activation {activation!r}; use a built-in name to save the model"
    )
