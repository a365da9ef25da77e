"""Data adapters: turn what a user passes to ``fit``/``evaluate``/``predict`` into batches.

Keras 3 accepts arrays (one, or a list/dict of them for several inputs or outputs), Python
generators and ``PyDataset`` objects; each becomes an adapter with one method,
``batches(epoch)``, yielding the ``data`` that ``train_step(self, data)`` receives:
``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (see :func:`pack_x_y_sample_weight`).

Example:
    >>> x, y, sample_weight = npgrad.utils.unpack_x_y_sample_weight(data)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from npgrad import random as npgrad_random
from npgrad.autograd.tensor import Tensor
from npgrad.trainers import arguments
from npgrad.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight  # noqa: F401
from npgrad.utils.py_dataset import PyDataset


# ------------------------------------------------------------------ arrays
def as_array(data, what, caller):
    """A NumPy array from an array, a Tensor or nested lists; None stays None."""
    if data is None:
        return None
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, np.ndarray):
        return data
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):
        raise TypeError(f"{caller}: {what} must be a NumPy array, got {type(data).__name__}") from None
    if array.dtype == object:
        raise TypeError(
            f"{caller}: {what} must be one NumPy array (ragged lists or several inputs are not "
            f"supported), got {type(data).__name__}"
        )
    if array.ndim == 0:
        raise ValueError(f"{caller}: {what} must have a batch axis, got a scalar {data!r}")
    return array


class ArrayGroup:
    """Several arrays of one length (the inputs of a multi-input model, or the targets of a
    multi-output one), indexed and sliced alike: ``group[index]`` is a list of arrays."""

    __slots__ = ("arrays",)

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return [a[index] for a in self.arrays]

    def part(self, index):
        """The same group restricted to ``index`` (for validation splits)."""
        return ArrayGroup([a[index] for a in self.arrays])


class NestedGroup(ArrayGroup):
    """The arrays of a dict (or of a list of differently shaped arrays) given to a model
    whose ``call`` takes the structure itself (a subclassed model, no named inputs), as
    Keras 3 passes it: sliced alike, and each batch handed over in the same structure."""

    __slots__ = ("keys",)

    def __init__(self, arrays, keys=None):
        super().__init__(arrays)
        self.keys = keys

    def __getitem__(self, index):
        parts = [a[index] for a in self.arrays]
        return parts if self.keys is None else dict(zip(self.keys, parts))

    def part(self, index):
        return NestedGroup([a[index] for a in self.arrays], self.keys)


def _nested(model, data, what, caller):
    """A NestedGroup for a structure of arrays meant for a subclassed model's ``call``, or
    None for data that is one array (or that such a model cannot take)."""
    if getattr(model, "layer_graph", False):  # Sequential, Functional: named inputs
        return None
    if isinstance(data, dict) and len(data) > 1:
        keys = list(data)
        arrays = [as_array(data[k], f"{what}[{k!r}]", caller) for k in keys]
    elif isinstance(data, (list, tuple)) and len(data) > 1 \
            and all(isinstance(a, (np.ndarray, Tensor)) for a in data) \
            and len({np.shape(a) for a in data}) > 1:  # same shapes: one stacked array
        keys, arrays = None, [as_array(a, f"{what}[{i}]", caller) for i, a in enumerate(data)]
    else:
        return None
    sizes = {k: len(a) for k, a in zip(keys or range(len(arrays)), arrays)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{caller}: the arrays of {what} must have the same number of samples; "
                         f"got {sizes}")
    return NestedGroup(arrays, keys)


def _single(data, names):
    """Unwrap ``[array]`` or ``{name: array}`` given for a model with one input or output."""
    if isinstance(data, (list, tuple)) and len(data) == 1 \
            and isinstance(data[0], (np.ndarray, Tensor)):
        return data[0]
    if isinstance(data, dict) and names is not None and len(data) == 1 and list(data) == list(names):
        return data[names[0]]
    return data


def warn_unused_keys(unknown, names, owner):
    """Keras 3 takes a dict of inputs with keys the model does not use: it warns and leaves
    them out (a table's unused columns can stay in the dict)."""
    if unknown:
        warnings.warn(f"{owner}: the structure of `inputs` doesn't match the expected "
                      f"structure: the keys {sorted(unknown)} are not inputs of the model "
                      f"({list(names)}) and are ignored", UserWarning, stacklevel=4)


def _group(data, what, caller, names, kind):
    """An ArrayGroup in ``names`` order from a list/tuple or a dict keyed by ``names``
    (for inputs, keys beyond them are left out with a warning, as Keras)."""
    if isinstance(data, ArrayGroup):
        return data
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        unknown = sorted(set(data) - set(names))
        if kind == "inputs" and not missing:
            warn_unused_keys(unknown, names, caller)
            unknown = []
        if missing or unknown:
            raise ValueError(
                f"{caller}: {what} is keyed by {sorted(data)}, the model's {kind} are "
                f"{list(names)}" + (f"; missing {missing}" if missing else "")
                + (f"; unexpected {unknown}" if unknown else "")
            )
        data = [data[n] for n in names]
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        got = f"a list of {len(data)}" if isinstance(data, (list, tuple)) \
            else f"one {type(data).__name__}"
        raise ValueError(
            f"{caller}: the model has {len(names)} {kind} {list(names)}; pass {what} as a list "
            f"of {len(names)} arrays or a dict keyed by these names, got {got}"
        )
    arrays = [as_array(a, f"{what}[{n!r}]", caller) for a, n in zip(data, names)]
    sizes = {n: len(a) for n, a in zip(names, arrays)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{caller}: the arrays of {what} must have the same number of samples; "
                         f"got {sizes}")
    return ArrayGroup(arrays)


def model_inputs(model, data, what, caller, n_inputs):
    """``x`` as one array, or an ArrayGroup for a multi-input model (list or dict of arrays)."""
    if data is None:
        return None
    names = getattr(model, "input_names", None)
    if n_inputs > 1:
        return _group(data, what, caller, names, "inputs")
    nested = None if names else _nested(model, data, what, caller)
    if nested is not None:
        return nested
    if isinstance(data, dict):
        known = f" {list(names)}" if names else ""
        if len(data) != 1:
            raise ValueError(f"{caller}: {what} is a dict with keys {sorted(data)}, but the model "
                             f"has one input{known}")
        key, data = next(iter(data.items()))
        if names and key not in names:
            raise ValueError(f"{caller}: {what} is keyed by {key!r}, which names no model input; "
                             f"the input is{known}")
    return as_array(_single(data, names), what, caller)


def model_targets(model, data, what, caller, n_outputs):
    """``y`` as one array, or an ArrayGroup for a multi-output model (list or dict of arrays)."""
    if data is None:
        return None
    names = getattr(model, "output_names", None)
    if n_outputs > 1:
        return _group(_loss_slots(model, data, n_outputs), what, caller, names, "outputs")
    return as_array(_single(data, names), what, caller)


def _loss_slots(model, data, n_outputs):
    """Keras 3's loss defined over some outputs only (``loss=[fn, None]``): ``y`` may hold
    the targets of those outputs alone (one array, or a list of them), or None where an output
    has no loss. The targets go to their outputs; the others get empty (N, 0) placeholders."""
    losses = getattr(getattr(model, "compiled_loss", None), "losses", None)
    if not losses or None not in losses or isinstance(data, (dict, ArrayGroup)):
        return data
    flat = list(data) if isinstance(data, (list, tuple)) else [data]
    wanted = [i for i, loss in enumerate(losses) if loss is not None]
    if len(flat) == n_outputs and not any(t is None for t in flat):
        return data
    if len(flat) == n_outputs:  # [y, None]: the Nones where there is no loss
        given = [(i, t) for i, t in enumerate(flat) if t is not None]
        if [i for i, _ in given] != wanted:
            return data
    elif len(flat) == len(wanted):
        given = list(zip(wanted, flat))
    else:
        return data
    samples = len(given[0][1])
    slots = [np.zeros((samples, 0), dtype=np.float32) for _ in range(n_outputs)]
    for i, target in given:
        slots[i] = target
    return slots


def check_lengths(caller, **arrays):
    """All arrays hold the same number of samples; else ValueError naming every size."""
    sizes = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"{caller}: x and y must have the same number of samples; {listed}")


