"""GAN: a generator and a discriminator trained against each other, Keras-example style.

Each batch of ``fit`` is two phases (Goodfellow et al. 2014, with the non-saturating
generator loss):

1. **discriminator step**: ``d_loss = (BCE(1 - s, D(x_real)) + BCE(0, D(G(z)))) / 2`` with
   one-sided label smoothing ``s``; only D's trainable weights are updated.
2. **generator step**: ``g_loss = BCE(1, D(G(z)))`` (fakes labelled real); only G's
   trainable weights are updated.

During each phase the *other* network runs in training mode (batch statistics, dropout)
but is held: its weights get no gradient, and its non-trainable weights (batch norm moving
statistics) are restored afterwards, so it stays bit-identical.

Example:
    >>> gan = GAN(generator, discriminator, latent_dim=64)
    >>> gan.compile(d_optimizer=npgrad.optimizers.Adam(2e-4, beta_1=0.5),
    ...             g_optimizer=npgrad.optimizers.Adam(2e-4, beta_1=0.5))
    >>> history = gan.fit(x_train, epochs=10, batch_size=64,
    ...                   callbacks=[GANMonitor("runs/gan")])
    >>> images = gan.generate(16, seed=0)            # ndarray (16, *generator output shape)
    >>> gan.save("runs/gan/gan.npgrad"); gan = npgrad.models.load_model("runs/gan/gan.npgrad")

GAN is a :class:`~npgrad.models.Model` that overrides ``compile`` and ``train_step`` only, as
a Keras 3 GAN does: ``fit``, callbacks, the progress bar, History and saving are Model's.
"""

from __future__ import annotations

import contextlib

import numpy as np

from npgrad import losses as losses_module
from npgrad import metrics as metrics_module
from npgrad import random as npgrad_random
from npgrad.autograd.engine import no_grad
from npgrad.errors import UnreadableFileError
from npgrad.layers.layer import Layer, get_layer_class
from npgrad.models.gan_monitor import GANMonitor, SampleGridCallback, image_grid, save_image  # noqa: F401
from npgrad.models.model import Model
from npgrad.saving import load_model
from npgrad.trainers import arguments
from npgrad.trainers.data_adapter import as_array
from npgrad.utils.packing import unpack_x_y_sample_weight

__all__ = ["GAN", "GANMonitor", "load_gan", "image_grid", "save_image"]


@contextlib.contextmanager
def _frozen_during_the_other_phase(network):
    """Run ``network`` without changing it: no weight gradients, statistics restored.

    Inside the block the network's weights do not require gradients (backward still flows
    *through* it to its inputs, but computes nothing for its weights), and on exit every
    non-trainable weight (batch norm moving mean/variance) gets its old value back.
    """
    weights = network.weights
    flags = [w.requires_grad for w in weights]
    saved = [(w, w.data.copy()) for w in network.non_trainable_weights]
    for w in weights:
        w.requires_grad = False
    try:
        yield
    finally:
        for w, flag in zip(weights, flags):
            w.requires_grad = flag
        for w, value in saved:
            w.data[...] = value


def _scalar(loss):
    return float(np.asarray(loss.data))


