"""``npgrad.ops`` calls and tensor operators on symbolic tensors become graph nodes.

Keras 3 records ``x = x + residual``, ``ops.concatenate([a, b])`` or ``ops.mean(x, axis=1)``
on the symbolic tensors of a functional model as nodes of the graph. npgrad does the same
with one Layer class, :class:`OpLayer`: it holds the *name* of the ``npgrad.ops`` function
and its constant arguments (JSON, with placeholders where the symbolic tensors go), and calls
that function on real tensors when the model runs. A saved model stores the name only; on
load the name is looked up among the public ops (``npgrad.ops.get_op``), so a file can never
name arbitrary code.

Importing this module registers the hook: any ``npgrad.ops`` function called with a
``KerasTensor`` among its arguments (also inside lists and dicts) records an OpLayer node, and
``KerasTensor``'s operators (``+ - * / // % ** @``, unary ``-``, ``abs``, ``[...]``,
comparisons) are those ops.

Example:
    >>> from npgrad import ops
    >>> x = npgrad.Input((5, 8))
    >>> h = npgrad.layers.Dense(8)(x)
    >>> y = ops.mean(h + x, axis=1)            # two OpLayer nodes: add, mean
    >>> model = npgrad.Model(x, y)             # builds, fits, saves and loads like any model
"""

from __future__ import annotations

import json
import re

import numpy as np

from npgrad.autograd.engine import no_grad
from npgrad.autograd.tensor import Tensor
from npgrad.layers.layer import Layer
from npgrad.utils.naming import unique_name
from npgrad.layers.node import KerasTensor, flatten, is_symbolic, symbolic_call
from npgrad.ops.symbolic import get_op, register_symbolic_type

_PROBE_SIZES = (2, 3)  # sizes given to unknown (None) axes when inferring output shapes


# ------------------------------------------------------------------ argument templates
def encode_arguments(args, kwargs, op_name):
    """JSON-able ``{"args": [...], "kwargs": {...}}`` with ``{"__tensor__": i}`` where the
    i-th symbolic tensor goes, and the list of those tensors.

    Raises:
        TypeError: an argument that cannot be stored (a Python function, an object).
    """
    tensors = []

    def encode(value):
        if isinstance(value, KerasTensor):
            if value._keras_history is None:
                raise ValueError(f"ops.{op_name}: {value!r} was not produced by npgrad.Input or a layer")
            tensors.append(value)
            return {"__tensor__": len(tensors) - 1}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v) for v in value]}
        if isinstance(value, dict):
            return {"__dict__": {str(k): encode(v) for k, v in value.items()}}
        if isinstance(value, slice):
            return {"__slice__": [encode(value.start), encode(value.stop), encode(value.step)]}
        if value is Ellipsis:
            return {"__ellipsis__": True}
        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            return {"__dtype__": np.dtype(value).name}
        if isinstance(value, (np.ndarray, Tensor)):
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            return {"__array__": array.tolist(), "dtype": array.dtype.name}
        raise TypeError(
            f"ops.{op_name} on symbolic tensors: cannot record an argument of type "
            f"{type(value).__name__} in the graph (only tensors, numbers, strings, None, "
            f"slices, arrays and lists/tuples/dicts of them); wrap the computation in a Layer"
        )

    encoded = {"args": [encode(a) for a in args], "kwargs": {k: encode(v) for k, v in kwargs.items()}}
    return encoded, tensors


def decode_arguments(encoded, tensors):
    """``(args, kwargs)`` from :func:`encode_arguments`'s template, the tensors put back."""

    def decode(value):
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if "__slice__" in value:
            return slice(*[decode(v) for v in value["__slice__"]])
        if "__ellipsis__" in value:
            return Ellipsis
        if "__dtype__" in value:
            return np.dtype(value["__dtype__"])
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        raise ValueError(f"OpLayer: unreadable argument {value!r}")

    return [decode(a) for a in encoded.get("args", [])], \
        {k: decode(v) for k, v in encoded.get("kwargs", {}).items()}


