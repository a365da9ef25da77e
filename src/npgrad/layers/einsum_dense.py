"""EinsumDense (Keras 3): a dense layer whose contraction is any einsum equation.

``EinsumDense("abc,cde->abde", output_shape=(None, 4, 16), bias_axes="de")`` maps
(batch, T, C) to (batch, T, 4, 16) with a kernel (C, 4, 16): the per-head projection inside
multi-head attention. The kernel's shape, the bias's shape and the output shape follow from
the equation, the input shape and ``output_shape`` exactly as Keras computes them.

Example:
    >>> layer = npgrad.layers.EinsumDense("ab,bc->ac", output_shape=64, bias_axes="c")
    >>> layer(np.ones((2, 32))).shape          # the same as Dense(64)
    (2, 64)
"""

from __future__ import annotations

import math
import re

import numpy as np

from npgrad import activations, initializers, regularizers
from npgrad.layers import arguments
from npgrad.layers.layer import Layer
from npgrad.primitives.attention import einsum_dense

__all__ = ["EinsumDense"]


def _split_equation(equation, name):
    """(input, kernel, output) subscripts and where the ellipsis is ('left', 'right' or None)."""
    text = re.sub(r"\.\.\.", "0", equation.replace(" ", ""))
    for pattern, elided in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
                            ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
                            ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right")):
        match = re.fullmatch(pattern, text)
        if match:
            return match.group(1), match.group(2), match.group(3), elided
    raise ValueError(
        f"{name}: invalid einsum equation {equation!r}; equations must be of the form "
        f"'[X],[Y]->[Z]', '...[X],[Y]->...[Z]' or '[X]...,[Y]->[Z]...'"
    )


def analyze_equation(equation, bias_axes, input_shape, output_shape, name="EinsumDense"):
    """Kernel shape, bias shape, full output shape and the kernel's input/output axes (Keras).

    Args:
        equation: e.g. ``"abc,cd->abd"``.
        bias_axes: output letters that get a bias, or None.
        input_shape: the input's shape, batch axis first.
        output_shape: the output's shape without the batch axis (None entries are inferred).
        name: used in error messages.

    Returns:
        ``(kernel_shape, bias_shape or None, full_output_shape, input_axes, output_axes)``.
        Kernel and bias shapes are Keras's; the output shape is the einsum's: axes an
        ellipsis covers keep their order and None sizes shared with the input are filled in
        (what Keras's symbolic call gives; its ``compute_output_shape`` leaves them None
        and reverses leading ellipsis axes).
    """
    in_spec, w_spec, out_spec, elided_side = _split_equation(equation, name)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided_side is None and elided != 0):
        raise ValueError(f"{name}: equation {equation!r} expects an input of rank "
                         f"{len(in_spec)}, got shape {input_shape}")
    output = [input_shape[0]] + list(output_shape)
    if elided > 0 and elided_side == "left":  # the batch axis is the first elided axis
        output[1:1] = input_shape[1:elided]
    elif elided > 0:
        output.extend(input_shape[len(input_shape) - elided:])
    if elided_side == "left":
        in_map = {c: i + elided - len(input_shape) for i, c in enumerate(in_spec)}
        out_map = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        in_map = {c: i for i, c in enumerate(in_spec)}
        out_map = {c: i for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_map and output[out_map[c]] is not None \
                and output[out_map[c]] != input_shape[in_map[c]]:
            raise ValueError(
                f"{name}: input shape and output shape do not match at shared dimension "
                f"{c!r}: the input has {input_shape[in_map[c]]}, output_shape asks for "
                f"{output[out_map[c]]} (input shape {input_shape})"
            )
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(f"{name}: output dimension {c!r} of {equation!r} is in neither "
                             f"the input nor the kernel")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_map:
            kernel_shape.append(output[out_map[c]])
            output_axes.append(i)
        elif c in in_map:
            kernel_shape.append(input_shape[in_map[c]])
            input_axes.append(i)
        else:
            raise ValueError(f"{name}: kernel dimension {c!r} of {equation!r} is in neither "
                             f"the input nor the output")
    if any(n is None for n in kernel_shape):
        raise ValueError(f"{name}: the kernel shape {tuple(kernel_shape)} of {equation!r} is "
                         f"not fully known from input shape {input_shape} and output_shape "
                         f"{tuple(output_shape)}")
    bias_shape = None
    if bias_axes:
        offset = elided if elided_side == "left" else 0
        sizes = {c: output[i + offset] for i, c in enumerate(out_spec)}
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"{name}: bias axis {c!r} is not in the output spec "
                                 f"{out_spec!r}")
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if elided_side != "left":
            bias_shape.extend([1] * elided)
    for c in out_spec:  # output sizes left None are the input's (what the einsum gives)
        if c in in_map and output[out_map[c]] is None:
            output[out_map[c]] = input_shape[in_map[c]]
    return (tuple(kernel_shape), None if bias_shape is None else tuple(bias_shape),
            tuple(output), input_axes, output_axes)


