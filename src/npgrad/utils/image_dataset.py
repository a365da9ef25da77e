"""``image_dataset_from_directory`` (``keras.utils`` and ``keras.preprocessing``): a folder of
images, one subfolder per class, as batches of arrays and labels.

Keras returns a ``tf.data.Dataset``; npgrad returns an :class:`ImageDataset`, a
:class:`~npgrad.utils.PyDataset` that ``fit``, ``evaluate``, ``predict`` and
``validation_data=`` take, with the same ``class_names`` and ``file_paths``. The files are
listed, labelled, shuffled and split exactly as Keras does (the same ``seed`` gives the same
training and validation files); each batch is read when it is asked for, with
:func:`npgrad.utils.load_img` (PNG without Pillow, every format Pillow reads with it), and
resized as ``keras.ops.image.resize`` (Keras's torch backend).

Example (keras.io's image classification from scratch)::

    train_ds, val_ds = npgrad.utils.image_dataset_from_directory(
        "PetImages", validation_split=0.2, subset="both", seed=1337,
        image_size=(180, 180), batch_size=128)
    model.fit(train_ds, epochs=25, validation_data=val_ds)
"""

from __future__ import annotations

import math
import os

import numpy as np

from npgrad.config import image_data_format
from npgrad.utils import image_utils
from npgrad.utils.image_utils import RESIZE_INTERPOLATIONS, img_to_array, load_img, resize_images
from npgrad.utils.io_utils import print_msg
from npgrad.utils.py_dataset import PyDataset

__all__ = ["ImageDataset", "image_dataset_from_directory"]

#: the file extensions Keras lists (lower case)
ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
NAME = "image_dataset_from_directory"


class ImageDataset(PyDataset):
    """Batches of images read from files (made by :func:`image_dataset_from_directory`).

    ``len(ds)`` batches; ``ds[i]`` is batch i: ``(images, labels)``, or ``images`` alone
    without labels; iterating yields them in order, the files reshuffled each pass when
    ``shuffle`` was given. Like Keras's dataset it keeps its own order:
    ``fit(shuffle=True)`` does not reorder it.

    Attributes:
        class_names: the class names, in label order (None without labels).
        file_paths: the files, in the order of the first pass.
    """

    #: the adapter leaves the batch order alone (this dataset shuffles its files itself)
    keeps_order = True

    def __init__(self, file_paths, labels, class_names, label_mode, batch_size, image_size,
                 color_mode, interpolation, data_format, crop_to_aspect_ratio,
                 pad_to_aspect_ratio, shuffle, seed):
        super().__init__()
        self.file_paths = list(file_paths)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int32)
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.image_size = tuple(int(s) for s in image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.data_format = data_format
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(self.file_paths))
        self._passes = 0

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def load(self, index):
        """The image of file ``index`` as a float32 array of ``image_size``."""
        image = img_to_array(load_img(self.file_paths[index], color_mode=self.color_mode),
                             data_format=self.data_format, dtype="float32")
        return resize_images(image, self.image_size, self.interpolation, self.data_format,
                             crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                             pad_to_aspect_ratio=self.pad_to_aspect_ratio)

    def encoded_labels(self, picks):
        """The labels of files ``picks``, encoded as ``label_mode`` says."""
        labels = self.labels[picks]
        if self.label_mode == "binary":
            return labels.astype(np.float32)[..., None]
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names), dtype=np.float32)[labels]
        return labels

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"ImageDataset: batch {index} out of range ({len(self)} batches)")
        index %= len(self)
        if self.batch_size is None:  # unbatched: one sample
            picks = self.order[index]
            images = self.load(picks)
        else:
            picks = self.order[index * self.batch_size:(index + 1) * self.batch_size]
            images = np.stack([self.load(i) for i in picks])
        if self.label_mode is None:
            return images
        return images, self.encoded_labels(picks)

    def on_epoch_begin(self):
        """A new pass: the files reshuffled (after the first) when ``shuffle`` was given."""
        if self.shuffle and self._passes:
            self.order = self.rng.permutation(len(self.file_paths))
        self._passes += 1

    def __iter__(self):
        self.on_epoch_begin()
        for index in range(len(self)):
            yield self[index]


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",  # noqa: A002
                                 verbose=True):
    """A dataset of the images in ``directory``, as ``keras.utils.image_dataset_from_directory``.

    With ``labels="inferred"`` each subfolder of ``directory`` is a class (alphanumeric
    order, or ``class_names``'s) and its images, subfolders included, are that class's.

    Args:
        directory: the folder.
        labels: ``"inferred"``, None (images only), or a list of integer labels, one per
            file in the sorted order of ``os.walk``.
        label_mode: ``"int"`` (int32, shape (batch,)), ``"categorical"`` (one-hot float32),
            ``"binary"`` (float32 0/1, shape (batch, 1); two classes) or None.
        class_names: the class subfolders to use, in label order (``labels="inferred"``).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``: 1, 3 or 4 channels.
        batch_size: images per batch; None: one image per item.
        image_size: ``(height, width)`` (or one int) every image is resized to.
        shuffle: shuffle the files (each pass); otherwise sorted.
        seed: the shuffle's seed (required with ``validation_split`` and ``shuffle``).
        validation_split: the fraction of files kept for validation (the last ones).
        subset: ``"training"``, ``"validation"`` or ``"both"`` (a pair of datasets).
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        follow_links: walk into symbolically linked folders.
        crop_to_aspect_ratio: resize the largest centred crop with the target's aspect
            ratio (no distortion).
        pad_to_aspect_ratio: pad the image to the target's aspect ratio, then resize.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default
            :func:`npgrad.config.image_data_format`).
        format: ``"tf"`` or ``"grain"`` (Keras's dataset types; both give an
            :class:`ImageDataset` here).
        verbose: print how many files and classes were found.

    Returns:
        An :class:`ImageDataset` yielding ``(images, labels)`` (float32 images of
        ``(batch,) + image_size + (channels,)``, values 0-255), or images alone without
        labels; for ``subset="both"``, ``[training, validation]``.

    Raises:
        ValueError: invalid arguments (Keras's checks), no images found, or labels of the
            wrong length.
        ImportError: without Pillow, image files other than PNG.
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"{NAME}: `labels` should be 'inferred', None or a list/tuple of "
                             f"integer labels, one per image file, got labels={labels!r}")
        if class_names:
            raise ValueError(f"{NAME}: you can only pass `class_names` if labels='inferred', "
                             f"got labels={labels!r} and class_names={class_names!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'{NAME}: `label_mode` must be one of "int", "categorical", "binary" '
                         f"or None, got label_mode={label_mode!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in ("rgb", "rgba", "grayscale"):
        raise ValueError(f'{NAME}: `color_mode` must be one of "rgb", "rgba", "grayscale", '
                         f"got color_mode={color_mode!r}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"{NAME}: `image_size` must be a tuple of 2 integers, got "
                         f"image_size={image_size!r}")
    interpolation = str(interpolation).lower()
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"{NAME}: `interpolation` must be one of {RESIZE_INTERPOLATIONS} "
                         f"in npgrad, got interpolation={interpolation!r}")
    if format not in ("tf", "grain"):
        raise ValueError(f'{NAME}: `format` must be "tf" or "grain", got format={format!r}')
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{NAME}: only one of `pad_to_aspect_ratio` and "
                         f"`crop_to_aspect_ratio` can be True")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"{NAME}: `batch_size` must be a positive int or None, got "
                         f"{batch_size!r}")
    check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(int(1e6))
    paths, labels, class_names = index_directory(directory, labels, class_names, shuffle, seed,
                                                 follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'{NAME}: label_mode="binary" needs exactly 2 classes, got '
                         f"class_names={class_names}")
    if image_utils.pillow() is None:
        others = [p for p in paths if not p.lower().endswith(".png")]
        if others:
            raise ImportError(f"{NAME}: {len(others)} of the files are not PNG (e.g. "
                              f"{others[0]}); npgrad reads PNG files without Pillow, other "
                              f"formats need it: pip install pillow")
    data_format = image_data_format() if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{NAME}: `data_format` must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")

    def dataset(part, files, part_labels, part_shuffle):
        if not files:
            raise ValueError(f"{NAME}: no {part}images found in directory {directory}. "
                             f"Allowed formats: {ALLOWLIST_FORMATS}")
        return ImageDataset(files, part_labels, class_names, label_mode, batch_size, image_size,
                            color_mode, interpolation, data_format, crop_to_aspect_ratio,
                            pad_to_aspect_ratio, part_shuffle, seed)

    if subset == "both":
        train = split(paths, labels, validation_split, "training")
        val = split(paths, labels, validation_split, "validation")
        return [dataset("training ", *train, shuffle), dataset("validation ", *val, False)]
    return dataset("", *split(paths, labels, validation_split, subset), shuffle)


def check_validation_split(validation_split, subset, shuffle, seed):
    """Keras's checks of ``validation_split``, ``subset`` and ``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"{NAME}: `validation_split` must be between 0 and 1, got "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError(f"{NAME}: if `subset` is set, `validation_split` must be set, and "
                         f"inversely")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'{NAME}: `subset` must be "training", "validation" or "both", got '
                         f"{subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{NAME}: with `validation_split` and shuffling, give a `seed`, so "
                         f"that the training and validation subsets do not overlap")


