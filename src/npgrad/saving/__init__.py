"""Saving and loading: npgrad's own ``.npgrad`` format (no pickle, atomic writes).

``npgrad_format`` holds the format, ``atomic`` the atomic writer every saver uses.

Example:
    >>> npgrad.saving.save_model(model, "ckpt/model.npgrad")
    >>> model = npgrad.saving.load_model("ckpt/model.npgrad")   # compiled, optimizer restored
"""

from npgrad.saving.npgrad_format import (
    FORMAT_VERSION,
    load_model,
    load_weights,
    save_model,
    save_weights,
)

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "FORMAT_VERSION"]
