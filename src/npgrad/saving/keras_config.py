"""Keras configs -> npgrad objects: layers, Sequential and functional models, compile settings.

Keras 3 writes each object as ``{"module", "class_name", "config", "registered_name"}`` (plus
``build_config`` / ``compile_config``); Keras 2 / tf.keras wrote ``{"class_name", "config"}``.
This module reads both into npgrad layers and models (:mod:`npgrad.saving.keras_export`
writes npgrad models in Keras 3's form).

Reading never imports a module named in a config and never runs code from it: a class
resolves to a caller's ``custom_objects``, a registered class
(:func:`npgrad.saving.register_keras_serializable`) or one of npgrad's own classes, looked up
by name in npgrad's public namespaces. Keras settings npgrad lacks are dropped only when
they hold Keras's default (``data_format="channels_last"``, a ``None`` constraint...);
anything else is an error naming the layer and the setting. Before a layer builds, the
size of its weights is estimated from its config and the input shapes, and checked against
a budget (see :data:`PARAMETER_BUDGET_BYTES`), so a hostile config cannot make the loader
allocate without bound.
"""

from __future__ import annotations

import types

import inspect
import math
import warnings

import numpy as np

from npgrad.saving import hooks, object_registration
from npgrad.layers.layer import get_layer_class, registered_layer_classes  # models by name
from npgrad.trainers.trainer import Trainer

__all__ = [
    "builtin_class",
    "compile_from_keras_config",
    "drop_keras_only",
    "instantiate",
    "kind_of",
    "layer_from_keras_spec",
    "model_from_keras_spec",
    "npgrad_value",
    "resolve_class",
]

#: the Keras module each kind of npgrad object is written under
KERAS_MODULES = {
    "layers": "keras.layers",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "constraints": "keras.constraints",
    "optimizers": "keras.optimizers",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
}

#: the most weight bytes one loaded model may allocate before its weights are checked
#: against the file (a config whose weights need more than this and more than 16 times the
#: weights the file holds is refused before anything is allocated)
PARAMETER_BUDGET_BYTES = 1 << 28

_MODEL_NAMES = ("Sequential", "Functional", "Model")
_DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy", "Policy")
_TENSOR_KEY = "__keras_tensor__"


def _always(value):
    return True


def _is_none(value):
    return value is None


def _is_false(value):
    return value in (None, False)


#: Keras settings npgrad has no use for, and the values for which dropping them changes
#: nothing (Keras's defaults); other values are reported as unsupported
_HARMLESS = {
    "data_format": lambda v: v in (None, "channels_last"),
    "groups": lambda v: v in (None, 1),
    "activity_regularizer": _is_none,
    "kernel_constraint": _is_none,
    "bias_constraint": _is_none,
    "recurrent_constraint": _is_none,
    "embeddings_constraint": _is_none,
    "alpha_constraint": _is_none,
    "beta_constraint": _is_none,
    "gamma_constraint": _is_none,
    "depthwise_constraint": _is_none,
    "pointwise_constraint": _is_none,
    "quantization_config": _is_none,
    "lora_rank": _is_none,
    "lora_alpha": _always,
    "sparse": _is_false,
    "ragged": _is_false,
    "optional": _is_false,
    "input_tensor": _is_none,
    "synchronized": _is_false,
    "renorm": _is_false,
    "renorm_clipping": _is_none,
    "renorm_momentum": _always,
    "use_cudnn": _always,
    "autocast": lambda v: v in (None, True),
    "input_axes": _is_none,
    "output_axes": _is_none,
    "weights": _is_none,
    "loss_scale_factor": _is_none,
    "gradient_accumulation_steps": lambda v: v in (None, 1),
    "output_padding": _is_none,
    "keepdims": _is_false,
    "interpolation": lambda v: v in (None, "nearest"),
    "time_major": _is_false,
    "rms_scaling": _is_false,
    "implementation": _always,
    "decay": lambda v: v in (None, 0, 0.0),
    "is_legacy_optimizer": _is_false,
    "jit_compile": _always,
}


