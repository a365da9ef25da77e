"""Registry cases for ``npgrad.ops`` (Keras 3's ``keras.ops``) and the primitives behind it
(UnaryMath, Cumsum, Cumprod, Prod, ScatterAdd, Einsum, Inv, Det, Solve).

``test_keras_ops_coverage.py`` checks that every differentiable name in ``ops.__all__`` has a
case here (by name, or listed in a case's ``covers``).
"""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad import ops
from tests.gradcheck.registry import (
    OpCase,
    arrays,
    broadcastable,
    floats,
    no_kwargs,
    well_separated,
    with_kwargs,
)


def _fixed(*shapes, low=-2.0, high=2.0, distinct=False):
    """Arrays of the given fixed shapes."""

    @st.composite
    def _strategy(draw):
        out = []
        for shape in shapes:
            a = draw(hnp.arrays(np.float64, shape, elements=floats(low, high)))
            if distinct:
                a = a + np.arange(a.size).reshape(shape) * 1e-2
                assume(well_separated(a))  # a drawn step of -1e-2 can undo the ramp
            out.append(a)
        return out

    return _strategy()


def _away(values, kinks, margin=0.05):
    values = np.array(values)
    for k in kinks:
        near = np.abs(values - k) < margin
        values[near] = k + np.where(values[near] >= k, 2 * margin, -2 * margin)
    return values


def _separated(*shapes):
    """Arrays whose elements are at least 0.2 apart (orderings without near-ties)."""

    @st.composite
    def _strategy(draw):
        out = []
        for shape in shapes:
            size = int(np.prod(shape))
            order = draw(st.permutations(range(size)))
            jitter = draw(hnp.arrays(np.float64, (size,), elements=floats(-0.05, 0.05)))
            out.append((np.array(order) * 0.3 - size * 0.15 + jitter).reshape(shape))
        return out

    return _strategy()


def _kinked(strategy, kinks):
    return strategy.map(lambda arrays: [_away(a, kinks) for a in arrays])


def _unary(name, low=-2.0, high=2.0, kinks=(), fn=None, **extra):
    strategy = arrays(1, low=low, high=high)
    if kinks:
        strategy = _kinked(strategy, kinks)
    return OpCase(f"ops.{name}", fn or getattr(ops, name), no_kwargs(strategy), **extra)


def _axis_case(name, fn=None, min_side=1, distinct=True, **extra):
    @st.composite
    def _strategy(draw):
        (a,) = draw(arrays(1, max_dims=3, min_side=min_side, distinct=distinct))
        axis = draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
        return [a], {"axis": axis, "keepdims": draw(st.booleans())}

    return OpCase(f"ops.{name}", fn or getattr(ops, name), _strategy(), **extra)


def _matrices(n=3, batch=(), count=1):
    @st.composite
    def _strategy(draw):
        out = []
        for _ in range(count):
            a = draw(hnp.arrays(np.float64, batch + (n, n), elements=floats(-0.5, 0.5)))
            out.append(a + 3 * np.eye(n))  # strictly diagonally dominant: well conditioned
        return out

    return _strategy()


def _first(fn):
    return lambda *a, **k: fn(*a, **k)[0]


def _joined(fn):
    """A function returning a list of tensors, joined into one (for gradcheck)."""
    return lambda *a, **k: ops.concatenate([ops.reshape(t, (-1,)) for t in fn(*a, **k)], axis=0)


images = _fixed((2, 4, 5, 3))
sequences = _fixed((2, 7, 3))

