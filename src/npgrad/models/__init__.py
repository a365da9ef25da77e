"""Models: ``Model`` (compile / fit / evaluate / predict), ``Sequential`` and functional
models (``Model(inputs, outputs)``).

``load_model`` is :func:`npgrad.saving.load_model`.
"""

from npgrad.models.functional import Functional  # noqa: F401 - what Model(inputs, outputs) makes
from npgrad.models.gan import GAN, GANMonitor, load_gan
from npgrad.models.model import Model
from npgrad.models.sequential import Sequential
from npgrad.saving import load_model
from npgrad.saving.cloning import clone_model, model_from_json

__all__ = ["Model", "Sequential", "GAN", "GANMonitor", "load_gan", "load_model", "clone_model",
           "model_from_json"]
