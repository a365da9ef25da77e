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
        grad: gradient in the broadcast (output) shape.
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
        grad = np.broadcast_to(grad, shape)
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


def _topological_order(root):
    """Nodes (ops, and leaves with requires_grad) reachable from root, each after all its
    consumers."""
    order, visited = [], set()
    stack = [(root, False)]
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


def _store_grad(tensor, g, handed_out):
    """Add ``g`` to ``tensor.grad``; a tensor's .grad must be its own array: an op may hand
    the same array (or a view of one) to several inputs, and users scale gradients in place."""
    if tensor.grad is not None:
        tensor.grad = tensor.grad + g
    elif g.base is not None or id(g) in handed_out:
        tensor.grad = g.copy()
    else:
        tensor.grad = g
        handed_out.add(id(g))


# what an op keeps of itself once its backward has run: its place in the graph
_KEPT = ("inputs", "needs_input_grad", "out_shape", "out_dtype", "retained")


def backward(root, grad=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        root: the Tensor to differentiate (usually a scalar loss).
        grad: upstream gradient of root's shape; defaults to ones for a scalar root.
        retain_graph: keep saved arrays so backward can run through the graph again.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input had requires_grad=True, "
            "or it was computed under no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a scalar output, got shape "
                f"{root.shape}; pass grad= of that shape"
            )
        grad = np.ones_like(root.data)
    else:
        grad = np.asarray(grad.data if hasattr(grad, "data") else grad, dtype=root.data.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward: grad shape {grad.shape} does not match tensor {root.shape}")

    start = node_of(root)
    grads = {id(start): grad}
    handed_out = {id(grad)}  # arrays a caller or a leaf holds: never give them out twice
    for node in _topological_order(start):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if not node.is_op:  # a leaf
            _store_grad(node, g, handed_out)
            continue
        ctx = node
        retained = ctx.retained() if ctx.retained is not None else None
        if retained is not None:
            _store_grad(retained, g, handed_out)
        if ctx.saved is None:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time; its saved "
                "arrays were freed. Pass retain_graph=True to the first backward."
            )
        input_grads = ctx.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, needs, pg in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
            if not needs or pg is None:
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
