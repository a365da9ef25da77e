"""Symbolic tensors and nodes: how calling layers on ``npgrad.Input`` tensors records a graph.

A :class:`KerasTensor` holds no data: only a shape (batch axis ``None``), a dtype, a name
and its history ``(layer, node_index, tensor_index)``. Calling a layer on KerasTensors
builds the layer, computes the output shape and records a :class:`Node` (the layer, the
arguments it was called with, the tensors it produced) in ``layer._inbound_nodes``, then
returns new KerasTensors. A functional ``Model(inputs, outputs)`` walks these nodes back
from its outputs and replays them on real data (``npgrad.models.functional``).

Example:
    >>> x = npgrad.Input((4,))                    # KerasTensor, shape (None, 4)
    >>> h = npgrad.layers.Dense(3)(x)             # a node on the Dense layer
    >>> h.shape, h._keras_history[1:]
    ((None, 3), (0, 0))
"""

from __future__ import annotations

import itertools

import numpy as np

from npgrad import ops

_TENSOR_IDS = itertools.count()


class KerasTensor:
    """A symbolic tensor: the shape and dtype of a value a functional model will compute.

    Returned by :func:`npgrad.Input` and by layers called on KerasTensors. It holds no data:
    pass it to layers and to ``npgrad.Model(inputs, outputs)``.

    Args:
        shape: the full shape, batch axis first (``None`` for unknown sizes).
        dtype: the dtype of the value.
        name: a name (default ``keras_tensor_<n>``).

    Attributes:
        shape: tuple, e.g. ``(None, 28, 28, 1)``.
        dtype: NumPy dtype.
        name: str.
        ndim: number of axes.
        _keras_mask: the (batch, steps) boolean KerasTensor of the mask the value will
            carry (``Embedding(mask_zero=True)``, ``Masking``, and the layers that pass a
            mask on), or None; informative only, as the masks a model uses are computed
            from the data when it runs.
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.name = name or f"keras_tensor_{next(_TENSOR_IDS)}"
        self._keras_history = None  # (layer, node_index, tensor_index), set by Node
        self._keras_mask = None  # the symbolic timestep mask, as Keras 3 (see symbolic_call)

    @property
    def ndim(self):
        """Number of axes (the batch axis included)."""
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def __len__(self):
        raise TypeError(f"{self!r} is symbolic: it has no length (only model(data) has values)")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"{self!r} is symbolic and holds no data: call a layer on it, or build "
            f"npgrad.Model(inputs, outputs) and call the model on arrays"
        )

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic: it has no truth value")

    # Operators record nodes through npgrad.ops (an OpLayer each, see layers/op_layer.py)
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.mod(self, other)

    def __rmod__(self, other):
        return ops.mod(other, self)

    def __and__(self, other):
        return ops.logical_and(self, other)

    def __rand__(self, other):
        return ops.logical_and(other, self)

    def __or__(self, other):
        return ops.logical_or(self, other)

    def __ror__(self, other):
        return ops.logical_or(other, self)

    def __xor__(self, other):
        return ops.logical_xor(self, other)

    def __rxor__(self, other):
        return ops.logical_xor(other, self)

    def __invert__(self):
        return ops.logical_not(self)

    def __round__(self, ndigits=None):
        return ops.round(self, ndigits or 0)

    def __ne__(self, other):  # as Keras: != is an op, == stays identity (tensors in sets)
        return ops.not_equal(self, other)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, key):
        return ops.get_item(self, key)

    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    __hash__ = object.__hash__


# ------------------------------------------------------------------ nested structures
def flatten(structure):
    """The leaves of nested lists/tuples/dicts (dicts in insertion order), as a list."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """``structure`` with each leaf replaced by ``fn(leaf)`` (lists/tuples/dicts kept)."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, item) for key, item in structure.items()}
    return fn(structure)


def is_symbolic(x):
    """Whether ``x`` is a KerasTensor or a (nested) list/tuple/dict holding one."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(item) for item in x)
    if isinstance(x, dict):
        return any(is_symbolic(item) for item in x.values())
    return False


#: the types whose instances may be symbolic (checked first, with one isinstance test)
SYMBOLIC_TYPES = (KerasTensor, list, tuple, dict)


def is_shape(value):
    """Whether ``value`` is one shape: a tuple/list of ints and Nones."""
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)) for d in value
    )


def map_shapes(fn, shapes):
    """Apply ``fn`` to each shape in a (nested) structure of shapes."""
    if is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, (list, tuple)):
        return [map_shapes(fn, item) for item in shapes]
    if isinstance(shapes, dict):
        return {key: map_shapes(fn, item) for key, item in shapes.items()}
    raise TypeError(f"expected a shape or a list/dict of shapes, got {shapes!r}")


# ------------------------------------------------------------------ nodes
class Node:
    """One call of a layer on symbolic tensors.

    Attributes:
        layer: the Layer called.
        call_args: the positional arguments (KerasTensors where tensors were passed).
        call_kwargs: the keyword arguments (``training`` only when given explicitly).
        input_tensors: the KerasTensors among the arguments, flattened.
        outputs: the output structure (one KerasTensor, or a list/dict of them).
        output_tensors: the output KerasTensors, flattened.
        index: position in ``layer._inbound_nodes``.
    """

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=()):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [t for t in flatten([self.call_args, self.call_kwargs])
                              if isinstance(t, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = flatten(outputs)
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        self.index = len(nodes)
        nodes.append(self)
        for i, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, self.index, i)

    @property
    def is_input(self):
        """True for the node of an InputLayer (it has no inputs)."""
        return not self.input_tensors

    @property
    def parent_nodes(self):
        """The nodes that produced this node's inputs."""
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]] for t in self.input_tensors]

    def __repr__(self):
        return f"<Node {self.layer.name}[{self.index}]>"


