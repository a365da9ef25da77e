"""Training machinery that ``Model`` inherits (Keras 3's ``trainers`` package).

- ``trainer``: the :class:`Trainer` mixin: compile, train/test/predict steps, the loops.
- ``compile_utils``: CompileLoss and CompileMetrics, the per-output bookkeeping.
- ``data_adapter``: arrays, generators and PyDatasets into batches.
- ``arguments``: checks of fit/evaluate/predict arguments.
"""

from npgrad.trainers.trainer import Trainer

__all__ = ["Trainer"]
