"""``npgrad.preprocessing.sequence``, as ``keras.preprocessing.sequence``: the same functions
as ``npgrad.utils.pad_sequences`` and ``npgrad.utils.timeseries_dataset_from_array``."""

from npgrad.utils.dataset_utils import timeseries_dataset_from_array
from npgrad.utils.sequences import pad_sequences

__all__ = ["pad_sequences", "timeseries_dataset_from_array"]