# ----------------------------------------------------------------------------- class lookup
def _namespaces():
    from npgrad import (
        constraints,
        initializers,
        layers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )

    # the model classes by name (saving sits below models: found through the registry)
    models = types.SimpleNamespace(**{name: cls for name, cls in registered_layer_classes().items()
                                      if issubclass(cls, Trainer)})
    return {
        "models": (models, layers.Layer),
        "layers": (layers, layers.Layer),
        "initializers": (initializers, initializers.Initializer),
        "regularizers": (regularizers, regularizers.Regularizer),
        "constraints": (constraints, constraints.Constraint),
        "optimizers": (optimizers, optimizers.Optimizer),
        "losses": (losses, losses.Loss),
        "metrics": (metrics, metrics.Metric),
    }


def _kinds_for(module, kind):
    if kind is not None:
        return [kind] if kind != "layers" else ["layers", "models"]
    if isinstance(module, str):
        for name in ("initializers", "regularizers", "constraints", "optimizers", "losses",
                     "metrics"):
            if name in module.split("."):
                return [name]
        if "models" in module.split(".") or module == "keras":
            return ["models", "layers"]
    return ["layers", "models", "initializers", "regularizers", "constraints", "optimizers",
            "losses", "metrics"]


def builtin_class(class_name, kind=None, module=None):
    """npgrad's own class for a Keras class name, or None.

    Args:
        class_name: e.g. ``"Dense"``, ``"GlorotUniform"``, ``"Adam"``.
        kind: ``"layers"``, ``"initializers"``, ``"regularizers"``, ``"constraints"``,
            ``"optimizers"``, ``"losses"`` or ``"metrics"`` when known, else None (searched
            in that order).
        module: the Keras module the file names (a hint for the kind; never imported).

    Returns:
        The class (defined inside npgrad), or None.
    """
    if not isinstance(class_name, str) or not class_name.isidentifier() \
            or class_name.startswith("_"):
        return None
    if class_name == "Model":
        class_name = "Functional"
    spaces = _namespaces()
    for name in _kinds_for(module, kind):
        namespace, base = spaces[name]
        obj = getattr(namespace, class_name, None)
        if inspect.isclass(obj) and issubclass(obj, base) \
                and obj.__module__.startswith("npgrad."):
            return obj
    return None


def kind_of(obj_or_class):
    cls = obj_or_class if inspect.isclass(obj_or_class) else type(obj_or_class)
    for name, (_, base) in _namespaces().items():
        if issubclass(cls, base):
            return "layers" if name == "models" else name
    return None


def resolve_class(spec, kind, custom_objects, where):
    """The class a Keras spec names: custom and registered objects first, then npgrad's.

    Returns:
        (class, is_builtin).

    Raises:
        ValueError: no such class (the message says how to provide one), or a Lambda layer.
    """
    class_name = spec.get("class_name")
    if not isinstance(class_name, str):
        raise ValueError(f"{where}: 'class_name' must be a string, got {class_name!r}")
    registered = spec.get("registered_name") or class_name
    for name in (registered, class_name):
        obj = object_registration.get_registered_object(name, custom_objects)
        if obj is not None:
            return obj, False
    if class_name in ("Lambda", "__lambda__"):
        raise ValueError(
            f"{where}: a Lambda layer holds Python bytecode; npgrad never runs code from a "
            f"file. Rewrite it as a registered custom layer (npgrad.saving."
            f"register_keras_serializable) and pass it in custom_objects"
        )
    cls = builtin_class(class_name, kind, spec.get("module"))
    if cls is None:
        raise ValueError(
            f"{where}: unknown {kind[:-1] if kind else 'object'} class {class_name!r} "
            f"(module {spec.get('module')!r}); npgrad resolves only its own classes, classes "
            f"registered with npgrad.saving.register_keras_serializable and those passed in "
            f"custom_objects={{{class_name!r}: ...}}"
        )
    return cls, True


