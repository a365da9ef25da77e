"""Timestep masks on Tensors (Keras masking), read and written only through these helpers.

A layer that makes a mask (``Embedding(mask_zero=True)``, ``Masking``) attaches a boolean
(N, T) array to its output Tensor; layers that support masking pass it on, recurrent layers
skip masked steps, and losses and metrics leave them out. Keras 3 names the pair
``get_keras_mask`` / ``set_keras_mask``.

Example:
    >>> y = npgrad.layers.Masking(0.0)(x)
    >>> get_keras_mask(y)              # (N, T) bool, False where a step is all zeros
"""

from __future__ import annotations

from npgrad.autograd.tensor import Tensor

__all__ = ["get_keras_mask", "set_keras_mask", "attach_masks"]


def get_keras_mask(x):
    """The (N, T) boolean mask attached to ``x``, or None (also for non-Tensors)."""
    return x._keras_mask if isinstance(x, Tensor) else None


def set_keras_mask(x, mask):
    """Attach ``mask`` (an (N, T) bool array, or None to drop it) to the Tensor ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"set_keras_mask: expected a Tensor, got {type(x).__name__}")
    x._keras_mask = mask


def attach_masks(outputs, masks):
    """Attach masks to output Tensors that have none yet (a single one or matching lists)."""
    if isinstance(outputs, Tensor):
        if isinstance(masks, (list, tuple)):
            masks = masks[0] if masks else None
        if get_keras_mask(outputs) is None and masks is not None:
            set_keras_mask(outputs, masks)
        return
    if isinstance(outputs, (list, tuple)):
        if not isinstance(masks, (list, tuple)):
            masks = [masks] + [None] * (len(outputs) - 1)
        for out, mask in zip(outputs, masks):
            if isinstance(out, Tensor) and get_keras_mask(out) is None and mask is not None:
                set_keras_mask(out, mask)
