"""Utilities, as ``keras.utils``: seeding, label encoding, padding, plotting, downloads,
dataset splitting, progress bar, gradient checking, threads, and the data helpers of custom
steps (``PyDataset``, ``pack/unpack_x_y_sample_weight``)."""

from npgrad.utils.dataset_utils import split_dataset, timeseries_dataset_from_array
from npgrad.utils.file_download import get_file
from npgrad.utils.gradcheck import GradcheckError, gradcheck
from npgrad.utils.labels import to_categorical
from npgrad.utils.session import clear_session
from npgrad.utils.model_plot import model_to_dot, plot_model
from npgrad.utils.numerical import normalize
from npgrad.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from npgrad.utils.progbar import Progbar
from npgrad.utils.py_dataset import PyDataset
from npgrad.utils.seeding import set_random_seed
from npgrad.utils.sequences import pad_sequences
from npgrad.utils.threads import adapt_num_threads, get_num_threads, set_num_threads

__all__ = [
    "clear_session", "gradcheck", "GradcheckError", "set_random_seed", "to_categorical", "get_num_threads",
    "set_num_threads", "adapt_num_threads", "PyDataset", "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight", "Progbar", "get_file", "model_to_dot", "normalize",
    "pad_sequences", "plot_model", "split_dataset", "timeseries_dataset_from_array",
]  # fmt: skip
