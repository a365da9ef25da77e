"""Normalization layers: BatchNormalization and LayerNormalization (Keras 3 semantics).

Example:
    >>> bn = BatchNormalization()
    >>> y = bn(np.random.randn(32, 6), training=True)   # batch stats; moving stats updated
    >>> bn.count_params(), len(bn.trainable_weights)     # gamma, beta + 2 moving stats
    (24, 2)
"""

from __future__ import annotations

import numpy as np

import npgrad.functional as F
from npgrad import initializers, regularizers
from npgrad.distribution import current as distribution_state
from npgrad.layers import arguments
from npgrad.layers.layer import Layer
from npgrad.primitives.sync_batch_norm import sync_batch_norm


def _normalize_axes(layer, axis, input_shape):
    """Positive axes from an int or list, checked against the input's rank."""
    ndim = len(input_shape)
    items = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise arguments.incompatible(layer, f"an input with axis {a} (axis={axis!r})", input_shape)
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{type(layer).__name__} '{layer.name}': repeated axis in {axis!r}")
    return tuple(out)


def check_sizes(layer, shape, axes, sizes):
    """Raise unless the input's sizes along ``axes`` are the ones the layer was built for."""
    if len(shape) != len(layer.input_shape_built) or tuple(shape[a] for a in axes) != sizes:
        expected = ", ".join(f"axis {a} of size {n}" for a, n in zip(axes, sizes))
        raise arguments.incompatible(layer, f"rank {len(layer.input_shape_built)} with {expected}", shape)


