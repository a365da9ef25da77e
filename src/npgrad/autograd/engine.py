"""The backward engine: an iterative, topologically ordered walk over the graph.

The graph is implicit: each non-leaf Tensor keeps ``_ctx``, the Function that made it,
and the Function keeps its ``inputs``. ``backward`` sorts the nodes reachable from the
output (an explicit stack, no recursion, so a 10,000-op chain is fine), then visits them
output-first, calling each op's backward exactly once with the sum of the gradients that
reached it. Gradients are un-broadcast to each input's shape here, once, for every op.
Saved arrays are dropped as soon as an op's backward has run.
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


def _topological_order(root):
    """Nodes (Tensors with requires_grad) reachable from root, each after all its consumers."""
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
        ctx = node._ctx
        if ctx is not None:
            for parent in ctx.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()  # output first
    return order


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

    grads = {id(root): grad}
    handed_out = {id(grad)}  # arrays a caller or a leaf holds: never give them out twice
    for node in _topological_order(root):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        if ctx is None or node._retain_grad:
            # a leaf's .grad must be its own array: an op may hand the same array (or a view
            # of one) to several inputs, and users scale gradients in place
            if node.grad is not None:
                node.grad = node.grad + g
            elif g.base is not None or id(g) in handed_out:
                node.grad = g.copy()
            else:
                node.grad = g
                handed_out.add(id(g))
            if ctx is None:
                continue
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
            pg = unbroadcast(pg, parent.data.shape)
            if pg.dtype != parent.data.dtype:
                pg = pg.astype(parent.data.dtype)
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        if not retain_graph:  # free saved arrays and cached masks; keep the graph's edges
            inputs, needs = ctx.inputs, ctx.needs_input_grad
            ctx.__dict__.clear()
            ctx.inputs, ctx.needs_input_grad, ctx.saved = inputs, needs, None