# ----------------------------------------------------------------------------- Keras -> npgrad
def _accepted_arguments(cls):
    """Named arguments of ``cls.__init__`` and its bases (through ``**kwargs`` chains)."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # pragma: no cover - builtins
            continue
        names.update(p.name for p in parameters
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self")
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return names


def drop_keras_only(cls, config, where):
    accepted = _accepted_arguments(cls)
    out = {}
    for key, value in config.items():
        if key in accepted or key not in _HARMLESS:
            out[key] = value
        elif not _HARMLESS[key](value):
            raise ValueError(
                f"{where}: the Keras setting {key}={value!r} is not supported by npgrad's "
                f"{cls.__name__}"
            )
    return out


def npgrad_value(value, custom_objects=None, where="config"):
    """A Keras config value in npgrad's form (recursively).

    Dtype policies become dtype names; Keras object dicts ``{"module", "class_name",
    "config", ...}`` of npgrad's own classes become ``{"class_name", "config"}`` with the
    Keras-only defaults removed; registered functions become the functions.
    """
    if isinstance(value, list):
        return [npgrad_value(v, custom_objects, where) for v in value]
    if not isinstance(value, dict):
        return value
    class_name = value.get("class_name")
    if isinstance(class_name, str) and "config" in value:
        inner = value.get("config")
        if class_name in _DTYPE_POLICIES and isinstance(inner, dict):
            name = inner.get("name", "float32")
            # mixed precision keeps float32 variables: npgrad computes in float32 then
            return "float32" if isinstance(name, str) and name.startswith("mixed_") else name
        if class_name == _TENSOR_KEY:
            return value
        if class_name == "function":
            name = value.get("registered_name") or inner
            obj = object_registration.get_registered_object(name, custom_objects)
            return obj if obj is not None else inner
        if class_name in ("__numpy__", "__tensor__") and isinstance(inner, dict):
            return np.asarray(inner.get("value"), dtype=np.dtype(str(inner.get("dtype"))))
        if class_name == "__lambda__":
            raise ValueError(f"{where}: a Python lambda in the config; npgrad never runs code "
                             f"from a file")
        if not isinstance(inner, dict):
            inner = {}
        inner = {k: npgrad_value(v, custom_objects, where) for k, v in inner.items()}
        registered = value.get("registered_name") or class_name
        custom = object_registration.get_registered_object(registered, custom_objects)
        cls = None if custom is not None else builtin_class(class_name, None, value.get("module"))
        if cls is not None:
            inner = drop_keras_only(cls, inner, f"{where} ({class_name})")
        return {"class_name": class_name, "config": inner}
    return {k: npgrad_value(v, custom_objects, where) for k, v in value.items()}


def instantiate(cls, config, custom_objects, where):
    with object_registration.scope_adding(custom_objects):
        try:
            return cls.from_config(config)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise ValueError(f"{where}: cannot create a {cls.__name__} from its config: "
                             f"{type(error).__name__}: {error}") from None


def layer_from_keras_spec(spec, custom_objects=None):
    """One layer (or nested model) from its Keras spec; not built.

    Args:
        spec: ``{"class_name", "config", ...}`` (Keras 2 or 3).
        custom_objects: optional ``{name: class}``.

    Raises:
        ValueError: unknown class, unsupported setting or a bad config (named).
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError(f"each layer needs a 'class_name' and a 'config' dict, got {_short(spec)}")
    name = spec["config"].get("name", spec.get("name", "?"))
    where = f"layer {name!r} ({spec.get('class_name')!r})"
    cls, builtin = resolve_class(spec, "layers", custom_objects, where)
    if builtin and cls.__name__ in ("Sequential", "Functional"):
        return model_from_keras_spec(spec, custom_objects, compile=False)
    config = npgrad_value(spec["config"], custom_objects, where)
    if builtin:
        config = drop_keras_only(cls, config, where)
    layer = instantiate(cls, config, custom_objects, where)
    build_config = spec.get("build_config")
    if isinstance(build_config, dict) and hooks.hooked(layer, "build_from_config"):
        hooks.build_by_hook(layer, npgrad_value(build_config, custom_objects, where),
                            custom_objects, where)
    return layer



def _short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ----------------------------------------------------------------------------- size budget
def _ints(value):
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _ints(item)]
    return []


