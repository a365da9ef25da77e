"""Numerical and categorical preprocessing: Normalization, Discretization, CategoryEncoding,
Hashing (Keras 3 names, arguments and outputs; NumPy only).

``Normalization`` and ``Discretization`` learn their state with ``adapt(data)`` (an array
or an iterable of batches) or take it as constructor arguments. ``Normalization`` is
differentiable with respect to its input; the others output integer codes or counts
(constants of the graph).

Example:
    >>> norm = Normalization()
    >>> norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> norm(np.array([[1.0, 20.0]])).numpy()
    array([[0., 0.]], dtype=float32)
    >>> CategoryEncoding(4, output_mode="multi_hot")(np.array([[0, 2], [3, 3]])).numpy()
    array([[1., 0., 1., 0.],
           [0., 0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.axes import positive_axes
from npgrad.layers.layer import Layer
from npgrad.layers.string_hashing import fingerprint64, siphash64

_KERAS_EPSILON = 1e-7  # keras.config.epsilon()
_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def _raw(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _batches(data, who):
    """An ndarray as one batch, or the batches of an iterable (``(x, y)`` tuples give x)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        return [data]
    if not hasattr(data, "__iter__") or isinstance(data, (str, bytes)):
        raise TypeError(f"{who}.adapt: expected an array or an iterable of batches, "
                        f"got {type(data).__name__}")
    batches = []
    for batch in data:
        if isinstance(batch, tuple):
            batch = batch[0]
        batches.append(np.asarray(_raw(batch)))
    if not batches:
        raise ValueError(f"{who}.adapt: the iterable yielded no batch")
    return batches


def _choice(value, allowed, layer_cls, arg):
    if value not in allowed:
        raise ValueError(f"{layer_cls}: argument `{arg}` must be one of {list(allowed)}, got {value!r}")
    return value


def encode_categorical(indices, output_mode, depth, dtype="float32", count_weights=None):
    """Encode integer codes as Keras's ``encode_categorical_inputs`` does.

    Args:
        indices: integer array of codes in ``[0, depth)``.
        output_mode: 'int' (as given), 'one_hot' (a trailing axis of size 1 is replaced by
            ``depth``, otherwise one is appended), 'multi_hot' (1 where a code occurs along
            the last axis) or 'count' (how often; weighted by ``count_weights``).
        depth: number of codes.
        dtype: output dtype of the encodings.

    Returns:
        An ndarray: codes for 'int', else (..., depth) encodings (a rank-0 or rank-1 input
        counts as one sample).
    """
    indices = np.asarray(indices)
    if output_mode == "int":
        return indices
    if indices.size and (indices.min() < 0 or indices.max() >= depth):
        raise ValueError(f"codes must lie in [0, {depth}) for output_mode={output_mode!r}, "
                         f"got values in [{indices.min()}, {indices.max()}]")
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "one_hot":
        if indices.shape[-1] == 1 and indices.ndim > 1:
            indices = indices[..., 0]
        return (indices[..., None] == np.arange(depth)).astype(dtype)
    squeeze = indices.ndim == 1
    rows = indices.reshape(-1, indices.shape[-1]) if indices.ndim > 1 else indices[None]
    out = np.zeros((rows.shape[0], depth), dtype=np.float64)
    weights = np.ones(rows.shape) if count_weights is None else np.broadcast_to(
        np.asarray(count_weights, dtype=np.float64).reshape(-1, rows.shape[-1]), rows.shape)
    np.add.at(out, (np.arange(rows.shape[0])[:, None], rows), weights)
    if output_mode == "multi_hot":
        out = (out > 0).astype(np.float64)
    out = out.reshape(indices.shape[:-1] + (depth,)) if not squeeze else out[0]
    return out.astype(dtype)


# ------------------------------------------------------------------ Normalization


def _int_zeros(shape, dtype=None):
    """Zeros of an integer dtype (the float initializers refuse one)."""
    return np.zeros(shape, dtype=dtype)


