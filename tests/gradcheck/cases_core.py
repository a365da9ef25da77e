"""Registry cases: elementwise, reductions, shape ops, linear algebra, activations."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
import npgrad.functional as F
from npgrad.autograd.function import Identity, Linearized
from npgrad.autograd.tensor import Tensor
from npgrad.primitives.activation import NormalCDF
from tests.gradcheck.registry import (
    OpCase,
    arrays,
    broadcastable,
    floats,
    no_kwargs,
    with_kwargs,
)


def _axis_kwargs(max_dims=3, min_side=1):
    """Arrays plus a valid (axis, keepdims) for them."""

    @st.composite
    def _strategy(draw):
        (a,) = draw(arrays(1, max_dims=max_dims, min_side=min_side, distinct=True))
        axis = draw(
            st.none() | st.integers(-a.ndim, a.ndim - 1)
            | st.lists(st.integers(0, a.ndim - 1), min_size=1, max_size=a.ndim, unique=True).map(tuple)
        )
        return [a], {"axis": axis, "keepdims": draw(st.booleans())}

    return _strategy()


@st.composite
def _matmul_inputs(draw):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "vec_left", "vec_right", "batched_2d_right"]))
    a_shape = {"vec_left": (k,)}.get(kind, batch + (m, k))
    b_shape = {"vec_right": (k,), "batched_2d_right": (k, n)}.get(kind, batch + (k, n))
    if kind == "vec_left":
        b_shape = batch + (k, n)
    a = draw(hnp.arrays(np.float64, a_shape, elements=floats()))
    b = draw(hnp.arrays(np.float64, b_shape, elements=floats()))
    return [a, b], {}


@st.composite
def _dense_inputs(draw):
    lead = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    n_in, units = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(hnp.arrays(np.float64, lead + (n_in,), elements=floats()))
    w = draw(hnp.arrays(np.float64, (n_in, units), elements=floats()))
    b = draw(hnp.arrays(np.float64, (units,), elements=floats()))
    return [x, w, b], {}


@st.composite
def _dense_relu_inputs(draw):
    # the ReLU inside the op: every pre-activation clear of its kink at 0
    arrays, kwargs = draw(_dense_inputs())
    assume(np.abs(F.dense(*arrays).data).min() > 1e-3)
    return arrays, dict(kwargs, relu=True)


@st.composite
def _getitem_inputs(draw):
    (x,) = draw(arrays(1, min_dims=2, max_dims=3, min_side=2))
    kind = draw(st.sampled_from(["basic", "int_array", "mask", "mixed"]))
    if kind == "basic":
        index = (slice(draw(st.integers(0, 1)), None), Ellipsis, draw(st.integers(0, x.shape[-1] - 1)))
    elif kind == "int_array":  # repeated indices must accumulate
        index = np.array(draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=5)))
    elif kind == "mask":
        index = x > 0
    else:
        index = (slice(None), np.array([0, x.shape[1] - 1, 0]))
    return [x], {"index": index}


@st.composite
def _linearized_inputs(draw):
    [x], kwargs = draw(_getitem_inputs())
    transpose = draw(st.booleans())  # J^T (the scatter) on x[index]'s shape, or J on x's
    shape = np.shape(x[kwargs["index"]]) if transpose else x.shape
    v = draw(hnp.arrays(np.float64, shape, elements=floats()))
    return [v], dict(kwargs, x=x, transpose=transpose)


def _linearized(v, x=None, index=None, transpose=True):
    with npgrad.enable_grad():  # the op is made even in gradcheck's no_grad evaluations
        op = F.getitem(Tensor(x, requires_grad=True), index)._ctx
    return Linearized.apply(v, op=op, transpose=transpose)


@st.composite
def _concat_inputs(draw, stack=False):
    (base,) = draw(arrays(1, min_dims=1, max_dims=3))
    n = draw(st.integers(1, 3))
    axis = draw(st.integers(0, base.ndim - 1))
    out = [base]
    for _ in range(n):
        shape = list(base.shape)
        if not stack:
            shape[axis] = draw(st.integers(1, 3))
        out.append(draw(hnp.arrays(np.float64, tuple(shape), elements=floats())))
    return out, {"axis": axis}


@st.composite
def _pad_inputs(draw):
    (x,) = draw(arrays(1, max_dims=3))
    width = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(x.ndim))
    return [x], {"pad_width": width, "value": draw(floats(-1, 1))}


@st.composite
def _transpose_inputs(draw):
    (x,) = draw(arrays(1, max_dims=4))
    axes = draw(st.none() | st.permutations(range(x.ndim)).map(tuple))
    return [x], {"axes": axes}


@st.composite
def _reshape_inputs(draw):
    (x,) = draw(arrays(1, max_dims=3))
    shape = draw(st.sampled_from([(-1,), (x.size, 1), (1, -1), x.shape[::-1]]))
    return [x], {"shape": shape}


@st.composite
def _broadcast_to_inputs(draw):
    (x,) = draw(arrays(1, max_dims=2, max_side=3))
    shape = (draw(st.integers(1, 3)),) + tuple(n if draw(st.booleans()) or n != 1 else 3 for n in x.shape)
    return [x], {"shape": shape}


@st.composite
def _squeeze_inputs(draw):
    (x,) = draw(arrays(1, shape=(2, 1, 3, 1)))
    return [x], {"axis": draw(st.sampled_from([None, 1, 3, (1, 3)]))}


@st.composite
def _zero_padding_inputs(draw):
    (x,) = draw(arrays(1, shape=(2, 3, 2, 2)))
    return [x], {"padding": draw(st.sampled_from([1, (1, 2), ((0, 1), (2, 0))]))}


def _where(a, b, condition):
    return F.where(condition, a, b)


@st.composite
def _where_inputs(draw):
    a, b = draw(broadcastable(2))
    shape = np.broadcast_shapes(a.shape, b.shape)
    condition = draw(hnp.arrays(np.bool_, shape))
    return [a, b], {"condition": condition}


def _clip(x, low, high):
    return F.clip(x, low, high)


def away_from_zero(a):
    return np.where(np.abs(a) < 0.3, np.where(a >= 0, 0.3, -0.3) + a, a)


def _untie(pair):
    a, b = pair
    return [a, np.where(np.abs(a - b) < 1e-2, b + 0.1, b)]


positive = arrays(1, low=0.2, high=4.0)

CASES = [
    # elementwise
    OpCase("add", F.add, no_kwargs(broadcastable(2))),
    OpCase("subtract", F.subtract, no_kwargs(broadcastable(2))),
    OpCase("multiply", F.multiply, no_kwargs(broadcastable(2))),
    OpCase("divide", F.divide, no_kwargs(broadcastable(2)).map(
        lambda t: ([t[0][0], away_from_zero(t[0][1])], t[1]))),
    OpCase("negative", F.negative, no_kwargs(arrays(1))),
    OpCase("power", F.power, no_kwargs(arrays(2, low=0.3, high=2.0))),
    OpCase("power_constant_exponent", lambda x, p: F.power(x, p), with_kwargs(
        arrays(1, low=0.3, high=2.0), p=st.sampled_from([2, 3, 0.5, -1.5])),
        requires_grad=None),
    OpCase("square", F.square, no_kwargs(arrays(1))),
    OpCase("exp", F.exp, no_kwargs(arrays(1))),
    OpCase("log", F.log, no_kwargs(positive)),
    OpCase("sqrt", F.sqrt, no_kwargs(positive)),
    OpCase("abs", F.abs, no_kwargs(arrays(1, kinks=(0.0,)))),
    OpCase("clip", _clip, with_kwargs(arrays(1, kinks=(-1.0, 1.5)), low=st.just(-1.0),
                                      high=st.just(1.5))),
    OpCase("maximum", F.maximum, no_kwargs(arrays(2, distinct=False).map(_untie))),
    OpCase("minimum", F.minimum, no_kwargs(arrays(2).map(_untie))),
    OpCase("where", _where, _where_inputs()),
    OpCase("cast", lambda x: F.cast(x, np.float64) * 2.0, no_kwargs(arrays(1))),
    # reductions
    OpCase("sum", F.sum, _axis_kwargs()),
    OpCase("mean", F.mean, _axis_kwargs()),
    OpCase("max", F.max, _axis_kwargs()),
    OpCase("min", F.min, _axis_kwargs()),
    OpCase("var", F.var, _axis_kwargs()),
    OpCase("std", F.std, _axis_kwargs(min_side=2)),  # sqrt has no derivative at var = 0
    # shape
    OpCase("reshape", F.reshape, _reshape_inputs()),
    OpCase("transpose", F.transpose, _transpose_inputs()),
    OpCase("getitem", F.getitem, _getitem_inputs()),
    # an op's linear backward as an op (second-order gradients): getitem's scatter and gather
    OpCase("linearized", _linearized, _linearized_inputs()),
    # a node of its own (fused ops' second-order gradients differentiate with respect to it)
    OpCase("identity", Identity.apply, no_kwargs(arrays(1))),
    # Phi(x): the exact GELU's recorded backward differentiates through it
    OpCase("normal_cdf", NormalCDF.apply, no_kwargs(arrays(1))),
    OpCase("concatenate", lambda *xs, axis: F.concatenate(xs, axis=axis), _concat_inputs()),
    OpCase("stack", lambda *xs, axis: F.stack(xs, axis=axis), _concat_inputs(stack=True)),
    OpCase("pad", F.pad, _pad_inputs()),
    OpCase("broadcast_to", F.broadcast_to, _broadcast_to_inputs()),
    OpCase("squeeze", F.squeeze, _squeeze_inputs()),
    OpCase("expand_dims", F.expand_dims, with_kwargs(arrays(1, max_dims=2), axis=st.sampled_from([0, -1]))),
    OpCase("flatten", F.flatten, no_kwargs(arrays(1, min_dims=2))),
    OpCase("zero_padding2d", F.zero_padding2d, _zero_padding_inputs()),
    # linear algebra
    OpCase("matmul", F.matmul, _matmul_inputs()),
    OpCase("dense", F.dense, _dense_inputs()),
    OpCase("dense_relu", F.dense, _dense_relu_inputs()),
    OpCase("dense_no_bias", lambda x, w, b: F.dense(x, w), _dense_inputs(), requires_grad=(True, True, False)),
    # activations (kinks avoided)
    OpCase("relu", F.relu, no_kwargs(arrays(1, kinks=(0.0,)))),
    OpCase("leaky_relu", F.leaky_relu, with_kwargs(arrays(1, kinks=(0.0,)), negative_slope=floats(0.0, 0.5))),
    OpCase("elu", F.elu, with_kwargs(arrays(1, kinks=(0.0,)), alpha=floats(0.5, 2.0))),
    OpCase("selu", F.selu, no_kwargs(arrays(1, kinks=(0.0,)))),
    OpCase("gelu", F.gelu, with_kwargs(arrays(1), approximate=st.booleans())),
    OpCase("sigmoid", F.sigmoid, no_kwargs(arrays(1))),
    OpCase("hard_sigmoid", F.hard_sigmoid, no_kwargs(arrays(1, kinks=(-3.0, 3.0)))),
    OpCase("silu", F.silu, no_kwargs(arrays(1)), covers=("swish",)),
    OpCase("softsign", F.softsign, no_kwargs(arrays(1, kinks=(0.0,)))),
    OpCase("tanh", F.tanh, no_kwargs(arrays(1))),
    OpCase("softplus", F.softplus, no_kwargs(arrays(1))),
    OpCase("softmax", F.softmax, with_kwargs(arrays(1, min_dims=1), axis=st.sampled_from([0, -1]))),
    OpCase("log_softmax", F.log_softmax, with_kwargs(arrays(1, min_dims=1), axis=st.sampled_from([0, -1]))),
    OpCase("linear", lambda x: F.linear(x) * 1.0, no_kwargs(arrays(1))),
]