# ------------------------------------------------------------------ the layer
class OpLayer(Layer):
    """One call of an ``npgrad.ops`` function in a functional graph (made for you).

    Args:
        function: the op's public name under ``npgrad.ops`` (``"add"``, ``"image.resize"``).
        arguments: the encoded arguments (see :func:`encode_arguments`).
        name, trainable, dtype: as for any layer.

    The layer has no weights. Called on real tensors (one, or a list in placeholder order) it
    runs the op; ``training`` is ignored.
    """

    cast_inputs = False

    def __init__(self, function, arguments, **kwargs):
        kwargs.setdefault("name", None)
        if kwargs["name"] is None:
            kwargs["name"] = unique_name(function.replace(".", "_"))
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments
        object.__setattr__(self, "_op", get_op(function))
        self.built = True

    def __call__(self, inputs, *args, training=None, **kwargs):
        """Run the op on real tensors, or record another node on symbolic ones."""
        if is_symbolic(inputs):
            object.__setattr__(self, "_input_dtypes", [t.dtype for t in flatten(inputs)])
            outputs = symbolic_call(self, inputs)
            for tensor, dtype in zip(flatten(outputs), self.__dict__.get("_output_dtypes", [])):
                tensor.dtype = np.dtype(dtype)
            return outputs
        return self.call(inputs)

    def call(self, inputs, training=False):
        """Call the op with the tensors put where the symbolic ones were."""
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        args, kwargs = decode_arguments(self.arguments, tensors)
        return self._op(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        """Run the op on two small random probes; axes whose size follows an unknown input
        axis come out as None."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        results = [self._probe(shapes, size) for size in _PROBE_SIZES]
        first, second = (flatten(r if isinstance(r, (list, tuple)) else [r]) for r in results)
        out = [tuple(a if a == b else None for a, b in zip(p.shape, q.shape))
               for p, q in zip(first, second)]
        object.__setattr__(self, "_output_dtypes", [np.asarray(p.data).dtype for p in first])
        many = isinstance(results[0], (list, tuple))
        return out if many else out[0]

    def _probe(self, shapes, size):
        rng = np.random.default_rng(0)
        dtypes = self.__dict__.get("_input_dtypes") or [self.dtype] * len(shapes)
        probes = []
        for shape, dtype in zip(shapes, dtypes):
            concrete = tuple(size if d is None else d for d in shape)
            if np.dtype(dtype).kind == "f":
                probes.append(Tensor(rng.uniform(0.5, 1.5, concrete).astype(dtype)))
            else:
                probes.append(Tensor(np.ones(concrete, dtype=dtype)))
        try:
            with no_grad(), np.errstate(all="ignore"):
                out = self.call(probes)
        except Exception as error:
            raise type(error)(
                f"ops.{self.function} on symbolic inputs of shapes {shapes}: {error}") from error
        return out

    def get_config(self):
        """The op's name and encoded arguments, plus the base config."""
        config = super().get_config()
        config.update(function=self.function, arguments=self.arguments)
        return config


def record_op_call(op, args, kwargs):
    """The handler ``npgrad.ops`` calls for symbolic arguments: add an OpLayer node."""
    encoded, tensors = encode_arguments(args, kwargs, op.op_name)
    dtypes = [t.dtype for t in tensors]
    float_dtype = next((d for d in dtypes if d.kind == "f"), np.dtype("float32"))
    layer = OpLayer(op.op_name, encoded, dtype=float_dtype.name)
    return layer(tensors if len(tensors) > 1 else tensors[0])


register_symbolic_type(KerasTensor, record_op_call)


# ------------------------------------------------------------------ Keras 3 configs
_KERAS_TENSOR = "__keras_tensor__"


def is_keras_operation(entry):
    """Whether a layer entry of a Keras 3 functional config is an op (``x + y``,
    ``ops.mean``): its ``module`` is ``keras.src.ops.<kind>``, not a layer module."""
    return isinstance(entry, dict) and str(entry.get("module", "")).startswith("keras.src.ops.")


def from_keras_operation(entry):
    """Translate one op entry of a Keras 3 functional config into an OpLayer entry that
    ``npgrad.Model.from_config`` reads (a pure config-to-config translation: nothing runs).

    Keras stores an op as its class (``Add``, ``Mean``, ``GetItem``), constructor arguments
    in ``config`` (``axis``...) and the call's tensors and constants in ``inbound_nodes``;
    npgrad calls ``ops.<snake_case name>(*args, **config, **kwargs)``.

    Raises:
        ValueError: the op has no npgrad counterpart, or the entry is malformed.
    """
    if not is_keras_operation(entry):
        raise ValueError(f"not a Keras op entry: {entry!r:.200}")
    kind = entry["module"].rsplit(".", 1)[-1]
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", str(entry.get("class_name", ""))).lower()
    function = f"image.{name}" if kind == "image" else name
    get_op(function)  # raises ValueError for an op npgrad lacks
    constants = {k: v for k, v in (entry.get("config") or {}).items() if k not in ("name", "trainable")}
    nodes = []
    for node in entry.get("inbound_nodes", []):
        tensors = []

        def convert(value):
            if isinstance(value, dict) and value.get("class_name") == _KERAS_TENSOR:
                tensors.append(value)
                return {"__tensor__": len(tensors) - 1}
            if isinstance(value, dict) and value.get("class_name") == "__slice__":
                c = value.get("config") or {}
                return {"__slice__": [c.get("start"), c.get("stop"), c.get("step")]}
            if isinstance(value, dict) and value.get("class_name") == "__ellipsis__":
                return {"__ellipsis__": True}
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {"__dict__": {k: convert(v) for k, v in value.items()}}
            return value

        args = [convert(a) for a in node.get("args", [])]
        if function == "get_item" and len(args) == 2 and isinstance(args[1], list):
            args[1] = {"__tuple__": args[1]}  # Keras stores the index tuple as a list
        kwargs = {k: convert(v) for k, v in node.get("kwargs", {}).items()}
        kwargs.update({k: convert(v) for k, v in constants.items()})
        nodes.append(({"args": args, "kwargs": kwargs}, tensors))
    if len({json.dumps(a, sort_keys=True) for a, _ in nodes}) > 1:
        raise ValueError(f"Keras op {entry.get('name')!r} is called with different constants "
                         f"at different nodes; npgrad needs one OpLayer per call")
    arguments = nodes[0][0] if nodes else {"args": [], "kwargs": {}}
    return {
        "class_name": "OpLayer",
        "name": entry.get("name"),
        "config": {"name": entry.get("name"), "function": function, "arguments": arguments},
        "inbound_nodes": [{"args": [t if len(t) > 1 else t[0]], "kwargs": {}}
                          for _, t in nodes if t],
    }
