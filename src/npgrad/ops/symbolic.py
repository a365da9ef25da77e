"""How ``npgrad.ops`` functions meet symbolic tensors, without knowing what they are.

Every public op is decorated with :func:`keras_op`. Called on Tensors, arrays or numbers it
runs at once. Called with a symbolic tensor anywhere in its arguments (a ``KerasTensor`` from
``npgrad.Input``, also inside lists such as ``ops.concatenate([a, b])``), it hands the call to
the handler registered for that type: ``npgrad.layers`` registers one that records an
``OpLayer`` node of the functional graph (Keras 3 records an ``Operation``). The ops package
therefore imports nothing from the layers above it.

Each op has a public name, the path under ``npgrad.ops`` (``"add"``, ``"image.resize"``): a
saved model stores that name, and :func:`get_op` turns it back into the function, accepting
only functions decorated here.
"""

from __future__ import annotations

import functools

_HANDLERS = {}  # symbolic type -> handler(op, args, kwargs)
_TYPES = ()  # the registered types, for one isinstance test
_OPS = {}  # public name -> decorated function
#: modules whose ops live in a sub-namespace only (``npgrad.ops.image.resize``)
SUB_NAMESPACES = ("image",)


def register_symbolic_type(cls, handler):
    """Route op calls that receive an instance of ``cls`` to ``handler(op, args, kwargs)``.

    ``op`` is the decorated function (``op.op_name`` its public name); the handler returns
    the symbolic result.
    """
    global _TYPES
    _HANDLERS[cls] = handler
    _TYPES = tuple(_HANDLERS)


def find_symbolic(value):
    """The registered symbolic type of the first symbolic tensor in ``value`` (a tensor, or a
    list/tuple/dict holding some), or None."""
    if isinstance(value, _TYPES):
        return type(value)
    if isinstance(value, (list, tuple)):
        for item in value:
            found = find_symbolic(item)
            if found is not None:
                return found
    elif isinstance(value, dict):
        return find_symbolic(list(value.values()))
    return None


def keras_op(fn):
    """Make ``fn`` a public op: symbolic calls go to the registered handler; registered by name."""
    module = fn.__module__.rsplit(".", 1)[-1]
    name = f"{module}.{fn.__name__}" if module in SUB_NAMESPACES else fn.__name__

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if _TYPES:
            kind = find_symbolic(args) or (find_symbolic(kwargs) if kwargs else None)
            if kind is not None:
                for cls in kind.__mro__:
                    if cls in _HANDLERS:
                        return _HANDLERS[cls](op, args, kwargs)
        return fn(*args, **kwargs)

    op.op_name = name
    _OPS[name] = op
    return op


def get_op(name):
    """The public op called ``name`` (``"add"``, ``"nn.softmax"`` = ``"softmax"``, ``"image.resize"``).

    Raises:
        ValueError: no op of that name (nothing else is ever looked up).
    """
    if isinstance(name, str) and name.startswith(("nn.", "numpy.", "linalg.", "core.", "math.")):
        name = name.split(".", 1)[1]
    try:
        return _OPS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown npgrad.ops function {name!r}") from None