class GAN(Model):
    """A generative adversarial network over two models (Keras' DCGAN-example API).

    Args:
        generator: a Model mapping latent vectors ``(N, latent_dim)`` to samples.
        discriminator: a Model mapping samples to one logit per sample ``(N, 1)``.
        latent_dim: size of the latent vectors (standard normal).
        name: model name (default ``'gan'``).

    Attributes:
        generator, discriminator: the two networks.
        d_optimizer, g_optimizer: set by :meth:`compile`.
        label_smoothing: one-sided smoothing of the real labels (``1 - s``).

    Logs (progress bar, History): ``d_loss`` and ``g_loss``, means over the epoch so far.
    """

    def __init__(self, generator, discriminator, latent_dim, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        for arg, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, Layer):
                raise TypeError(
                    f"GAN: {arg} must be a npgrad Model or Layer, got {type(net).__name__}"
                )
        if generator is discriminator:
            raise ValueError("GAN: generator and discriminator must be two different networks")
        self.latent_dim = arguments.positive_int(latent_dim, "latent_dim", "GAN")
        self.generator = generator
        self.discriminator = discriminator
        self.d_optimizer = None
        self.g_optimizer = None
        self.label_smoothing = 0.0
        self._d_loss_tracker = metrics_module.Mean(name="d_loss")
        self._g_loss_tracker = metrics_module.Mean(name="g_loss")

    # ------------------------------------------------------------- compile
    def compile(self, d_optimizer=None, g_optimizer=None, loss=None, label_smoothing=0.0,
                **kwargs):
        """Choose the two optimizers and the adversarial loss.

        Each network is also compiled with its own optimizer (and no loss), so that saving a
        network (``gan.generator.save(...)``) keeps its optimizer state.

        Args:
            d_optimizer: discriminator optimizer (name, config or instance); default
                ``Adam(learning_rate=2e-4, beta_1=0.5)`` (Radford et al. 2015).
            g_optimizer: generator optimizer; same default (a separate instance).
            loss: a Loss over logits; default ``BinaryCrossentropy(from_logits=True)``
                (kept as ``adversarial_loss``).
            label_smoothing: one-sided label smoothing ``s`` in [0, 1): the discriminator's
                real targets are ``1 - s``, fakes stay 0, the generator's targets stay 1.

        Raises:
            ValueError: label_smoothing out of range, or an optimizer shared by both
                networks (their slots and step counts must be separate).
        """
        if kwargs:
            raise TypeError(f"{self.name}.compile: unexpected keyword argument(s) {sorted(kwargs)}")
        from npgrad import optimizers

        smoothing = label_smoothing
        if not isinstance(smoothing, (int, float, np.floating)) or isinstance(smoothing, bool) \
                or not 0.0 <= float(smoothing) < 1.0:
            raise ValueError(
                f"{self.name}.compile: label_smoothing must be a float in [0, 1), got {smoothing!r}"
            )
        self.d_optimizer = optimizers.get(d_optimizer) if d_optimizer is not None \
            else optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
        self.g_optimizer = optimizers.get(g_optimizer) if g_optimizer is not None \
            else optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError(
                f"{self.name}.compile: d_optimizer and g_optimizer must be two optimizer "
                f"instances (a shared one would mix their slots and step counts)"
            )
        self.adversarial_loss = losses_module.as_loss(loss) if loss is not None \
            else losses_module.BinaryCrossentropy(from_logits=True)
        self.label_smoothing = float(label_smoothing)
        for net, optimizer in ((self.generator, self.g_optimizer),
                               (self.discriminator, self.d_optimizer)):
            if isinstance(net, Model):
                net.compile(optimizer=optimizer)
        self.optimizer = None  # two optimizers, one per network (see trained_optimizers)
        self.compiled = True
        self.stop_training = False
        self.compile_config = {
            "d_optimizer": optimizers.serialize(self.d_optimizer),
            "g_optimizer": optimizers.serialize(self.g_optimizer),
            "loss": losses_module.serialize(self.adversarial_loss)
            if _serializable_loss(self.adversarial_loss) else None,
            "label_smoothing": self.label_smoothing,
        }

    # ------------------------------------------------------------- metrics
    @property
    def metrics(self):
        """The two loss trackers, ``d_loss`` and ``g_loss``."""
        return [self._d_loss_tracker, self._g_loss_tracker]

    @property
    def metrics_names(self):
        """``['d_loss', 'g_loss']``."""
        return ["d_loss", "g_loss"]

    # ------------------------------------------------------------- sampling
    def sample_latent(self, n, rng=None):
        """Standard normal latent vectors, float32 of shape (n, latent_dim).

        Args:
            n: number of vectors.
            rng: a ``numpy.random.Generator`` (default: npgrad's global one).
        """
        rng = npgrad_random.generator() if rng is None else rng
        return rng.standard_normal((int(n), self.latent_dim)).astype(self.generator.dtype)

    def call(self, z, training=False):
        """The generator's output for latent vectors ``z`` of shape (N, latent_dim)."""
        return self.generator(z, training=training)

    def generate(self, n, seed=None, batch_size=256):
        """Draw ``n`` samples from the generator (inference mode, no graph).

        Args:
            n: number of samples (>= 1).
            seed: an int makes the latent vectors, hence the samples, reproducible (npgrad's
                global generator is left untouched); None draws from the global generator.
            batch_size: latent vectors per forward pass.

        Returns:
            ndarray of shape (n, *generator output shape), e.g. (n, 28, 28, 1).
        """
        caller = f"{self.name}.generate"
        n = arguments.positive_int(n, "n", caller)
        batch_size = arguments.positive_int(batch_size, "batch_size", caller)
        rng = None if seed is None else np.random.default_rng(seed)
        z = self.sample_latent(n, rng)
        outputs = []
        with no_grad():
            for start in range(0, n, batch_size):
                outputs.append(self.generator(z[start:start + batch_size], training=False).data)
        return np.concatenate(outputs, axis=0)

    # ------------------------------------------------------------- one batch
    def _adversarial_loss(self, target, logits, network):
        labels = np.full(logits.shape, target, dtype=logits.dtype)
        loss = self.adversarial_loss(labels, logits)
        for penalty in network.losses:  # the network's own regularization
            loss = loss + penalty
        return loss

    def train_discriminator_step(self, real_batch):
        """One discriminator update on a real batch and as many fakes; G is unchanged.

        Args:
            real_batch: ndarray (N, ...) of real samples, in the generator's output range.

        Returns:
            float: ``(loss on reals with target 1 - s + loss on fakes with target 0) / 2``.
        """
        real = as_array(real_batch, "real_batch", f"{self.name}.train_step")
        n = len(real)
        with _frozen_during_the_other_phase(self.generator), no_grad():
            fake = self.generator(self.sample_latent(n), training=True).data
        variables = self.discriminator.trainable_weights
        for var in variables:
            var.grad = None
        loss_real = self._adversarial_loss(1.0 - self.label_smoothing,
                                           self.discriminator(real, training=True),
                                           self.discriminator)
        fake_logits = self.discriminator(fake, training=True)
        loss_fake = self.adversarial_loss(np.zeros(fake_logits.shape, dtype=fake_logits.dtype), fake_logits)
        loss = (loss_real + loss_fake) * 0.5
        loss.backward()
        self.d_optimizer.apply_gradients([(v.grad, v) for v in variables if v.grad is not None])
        for var in variables:
            var.grad = None
        return _scalar(loss)

    def train_generator_step(self, batch_size):
        """One generator update with the non-saturating loss; D is unchanged (bit for bit).

        Args:
            batch_size: number of latent vectors.

        Returns:
            float: ``BCE(1, D(G(z)))``.
        """
        variables = self.generator.trainable_weights
        for var in variables:
            var.grad = None
        with _frozen_during_the_other_phase(self.discriminator):
            fake = self.generator(self.sample_latent(batch_size), training=True)
            logits = self.discriminator(fake, training=True)
            loss = self._adversarial_loss(1.0, logits, self.generator)
            loss.backward()
        self.g_optimizer.apply_gradients([(v.grad, v) for v in variables if v.grad is not None])
        for var in variables:
            var.grad = None
        return _scalar(loss)

    def train_step(self, data):
        """One batch: a discriminator step, then a generator step of the same size.

        Args:
            data: the real samples (N, ...), as ``fit(x)`` passes them (no targets).

        Returns:
            Logs: ``{"d_loss", "g_loss"}``, each the mean over the epoch so far.
        """
        self._assert_compiled("train_step")
        real_batch, y, _ = unpack_x_y_sample_weight(data)
        if y is not None:
            raise ValueError(f"{self.name}.fit: a GAN trains on samples only; pass x and no y")
        n = len(real_batch)
        d_loss = self.train_discriminator_step(real_batch)
        g_loss = self.train_generator_step(n)
        self._d_loss_tracker.update_state(d_loss, sample_weight=n)
        self._g_loss_tracker.update_state(g_loss, sample_weight=n)
        return self.get_metrics_result()

    def test_step(self, data):
        """Not defined for a GAN (no target to score): raises NotImplementedError."""
        raise NotImplementedError(
            f"{self.name}: a GAN has no evaluation loss; measure samples from generate() instead"
        )

    # ------------------------------------------------------------- structure and config
    def build(self, input_shape=None):
        """Build both networks: the generator on latent vectors, the discriminator on its
        output (one zero sample, no graph)."""
        with no_grad():
            fake = self.generator(np.zeros((1, self.latent_dim), dtype=self.generator.dtype),
                                  training=False)
            self.discriminator(fake, training=False)
        self.built = True
        self.input_shape_built = (None, self.latent_dim)

    def get_config(self):
        """``latent_dim``, the name and both networks' configs (Keras's nested format)."""
        return {"name": self.name, "latent_dim": self.latent_dim,
                "generator": {"class_name": type(self.generator).__name__,
                              "config": self.generator.get_config()},
                "discriminator": {"class_name": type(self.discriminator).__name__,
                                  "config": self.discriminator.get_config()}}

    @classmethod
    def from_config(cls, config):
        """Rebuild a GAN (and both networks, from registered classes only) from its config."""
        config = dict(config)
        networks = {}
        for key in ("generator", "discriminator"):
            spec = config.pop(key, None)
            if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
                    or not isinstance(spec.get("config"), dict):
                raise ValueError(f"GAN.from_config: {key!r} must be a {{'class_name', 'config'}} "
                                 f"dict, got {spec!r}")
            networks[key] = get_layer_class(spec["class_name"]).from_config(spec["config"])
        return cls(networks["generator"], networks["discriminator"], **config)

    @classmethod
    def load(cls, filepath, compile=True):  # noqa: A002 - Keras' argument name
        """Load a GAN saved by ``save`` (:func:`npgrad.saving.load_model`); files written by
        npgrad's first GAN format load too."""
        model = load_model(filepath, compile=compile)
        if not isinstance(model, cls):
            raise UnreadableFileError(filepath, f"not an npgrad GAN file: it holds a "
                                                f"{type(model).__name__}")
        return model


def load_gan(filepath, compile=True):  # noqa: A002 - Keras' argument name
    """Load a GAN written by ``GAN.save`` (same as :meth:`GAN.load`)."""
    return GAN.load(filepath, compile=compile)


def _serializable_loss(loss):
    try:
        losses_module.serialize(loss)
    except ValueError:
        return False
    return True