class BatchNormalization(Layer):
    """Normalize each feature by batch statistics (training) or moving statistics (inference).

    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``. With ``training=True`` the mean
    and (biased) variance of the batch are used and the moving statistics are updated:
    ``moving = moving * momentum + batch_stat * (1 - momentum)``. A frozen layer
    (``trainable = False``) always runs in inference mode, as in Keras 3.

    Args:
        axis: the feature axis (default -1, channels last).
        momentum: momentum of the moving averages.
        epsilon: added to the variance.
        center: learn an offset ``beta``.
        scale: learn a scale ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer: optional penalties.
        synchronized: in data-parallel training (``npgrad.distribution.DataParallel`` over
            several processes), normalize by the statistics of the global batch, reduced
            across the processes, instead of each process's own slice (Keras 3's flag;
            see docs/distributed.md). Without a distribution it changes nothing.

    Weights, in Keras order: gamma (C,), beta (C,), moving_mean (C,), moving_variance (C,);
    the moving ones are non-trainable.
    Shapes: any -> same.

    A timestep mask (``mask`` of the input's shape without its last axis, e.g. from
    ``Embedding(mask_zero=True)``) passes through, and in training the batch statistics
    leave the masked steps out, as Keras computes them (weighted moments over the real steps;
    every step is still normalized). The feature axis must then be the last one.
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"BatchNormalization: argument `axis` must be an int, got {axis!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: argument `momentum` must be in [0, 1], got {momentum!r}")
        if not epsilon > 0:
            raise ValueError(f"BatchNormalization: argument `epsilon` must be positive, got {epsilon!r}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        if not isinstance(synchronized, (bool, np.bool_)):
            raise TypeError(f"BatchNormalization: argument `synchronized` must be True or False, "
                            f"got {synchronized!r}")
        self.synchronized = bool(synchronized)

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        (axis,) = _normalize_axes(self, self.axis, input_shape)
        channels = input_shape[axis]
        if channels is None:
            raise arguments.incompatible(self, f"a known size on axis {self.axis}", input_shape)
        self._axes = (axis,)
        self._sizes = (int(channels),)
        shape = self._sizes
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                         self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                        self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer, trainable=False)

    def call(self, x, training=False, mask=None, relu=False, relu_cap=None):
        """Normalize ``x``; ``relu=True`` (what model fusion passes for a BatchNormalization
        followed by a ReLU, ``layers/fusion.py``) also applies the ReLU inside the op, capped
        at ``relu_cap`` when given (a following ``ReLU(max_value=...)``)."""
        check_sizes(self, x.shape, self._axes, self._sizes)
        training = bool(training) and self.trainable  # frozen BN runs in inference mode
        if mask is not None and training:
            out = self._masked_training_call(x, mask)
            return F.relu(out, max_value=relu_cap) if relu else out
        data_parallel = distribution_state.active() if self.synchronized and training else None
        if data_parallel is not None:  # the global batch's statistics, reduced over processes
            out = sync_batch_norm(x, self.gamma, self.beta, self.moving_mean,
                                  self.moving_variance, data_parallel.communicator.allreduce_sum,
                                  share=data_parallel.gradient_scale, momentum=self.momentum,
                                  epsilon=self.epsilon, axis=self._axes[0])
            return F.relu(out, max_value=relu_cap) if relu else out
        return F.batch_norm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                            training=training, momentum=self.momentum, epsilon=self.epsilon,
                            axis=self._axes[0], relu=relu, relu_cap=relu_cap)

    def _masked_training_call(self, x, mask):
        """Training with a timestep mask: moments weighted by the mask (Keras's ``_moments``),
        composed from differentiable ops; the moving statistics follow those moments."""
        mask = np.asarray(getattr(mask, "data", mask))
        if mask.shape != tuple(x.shape[:-1]) or self._axes[0] != x.ndim - 1:
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization): a mask must have the input's shape "
                f"without its last (feature) axis, {tuple(x.shape[:-1])}, and the layer must "
                f"normalize the last axis; got a mask of shape {mask.shape} and axis {self.axis}"
            )
        axes = tuple(range(x.ndim - 1))
        weights = np.broadcast_to(mask.astype(x.dtype)[..., None], x.shape)
        count = weights.sum(axis=axes, keepdims=True) + 1e-7  # Keras's backend epsilon
        weighted = x * weights
        mean = F.sum(weighted, axis=axes, keepdims=True) / count
        variance = F.sum(F.square(weighted - mean) * weights, axis=axes, keepdims=True) / count
        out = (x - mean) / F.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma
        if self.beta is not None:
            out = out + self.beta
        momentum = self.momentum
        self.moving_mean.data[...] = (self.moving_mean.data * momentum
                                      + mean.data.reshape(-1) * (1 - momentum))
        self.moving_variance.data[...] = (self.moving_variance.data * momentum
                                          + variance.data.reshape(-1) * (1 - momentum))
        return out

    def compute_output_shape(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        _normalize_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            synchronized=self.synchronized,
        )
        return config


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` by its own mean and variance, then scale and shift.

    Args:
        axis: int or list of ints, the axes normalized over (default -1).
        epsilon: added to the variance.
        center: learn an offset ``beta``.
        scale: learn a scale ``gamma``.
        beta_initializer, gamma_initializer: initializers (zeros, ones).
        beta_regularizer, gamma_regularizer: optional penalties.

    Weights, in Keras order: gamma, beta, each shaped like the normalized axes.
    Shapes: any -> same (a timestep mask passes through).
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            try:
                self.axis = [int(a) for a in axis]
            except TypeError:
                raise TypeError(
                    f"LayerNormalization: argument `axis` must be an int or a list of ints, got {axis!r}"
                ) from None
            if not self.axis:
                raise ValueError("LayerNormalization: argument `axis` must name at least one axis")
        if not epsilon > 0:
            raise ValueError(f"LayerNormalization: argument `epsilon` must be positive, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        self._axes = _normalize_axes(self, self.axis, input_shape)
        if any(input_shape[a] is None for a in self._axes):
            raise arguments.incompatible(self, f"known sizes on axis {self.axis}", input_shape)
        self._sizes = tuple(int(input_shape[a]) for a in self._axes)
        # Keras: an int axis gives (C,), a list gives the sizes of the listed axes in order
        shape = self._sizes
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                         self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                        self.beta_regularizer)

    def call(self, x, training=False):
        check_sizes(self, x.shape, self._axes, self._sizes)
        gamma, beta = self.gamma, self.beta
        axes = tuple(sorted(self._axes))
        if axes != self._axes:
            # Keras reshapes (not transposes) parameters of a listed axis order to the input's
            shape = tuple(self.input_shape_built[a] for a in axes)
            gamma = None if gamma is None else F.reshape(gamma, shape)
            beta = None if beta is None else F.reshape(beta, shape)
        return F.layer_norm(x, gamma, beta, axis=axes, epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        _normalize_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
        )
        return config
