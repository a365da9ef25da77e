"""``npgrad.preprocessing``, as ``keras.preprocessing``: data helpers outside the model.

(The augmentation *layers* live in ``npgrad.layers``: RandomFlip, RandomRotation, ...)
"""

from npgrad.preprocessing import image, sequence
from npgrad.utils.dataset_utils import timeseries_dataset_from_array
from npgrad.utils.image_dataset import image_dataset_from_directory

__all__ = ["image", "image_dataset_from_directory", "sequence", "timeseries_dataset_from_array"]
