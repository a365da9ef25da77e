"""Utilities: gradient checking, seeding, label encoding, progress bar, summary table, and
the data helpers of custom steps (``PyDataset``, ``pack/unpack_x_y_sample_weight``)."""

from npgrad.utils.gradcheck import GradcheckError, gradcheck
from npgrad.utils.labels import to_categorical
from npgrad.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from npgrad.utils.py_dataset import PyDataset
from npgrad.utils.seeding import set_random_seed
from npgrad.utils.threads import adapt_num_threads, get_num_threads, set_num_threads

__all__ = [
    "gradcheck", "GradcheckError", "set_random_seed", "to_categorical", "get_num_threads",
    "set_num_threads", "adapt_num_threads", "PyDataset", "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight",
]