def class_weights_to_sample_weights(y, class_weight, caller):
    """Per-sample weights ``class_weight[label]`` (1.0 for classes not in the dict), as Keras."""
    if isinstance(y, ArrayGroup):
        raise NotImplementedError(f"{caller}: class_weight is not supported for a model with "
                                  f"several outputs (Keras neither); pass sample_weight instead")
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = labels[..., 0] if labels.shape[-1] == 1 else np.argmax(labels, axis=-1)
    labels = np.round(labels).astype(np.int64).reshape(len(labels))
    weights = np.ones(len(labels), dtype=np.float32)
    for cls, weight in class_weight.items():
        weights[labels == int(cls)] = float(weight)
    return weights


def _batches(n, batch_size, order=None):
    """Index slices (contiguous) or index arrays (shuffled) of consecutive batches."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


# ------------------------------------------------------------------ adapters
class ArrayAdapter:
    """Batches of in-memory arrays, reshuffled each epoch from npgrad's seeded generator.

    Args:
        x: an array or ArrayGroup. y, sample_weight: the same, or None.
        batch_size: samples per batch. shuffle: reshuffle at every epoch.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size = batch_size or len(x)
        self.shuffle = shuffle
        self.distribution = None  # a DataParallel: rank 0's shuffle order is used everywhere

    @property
    def num_batches(self):
        return math.ceil(len(self.x) / self.batch_size)

    def batches(self, epoch=0):
        """Yield the epoch's batches, packed as ``train_step`` receives them."""
        n = len(self.x)
        order = npgrad_random.generator().permutation(n) if self.shuffle else None
        if order is not None and self.distribution is not None:
            order = self.distribution.broadcast_order(order)
        for index in _batches(n, self.batch_size, order):
            yield pack_x_y_sample_weight(
                self.x[index], None if self.y is None else self.y[index],
                None if self.sample_weight is None else self.sample_weight[index])

    def whole(self):
        """All the samples as one batch (``train_on_batch`` and friends)."""
        x = self.x[:] if isinstance(self.x, ArrayGroup) else self.x
        y = self.y[:] if isinstance(self.y, ArrayGroup) else self.y
        return pack_x_y_sample_weight(x, y, self.sample_weight)

    def on_epoch_end(self):
        pass


