"""Activation functions by Keras name: ``activations.get('relu')`` -> a function of Tensors.

Every name of ``keras.activations`` is here; ``relu`` takes Keras' ``negative_slope``,
``max_value`` and ``threshold``. ``serialize`` gives the name, ``deserialize`` / ``get``
resolve it (also from Keras' ``{"class_name": "function", "config": name}`` form). A named
function of your own serializes as Keras 3 writes it, by its registered name
(``@npgrad.saving.register_keras_serializable``) or its ``__name__``; loading finds it in the
registry or in ``custom_objects``, never by importing or running anything from the file.
"""

import functools
import types

import npgrad.functional as F
from npgrad import ops
from npgrad.ops.symbolic import find_symbolic
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

#: activations whose ``npgrad.ops`` counterpart has another name
_OPS_NAMES = {"exponential": "exp"}


def _functional_api(name, function):
    """``function`` as ``npgrad.activations.<name>``: on data it is ``function``; on a
    symbolic tensor (the functional API) it records the ``npgrad.ops`` op of that name, as
    Keras's activations, which are written with ops, do (``activations.sigmoid(x) * 5``
    between two layers). Layers get ``function`` itself (see :func:`get`)."""
    op = getattr(ops, _OPS_NAMES.get(name, name), None)

    @functools.wraps(function)
    def activation(x, *args, **kwargs):
        if find_symbolic(x) is None:
            return function(x, *args, **kwargs)
        if function is F.linear:
            return x
        if op is None:
            raise TypeError(f"activations.{name} has no op to record on a symbolic tensor; "
                            f"use npgrad.layers.Activation({name!r}) in the model instead")
        return op(x, *args, **kwargs)

    activation.function = function
    return activation


for _name, _function in _BY_NAME.items():
    globals()[_name] = _functional_api(_name, _function)
_WRAPPERS = {id(globals()[name]): function for name, function in _BY_NAME.items()}


def _plain(activation):
    """The function behind a module-level activation (what layers run and fuse)."""
    return _WRAPPERS.get(id(activation), activation)


def get(identifier):
    """Resolve an activation: None or 'linear' -> identity, a Keras name, a config, a callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None:
        return F.linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        found = _BY_NAME.get(identifier) or _registered(identifier)
        if found is None:
            raise ValueError(
                f"unknown activation {identifier!r}; valid names: {sorted(_BY_NAME)}, or a "
                f"function registered with npgrad.saving.register_keras_serializable or "
                f"passed in custom_objects"
            )
        return found
    if callable(identifier):
        return _plain(identifier)
    raise TypeError(f"activation must be a name or a callable, got {type(identifier).__name__}")


def _registered(name):
    """A function of the user's known as ``name`` (custom-object scope, registry), or None."""
    from npgrad.saving import object_registration

    found = object_registration.get_registered_object(name)
    return found if callable(found) else None


def serialize(activation):
    """A built-in activation's Keras name, or Keras 3's dict for a named function of your own.

    A function of your own becomes ``{"module", "class_name": "function", "config": name,
    "registered_name": name}`` with its registered name (or ``__name__``), as Keras 3 writes
    it; loading needs it registered or passed in ``custom_objects``.

    Raises:
        ValueError: a lambda or a callable object (a file would have to hold code to
            rebuild them; npgrad never stores or runs code).
    """
    activation = _plain(activation)
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    if isinstance(activation, types.FunctionType) and activation.__name__ != "<lambda>":
        from npgrad.saving import object_registration

        name = object_registration.get_registered_name(activation)
        return {"module": activation.__module__, "class_name": "function", "config": name,
                "registered_name": name}
    raise ValueError(
        f"cannot serialize the activation {activation!r}: a lambda or callable object would "
        f"have to be saved as code; define it as a named function (and register it with "
        f"npgrad.saving.register_keras_serializable) or use a built-in name"
    )


def deserialize(config):
    """An activation from its name or Keras' ``{"class_name": "function", "config": name}``
    dict: a built-in, or a function of your own from the registry or ``custom_objects``.

    Raises:
        ValueError: for an unknown name or a malformed config.
    """
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and isinstance(config.get("config"), str):
        registered = config.get("registered_name")
        found = _registered(registered) if isinstance(registered, str) else None
        return found or get(config["config"])
    raise ValueError(f"activation config must be a name or a Keras function config, got {config!r}")
