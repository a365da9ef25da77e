"""The library's random number generator, and Keras 3's ``keras.random`` functions.

Initializers, dropout masks, data shuffling and augmentation draw from ``generator()``, so
``npgrad.utils.set_random_seed(seed)`` makes a whole training run bitwise reproducible.

The sampling functions (``normal``, ``uniform``, ``randint``, ``truncated_normal``,
``dropout``, ``shuffle``, ``categorical``, ``gamma``, ``beta``, ``binomial``) take ``seed=``
as Keras: None (the global generator), an int (the same draw every call) or a
:class:`SeedGenerator` (a reproducible stream). They return Tensors; floats take
``npgrad.config.floatx()`` unless ``dtype`` is given.
"""

import hashlib
import threading

import numpy as np

from npgrad.autograd.tensor import Tensor, default_float

_generator = np.random.default_rng()
_thread = threading.local()  # .generator: this thread's own stream (a thread replica's)


def generator():
    """Return the ``numpy.random.Generator`` npgrad draws from: the global one, or in a
    thread replica of ``DataParallel(threads=...)`` that replica's own (see
    :func:`set_thread_generator`)."""
    own = getattr(_thread, "generator", None)
    return _generator if own is None else own


def side_streams(count):
    """``count`` generators derived from :func:`generator`'s current state without drawing
    from it (so a seeded run that makes them draws the same numbers afterwards as one that
    does not). The same state gives the same streams."""
    digest = hashlib.sha256(repr(generator().bit_generator.state).encode()).digest()
    entropy = int.from_bytes(digest[:16], "little")
    return [np.random.default_rng(child)
            for child in np.random.SeedSequence(entropy).spawn(count)]


def set_thread_generator(value):
    """Make ``value`` (a ``numpy.random.Generator``, or None for the global one) what
    :func:`generator` returns in the calling thread. The thread replicas of
    ``DataParallel(threads=...)`` draw from streams of their own this way: two threads
    drawing from one generator would take its numbers in whatever order they happen to
    run, and a seeded run would not repeat."""
    _thread.generator = value


def seed(value):
    """Reseed the global generator (use ``npgrad.utils.set_random_seed`` in user code).

    Args:
        value: a non-negative int.
    """
    global _generator
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"seed: expected a non-negative int, got {value!r}")
    _generator = np.random.default_rng(int(value))


def make_generator(seed_value=None):
    """A generator for one consumer: seeded when ``seed_value`` is given, else drawn from the global one."""
    if seed_value is None:
        return np.random.default_rng(generator().integers(2**63))
    return np.random.default_rng(seed_value)


# ------------------------------------------------------------------ Keras 3's keras.random
class SeedGenerator:
    """A stream of random state, as ``keras.random.SeedGenerator``.

    Pass it as ``seed=`` to the sampling functions below (or to layers): each call advances
    it, so calls differ from one another but a generator built with the same ``seed`` replays
    the same sequence.

    Args:
        seed: int, or None to draw one from npgrad's global generator (so
            ``npgrad.utils.set_random_seed`` makes it reproducible).
        name: optional label.

    Example:
        >>> gen = npgrad.random.SeedGenerator(42)
        >>> a = npgrad.random.normal((2,), seed=gen)
        >>> b = npgrad.random.normal((2,), seed=gen)       # different from a
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r}")
        self.name = name or "seed_generator"
        self.initial_seed = int(seed) if seed is not None else int(generator().integers(2**31))
        self.generator = np.random.default_rng(self.initial_seed)

    def next(self, ordered=True):
        """A fresh int seed from the stream (advances it)."""
        return int(self.generator.integers(2**31))

    def get_config(self):
        """``{"seed": initial seed}``."""
        return {"seed": self.initial_seed}

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator seed={self.initial_seed}>"


def draw_from(seed):
    """The NumPy generator a sampling call uses for ``seed``.

    None: npgrad's generator (:func:`generator`). An int: a fresh generator seeded with it, so the same
    int gives the same draw every call (Keras). A :class:`SeedGenerator`: its stream.
    """
    if seed is None:
        return generator()
    if isinstance(seed, SeedGenerator):
        return seed.generator
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise ValueError(f"seed must be None, an int or a SeedGenerator, got {seed!r}")


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else default_float()


def _tensor(array):
    return Tensor(np.asarray(array))


def _shape(shape):
    return (int(shape),) if np.isscalar(shape) else tuple(int(n) for n in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution, as a Tensor of ``shape``."""
    values = draw_from(seed).normal(mean, stddev, _shape(shape))
    return _tensor(values.astype(_float(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniform in [minval, maxval)."""
    values = draw_from(seed).uniform(minval, maxval, _shape(shape))
    return _tensor(values.astype(_float(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in [minval, maxval)."""
    return _tensor(draw_from(seed).integers(minval, maxval, _shape(shape)).astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    rng = draw_from(seed)
    values = rng.standard_normal(_shape(shape))
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return _tensor((mean + stddev * values).astype(_float(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero entries with probability ``rate`` and scale the rest by 1 / (1 - rate)
    (differentiable in ``inputs``)."""
    # imported here: the primitives draw their dropout masks from this module
    from npgrad.primitives import elementwise

    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate!r}")
    data = np.asarray(getattr(inputs, "data", inputs))
    dtype = data.dtype if data.dtype.kind == "f" else _float(None)
    shape = data.shape if noise_shape is None else tuple(
        n if n is not None else data.shape[i] for i, n in enumerate(noise_shape))
    keep = draw_from(seed).random(shape) >= rate
    return elementwise.multiply(inputs, (keep / (1 - rate)).astype(dtype))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in random order (a new constant Tensor)."""
    data = np.asarray(getattr(x, "data", x))
    order = draw_from(seed).permutation(data.shape[axis])
    return _tensor(np.take(data, order, axis=axis))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from softmax(logits) per row: (batch, classes) -> (batch, num_samples)."""
    data = np.asarray(getattr(logits, "data", logits), dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"categorical: logits must be (batch, classes), got shape {data.shape}")
    probs = np.exp(data - data.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    rng = draw_from(seed)
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random((data.shape[0], int(num_samples)))
    samples = (draws[:, :, None] > cumulative[:, None, :]).sum(axis=2)
    return _tensor(np.minimum(samples, data.shape[1] - 1).astype(dtype))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of Gamma(alpha, 1)."""
    return _tensor(draw_from(seed).gamma(alpha, 1.0, _shape(shape)).astype(_float(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):  # noqa: A002 - Keras's name
    """Samples of Beta(alpha, beta)."""
    return _tensor(draw_from(seed).beta(alpha, beta, _shape(shape)).astype(_float(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of Binomial(counts, probabilities), as floats (Keras)."""
    values = draw_from(seed).binomial(np.asarray(counts, dtype=np.int64), probabilities,
                                      _shape(shape))
    return _tensor(values.astype(_float(dtype)))


__all__ = [
    "generator", "set_thread_generator", "side_streams", "seed", "make_generator",
    "SeedGenerator", "draw_from", "normal", "uniform", "randint", "truncated_normal", "dropout",
    "shuffle", "categorical", "gamma", "beta", "binomial",
]  # fmt: skip
