"""Utilities, as ``keras.utils``: seeding, label encoding, padding, plotting, downloads,
dataset splitting, progress bar, gradient checking, threads, image files (``array_to_img``,
``load_img``, ``image_dataset_from_directory``, ... with or without Pillow), ``Config``,
interactive logging, and the data helpers of custom steps (``PyDataset`` alias
``Sequence``, ``pack/unpack_x_y_sample_weight``)."""

from npgrad.utils.config_dict import Config
from npgrad.utils.dataset_utils import split_dataset, timeseries_dataset_from_array
from npgrad.utils.file_download import get_file
from npgrad.utils.gradcheck import GradcheckError, gradcheck, gradgradcheck
from npgrad.utils.graph import get_source_inputs
from npgrad.utils.image_dataset import image_dataset_from_directory
from npgrad.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from npgrad.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
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

#: Keras's older name of ``PyDataset`` (``keras.utils.Sequence``): the same class
Sequence = PyDataset

__all__ = [
    "clear_session", "gradcheck", "gradgradcheck", "GradcheckError", "set_random_seed", "to_categorical", "get_num_threads",
    "set_num_threads", "adapt_num_threads", "PyDataset", "Sequence", "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight", "Progbar", "get_file", "model_to_dot", "normalize",
    "pad_sequences", "plot_model", "split_dataset", "timeseries_dataset_from_array",
    "array_to_img", "img_to_array", "load_img", "save_img", "image_dataset_from_directory",
    "Config", "get_source_inputs",
    "enable_interactive_logging", "disable_interactive_logging",
    "is_interactive_logging_enabled", "is_keras_tensor", "standardize_dtype",
]  # fmt: skip


#: Keras 3 also exports the serialization helpers of ``npgrad.saving`` under ``keras.utils``;
#: they are looked up on first use (``npgrad.saving`` stands on the layers, which stand on
#: this package)
_FROM_SAVING = (
    "register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
    "get_custom_objects", "custom_object_scope", "CustomObjectScope", "get_registered_name",
    "get_registered_object",
)


#: and two helpers of ``npgrad.backend`` (which imports this package's modules itself)
_FROM_BACKEND = ("is_keras_tensor", "standardize_dtype")


def __getattr__(name):
    if name in _FROM_SAVING:
        from npgrad import saving

        return getattr(saving, name)
    if name in _FROM_BACKEND:
        from npgrad import backend

        return getattr(backend, name)
    raise AttributeError(f"module 'npgrad.utils' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_FROM_SAVING) + list(_FROM_BACKEND))
