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
    >>> gan.save("runs/gan/gan.npgrad"); gan = GAN.load("runs/gan/gan.npgrad")
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile

import numpy as np

from npgrad import losses as losses_module
from npgrad import metrics as metrics_module
from npgrad import random as npgrad_random
from npgrad.autograd.engine import no_grad
from npgrad.callbacks import Callback
from npgrad.layers.layer import Layer
from npgrad.models.model import Model, _as_array, _batches, _positive_int, _verbosity

__all__ = ["GAN", "GANMonitor", "load_gan", "image_grid", "save_image"]

GAN_MAGIC = b"NPGRADGAN"
GAN_FORMAT_VERSION = 1
_MARKER_KEY = "__npgrad_gan__"


@contextlib.contextmanager
def _held(network):
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
        self.latent_dim = _positive_int(latent_dim, "latent_dim", "GAN")
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
            loss: a Loss over logits; default ``BinaryCrossentropy(from_logits=True)``.
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
        self.loss = losses_module.as_loss(loss) if loss is not None \
            else losses_module.BinaryCrossentropy(from_logits=True)
        self.label_smoothing = float(label_smoothing)
        for net, optimizer in ((self.generator, self.g_optimizer),
                               (self.discriminator, self.d_optimizer)):
            if isinstance(net, Model):
                net.compile(optimizer=optimizer)
        self.optimizer = None  # two optimizers; Model.fit's single one is not used
        self.compiled = True
        self.stop_training = False
        self.compile_config = {
            "loss": losses_module.serialize(self.loss) if _serializable_loss(self.loss) else None,
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

    def get_metrics_result(self):
        """``{"d_loss": ..., "g_loss": ...}``: the means over the batches since the last reset."""
        return {m.name: float(m.result()) for m in self.metrics}

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
        owner = f"{self.name}.generate"
        n = _positive_int(n, "n", owner)
        batch_size = _positive_int(batch_size, "batch_size", owner)
        rng = None if seed is None else np.random.default_rng(seed)
        z = self.sample_latent(n, rng)
        outputs = []
        with no_grad():
            for index in _batches(n, batch_size):
                outputs.append(self.generator(z[index], training=False).data)
        return np.concatenate(outputs, axis=0)

    # ------------------------------------------------------------- one batch
    def _adversarial_loss(self, target, logits, network):
        labels = np.full(logits.shape, target, dtype=logits.dtype)
        loss = self.loss(labels, logits)
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
        real = _as_array(real_batch, "real_batch", f"{self.name}.train_step")
        n = len(real)
        with _held(self.generator), no_grad():
            fake = self.generator(self.sample_latent(n), training=True).data
        variables = self.discriminator.trainable_weights
        for var in variables:
            var.grad = None
        loss_real = self._adversarial_loss(1.0 - self.label_smoothing,
                                           self.discriminator(real, training=True),
                                           self.discriminator)
        fake_logits = self.discriminator(fake, training=True)
        loss_fake = self.loss(np.zeros(fake_logits.shape, dtype=fake_logits.dtype), fake_logits)
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
        with _held(self.discriminator):
            fake = self.generator(self.sample_latent(batch_size), training=True)
            logits = self.discriminator(fake, training=True)
            loss = self._adversarial_loss(1.0, logits, self.generator)
            loss.backward()
        self.g_optimizer.apply_gradients([(v.grad, v) for v in variables if v.grad is not None])
        for var in variables:
            var.grad = None
        return _scalar(loss)

    def train_step(self, real_batch, y=None, sample_weight=None):
        """One batch: a discriminator step, then a generator step of the same size.

        Args:
            real_batch: ndarray (N, ...) of real samples.
            y, sample_weight: ignored (accepted so ``train_on_batch``-style callers work).

        Returns:
            Logs: ``{"d_loss", "g_loss"}``, each the mean over the epoch so far.
        """
        self._assert_compiled("train_step")
        n = len(real_batch)
        d_loss = self.train_discriminator_step(real_batch)
        g_loss = self.train_generator_step(n)
        self._d_loss_tracker.update_state(d_loss, sample_weight=n)
        self._g_loss_tracker.update_state(g_loss, sample_weight=n)
        return self.get_metrics_result()

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One :meth:`train_step` on exactly this batch of real samples (trackers reset first).

        Returns:
            ``[d_loss, g_loss]`` for this batch, or a dict with ``return_dict=True``.
        """
        self._assert_compiled("train_on_batch")
        self.reset_metrics()
        logs = self.train_step(_as_array(x, "x", f"{self.name}.train_on_batch"))
        return logs if return_dict else [logs["d_loss"], logs["g_loss"]]

    # ------------------------------------------------------------- loop
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            shuffle=True, initial_epoch=0, steps_per_epoch=None, **kwargs):
        """Train for a number of epochs over the real samples ``x``.

        Args:
            x: real samples, ndarray (N, ...) in the generator's output range.
            y: must be None (a GAN has no targets).
            batch_size: real samples per step (default 32); each step also draws as many
                latent vectors for each phase.
            epochs: index of the last epoch (training runs ``initial_epoch .. epochs - 1``).
            verbose: ``'auto'`` (= 1), 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: list of callbacks (e.g. :class:`GANMonitor`).
            shuffle: reshuffle ``x`` every epoch (npgrad's seeded generator).
            initial_epoch: epoch to start from.
            steps_per_epoch: batches per epoch (default all of ``x``).

        Returns:
            The :class:`~npgrad.callbacks.History` with ``d_loss`` and ``g_loss`` per epoch.

        Raises:
            RuntimeError: not compiled. ValueError: no/empty x, y given, bad arguments.
        """
        self._assert_compiled("fit")
        owner = f"{self.name}.fit"
        if kwargs:
            raise TypeError(f"{owner}: unsupported argument(s) for a GAN: {sorted(kwargs)}")
        if y is not None:
            raise ValueError(f"{owner}: a GAN trains on samples only; pass x and no y")
        x = _as_array(x, "x", owner)
        if x is None or len(x) == 0:
            raise ValueError(f"{owner}: x (the real samples) is required and must not be empty")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size", owner)
        verbose = _verbosity(verbose, owner)
        epochs = int(epochs)
        steps, callbacks = self._begin_training(len(x), batch_size, steps_per_epoch, callbacks,
                                                verbose, epochs, owner)
        logs = {}
        for epoch in range(int(initial_epoch), epochs):
            logs = self._train_epoch(epoch, len(x), batch_size, steps, shuffle, callbacks,
                                     lambda index: self.train_step(x[index])) or logs
            logs = dict(logs)
            callbacks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        if epochs > int(initial_epoch):
            self._finalize_variable_values()
        callbacks.on_train_end(logs)
        return callbacks.history

    def _finalize_variable_values(self):
        """Each optimizer with ``use_ema`` copies its averages into its network."""
        self.d_optimizer.finalize_variable_values(self.discriminator.trainable_weights)
        self.g_optimizer.finalize_variable_values(self.generator.trainable_weights)

    def evaluate(self, *args, **kwargs):
        """Not defined for a GAN (no target to score): raises NotImplementedError."""
        raise NotImplementedError(
            f"{self.name}: a GAN has no evaluation loss; measure samples from generate() instead"
        )

    def get_config(self):
        """``latent_dim`` and the name (the networks are saved by :meth:`save`)."""
        return {"name": self.name, "latent_dim": self.latent_dim}

    # ------------------------------------------------------------- saving
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save both networks, ``latent_dim`` and the compile settings to one file, atomically.

        The file is an ``.npz`` (zip) read with ``allow_pickle=False``: ``__npgrad_gan__``
        (marker), ``gan.json`` (uint8 UTF-8 JSON: latent_dim, loss, label_smoothing) and
        ``generator`` / ``discriminator``: the bytes (uint8) of each network's own npgrad
        model file, as :func:`npgrad.saving.save_model` writes it (weights, batch norm
        statistics, optimizer state). It is written to a temporary file and renamed.

        Args:
            filepath: destination (any extension; nothing is appended).
            overwrite: False raises ``FileExistsError`` when the file exists.
            include_optimizer: also save both optimizers' state (so a resumed fit continues).
        """
        from npgrad import saving
        from npgrad.saving.atomic import atomic_savez

        if not overwrite and os.path.exists(os.fspath(filepath)):
            raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite=False")
        meta = {"class_name": type(self).__name__, "format_version": GAN_FORMAT_VERSION,
                "name": self.name, "latent_dim": self.latent_dim,
                "compile": self.compile_config if self.compiled else None}
        arrays = {_MARKER_KEY: np.frombuffer(GAN_MAGIC + bytes([GAN_FORMAT_VERSION]), np.uint8),
                  "gan.json": np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)}
        with tempfile.TemporaryDirectory() as folder:
            for key, net in (("generator", self.generator), ("discriminator", self.discriminator)):
                path = os.path.join(folder, f"{key}.npgrad")
                saving.save_model(net, path, include_optimizer=include_optimizer)
                with open(path, "rb") as file:
                    arrays[key] = np.frombuffer(file.read(), dtype=np.uint8)
        atomic_savez(filepath, arrays)

    @classmethod
    def load(cls, filepath, compile=True):  # noqa: A002 - Keras' argument name
        """Rebuild a GAN saved by :meth:`save` (see :func:`load_gan`)."""
        return load_gan(filepath, compile=compile)


def _serializable_loss(loss):
    try:
        losses_module.serialize(loss)
    except ValueError:
        return False
    return True


def load_gan(filepath, compile=True):  # noqa: A002 - Keras' argument name
    """Load a GAN written by :meth:`GAN.save`.

    Args:
        filepath: the file.
        compile: compile the GAN with the saved loss and label smoothing, the networks'
            optimizers restored with their state (when it was compiled at save time).

    Returns:
        The GAN; ``generate(n, seed=s)`` gives exactly what the saved one gave.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an npgrad GAN file, or a broken network inside it (named).
    """
    from npgrad import saving

    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    with open(path, "rb") as file:
        head = file.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):  # never let np.load consider pickle
        raise ValueError(f"{path!r} is not an npgrad GAN file: it starts with {head!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            entries = {name: archive[name] for name in archive.files}
    except Exception as error:  # noqa: BLE001 - any parse failure of untrusted bytes
        raise ValueError(
            f"{path!r} is not an npgrad GAN file: {type(error).__name__}: {error}"
        ) from None
    missing = {_MARKER_KEY, "gan.json", "generator", "discriminator"} - set(entries)
    if missing:
        raise ValueError(f"{path!r} is not an npgrad GAN file: missing {sorted(missing)}")
    marker = entries[_MARKER_KEY]
    if marker.dtype != np.uint8 or bytes(marker[:len(GAN_MAGIC)]) != GAN_MAGIC:
        raise ValueError(f"{path!r} is not an npgrad GAN file: bad marker")
    if len(marker) != len(GAN_MAGIC) + 1 or marker[-1] > GAN_FORMAT_VERSION:
        raise ValueError(f"{path!r}: unsupported GAN file format version")
    try:
        meta = json.loads(bytes(entries["gan.json"]).decode("utf-8"))
        latent_dim, name = int(meta["latent_dim"]), meta.get("name")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path!r}: bad gan.json: {type(error).__name__}: {error}") from None
    networks = {}
    with tempfile.TemporaryDirectory() as folder:
        for key in ("generator", "discriminator"):
            inner = os.path.join(folder, f"{key}.npgrad")
            with open(inner, "wb") as file:
                file.write(entries[key].tobytes())
            try:
                networks[key] = saving.load_model(inner, compile=compile)
            except ValueError as error:
                raise ValueError(f"{path!r}: cannot load the {key}: {error}") from None
    gan = GAN(networks["generator"], networks["discriminator"], latent_dim, name=name)
    config = meta.get("compile")
    if compile and isinstance(config, dict):
        loss = config.get("loss")
        gan.compile(d_optimizer=getattr(networks["discriminator"], "optimizer", None),
                    g_optimizer=getattr(networks["generator"], "optimizer", None),
                    loss=losses_module.deserialize(loss) if loss is not None else None,
                    label_smoothing=float(config.get("label_smoothing", 0.0)))
    return gan


