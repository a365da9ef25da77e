"""Einstein summation (``np.einsum``) as one differentiable op.

Every operand's gradient is itself an einsum: the upstream gradient contracted with the other
operands, written to the operand's own subscripts. Ellipses are expanded into letters first;
an index repeated inside one operand (a diagonal, ``"ii->"``) is not supported.
"""

from __future__ import annotations

import string

import numpy as np

from npgrad.autograd.function import Function


def parse_subscripts(subscripts, shapes):
    """Explicit subscripts without ellipses: ``(["ij", "jk"], "ik")`` for ``"ij,jk"``.

    Raises:
        ValueError: the wrong number of operands, a label repeated in one operand, or ranks
            that do not match the subscripts.
    """
    subscripts = subscripts.replace(" ", "")
    inputs, _, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, got {len(shapes)}")
    used = set(inputs.replace(".", "").replace(",", ""))
    free = [c for c in string.ascii_letters if c not in used]
    ellipsis_rank = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes)
                         if "..." in t), default=0)
    ellipsis = "".join(free[:ellipsis_rank])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            rank = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ellipsis[len(ellipsis) - rank:] if rank else "")
        if len(term) != len(shape):
            raise ValueError(f"einsum: operand {term!r} has rank {len(shape)}, subscripts say {len(term)}")
        if len(set(term)) != len(term):
            raise ValueError(f"einsum: a label repeated within one operand ({term!r}) is not supported")
        expanded.append(term)
    if "->" in subscripts:
        output = output.replace("...", ellipsis)
    else:  # implicit mode: the ellipsis, then the labels used once, alphabetically
        counts = "".join(expanded)
        output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1
                                           and c not in ellipsis))
    return expanded, output


class Einsum(Function):
    """``np.einsum(subscripts, *operands)`` with explicit, ellipsis-free subscripts."""

    def forward(self, *operands, terms=None, output=None):
        self.terms, self.output = terms, output
        self.sizes = {}
        for term, operand in zip(terms, operands):
            self.sizes.update(zip(term, operand.shape))
        self.save_for_backward(*operands)
        return np.asarray(np.einsum(",".join(terms) + "->" + output, *operands, optimize=True))

    def backward(self, grad):
        return self._grads(grad, self.saved, _contract, _broadcast)

    def backward_graph(self, grad):
        operands = [self.graph_input(i, a) for i, a in enumerate(self.saved)]
        return self._grads(grad, operands, _contract_recorded, _broadcast_recorded)

    def _grads(self, grad, operands, contract, broadcast):
        grads = []
        for i, term in enumerate(self.terms):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            # dL/dA_i = einsum(grad, other operands -> term_i); labels of term_i absent
            # from the rest (summed away in the forward) come back by broadcasting
            others = [t for j, t in enumerate(self.terms) if j != i]
            ops = [operands[j] for j in range(len(operands)) if j != i]
            present = set(self.output).union(*others) if others else set(self.output)
            kept = "".join(c for c in term if c in present)
            d = contract((self.output, *others), kept, grad, *ops)
            shape = tuple(self.sizes[c] if c in present else 1 for c in term)
            grads.append(broadcast(d.reshape(shape), tuple(self.sizes[c] for c in term)))
        return tuple(grads)


def _contract(terms, output, *arrays):
    return np.einsum(",".join(terms) + "->" + output, *arrays, optimize=True)


def _broadcast(array, shape):
    return np.ascontiguousarray(np.broadcast_to(array, shape))  # a copy: gradients add up


def _contract_recorded(terms, output, *tensors):
    return Einsum.apply(*tensors, terms=tuple(terms), output=output)


def _broadcast_recorded(tensor, shape):
    return tensor + np.zeros(shape, dtype=tensor.dtype)


def einsum(subscripts, *operands):
    """Differentiable Einstein summation, as ``np.einsum`` (ellipses and implicit output work).

    Example:
        >>> einsum("bij,bjk->bik", a, b)           # batched matmul
    """
    shapes = [np.shape(getattr(x, "data", x)) for x in operands]
    terms, output = parse_subscripts(subscripts, shapes)
    return Einsum.apply(*operands, terms=tuple(terms), output=output)
