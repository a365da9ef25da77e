"""Dataset helpers from ``keras.utils`` on NumPy arrays: ``split_dataset`` and
``timeseries_dataset_from_array``.

Keras returns ``tf.data.Dataset`` objects; npgrad returns arrays (``split_dataset``) and a
re-iterable sequence of NumPy batches (``timeseries_dataset_from_array``) that ``len()``,
indexing and ``for`` loops accept.
"""

from __future__ import annotations

import math

import numpy as np

from npgrad.utils.py_dataset import PyDataset


def _leaves(dataset):
    """The arrays of a dataset: the values of a dict, the items of a tuple, or itself."""
    if isinstance(dataset, dict):
        return list(dataset.values())
    if isinstance(dataset, tuple):
        return list(dataset)
    return [dataset]


def _take(dataset, index):
    if isinstance(dataset, dict):
        return {key: np.asarray(value)[index] for key, value in dataset.items()}
    if isinstance(dataset, tuple):
        return tuple(np.asarray(value)[index] for value in dataset)
    return np.asarray(dataset)[index]


def _size(value, total, what):
    if value is None:
        return None
    if isinstance(value, float):
        if not 0 < value < 1:
            raise ValueError(f"split_dataset: a float {what} must be in (0, 1), got {value}")
        return int(round(value * total))
    if isinstance(value, (int, np.integer)) and 0 <= value <= total:
        return int(value)
    raise ValueError(f"split_dataset: {what} must be a float in (0, 1) or an int in [0, {total}], "
                     f"got {value!r}")


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split arrays into a left and a right part, as ``keras.utils.split_dataset``.

    Args:
        dataset: an array, a tuple of arrays of one length (e.g. ``(x, y)``), or a dict of them.
        left_size: a fraction in (0, 1) or a count; default: the rest after ``right_size``
            (0.5 when neither is given).
        right_size: likewise for the right part.
        shuffle: shuffle the samples before splitting.
        seed: seed for the shuffle.

    Returns:
        ``(left, right)``, each of ``dataset``'s structure.

    Raises:
        ValueError: sizes out of range or adding up to more than the dataset, or arrays of
            different lengths.
    """
    leaves = _leaves(dataset)
    lengths = {len(leaf) for leaf in leaves}
    if len(lengths) != 1:
        raise ValueError(f"split_dataset: the arrays have different lengths {sorted(lengths)}")
    total = lengths.pop()
    left, right = _size(left_size, total, "left_size"), _size(right_size, total, "right_size")
    if left is None and right is None:
        left = total // 2
    if left is None:
        left = total - right
    if right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"split_dataset: left_size ({left}) + right_size ({right}) exceed the "
                         f"{total} samples")
    order = np.arange(total)
    if shuffle:
        order = np.random.default_rng(seed).permutation(total)
    return _take(dataset, order[:left]), _take(dataset, order[left:left + right])


class TimeseriesDataset(PyDataset):
    """Batches of sliding windows over an array (made by :func:`timeseries_dataset_from_array`).

    ``len(ds)`` batches; ``ds[i]`` is batch i, ``(inputs, targets)`` or ``inputs`` alone;
    iterating yields them in order (the windows reshuffled each pass when ``shuffle`` was
    given). A :class:`~npgrad.utils.PyDataset`, so ``fit``, ``evaluate`` and ``predict``
    take it (and ``validation_data=``), as Keras's take the ``tf.data.Dataset`` it returns.
    Like that dataset it keeps its own order: ``fit(shuffle=True)`` does not reorder it.
    """

    keeps_order = True  # it shuffles its windows itself

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size,
                 shuffle, seed):
        super().__init__()
        self.data, self.targets = data, targets
        self.starts = starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(starts))

    def __len__(self):
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"TimeseriesDataset: batch {index} out of range ({len(self)} batches)")
        index %= len(self)
        picks = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        starts = self.starts[picks]
        inputs = self.data[starts[:, None] + self.offsets]
        if self.targets is None:
            return inputs
        return inputs, self.targets[starts]

    def on_epoch_begin(self):
        """A new pass: the windows reshuffled when ``shuffle`` was given."""
        if self.shuffle:
            self.order = self.rng.permutation(len(self.starts))

    def __iter__(self):
        self.on_epoch_begin()
        for index in range(len(self)):
            yield self[index]


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Sliding windows over a time series, batched, as ``keras.utils.timeseries_dataset_from_array``.

    Window i covers ``data[s, s + sampling_rate, ..., s + (sequence_length - 1) * sampling_rate]``
    with ``s = start_index + i * sequence_stride``; its target is ``targets[s]``.

    Args:
        data: array (T, ...) of timesteps.
        targets: array aligned with ``data`` (or None for inputs only): window i's target is
            ``targets[s]``; when it is shorter than ``data``, windows whose target would lie
            past its end are left out, as in Keras.
        sequence_length: timesteps per window.
        sequence_stride: steps between window starts.
        sampling_rate: steps between timesteps inside a window.
        batch_size: windows per batch (the last batch may be smaller).
        shuffle: shuffle the windows (each pass).
        seed: seed for the shuffle.
        start_index, end_index: the part of ``data`` to use (end exclusive).

    Returns:
        A :class:`TimeseriesDataset` yielding ``(inputs, targets)`` batches of shapes
        (batch, sequence_length, ...) and (batch, ...).
    """
    data = np.asarray(data)
    start = 0 if start_index is None else int(start_index)
    end = len(data) if end_index is None else int(end_index)
    for name, value in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride),
                        ("sampling_rate", sampling_rate), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"timeseries_dataset_from_array: {name} must be a positive int, "
                             f"got {value!r}")
    span = (sequence_length - 1) * sampling_rate + 1
    stop = end - span + 1  # past the last window's start
    if targets is not None:  # as Keras: no more windows than targets (a shorter target
        targets = np.asarray(targets)  # array ends the series early)
        stop = min(stop, len(targets))
    starts = np.arange(start, max(stop, start), sequence_stride)
    return TimeseriesDataset(data, targets, starts, sequence_length, sampling_rate, batch_size,
                             shuffle, seed)
