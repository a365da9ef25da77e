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


#: Keras 3 also exports the serialization helpers of ``npgrad.saving`` under ``keras.utils``;
#: they are looked up on first use (``npgrad.saving`` stands on the layers, which stand on
#: this package)
_FROM_SAVING = (
    "register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
    "get_custom_objects", "custom_object_scope", "CustomObjectScope", "get_registered_name",
    "get_registered_object",
)


def __getattr__(name):
    if name in _FROM_SAVING:
        from npgrad import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'npgrad.utils' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_FROM_SAVING))
