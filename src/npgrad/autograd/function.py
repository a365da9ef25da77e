"""The Function base class: one differentiable op, its forward and backward side by side.

An op subclasses :class:`Function`, implements ``forward`` on plain NumPy arrays and
``backward`` returning one gradient per positional input, in the *output's* broadcast
shape; the engine sums broadcast axes back to each input's shape. Positional arguments of
``apply`` are the differentiable inputs (Tensors, arrays or Python numbers); keyword
arguments are constants (axes, strides, integer labels, masks) passed to ``forward`` as is.

Dtype rule (one rule, applied here for every op): floating inputs keep their dtype and
combine as NumPy combines them; integer, boolean and Python-number inputs take the
floating dtype of the op's other inputs, or ``npgrad.config.floatx()`` (float32) when there
is none. One exception, as Keras: with no float among the inputs, the ops that only move
values (reshape, indexing, concatenation...) keep integers and booleans, and exact integer
arithmetic (add, subtract, multiply, negative, abs, maximum, minimum, matmul) keeps
integers (``Function.integer_kinds``).
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd import engine
from npgrad.autograd.gradients import grad as grad_of
from npgrad.autograd.tensor import Tensor, default_float


class Function:
    """Base class of every differentiable op.

    Subclasses implement ``forward(*arrays, **constants)`` returning an ndarray and
    ``backward(grad)`` returning a tuple with one ndarray (or None) per positional input.

    Attributes:
        needs_input_grad: tuple of bools, one per positional input, set before ``forward``
            runs: check it before computing a costly gradient (or saving arrays) nobody needs.
        saved: the arrays given to :meth:`save_for_backward`; freed after backward.
        inputs: the graph's edges, one per positional input: the op that made it, or the
            input Tensor itself when no op made it (a leaf) or it needs no gradient.
        out_shape, out_dtype: the output's shape and dtype (what its gradient must have).
    """

    # a graph node: the op that made a tensor (engine.node_of); leaves are their Tensors
    is_op = True
    requires_grad = True
    # ops whose input Tensors stay reachable from the output (``input_tensors``) until
    # backward: a softmax's or sigmoid's logits, which the probabilistic losses recover
    keeps_input_tensors = False
    # the dtype kinds an op computes in as they come when every input has one of them, no
    # float to take (the dtype rule's exception): "iub" for ops that only move values
    # (reshape, indexing, concatenation), "iu" for exact integer arithmetic (add, multiply,
    # matmul...). Integer ids then stay exact (int64 above 2**24 does not survive float32),
    # as in Keras; such a result needs no gradient.
    integer_kinds = ""
    retained = None  # a weak reference to the output Tensor, set by its retain_grad()

    def save_for_backward(self, *arrays):
        """Keep arrays that ``backward`` needs; the engine frees them after use."""
        self.saved = arrays

    def forward(self, *arrays, **constants):  # pragma: no cover - abstract
        """Compute the output ndarray from the input ndarrays (override)."""
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        """Return one gradient (or None) per positional input, given d(loss)/d(output) (override)."""
        raise NotImplementedError

    def backward_graph(self, grad):
        """``backward`` written with recorded ops, for gradients that are differentiated
        again (``npgrad.autograd.grad(..., create_graph=True)``): ``grad`` is a Tensor, and
        so is each returned gradient. Read the inputs and the output through
        :meth:`graph_input` and :meth:`graph_output`, so the next backward reaches them.
        Override it: an op without one cannot be differentiated twice."""
        raise NotImplementedError(
            f"{type(self).__name__}: this op has no second-order gradient yet (no "
            "backward_graph), so create_graph=True cannot differentiate through it"
        )

    def graph_input(self, i, value):
        """Positional input ``i`` as a Tensor that leads back into the graph: the input's
        own Tensor when it is a leaf or a constant, else a Tensor of ``value`` (the input's
        value, which the op saved) whose gradient goes to the op that made it."""
        node = self.inputs[i]
        if not node.is_op:
            return node
        return _graph_tensor(value, node)

    def graph_output(self, value):
        """This op's output (``value``, saved by forward) as a Tensor made by this op: a
        backward that multiplies by the output (exp, sigmoid, tanh) reaches the inputs
        through it."""
        return _graph_tensor(value, self)

    @classmethod
    def apply(cls, *inputs, **constants):
        """Run the op on Tensors/arrays/numbers and record it in the graph when needed.

        Returns:
            A new :class:`Tensor` holding the forward result.
        """
        if cls.integer_kinds and _maybe_integral(inputs[0]):
            arrays = _integer_arrays(inputs, cls.integer_kinds)
            if arrays is not None:
                fn = cls()
                fn.saved = ()
                fn.needs_input_grad = (False,) * len(arrays)
                return Tensor(fn.forward(*arrays, **constants))
        tensors = _as_tensors(inputs, cls.__name__)
        fn = cls()
        fn.saved = ()
        # known before forward, so an op can skip work that only backward needs
        if engine.is_grad_enabled():
            fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
        else:
            fn.needs_input_grad = (False,) * len(tensors)
        out = fn.forward(*[t.data for t in tensors], **constants)
        if any(fn.needs_input_grad):
            # the graph's edges: an input an op made is reached through that op, not through
            # its Tensor, so an intermediate array lives only while the user or an op's
            # saved arrays hold it (a ReLU's input is gone once its Tensor is)
            fn.inputs = tuple(engine.node_of(t) for t in tensors)
            fn.out_shape, fn.out_dtype = out.shape, out.dtype
            if cls.keeps_input_tensors:
                fn.input_tensors = tensors
            result = Tensor(out, requires_grad=True)
            result._ctx = fn
            return result
        return Tensor(out)


class Linearized(Function):
    """An op's derivative as an op of its own, for an op whose backward is a fixed linear map
    of the gradient (pooling, upsampling, a gather): ``transpose=True`` applies that backward,
    J^T v, and ``transpose=False`` the op's ``jvp``, J v. Each is the other's adjoint, so
    each one's backward is the other: the op is differentiable to any order. The op keeps
    what the map needs (a max-pool's winners, an index) and must define ``jvp(tangent)``.
    """

    def forward(self, v, op=None, transpose=True):
        # a shallow copy of the op: the engine clears an op once its own backward has run,
        # and nothing orders that before this op's backward (the op is no input of it)
        self.op = object.__new__(type(op))
        self.op.__dict__.update(op.__dict__)
        self.transpose = transpose
        return self._apply(v, transpose)

    def backward(self, grad):
        return (self._apply(grad, not self.transpose),)

    def _apply(self, v, transpose):
        if self.op.saved is None:  # the op's backward ran without retain_graph
            raise RuntimeError(
                "backward: trying to backward through the graph a second time; its saved "
                "arrays were freed. Pass retain_graph=True to the first backward.")
        return self.op.backward(v)[0] if transpose else self.op.jvp(v)

    def backward_graph(self, grad):
        return (Linearized.apply(grad, op=self.op, transpose=not self.transpose),)


def linear_backward_graph(op, grad):
    """``backward_graph`` of an op whose backward is a fixed linear map of the gradient
    (assign it, and define ``jvp``): that backward, applied as a recorded op."""
    return (Linearized.apply(grad, op=op),)


class Identity(Function):
    """y = x, a node of its own in the graph (``composed_backward_graph`` differentiates with
    respect to these, so its walk stops at them). With ``value``, y is that array instead,
    x plus a constant (x - mean for a normalization): the gradient still passes as is."""

    def forward(self, x, value=None):
        return x if value is None else value

    def backward(self, grad):
        return (grad,)

    backward_graph = backward


def composed_backward_graph(op, grad):
    """``backward_graph`` of a fused op from its composition: the gradient of
    ``op.composed(*inputs)``, its forward written with recorded ops (the reference the fused
    op is pinned to), taken with ``create_graph``. The op defines ``composed(*tensors)`` and
    ``composed_inputs()``, the values to call it at: its positional inputs' values, or
    values that differ from them by constants the composition's derivatives ignore (a
    normalization's x - mean)."""
    cuts = [Identity.apply(op.graph_input(i, value), value=value)
            for i, value in enumerate(op.composed_inputs())]
    wanted = [cut for cut, needs in zip(cuts, op.needs_input_grad) if needs]
    found = iter(grad_of(op.composed(*cuts), wanted, grad_outputs=grad, create_graph=True,
                         allow_unused=True))
    return tuple(next(found) if needs else None for needs in op.needs_input_grad)


def _graph_tensor(value, op):
    tensor = Tensor(value, requires_grad=True)
    tensor._ctx = op
    return tensor


def _maybe_integral(x):
    """False for a float Tensor or array, the common first input (a quick way out)."""
    data = x.data if type(x) is Tensor else x
    return not (isinstance(data, np.ndarray) and data.dtype.kind == "f")


def _integer_arrays(inputs, kinds):
    """The inputs as arrays when each is an array (or Tensor) of one of ``kinds`` or a Python
    int, and at least one is an array; else None. Python ints take the arrays' dtype, as
    Keras's weak scalars (an int32 tensor plus 1 stays int32)."""
    dtypes = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else x
        if isinstance(data, np.ndarray):
            if data.dtype.kind not in kinds:
                return None
            dtypes.append(data.dtype)
        elif not isinstance(data, (int, np.integer)) or isinstance(data, bool):
            return None
    if not dtypes:
        return None
    scalar = np.result_type(*dtypes)
    return [x.data if isinstance(x, Tensor) else
            x if isinstance(x, np.ndarray) else np.asarray(x, dtype=scalar) for x in inputs]


def _as_tensors(inputs, op_name):
    """Wrap the positional inputs as Tensors, applying the module's dtype rule."""
    float_dtype = None
    for x in inputs:
        dtype = x.dtype if isinstance(x, (Tensor, np.ndarray)) else None
        if dtype is not None and dtype.kind == "f":
            float_dtype = dtype if float_dtype is None else np.promote_types(float_dtype, dtype)
    if float_dtype is None:
        float_dtype = default_float()  # npgrad.config.floatx()
    tensors = []
    for x in inputs:
        if isinstance(x, Tensor):
            if x.data.dtype.kind != "f":
                x = Tensor(x.data.astype(float_dtype))
        elif isinstance(x, np.ndarray):
            x = Tensor(x if x.dtype.kind == "f" else x.astype(float_dtype))
        elif isinstance(x, (bool, int, float, np.number)):
            x = Tensor(np.asarray(x, dtype=float_dtype))
        else:
            try:
                x = Tensor(np.asarray(x, dtype=float_dtype))
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{op_name}: expected a Tensor, ndarray or number as input, "
                    f"got {type(x).__name__}"
                ) from exc
        tensors.append(x)
    return tensors
