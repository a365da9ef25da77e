"""``npgrad.ops.numpy``: the NumPy-named ops (Keras's ``keras.ops.numpy``), gathered from
:mod:`~npgrad.ops.creation`, :mod:`~npgrad.ops.elementwise`, :mod:`~npgrad.ops.reductions`
and :mod:`~npgrad.ops.shape`. Every name is also available directly as ``npgrad.ops.<name>``.
"""

from npgrad.ops.creation import *  # noqa: F401,F403
from npgrad.ops.creation import __all__ as _creation
from npgrad.ops.elementwise import *  # noqa: F401,F403
from npgrad.ops.elementwise import __all__ as _elementwise
from npgrad.ops.reductions import *  # noqa: F401,F403
from npgrad.ops.reductions import __all__ as _reductions
from npgrad.ops.shape import *  # noqa: F401,F403
from npgrad.ops.shape import __all__ as _shape

__all__ = sorted(set(_creation + _elementwise + _reductions + _shape))
