"""Trainer: ``compile``, the steps and the loops that ``Model`` inherits (Keras 3's Trainer).

The loops are short: an adapter (``data_adapter``) turns the user's data into batches, and
each batch goes to a step that users may override, as in Keras 3:

- ``train_step(self, data)``: forward with ``training=True``, ``compute_loss``,
  ``loss.backward()``, ``self.optimizer.apply(grads, self.trainable_weights)``,
  ``compute_metrics``; returns the logs.
- ``test_step(self, data)`` and ``predict_step(self, data)`` likewise without gradients.

``data`` is what the adapter yields: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``;
unpack it with :func:`npgrad.utils.unpack_x_y_sample_weight`. ``fit(x)`` without ``y``
passes ``x`` alone (autoencoders, GANs).
"""

from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np

from npgrad.autograd.engine import no_grad
from npgrad.autograd.tensor import Tensor
from npgrad.callbacks import CallbackList
from npgrad.distribution import current as distribution_state
from npgrad.primitives.batch_halves import REFRESH_EVERY, refresh_helper
from npgrad.trainers import arguments
from npgrad.trainers import data_adapter as adapters
from npgrad.trainers.compile_utils import CompileLoss, CompileMetrics, log_value
from npgrad.trainers.distributed_steps import DistributedSteps
from npgrad.utils.allocator import keep_freed_memory
from npgrad.utils.packing import unpack_x_y_sample_weight
from npgrad.utils.signatures import takes
from npgrad.utils.threads import adapt_num_threads


def _takes_training(compute_loss):
    """Whether a (bound) ``compute_loss`` accepts ``training`` (read once per function)."""
    key = getattr(compute_loss, "__func__", compute_loss)
    if key not in _TAKES_TRAINING:
        _TAKES_TRAINING[key] = takes(compute_loss, "training")
    return _TAKES_TRAINING[key]


_TAKES_TRAINING = {}

_COMPILE_KEYWORDS = ("steps_per_execution", "auto_scale_loss")


def _in_every_rank():
    """The context ``fit``, ``evaluate`` and ``predict`` run their batches in: with
    ``DataParallel(processes=N)``, in every rank it forks; else as they are."""
    forks = getattr(distribution_state.distribution(), "forked_ranks", None)
    return forks() if forks is not None else contextlib.nullcontext()


