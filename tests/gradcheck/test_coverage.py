"""The registry must cover every Function subclass in npgrad.primitives and every public F name."""

import importlib
import pkgutil

import npgrad
import npgrad.functional as F
import npgrad.primitives
from npgrad.autograd.engine import graph_ops
from npgrad.autograd.function import Function
from npgrad.autograd.tensor import Tensor
from tests.gradcheck.registry import ALL_CASES, one_example


def _all_function_classes():
    for info in pkgutil.iter_modules(npgrad.primitives.__path__):
        importlib.import_module(f"npgrad.primitives.{info.name}")
    seen, stack = set(), [Function]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("npgrad.") and sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return seen


def _classes_in_graph(out):
    return {type(op) for op in graph_ops(out)}


def test_every_public_functional_name_has_a_case():
    covered = {c.name for c in ALL_CASES} | {n for c in ALL_CASES for n in c.covers}
    missing = sorted(set(F.__all__) - covered)
    assert not missing, f"F names without a gradient-check case: {missing}"


def test_every_function_subclass_is_exercised_by_a_case():
    exercised = set()
    for case in ALL_CASES:
        arrays, kwargs = one_example(case.inputs)
        out = case.fn(*[Tensor(a, requires_grad=True) for a in arrays], **kwargs)
        exercised |= _classes_in_graph(out)
    missing = sorted(c.__qualname__ for c in _all_function_classes() - exercised)
    assert not missing, f"Function subclasses no gradient-check case exercises: {missing}"
