"""``npgrad.preprocessing``, as ``keras.preprocessing``: data helpers outside the model.

(The augmentation *layers* live in ``npgrad.layers``: RandomFlip, RandomRotation, ...)
"""

from npgrad.preprocessing import sequence

__all__ = ["sequence"]
