"""``npgrad.ops``: Keras 3's ``keras.ops`` on npgrad Tensors, the one public op namespace.

``from keras import ops`` becomes ``from npgrad import ops``. The NumPy-style functions
(creation, math, reductions, shape and indexing, products), the core ops (``cast``,
``convert_to_tensor``, ``convert_to_numpy``, ``shape``, ``stop_gradient``, control flow),
the neural-network ops (``ops.nn``: activations, ``one_hot``, ``softmax``, ``conv``,
``max_pool``, ``moments``, cross-entropies...), the math extras (``logsumexp``, ``top_k``,
``erf``, segment reductions) and linear algebra (``ops.linalg``) are all available at the top
level, as in Keras; image ops live in ``ops.image``.

Every function takes Tensors, NumPy arrays or numbers and returns npgrad Tensors; those on
floats are differentiable through npgrad's autograd (``loss.backward()``). Called on the
symbolic tensors of a functional model (``npgrad.Input``), they record graph nodes instead,
which save and load with the model:

    >>> from npgrad import ops
    >>> x = npgrad.Input((8, 4))
    >>> y = ops.mean(x, axis=1) + 1.0          # two nodes of the graph
    >>> model = npgrad.Model(x, y)

Example (eager):
    >>> ops.softmax(ops.ones((2, 3)))          # Tensor of 1/3s
"""

from npgrad.ops import core, creation, elementwise, image, linalg, math, nn, reductions, shape
from npgrad.ops import numpy
from npgrad.ops.core import *  # noqa: F401,F403
from npgrad.ops.linalg import *  # noqa: F401,F403
from npgrad.ops.math import *  # noqa: F401,F403
from npgrad.ops.nn import *  # noqa: F401,F403
from npgrad.ops.numpy import *  # noqa: F401,F403
from npgrad.ops.symbolic import get_op

__all__ = sorted(set(core.__all__) | set(linalg.__all__) | set(math.__all__) | set(nn.__all__)
                 | set(numpy.__all__)) + ["image", "linalg", "nn", "numpy", "get_op"]