def symbolic_call(layer, x, args=(), kwargs=None, training=None):
    """Call ``layer`` on KerasTensors: build it, record a Node, return symbolic outputs.

    Args:
        layer: the Layer.
        x: the first argument: a KerasTensor or a list/dict of them (merge layers).
        args, kwargs: further call arguments (KerasTensors or JSON-able constants).
        training: recorded only when given (it then overrides the model's mode).

    Returns:
        A KerasTensor, or a list/dict of them when the layer has several outputs.
    """
    kwargs = dict(kwargs or {})
    if training is not None:
        kwargs["training"] = training
    for value in flatten([list(args), kwargs]):
        if isinstance(value, KerasTensor) and value._keras_history is None:
            raise ValueError(f"{layer.name}: {value!r} was not produced by npgrad.Input or a layer")
    leaves = flatten(x)
    for leaf in leaves:
        if not isinstance(leaf, KerasTensor):
            raise TypeError(
                f"{layer.name}: cannot mix symbolic tensors (npgrad.Input) and data "
                f"({type(leaf).__name__}) in one call"
            )
        if leaf._keras_history is None:
            raise ValueError(f"{layer.name}: {leaf!r} was not produced by npgrad.Input or a layer")
    input_shape = map_structure(lambda t: t.shape, x)
    layer._maybe_build(input_shape)
    # a call that takes the mask a masked input brings is traced with one (Keras)
    masked = isinstance(x, KerasTensor) and x._keras_mask is not None \
        and layer._call_has_mask_arg and "mask" not in kwargs
    object.__setattr__(layer, "_tracing_masked", masked)
    # further symbolic arguments (a call(a, b) of two tensors): the default shape probe
    # calls the layer with zeros for them too
    symbolic_args = any(isinstance(v, KerasTensor) for v in flatten([list(args), kwargs]))
    object.__setattr__(layer, "_tracing_args", (args, kwargs) if symbolic_args else None)
    # the probe's zeros take the inputs' own dtypes (an int32 Input stays integer)
    object.__setattr__(layer, "_tracing_dtypes", [t.dtype for t in leaves])
    try:
        output_shape = layer.compute_output_shape(input_shape)
        layer._build_sublayers_by_probe(input_shape)
    finally:
        object.__setattr__(layer, "_tracing_masked", False)
        object.__setattr__(layer, "_tracing_args", None)
        object.__setattr__(layer, "_tracing_dtypes", None)
    outputs = map_shapes(lambda shape: KerasTensor(shape, dtype=layer.dtype), output_shape)
    Node(layer, (x,) + tuple(args), kwargs, outputs)
    _attach_symbolic_masks(layer, x, kwargs.get("mask"), outputs)
    return outputs


def _attach_symbolic_masks(layer, x, explicit, outputs):
    """Give the symbolic outputs the ``_keras_mask`` the layer will attach to its real
    outputs (Keras 3 shows it on KerasTensors): the input's mask for a layer that passes it
    on, ``compute_mask`` of the symbols for one that makes or changes it. A ``compute_mask``
    that needs the data (Embedding's ``indices != 0``, a merge's ``&``) gives a (batch,
    steps) boolean KerasTensor standing for the mask it will compute."""
    if not (layer.supports_masking or layer._computes_mask):
        return
    previous = explicit if isinstance(explicit, KerasTensor) else \
        map_structure(lambda t: t._keras_mask, x)
    if all(m is None for m in flatten(previous)):
        previous = None
    if not layer._computes_mask:
        masks = previous
    else:
        try:
            masks = layer.compute_mask(x, previous)
        except (TypeError, ValueError, AttributeError, IndexError):
            steps = flatten(x)[0].shape[:2]
            masks = KerasTensor(steps, dtype=bool) if len(steps) == 2 else None
    single = isinstance(outputs, KerasTensor)
    outputs, masks = ([outputs] if single else flatten(outputs)), \
        (masks if isinstance(masks, (list, tuple)) else [masks])
    for out, mask in zip(outputs, masks):
        if isinstance(mask, KerasTensor):
            out._keras_mask = mask
