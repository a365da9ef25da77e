"""Second derivatives (``grad(..., create_graph=True)`` differentiated again) of every
registry case whose ops all have a differentiable backward, against finite differences of
first-order gradients (``npgrad.utils.gradgradcheck``)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
from npgrad.autograd.engine import graph_ops
from npgrad.autograd.function import Function
from npgrad.autograd.tensor import Tensor
from npgrad.utils.gradcheck import gradgradcheck
from tests.gradcheck.registry import ALL_CASES, away_from, one_example
from tests.gradcheck.test_coverage import _all_function_classes

# the ops with a backward_graph: a new one must be listed here, and exercised by a case below
SECOND_ORDER_OPS = {
    "Add", "AddReLU", "Subtract", "Multiply", "Divide", "Negative", "Power", "Exp", "Log",
    "Sqrt", "Abs", "Clip", "Maximum", "Minimum", "Where", "Cast",
    "ReLU", "LeakyReLU", "ELU", "Sigmoid", "SiLU", "HardSigmoid", "HardSiLU", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "Sum", "Mean", "Max", "Min", "Arctan2",
    "Reshape", "Transpose", "GetItem", "Linearized", "Concatenate", "Stack", "Pad",
    "BroadcastTo", "MatMul", "Dense", "Dropout", "MeanSquaredError",
    "Conv2D", "Conv2DTranspose", "Conv2DKernelGrad", "MaxPool2D", "AvgPool2D", "UpSampling2D",
    "Embedding", "SigmoidBinaryCrossentropy", "SoftmaxCrossEntropy", "SparseSoftmaxCrossEntropy",
    "BatchNorm", "LayerNorm", "LayerNormLastAxis", "Identity", "Conv2DMaxPool2D",
    "ScaledDotProductAttention", "AttentionWeights", "Einsum", "Cumsum", "ScatterAdd",
    "MeanAbsoluteError", "GELU", "NormalCDF", "PackedSelfAttention",
}


# points where the first derivative is continuous but the second jumps (the first-order
# check needs no margin there): softsign's and celu's 0, selu(x + 3)'s -3
SECOND_ORDER_KINKS = {"ops.sigmoid": (0.0, -3.0), "ops.leaky_relu": (0.0,),
                      "activations.celu": (0.0,)}


def _supported(cls):
    return cls.backward_graph is not Function.backward_graph


def _ops_of(case):
    arrays, kwargs = one_example(case.inputs)
    flags = case.requires_grad or [True] * len(arrays)
    out = case.fn(*[Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)], **kwargs)
    return {type(op) for op in graph_ops(out)}


CASE_OPS = {case.name: _ops_of(case) for case in ALL_CASES}
SECOND_ORDER_CASES = [c for c in ALL_CASES if CASE_OPS[c.name] and
                      all(_supported(op) for op in CASE_OPS[c.name])]


def test_the_listed_ops_are_the_ones_with_a_differentiable_backward():
    found = {cls.__name__ for cls in _all_function_classes() if _supported(cls)}
    assert found == SECOND_ORDER_OPS


def test_every_op_with_a_differentiable_backward_is_checked_twice():
    checked = set().union(*(CASE_OPS[c.name] for c in SECOND_ORDER_CASES))
    missing = SECOND_ORDER_OPS - {cls.__name__ for cls in checked}
    assert not missing, f"ops with backward_graph that no second-order case reaches: {missing}"


@pytest.mark.parametrize("case", SECOND_ORDER_CASES, ids=lambda c: c.name)
@settings(max_examples=4)
@given(data=st.data())
def test_second_derivatives_match_finite_differences(case, data):
    arrays, kwargs = data.draw(case.inputs)
    arrays = [away_from(a, SECOND_ORDER_KINKS.get(case.name, ()), 0.02) for a in arrays]
    gradgradcheck(case.fn, arrays, kwargs, eps=case.eps, atol=max(case.atol, 1e-5),
                  rtol=max(case.rtol, 1e-3), requires_grad=case.requires_grad)


def test_an_op_without_a_differentiable_backward_is_named():
    x = Tensor(np.ones((2, 5, 5, 1)), requires_grad=True)
    out = npgrad.ops.sin(x).sum()
    with pytest.raises(NotImplementedError, match="UnaryMath.*second-order"):
        npgrad.autograd.grad(out, x, create_graph=True)
