"""Merge layers (Keras): combine a list of tensors into one.

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` work elementwise
(shapes must match after the batch axis, or broadcast where an axis is 1; a lower-rank input
gets length-1 axes after its batch axis, as in Keras); ``Concatenate`` joins along an axis;
``Dot`` takes dot products of samples. Each has a lowercase functional form
(``add([a, b])``, ``concatenate([a, b], axis=-1)``...). They compose existing
differentiable ops, so autograd differentiates them; they have no weights.

Example:
    >>> a, b = npgrad.Input((8,)), npgrad.Input((8,))
    >>> s = npgrad.layers.Add()([a, b])                      # (None, 8)
    >>> c = npgrad.layers.concatenate([a, b])                # (None, 16)
    >>> npgrad.layers.Add()([np.ones((2, 3)), np.ones((2, 3))]).shape
    (2, 3)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F

from npgrad.layers.layer import Layer
from npgrad.layers.masks import attach_masks, get_keras_mask
from npgrad.layers.node import SYMBOLIC_TYPES, is_symbolic, symbolic_call

__all__ = [
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
]  # fmt: skip


def _shapes_text(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


class _Merge(Layer):
    """Base of the merge layers: takes a list of at least two tensors (Keras ``Merge``).

    Timestep masks (Keras): the output of an elementwise merge is masked where any input
    is masked; ``Concatenate`` follows Keras's rule; ``Dot`` drops masks.
    """

    #: exact number of inputs (None: two or more)
    n_inputs = None
    supports_masking = True

    def __call__(self, inputs, *args, training=None, **kwargs):
        """Merge a list of Tensors/arrays, or of symbolic tensors (one functional node)."""
        if isinstance(inputs, SYMBOLIC_TYPES) and is_symbolic(inputs):
            self._check_count(inputs)
            return symbolic_call(self, list(inputs), args, kwargs, training)
        self._check_count(inputs)
        masks = [get_keras_mask(x) for x in inputs]
        xs = [self._prepare_input(x) for x in inputs]
        shapes = [x.shape for x in xs]
        self._maybe_build(shapes)
        self._merged_shape(shapes)
        out = self.call(xs, *args, training=bool(training), **kwargs)
        if any(m is not None for m in masks):
            attach_masks(out, self.compute_mask(xs, masks))
        return out

    def compute_mask(self, inputs, mask=None):
        """The inputs' masks combined: masked where any input is (None if none has one)."""
        if mask is None or all(m is None for m in mask):
            return None
        combined = None
        for m in mask:
            if m is not None:
                m = np.asarray(m, dtype=bool)
                combined = m if combined is None else combined & m
        return combined

    def _check_count(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(
                f"Layer '{self.name}' ({type(self).__name__}) expects a list of tensors, got "
                f"{type(inputs).__name__}"
            )
        if self.n_inputs is not None and len(inputs) != self.n_inputs:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects exactly {self.n_inputs} "
                f"inputs, got {len(inputs)}"
            )
        if len(inputs) < 2:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects a list of at least 2 "
                f"inputs, got {len(inputs)}"
            )

    def _mismatch(self, shapes, detail):
        return ValueError(
            f"Layer '{self.name}' ({type(self).__name__}) cannot merge inputs of shapes "
            f"{_shapes_text(shapes)}: {detail}"
        )

    def _merged_shape(self, shapes):
        """The output shape of elementwise merging (Keras rules), else a ValueError."""
        shapes = [tuple(s) for s in shapes]
        # a batch of 1 broadcasts against the others, as in a Keras model (whose merge layers
        # check batch sizes once, on symbolic shapes): a learned query next to a batch
        batches = {s[0] for s in shapes if s and s[0] is not None}
        if any(len(s) == 0 for s in shapes) or len(batches - {1}) > 1:
            raise self._mismatch(shapes, "the batch sizes differ")
        batches = (batches - {1}) or batches
        rank = max(len(s) for s in shapes)
        tails = [(1,) * (rank - len(s)) + s[1:] for s in shapes]  # expanded after the batch axis
        out = []
        for axis, dims in enumerate(zip(*tails), start=1):
            sizes = {d for d in dims if d is not None and d != 1}
            if len(sizes) > 1:
                raise self._mismatch(shapes, f"axis {axis} has sizes {sorted(sizes)} (only equal "
                                             f"sizes or 1 can be merged)")
            out.append(sizes.pop() if sizes else (None if None in dims else 1))
        batch = next(iter(batches)) if batches else None
        return (batch,) + tuple(out)

    def build(self, input_shape):
        self._check_count(list(input_shape))
        self._merged_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_count(list(input_shape))
        return self._merged_shape(input_shape)

    def _aligned(self, xs):
        """Give lower-rank inputs length-1 axes after the batch axis (Keras)."""
        rank = max(len(x.shape) for x in xs)
        return [x if len(x.shape) == rank else
                F.reshape(x, (x.shape[0],) + (1,) * (rank - len(x.shape)) + tuple(x.shape[1:]))
                for x in xs]

    def call(self, inputs, training=False):
        xs = self._aligned(list(inputs))
        out = xs[0]
        for x in xs[1:]:
            out = self._merge(out, x)
        return out