def index_directory(directory, labels, class_names, shuffle, seed, follow_links, verbose):
    """The image files of ``directory`` with their labels and the class names, listed,
    sorted and shuffled as Keras lists them (``np.random.RandomState(seed)``)."""
    directory = os.fspath(directory)
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(f"{NAME}: the `class_names` passed do not match the "
                                 f"subfolders of {directory}: expected {subdirs} (or a subset "
                                 f"of it), got class_names={class_names}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(f"{NAME}: `class_names` can only be given with labels='inferred'")
        subdirs = [""]
    files, found = [], []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        walk = sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0])
        for root, _, names in walk:
            for name in sorted(names):
                if name.lower().endswith(ALLOWLIST_FORMATS):
                    relative = os.path.relpath(os.path.join(root, name), folder)
                    files.append(os.path.join(directory, os.path.basename(folder), relative)
                                 if subdir else os.path.join(directory, relative))
                    found.append(index)
    if labels == "inferred":
        labels = np.array(found, dtype=np.int32)
        class_names = subdirs
    elif labels is not None:
        if len(labels) != len(files):
            raise ValueError(f"{NAME}: expected the lengths of `labels` to match the number of "
                             f"files in the target directory: len(labels) is {len(labels)} "
                             f"while there are {len(files)} files in {directory}")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels, dtype=np.int32)
    else:
        class_names = None
    if verbose:
        classes = "" if labels is None else f" belonging to {len(class_names)} classes"
        print_msg(f"Found {len(files)} files{classes}.")
    if shuffle:  # as Keras: one RandomState(seed) shuffle for the paths, one for the labels
        np.random.RandomState(seed).shuffle(files)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return files, labels, class_names


def split(paths, labels, validation_split, subset):
    """The training (first) or validation (last) part of the files, as Keras splits them."""
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    if subset == "training":
        print_msg(f"Using {len(paths) - count} files for training.")
        return paths[:-count], None if labels is None else labels[:-count]
    print_msg(f"Using {count} files for validation.")
    return paths[-count:], None if labels is None else labels[-count:]