class GeneratorAdapter:
    """Batches from a Python generator or iterator yielding ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``; one pass of the iterator is shared by all epochs (Keras), so
    give ``steps_per_epoch`` for more than one epoch over an endless generator."""

    def __init__(self, iterator, caller):
        self.iterator = iter(iterator)
        self.caller = caller
        self.exhausted = False

    num_batches = None

    def batches(self, epoch=0):
        for data in self.iterator:
            yield _checked_batch(data, self.caller, "the generator")
        self.exhausted = True

    def on_epoch_end(self):
        pass


class PyDatasetAdapter:
    """Batches from a :class:`~npgrad.utils.PyDataset` (``__getitem__`` / ``__len__``),
    optionally shuffled batch by batch, with ``on_epoch_begin`` / ``on_epoch_end`` called."""

    def __init__(self, dataset, shuffle, caller):
        self.dataset = dataset
        self.shuffle = shuffle
        self.caller = caller
        self.distribution = None  # a DataParallel: rank 0's batch order is used everywhere

    @property
    def num_batches(self):
        return self.dataset.num_batches

    def batches(self, epoch=0):
        self.dataset.on_epoch_begin()
        count = self.dataset.num_batches
        if count is None:  # an endless PyDataset: index until IndexError / StopIteration
            index = 0
            while True:
                try:
                    data = self.dataset[index]
                except (IndexError, StopIteration):
                    return
                yield _checked_batch(data, self.caller, f"{type(self.dataset).__name__}[{index}]")
                index += 1
        order = npgrad_random.generator().permutation(count) if self.shuffle else range(count)
        if self.shuffle and self.distribution is not None:
            order = self.distribution.broadcast_order(order)
        for index in self.dataset.iterate(order):
            yield _checked_batch(index, self.caller, type(self.dataset).__name__)

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def _checked_batch(data, caller, source):
    """A batch from user code: x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(data, list) and len(data) in (2, 3) \
            and not all(isinstance(d, np.ndarray) for d in data):
        data = tuple(data)
    if isinstance(data, tuple) and not 1 <= len(data) <= 3:
        raise ValueError(
            f"{caller}: {source} yielded a tuple of {len(data)} elements; expected x, (x, y) or "
            f"(x, y, sample_weight)"
        )
    if data is None:
        raise ValueError(f"{caller}: {source} yielded None; expected x, (x, y) or "
                         f"(x, y, sample_weight)")
    return data


def is_iterator_data(x):
    """Whether ``x`` is a generator/iterator or a PyDataset (not arrays)."""
    if isinstance(x, PyDataset):
        return True
    if isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str, bytes)) or x is None:
        return False
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not hasattr(x, "__len__"))


def iterator_adapter(x, y, sample_weight, shuffle, caller):
    """The adapter for a generator or PyDataset ``x`` (``y`` and ``sample_weight`` must be None)."""
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise ValueError(f"{caller}: {name} must be None when x is a "
                             f"{'PyDataset' if isinstance(x, PyDataset) else 'generator'}; "
                             f"yield (x, y, sample_weight) from it instead")
    if isinstance(x, PyDataset):  # one that orders itself (a timeseries dataset) stays so
        return PyDatasetAdapter(x, shuffle and not x.keeps_order, caller)
    return GeneratorAdapter(x, caller)


def validation_adapter(model, validation_data, batch_size, caller, n_inputs, n_outputs):
    """An adapter for ``validation_data``: a tuple of arrays, a generator or a PyDataset."""
    if is_iterator_data(validation_data):
        return iterator_adapter(validation_data, None, None, False, f"{caller} (validation_data)")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            f"{caller}: validation_data must be (x_val, y_val), (x_val, y_val, "
            f"sample_weight_val), a generator or a PyDataset, got {type(validation_data).__name__}"
        )
    x_val = model_inputs(model, validation_data[0], "validation x", caller, n_inputs)
    y_val = model_targets(model, validation_data[1], "validation y", caller, n_outputs)
    w_val = as_array(validation_data[2], "validation sample_weight", caller) \
        if len(validation_data) == 3 else None
    check_lengths(f"{caller} (validation_data)", x=x_val, y=y_val, sample_weight=w_val)
    return ArrayAdapter(x_val, y_val, w_val, batch_size=batch_size)


def split_for_validation(x, y, sample_weight, validation_split, caller):
    """Hold out the LAST ``validation_split`` of the samples (before shuffling), as Keras.

    Returns:
        ``(x, y, sample_weight), (x_val, y_val, sample_weight_val)``.
    """
    fraction = arguments.fraction(validation_split, "validation_split", caller)
    split_at = int(len(x) * (1.0 - fraction))
    if split_at == 0 or split_at == len(x):
        raise ValueError(
            f"{caller}: validation_split={validation_split} of {len(x)} samples leaves "
            f"{split_at} for training and {len(x) - split_at} for validation"
        )

    def part(a, index):
        if a is None:
            return None
        return a.part(index) if isinstance(a, ArrayGroup) else a[index]

    head, tail = slice(0, split_at), slice(split_at, None)
    return ((part(x, head), part(y, head), part(sample_weight, head)),
            (part(x, tail), part(y, tail), part(sample_weight, tail)))
