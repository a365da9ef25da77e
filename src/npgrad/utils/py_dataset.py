"""PyDataset: a dataset written as a Python class that returns one batch per index (Keras 3).

Example:
    >>> class Digits(npgrad.utils.PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)            # workers, use_multiprocessing, ...
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, index):
    ...         part = slice(index * self.batch_size, (index + 1) * self.batch_size)
    ...         return self.x[part] / 255.0, self.y[part]
    >>> model.fit(Digits(x, y, 64, workers=2), epochs=3)
"""

from __future__ import annotations

import collections
import concurrent.futures

__all__ = ["PyDataset"]


class PyDataset:
    """Base class for datasets that build each batch in Python (Keras 3 ``PyDataset``).

    Subclasses implement ``__getitem__(index)`` (a batch: ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``) and ``__len__`` (the number of batches), or the
    ``num_batches`` property (None for an endless dataset, indexed until ``IndexError``).

    Args:
        workers: batches prepared in parallel (1: in the training thread).
        use_multiprocessing: prepare them in worker processes instead of threads (the
            dataset must then be picklable).
        max_queue_size: batches prepared ahead at most.
    """

    #: True for a dataset that orders its batches itself (``fit(shuffle=True)`` then leaves
    #: their order alone, as it leaves a ``tf.data`` dataset's in Keras)
    keeps_order = False

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive int, "
                                 f"got {value!r}")
        self.workers = workers
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    @property
    def num_batches(self):
        """The number of batches per epoch: ``len(self)``, or None without ``__len__``."""
        if type(self).__len__ is PyDataset.__len__:
            return None
        return len(self)

    def __len__(self):
        raise TypeError(f"{type(self).__name__} has no __len__ (an endless PyDataset)")

    def on_epoch_begin(self):
        """Called before each epoch (override to reshuffle or reload)."""

    def on_epoch_end(self):
        """Called after each epoch."""

    def iterate(self, order):
        """Yield ``self[i]`` for ``i`` in ``order``; with ``workers > 1``, up to
        ``max_queue_size`` batches are prepared ahead by a thread or process pool, in order."""
        if self.workers == 1:
            for index in order:
                yield self[int(index)]
            return
        pool_class = concurrent.futures.ProcessPoolExecutor if self.use_multiprocessing \
            else concurrent.futures.ThreadPoolExecutor
        with pool_class(max_workers=self.workers) as pool:
            pending = collections.deque()
            for index in order:
                pending.append(pool.submit(type(self).__getitem__, self, int(index)))
                if len(pending) >= self.max_queue_size:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
