"""Activation functions by Keras name: ``activations.get('relu')`` -> a function of Tensors.

Every name of ``keras.activations`` is here; ``relu`` takes Keras' ``negative_slope``,
``max_value`` and ``threshold``. ``serialize`` gives the name, ``deserialize`` / ``get``
resolve it (also from Keras' ``{"class_name": "function", "config": name}`` form).
"""

import npgrad.functional as F
from npgrad.primitives import activation_extra as _extra

elu = F.elu
gelu = F.gelu
hard_sigmoid = F.hard_sigmoid
leaky_relu = F.leaky_relu
linear = F.linear
log_softmax = F.log_softmax
relu = F.relu  # with Keras' negative_slope, max_value, threshold
selu = F.selu
sigmoid = F.sigmoid
silu = F.silu
swish = F.silu
softmax = F.softmax
softplus = F.softplus
softsign = F.softsign
tanh = F.tanh
celu = _extra.celu
exponential = _extra.exponential
glu = _extra.glu
hard_shrink = _extra.hard_shrink
hard_silu = _extra.hard_silu
hard_swish = _extra.hard_silu
hard_tanh = _extra.hard_tanh
log_sigmoid = _extra.log_sigmoid
mish = _extra.mish
relu6 = _extra.relu6
soft_shrink = _extra.soft_shrink
sparse_plus = _extra.sparse_plus
sparse_sigmoid = _extra.sparse_sigmoid
sparsemax = _extra.sparsemax
squareplus = _extra.squareplus
tanh_shrink = _extra.tanh_shrink
threshold = _extra.threshold


_BY_NAME = {
    "elu": elu, "gelu": gelu, "hard_sigmoid": hard_sigmoid, "leaky_relu": leaky_relu,
    "linear": linear, "log_softmax": log_softmax, "relu": relu, "selu": selu, "sigmoid": sigmoid,
    "silu": silu, "swish": swish, "softmax": softmax, "softplus": softplus, "softsign": softsign,
    "tanh": tanh, "celu": celu, "exponential": exponential, "glu": glu,
    "hard_shrink": hard_shrink, "hard_silu": hard_silu, "hard_swish": hard_swish,
    "hard_tanh": hard_tanh, "log_sigmoid": log_sigmoid, "mish": mish, "relu6": relu6,
    "soft_shrink": soft_shrink, "sparse_plus": sparse_plus, "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax, "squareplus": squareplus, "tanh_shrink": tanh_shrink,
    "threshold": threshold,
}  # fmt: skip


def get(identifier):
    """Resolve an activation: None or 'linear' -> identity, a Keras name, a config, a callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
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


def deserialize(config):
    """A built-in activation from its name or Keras' ``{"class_name": "function",
    "config": name}`` dict.

    Raises:
        ValueError: for an unknown name or a malformed config.
    """
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and isinstance(config.get("config"), str):
        return get(config["config"])
    raise ValueError(f"activation config must be a name or a Keras function config, got {config!r}")