class Trainer(DistributedSteps):
    """The training half of ``Model``: compile, steps, metrics and loops.

    Attributes:
        optimizer: the Optimizer set by ``compile`` (None before).
        loss: the Loss (or per-output list) set by ``compile``.
        compiled_loss: the :class:`~npgrad.trainers.compile_utils.CompileLoss`, or None.
        compiled_metrics: the :class:`~npgrad.trainers.compile_utils.CompileMetrics`, or None.
        compile_config: JSON-able arguments that re-create the ``compile`` call (saving).
        history: the :class:`~npgrad.callbacks.History` of the last ``fit``.
        stop_training: set it to True (from a callback) to end ``fit`` after the batch.
    """

    def _init_trainer(self):
        self.optimizer = None
        self.compiled = False
        self.compiled_loss = None
        self.compiled_metrics = None
        self.compile_config = None
        self.stop_training = False
        self.history = None
        from npgrad import metrics as metrics_module

        self._loss_tracker = metrics_module.Mean(name="loss")

    # ------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, jit_compile=None, **kwargs):
        """Configure the model for training.

        Args:
            optimizer: name (``'adam'``), config dict or Optimizer instance.
            loss: name (``'sparse_categorical_crossentropy'``, ``'mse'``...), Loss instance,
                config dict or a per-sample function ``fn(y_true, y_pred)``; for several
                outputs a list (one per output) or a dict keyed by output names.
            metrics: list of names (``'accuracy'``, ``'mae'``...), Metric instances or
                functions. ``'accuracy'``/``'acc'`` becomes binary, categorical or sparse
                categorical accuracy from the loss (or else the output shape), as in Keras.
                For several outputs: a dict keyed by output names or one entry per output.
            loss_weights: a float (or per output a list or dict) scaling the loss.
            weighted_metrics: metrics that also receive ``sample_weight``.
            run_eagerly, jit_compile: accepted for Keras compatibility (npgrad is eager).
            **kwargs: ``steps_per_execution``, ``auto_scale_loss`` (accepted, ignored).

        Raises:
            ValueError: unknown optimizer, loss or metric names (listing valid ones).
        """
        caller = f"{self.name}.compile"
        unknown = sorted(set(kwargs) - set(_COMPILE_KEYWORDS))
        if unknown:
            raise TypeError(f"{caller}: unexpected keyword argument(s) {unknown}")
        from npgrad import optimizers

        self.optimizer = optimizers.get(optimizer)
        names = list(getattr(self, "output_names", None) or [])
        self.compiled_loss = CompileLoss(loss, loss_weights, names, caller)
        self.compiled_metrics = CompileMetrics(metrics, weighted_metrics, names, caller,
                                               compile_loss=self.compiled_loss)
        self.compiled = True
        self.stop_training = False
        saved_metrics, saved_weighted = self.compiled_metrics.get_config()
        self.compile_config = {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": self.compiled_loss.get_config(),
            "metrics": saved_metrics,
            "weighted_metrics": saved_weighted,
            "loss_weights": loss_weights,
        }

    @property
    def loss(self):
        """The compiled Loss (a per-output list for several outputs), or None."""
        return None if self.compiled_loss is None else self.compiled_loss.loss

    def _assert_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {method}()")

    # ------------------------------------------------------------- metrics
    @property
    def metrics(self):
        """The loss tracker, the per-output loss trackers (several outputs), then the
        compiled metrics. Before the first batch has built them (``'accuracy'`` needs the
        data), the compiled metrics appear as one container named ``compile_metrics`` whose
        ``update_state(y, y_pred)`` builds and updates them all, as in Keras 3."""
        out = [self._loss_tracker]
        if self.compiled_loss is not None:
            out += [t for t in self.compiled_loss.trackers if t is not None]
        if self.compiled_metrics is not None:
            if self.compiled_metrics.built:
                out += self.compiled_metrics.metrics
            elif self.compiled_metrics.specs:
                out.append(self.compiled_metrics)
        return out

    @property
    def metrics_names(self):
        """``['loss', <metric names>...]``: the order of ``evaluate``'s list."""
        names = [m.name for m in self.metrics if m is not self.compiled_metrics]
        if self.compiled_metrics is not None and not self.compiled_metrics.built:
            names += self.compiled_metrics.names
        return names

    def zero_grad(self):
        """Forget the accumulated gradient of every weight (PyTorch's ``module.zero_grad``)."""
        for weight in self.weights:
            weight.grad = None

    def reset_metrics(self):
        """Reset every metric in :attr:`metrics` (and in this model's thread replicas)."""
        for metric in self.metrics:
            metric.reset_state()
        data_parallel = distribution_state.active()
        if data_parallel is not None:
            for replica in data_parallel.replicas_of(self):
                replica.reset_metrics()

    def compute_metrics(self, x, y, y_pred, sample_weight=None, loss=None):
        """Update the loss tracker and the compiled metrics with one batch; return the logs.

        Args:
            x: the batch inputs (their length weights the loss tracker, as in Keras).
            y: targets. y_pred: predictions (Tensors or ndarrays).
            sample_weight: per-sample weights for ``weighted_metrics``.
            loss: the batch's total loss (scalar Tensor or float), or None.

        Returns:
            dict of floats: each metric's result so far, then ``"loss"``.
        """
        batch_size = _batch_size(x, y_pred)
        if loss is not None:
            self._loss_tracker.update_state(float(np.asarray(getattr(loss, "data", loss))),
                                            sample_weight=batch_size)
            if self.compiled_loss is not None:
                self.compiled_loss.update_trackers(batch_size)
        if self.compiled_metrics is not None:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """Every metric's current result as a dict of floats (compiled metrics, then losses)."""
        logs = {}
        if self.compiled_metrics is not None:
            logs.update(self.compiled_metrics.result())
        for metric in self.metrics:
            if metric is not self.compiled_metrics and metric.name not in logs:
                logs[metric.name] = log_value(metric.result())
        return logs

    # ------------------------------------------------------------- steps
    def _has_compiled_loss(self):
        return self.compiled_loss is not None and any(
            fn is not None for fn in self.compiled_loss.losses)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss (weighted, summed over outputs) plus the layers' penalties
        (regularizers and ``add_loss``).

        Returns:
            Scalar Tensor.
        """
        compiled = self._has_compiled_loss()
        penalties = self.losses
        if not compiled and not penalties:  # Keras: compile() without loss= is fine with add_loss
            raise ValueError(
                f"{self.name}: no loss to compute; pass loss= to compile() (or override train_step)"
            )
        total = self.compiled_loss(y, y_pred, sample_weight) if compiled else penalties.pop(0)
        for penalty in penalties:
            total = total + penalty
        return total

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """``compute_loss`` as the built-in steps call it: ``training`` is passed only when
        the method takes it, as Keras 3 does (an override written as ``compute_loss(self, x,
        y, y_pred, sample_weight)`` or with ``allow_empty=`` has no ``training``)."""
        kwargs = {"x": x, "y": y, "y_pred": y_pred, "sample_weight": sample_weight}
        if _takes_training(self.compute_loss):
            kwargs["training"] = training
        return self.compute_loss(**kwargs)

    def train_step(self, data):
        """One training step on one batch (override it for custom training, as in Keras 3).

        Forward with ``training=True``, loss (plus penalties), ``backward``, the optimizer
        update of every trainable weight that received a gradient, gradients cleared,
        metrics updated.

        Args:
            data: the batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            Logs: dict of floats (metrics and ``"loss"`` averaged over the epoch so far).
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        built = self.built
        variables = self.trainable_weights if built else []
        for var in variables:  # gradients accumulate: start from none
            var.grad = None
        y_pred = self(x, training=True)
        if not built:  # a lazy model builds its weights in the call
            variables = self.trainable_weights
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        if variables:
            loss.backward()
        elif not self.__dict__.get("_warned_no_trainable"):
            # Keras 3 trains such a model too (its losses are only logged), with this warning
            self.__dict__["_warned_no_trainable"] = True
            warnings.warn(f"The model '{self.name}' does not have any trainable weights.",
                          stacklevel=2)
        self.optimizer.apply_gradients([(var.grad, var) for var in variables if var.grad is not None])
        for var in variables:
            var.grad = None
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def test_step(self, data):
        """One evaluation step (run under ``no_grad``): loss and metrics, ``training=False``.

        Returns:
            Logs: dict of floats accumulated since the last reset.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss=loss)

    def predict_step(self, data):
        """The model's output for one batch as ndarrays (``training=False``): one array, or a
        list or dict of them for several outputs."""
        x, _, _ = unpack_x_y_sample_weight(data)
        out = self(x, training=False)
        return _to_numpy(out)

    # ------------------------------------------------------------- adapters
    def _adapter(self, x, y, sample_weight, batch_size, shuffle, class_weight, caller,
                 require_y=False):
        """The data adapter for x/y/sample_weight: arrays, a generator or a PyDataset."""
        if adapters.is_iterator_data(x):
            if class_weight is not None:
                raise ValueError(f"{caller}: class_weight needs arrays; yield sample weights "
                                 f"from the generator instead")
            return adapters.iterator_adapter(x, y, sample_weight, shuffle, caller)
        x = adapters.model_inputs(self, x, "x", caller, self._n_inputs())
        y = adapters.model_targets(self, y, "y", caller, self._n_outputs())
        sample_weight = adapters.as_array(sample_weight, "sample_weight", caller)
        if x is None:
            raise ValueError(f"{caller}: x is required")
        # no y is fine for a custom step, or a model compiled without loss= (add_loss only)
        if require_y and y is None and not self._custom_step(require_y) \
                and self._has_compiled_loss():
            raise ValueError(f"{caller}: x and y are required (got no y); a model whose "
                             f"{require_y} unpacks data itself may take x alone")
        adapters.check_lengths(caller, x=x, y=y, sample_weight=sample_weight)
        if len(x) == 0:
            raise ValueError(f"{caller}: x is empty")
        if class_weight is not None:
            if y is None:
                raise ValueError(f"{caller}: class_weight needs y")
            weights = adapters.class_weights_to_sample_weights(y, class_weight, caller)
            sample_weight = weights if sample_weight is None else sample_weight * weights
        return adapters.ArrayAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle)

    def _custom_step(self, name):
        """Whether a subclass overrides the step ``name`` (then it decides what data needs)."""
        return getattr(type(self), name) is not getattr(Trainer, name)

    def _callback_list(self, callbacks, verbose, epochs, steps, add_history=False):
        if isinstance(callbacks, CallbackList):
            return callbacks
        data_parallel = distribution_state.active()
        chief = data_parallel is None or data_parallel.is_chief
        return CallbackList(callbacks, add_history=add_history,
                            add_progbar=verbose != 0 and chief, chief=chief,
                            model=self, verbose=verbose if chief else 0, epochs=epochs,
                            steps=steps)

    # ------------------------------------------------------------- fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for a number of epochs (Keras semantics).

        Args:
            x: inputs: an array, a list or dict of arrays (several inputs), a Python
                generator or a :class:`~npgrad.utils.PyDataset` yielding batches.
            y: targets (arrays only; None with a generator, or for a model whose
                ``train_step`` needs no targets, e.g. an autoencoder or a GAN).
            batch_size: samples per step (default 32; arrays only).
            epochs: index of the last epoch (training runs ``initial_epoch .. epochs - 1``).
            verbose: ``'auto'`` (= 1), 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: list of :class:`~npgrad.callbacks.Callback`.
            validation_split: fraction in [0, 1) of the data held out for validation: the
                LAST samples, taken before shuffling (arrays only).
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)``, a
                generator or a PyDataset; overrides ``validation_split``.
            shuffle: reshuffle the training samples each epoch (npgrad's seeded generator,
                so ``npgrad.utils.set_random_seed`` makes the run reproducible).
            class_weight: dict class index -> weight, folded into the sample weights.
            sample_weight: per-sample weights, shape (N,).
            initial_epoch: epoch to start from (to resume training).
            steps_per_epoch: batches per epoch (default: all of the data).
            validation_steps: batches of validation data per evaluation (default: all).
            validation_batch_size: batch size for validation (default ``batch_size``).
            validation_freq: validate every this many epochs.

        Returns:
            The :class:`~npgrad.callbacks.History`: ``history.history["loss"]`` etc., one
            value per epoch; the epoch ``loss`` is the mean of the batch losses weighted by
            batch size.

        Raises:
            RuntimeError: the model was not compiled.
            TypeError, ValueError: a bad argument (named), x and y of different lengths,
                or input of the wrong feature shape (the first layer's error).
        """
        keep_freed_memory()  # reuse big blocks across steps (see npgrad.utils.allocator)
        adapt_threads_now()  # BLAS threads for the idle cores (a user's explicit choice wins)
        self._assert_compiled("fit")
        caller = f"{self.name}.fit"
        batch_size = arguments.positive_int(32 if batch_size is None else batch_size,
                                            "batch_size", caller)
        epochs, initial_epoch = arguments.epochs_range(epochs, initial_epoch, caller)
        verbose = arguments.verbosity(verbose, caller)
        shuffle = arguments.boolean(shuffle, "shuffle", caller)
        class_weight = arguments.class_weight(class_weight, caller)
        validation_freq = arguments.positive_int(validation_freq, "validation_freq", caller)
        steps_per_epoch = arguments.optional_positive_int(steps_per_epoch, "steps_per_epoch", caller)
        validation_steps = arguments.optional_positive_int(validation_steps, "validation_steps",
                                                           caller)
        validation_batch_size = arguments.positive_int(validation_batch_size or batch_size,
                                                       "validation_batch_size", caller)
        arguments.fraction(validation_split, "validation_split", caller)

        train = self._adapter(x, y, sample_weight, batch_size, shuffle, class_weight, caller,
                              require_y="train_step")
        val = None
        if validation_data is not None:
            val = adapters.validation_adapter(self, validation_data, validation_batch_size,
                                              caller, self._n_inputs(), self._n_outputs())
        elif validation_split:
            if not isinstance(train, adapters.ArrayAdapter):
                raise ValueError(f"{caller}: validation_split needs arrays; pass validation_data "
                                 f"with a generator or PyDataset")
            kept, held = adapters.split_for_validation(train.x, train.y, train.sample_weight,
                                                       validation_split, caller)
            train.x, train.y, train.sample_weight = kept
            val = adapters.ArrayAdapter(*held, batch_size=validation_batch_size)

        with _in_every_rank():
            return self._fit_epochs(train, val, epochs, initial_epoch, steps_per_epoch,
                                    validation_steps, validation_freq, callbacks, verbose)

    def _fit_epochs(self, train, val, epochs, initial_epoch, steps_per_epoch, validation_steps,
                    validation_freq, callbacks, verbose):
        """``fit``'s epochs, in every rank of a data-parallel distribution."""
        data_parallel = distribution_state.active()
        train.distribution = data_parallel  # every rank cuts the batches rank 0 shuffled
        self._synchronized_with = None  # every fit starts from rank 0's weights
        steps = train.num_batches
        if steps_per_epoch is not None:
            steps = steps_per_epoch if steps is None else min(steps_per_epoch, steps)
        callbacks = self._callback_list(callbacks, verbose, epochs, steps, add_history=True)
        self.stop_training = False
        callbacks.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            logs = self._train_epoch(epoch, train, steps, callbacks) or logs
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_loop(val, callbacks, steps=validation_steps)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training or getattr(train, "exhausted", False):
                break
        if epochs > initial_epoch:
            self._finalize_variable_values()
        callbacks.on_train_end(logs)
        return callbacks.history

    def _train_epoch(self, epoch, adapter, steps, callbacks):
        """One epoch of ``train_step`` calls; stops after ``steps`` batches or when a
        callback sets ``stop_training``. Returns the last logs."""
        self.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        logs = None
        data_parallel = distribution_state.active()
        for step, data in enumerate(adapter.batches(epoch)):
            callbacks.on_train_batch_begin(step)
            logs = self._train_batch(data, data_parallel)
            callbacks.on_train_batch_end(step, logs)
            if self.stop_training or (steps is not None and step + 1 >= steps):
                break
        adapter.on_epoch_end()
        return logs

    def _built_metrics(self):
        return [m for m in self.metrics if m is not self.compiled_metrics]

    def trained_optimizers(self):
        """Every optimizer that trains part of this model, with the model it trains.

        The model's own optimizer first (when compiled with one), then those of sub-models
        compiled with optimizers of their own (a GAN's two networks), each once.

        Returns:
            list of ``(optimizer, model)`` pairs; the optimizer updates
            ``model.trainable_weights``.
        """
        pairs, seen = [], set()
        for model in [self] + [layer for layer in self._flatten_layers()
                               if isinstance(layer, Trainer)]:
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and id(optimizer) not in seen:
                seen.add(id(optimizer))
                pairs.append((optimizer, model))
        return pairs

    def _finalize_variable_values(self):
        """When training ends, each optimizer with ``use_ema`` copies its averages into the
        weights it trains (Keras's ``fit``)."""
        for optimizer, model in self.trained_optimizers():
            optimizer.finalize_variable_values(model.trainable_weights)

    def _flatten_layers(self):
        found, stack = [], list(self._sublayers())
        while stack:
            layer = stack.pop(0)
            found.append(layer)
            stack.extend(layer._sublayers())
        return found

    # ------------------------------------------------------------- evaluate / predict
    def _evaluate_loop(self, adapter, callbacks, steps=None):
        """Reset the metrics, run test_step over the batches under no_grad, return the logs."""
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = {}
        data_parallel = distribution_state.active()
        with no_grad():
            for step, data in enumerate(adapter.batches()):
                if steps is not None and step >= steps:
                    break
                callbacks.on_test_batch_begin(step)
                logs = self._test_batch(data, data_parallel)
                callbacks.on_test_batch_end(step, logs)
        callbacks.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on data, with ``training=False`` and no graph.

        Args:
            x: inputs (arrays, a generator or a PyDataset). y: targets.
            batch_size: samples per batch (default 32).
            verbose: ``'auto'`` (= 1), 0 or 1/2 (a progress bar).
            sample_weight: optional per-sample weights (N,).
            steps: number of batches to run (default: all).
            callbacks: list of callbacks (their ``on_test_*`` hooks run).
            return_dict: return ``{name: value}`` instead of a list.

        Returns:
            The loss (float) when no metrics were compiled, else ``[loss, *metrics]`` in
            ``metrics_names`` order, or a dict with ``return_dict=True``.
        """
        keep_freed_memory()
        adapt_threads_now()
        self._assert_compiled("evaluate")
        caller = f"{self.name}.evaluate"
        batch_size = arguments.positive_int(32 if batch_size is None else batch_size,
                                            "batch_size", caller)
        verbose = arguments.verbosity(verbose, caller)
        steps = arguments.optional_positive_int(steps, "steps", caller)
        adapter = self._adapter(x, y, sample_weight, batch_size, False, None, caller,
                                require_y="test_step")
        n_steps = adapter.num_batches if steps is None else steps
        with _in_every_rank():
            callbacks = self._callback_list(callbacks, verbose, 1, n_steps)
            logs = self._evaluate_loop(adapter, callbacks, steps=steps)
        return self._batch_logs(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, in batches, with ``training=False`` and no graph.

        Args:
            x: inputs (arrays, a generator or a PyDataset; targets are ignored).
            batch_size: samples per batch (default 32).
            verbose: ``'auto'`` (= 1), 0 or 1/2.
            steps: number of batches to run (default: all).
            callbacks: list of callbacks (their ``on_predict_*`` hooks run).

        Returns:
            ndarray of shape (N, ...) (the outputs concatenated along the batch axis); a
            list or dict of them for several outputs.
        """
        keep_freed_memory()
        adapt_threads_now()
        caller = f"{self.name}.predict"
        batch_size = arguments.positive_int(32 if batch_size is None else batch_size,
                                            "batch_size", caller)
        verbose = arguments.verbosity(verbose, caller)
        steps = arguments.optional_positive_int(steps, "steps", caller)
        adapter = self._adapter(x, None, None, batch_size, False, None, caller)
        n_steps = adapter.num_batches if steps is None else steps
        outputs = []
        with _in_every_rank(), no_grad():
            callbacks = self._callback_list(callbacks, verbose, 1, n_steps)
            callbacks.on_predict_begin()
            for step, data in enumerate(adapter.batches()):
                if n_steps is not None and step >= n_steps:
                    break
                callbacks.on_predict_batch_begin(step)
                out = self._predict_batch(data)
                outputs.append(out)
                callbacks.on_predict_batch_end(step, {"outputs": out})
            callbacks.on_predict_end()
        if not outputs:
            raise ValueError(f"{caller}: the data yielded no batch")
        return _concatenate(outputs)

    # ------------------------------------------------------------- single batches
    def _batch_logs(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One ``train_step`` on exactly this batch (metrics reset first).

        Under a :class:`~npgrad.distribution.DataParallel` distribution the batch is the
        global one, as in ``fit``: each process trains on its slice, the first call gives
        every process rank 0's weights, and the update is the whole batch's.

        Returns:
            The loss (float) without metrics, else ``[loss, *metrics]`` (or a dict).
        """
        keep_freed_memory()
        self._assert_compiled("train_on_batch")
        adapt_threads_now(_BATCH_INTERVAL)  # a custom loop's steps: at most every few seconds
        caller = f"{self.name}.train_on_batch"
        class_weight = arguments.class_weight(class_weight, caller)
        adapter = self._adapter(x, y, sample_weight, None, False, class_weight, caller)
        self.reset_metrics()
        logs = self._train_batch(adapter.whole(), distribution_state.active())
        return self._batch_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One ``test_step`` on this batch (metrics reset first, no graph); data-parallel
        runs score a slice per process and log the whole batch's values, as ``evaluate``.

        Returns:
            The loss (float) without metrics, else ``[loss, *metrics]`` (or a dict).
        """
        keep_freed_memory()
        self._assert_compiled("test_on_batch")
        adapt_threads_now(_BATCH_INTERVAL)
        adapter = self._adapter(x, y, sample_weight, None, False, None,
                                f"{self.name}.test_on_batch")
        self.reset_metrics()
        with no_grad():
            logs = self._test_batch(adapter.whole(), distribution_state.active())
        return self._batch_logs(logs, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch, as an ndarray (no graph, ``training=False``);
        data-parallel runs predict a slice per process and gather the whole batch, as
        ``predict``."""
        keep_freed_memory()
        adapt_threads_now(_BATCH_INTERVAL)
        adapter = self._adapter(x, None, None, None, False, None,
                                f"{self.name}.predict_on_batch")
        with no_grad():
            return self._predict_batch(adapter.whole())


_BATCH_INTERVAL = 10.0  # seconds between adaptations from the *_on_batch methods
_ADAPTED = {"at": None}


def adapt_threads_now(interval=0.0):
    """:func:`~npgrad.utils.adapt_num_threads`, unless it ran less than ``interval`` seconds
    ago: ``fit``, ``evaluate`` and ``predict`` adapt at their start; ``train_on_batch``,
    ``test_on_batch`` and ``predict_on_batch`` (the steps of a custom loop, such as a GAN's)
    at most every :data:`_BATCH_INTERVAL` seconds, so that a loop on a busy machine leaves
    two spinning BLAS threads within seconds (the load average moves on a one-minute scale)
    and an idle one pays a ``/proc/loadavg`` read per ten seconds, not per step."""
    now = time.monotonic()
    if _ADAPTED["at"] is None or now - _ADAPTED["at"] >= interval:
        _ADAPTED["at"] = now
        adapt_num_threads()
        # a helper process holding old copies of rewritten memory ends (its memory is
        # read at most every REFRESH_EVERY seconds: 2 ms a read)
        refresh_helper(interval=REFRESH_EVERY)


def _to_numpy(out):
    if isinstance(out, Tensor):
        return out.data
    if isinstance(out, dict):
        return {k: _to_numpy(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return [_to_numpy(v) for v in out]
    return np.asarray(out)


def _concatenate(outputs):
    first = outputs[0]
    if isinstance(first, dict):
        return {k: np.concatenate([o[k] for o in outputs], axis=0) for k in first}
    if isinstance(first, list):
        return [np.concatenate(parts, axis=0) for parts in zip(*outputs)]
    return np.concatenate(outputs, axis=0)


def _batch_size(x, y_pred):
    """The number of samples in a batch (weights the epoch's mean loss)."""
    for value in (x, y_pred):
        if isinstance(value, dict):
            value = next(iter(value.values()), None)
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is not None and hasattr(value, "__len__"):
            return len(value)
    return 1
