"""Model: a Layer that trains (Keras 3 ``Model`` = ``Trainer`` + ``Layer``).

This file holds the structure half: construction (``Model(inputs, outputs)`` makes a
functional model), sub-layers, build, summary, saving. The training half (``compile``,
``fit``, ``evaluate``, ``predict``, the steps users override) is
:class:`npgrad.trainers.Trainer`.

Subclass it Keras style (layers as attributes, maths in ``call``) or use ``Sequential``:

Example:
    >>> class TwoLayer(npgrad.models.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = npgrad.layers.Dense(16, activation="relu")
    ...         self.out = npgrad.layers.Dense(3, activation="softmax")
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
    >>> model = TwoLayer()
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=5, validation_split=0.2, verbose=0)
    >>> loss, acc = model.evaluate(x, y, verbose=0)
"""

from __future__ import annotations

import numpy as np

from npgrad import saving
from npgrad.saving import cloning
from npgrad.autograd.engine import no_grad
from npgrad.autograd.tensor import Tensor
from npgrad.layers.layer import Layer, get_layer_class
from npgrad.layers.node import map_shapes
from npgrad.trainers.trainer import Trainer


def _rebase_on(cls, functional):
    """Make ``cls`` (a Model subclass) derive from ``functional`` where it derived from
    Model, through its Model-derived bases; the class stays changed, as in Keras."""
    if cls is Model:
        return functional
    if not issubclass(cls, Model) or issubclass(cls, functional):
        return cls
    cls.__bases__ = tuple(_rebase_on(base, functional) for base in cls.__bases__)
    return cls


class Model(Trainer, Layer):
    """A Layer with a training loop (Keras ``Model``).

    Args:
        name: model name (default ``'model'``, numbered); other Layer arguments as Layer.

    Attributes:
        optimizer, loss, compiled_loss, compiled_metrics, compile_config, history,
        stop_training: see :class:`~npgrad.trainers.Trainer`.
    """

    # inputs reach the first layer as given: each layer casts (Embedding keeps integers)
    cast_inputs = False
    #: a graph of layers (Sequential, functional): its inputs are named, and Keras's weight
    #: files group its layers under ``layers``. A subclassed model is not: fit/evaluate/
    #: predict hand its ``call`` a dict of arrays as a dict, batch by batch
    layer_graph = False

    def __new__(cls, *args, **kwargs):
        # Keras: Model(inputs, outputs) makes a functional model (the class registered as
        # "Functional" by npgrad.models.functional, looked up so that this file need not
        # import the module that builds on it)
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            cls = get_layer_class("Functional")
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            # Keras 3: a subclass built as CustomModel(inputs, outputs) is a functional model
            # that keeps the subclass's methods (train_step, test_step, compute_loss...): the
            # class is rebased on Functional, as Keras's inject_functional_model_class does
            functional = get_layer_class("Functional")
            if not isinstance(self, functional):
                _rebase_on(type(self), functional)
            functional.__init__(self, *args, **kwargs)
            return
        super().__init__(**kwargs)
        self._init_trainer()

    @classmethod
    def from_config(cls, config):
        """A model from ``get_config()`` output; ``Model.from_config`` of a functional
        model's config (its ``layers``, ``input_layers`` and ``output_layers``) rebuilds the
        functional model, as Keras does."""
        if cls is Model and isinstance(config, dict) \
                and all(key in config for key in ("layers", "input_layers", "output_layers")):
            return get_layer_class("Functional").from_config(config)
        return super().from_config(config)

    # ------------------------------------------------------------- structure
    @property
    def layers(self):
        """The direct sub-layers (for a subclassed model: the Layer attributes)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """A sub-layer by name or by index (position in ``layers``).

        Raises:
            ValueError: no layer of that name, or an index out of range.
        """
        if isinstance(name, (int, np.integer)) and index is None:
            name, index = None, int(name)
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"{self.name}: get_layer index {index} is out of range for {len(layers)} layers"
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"{self.name}: no layer named {name!r}; layers: {[layer.name for layer in layers]}"
        )

    def _n_inputs(self):
        return 1

    def _n_outputs(self):
        return 1

    def build(self, input_shape):
        """Create every weight by running the model once on a zero batch of one sample.

        Args:
            input_shape: input shape with the batch axis first (it may be None).
        """
        def zeros(shape):  # one sample
            sample = (1,) + tuple(shape)[1:]
            if any(n is None for n in sample):
                raise ValueError(f"{self.name}: cannot build from input shape {input_shape}")
            return Tensor(np.zeros(sample, dtype=self.dtype))

        # training= only for a call that takes it (Keras 3: `def call(self, x)` is fine);
        # a dict or list of shapes (a call that takes several inputs) gets one zero each
        kwargs = {"training": False} if self._call_has_training_arg else {}
        with no_grad():
            self.call(map_shapes(zeros, input_shape), **kwargs)
        self.built = True
        self.input_shape_built = input_shape if isinstance(input_shape, dict) else \
            tuple(input_shape)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print a table of the layers: name (type), output shape, parameter count, totals;
        for a functional model that is not a plain chain, Keras's "Connected to" column.

        Args:
            line_length: total width of the table.
            positions: accepted for Keras compatibility (ignored).
            print_fn: function called with each line (default ``print``).
            expand_nested, layer_range: accepted for Keras compatibility (ignored).
            show_trainable: add Keras's ``Trainable`` column (Y, N, or - for a layer
                without weights).
        """
        from npgrad.utils.summary import print_summary

        print_summary(self, self._summary_rows(), line_length=line_length, print_fn=print_fn,
                      show_trainable=show_trainable, connections=self._summary_connections())

    def _summary_rows(self):
        return [(layer, None) for layer in self.layers]

    def _summary_connections(self):  # a functional graph's "Connected to" column
        return None

    def to_json(self, **kwargs):
        """The architecture as a JSON string (Keras); ``models.model_from_json`` reads it.

        Args:
            **kwargs: passed to ``json.dumps`` (``indent=2``...).
        """
        return cloning.model_to_json(self, **kwargs)

    # ------------------------------------------------------------- saving
    def get_compile_config(self):
        """The compile settings a saved file keeps (Keras 3's ``compile_config``), or None
        before ``compile``. A model whose ``compile`` takes other arguments overrides this
        and :meth:`compile_from_config`; ``.keras`` files then keep what it returns."""
        return saving.keras_export.keras_compile_config(self)

    get_compile_config.default_hook = True  # an override is a hook the saver calls

    def compile_from_config(self, config):
        """Compile from a saved ``compile_config`` (what loading a ``.keras`` file does)."""
        saving.keras_config.compile_from_keras_config(self, config)

    compile_from_config.default_hook = True  # an override is a hook the loader calls

    def save(self, filepath, overwrite=True, **kwargs):
        """Save architecture, weights, compile config and optimizer state (``npgrad.saving``)."""
        return saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Save only the weights, in ``weights`` order."""
        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load weights written by ``save_weights`` or ``save`` into this (built) model."""
        return saving.load_weights(self, filepath)
