"""The autograd core: Tensor, Function and the backward engine."""

from npgrad.autograd.engine import backward, enable_grad, is_grad_enabled, no_grad
from npgrad.autograd.tensor import Tensor, tensor
from npgrad.autograd.function import Function
from npgrad.autograd.variable import Variable
from npgrad.autograd.gradients import grad

__all__ = ["Tensor", "tensor", "Variable", "Function", "backward", "grad", "no_grad", "enable_grad", "is_grad_enabled"]