def estimated_weight_count(config, input_shape):
    """An upper estimate of the weights a layer with ``config`` creates for ``input_shape``."""
    if not isinstance(config, dict):
        return 0
    last = 1
    for shape in ([input_shape] if input_shape and not isinstance(input_shape[0], (list, tuple))
                  else list(input_shape or [])):
        if shape and isinstance(shape[-1], int):
            last = max(last, shape[-1])
    sizes = [n for key in ("units", "filters", "output_dim") for n in _ints(config.get(key))]
    width = max([1] + sizes)
    kernel = math.prod(_ints(config.get("kernel_size")) or [1])
    count = 4 * (last + width + 2) * width * kernel
    count += math.prod(_ints(config.get("input_dim")) or [0]) * max(1, sum(_ints(config.get(
        "output_dim"))))
    if "alpha_initializer" in config:  # PReLU: one weight per input element (unshared axes)
        count += math.prod(max(1, n) for n in _ints(list(input_shape or [])[1:]))
    for key in ("layer", "backward_layer", "cell"):
        nested = config.get(key)
        if isinstance(nested, dict):
            count += estimated_weight_count(nested.get("config"), input_shape)
    return count


class _Budget:
    """Counts the estimated weight bytes of the layers built so far against a limit (and
    carries the caller's ``layer_factory`` through nested models)."""

    def __init__(self, limit_bytes, layer_factory=None):
        self.limit = limit_bytes
        self.used = 0
        self.layer_factory = layer_factory

    def charge(self, layer, config, input_shape):
        if self.limit is None:
            return
        self.used += 4 * estimated_weight_count(config, input_shape)
        if self.used > self.limit:
            raise ValueError(
                f"layer {getattr(layer, 'name', '?')!r}: the config asks for about "
                f"{self.used:,} bytes of weights, more than the file can hold "
                f"({self.limit:,} bytes allowed); refusing to allocate"
            )


