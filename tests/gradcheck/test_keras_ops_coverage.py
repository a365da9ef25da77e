"""Every differentiable ``npgrad.ops`` name has a gradient-check case (cases_keras_ops.py)."""

from npgrad import ops
from tests.gradcheck.registry import ALL_CASES

#: ops that return constants (integers, booleans, step functions, factorizations) or create
#: tensors from nothing: nothing to differentiate
NOT_DIFFERENTIABLE = {
    # creation
    "arange", "array", "bartlett", "blackman", "empty", "empty_like", "eye", "full",
    "full_like", "geomspace", "hamming", "hanning", "identity", "kaiser", "linspace", "logspace",
    "meshgrid", "ones", "ones_like", "tri", "zeros", "zeros_like",
    # step functions, comparisons, logic, bits, integer maths
    "ceil", "floor", "round", "sign", "signbit", "trunc", "floor_divide", "heaviside",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "isclose",
    "allclose", "isnan", "isinf", "isfinite", "isneginf", "isposinf", "isreal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift", "left_shift",
    "right_shift", "gcd", "lcm", "real", "imag", "conj", "conjugate", "angle", "nextafter",
    "ldexp", "isin", "view",
    # indices, counts, orderings, statistics returned as constants
    "all", "any", "argmax", "argmin", "argpartition", "argsort", "bincount", "count_nonzero",
    "digitize", "histogram", "nanargmax", "nanargmin", "nanmedian", "nanpercentile",
    "nanquantile", "nonzero", "searchsorted", "unique", "unravel_index", "in_top_k", "ndim",
    "size", "shape", "dtype", "is_tensor",
    # conversions and casts that make constants
    "convert_to_numpy", "saturate_cast", "stop_gradient", "one_hot", "multi_hot",
    # factorizations and FFTs (constants, documented)
    "cholesky", "eig", "eigh", "lu_factor", "matrix_rank", "pinv", "qr", "svd", "fft", "fft2",
    "ifft2", "rfft", "irfft", "gammainc",
    # namespaces and helpers
    "image", "linalg", "nn", "numpy", "get_op",
}  # fmt: skip

IMAGE_CONSTANTS = {"rgb_to_hsv", "hsv_to_rgb"}


def _covered():
    names = set()
    for case in ALL_CASES:
        for name in (case.name, *case.covers):
            names.add(name[len("ops."):] if name.startswith("ops.") else name)
    return names


def test_every_differentiable_op_has_a_case():
    covered = _covered()
    missing = sorted(set(ops.__all__) - NOT_DIFFERENTIABLE - covered)
    assert not missing, f"npgrad.ops names without a gradient-check case: {missing}"


def test_every_differentiable_image_op_has_a_case():
    covered = _covered()
    missing = sorted(f"image.{n}" for n in set(ops.image.__all__) - IMAGE_CONSTANTS
                     if f"image.{n}" not in covered)
    assert not missing, f"npgrad.ops.image names without a gradient-check case: {missing}"


def test_the_constant_list_names_only_real_ops():
    unknown = sorted(NOT_DIFFERENTIABLE - set(ops.__all__))
    assert not unknown, f"NOT_DIFFERENTIABLE lists names npgrad.ops lacks: {unknown}"
