"""Functional models: ``npgrad.Model(inputs, outputs)`` over a graph of layer calls (Keras).

Calling layers on ``npgrad.Input`` tensors records nodes (``npgrad.layers.node``). A
functional model walks them back from its outputs to its inputs once, at construction, and
replays them in topological order on real data in ``call``. Layers called twice (shared
layers) appear once in ``layers`` and their weights count once.

Example:
    >>> a = npgrad.Input((8,), name="a")
    >>> b = npgrad.Input((4,), name="b")
    >>> h = npgrad.layers.concatenate([npgrad.layers.Dense(16, activation="relu")(a), b])
    >>> model = npgrad.Model(inputs=[a, b], outputs=npgrad.layers.Dense(1)(h))
    >>> model.compile("adam", "mse")
    >>> model.fit([xa, xb], y, epochs=5, verbose=0)        # or {"a": xa, "b": xb}
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.layers import call_context
from npgrad.layers.core import InputLayer
from npgrad.layers.serialization import layer_class, serialize
from npgrad.layers.node import (
    SYMBOLIC_TYPES,
    KerasTensor,
    is_shape,
    flatten,
    is_symbolic,
    map_structure,
    symbolic_call,
)
from npgrad.layers.fusion import fused_run
from npgrad.models.model import Model
from npgrad.trainers.data_adapter import ArrayGroup, warn_unused_keys

_TENSOR_KEY = "__keras_tensor__"


_NO_FUSION = ({}, frozenset())  # the plan of a model that runs every layer on its own


def _standardize(structure, what):
    """A KerasTensor, a list of them or a dict of them (tuples become lists)."""
    if isinstance(structure, tuple):
        structure = list(structure)
    items = structure.values() if isinstance(structure, dict) else (
        structure if isinstance(structure, list) else [structure])
    items = list(items)
    if not items:
        raise ValueError(f"Model: {what} must not be empty")
    for item in items:
        if not isinstance(item, KerasTensor) or item._keras_history is None:
            raise TypeError(
                f"Model: {what} must be symbolic tensors (from npgrad.Input or from calling "
                f"layers on them), or a list/dict of them; got {type(item).__name__}"
            )
    return structure


def _map_graph(inputs, outputs):
    """The nodes between ``inputs`` and ``outputs`` and the layers, in Keras order.

    Returns:
        (nodes in an order that computes every input before its use, layers ordered by
        decreasing depth then traversal order, as Keras lists ``model.layers``).

    Raises:
        ValueError: an output depends on an Input that is not among ``inputs``.
    """
    input_ids = {id(t) for t in inputs}
    finished, in_progress, order, layer_index = set(), set(), [], {}
    for output in outputs:
        stack = [(output, False)]
        while stack:  # iterative depth-first search: deep graphs never hit the recursion limit
            tensor, expanded = stack.pop()
            layer, node_index, _ = tensor._keras_history
            node = layer._inbound_nodes[node_index]
            if expanded:
                in_progress.discard(node)
                finished.add(node)
                order.append(node)
                continue
            if node in finished:
                continue
            if node in in_progress:  # pragma: no cover - symbolic calls cannot make cycles
                raise ValueError(f"Model: tensor {tensor.name} of layer '{layer.name}' is in a cycle")
            layer_index.setdefault(layer, len(layer_index))
            in_progress.add(node)
            stack.append((tensor, True))
            if id(tensor) in input_ids:
                continue
            if node.is_input:
                raise ValueError(
                    f"Graph disconnected: output {output.name} {output.shape} depends on the Input "
                    f"'{layer.name}' {tensor.shape}, which is not among the model's inputs "
                    f"{[t._keras_history[0].name for t in inputs]}; add it to inputs="
                )
            stack.extend((t, False) for t in reversed(node.input_tensors))
    for tensor in inputs:  # inputs no output uses still belong to the model (Keras)
        layer = tensor._keras_history[0]
        if layer not in layer_index:
            layer_index[layer] = -1
            order.insert(0, layer._inbound_nodes[0])
    # depth: the longest path to an output; a shared layer takes its deepest node's depth
    node_depth, layer_depth = {}, {}
    for node in reversed(order):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = node_depth[node] = depth
        if any(id(t) in input_ids for t in node.output_tensors):
            continue
        for parent in node.parent_nodes:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    layers = sorted(layer_depth, key=lambda la: (-layer_depth[la], layer_index[la]))
    names = [layer.name for layer in layers]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"Model: the layers of a model must have unique names (they identify layers in "
            f"saved files); repeated: {repeated}"
        )
    return order, layers


class Functional(Model):
    """A model defined by its input and output symbolic tensors: ``npgrad.Model(inputs, outputs)``.

    ``npgrad.Model(inputs, outputs)`` returns an instance of this class (as Keras does).

    Args:
        inputs: a tensor from ``npgrad.Input``, a list of them, or a dict of them.
        outputs: a symbolic tensor computed from the inputs, or a list/dict of them.
        name: model name (default ``'functional'``, numbered).
        trainable: whether ``fit`` updates the weights.

    Attributes:
        inputs, outputs: the input and output tensors, as flat lists.
        input, output: the inputs and outputs in the structure given (tensor, list, dict).
        layers: the InputLayers and the layers, each once, in Keras order.
        fuse_layers: when True (the default), a layer whose output only feeds one other
            layer runs with it as one op where ``layers/fusion.py`` knows how, as in
            ``Sequential``: ``Conv2D`` (stride 1) + ``MaxPooling2D((2, 2))``,
            ``BatchNormalization`` + ``ReLU`` (capped too: ``ReLU(max_value=6)``),
            ``Add`` + ``ReLU``, and at inference ``Conv2D`` + ``BatchNormalization``
            (+ ``ReLU``) folded into one convolution.
            The same outputs and gradients (the folded convolution up to rounding).

    Raises:
        ValueError: an output that depends on an Input not in ``inputs`` (the Input is
            named), or two layers with one name.
        TypeError: inputs/outputs that are not symbolic tensors.

    Example:
        >>> x = npgrad.Input((16,))
        >>> h = npgrad.layers.Dense(16, activation="relu")(x)
        >>> y = npgrad.layers.Add()([x, h])                # a residual connection
        >>> model = npgrad.Model(x, y, name="residual")
    """

    layer_graph = True  # see Model

    fuse_layers = True

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        input_struct = _standardize(inputs, "inputs")
        output_struct = _standardize(outputs, "outputs")
        flat_inputs, flat_outputs = flatten(input_struct), flatten(output_struct)
        for tensor in flat_inputs:
            layer, _, _ = tensor._keras_history
            if not isinstance(layer, InputLayer):
                raise ValueError(
                    f"Model: every input must come from npgrad.Input(); {tensor.name} is an "
                    f"output of layer '{layer.name}'"
                )
        if len({id(t) for t in flat_inputs}) != len(flat_inputs):
            raise ValueError("Model: the same Input appears twice in inputs")
        nodes, layers = _map_graph(flat_inputs, flat_outputs)
        set_plain = object.__setattr__  # not layer attributes: keep them out of the layer walk
        set_plain(self, "_input_struct", input_struct)
        set_plain(self, "_output_struct", output_struct)
        set_plain(self, "_inputs", flat_inputs)
        set_plain(self, "_outputs", flat_outputs)
        set_plain(self, "_nodes", nodes)
        set_plain(self, "_node_ids", {id(node) for node in nodes})
        input_names = list(input_struct) if isinstance(input_struct, dict) else \
            [t._keras_history[0].name for t in flat_inputs]
        output_names = list(output_struct) if isinstance(output_struct, dict) else \
            [t._keras_history[0].name for t in flat_outputs]
        set_plain(self, "input_names", input_names)
        set_plain(self, "output_names", output_names)
        self._layers = layers  # a list of layers: weights and sub-layers are found here
        if not trainable:
            self.trainable = False  # freezes every layer, as the setter does
        self.built = True
        self.input_shape_built = flat_inputs[0].shape

    # ------------------------------------------------------------- structure
    @property
    def layers(self):
        """Every layer once (InputLayers first), by decreasing depth as Keras orders them."""
        return list(self._layers)

    @property
    def inputs(self):
        """The input tensors, as a flat list."""
        return list(self._inputs)

    @property
    def outputs(self):
        """The output tensors, as a flat list."""
        return list(self._outputs)

    @property
    def input(self):
        """The inputs in the structure given to the constructor (tensor, list or dict)."""
        return self._input_struct

    @property
    def output(self):
        """The outputs in the structure given to the constructor (tensor, list or dict)."""
        return self._output_struct

    @property
    def input_shape(self):
        """The input shape (batch axis None), or a list of them for several inputs."""
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The output shape (batch axis None), or a list of them for several outputs."""
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def weights(self):
        """All weights, each once (a shared layer's weights are counted once)."""
        return _unique(super().weights)

    @property
    def trainable_weights(self):
        """The weights ``fit`` updates, each once."""
        return _unique(super().trainable_weights)

    def _n_inputs(self):
        return len(self._inputs)

    def _n_outputs(self):
        return len(self._outputs)

    def build(self, input_shape=None):
        """Nothing to do: a functional model is built when it is created."""
        self.built = True

    def _summary_rows(self):
        rows = []
        for layer in self._layers:
            node = next(n for n in layer._inbound_nodes if id(n) in self._node_ids)
            shapes = [t.shape for t in node.output_tensors]
            rows.append((layer, shapes[0] if len(shapes) == 1 else shapes))
        return rows

    def _summary_connections(self):
        """Keras's "Connected to" column, one entry per summary row (``dense[0][0]``: the
        layer, its node and the output that fed this layer; ``-`` for an input), or None
        for a plain chain of single-input layers, which Keras prints without the column."""
        nodes = [n for n in self._nodes if not n.is_input]
        consumers = [id(t) for n in nodes for t in n.input_tensors]
        chain = (len(self._inputs) == 1 and len(self._outputs) == 1
                 and all(len(n.input_tensors) == 1 for n in nodes)
                 and len(consumers) == len(set(consumers))
                 and len(nodes) == len({id(n.layer) for n in nodes}))
        if chain:
            return None
        column = []
        for layer in self._layers:
            mine = [n for n in layer._inbound_nodes if id(n) in self._node_ids]
            sources = [f"{t._keras_history[0].name}[{t._keras_history[1]}][{t._keras_history[2]}]"
                       for n in mine for t in n.input_tensors]
            column.append(", ".join(sources) or "-")
        return column

    # ------------------------------------------------------------- call
    def __call__(self, inputs, *args, training=None, **kwargs):
        """Run the graph on arrays/Tensors, or add this model as one node to a bigger graph."""
        if isinstance(inputs, SYMBOLIC_TYPES) and is_symbolic(inputs):
            return symbolic_call(self, inputs, args, kwargs, training)
        return call_context.call_in_mode(self, training, inputs, *args, **kwargs)

    def _flat_inputs(self, inputs):
        """The call's inputs as a list in ``self.inputs`` order (checked)."""
        n = len(self._inputs)
        if isinstance(inputs, ArrayGroup):
            inputs = inputs.arrays
        if isinstance(inputs, dict):
            names = [t._keras_history[0].name for t in self._inputs]
            keys = self.input_names
            flat = []
            for key, name in zip(keys, names):
                if key in inputs:
                    flat.append(inputs[key])
                elif name in inputs:
                    flat.append(inputs[name])
                else:
                    raise ValueError(f"{self.name}: missing input {key!r}; the inputs are {keys}")
            warn_unused_keys(set(inputs) - set(keys) - set(names), keys, self.name)
            return flat
        if isinstance(inputs, (list, tuple)):
            if n == 1 and not (len(inputs) == 1 and isinstance(inputs[0], (np.ndarray, Tensor))):
                return [inputs]  # nested lists of numbers: one input
            if len(inputs) != n:
                raise ValueError(
                    f"{self.name}: expected {n} input(s) {self.input_names}, got a list of "
                    f"{len(inputs)}"
                )
            return list(inputs)
        if n != 1:
            raise ValueError(
                f"{self.name}: expected {n} inputs {self.input_names} (a list or a dict), got "
                f"one {type(inputs).__name__}"
            )
        return [inputs]

    def call(self, inputs, training=None, mask=None):
        """Run the nodes in topological order on ``inputs`` (one array/Tensor, a list or a dict).

        Timestep masks travel along the graph with the Tensors (Keras): a layer that makes
        one (``Embedding(mask_zero=True)``, ``Masking``) attaches it to its output, and
        every layer that takes ``mask=`` receives its input's mask.

        Args:
            inputs: as many arrays/Tensors as the model has inputs: one, a list in
                ``inputs`` order, or a dict keyed by input names.
            training: passed to every layer whose call did not fix ``training``.
            mask: optional (N, T) boolean mask for the input, or a list (one per input,
                None for none).

        Returns:
            One Tensor, or a list/dict of Tensors matching ``outputs``.
        """
        values = {id(t): v for t, v in zip(self._inputs, self._flat_inputs(inputs))}
        masks = {}
        if mask is not None:
            given = list(mask) if isinstance(mask, (list, tuple)) else [mask]
            masks = {id(t): m for t, m in zip(self._inputs, given) if m is not None}
        fused, skipped = self._fusion_plan() if self.fuse_layers else _NO_FUSION
        releases = self._releases(fused, skipped)
        for node in self._nodes:
            layer = node.layer
            if id(node) in skipped:  # runs inside the fused op of the layer it feeds
                continue
            for key in releases.get(id(node), ()):  # no node still to run reads these
                values.pop(key, None)
            pair = fused.get(id(node))
            if pair is not None:  # this node and the ones feeding it: one fused op
                first, runner = pair
                get = lambda a: values[id(a)]  # noqa: E731
                values[id(node.output_tensors[0])] = runner(
                    map_structure(get, first.call_args[0]), training)
                continue
            if node.is_input:  # the InputLayer checks the shape and casts the dtype
                tensor = node.output_tensors[0]
                if id(tensor) in masks:
                    values[id(tensor)] = layer(values[id(tensor)], mask=masks[id(tensor)])
                else:
                    values[id(tensor)] = layer(values[id(tensor)])
                continue
            args, kwargs = node.call_args, node.call_kwargs
            if len(args) == 1 and not kwargs and type(args[0]) is KerasTensor:
                out = layer(values[id(args[0])], training=training)
            else:
                get = lambda a: values[id(a)] if isinstance(a, KerasTensor) else a  # noqa: E731
                kwargs = map_structure(get, kwargs)
                kwargs.setdefault("training", training)
                out = layer(*map_structure(get, list(args)), **kwargs)
            outs = node.output_tensors
            if len(outs) == 1:
                values[id(outs[0])] = out
            else:
                produced = flatten(out)
                if len(produced) != len(outs):
                    raise ValueError(
                        f"{self.name}: layer '{layer.name}' returned {len(produced)} outputs, "
                        f"its symbolic call {len(outs)}"
                    )
                for tensor, value in zip(outs, produced):
                    values[id(tensor)] = value
        return map_structure(lambda t: values[id(t)], self._output_struct)

    def _releases(self, fused, skipped):
        """Which values ``call`` can drop before running each node: those whose last
        consumer ran before it (model outputs never), so that an intermediate array lives
        only while a layer still needs it or an op saved it for backward.

        Returns:
            {id(node): [id(KerasTensor), ...]}, computed once per fusion plan.
        """
        cached = self.__dict__.get("_release_plan")
        if cached is not None and cached[0] is fused:
            return cached[1]
        outputs = {id(t) for t in self._outputs}
        ran, last_use = [], {}
        for node in self._nodes:
            if id(node) in skipped:
                continue
            pair = fused.get(id(node))
            used = node.input_tensors if pair is None else pair[0].input_tensors
            for tensor in used:
                last_use[id(tensor)] = len(ran)
            ran.append(node)
        plan = {}
        for key, position in last_use.items():
            if key not in outputs and position + 1 < len(ran):
                plan.setdefault(id(ran[position + 1]), []).append(key)
        object.__setattr__(self, "_release_plan", (fused, plan))
        return plan

    def _fusion_plan(self):
        """Which runs of nodes run as one op (``layers/fusion.py``'s ``fused_run``, as in
        ``Sequential``): a plain call whose output only feeds one plain call and is not a
        model output, and so on for up to three nodes.

        Returns:
            ({id(last node of a run): (first node, runner)}, {id(the run's other nodes)}),
            computed once.
        """
        plan = self.__dict__.get("_fusion")
        if plan is not None:
            return plan
        users = {}
        for node in self._nodes:
            for tensor in node.input_tensors:
                users.setdefault(id(tensor), []).append(node)
        outputs = {id(t) for t in self._outputs}

        def sole_consumer(node):
            """The one plain call fed by ``node``'s output (not a model output), or None."""
            out = node.output_tensors[0]
            consumers = users.get(id(out), [])
            if id(out) in outputs or len(consumers) != 1 or not _plain_call(consumers[0]):
                return None
            return consumers[0]

        fused, skipped = {}, set()
        for node in self._nodes:
            if (node.is_input or not _plain_call(node, several=True) or id(node) in fused
                    or id(node) in skipped):
                continue
            chain = [node]
            while len(chain) < 3 and (following := sole_consumer(chain[-1])) is not None:
                chain.append(following)
            count, runner = fused_run([n.layer for n in chain])
            if runner is not None:
                fused[id(chain[count - 1])] = (node, runner)
                skipped.update(id(n) for n in chain[: count - 1])
        plan = (fused, skipped)
        object.__setattr__(self, "_fusion", plan)
        return plan

    def compute_output_shape(self, input_shape):
        """The output shape(s) for input shape(s) matching the model's Inputs."""
        if is_shape(input_shape):
            shapes = [tuple(input_shape)]
        elif isinstance(input_shape, dict):
            shapes = self._flat_inputs(input_shape)
        else:
            shapes = list(input_shape)
        if len(shapes) != len(self._inputs):
            raise ValueError(
                f"{self.name}: expected {len(self._inputs)} input(s) {self.input_names}, got "
                f"shapes {shapes}"
            )
        for tensor, shape in zip(self._inputs, shapes):
            expected = tensor.shape
            if len(shape) != len(expected) or any(
                e is not None and s is not None and e != s for e, s in zip(expected, shape)
            ):
                raise ValueError(
                    f"Input of model '{self.name}' is incompatible: input "
                    f"'{tensor._keras_history[0].name}' expects shape {expected}, got {tuple(shape)}"
                )
        batch = shapes[0][0]
        return map_structure(lambda t: (batch,) + tuple(t.shape[1:]), self._output_struct)

    # ------------------------------------------------------------- config
    def get_config(self):
        """The graph as Keras saves it: each layer's config and inbound nodes, plus the model's
        ``input_layers`` / ``output_layers`` as ``[layer name, node index, tensor index]``.

        Node indices count only the nodes that belong to this model.
        """
        kept = {}  # id(node) -> index among the layer's nodes in this model
        for layer in self._layers:
            mine = [n for n in layer._inbound_nodes if id(n) in self._node_ids]
            kept.update({id(n): i for i, n in enumerate(mine)})

        def history(tensor):
            layer, node_index, tensor_index = tensor._keras_history
            return [layer.name, kept[id(layer._inbound_nodes[node_index])], tensor_index]

        def arg(value):
            if isinstance(value, KerasTensor):
                return {"class_name": _TENSOR_KEY,
                        "config": {"shape": list(value.shape), "dtype": value.dtype.name,
                                   "keras_history": history(value)}}
            return value

        layer_configs = []
        for layer in self._layers:
            nodes = [n for n in layer._inbound_nodes if id(n) in self._node_ids and not n.is_input]
            layer_configs.append({
                **serialize(layer),  # module, class_name, config, registered_name
                "name": layer.name,
                "inbound_nodes": [{"args": map_structure(arg, list(n.call_args)),
                                   "kwargs": map_structure(arg, n.call_kwargs)} for n in nodes],
            })
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": map_structure(history, self._input_struct),
            "output_layers": map_structure(history, self._output_struct),
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild the graph from ``get_config()`` output (layer classes by registered name).

        Nothing from the config is executed: layer classes are looked up with
        their registered name, else their class name (``npgrad.layers.get_layer_class``),
        and every entry is checked.

        Raises:
            ValueError: an unknown layer class, a malformed entry, or nodes that refer to
                layers or tensors that do not exist.
        """
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError("Functional.from_config: the config needs a 'layers' list")
        layers, pending, created = {}, [], {}
        for spec in config["layers"]:
            if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
                    or not isinstance(spec.get("config"), dict) \
                    or not isinstance(spec.get("inbound_nodes", []), list):
                raise ValueError(
                    f"Functional.from_config: each layer needs 'class_name', 'config' and "
                    f"'inbound_nodes', got {spec!r}"
                )
            layer = layer_class(spec).from_config(dict(spec["config"]))
            if layer.name in layers:
                raise ValueError(f"Functional.from_config: two layers are named {layer.name!r}")
            layers[layer.name] = layer
            if isinstance(layer, InputLayer):
                created[(layer.name, 0)] = layer._inbound_nodes[0].output_tensors
            pending.append([layer, list(spec.get("inbound_nodes", [])), 0])

        def tensor_of(value):
            if isinstance(value, dict) and value.get("class_name") == _TENSOR_KEY:
                ref = (value.get("config") or {}).get("keras_history")
                if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
                        and isinstance(ref[1], int) and isinstance(ref[2], int)):
                    raise ValueError(f"Functional.from_config: bad tensor reference {value!r}")
                outs = created.get((ref[0], ref[1]))
                if outs is None:
                    raise LookupError(ref[0])
                if not 0 <= ref[2] < len(outs):
                    raise ValueError(f"Functional.from_config: no tensor {ref} in the graph")
                return outs[ref[2]]
            if isinstance(value, list):
                return [tensor_of(v) for v in value]
            if isinstance(value, dict):
                return {k: tensor_of(v) for k, v in value.items()}
            return value

        while any(index < len(nodes) for _, nodes, index in pending):
            progress = False
            for entry in pending:  # a layer's nodes in order, each once its inputs exist
                layer, nodes, index = entry
                while index < len(nodes):
                    node = nodes[index]
                    if not isinstance(node, dict) or not isinstance(node.get("args"), list) \
                            or not node["args"] or not isinstance(node.get("kwargs", {}), dict):
                        raise ValueError(f"Functional.from_config: bad node of {layer.name!r}: {node!r}")
                    try:
                        args = tensor_of(node["args"])
                        kwargs = tensor_of(node.get("kwargs", {}))
                    except LookupError:
                        break
                    out = layer(*args, **kwargs)
                    created[(layer.name, index)] = flatten(out)
                    index += 1
                    progress = True
                entry[2] = index
            if not progress:
                missing = [layer.name for layer, nodes, index in pending if index < len(nodes)]
                raise ValueError(
                    f"Functional.from_config: the nodes of {missing} refer to layers or nodes "
                    f"that are not in the config"
                )

        def reference(value):
            if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
                outs = created.get((value[0], value[1])) if isinstance(value[1], int) else None
                if outs is None or not isinstance(value[2], int) or not 0 <= value[2] < len(outs):
                    raise ValueError(f"Functional.from_config: no tensor {value} in the graph")
                return outs[value[2]]
            if isinstance(value, list):
                return [reference(v) for v in value]
            if isinstance(value, dict):
                return {k: reference(v) for k, v in value.items()}
            raise ValueError(f"Functional.from_config: bad input/output reference {value!r}")

        inputs = reference(config.get("input_layers"))
        outputs = reference(config.get("output_layers"))
        return cls(inputs, outputs, name=config.get("name"),
                   trainable=config.get("trainable", True))


def _unique(weights):
    seen = set()
    out = []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def _plain_call(node, several=False):
    """One symbolic argument (or, with ``several``, one list of them, as a merge layer
    takes), no keyword arguments (no fixed ``training``, no mask), one output."""
    if len(node.call_args) != 1 or node.call_kwargs or len(node.output_tensors) != 1:
        return False
    arg = node.call_args[0]
    if several and isinstance(arg, (list, tuple)):
        return all(type(a) is KerasTensor for a in arg)
    return type(arg) is KerasTensor