# ------------------------------------------------------------------ sample grids
def image_grid(images, columns=None, value_range=(-1.0, 1.0), padding=1):
    """Tile images into one uint8 picture (row-major), with a black border between tiles.

    Args:
        images: ndarray (N, H, W), (N, H, W, 1) or (N, H, W, 3); values in ``value_range``
            (clipped).
        columns: tiles per row (default ``ceil(sqrt(N))``).
        value_range: (low, high) mapped to 0 and 255.
        padding: pixels between tiles and around the grid.

    Returns:
        uint8 ndarray (rows*(H+p)+p, columns*(W+p)+p) for grayscale, with a trailing axis of
        3 for RGB.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3) \
            or len(images) == 0:
        raise ValueError(
            f"image_grid: expected images (N, H, W[, 1 or 3]), got shape {images.shape}"
        )
    low, high = float(value_range[0]), float(value_range[1])
    if not high > low:
        raise ValueError(
            f"image_grid: value_range must be (low, high) with high > low, got {value_range}"
        )
    n, height, width = images.shape[:3]
    columns = int(columns or math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    scaled = np.clip((images - low) / (high - low), 0.0, 1.0) * 255.0
    scaled = np.round(scaled).astype(np.uint8)
    grid = np.zeros((rows * (height + padding) + padding, columns * (width + padding) + padding)
                    + images.shape[3:], dtype=np.uint8)
    for index in range(n):
        r, c = divmod(index, columns)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top:top + height, left:left + width] = scaled[index]
    return grid


def save_image(path, image):
    """Save a uint8 image (H, W) or (H, W, 3) as PNG: matplotlib if installed, else write_png."""
    try:
        import matplotlib.image
    except ImportError:
        from npgrad.utils.png import write_png

        write_png(path, image)
        return
    if image.ndim == 2:
        matplotlib.image.imsave(path, image, cmap="gray", vmin=0, vmax=255)
    else:
        matplotlib.image.imsave(path, image)


class GANMonitor(Callback):
    """Write a grid of generated samples to a PNG at the end of every ``every`` epochs.

    The same latent vectors (drawn from ``seed``) are used each time, so the grids show how
    the generator's answer to fixed inputs evolves. Images are written with matplotlib when
    it is installed, otherwise with :func:`npgrad.utils.png.write_png`.

    Args:
        directory: folder for the PNGs (created if needed).
        num_images: samples per grid (default 64).
        columns: tiles per row (default ``ceil(sqrt(num_images))``).
        seed: seed of the fixed latent vectors.
        every: write every this many epochs (and always after the last).
        value_range: the generator's output range (default tanh's (-1, 1)).
        filename: pattern with ``{epoch}`` (1-based), default ``"samples_epoch_{epoch:03d}.png"``.

    Attributes:
        paths: the files written so far, in order.
    """

    def __init__(self, directory, num_images=64, columns=None, seed=0, every=1,
                 value_range=(-1.0, 1.0), filename="samples_epoch_{epoch:03d}.png"):
        super().__init__()
        self.directory = os.fspath(directory)
        self.num_images = _positive_int(num_images, "num_images", "GANMonitor")
        self.columns = columns
        self.seed = int(seed)
        self.every = _positive_int(every, "every", "GANMonitor")
        self.value_range = value_range
        self.filename = filename
        self.paths = []

    def write(self, epoch):
        """Generate the grid now and save it as epoch ``epoch`` (1-based); return the path."""
        generate = getattr(self.model, "generate", None)
        if generate is None:
            raise TypeError(
                f"GANMonitor: the model must have generate(), got {type(self.model).__name__}"
            )
        grid = image_grid(generate(self.num_images, seed=self.seed), self.columns, self.value_range)
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, self.filename.format(epoch=epoch))
        save_image(path, grid)
        self.paths.append(path)
        return path

    def on_epoch_end(self, epoch, logs=None):
        """Write the grid for this epoch when it is due (every ``every``, and the last)."""
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.write(epoch + 1)


SampleGridCallback = GANMonitor
