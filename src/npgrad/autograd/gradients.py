"""Gradients returned rather than accumulated: ``grad``, PyTorch's ``torch.autograd.grad``,
and with ``create_graph=True`` gradients that can be differentiated again.

``Tensor.backward`` adds d(loss)/d(leaf) into every leaf's ``.grad`` (an ndarray), the
training loop's need. A gradient penalty, a Hessian-vector product or a look-ahead step
needs the gradient as a value of its own, and often as a Tensor in the graph: ``grad``
walks the same graph with the same engine, but hands back the gradients of the inputs it
is asked for, runs only the ops that lead to them, and with ``create_graph`` calls each
op's ``backward_graph`` (its backward written with recorded ops) instead of ``backward``.
"""

from __future__ import annotations

from npgrad.autograd import engine
from npgrad.autograd.tensor import Tensor


def _as_tuple(values, what):
    values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    if not values:
        raise ValueError(f"grad: {what} is empty")
    return values


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (PyTorch's
    ``torch.autograd.grad``): nothing is accumulated into any ``.grad``.

    With ``create_graph=True`` the gradients are computed with recorded ops, so they can be
    differentiated again: a gradient penalty (WGAN-GP), a Hessian-vector product, a
    meta-learning step. Every op that the outputs were computed with must then have a
    differentiable backward (``Function.backward_graph``); one without it raises
    ``NotImplementedError`` naming it.

    Args:
        outputs: a Tensor or a sequence of Tensors to differentiate.
        inputs: a Tensor or a sequence of Tensors (leaves or intermediates) that require grad.
        grad_outputs: one upstream gradient per output (None: ones, for one-element outputs).
        retain_graph: keep the graph's saved arrays for another backward; defaults to
            ``create_graph`` (the new graph reads them).
        create_graph: record the backward computation (gradients that require grad).
        allow_unused: give None for an input the outputs do not depend on, instead of an error.

    Returns:
        A tuple of Tensors, one per input, each of the input's shape.

    Example:
        >>> x = npgrad.tensor([1.0, 2.0], requires_grad=True)
        >>> (g,) = npgrad.autograd.grad((x ** 3).sum(), x, create_graph=True)   # 3 x^2
        >>> npgrad.autograd.grad(g.sum(), x)[0].numpy()                        # 6 x
        array([ 6., 12.], dtype=float32)
    """
    outputs, inputs = _as_tuple(outputs, "outputs"), _as_tuple(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs, "grad_outputs")
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    grads, roots = {}, []
    for k, (out, seed) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"grad: outputs[{k}] must be a Tensor, got {type(out).__name__}")
        g = engine.seed_gradient(f"grad (outputs[{k}])", out, seed)
        if create_graph:  # a Tensor given as grad_outputs may itself be differentiated
            g = seed if isinstance(seed, Tensor) and seed.shape == out.shape else Tensor(g)
        node = engine.node_of(out)
        roots.append(node)
        grads[id(node)] = g if id(node) not in grads else grads[id(node)] + g
    targets = {}
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{k}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{k}] does not require grad (set requires_grad=True "
                               "before computing the outputs)")
        targets.setdefault(id(engine.node_of(t)), []).append(k)
    order = engine.topological_order(*roots)
    live = set()  # the nodes that lead to an input: the walk runs no other op
    for node in reversed(order):
        if id(node) in targets or (node.is_op and any(id(p) in live for p in node.inputs)):
            live.add(id(node))
    found = [None] * len(inputs)

    def take(node, g):
        for k in targets.get(id(node), ()):
            found[k] = g

    with engine.enable_grad() if create_graph else engine.no_grad():
        engine.propagate(order, grads, take, retain_graph, differentiable=create_graph, live=live)
    results = []
    for k, g in enumerate(found):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: inputs[{k}] was not used to compute the outputs; "
                                   "pass allow_unused=True to get None for it")
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:  # an array an op may share (a broadcast view, a saved array): the caller's own
            results.append(Tensor(g.copy() if g.base is not None or any(g is other for other in found[:k]) else g))
    return tuple(results)
