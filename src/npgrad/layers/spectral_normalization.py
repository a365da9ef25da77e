"""SpectralNormalization: a wrapper that divides a layer's kernel by its largest singular value.

Keras 3 semantics (Miyato et al., 2018): in training, one or more power-iteration steps
refine an estimate ``u`` of the kernel's leading right singular vector, the largest
singular value ``sigma = v W u^T`` follows, and the wrapped layer's kernel variable is
*overwritten* by ``W / sigma`` before the layer runs. The update is outside the graph (Keras
stops the gradient through ``u`` and ``v`` and assigns the kernel), so gradients reach the
normalized kernel as an ordinary weight. At inference the layer runs with its current
kernel.

Example:
    >>> sn = SpectralNormalization(npgrad.layers.Dense(8))
    >>> y = sn(np.random.randn(4, 5), training=True)
    >>> [w.name.split("/")[-1] for w in sn.weights]       # Keras's order
    ['kernel', 'vector_u', 'bias']
"""

from __future__ import annotations

import numpy as np

from npgrad import initializers
from npgrad.layers import arguments
from npgrad.layers.layer import Layer, get_layer_class


def _l2_normalize(a):
    """``a / max(||a||, 1e-7)`` over the whole array (Keras's ops.normalize, axis=None)."""
    return a / max(float(np.sqrt(np.sum(np.square(a)))), 1e-7)


class SpectralNormalization(Layer):
    """Spectral normalization of the ``kernel`` (or ``embeddings``) of a wrapped layer.

    Args:
        layer: a Layer with a ``kernel`` (Dense, Conv*) or ``embeddings`` (Embedding) weight.
        power_iterations: power-iteration steps per training call (positive int, default 1).

    Weights, in Keras's order: the wrapped layer's kernel, ``vector_u`` (1, last kernel axis;
    non-trainable, truncated normal with stddev 0.02), then the wrapped layer's other weights.
    Shapes: those of the wrapped layer.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"SpectralNormalization: argument `layer` must be a Layer, "
                            f"got {type(layer).__name__}")
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, (int, np.integer)) \
                or power_iterations <= 0:
            raise ValueError("SpectralNormalization: argument `power_iterations` must be a "
                             f"positive int, got {power_iterations!r}")
        self.layer = layer
        self.power_iterations = int(power_iterations)

    def build(self, input_shape):
        arguments.check_min_ndim(self, input_shape, 1)
        self.layer._maybe_build(tuple(input_shape))
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(f"SpectralNormalization: the wrapped {type(self.layer).__name__} "
                             "has no attribute 'kernel' nor 'embeddings'")
        self._kernel_name = "kernel" if getattr(self.layer, "kernel", None) is kernel else "embeddings"
        self.vector_u = self.add_weight("vector_u", (1, kernel.shape[-1]),
                                        initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, dtype=kernel.dtype)

    @property
    def kernel(self):
        """The wrapped layer's kernel (or embeddings) Tensor."""
        return getattr(self.layer, self._kernel_name)

    @property
    def weights(self):
        """Keras's order: the kernel, ``vector_u``, then the wrapped layer's other weights."""
        inner = self.layer.weights
        if not self.built:
            return inner
        position = next(i for i, w in enumerate(inner) if w is self.kernel) + 1
        return inner[:position] + list(self._own_weights) + inner[position:]

    def normalized_weights(self):
        """The refined ``u`` (1, K) and the kernel divided by its spectral norm, as arrays."""
        kernel = self.kernel.data
        matrix = kernel.reshape(-1, kernel.shape[-1])                    # (M, K)
        u = self.vector_u.data
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ matrix.T)                              # (1, M)
            u = _l2_normalize(v @ matrix)                                # (1, K)
        sigma = (v @ matrix @ u.T)[0, 0]
        return u.astype(self.vector_u.dtype), (kernel / sigma).astype(kernel.dtype)

    def call(self, x, training=False):
        if training and np.any(self.kernel.data != 0):  # an all-zero kernel is left alone
            u, kernel = self.normalized_weights()
            self.vector_u.data[...] = u
            self.kernel.data[...] = kernel
        return self.layer(x, training=training)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["layer"] = {"class_name": type(self.layer).__name__,
                           "config": self.layer.get_config()}
        config["power_iterations"] = self.power_iterations
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        spec = config.pop("layer")
        layer = get_layer_class(spec["class_name"]).from_config(spec["config"])
        return cls(layer, **config)


__all__ = ["SpectralNormalization"]
