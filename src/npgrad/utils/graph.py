"""``get_source_inputs`` (``keras.utils.get_source_inputs``): the ``Input`` tensors a
symbolic tensor of a functional graph is computed from.

Example:
    >>> a, b = npgrad.Input((3,)), npgrad.Input((3,))
    >>> out = npgrad.layers.Dense(1)(npgrad.layers.Concatenate()([a, b]))
    >>> npgrad.utils.get_source_inputs(out) == [a, b]
    True
"""

from __future__ import annotations

__all__ = ["get_source_inputs"]


def get_source_inputs(tensor):
    """The input tensors needed to compute ``tensor``, walking its graph back.

    Args:
        tensor: a symbolic tensor (what ``npgrad.Input`` and the layers called on it
            return).

    Returns:
        A list of the ``Input`` tensors ``tensor`` depends on, each once, in the order the
        graph is walked (a layer's inputs from first to last). An ``Input`` tensor gives
        ``[tensor]``; a tensor without a layer history gives ``[tensor]`` too, and anything
        without ``_keras_history`` (an array) is returned as it is, as in Keras.
    """
    if not hasattr(tensor, "_keras_history"):
        return tensor
    sources, seen, visited, stack = [], set(), set(), [tensor]
    # depth first, a node's inputs in order, without recursion (deep graphs); a tensor
    # reached twice (a branch that joins again) is walked once
    while stack:
        current = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        history = current._keras_history
        nodes = getattr(history[0], "_inbound_nodes", None) if history else None
        if not nodes:
            found = [current]
        else:
            node = nodes[history[1]]
            if not node.is_input:
                stack.extend(reversed(node.input_tensors))
                continue
            found = node.output_tensors
        for source in found:
            if id(source) not in seen:
                seen.add(id(source))
                sources.append(source)
    return sources
