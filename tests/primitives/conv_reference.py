"""A convolution written with autograd ops only, the reference the fast routes are pinned to."""

import npgrad.functional as F


def composed_conv(x, kernel, padding):
    """Σ over taps of shifted pixels @ kernel[i, j], from autograd ops ('same': odd kernels)."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = F.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = None
    for i in range(kh):
        for j in range(kw):
            term = x[:, i : i + oh, j : j + ow, :] @ kernel[i, j]
            out = term if out is None else out + term
    return out
