"""The backward engine: an iterative, topologically ordered walk over the graph.

The graph is implicit: each non-leaf Tensor keeps ``_ctx``, the Function that made it,
and the Function keeps its ``inputs``: for each input, the Function that made it, or the
input Tensor itself when it is a leaf. The nodes of the graph are those ops and leaves, as
in PyTorch (grad_fn and AccumulateGrad), not the intermediate Tensors: an intermediate's
array lives only while the user or an op's saved arrays hold it. ``backward`` sorts the
nodes reachable from the output (an explicit stack, no recursion, so a 10,000-op chain is
fine), then visits them output-first, calling each op's backward exactly once with the sum
of the gradients that reached it. Gradients are un-broadcast to each input's shape here,
once, for every op. Saved arrays are dropped as soon as an op's backward has run.
"""

from __future__ import annotations

import contextlib
import sys
import threading

import numpy as np


class _GradMode(threading.local):
    """Whether ops are recorded, per thread (as PyTorch's grad mode): the replicas of a
    thread-parallel step (``DataParallel(threads=...)``) each keep their own."""

    enabled = True


_mode = _GradMode()


def is_grad_enabled():
    """Return True when operations are recorded for backward (in this thread)."""
    return _mode.enabled


def set_grad_enabled(enabled):
    """Turn recording on or off in this thread; returns the previous setting."""
    previous, _mode.enabled = _mode.enabled, bool(enabled)
    return previous


@contextlib.contextmanager
def _grad_mode(enabled):
    previous = set_grad_enabled(enabled)
    try:
        yield
    finally:
        _mode.enabled = previous


def no_grad():
    """Context manager in which no graph is built (inference, weight updates).

    Example:
        >>> with npgrad.no_grad():
        ...     y = model(x)          # y.requires_grad is False, no memory kept for backward
    """
    return _grad_mode(False)


def enable_grad():
    """Context manager that re-enables graph building inside ``no_grad``."""
    return _grad_mode(True)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``grad.shape``.

    Args:
        grad: gradient in the broadcast (output) shape: an ndarray, or a Tensor in a
            differentiable backward (its ``sum`` and ``reshape`` are recorded ops).
        shape: the shape of the input the gradient belongs to.

    Returns:
        ndarray of exactly ``shape``.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        if isinstance(grad, np.ndarray):
            grad = np.broadcast_to(grad, shape)
        else:  # a Tensor (a differentiable backward): broadcast by a recorded add
            grad = grad + np.zeros(shape, dtype=grad.dtype)
    return grad


def node_of(tensor):
    """The graph node of ``tensor``: the op that made it, or the tensor itself (a leaf, or a
    tensor whose ``requires_grad`` was turned off)."""
    ctx = tensor._ctx
    return ctx if ctx is not None and tensor.requires_grad else tensor


def node_shape(node):
    """The shape of the array a graph node stands for (what its gradient must have)."""
    return node.out_shape if node.is_op else node.data.shape


def graph_ops(tensor):
    """Every op (Function) in the graph that made ``tensor``, each once, output first."""
    found, seen, stack = [], set(), [node_of(tensor)]
    while stack:
        node = stack.pop()
        if not node.is_op or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(node.inputs)
    return found


def topological_order(*roots):
    """Nodes (ops, and leaves with requires_grad) reachable from the roots, each after all
    its consumers."""
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node.is_op:
            for parent in node.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()  # output first
    return order


def _calibrated(count, make, held):
    """What ``count(make())`` gives when nothing else refers to the array it counts,
    measured on this interpreter; None where one more holder of it (``held(made)``) does not
    raise the count (then the engine trusts no count: it copies, and sums out of place)."""
    alone = count(make())
    made = make()
    second = held(made)  # noqa: F841 - a second holder while counting
    return alone if count(made) > alone else None


def _base_references(view):
    """How many references the array ``view`` looks at has, counted from here."""
    base = view.base
    return sys.getrefcount(base)


# what _base_references counts for a view that alone holds its base (an op's fresh result,
# reshaped)
_ALONE = _calibrated(_base_references, lambda: np.empty(4).reshape(2, 2), lambda v: v.base)


def _owns_its_base(g):
    """Whether the view ``g`` covers the whole of an array that nothing else refers to: an
    op's fresh result reshaped (a weight gradient made as a product of another shape, an
    embedding table's sums). Such a view can be a ``.grad`` as it is: nobody else can write
    into it, and it keeps no more memory alive than itself."""
    if _ALONE is None or not g.flags.writeable or _base_references(g) > _ALONE:
        return False  # (counted before a local holds the array)
    base = g.base
    return type(base) is np.ndarray and base.base is None and base.nbytes == g.nbytes


def _grad_references(holder):
    """How many references ``holder.grad`` has, counted from here."""
    grad = holder.grad
    return sys.getrefcount(grad)


class _Probe:
    def __init__(self):
        self.grad = np.empty(1)


# what _grad_references counts for a .grad that nothing but its tensor holds
_OWNED = _calibrated(_grad_references, _Probe, lambda probe: probe.grad)


