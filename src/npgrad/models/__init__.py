"""Models: ``Model`` (compile / fit / evaluate / predict), ``Sequential`` and functional
models (``Model(inputs, outputs)``).

``load_model`` is re-exported from :mod:`npgrad.saving` (imported when first called).
"""

from npgrad.models.functional import Functional  # noqa: F401 - what Model(inputs, outputs) makes
from npgrad.models.gan import GAN, GANMonitor, load_gan
from npgrad.models.model import Model
from npgrad.models.sequential import Sequential

__all__ = ["Model", "Sequential", "GAN", "GANMonitor", "load_gan", "load_model"]


def load_model(filepath, compile=True):  # noqa: A002 - Keras' argument name
    """Load a model saved with ``model.save(filepath)`` (see :func:`npgrad.saving.load_model`).

    Args:
        filepath: the file written by ``save``.
        compile: also compile it and restore the optimizer state.

    Returns:
        The model.
    """
    from npgrad import saving

    return saving.load_model(filepath, compile=compile)