class Add(_Merge):
    """Elementwise sum of a list of tensors of one shape.

    Shapes: a list of (batch, ...) -> (batch, ...).

    Example:
        >>> Add()([np.ones((2, 3)), np.ones((2, 3))]).numpy()[0]
        array([2., 2., 2.], dtype=float32)
    """

    def _merge(self, a, b):
        return a + b


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``: exactly two tensors."""

    n_inputs = 2

    def _merge(self, a, b):
        return a - b


class Multiply(_Merge):
    """Elementwise product of a list of tensors of one shape."""

    def _merge(self, a, b):
        return a * b


class Average(_Merge):
    """Elementwise mean of a list of tensors of one shape."""

    def call(self, inputs, training=False):
        xs = self._aligned(list(inputs))
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total * (1.0 / len(xs))


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors (ties send the gradient to the first)."""

    def _merge(self, a, b):
        return F.maximum(a, b)


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors (ties send the gradient to the first)."""

    def _merge(self, a, b):
        return F.minimum(a, b)


class Concatenate(_Merge):
    """Join a list of tensors along ``axis``; the other axes must match.

    Args:
        axis: the axis to join along (default -1, the features).

    Shapes: ``(batch, ..., n_i, ...)`` -> ``(batch, ..., sum n_i, ...)``.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"Concatenate: argument `axis` must be an int, got {axis!r}")
        self.axis = axis

    def _merged_shape(self, shapes):
        shapes = [tuple(s) for s in shapes]
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise self._mismatch(shapes, "all inputs need the same rank")
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0:
            raise self._mismatch(shapes, f"axis {self.axis} is not a feature axis of rank {rank}")
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (o, d) in enumerate(zip(out, s)):
                if i == axis:
                    continue
                if o is not None and d is not None and o != d:
                    raise self._mismatch(
                        shapes, f"they must match except on the concatenation axis {self.axis}"
                    )
                if o is None:
                    out[i] = d
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(n is None for n in sizes) else sum(sizes)
        return tuple(out)

    def call(self, inputs, training=False):
        return F.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: each input's mask broadcast over its features (all True where it
        has none), concatenated along ``axis``, then "any" over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            shape = tuple(x.shape)
            if m is None:
                full.append(np.ones(shape, dtype=bool))
                continue
            m = np.asarray(m, dtype=bool)
            if m.ndim < len(shape):
                m = np.broadcast_to(m[..., None], shape)
            full.append(m)
        return np.any(np.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Dot products between the samples of two tensors (Keras ``Dot``, rank 2 or 3 inputs).

    Args:
        axes: the axis (int) contracted in both inputs, or one axis per input; axis 0 (the
            batch) is not allowed.
        normalize: L2-normalize both inputs along the contracted axes first (the dot product
            is then the cosine similarity).

    Shapes: ``(b, n)`` . ``(b, n)`` -> ``(b, 1)``; ``(b, m, k)`` . ``(b, k, n)`` (axes
    ``(2, 1)``) -> ``(b, m, n)``; a rank-2 with a rank-3 input drops the rank-2 one's axis.
    """

    n_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            axes = list(axes)
        else:
            axes = [axes, axes]
        if len(axes) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"Dot: argument `axes` must be an int or a pair of ints, got {axes!r}")
        self.axes = axes
        self.normalize = bool(normalize)

    def _resolve(self, shapes):
        shapes = [tuple(s) for s in shapes]
        if any(len(s) not in (2, 3) for s in shapes):
            raise self._mismatch(shapes, "Dot supports inputs of rank 2 or 3")
        axes = []
        for a, s in zip(self.axes, shapes):
            if not -len(s) < a < len(s) or a % len(s) == 0:
                raise self._mismatch(shapes, f"axes {self.axes} must be non-batch axes")
            axes.append(a % len(s))
        d1, d2 = shapes[0][axes[0]], shapes[1][axes[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise self._mismatch(shapes, f"the contracted axes {self.axes} have sizes {d1} and {d2}")
        b1, b2 = shapes[0][0], shapes[1][0]
        if b1 is not None and b2 is not None and b1 != b2:
            raise self._mismatch(shapes, "the batch sizes differ")
        return shapes, axes

    def _merged_shape(self, shapes):
        shapes, axes = self._resolve(shapes)
        keep = [[d for i, d in enumerate(s[1:], 1) if i != a] for s, a in zip(shapes, axes)]
        out = keep[0] + keep[1]
        batch = shapes[0][0] if shapes[0][0] is not None else shapes[1][0]
        return (batch,) + (tuple(out) if out else (1,))

    def call(self, inputs, training=False):
        x, y = inputs
        _, (ax, ay) = self._resolve([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
        if len(x.shape) == 2 and len(y.shape) == 2:
            return (x * y).sum(axis=1, keepdims=True)
        # as batched matrices: x (b, m, k) @ y (b, k, n)
        x3 = F.reshape(x, (x.shape[0], 1, x.shape[1])) if len(x.shape) == 2 else (
            x if ax == 2 else F.transpose(x, (0, 2, 1)))
        y3 = F.reshape(y, (y.shape[0], y.shape[1], 1)) if len(y.shape) == 2 else (
            y if ay == 1 else F.transpose(y, (0, 2, 1)))
        out = F.matmul(x3, y3)
        if len(x.shape) == 2:
            return F.reshape(out, (out.shape[0], out.shape[2]))
        if len(y.shape) == 2:
            return F.reshape(out, (out.shape[0], out.shape[1]))
        return out

    def compute_mask(self, inputs, mask=None):
        """None: the dot product reduces the masked axes (Keras)."""
        return None

    def get_config(self):
        config = super().get_config()
        config.update(axes=list(self.axes), normalize=self.normalize)
        return config


def _l2_normalize(x, axis):
    """x / ||x|| along ``axis`` (the norm floored at 1e-6, as Keras' epsilon 1e-12 on squares)."""
    squares = (x * x).sum(axis=axis, keepdims=True)
    return x / F.sqrt(F.maximum(squares, 1e-12))


# ------------------------------------------------------------------ functional forms
def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: elementwise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: elementwise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``: join a list of tensors along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``Dot(axes, normalize, **kwargs)(inputs)``: dot products of the samples of two tensors."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