# ----------------------------------------------------------------------------- model graphs
def model_from_keras_spec(spec, custom_objects=None, compile=True, budget_bytes=None,
                          layer_factory=None):
    """A Sequential or functional model from its Keras spec (``config.json``'s content).

    Args:
        spec: ``{"class_name": "Sequential" | "Functional" | "Model", "config": ...}``.
        custom_objects: optional ``{name: class or function}``.
        compile: also apply ``compile_config`` when present.
        budget_bytes: refuse configs whose estimated weights exceed this many bytes.
        layer_factory: optional ``fn(layer_spec) -> layer or None`` that makes a layer in
            place of the config's (``clone_model``'s ``clone_function``); None falls back.

    Returns:
        The built npgrad model (weights initialized, not loaded).

    Raises:
        ValueError: an unknown class, unsupported setting or malformed graph (named).
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError(f"the model config needs 'class_name' and a 'config' dict, got "
                         f"{_short(spec)}")
    budget = _Budget(budget_bytes, layer_factory)
    class_name = spec.get("class_name")
    cls, builtin = resolve_class(spec, "layers", custom_objects, f"model {class_name!r}")
    config = spec["config"]
    if not builtin or cls.__name__ not in ("Sequential", "Functional"):
        model = instantiate(cls, npgrad_value(config, custom_objects), custom_objects,
                            f"model {class_name!r}")
        shape = (spec.get("build_config") or {}).get("input_shape")
        if shape is not None and not getattr(model, "built", True):
            _check_shape(shape, f"model {class_name!r} build_config")
            budget.charge(model, config, tuple(shape))
            model.build(tuple(shape))
    elif cls.__name__ == "Sequential":
        model = _sequential(config, custom_objects, budget, spec.get("build_config"))
    else:
        model = _functional(config, custom_objects, budget)
    compile_config = spec.get("compile_config")
    if compile and isinstance(compile_config, dict):
        if hooks.hooked(model, "compile_from_config"):  # the model's own (Keras 3 calls it)
            hooks.compile_by_hook(model, compile_config, custom_objects)
        else:
            compile_from_keras_config(model, compile_config, custom_objects)
    return model



def _nested_or_layer(spec, custom_objects, budget):
    if budget.layer_factory is not None:
        made = budget.layer_factory(spec)
        if made is not None:
            return made
    if isinstance(spec, dict) and spec.get("class_name") in _MODEL_NAMES:
        return model_from_keras_spec(spec, custom_objects, compile=False,
                                     budget_bytes=None if budget.limit is None
                                     else budget.limit - budget.used,
                                     layer_factory=budget.layer_factory)
    return layer_from_keras_spec(spec, custom_objects)


def _sequential(config, custom_objects, budget, build_config):
    from npgrad.layers import Input, InputLayer
    Sequential = get_layer_class("Sequential")

    specs = config.get("layers")
    if not isinstance(specs, list):
        raise ValueError(f"Sequential config: 'layers' must be a list, got {_short(specs)}")
    layers = [_nested_or_layer(s, custom_objects, budget) for s in specs]
    shape = None
    if layers and isinstance(layers[0], InputLayer):
        shape = layers[0].batch_shape
    elif specs and isinstance(specs[0], dict) and isinstance(specs[0].get("config"), dict) \
            and specs[0]["config"].get("batch_input_shape") is not None:
        shape = specs[0]["config"]["batch_input_shape"]  # Keras 2: on the first layer
    if shape is None:
        shape = config.get("build_input_shape") or (build_config or {}).get("input_shape")
    _check_shape(shape, "Sequential build_input_shape")
    if shape is not None:  # build layer by layer, each checked against the budget first
        x = Input(batch_shape=tuple(shape)) if not isinstance(layers[0], InputLayer) \
            else layers[0].output
        for layer, layer_spec in zip(layers, specs):
            if isinstance(layer, InputLayer):
                continue
            budget.charge(layer, layer_spec.get("config"), x.shape)
            try:
                x = layer(x)
            except (TypeError, ValueError, IndexError) as error:
                raise ValueError(f"layer {layer.name!r}: cannot be applied to an input of "
                                 f"shape {x.shape}: {error}") from None
    try:
        model = Sequential(layers=layers, name=config.get("name"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"Sequential config: {error}") from None
    if shape is not None and not model.built:
        model.build(tuple(shape))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def _check_shape(shape, what):
    if shape is None:
        return
    if not isinstance(shape, (list, tuple)) or not all(
            n is None or (isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2 ** 31)
            for n in shape):
        raise ValueError(f"{what}: expected a list of sizes (None or int), got {_short(shape)}")


def _node_calls(nodes, where):
    """Keras 3 (``{"args", "kwargs"}``) and Keras 2 (``[[name, node, tensor, kwargs], ...]``)
    inbound nodes as ``(args, kwargs)`` with tensor references ``("ref", name, node, index)``."""
    if not isinstance(nodes, list):
        raise ValueError(f"{where}: 'inbound_nodes' must be a list, got {_short(nodes)}")
    calls = []
    for node in nodes:
        if isinstance(node, dict):
            args, kwargs = node.get("args"), node.get("kwargs", {})
            if not isinstance(args, list) or not args or not isinstance(kwargs, dict):
                raise ValueError(f"{where}: bad inbound node {_short(node)}")
            calls.append((args, {k: v for k, v in kwargs.items()
                                 if not (k == "mask" and v is None)}))
        elif isinstance(node, list) and node:
            refs, kwargs = [], {}
            for entry in node:
                if not (isinstance(entry, list) and len(entry) >= 3):
                    raise ValueError(f"{where}: bad inbound node entry {_short(entry)}")
                refs.append({"class_name": _TENSOR_KEY,
                             "config": {"keras_history": list(entry[:3])}})
                if len(entry) > 3 and isinstance(entry[3], dict):
                    kwargs = dict(entry[3])
            calls.append(([refs[0] if len(refs) == 1 else refs], kwargs))
        else:
            raise ValueError(f"{where}: bad inbound node {_short(node)}")
    return calls


def _functional(config, custom_objects, budget):
    from npgrad.layers import InputLayer
    Model = get_layer_class("Model")

    specs = config.get("layers")
    if not isinstance(specs, list):
        raise ValueError(f"functional config: 'layers' must be a list, got {_short(specs)}")
    layers, pending, created = {}, [], {}
    for spec in specs:
        if not isinstance(spec, dict):
            raise ValueError(f"functional config: bad layer entry {_short(spec)}")
        layer = _nested_or_layer(spec, custom_objects, budget)
        name = spec.get("name", layer.name)
        if name in layers:
            raise ValueError(f"functional config: two layers are named {name!r}")
        layers[name] = layer
        if isinstance(layer, InputLayer):
            created[(name, 0)] = [layer.output]
        calls = _node_calls(spec.get("inbound_nodes", []), f"layer {name!r}")
        pending.append([name, layer, spec.get("config"), calls, 0])

    def tensor_of(value):
        if isinstance(value, dict) and value.get("class_name") == _TENSOR_KEY:
            ref = (value.get("config") or {}).get("keras_history")
            if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
                    and all(isinstance(n, int) and not isinstance(n, bool) for n in ref[1:])):
                raise ValueError(f"functional config: bad tensor reference {_short(value)}")
            outs = created.get((ref[0], ref[1]))
            if outs is None:
                raise LookupError(ref[0])
            if not 0 <= ref[2] < len(outs):
                raise ValueError(f"functional config: layer {ref[0]!r} has no output {ref[2]}")
            return outs[ref[2]]
        if isinstance(value, list):
            return [tensor_of(v) for v in value]
        if isinstance(value, dict):
            return {k: tensor_of(v) for k, v in value.items()}
        return value

    while any(entry[4] < len(entry[3]) for entry in pending):
        progress = False
        for entry in pending:
            name, layer, layer_config, calls, index = entry
            while index < len(calls):
                args, kwargs = calls[index]
                try:
                    args, kwargs = tensor_of(args), tensor_of(kwargs)
                except LookupError:
                    break
                shapes = [t.shape for t in _leaves(args[0])]
                budget.charge(layer, layer_config, shapes[0] if len(shapes) == 1 else shapes)
                try:
                    out = layer(*args, **kwargs)
                except (TypeError, ValueError, IndexError) as error:
                    raise ValueError(f"layer {name!r}: cannot be applied to inputs of shapes "
                                     f"{shapes}: {error}") from None
                created[(name, index)] = _leaves(out)
                index += 1
                progress = True
            entry[4] = index
        if not progress:
            missing = [e[0] for e in pending if e[4] < len(e[3])]
            raise ValueError(f"functional config: the inbound nodes of {missing} refer to "
                             f"layers or nodes that are not in the config (or form a cycle)")

    def reference(value):
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            outs = created.get((value[0], value[1])) if isinstance(value[1], int) else None
            if outs is None or not isinstance(value[2], int) or not 0 <= value[2] < len(outs):
                raise ValueError(f"functional config: no tensor {value} in the graph")
            return outs[value[2]]
        if isinstance(value, list):
            return [reference(v) for v in value]
        if isinstance(value, dict):
            return {k: reference(v) for k, v in value.items()}
        raise ValueError(f"functional config: bad input/output reference {_short(value)}")

    inputs = _single(reference(config.get("input_layers")))
    outputs = _single(reference(config.get("output_layers")))
    try:
        model = Model(inputs, outputs, name=config.get("name"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"functional config: {error}") from None
    if config.get("trainable") is False:
        model.trainable = False
    return model


def _single(value):
    """A one-element list of tensors is that tensor (Keras 2 always wrote lists)."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


# ----------------------------------------------------------------------------- compile
def compile_from_keras_config(model, compile_config, custom_objects=None):
    """Compile ``model`` from a Keras ``compile_config``; warn (as Keras) when that fails.

    Returns:
        True when the model was compiled.
    """
    from npgrad import optimizers

    kwargs = {}
    try:
        optimizer = compile_config.get("optimizer")
        if isinstance(optimizer, dict):
            converted = npgrad_value(optimizer, custom_objects, "optimizer")
            cls = builtin_class(converted["class_name"], "optimizers")
            if cls is None:
                raise ValueError(f"unknown optimizer {converted['class_name']!r}")
            optimizer = cls.from_config(converted["config"])
        kwargs["optimizer"] = optimizers.get(optimizer if optimizer is not None else "rmsprop")
        for key in ("loss", "metrics", "weighted_metrics", "loss_weights"):
            value = compile_config.get(key)
            if value is not None:
                kwargs[key] = npgrad_value(value, custom_objects, key)
        model.compile(**kwargs)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        warnings.warn(
            f"compile_from_config failed for model {model.name!r} ({type(error).__name__}: "
            f"{error}); the model is returned uncompiled: call compile() yourself",
            stacklevel=3)
        return False
    return True