def _fold_fans(initializer, input_axes, output_axes):
    """Draw a fan-scaled initializer as Keras does for einsum kernels: fan_in is the product
    of the kernel's input axes, fan_out of its output axes (samples are i.i.d., so drawing
    a (fan_in, fan_out) matrix and reshaping gives Keras's distribution)."""
    if not isinstance(initializer, initializers.VarianceScaling):
        return initializer

    def draw(shape, dtype="float32"):
        fan_in = math.prod(shape[i] for i in input_axes)
        fan_out = math.prod(shape[i] for i in output_axes)
        return np.reshape(initializer((fan_in, fan_out), dtype=dtype), shape)

    return draw


def _no_constraint(value, layer_cls, arg):
    if value is not None:
        raise ValueError(f"{layer_cls}: argument `{arg}` is not supported by npgrad yet, got "
                         f"{value!r}")


class EinsumDense(Layer):
    """A dense layer computing ``activation(einsum(equation, x, kernel) + bias)`` (Keras 3).

    Args:
        equation: einsum equation ``"[X],[Y]->[Z]"`` (input, kernel, output), e.g.
            ``"ab,bc->ac"`` (Dense), ``"abc,cde->abde"`` (per-head projection); an ellipsis
            may stand for leading (``"...b,bc->...c"``) or trailing axes.
        output_shape: the output shape without the batch axis (and without the axes the
            ellipsis covers); an int for one axis; None entries are taken from the input.
        activation: name or callable (default: linear).
        bias_axes: the output letters that carry a bias (e.g. ``"c"``), or None for no bias.
        kernel_initializer, bias_initializer: names or objects; fan-scaled initializers use
            the kernel's input and output axes as fans (Keras).
        kernel_regularizer, bias_regularizer: optional penalties.
        kernel_constraint, bias_constraint, activity_regularizer, lora_rank, lora_alpha,
            gptq_unpacked_column_size, quantization_config: accepted for Keras configs; must
            be None (npgrad has no constraints, LoRA or quantization yet).

    Weights: kernel (shape from the equation), bias (the ``bias_axes`` sizes, 1 elsewhere).

    Example:
        >>> EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")(
        ...     np.ones((2, 32, 128))).shape
        (2, 32, 64)
    """

    supports_masking = True

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, activity_regularizer=None, lora_rank=None,
                 lora_alpha=None, gptq_unpacked_column_size=None, quantization_config=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise TypeError(f"EinsumDense: argument `equation` must be a string, got "
                            f"{type(equation).__name__}")
        _split_equation(equation, "EinsumDense")
        self.equation = equation
        if isinstance(output_shape, (int, np.integer)) and not isinstance(output_shape, bool):
            output_shape = (int(output_shape),)
        try:
            output_shape = tuple(None if n is None else int(n) for n in output_shape)
        except (TypeError, ValueError):
            raise TypeError(f"EinsumDense: argument `output_shape` must be an int or a tuple "
                            f"of ints/None, got {output_shape!r}") from None
        self.partial_output_shape = output_shape
        self.activation = activations.get(activation)
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(f"EinsumDense: argument `bias_axes` must be a string or None, got "
                            f"{bias_axes!r}")
        self.bias_axes = bias_axes or None
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        for value, arg in ((kernel_constraint, "kernel_constraint"),
                           (bias_constraint, "bias_constraint"),
                           (activity_regularizer, "activity_regularizer"),
                           (lora_rank, "lora_rank"), (lora_alpha, "lora_alpha"),
                           (gptq_unpacked_column_size, "gptq_unpacked_column_size"),
                           (quantization_config, "quantization_config")):
            _no_constraint(value, "EinsumDense", arg)

    def _analyze(self, input_shape):
        return analyze_equation(self.equation, self.bias_axes, input_shape,
                                self.partial_output_shape, name=f"EinsumDense '{self.name}'")

    def build(self, input_shape):
        kernel_shape, bias_shape, full_shape, input_axes, output_axes = self._analyze(input_shape)
        self.full_output_shape = full_shape
        init = _fold_fans(self.kernel_initializer, input_axes, output_axes)
        self.kernel = self.add_weight("kernel", kernel_shape, init, self.kernel_regularizer)
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight("bias", bias_shape, self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, x, training=False):
        try:
            out = einsum_dense(self.equation, x, self.kernel, self.bias)
        except ValueError as error:  # the input does not fit the kernel built earlier
            raise arguments.incompatible(
                self, f"an input that fits {self.equation!r} with kernel {self.kernel.shape} "
                      f"({error})", x.shape) from None
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return self._analyze(input_shape)[2]

    def get_config(self):
        config = super().get_config()
        config.update(
            output_shape=list(self.partial_output_shape),
            equation=self.equation,
            activation=activations.serialize(self.activation),
            bias_axes=self.bias_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=None,
            bias_constraint=None,
            activity_regularizer=None,
        )
        return config
