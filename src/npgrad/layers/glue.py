"""Glue layers: Permute, RepeatVector, Identity and Lambda (with a registry of functions).

A ``Lambda`` layer wraps a Python function. Its config cannot hold the function's code
(npgrad never saves or loads code: a loaded file must not be able to execute anything), so
it holds the function's *registered name*. Register a function once with
:func:`register_function` (or pass it in ``custom_objects`` when loading) and a saved model
with a Lambda loads again; an unregistered function saves but cannot be loaded, and
``from_config`` says how to fix that.

Example:
    >>> @register_function(package="my_project")
    ... def double(x):
    ...     return x * 2
    >>> layer = Lambda(double)
    >>> layer.get_config()["function"]
    'my_project>double'
    >>> Lambda.from_config(layer.get_config())(np.ones((1, 2))).numpy()
    array([[2., 2.]], dtype=float32)
"""

from __future__ import annotations

import inspect
import json

import numpy as np

import npgrad.functional as F
from npgrad.layers import arguments
from npgrad.layers.layer import Layer
from npgrad.layers.node import is_shape, map_shapes

_FUNCTIONS = {}


def register_function(function=None, package="Custom", name=None):
    """Register a function under ``"<package>><name>"`` so Lambda layers using it can be loaded.

    Usable as ``register_function(fn)``, ``@register_function`` or
    ``@register_function(package="pkg", name="alias")`` (Keras's
    ``register_keras_serializable`` naming).

    Returns:
        The function itself (or a decorator).

    Raises:
        ValueError: another function is already registered under the same name.
    """

    def register(fn):
        if not callable(fn):
            raise TypeError(f"register_function: expected a callable, got {type(fn).__name__}")
        key = f"{package}>{name or fn.__name__}"
        if _FUNCTIONS.get(key, fn) is not fn:
            raise ValueError(f"register_function: the name {key!r} is already registered "
                             "for another function")
        _FUNCTIONS[key] = fn
        fn._npgrad_registered_name = key
        return fn

    return register if function is None else register(function)


def get_registered_function(name):
    """The function registered under ``name`` (``"package>name"``), or None."""
    return _FUNCTIONS.get(name)


def registered_name(function):
    """The name a function is saved under: its registered name, else ``module.qualname``."""
    key = getattr(function, "_npgrad_registered_name", None)
    if key is not None and _FUNCTIONS.get(key) is function:
        return key
    return f"{getattr(function, '__module__', None)}.{getattr(function, '__qualname__', repr(function))}"


# ------------------------------------------------------------------ Permute, RepeatVector