def _adds_in_place(tensor, g):
    """Whether ``g`` may be added into ``tensor.grad`` in place: an array of its own (no
    view, writeable) that nobody else holds, of ``g``'s shape and dtype. A user's
    ``old = x.grad`` keeps ``old`` as it was: that reference makes the sum a new array.
    (No local name holds the gradient here: the count comes from the very function the
    probe above measured.)"""
    if _OWNED is None or type(g) is not np.ndarray or type(tensor.grad) is not np.ndarray:
        return False
    return (tensor.grad.base is None and tensor.grad.flags.writeable
            and tensor.grad.shape == g.shape and tensor.grad.dtype == g.dtype
            and not np.may_share_memory(tensor.grad, g)
            and _grad_references(tensor) <= _OWNED)


def _store_grad(tensor, g, handed_out):
    """Add ``g`` to ``tensor.grad``; a tensor's .grad must be its own array: an op may hand
    the same array (or a view of one) to several inputs, and users scale gradients in place.
    A view is copied unless it alone holds its array (:func:`_owns_its_base`): the kernels'
    and tables' gradients come out of their products reshaped, and copying them cost a
    pass over every weight a step (10 MB for a 20,000 x 128 embedding). A gradient that
    accumulates (a second backward before ``zero_grad``) is added in place where
    :func:`_adds_in_place` allows, as PyTorch's accumulation does: a new array each time
    cost an allocation and a pass (an (32, 32, 32, 64) float32 ReLU's backward into a
    leaf's gradient took 3.3 ms accumulating, 1.6 with the gradient reset)."""
    if tensor.grad is not None:
        if _adds_in_place(tensor, g):
            np.add(tensor.grad, g, out=tensor.grad)
        else:
            tensor.grad = tensor.grad + g
    elif id(g) in handed_out or (g.base is not None and not _owns_its_base(g)):
        tensor.grad = g.copy()
    else:
        tensor.grad = g
        handed_out.add(id(g))


# what an op keeps of itself once its backward has run: its place in the graph
_KEPT = ("inputs", "needs_input_grad", "out_shape", "out_dtype", "retained")


def seed_gradient(caller, root, grad):
    """The gradient (an ndarray) a walk starts from at ``root``: ones for a one-element
    root, else ``grad`` checked against the root's shape."""
    if not root.requires_grad:
        raise RuntimeError(
            f"{caller}: this tensor does not require grad (no input had requires_grad=True, "
            "or it was computed under no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{caller}: grad can be implicitly created only for a scalar output, got shape "
                f"{root.shape}; pass grad= of that shape"
            )
        return np.ones_like(root.data)
    array = np.asarray(grad.data if hasattr(grad, "data") else grad, dtype=root.data.dtype)
    if array.shape != root.shape:
        raise ValueError(f"{caller}: grad shape {array.shape} does not match tensor {root.shape}")
    return array


def propagate(order, grads, take, retain_graph, differentiable=False, live=None):
    """Walk ``order`` (output first): hand every node the sum of the gradients that reached
    it (``take(node, g)``), then run each op's backward once and pass the results on.

    Gradients are ndarrays, or Tensors when ``differentiable``: each op's ``backward_graph``
    then computes them with recorded ops, so they can be differentiated again. With
    ``live`` (ids of the nodes that lead to a wanted one), an op runs only if one of its
    inputs is live, and computes only the live inputs' gradients.
    """
    for node in order:
        g = grads.pop(id(node), None)
        if g is None:
            continue
        take(node, g)
        if not node.is_op:
            continue
        ctx = node
        needs = ctx.needs_input_grad
        if live is not None:
            wanted = tuple(n and id(p) in live for n, p in zip(needs, ctx.inputs))
            if not any(wanted):
                continue
            ctx.needs_input_grad = wanted
        if ctx.saved is None:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time; its saved "
                "arrays were freed. Pass retain_graph=True to the first backward."
            )
        try:
            input_grads = ctx.backward_graph(g) if differentiable else ctx.backward(g)
        finally:
            ctx.needs_input_grad = needs
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, needs_it, pg in zip(ctx.inputs, needs, input_grads):
            if not needs_it or pg is None or (live is not None and id(parent) not in live):
                continue
            if parent.is_op:
                shape, dtype = parent.out_shape, parent.out_dtype
            else:
                shape, dtype = parent.data.shape, parent.data.dtype
            pg = unbroadcast(pg, shape)
            if pg.dtype != dtype:
                pg = pg.astype(dtype)
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        if not retain_graph:  # free saved arrays and cached masks; keep the graph's edges
            kept = {name: ctx.__dict__[name] for name in _KEPT if name in ctx.__dict__}
            ctx.__dict__.clear()
            ctx.__dict__.update(kept)
            ctx.saved = None


def backward(root, grad=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        root: the Tensor to differentiate (usually a scalar loss).
        grad: upstream gradient of root's shape; defaults to ones for a scalar root.
        retain_graph: keep saved arrays so backward can run through the graph again.
    """
    grad = seed_gradient("backward", root, grad)
    start = node_of(root)
    handed_out = {id(grad)}  # arrays a caller or a leaf holds: never give them out twice

    def take(node, g):
        if not node.is_op:  # a leaf
            _store_grad(node, g, handed_out)
            return
        retained = node.retained() if node.retained is not None else None
        if retained is not None:
            _store_grad(retained, g, handed_out)

    propagate(topological_order(start), {id(start): grad}, take, retain_graph)

