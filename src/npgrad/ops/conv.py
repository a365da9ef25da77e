"""Convolutions (NHWC) via im2col + one GEMM. STUB: being written by a helper."""


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """2-D convolution. x (N, H, W, C), kernel (KH, KW, C, F), bias (F,) -> (N, OH, OW, F)."""
    raise NotImplementedError


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1):
    """Transposed 2-D convolution. x (N, H, W, C), kernel (KH, KW, F, C) (Keras layout)."""
    raise NotImplementedError


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """1-D convolution. x (N, L, C), kernel (K, C, F) -> (N, OL, F)."""
    raise NotImplementedError