class Permute(Layer):
    """Permute the non-batch axes: ``dims`` lists them, numbered from 1 (Keras).

    Args:
        dims: a permutation of ``1..rank-1``, e.g. ``(2, 1)`` swaps the two axes of (N, T, F).

    Shapes: (N, d1, d2, ...) -> (N, d_dims[0], d_dims[1], ...).
    """

    supports_masking = True

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            raise TypeError(f"Permute: argument `dims` must be a tuple of ints, got {dims!r}") from None
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Permute: argument `dims` must be a permutation of 1..n (axis 0 is "
                             f"the batch axis), got {dims!r}")
        self.dims = dims

    def _check(self, shape):
        arguments.check_ndim(self, shape, len(self.dims) + 1)

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, x, training=False):
        self._check(x.shape)
        return F.transpose(x, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """Repeat each (N, F) sample ``n`` times along a new time axis.

    Args:
        n: number of repetitions (positive int).

    Shapes: (N, F) -> (N, n, F).
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = arguments.positive_int(n, "RepeatVector", "n")

    def build(self, input_shape):
        arguments.check_ndim(self, input_shape, 2, "(batch, features)")

    def call(self, x, training=False):
        arguments.check_ndim(self, x.shape, 2, "(batch, features)")
        return F.broadcast_to(F.expand_dims(x, 1), (x.shape[0], self.n, x.shape[1]))

    def compute_output_shape(self, input_shape):
        arguments.check_ndim(self, input_shape, 2, "(batch, features)")
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Identity(Layer):
    """Return the input unchanged (the very same Tensor); a placeholder layer.

    Shapes: any -> same (a mask passes through).
    """

    supports_masking = True

    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


# ------------------------------------------------------------------ Lambda


def _json_able(value, what):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise TypeError(f"Lambda: `{what}` must be JSON-serializable to be saved, got {value!r}") from None
    return value


def _shape_structure(structure):
    """A shape as a tuple of ints and Nones, or a list/dict of them (Lambda's output_shape).

    Raises:
        TypeError: anything else, naming the argument.
    """
    try:
        return map_shapes(lambda shape: tuple(None if d is None else int(d) for d in shape),
                          structure)
    except TypeError:
        raise TypeError(f"Lambda: output_shape must be a shape, or a list or dict of shapes; "
                        f"got {structure!r}") from None


def _first_dimension(input_shape):
    """The batch axis of an input shape, or of the first shape in a list/dict of them."""
    while not is_shape(input_shape):
        input_shape = (list(input_shape.values()) if isinstance(input_shape, dict)
                       else list(input_shape))[0]
    return input_shape[0] if len(input_shape) else None


class Lambda(Layer):
    """Wrap a Python function ``function(x, **arguments)`` as a layer (no weights).

    Differentiable when the function composes npgrad ops (``npgrad.functional``, Tensor
    methods). If the function has a ``training`` or ``mask`` parameter, it receives them.

    Args:
        function: the callable applied to the input Tensor.
        output_shape: optional output shape without the batch axis (a tuple; a list or dict
            of them for several outputs), which takes the batch axis of the (first) input;
            or a callable ``input_shape -> output_shape`` (batch axis included); by default
            it is found by running the function.
        mask: optional output mask, or a callable ``(inputs, mask) -> mask``.
        arguments: optional dict of keyword arguments passed to ``function``.

    Saving: the config holds the function's registered name (see :func:`register_function`);
    ``from_config(config, custom_objects={name: fn})`` also resolves it. Code is never
    saved, so a loaded file cannot run anything it brings along (Keras needs
    ``safe_mode=False`` for that, which npgrad does not offer).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: argument `function` must be callable, got {type(function).__name__}")
        self.function = function
        if output_shape is not None and not callable(output_shape):
            output_shape = _shape_structure(output_shape)
        self.output_shape_arg = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):
            parameters = {}
        self._takes_training = "training" in parameters
        self._function_takes_mask = "mask" in parameters
        if self.mask is not None or self._function_takes_mask:
            self.supports_masking = True

    def call(self, x, training=False, mask=None):
        kwargs = dict(self.arguments)
        if self._takes_training:
            kwargs["training"] = training
        if self._function_takes_mask:
            kwargs["mask"] = mask
        return self.function(x, **kwargs)

    def compute_mask(self, inputs, mask=None):
        """The ``mask`` argument (called with ``(inputs, mask)`` if callable), else the input's."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return mask if self.mask is None else self.mask

    def compute_output_shape(self, input_shape):
        if self.output_shape_arg is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape_arg):
            return _shape_structure(self.output_shape_arg(input_shape))
        # a shape without its batch axis, or a list/dict of them (several outputs): each
        # gets the batch axis of the (first) input, as Keras does
        batch = _first_dimension(input_shape)
        return map_shapes(lambda shape: (batch,) + shape, self.output_shape_arg)

    def get_config(self):
        config = super().get_config()
        if callable(self.output_shape_arg):
            output_shape = registered_name(self.output_shape_arg)
        else:
            output_shape = None if self.output_shape_arg is None else map_shapes(
                list, self.output_shape_arg)
        config.update(
            function=registered_name(self.function),
            output_shape=output_shape,
            arguments=_json_able(self.arguments, "arguments"),
        )
        if self.mask is not None:
            config["mask"] = registered_name(self.mask) if callable(self.mask) else \
                _json_able(np.asarray(self.mask).tolist(), "mask")
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the layer; the function is looked up in ``custom_objects``, then the registry.

        Raises:
            ValueError: the function is neither registered nor in ``custom_objects``.
        """
        config = dict(config)
        config["function"] = _resolve(config["function"], custom_objects, "function")
        if isinstance(config.get("output_shape"), str):
            config["output_shape"] = _resolve(config["output_shape"], custom_objects, "output_shape")
        if isinstance(config.get("mask"), str):
            config["mask"] = _resolve(config["mask"], custom_objects, "mask")
        return cls(**config)


def _resolve(name, custom_objects, what):
    custom_objects = custom_objects or {}
    if name.endswith("<lambda>"):
        raise ValueError(
            f"Lambda: cannot load the {what} {name!r}: an anonymous `lambda` has no name to "
            "look up (npgrad never saves code). Define a named function and register it with "
            "npgrad.layers.register_function(fn), or pass it in custom_objects."
        )
    short = name.rpartition(">")[2].rpartition(".")[2]
    for key in (name, short):
        if key in custom_objects:
            return custom_objects[key]
    function = get_registered_function(name)
    if function is None:
        raise ValueError(
            f"Lambda: cannot load the {what} {name!r}: npgrad never saves code, so the function "
            f"must be known when loading. Register it with "
            f"npgrad.layers.register_function(fn) before loading, or pass "
            f"custom_objects={{{short!r}: fn}}."
        )
    return function


__all__ = ["Permute", "RepeatVector", "Identity", "Lambda", "register_function",
           "get_registered_function", "registered_name"]
