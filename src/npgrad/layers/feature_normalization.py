"""GroupNormalization, RMSNormalization and UnitNormalization (Keras 3 semantics).

All three normalize each sample by statistics of that sample only, so training and
inference compute the same thing. GroupNormalization runs on the fused normalization op
(``F.group_norm``); the other two compose differentiable ops and autograd derives their
gradients.

Example:
    >>> gn = GroupNormalization(groups=4)
    >>> gn(np.random.randn(2, 8, 8, 16)).shape       # gamma (16,), beta (16,)
    (2, 8, 8, 16)
    >>> RMSNormalization()(np.random.randn(3, 5)).shape
    (3, 5)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import initializers, regularizers
from npgrad.layers import arguments
from npgrad.layers.axes import axis_arg, broadcast_shape, positive_axes
from npgrad.layers.layer import Layer


def _check_epsilon(epsilon, layer_cls):
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.number)) \
            or not epsilon > 0:
        raise ValueError(f"{layer_cls}: argument `epsilon` must be a positive float, got {epsilon!r}")
    return float(epsilon)


class GroupNormalization(Layer):
    """Normalize groups of channels of each sample by their mean and variance (Wu & He, 2018).

    The ``C`` channels of ``axis`` are split into ``groups`` groups of ``C / groups``
    consecutive channels; each group of each sample is normalized over its channels and all
    other non-batch axes, then scaled by ``gamma`` and shifted by ``beta`` per channel:
    ``y = (x - mean_g) / sqrt(var_g + epsilon) * gamma + beta``. ``groups=-1`` gives one
    group per channel (instance normalization); ``groups=1`` normalizes over every
    non-batch axis, as LayerNormalization over all axes does.

    Args:
        groups: number of groups, a divisor of the channel count (default 32), or -1.
        axis: the channel axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer: initializers (zeros, ones).
        beta_regularizer, gamma_regularizer: optional penalties.

    Weights, in Keras order: gamma (C,), beta (C,).
    Shapes: (N, ..., C, ...) -> same (a timestep mask passes through).
    """

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or (
                groups <= 0 and groups != -1):
            raise ValueError("GroupNormalization: argument `groups` must be a positive int "
                             f"(or -1 for instance normalization), got {groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"GroupNormalization: argument `axis` must be an int, got {axis!r}")
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = _check_epsilon(epsilon, "GroupNormalization")
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 2)
        (axis,) = positive_axes(self, self.axis, input_shape)
        if axis == 0:
            raise arguments.incompatible(self, "a channel axis other than the batch axis", input_shape)
        channels = arguments.known_axis(self, input_shape, axis, f"axis {self.axis}")
        groups = channels if self.groups == -1 else self.groups
        if channels < groups or channels % groups:
            raise ValueError(
                f"Layer '{self.name}' (GroupNormalization): the {channels} channels of axis "
                f"{self.axis} cannot be split into groups={self.groups} equal groups"
            )
        self._axis, self._channels, self._groups = axis, channels, groups
        self._rank = len(input_shape)
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight("gamma", (channels,), self.gamma_initializer,
                                         self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", (channels,), self.beta_initializer,
                                        self.beta_regularizer)

    def call(self, x, training=False):
        if x.ndim != self._rank or x.shape[self._axis] != self._channels:
            raise arguments.incompatible(
                self, f"rank {self._rank} with {self._channels} channels on axis {self.axis}",
                x.shape)
        # the fused normalization op on (N, ..., G, C / G, ...): statistics over all but N, G
        return F.group_norm(x, self.gamma, self.beta, groups=self._groups, axis=self._axis,
                            epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        positive_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            groups=self.groups, axis=self.axis, epsilon=self.epsilon, center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
        )
        return config


class RMSNormalization(Layer):
    """Root-mean-square normalization (Zhang & Sennrich, 2019), as in Transformer blocks.

    ``y = x / sqrt(mean(x ** 2 over axis) + epsilon) * scale``: no centring, no offset.

    Args:
        axis: int or list of ints, the axes averaged over (default -1).
        epsilon: added to the mean square (default 1e-6).

    Weights: scale, shaped like the normalized axes (sorted), initialized to ones.
    Shapes: any -> same.
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis_arg(axis, "RMSNormalization")
        self.epsilon = _check_epsilon(epsilon, "RMSNormalization")

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        self._axes = positive_axes(self, self.axis, input_shape)
        sizes = tuple(arguments.known_axis(self, input_shape, a, f"axis {a}") for a in self._axes)
        self._sizes, self._rank = sizes, len(input_shape)
        self.scale = self.add_weight("scale", sizes, "ones")

    def call(self, x, training=False):
        if x.ndim != self._rank or tuple(x.shape[a] for a in self._axes) != self._sizes:
            raise arguments.incompatible(self, f"rank {self._rank} with sizes {self._sizes} on "
                                               f"axes {self._axes}", x.shape)
        mean_square = F.mean(F.square(x), axis=self._axes, keepdims=True)
        scale = F.reshape(self.scale, broadcast_shape(x.shape, self._axes))
        return x / F.sqrt(mean_square + self.epsilon) * scale

    def compute_output_shape(self, input_shape):
        positive_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, epsilon=self.epsilon)
        return config


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-12)``.

    Args:
        axis: int or list of ints (default -1).

    Shapes: any -> same (no weights; a timestep mask passes through).
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis_arg(axis, "UnitNormalization")

    def build(self, input_shape):
        positive_axes(self, self.axis, input_shape)

    def call(self, x, training=False):
        axes = positive_axes(self, self.axis, x.shape)
        square_sum = F.sum(F.square(x), axis=axes, keepdims=True)
        # ||x|| floored at epsilon = 1e-12, as Keras's ops.normalize
        return x / F.sqrt(F.maximum(square_sum, 1e-24))

    def compute_output_shape(self, input_shape):
        positive_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


__all__ = ["GroupNormalization", "RMSNormalization", "UnitNormalization"]
