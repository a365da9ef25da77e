"""Differentiable primitives on NumPy arrays, one Function subclass per op, grouped by kind.

elementwise, reduce, shape, linalg, activation, conv (im2col), pool, loss (fused), nn
(dropout, normalization, embedding), recurrent (fused cell sequences).
"""
