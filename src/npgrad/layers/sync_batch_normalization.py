"""SyncBatchNormalization: BatchNormalization with the global batch's statistics across processes.

``tf.keras.layers.experimental.SyncBatchNormalization``'s name for
``BatchNormalization(synchronized=True)`` (Keras 3 keeps only the flag); both work in npgrad.

Example:
    >>> bn = SyncBatchNormalization()          # same as BatchNormalization(synchronized=True)
    >>> bn.get_config()["synchronized"]
    True
"""

from __future__ import annotations

from npgrad.layers.normalization import BatchNormalization


class SyncBatchNormalization(BatchNormalization):
    """BatchNormalization whose training statistics are those of the whole global batch.

    Under ``npgrad.distribution.DataParallel`` on several processes, each process's slice is
    normalized by the mean and biased variance of every process's slices together (per-channel
    sums reduced with MPI allreduces: two in forward, one in backward), and the moving
    statistics follow those global values, so they stay equal on every process. Without a
    distribution (one process) it is plain BatchNormalization. A timestep ``mask`` falls back
    to per-process statistics, as in Keras.

    Args:
        axis, momentum, epsilon: as BatchNormalization.
        synchronized: True (the default); ``get_config`` stores it, so configs round-trip.
        **kwargs: BatchNormalization's other arguments (center, scale, initializers,
            regularizers) and the Layer's (name, dtype, trainable).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, synchronized=True, **kwargs):
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon,
                         synchronized=synchronized, **kwargs)