CASES = [
    # ---------------------------------------------------------------- primitives' own cases
    _unary("sin", covers=("cos",), fn=lambda x: ops.sin(x) + ops.cos(x)),
    _unary("tan", low=-1.2, high=1.2),
    _unary("arcsin", low=-0.9, high=0.9, covers=("arccos", "arctan"),
           fn=lambda x: ops.arcsin(x) + ops.arccos(x * 0.5) + ops.arctan(x)),
    _unary("sinh", covers=("cosh", "arcsinh"),
           fn=lambda x: ops.sinh(x) + ops.cosh(x) + ops.arcsinh(x)),
    _unary("arccosh", low=1.2, high=3.0),
    _unary("arctanh", low=-0.9, high=0.9),
    _unary("log1p", low=-0.5, high=3.0, covers=("expm1",), fn=lambda x: ops.log1p(x) + ops.expm1(x)),
    _unary("log2", low=0.2, high=3.0, covers=("log10",), fn=lambda x: ops.log2(x) + ops.log10(x)),
    _unary("exp2"),
    _unary("cbrt", low=0.2, high=3.0),
    _unary("reciprocal", low=0.3, high=3.0),
    _unary("rsqrt", low=0.3, high=3.0),
    _unary("erf", covers=("erfc",), fn=lambda x: ops.erf(x) + 2 * ops.erfc(x)),
    _unary("erfinv", low=-0.9, high=0.9),
    _unary("sinc"),
    _unary("i0"),
    _unary("log_sigmoid"),
    OpCase("ops.cumsum", ops.cumsum, with_kwargs(arrays(1, min_dims=1, max_dims=3),
                                                  axis=st.sampled_from([None, 0, -1]))),
    OpCase("ops.cumprod", ops.cumprod, with_kwargs(
        _fixed((3, 4)).map(lambda a: [np.where(np.abs(a[0]) < 0.3, 0.0, a[0])]),
        axis=st.sampled_from([None, 0, 1]))),
    _axis_case("prod", fn=lambda x, axis, keepdims: ops.prod(x, axis=axis, keepdims=keepdims)),
    OpCase("ops.scatter", lambda v: ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]), v, (3, 2)),
           no_kwargs(_fixed((3,))), covers=("scatter_update", "segment_sum"),
           extra={"see": "scatter_update/segment_sum cases below"}),
    OpCase("ops.einsum", lambda a, b: ops.einsum("bij,bjk->bik", a, b),
           no_kwargs(_fixed((2, 3, 4), (2, 4, 2)))),
    OpCase("ops.einsum_ellipsis_implicit", lambda a, b: ops.einsum("...ij,j", a, b),
           no_kwargs(_fixed((2, 3, 4), (4,)))),
    OpCase("ops.inv", ops.inv, no_kwargs(_matrices(3, (2,)))),
    OpCase("ops.det", ops.det, no_kwargs(_matrices(3, (2,))), covers=("logdet",)),
    OpCase("ops.solve", ops.solve, no_kwargs(st.tuples(_matrices(3), _fixed((3, 2))).map(
        lambda t: t[0] + t[1])), covers=("solve_triangular",)),
    # ---------------------------------------------------------------- elementwise (composed)
    OpCase("ops.add", ops.add, no_kwargs(broadcastable(2)),
           covers=("subtract", "multiply", "negative", "square", "true_divide")),
    OpCase("ops.arith_mix", lambda a, b: ops.subtract(ops.multiply(a, b), ops.negative(
        ops.square(a))) + ops.true_divide(a, ops.add(ops.abs(b), 1.0)),
        no_kwargs(_kinked(broadcastable(2), (0.0,))), covers=("absolute", "fabs", "abs")),
    OpCase("ops.divide", ops.divide, no_kwargs(_kinked(broadcastable(2), (0.0,)))),
    OpCase("ops.divide_no_nan", lambda a, b: ops.divide_no_nan(a, b * (np.abs(b.data) > 0.5)),
           no_kwargs(_kinked(_fixed((3, 4), (3, 4)), (0.5, -0.5)))),
    OpCase("ops.power", ops.power, no_kwargs(arrays(2, low=0.3, high=2.0))),
    OpCase("ops.sqrt", lambda x: ops.sqrt(x) + ops.exp(x) + ops.log(x),
           no_kwargs(arrays(1, low=0.2, high=3.0)), covers=("exp", "log")),
    OpCase("ops.clip", lambda x: ops.clip(x, -1.0, 1.5), no_kwargs(_kinked(arrays(1), (-1.0, 1.5)))),
    OpCase("ops.maximum", lambda a, b: ops.maximum(a, b) + ops.minimum(a, b) + ops.fmax(a, b)
           + ops.fmin(a, b), no_kwargs(_fixed((3, 4), (3, 4)).map(
               lambda t: [t[0], np.where(np.abs(t[0] - t[1]) < 0.05, t[1] + 0.2, t[1])])),
           covers=("minimum", "fmax", "fmin")),
    OpCase("ops.mod", lambda a, b: ops.mod(a, b) + ops.fmod(a, b),
           no_kwargs(_fixed((3,), (3,), low=0.5, high=2.0).map(  # a = b (k + f), f in [0.2, 0.8]
               lambda t: [t[1] * (np.round(t[0] * 2) + 0.2 + 0.6 * (t[0] % 1)), t[1]])),
           covers=("fmod",), atol=1e-4),
    OpCase("ops.logaddexp", lambda a, b: ops.logaddexp(a, b) + ops.logaddexp2(a, b),
           no_kwargs(broadcastable(2)), covers=("logaddexp2",)),
    OpCase("ops.arctan2", lambda a, b: ops.arctan2(a, b) + ops.hypot(a, b),
           no_kwargs(_fixed((4,), (4,), low=0.3, high=2.0)), covers=("hypot",)),
    OpCase("ops.deg2rad", lambda x: ops.deg2rad(x) + ops.rad2deg(x), no_kwargs(arrays(1)),
           covers=("rad2deg",)),
    OpCase("ops.nan_to_num", ops.nan_to_num, no_kwargs(arrays(1))),
    OpCase("ops.where", lambda a, b: ops.where(a.data > 0, a, b) + ops.select(
        [a.data > 1, a.data < -1], [a, b], 0.0), no_kwargs(_kinked(_fixed((3, 4), (3, 4)),
                                                            (0.0, 1.0, -1.0))),
        covers=("select",)),
    OpCase("ops.tanh", ops.tanh, no_kwargs(arrays(1))),
    OpCase("ops.copy", ops.copy, no_kwargs(arrays(1))),
    OpCase("ops.tril", lambda x: ops.tril(x, -1) + ops.triu(x, 1), no_kwargs(_fixed((2, 3, 4))),
           covers=("triu",)),
    # ---------------------------------------------------------------- reductions
    _axis_case("sum"), _axis_case("mean"), _axis_case("max"), _axis_case("min"),
    _axis_case("amax"), _axis_case("amin"), _axis_case("ptp"), _axis_case("var"),
    _axis_case("std", min_side=2),
    OpCase("ops.average", lambda x, w: ops.average(x, axis=1, weights=w),
           no_kwargs(_fixed((3, 4), (4,), low=0.5, high=2.0))),
    OpCase("ops.sort", lambda x: ops.sort(x, axis=0), no_kwargs(_separated((4, 3)))),
    OpCase("ops.quantile", lambda x: ops.quantile(x, [0.2, 0.5], axis=1),
           no_kwargs(_separated((3, 5))), covers=("percentile", "median")),
    OpCase("ops.median", lambda x: ops.median(x, axis=(0, 1), keepdims=True)
           + ops.percentile(x, 30.0), no_kwargs(_separated((2, 4))),
           covers=("percentile",)),
    OpCase("ops.nansum", lambda x: ops.nansum(x, axis=0) + ops.nanmean(x, axis=0)
           + ops.nanmax(x, axis=0) + ops.nanmin(x, axis=0) + ops.nanprod(x, axis=0),
           no_kwargs(_separated((3, 2))),
           covers=("nanmean", "nanmax", "nanmin", "nanprod")),
    OpCase("ops.nanvar", lambda x: ops.nanvar(x, axis=1) + ops.nanstd(x, axis=1),
           no_kwargs(_fixed((2, 4), distinct=True)), covers=("nanstd",)),
    OpCase("ops.nancumsum", lambda x: ops.nancumsum(x, axis=1) + ops.nancumprod(x, axis=1),
           no_kwargs(_fixed((2, 3))), covers=("nancumprod",)),
    OpCase("ops.logsumexp", ops.logsumexp, _axis_case("logsumexp").inputs),
    OpCase("ops.top_k", lambda x: ops.top_k(x, 2)[0], no_kwargs(_separated((3, 5)))),
    OpCase("ops.segment_sum", lambda x: ops.segment_sum(x, np.array([0, 2, 0, 1]), 3),
           no_kwargs(_fixed((4, 2)))),
    OpCase("ops.segment_max", lambda x: ops.segment_max(x, np.array([0, 2, 0, 1]), 4)[:3]
           + ops.segment_min(x, np.array([0, 2, 0, 1]), 3),
           no_kwargs(_separated((4, 2))), covers=("segment_min",)),
    OpCase("ops.segment_prod", lambda x: ops.segment_prod(x, np.array([0, 1, 0]), 2),
           no_kwargs(_kinked(_fixed((3, 2)), (0.0,)))),
    OpCase("ops.scatter_update", lambda x, u: ops.scatter_update(x, np.array([[0], [2]]), u),
           no_kwargs(_fixed((3, 2), (2, 2)))),
    OpCase("ops.slice", lambda x, u: ops.slice(x, (1, 0), (2, 2)) * 2
           + ops.slice_update(x, (1, 1), u)[1:, :2], no_kwargs(_fixed((3, 4), (2, 2))),
           covers=("slice_update",)),
    OpCase("ops.extract_sequences", lambda x: ops.extract_sequences(x, 3, 2),
           no_kwargs(_fixed((2, 7)))),
    OpCase("ops.cdist", lambda a, b: ops.cdist(a, b) + ops.cdist(a, b, p=1),
           no_kwargs(_fixed((3, 2), (4, 2)).map(lambda t: [t[0], t[1] + 5]))),
    # ---------------------------------------------------------------- shape and indexing
    OpCase("ops.reshape", lambda x: ops.reshape(x, (-1,)), no_kwargs(arrays(1)),
           covers=("ravel", "get_item", "squeeze", "expand_dims", "broadcast_to")),
    OpCase("ops.shape_mix", lambda x: ops.squeeze(ops.expand_dims(ops.ravel(x), 0))[1:]
           + ops.broadcast_to(x[0, 0], (11,)), no_kwargs(_fixed((3, 4)))),
    OpCase("ops.transpose", lambda x: ops.transpose(x, (1, 2, 0)) + ops.moveaxis(x, 0, -1)
           + ops.swapaxes(ops.swapaxes(x, 0, 2), 0, 1), no_kwargs(_fixed((2, 2, 2))),
           covers=("moveaxis", "swapaxes")),
    OpCase("ops.concatenate", lambda a, b: ops.concatenate([a, b], axis=1),
           no_kwargs(_fixed((2, 3), (2, 1))), covers=("append", "hstack", "column_stack")),
    OpCase("ops.stacks", lambda a, b: ops.reshape(ops.hstack([a, b]), (-1,))[:6]
           + ops.reshape(ops.vstack([a, b]), (-1,))[:6] + ops.reshape(ops.dstack([a, b]), (-1,))[:6]
           + ops.append(a, b)[:6] + ops.reshape(ops.column_stack([a, b]), (-1,))[:6]
           + ops.reshape(ops.stack([a, b], axis=1), (-1,))[:6], no_kwargs(_fixed((2, 3), (2, 3))),
           covers=("stack", "vstack", "dstack")),
    OpCase("ops.split", _joined(lambda x: ops.split(x, 2, axis=1) + ops.array_split(x, 3, axis=1)
                                + ops.hsplit(x, [1]) + ops.vsplit(x, 2) + ops.dsplit(
                                    ops.reshape(x, (2, 2, 2)), 2)),
           no_kwargs(_fixed((2, 4))), covers=("array_split", "hsplit", "vsplit", "dsplit")),
    OpCase("ops.unstack", _joined(lambda x: ops.unstack(x, axis=1)), no_kwargs(_fixed((2, 3)))),
    OpCase("ops.take", lambda x: ops.take(x, np.array([2, 0, 2, -1]), axis=1)[0]
           + ops.take(x, np.array([1, 1, 5, 0])), no_kwargs(_fixed((2, 3)))),
    OpCase("ops.take_along_axis", lambda x: ops.take_along_axis(
        x, np.array([[0, 2, 2], [1, 0, 0]]), axis=1), no_kwargs(_fixed((2, 3)))),
    OpCase("ops.repeat", lambda x: ops.repeat(x, [1, 3], axis=0)[:, :2] + ops.tile(x, (2, 1))[:, :2]
           + ops.repeat(x, 2)[:8].reshape(4, 2), no_kwargs(_fixed((2, 3))), covers=("tile",)),
    OpCase("ops.pad", lambda x: ops.pad(x, ((1, 2), (0, 1))) [:3, :3]
           + ops.pad(x, ((1, 1), (2, 2)), mode="reflect")[:3, :3]
           + ops.pad(x, 1, mode="edge")[:3, :3], no_kwargs(_fixed((3, 3)))),
    OpCase("ops.flip", lambda x: ops.flip(x, 0) + ops.fliplr(x) + ops.flipud(x) + ops.flip(x)
           + ops.rot90(x) + ops.roll(x, 1, axis=1) + ops.roll(x, 2),
           no_kwargs(_fixed((3, 3))), covers=("fliplr", "flipud", "rot90", "roll")),
    OpCase("ops.diagonal", lambda x: ops.diagonal(x, 1) + ops.trace(x) + ops.diag(x)[:2]
           + ops.diag(ops.diag(x), 1)[0, 1:3] + ops.diagflat(x[0])[0, :2],
           no_kwargs(_fixed((3, 3))), covers=("trace", "diag", "diagflat")),
    # ---------------------------------------------------------------- products
    OpCase("ops.matmul", lambda a, b: ops.matmul(a, b) + ops.dot(a, b)
           + ops.tensordot(a, b, axes=1), no_kwargs(_fixed((2, 3), (3, 2))),
           covers=("dot", "tensordot")),
    OpCase("ops.inner", lambda a, b: ops.inner(a, b)[0] + ops.vdot(a, b) + ops.outer(a, b)[0, :2]
           + ops.kron(a, b)[0, :2] + ops.dot(a, b[0, 0])[0, :2], no_kwargs(_fixed((2, 3), (2, 3))),
           covers=("vdot", "outer", "kron")),
    OpCase("ops.tensordot", lambda a, b: ops.tensordot(a, b, axes=([0, 2], [1, 0]))[:2, :2]
           + ops.dot(a[0], ops.transpose(b, (1, 0, 2)))[:2, 0, :2],
           no_kwargs(_fixed((2, 3, 4), (4, 2, 3)))),
    OpCase("ops.cross", ops.cross, no_kwargs(_fixed((2, 3), (2, 3)))),
    OpCase("ops.diff", lambda x: ops.diff(x, 2, axis=1)[:, 0] + ops.trapezoid(x, dx=0.5),
           no_kwargs(_fixed((2, 5))), covers=("trapezoid",)),
    OpCase("ops.vander", lambda x: ops.vander(x, 3), no_kwargs(_fixed((4,)))),
    OpCase("ops.correlate", lambda a, v: ops.concatenate([ops.correlate(a, v, "valid"),
                                                         ops.correlate(a, v, "same"),
                                                         ops.correlate(a, v, "full")], 0),
           no_kwargs(_fixed((5,), (3,)))),
    # ---------------------------------------------------------------- linalg
    OpCase("ops.norm", lambda x: ops.norm(x) + ops.norm(x, ord=1, axis=1)[0]
           + ops.norm(x, ord=np.inf, axis=0)[1] + ops.norm(x, ord=3, axis=0)[0]
           + ops.norm(x, ord="fro", axis=(0, 1)) + ops.norm(x, ord=1, axis=(0, 1))
           + ops.norm(x, ord=-np.inf, axis=1)[0],
           no_kwargs(_fixed((3, 3), distinct=True).map(lambda a: [a[0] + 3])), atol=1e-4),
    OpCase("ops.lstsq", ops.lstsq, no_kwargs(st.tuples(_matrices(3), _fixed((3, 2))).map(
        lambda t: t[0] + t[1]))),
    OpCase("ops.matrix_power", lambda x: ops.matrix_power(x, 3) + ops.matrix_power(x, -1),
           no_kwargs(_matrices(3))),
    OpCase("ops.slogdet", lambda x: ops.slogdet(x)[1] + ops.logdet(x @ ops.transpose(x)),
           no_kwargs(_matrices(3)), covers=("logdet",)),
    OpCase("ops.cholesky_inverse", lambda x: ops.cholesky_inverse(ops.tril(x)),
           no_kwargs(_matrices(3))),
    # ---------------------------------------------------------------- nn
    _unary("relu", kinks=(0.0, 1.5), fn=lambda x: ops.relu(x) + ops.relu6(x * 4),
           covers=("relu6",)),
    _unary("relu6", kinks=(0.0, 1.5)),
    _unary("sigmoid", fn=lambda x: ops.sigmoid(x) + ops.softplus(x) + ops.softsign(x)
           + ops.silu(x) + ops.swish(x) + ops.selu(x + 3),
           covers=("softplus", "softsign", "silu", "swish", "selu")),
    _unary("leaky_relu", kinks=(0.0,), fn=lambda x: ops.leaky_relu(x, 0.1) + ops.elu(x, 0.5)
           + ops.celu(x, 0.7), covers=("elu", "celu")),
    _unary("hard_sigmoid", kinks=(-3.0, 3.0), low=-4, high=4,
           fn=lambda x: ops.hard_sigmoid(x) + ops.hard_silu(x) + ops.hard_swish(x),
           covers=("hard_silu", "hard_swish")),
    _unary("gelu", fn=lambda x: ops.gelu(x) + ops.gelu(x, approximate=False)),
    OpCase("ops.glu", ops.glu, no_kwargs(_fixed((3, 4)))),
    _unary("hard_tanh", kinks=(-1.0, 1.0, 0.5, -0.5, 0.2, -0.2),
           fn=lambda x: ops.hard_tanh(x) + ops.tanh_shrink(x) + ops.soft_shrink(x)
           + ops.hard_shrink(x) + ops.threshold(x, 0.2, -1.0) + ops.squareplus(x)
           + ops.sparse_plus(x),
           covers=("tanh_shrink", "soft_shrink", "hard_shrink", "threshold", "squareplus",
                   "sparse_plus")),
    OpCase("ops.softmax", lambda x: ops.softmax(x, axis=0) + ops.log_softmax(x)
           + ops.softmax(x, axis=(0, 1)) + ops.log_softmax(x, axis=(0, 1)),
           no_kwargs(_fixed((3, 4))), covers=("log_softmax",)),
    OpCase("ops.conv", lambda x, k: ops.conv(x, k, strides=(1, 2), padding="same"),
           no_kwargs(_fixed((2, 4, 5, 3), (3, 3, 3, 2)))),
    OpCase("ops.conv_1d", lambda x, k: ops.conv(x, k, padding="causal", dilation_rate=2),
           no_kwargs(_fixed((2, 7, 3), (3, 3, 2)))),
    OpCase("ops.conv_transpose", lambda x, k: ops.conv_transpose(x, k, strides=2, padding="same"),
           no_kwargs(_fixed((2, 3, 3, 3), (3, 3, 2, 3)))),
    OpCase("ops.conv_transpose_1d", lambda x, k: ops.conv_transpose(x, k, strides=2),
           no_kwargs(_fixed((2, 4, 3), (3, 2, 3)))),
    OpCase("ops.depthwise_conv", lambda x, k: ops.depthwise_conv(x, k, padding="same"),
           no_kwargs(_fixed((2, 4, 5, 3), (3, 3, 3, 2)))),
    OpCase("ops.depthwise_conv_1d", lambda x, k: ops.depthwise_conv(x, k, strides=2),
           no_kwargs(_fixed((2, 7, 3), (3, 3, 2)))),
    OpCase("ops.separable_conv", lambda x, d, p: ops.separable_conv(x, d, p),
           no_kwargs(_fixed((1, 4, 4, 2), (3, 3, 2, 2), (1, 1, 4, 3)))),
    OpCase("ops.max_pool", lambda x: ops.max_pool(x, 2, padding="same"),
           no_kwargs(_fixed((2, 4, 5, 3), distinct=True))),
    OpCase("ops.max_pool_1d", lambda x: ops.max_pool(x, 3, strides=2),
           no_kwargs(_fixed((2, 7, 3), distinct=True))),
    OpCase("ops.average_pool", _joined(lambda x: [ops.average_pool(x, (2, 3), strides=1),
                                                  ops.average_pool(x, 2, padding="same")]),
           no_kwargs(_fixed((2, 4, 5, 3)))),
    OpCase("ops.average_pool_1d", lambda x: ops.average_pool(x, 2), no_kwargs(sequences)),
    OpCase("ops.depth_to_space", lambda x: ops.space_to_depth(ops.depth_to_space(x, 2), 2) * x,
           no_kwargs(_fixed((1, 2, 3, 8))), covers=("space_to_depth",)),
    OpCase("ops.moments", lambda x: ops.moments(x, (0, 1))[0] + ops.moments(x, (0, 1))[1],
           no_kwargs(_fixed((3, 2, 4)))),
    OpCase("ops.batch_normalization", lambda x, m, v, o, s: ops.batch_normalization(
        x, m, v, axis=-1, offset=o, scale=s), no_kwargs(st.tuples(
            _fixed((3, 2, 4), (4,), (4,), (4,), (4,))).map(
            lambda t: [t[0][0], t[0][1], np.abs(t[0][2]) + 0.5, t[0][3], t[0][4]]))),
    OpCase("ops.layer_normalization", lambda x, g, b: ops.layer_normalization(x, g, b)
           + ops.rms_normalization(x, g), no_kwargs(_fixed((3, 4), (4,), (4,))),
           covers=("rms_normalization",)),
    OpCase("ops.normalize", lambda x: ops.normalize(x) + ops.normalize(x, axis=0, order=1),
           no_kwargs(_fixed((3, 4), low=0.2, high=2.0))),
    OpCase("ops.binary_crossentropy", lambda t, p: ops.binary_crossentropy(t, p, from_logits=True)
           + ops.binary_crossentropy(t, ops.sigmoid(p)), no_kwargs(_fixed((3, 4), (3, 4)).map(
               lambda a: [np.abs(a[0]) / 2, a[1]])), requires_grad=(False, True)),
    OpCase("ops.categorical_crossentropy", lambda t, p: ops.categorical_crossentropy(
        t, p, from_logits=True) + ops.categorical_crossentropy(t, ops.softmax(p))
        + ops.sparse_categorical_crossentropy(np.array([0, 2, 1]), p, from_logits=True),
        no_kwargs(_fixed((3, 4), (3, 4)).map(lambda a: [np.abs(a[0]), a[1]])),
        requires_grad=(False, True), covers=("sparse_categorical_crossentropy",)),
    OpCase("ops.psnr", lambda a, b: ops.psnr(a, b, 1.0), no_kwargs(_fixed((2, 3), (2, 3)).map(
        lambda t: [t[0], t[0] + 0.5 + np.abs(t[1])]))),
    OpCase("ops.dot_product_attention", lambda q, k, v: ops.dot_product_attention(
        q, k, v, is_causal=True), no_kwargs(_fixed((2, 3, 2, 4), (2, 3, 2, 4), (2, 3, 2, 4))),
        atol=1e-4),
    # ---------------------------------------------------------------- image
    OpCase("ops.image.resize", lambda x: ops.image.resize(x, (7, 3)), no_kwargs(images)),
    OpCase("ops.image.resize_nearest", lambda x: ops.image.resize(x, (3, 8), "nearest"),
           no_kwargs(images)),
    OpCase("ops.image.rgb_to_grayscale", ops.image.rgb_to_grayscale, no_kwargs(images)),
    OpCase("ops.image.pad_images", lambda x: ops.image.pad_images(x, 1, 2, target_height=7,
                                                                  target_width=8)
           [:, 1:5, 2:7] + ops.image.crop_images(ops.image.pad_images(x, 1, 1, 1, 1), 1, 1, 1, 1),
           no_kwargs(images), covers=("image.crop_images",)),
    OpCase("ops.image.extract_patches", lambda x: ops.image.extract_patches(x, 2, padding="same"),
           no_kwargs(images)),
    OpCase("ops.cast", lambda x: ops.cast(x, "float32") * 0 + ops.cast(x, "float64"),
           no_kwargs(arrays(1)), covers=("convert_to_tensor",)),
    OpCase("ops.control_flow", lambda x: ops.fori_loop(0, 3, lambda i, v: v * x, x)
           + ops.cond(True, lambda: x, lambda: -x) + ops.scan(
               lambda c, r: (c + r, c * r), ops.zeros_like(x[0]), x)[1].sum(0)[None]
           + ops.map(lambda r: r * 2, x) + ops.associative_scan(ops.add, x, axis=0)
           + ops.while_loop(lambda v: ops.sum(ops.abs(v)) < 100.0, lambda v: v * 2.0, x,
                            maximum_iterations=1)
           + ops.switch(1, [lambda v: v, lambda v: v * 3], x) + ops.vectorized_map(ops.sin, x),
           no_kwargs(_fixed((2, 3))),
           covers=("fori_loop", "cond", "scan", "map", "associative_scan", "while_loop",
                   "switch", "vectorized_map")),
]
