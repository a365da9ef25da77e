"""``npgrad.preprocessing``, as ``keras.preprocessing``: data helpers outside the model.

(The augmentation *layers* live in ``npgrad.layers``: RandomFlip, RandomRotation, ...)
"""

from npgrad.preprocessing import sequence
from npgrad.utils.dataset_utils import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
