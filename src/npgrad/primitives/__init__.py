"""Differentiable primitives on NumPy arrays, one Function subclass per op, grouped by kind.

Importing this package also gives ``Tensor`` its operators and math methods
(``tensor_methods``), so the autograd core imports no op.

elementwise, reduce, shape, linalg, activation, conv (im2col), pool, loss (fused), nn
(dropout, normalization, embedding), recurrent (fused cell sequences).
"""

from npgrad.autograd.tensor import Tensor
from npgrad.primitives import tensor_methods

tensor_methods.attach(Tensor)
