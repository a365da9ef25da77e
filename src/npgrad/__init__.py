"""npgrad: deep learning from scratch on NumPy.

A Tensor with reverse-mode autograd at the bottom; Keras-style layers and models on top.
"""

from npgrad.autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from npgrad.ops.elementwise import maximum, minimum, where
from npgrad.ops.shape import concatenate, pad, stack
from npgrad import functional, activations, utils  # noqa: E402  (order: core first)

__version__ = "0.1.0"