class Normalization(Layer):
    """Standardize features: ``(x - mean) / max(sqrt(variance), 1e-7)``.

    The statistics come from ``adapt(data)`` (computed over every axis not in ``axis``;
    batches of an iterable are merged exactly) or from the ``mean`` / ``variance``
    arguments. ``invert=True`` maps standardized values back: ``mean + x * sqrt(variance)``.

    Args:
        axis: the axes kept (one statistic per position along them): an int, a list, or None
            for one scalar mean and variance (default -1, per feature).
        mean, variance: optional fixed statistics (scalars or arrays broadcastable to the
            kept axes); both or neither.
        invert: apply the inverse transformation.

    Weights (adapted layers only, non-trainable, Keras's order): mean and variance, shaped
    like the kept axes, and count (int, shape ()), which Keras keeps at 0.
    Shapes: any -> same.
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        else:
            try:
                axis = tuple(int(a) for a in axis)
            except (TypeError, ValueError):
                raise TypeError("Normalization: argument `axis` must be an int, a list of ints "
                                f"or None, got {axis!r}") from None
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both `mean` and `variance` or neither, got "
                             f"mean={mean!r}, variance={variance!r}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("Normalization: `mean` and `variance` must have the same shape, "
                                 f"got {np.shape(mean)} and {np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"Normalization: `mean` has rank {np.ndim(mean)}, more than the "
                                 f"{len(self.axis)} kept axes (axis={self.axis})")
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        self.invert = bool(invert)
        self.adapted = mean is not None

    def build(self, input_shape):
        ndim = len(input_shape)
        self._keep = positive_axes(self, list(self.axis), input_shape) if self.axis else ()
        for d in self._keep:
            arguments.known_axis(self, input_shape, d, f"kept axis {d}")
        self._reduce = tuple(d for d in range(ndim) if d not in self._keep)
        self._broadcast = tuple(int(input_shape[d]) if d in self._keep else 1 for d in range(ndim))
        self._stat_shape = tuple(int(input_shape[d]) for d in self._keep)
        self._rank = ndim
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", self._stat_shape, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", self._stat_shape, "ones",
                                                  trainable=False)
            self.count = self.add_weight("count", (), _int_zeros, trainable=False,
                                         dtype="int32")
        else:
            # a statistic of rank r fills the last r kept axes (Keras)
            expanded = [1] * ndim
            for i in range(1, self.input_mean.ndim + 1):
                expanded[self._keep[-i]] = self.input_mean.shape[-i]
            self._fixed = [np.broadcast_to(v.reshape(expanded), self._broadcast)
                           for v in (self.input_mean, self.input_variance)]

    def adapt(self, data):
        """Compute the mean and variance of ``data`` (an array or an iterable of batches)."""
        batches = _batches(data, "Normalization")
        if not self.built:
            self._maybe_build(batches[0].shape)
        total_mean = np.zeros(self._stat_shape)
        total_var = np.zeros(self._stat_shape)
        total_count = 0
        for batch in batches:
            batch = batch.astype(np.float64)
            if batch.ndim != self._rank or any(batch.shape[d] != self._broadcast[d]
                                               for d in self._keep):
                raise arguments.incompatible(self, f"batches shaped like {self.input_shape_built} "
                                                   "on the kept axes", batch.shape)
            count = int(np.prod([batch.shape[d] for d in self._reduce])) if self._reduce else 1
            mean = batch.mean(axis=self._reduce)
            var = batch.var(axis=self._reduce)
            # merge the moments of two disjoint sets (Chan et al.)
            total_count += count
            weight = count / total_count
            new_mean = total_mean * (1 - weight) + mean * weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - weight)
                         + (var + (mean - new_mean) ** 2) * weight)
            total_mean = new_mean
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}' (Normalization): adapt() cannot override the "
                             "`mean` and `variance` given to the constructor")
        self.adapt_mean.data[...] = total_mean
        self.adapt_variance.data[...] = total_var
        self.adapted = True

    def _statistics(self):
        if self.input_mean is not None:
            return self._fixed
        return [w.data.reshape(self._broadcast) for w in (self.adapt_mean, self.adapt_variance)]

    def call(self, x, training=False):
        if x.ndim != self._rank or any(x.shape[d] != self._broadcast[d] for d in self._keep):
            raise arguments.incompatible(self, f"rank {self._rank} with sizes "
                                               f"{self._stat_shape} on axes {self._keep}", x.shape)
        mean, variance = self._statistics()
        std = np.maximum(np.sqrt(variance), _KERAS_EPSILON).astype(x.dtype)
        mean = mean.astype(x.dtype)
        if self.invert:
            return x * std + mean
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=list(self.axis), invert=self.invert,
            mean=None if self.input_mean is None else self.input_mean.tolist(),
            variance=None if self.input_variance is None else self.input_variance.tolist(),
        )
        return config


# ------------------------------------------------------------------ Discretization


def _summarize(values, epsilon):
    """Approximate-quantile summary of values: (2, K) rows of values and their weights."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size * epsilon, 1)
    picked = values[int(step - 1)::int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def _compress(summary, epsilon):
    """Re-bin a summary at cumulative-weight fractions epsilon, 2 epsilon, ..., 1."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    fractions = cumulative / cumulative[-1]
    bins = np.interp(percents, fractions, summary[0])
    cumulative = np.interp(percents, fractions, cumulative)
    weights = cumulative - np.concatenate(([0.0], cumulative[:-1]))
    return np.stack((bins, weights)).astype("float32")


class Discretization(Layer):
    """Bucket values into ranges: code ``i`` for ``boundaries[i-1] <= x < boundaries[i]``.

    Boundaries are given (``bin_boundaries``) or learned by ``adapt`` as approximate
    quantiles of the data, with the same summary-and-interpolate algorithm as Keras (so
    the same boundaries): ``num_bins`` bins, precision ``epsilon``.

    Args:
        bin_boundaries: sorted list of boundaries (K boundaries give K + 1 bins).
        num_bins: number of bins to learn with ``adapt`` (instead of ``bin_boundaries``).
        epsilon: precision of the learned quantiles (default 0.01).
        output_mode: 'int' (bin codes), 'one_hot', 'multi_hot' or 'count'.
        sparse: must be False (NumPy has no sparse tensors).

    Shapes: any -> same ('int', int64 codes), or (..., num_bins) encodings.
    """

    cast_inputs = False

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        super().__init__(**kwargs)
        if sparse:
            raise ValueError("Discretization: sparse=True is not supported (NumPy only)")
        if (bin_boundaries is None) == (num_bins is None):
            raise ValueError("Discretization: give exactly one of `bin_boundaries` and "
                             f"`num_bins`, got {bin_boundaries!r} and {num_bins!r}")
        if num_bins is not None:
            num_bins = arguments.positive_int(num_bins, "Discretization", "num_bins")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b > c for b, c in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError(f"Discretization: `bin_boundaries` must be sorted, got {bin_boundaries}")
        if not 0 < epsilon < 1:
            raise ValueError(f"Discretization: argument `epsilon` must be in (0, 1), got {epsilon!r}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = float(epsilon)
        self.output_mode = _choice(output_mode, _OUTPUT_MODES, "Discretization", "output_mode")
        self.sparse = False

    def adapt(self, data):
        """Learn ``num_bins`` quantile boundaries from ``data`` (an array or batches)."""
        if self.num_bins is None:
            raise ValueError(f"Layer '{self.name}' (Discretization): adapt() needs `num_bins`; "
                             "the layer was given fixed `bin_boundaries`")
        summary = np.zeros((2, 0), dtype="float32")
        for batch in _batches(data, "Discretization"):
            part = _summarize(batch.astype("float32"), self.epsilon)
            merged = np.concatenate((part, summary), axis=1)
            summary = _compress(merged[:, np.argsort(merged[0], kind="stable")], self.epsilon)
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, x, training=False):
        if self.bin_boundaries is None:
            raise ValueError(f"Layer '{self.name}' (Discretization): call adapt() or give "
                             "`bin_boundaries` before using the layer")
        codes = np.digitize(_raw(x), np.asarray(self.bin_boundaries, dtype=np.float64))
        depth = len(self.bin_boundaries) + 1
        out = encode_categorical(codes.astype(np.int64), self.output_mode, depth)
        return Tensor(out)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return _encoded_shape(input_shape, self.output_mode, depth)

    def get_config(self):
        config = super().get_config()
        config.update(bin_boundaries=self.bin_boundaries, num_bins=self.num_bins,
                      epsilon=self.epsilon, output_mode=self.output_mode, sparse=self.sparse)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("num_bins") is not None and config.get("bin_boundaries") is not None:
            boundaries = config.pop("bin_boundaries")  # an adapted layer: restore its bins
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)


def _encoded_shape(input_shape, output_mode, depth):
    shape = tuple(input_shape)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (depth,)
    return (shape[:-1] if len(shape) > 1 else ()) + (depth,)


# ------------------------------------------------------------------ CategoryEncoding


class CategoryEncoding(Layer):
    """Encode integer codes in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: number of codes.
        output_mode: 'multi_hot' (default; Keras's older 'binary' is taken for it),
            'one_hot' or 'count'.
        sparse: must be False.

    Call: ``layer(codes, count_weights=None)``; ``count_weights`` (the codes' shape) weights
    the counts in 'count' mode.
    Shapes: 'one_hot': (..., 1) or (...) -> (..., num_tokens); 'multi_hot'/'count':
    (N, K) -> (N, num_tokens), (K,) -> (num_tokens,).
    """

    cast_inputs = False

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not supported (NumPy only)")
        if num_tokens is None:
            raise ValueError("CategoryEncoding: argument `num_tokens` is required")
        self.num_tokens = arguments.positive_int(num_tokens, "CategoryEncoding", "num_tokens")
        self.output_mode = _choice(arguments.output_mode(output_mode),
                                   ("one_hot", "multi_hot", "count"), "CategoryEncoding",
                                   "output_mode")
        self.sparse = False

    def call(self, x, training=False, count_weights=None):
        codes = _raw(x)
        if codes.dtype.kind == "f":
            if not np.all(codes == np.round(codes)):
                raise ValueError(f"Layer '{self.name}' (CategoryEncoding): expected integer codes")
            codes = codes.astype(np.int64)
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"Layer '{self.name}' (CategoryEncoding): `count_weights` only "
                             "applies to output_mode='count'")
        try:
            out = encode_categorical(codes, self.output_mode, self.num_tokens, self.dtype,
                                     None if count_weights is None else _raw(count_weights))
        except ValueError as error:
            raise ValueError(f"Layer '{self.name}' (CategoryEncoding): {error}") from None
        return Tensor(out)

    def compute_output_shape(self, input_shape):
        return _encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode, sparse=self.sparse)
        return config


# ------------------------------------------------------------------ Hashing


def salt_arg(salt, layer_cls):
    """Keras's salt: None, an int (used for both key words) or a pair of ints -> [k0, k1]."""
    if salt is None:
        return None
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    if isinstance(salt, (list, tuple)) and len(salt) == 2 and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in salt):
        return [int(s) for s in salt]
    raise ValueError(f"{layer_cls}: argument `salt` must be an int or a pair of ints, got {salt!r}")


def hash_bytes(value):
    """The bytes TensorFlow hashes for a value: UTF-8 text, integers (and floats, truncated
    to int64 first) in decimal, as ``tf.as_string``."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (float, np.floating)):
        value = int(value)  # truncation toward zero, as a cast to int64
    if isinstance(value, (np.integer, np.bool_)):
        value = int(value)
    return str(value).encode("utf-8")


def hash_to_bins(values, num_bins, salt=None):
    """Keras's hash buckets of every element: ``Fingerprint64(text) % num_bins`` (FarmHash,
    ``tf.strings.to_hash_bucket_fast``), or ``SipHash-2-4(salt, text) % num_bins`` with a salt
    (``to_hash_bucket_strong``).

    Returns:
        int64 array of ``values``'s shape.
    """
    array = np.asarray(values, dtype=object)
    if salt is None:
        codes = [fingerprint64(hash_bytes(v)) % num_bins for v in array.reshape(-1).tolist()]
    else:
        codes = [siphash64(salt, hash_bytes(v)) % num_bins for v in array.reshape(-1).tolist()]
    return np.array(codes, dtype=np.int64).reshape(array.shape)


class Hashing(Layer):
    """Map strings or integers to ``num_bins`` bins by hashing (the hashing trick), as Keras.

    Code ``Fingerprint64(x) % num_bins`` (FarmHash, the bins of Keras and TensorFlow), or
    SipHash-2-4 keyed by ``salt``; with ``mask_value``, inputs equal to it get code 0 and
    the others ``1 + hash(x) % (num_bins - 1)``. Integers are hashed as their decimal text
    and floats are truncated to integers first, as Keras. See :func:`hash_to_bins`.

    Args:
        num_bins: number of bins (including the mask bin).
        mask_value: optional value mapped to 0.
        salt: optional int (used for both key words) or pair of ints: SipHash instead.
        output_mode: 'int' (default), 'one_hot', 'multi_hot' or 'count'.
        sparse: must be False.

    Shapes: any -> same ('int', int64), or encodings of size num_bins.
    """

    cast_inputs = False
    #: takes arrays of str/bytes (a model starting with it must pass them through)
    accepts_strings = True

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        if sparse:
            raise ValueError("Hashing: sparse=True is not supported (NumPy only)")
        self.num_bins = arguments.positive_int(num_bins, "Hashing", "num_bins")
        if mask_value is not None and self.num_bins < 2:
            raise ValueError("Hashing: `num_bins` must be >= 2 with a `mask_value`")
        self.mask_value = mask_value
        self.salt = salt_arg(salt, "Hashing")
        self.output_mode = _choice(output_mode, _OUTPUT_MODES, "Hashing", "output_mode")
        self.sparse = False

    def _prepare_input(self, x):
        return np.asarray(_raw(x))  # strings pass through; hashing needs no Tensor

    def call(self, x, training=False):
        values = np.asarray(x)
        bins = self.num_bins if self.mask_value is None else self.num_bins - 1
        codes = hash_to_bins(values, bins, self.salt)
        if self.mask_value is not None:
            codes = np.where(values == self.mask_value, 0, codes + 1)
        return Tensor(encode_categorical(codes, self.output_mode, self.num_bins))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return _encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, mask_value=self.mask_value, salt=self.salt,
                      output_mode=self.output_mode, sparse=self.sparse)
        return config


__all__ = ["Normalization", "Discretization", "CategoryEncoding", "Hashing", "encode_categorical",
           "hash_to_bins", "hash_bytes", "salt_arg"]
