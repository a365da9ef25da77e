"""The Layer base class: configuration in ``__init__``, weights in ``build``, maths in ``call``.

Example:
    >>> class Scale(npgrad.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.scale = self.add_weight("scale", (input_shape[-1],), "ones")
    ...     def call(self, x, training=False):
    ...         return x * self.scale
    >>> Scale()(np.ones((2, 3))).shape
    (2, 3)
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
import weakref

import numpy as np

from npgrad import constraints, initializers, regularizers
from npgrad.autograd.tensor import default_float
from npgrad.utils import weight_budget
from npgrad.utils.naming import unique_name
from npgrad.utils.signatures import default_of, first_parameter, takes
from npgrad.autograd.engine import no_grad
from npgrad.autograd.tensor import Tensor
from npgrad.autograd.variable import Variable
from npgrad.layers import call_context
from npgrad.layers.auto_config import constructor_config
from npgrad.layers.masks import attach_masks, get_keras_mask
from npgrad.layers.saving_hooks import SavingHooks
from npgrad.layers.node import (
    SYMBOLIC_TYPES,
    KerasTensor,
    is_shape,
    is_symbolic,
    map_shapes,
    map_structure,
    symbolic_call,
)

_LAYER_CLASSES = {}


def _snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Conv2D -> conv2d, as Keras


def _is_tensor_structure(x):
    """A list/tuple of Tensors or arrays, or a dict: several inputs (not one nested list)."""
    if isinstance(x, dict):
        return True
    return isinstance(x, (list, tuple)) and bool(x) and all(
        isinstance(v, (Tensor, np.ndarray)) or _is_tensor_structure(v) for v in x)


def _flat_shapes(shapes):
    """Every shape in a (nested) list/dict of shapes."""
    if is_shape(shapes):
        return [tuple(shapes)]
    values = shapes.values() if isinstance(shapes, dict) else shapes
    return [leaf for item in values for leaf in _flat_shapes(item)]


def registered_layer_classes():
    """Every registered Layer subclass by class name (a copy; used when loading models)."""
    return dict(_LAYER_CLASSES)


#: lookups ``get_layer_class`` asks first, each ``name -> class or None`` (npgrad.saving adds
#: the active ``custom_object_scope``, so that a caller's class wins over a same-named one)
CLASS_RESOLVERS = []


def get_layer_class(class_name):
    """The Layer subclass called ``class_name`` (used when loading models): from the active
    custom-object scope, else the registry of every Layer subclass."""
    for resolve in CLASS_RESOLVERS:
        found = resolve(class_name)
        if isinstance(found, type) and issubclass(found, Layer):
            return found
    try:
        return _LAYER_CLASSES[class_name]
    except KeyError:
        raise ValueError(
            f"unknown layer class {class_name!r}; known: {sorted(_LAYER_CLASSES)}"
        ) from None


def _marking_built(build):
    """Wrap a subclass's ``build`` so that calling it marks the layer built (as Keras does):
    ``layer.build(shape)`` by hand, then ``layer(x)``, must not create the weights twice."""

    @functools.wraps(build)
    def wrapped(self, *args, **kwargs):
        result = build(self, *args, **kwargs)
        self.built = True
        shape = args[0] if args else kwargs.get("input_shape")
        if self.__dict__.get("input_shape_built") is None and shape is not None:
            self.input_shape_built = tuple(shape)
        return result

    wrapped._marks_built = True
    return wrapped


_BASE_KEYS = ("name", "trainable", "dtype", "batch_input_shape")
#: every Variable some layer owns (made by add_weight or tracked as an attribute)
_OWNED = weakref.WeakValueDictionary()


def _accepted_base_keys(cls, config):
    """``config`` without the base keys ``cls.__init__`` cannot take."""
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return config
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return config
    return {k: v for k, v in config.items() if k not in _BASE_KEYS or k in parameters}


class Layer(SavingHooks):
    """Base class of all layers.

    Args:
        name: unique name (default: the snake_case class name, numbered).
        trainable: whether ``fit`` updates this layer's weights.
        dtype: floating dtype of weights and computation (default ``npgrad.config.floatx()``,
            float32 unless ``set_floatx`` changed it).
        input_shape: shape of one sample (no batch axis); builds the layer eagerly.
        batch_input_shape / batch_size: Keras spellings including the batch axis.

    Attributes:
        built: True once ``build`` has created the weights.
        weights: all weights (Tensors) in creation order, sub-layers included.
        supports_masking: the layer passes a timestep mask on (Keras masking, see
            :meth:`compute_mask`); a layer that does not, and receives a masked input,
            drops the mask with a warning, as Keras does.
    """

    #: inputs are cast to the layer's dtype (Embedding keeps integer indices)
    cast_inputs = True
    _casts_integers = True  # per subclass: see __init_subclass__
    _call_first_arg = "x"  # per subclass: see __init_subclass__
    #: whether the layer passes the input's timestep mask on (Keras ``supports_masking``)
    supports_masking = False
    #: set per subclass: ``call`` takes ``mask`` / ``training``; ``compute_mask`` is overridden
    _call_has_mask_arg = False
    _call_has_training_arg = True
    _call_training_default = False  # per subclass: the default of call's ``training``
    _computes_mask = False

    def __new__(cls, *args, **kwargs):
        layer = super().__new__(cls)
        if cls.get_config is Layer.get_config and not cls.__module__.startswith("npgrad."):
            # a custom class without get_config: its arguments become its config, as Keras
            layer.__dict__["_auto_config"] = constructor_config(cls, args, kwargs)
        return layer

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _LAYER_CLASSES[cls.__name__] = cls
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):
            cls.build = _marking_built(build)
        cls._call_has_mask_arg = takes(cls.call, "mask")
        cls._call_has_training_arg = takes(cls.call, "training")
        cls._call_training_default = default_of(cls.call, "training")
        cls._call_first_arg = first_parameter(cls.call)
        cls._computes_mask = cls.compute_mask is not Layer.compute_mask
        # Keras casts only floating inputs to a layer's dtype: a call written outside npgrad
        # sees integer and bool inputs as they are (npgrad's own layers cast them, their
        # maths being float maths, which is what Keras's promotion gives them too)
        cls._casts_integers = cls.call.__module__.startswith("npgrad.")

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}"
            )
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.dtype = np.dtype(dtype or default_float())  # npgrad.config.floatx()
        self._trainable = bool(trainable)
        self.built = False
        # bookkeeping lists that never hold layers: kept out of the sub-layer walk
        object.__setattr__(self, "_own_weights", [])
        self._frozen_ids = set()  # weights created with trainable=False (statistics)
        object.__setattr__(self, "_regularized", [])
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self.input_shape_built = None
        object.__setattr__(self, "_inbound_nodes", [])  # calls on KerasTensors (not tracked)

    # ------------------------------------------------------------- weights
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, **kwargs):
        """Create a weight Variable, register it and return it (Keras 3 signature).

        Args:
            shape: weight shape (``()`` for a scalar).
            initializer: name, instance or callable ``(shape, dtype) -> ndarray``; default
                ``'glorot_uniform'`` for floating weights, ``'zeros'`` otherwise (Keras).
            dtype: defaults to the layer's dtype.
            trainable: False for statistics such as batch norm's moving mean.
            regularizer: optional penalty callable; its value joins ``self.losses``.
            constraint: optional callable applied to the weight after each optimizer update.
            name: short name (stored as ``"<layer>/<name>"``); default ``variable``,
                numbered. Keras 2's ``add_weight(name, shape, ...)`` order works too.
            **kwargs: ``autocast``, ``aggregation``, ``synchronization``, ``use_resource``
                (accepted for Keras compatibility, meaningless here).

        Returns:
            The :class:`~npgrad.Variable`.
        """
        args = list(args)
        if args and isinstance(args[0], str):  # name first: (name, shape, initializer,
            name = args.pop(0)                 # regularizer, trainable, dtype), npgrad's order
            order = ("shape", "initializer", "regularizer", "trainable", "dtype")
        else:                                  # Keras 3: (shape, initializer, dtype, trainable)
            order = ("shape", "initializer", "dtype", "trainable")
        given = dict(zip(order, args))
        args = args[len(order):]
        shape = given.get("shape", shape)
        initializer = given.get("initializer", initializer)
        regularizer = given.get("regularizer", regularizer)
        trainable = given.get("trainable", trainable)
        dtype = given.get("dtype", dtype)
        unknown = sorted(set(kwargs) - {"autocast", "aggregation", "synchronization",
                                        "use_resource", "experimental_autocast"})
        if args or unknown:
            raise TypeError(f"{self.name}.add_weight: unexpected argument(s) "
                            f"{args or unknown}; expected shape, initializer, dtype, "
                            f"trainable, regularizer, constraint, name")
        dtype = np.dtype(dtype or self.dtype)
        shape = () if shape is None else shape
        try:
            shape = tuple(int(n) for n in shape)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}.add_weight: shape must be a tuple of ints, got "
                            f"{shape!r}") from None
        if any(n < 0 for n in shape):
            raise ValueError(f"{self.name}.add_weight: shape must not be negative, got {shape}")
        if initializer is None:  # Keras 3's defaults
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        if name is None:
            count = sum(1 for w in self._own_weights if w.name.split("/")[-1].startswith("variable"))
            name = "variable" if count == 0 else f"variable_{count}"
        weight_budget.charge(shape)  # a loader's ceiling on what a file may make us allocate
        value = initializers.initial_value(initializer, shape, dtype)
        if constraint is not None:
            constraint = constraints.get(constraint)
        trainable = bool(trainable) and dtype.kind == "f"  # integer state never trains
        weight = Variable(value, trainable=trainable, name=f"{self.name}/{name}",
                          constraint=constraint)
        weight.requires_grad = trainable and self._trainable
        self._own_weights.append(weight)
        _OWNED[id(weight)] = weight
        if not trainable:
            self._frozen_ids.add(id(weight))
        if regularizer is not None:
            self._regularized.append((weight, regularizers.get(regularizer)))
        return weight

    def add_variable(self, shape, initializer=None, dtype=None, trainable=True, name=None,
                     **kwargs):
        """Keras 3's other spelling of :meth:`add_weight` (same arguments)."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype,
                               trainable=trainable, name=name, **kwargs)

    def __setattr__(self, name, value):
        # Remember which attributes can hold sub-layers (as PyTorch's Module does), so that
        # walking the layer tree, which fit does every step, visits only those. The dict
        # keeps every attribute name in first-assignment order, the order of __dict__.
        tracked = self.__dict__.get("_layer_attrs")
        if tracked is None:
            tracked = {}
            object.__setattr__(self, "_layer_attrs", tracked)
        tracked[name] = isinstance(value, Layer) or type(value) in (list, tuple)
        if isinstance(value, Variable) and id(value) not in _OWNED:
            self._track_variable(value)
        object.__setattr__(self, name, value)

    def _track_variable(self, variable):
        """Make a Variable assigned as an attribute (``self.alpha = npgrad.Variable(...)``)
        one of this layer's weights, as Keras 3 tracks it; one that a layer already owns (a
        tied weight) stays with that layer."""
        own = self.__dict__.get("_own_weights")
        if own is None:  # before Layer.__init__: nothing to track it in yet
            return
        own.append(variable)
        _OWNED[id(variable)] = variable
        if not variable.trainable:
            self._frozen_ids.add(id(variable))
        variable.requires_grad = variable.trainable and self._trainable

    def __delattr__(self, name):
        self.__dict__.get("_layer_attrs", {}).pop(name, None)
        object.__delattr__(self, name)

    def _sublayers(self):
        """Layers held as attributes, directly or in lists/tuples, in assignment order."""
        found = []
        attributes = self.__dict__
        for name, may_hold_layers in attributes.get("_layer_attrs", {}).items():
            if may_hold_layers:
                value = attributes[name]
                if isinstance(value, Layer):
                    found.append(value)
                else:  # a list or tuple, read now: layers appended in place count too
                    found.extend(v for v in value if isinstance(v, Layer))
        return found

    @property
    def weights(self):
        """All weights, own first then sub-layers', in creation order."""
        out = list(self._own_weights)
        for layer in self._sublayers():
            out.extend(layer.weights)
        return out

    @property
    def trainable_weights(self):
        """Weights ``fit`` updates (none when the layer is frozen)."""
        if not self._trainable:
            return []
        out = [w for w in self._own_weights if id(w) not in self._frozen_ids]
        for layer in self._sublayers():
            out.extend(layer.trainable_weights)
        return out

    @property
    def non_trainable_weights(self):
        """Weights ``fit`` leaves alone (statistics, or all of a frozen layer's)."""
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    # Keras 3's names for the same lists
    @property
    def variables(self):
        """Keras 3's name for :attr:`weights`."""
        return self.weights

    @property
    def trainable_variables(self):
        """Keras 3's name for :attr:`trainable_weights`."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """Keras 3's name for :attr:`non_trainable_weights`."""
        return self.non_trainable_weights

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freeze (False) or unfreeze a layer and its sub-layers."""
        self._trainable = bool(value)
        for w in self._own_weights:
            w.requires_grad = self._trainable and id(w) not in self._frozen_ids
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def losses(self):
        """The penalties of this layer and its sub-layers, as scalar Tensors: weight
        regularizers, then what ``add_loss`` added during the last call."""
        out = [reg(w) for w, reg in self._regularized if self._trainable]
        out.extend(self.__dict__.get("_added_losses", ()))
        for layer in self._sublayers():
            out.extend(layer.losses)
        return out

    def add_loss(self, loss):
        """Add a scalar penalty from inside ``call`` (Keras): it joins ``self.losses``, so
        ``fit`` adds it to the compiled loss. Each call of the layer starts a new list.

        Args:
            loss: a scalar Tensor (differentiable) or number.
        """
        if not isinstance(loss, Tensor):
            loss = Tensor(np.asarray(loss, dtype=self.dtype))
        if loss.size != 1:
            raise ValueError(f"{self.name}.add_loss: expected a scalar loss, got shape {loss.shape}")
        self.__dict__.setdefault("_added_losses", []).append(loss.reshape(()))

    def get_weights(self):
        """Copies of the weights as ndarrays, in ``weights`` order (Keras order)."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, values):
        """Set weights from ndarrays in ``get_weights`` order; shapes must match."""
        weights = self.weights
        values = list(values)
        if len(values) != len(weights):
            raise ValueError(
                f"{self.name}: set_weights expected {len(weights)} arrays, got {len(values)}"
            )
        for w, v in zip(weights, values):
            v = np.asarray(v)
            if v.shape != w.shape:
                raise ValueError(
                    f"{self.name}: weight {w.name!r} has shape {w.shape}, got an array of shape {v.shape}"
                )
            w.data[...] = v

    def count_params(self):
        """Number of scalars in all weights."""
        return int(sum(w.size for w in self.weights))

    # ------------------------------------------------------------- build and call
    def build(self, input_shape):
        """Create weights from the input shape (batch axis first, may be None)."""
        self.built = True

    def call(self, x, training=False):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def _maybe_build(self, input_shape):
        if not self.built:
            if is_shape(input_shape):
                input_shape = tuple(input_shape)
            self.build(input_shape)  # a list/dict of shapes for several inputs, as Keras
            self.built = True
            self.input_shape_built = input_shape

    def __call__(self, *args, training=None, **kwargs):
        """Apply the layer to a Tensor or array, building it on first use.

        Called on symbolic tensors (``npgrad.Input`` and what layers return for them), it
        records a node of a functional graph and returns symbolic outputs instead; an
        explicit ``training`` is then kept in the node and overrides the model's mode.
        Without an explicit ``training``, a call inside another layer's call runs in that
        call's mode (Keras 3's call context, ``layers/call_context.py``).
        The first input may also come by the name ``call`` gives it
        (``endpoint(logits=..., targets=...)``), as Keras binds arguments to ``call``.
        """
        if args:
            x, args = args[0], args[1:]
        else:
            x = self._first_input_by_name(kwargs)
        if isinstance(x, SYMBOLIC_TYPES) and is_symbolic(x):
            return symbolic_call(self, x, args, kwargs, training)
        if self.__dict__.get("_added_losses"):
            self.__dict__["_added_losses"] = []  # add_loss collects per call
        mask = get_keras_mask(x)
        if kwargs and "mask" in kwargs:  # an explicit mask= wins over the attached one (Keras)
            mask = kwargs.pop("mask")
        if _is_tensor_structure(x):  # several inputs (a list or dict of tensors)
            x = map_structure(self._prepare_input, x)
            self._maybe_build(map_structure(lambda t: t.shape, x))
        else:
            x = self._prepare_input(x)
            self._maybe_build(x.shape)
        # without an explicit training, the enclosing call's mode (layers/call_context.py)
        training = call_context.resolve(training, self._call_training_default)
        if self._call_has_training_arg:
            kwargs["training"] = bool(training)
        previous = call_context.enter(training)
        try:
            if mask is None and not self._computes_mask:  # no masking: the common, fast path
                return self.call(x, *args, **kwargs)
            return self._call_masked(x, mask, args, kwargs)
        finally:
            call_context.leave(previous)

    def _first_input_by_name(self, kwargs):
        """Pop ``call``'s first argument from ``kwargs`` (a call with no positional one)."""
        name = type(self)._call_first_arg
        if name is None or name not in kwargs:
            raise TypeError(f"{self.name}: called without an input; pass it first, or by the "
                            f"name call() gives it ({name!r})")
        return kwargs.pop(name)

    def _call_masked(self, x, mask, args, kwargs):
        """Call with a timestep mask: pass it to ``call`` if it takes one, then attach
        ``compute_mask``'s result to the outputs (Keras 3's mask propagation)."""
        if mask is not None and self._call_has_mask_arg:
            kwargs["mask"] = mask
        outputs = self.call(x, *args, **kwargs)
        if self.supports_masking or self._computes_mask:
            attach_masks(outputs, self.compute_mask(x, mask))
        elif mask is not None and not self.__dict__.get("_warned_mask"):
            object.__setattr__(self, "_warned_mask", True)
            warnings.warn(
                f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with "
                f"a mask attached to it. However, this layer does not support masking and will "
                f"therefore destroy the mask information. Downstream layers will not see the "
                f"mask.", stacklevel=3)
        return outputs

    def compute_mask(self, inputs, mask=None):
        """The timestep mask of the outputs, given the inputs and the input mask (Keras).

        Layers that pass the mask on (``supports_masking``) return it unchanged (the
        default); layers that make a mask (``Embedding(mask_zero=True)``, ``Masking``) or
        consume one (an RNN without ``return_sequences``) override this.

        Args:
            inputs: the layer's input Tensor.
            mask: the input's (N, T) boolean mask, or None.

        Returns:
            The (N, T) boolean mask of the output, or None (a list for several outputs).
        """
        return mask

    def _prepare_input(self, x):
        casts = "f" if not self._casts_integers else "fiub"
        if isinstance(x, Tensor):
            if self.cast_inputs and x.dtype != self.dtype and x.dtype.kind in casts:
                return x.astype(self.dtype) if x.dtype.kind == "f" else Tensor(x.data.astype(self.dtype))
            return x
        try:
            array = np.asarray(x)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}: expected a Tensor or array input, got {type(x).__name__}") from None
        if array.dtype.kind not in "fiub":
            raise TypeError(f"{self.name}: expected numeric input, got dtype {array.dtype}")
        if self.cast_inputs and array.dtype != self.dtype and array.dtype.kind in casts:
            array = array.astype(self.dtype)
        return Tensor(array)

    def _build_sublayers_by_probe(self, input_shape):
        """Build the sub-layers of a layer traced on symbolic tensors, as Keras 3 does: a
        layer with the default ``build`` whose ``compute_output_shape`` is its own (so no
        probe ran) has its ``call`` run once on zeros while a sub-layer is unbuilt. Without
        it the sub-layers get their weights inside the first training step, which then
        updates nothing, and ``summary()`` counts no parameters."""
        cls = type(self)
        if cls.build is not Layer.build or cls.compute_output_shape is Layer.compute_output_shape:
            return
        if all(layer.built for layer in self._sublayers()):
            return
        try:
            Layer.compute_output_shape(self, input_shape)
        except Exception as error:  # noqa: BLE001 - Keras warns and builds on the first call
            warnings.warn(f"Layer '{self.name}': running call on zeros to build its sub-layers "
                          f"failed ({type(error).__name__}: {error}); they will be built by "
                          f"the first call on data", stacklevel=3)

    def compute_output_shape(self, input_shape):
        """Output shape(s) for an input shape, or a list/dict of them (batch axis may be None).

        The default runs the layer on zero inputs of one sample, without a graph (with an
        all-True timestep mask when a masked symbolic input reaches a ``call`` that takes
        ``mask``, as Keras traces it). Unknown (None) dimensions are probed with two sizes:
        output dimensions that follow them are None too. When the call fails on one sample and
        the batch size is known (``Input(shape, batch_size=10)``: a call that reshapes to
        ``[10 * tokens, dim]``), it is probed with that many. Override it when a call on zeros
        is not possible or too costly.
        """
        leaves = _flat_shapes(input_shape)
        batch = leaves[0][0] if leaves and len(leaves[0]) else None
        masked = self.__dict__.get("_tracing_masked") and len(leaves) == 1 \
            and len(leaves[0]) >= 2

        dtypes = self.__dict__.get("_tracing_dtypes")  # the symbolic inputs', when traced

        def run(size, samples=1):
            given = iter(dtypes or ())

            def zeros(shape, dtype=None):
                dims = tuple(size if d is None else int(d) for d in shape[1:])
                if dtype is None:
                    dtype = next(given, None)
                dtype = self.dtype if dtype is None or np.dtype(dtype).kind not in "fiub" \
                    else np.dtype(dtype)
                return np.zeros((samples,) + dims, dtype=dtype)

            sample = map_shapes(zeros, input_shape)
            kwargs = {"mask": np.ones(np.shape(sample)[:2], dtype=bool)} if masked else {}
            args, traced = (), self.__dict__.get("_tracing_args")
            if traced is not None:  # symbolic further arguments: zeros of their shapes
                fill = lambda v: zeros(v.shape, v.dtype) if isinstance(v, KerasTensor) else v  # noqa: E731
                args = map_structure(fill, list(traced[0]))
                kwargs.update(map_structure(fill, {k: v for k, v in traced[1].items()
                                                    if k != "training"}))
            previous = call_context.enter_probe()
            try:  # placeholder values: no graph, no warnings for log(0) and the like
                with no_grad(), np.errstate(all="ignore"):
                    out = self(sample, *args, training=False, **kwargs)
            finally:
                call_context.leave_probe(previous)
            return map_structure(lambda t: tuple(np.shape(t)), out)

        samples = 1
        try:
            first = run(2)
        except Exception:
            if batch is None or batch == 1:
                raise
            samples = batch  # a call written for its declared batch size
            first = run(2, samples)
        if not any(d is None for shape in leaves for d in shape[1:]):
            second = first
        else:
            second = run(3, samples)

        def merge(a, b):
            if isinstance(a, tuple) and all(isinstance(d, int) for d in a):
                lead = batch if samples == 1 else a[0]  # probed with the batch: as it came
                return (lead,) + tuple(x if x == y else None for x, y in zip(a[1:], b[1:]))
            if isinstance(a, dict):
                return {k: merge(a[k], b[k]) for k in a}
            return [merge(x, y) for x, y in zip(a, b)]

        return merge(first, second)

    # ------------------------------------------------------------- functional graph
    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called on a symbolic input "
                f"(npgrad.Input), so it has no {what}"
            )
        return nodes[0]

    @property
    def input(self):
        """The symbolic input of the layer's first call on symbolic tensors (Keras)."""
        node = self._first_node("input")
        return node.outputs if node.is_input else node.call_args[0]

    @property
    def output(self):
        """The symbolic output of the layer's first call on symbolic tensors (Keras)."""
        return self._first_node("output").outputs

    # ------------------------------------------------------------- config
    def get_config(self):
        """JSON-able constructor arguments (subclasses add theirs). A custom class that does
        not override this gets the arguments it was created with when they are plain values
        (numbers, strings, None, lists and dicts of them), as Keras's auto-config."""
        config = {"name": self.name, **(self.__dict__.get("_auto_config") or {}),
                  "trainable": self._trainable, "dtype": self.dtype.name}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """Create a layer from ``get_config()`` output.

        The base keys (``name``, ``trainable``, ``dtype``, ``batch_input_shape``) are left
        out for a class whose ``__init__`` takes neither them nor ``**kwargs`` (a model
        written as ``def __init__(self)``), as Keras 3 leaves them out of such a config.
        """
        return cls(**_accepted_base_keys(cls, config))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
