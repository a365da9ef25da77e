"""Sequential: a plain stack of layers, each feeding the next.

Example:
    >>> model = npgrad.models.Sequential([
    ...     npgrad.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
    ...     npgrad.layers.MaxPooling2D((2, 2)),
    ...     npgrad.layers.Flatten(),
    ...     npgrad.layers.Dense(10, activation="softmax"),
    ... ])
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> model.summary()
"""

from __future__ import annotations

from npgrad.layers import call_context
from npgrad.layers.core import Input, InputLayer
from npgrad.layers.fusion import fused_run
from npgrad.layers.layer import Layer
from npgrad.layers.node import SYMBOLIC_TYPES, KerasTensor, is_symbolic, symbolic_call
from npgrad.layers.serialization import layer_class, serialize
from npgrad.models.model import Model


class Sequential(Model):
    """A linear stack of layers (Keras ``Sequential``).

    The model builds eagerly when its input shape is known: an ``npgrad.Input(...)`` /
    ``InputLayer`` first, or ``input_shape=`` on the first layer. Otherwise it builds on
    the first call (or ``fit``/``predict``), from the data's shape.

    Args:
        layers: optional list of layers (an ``npgrad.Input(...)`` tensor or an InputLayer may
            come first).
        name: model name (default ``'sequential'``, numbered).
        **kwargs: Layer arguments (``trainable``, ``dtype``).

    Attributes:
        layers: the layers, InputLayer excluded (as in Keras).
        fuse_layers: when True (the default), consecutive layers run as one op where
            ``layers/fusion.py`` knows how: a ``Conv2D`` (stride 1, relu or linear) followed
            by ``MaxPooling2D((2, 2))`` (``F.conv2d_max_pool2d``, about half the work), a
            ``BatchNormalization`` followed by ``ReLU``, capped or not
            (``F.batch_norm(relu=True, relu_cap=...)``), and at
            inference a linear ``Conv2D`` followed by ``BatchNormalization`` (and ``ReLU``)
            as one convolution with the normalization folded into its kernel and bias.
            The same outputs and gradients (the folded convolution up to rounding). Calling
            the layers one by one (``layer(x)``) is never affected.
    """

    layer_graph = True  # see Model

    fuse_layers = True

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        self._input_layer = None
        self._build_shape = None
        self._last_output_shape = None  # the last layer's output shape once built
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------- stack
    @property
    def layers(self):
        """The layers in order, without the InputLayer."""
        return list(self._layers)

    @property
    def input_shape(self):
        """The batch input shape the model was built for (batch axis None), or None."""
        if self._build_shape is None:
            return None
        return (None,) + tuple(self._build_shape[1:])

    @property
    def output_shape(self):
        """The batch output shape (batch axis None), once the input shape is known."""
        if self._build_shape is None:
            return None
        return self.compute_output_shape(self.input_shape)

    def _known_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._layers and self._layers[0]._batch_input_shape is not None:
            return self._layers[0]._batch_input_shape
        return None

    def add(self, layer):
        """Append a layer (an InputLayer only as the first element).

        Raises:
            TypeError: not a Layer.
            ValueError: a second InputLayer, an InputLayer after layers, or a duplicate name.
        """
        if isinstance(layer, KerasTensor):  # Keras 3: an npgrad.Input tensor may come first
            origin = (layer._keras_history or (None,))[0]
            if not isinstance(origin, InputLayer):
                raise TypeError(
                    f"{self.name}.add: a symbolic tensor can only be added when it comes from "
                    f"npgrad.Input(), got {layer!r}"
                )
            layer = origin
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{self.name}.add: expected a npgrad.layers.Layer instance, got "
                f"{type(layer).__name__}"
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError(
                    f"{self.name}.add: an InputLayer can only be the first layer of a Sequential"
                )
            self._input_layer = layer
            self.build(layer.batch_shape)
            return
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"{self.name}.add: all layers of a Sequential must have unique names; "
                f"{layer.name!r} is already in the model"
            )
        self._layers.append(layer)
        if self._build_shape is not None and self._last_output_shape is not None:
            # built already: build the new layer only (rebuilding all would make adding n
            # layers, as from_config does, cost n^2 shape computations)
            layer._maybe_build(self._last_output_shape)
            self._last_output_shape = tuple(layer.compute_output_shape(self._last_output_shape))
        elif self._build_shape is not None:
            self.build(self._build_shape)
        elif len(self._layers) == 1 and layer._batch_input_shape is not None:
            self.build(layer._batch_input_shape)

    def pop(self):
        """Remove and return the last layer.

        Raises:
            TypeError: the model has no layers (as Keras).
        """
        if not self._layers:
            raise TypeError(f"{self.name}.pop: there are no layers in the model")
        self._last_output_shape = None  # recomputed by the next build
        return self._layers.pop()

    # ------------------------------------------------------------- build and call
    def build(self, input_shape=None):
        """Build every layer in turn from the input shape (batch axis first, may be None).

        Args:
            input_shape: e.g. ``(None, 28, 28, 1)``; default: the shape given by an
                InputLayer or the first layer's ``input_shape=``.

        Raises:
            ValueError: no input shape is known, or a layer rejects the shape it receives.
        """
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise ValueError(
                    f"{self.name}: cannot build without an input shape; pass build(input_shape), "
                    f"start with npgrad.Input(shape) or give the first layer input_shape="
                )
        shape = tuple(input_shape)
        if self._input_layer is not None:
            shape = self._input_layer.compute_output_shape(shape)
        for layer in self._layers:
            layer._maybe_build(shape)
            shape = tuple(layer.compute_output_shape(shape))
        self._last_output_shape = shape
        self._build_shape = tuple(input_shape)
        self.built = True
        self.input_shape_built = tuple(input_shape)

    def call(self, x, training=None, mask=None):
        """Apply the layers in order.

        A timestep mask travels with the Tensors: a layer that makes one
        (``Embedding(mask_zero=True)``, ``Masking``) attaches it to its output, and the next
        layer's ``call`` receives it as ``mask=`` when it takes one (LSTM, GRU, SimpleRNN,
        Bidirectional...), as Keras. Without masks nothing extra runs.

        Args:
            x: Tensor of shape (N, ...) as the first layer expects.
            training: passed to every layer (Dropout, BatchNormalization); None lets
                each take its own default, as Keras.
            mask: optional (N, T) boolean timestep mask for the input (Keras).

        Returns:
            The last layer's output Tensor (carrying the last layer's mask, if any).
        """
        if self._input_layer is not None:
            x = self._input_layer(x, training=training)
        layers, i = self._layers, 0
        if mask is not None and layers:  # an explicit mask enters through the first layer
            x = layers[0](x, training=training, mask=mask)
            i = 1
        while i < len(layers):
            count, runner = fused_run(layers[i : i + 3]) if self.fuse_layers else (1, None)
            if runner is not None:
                x = runner(x, training)
            else:
                x = layers[i](x, training=training)
            i += count
        return x

    def __call__(self, x, *args, training=None, **kwargs):
        """Apply the model; builds the layers from the input's shape on first use.

        On a symbolic tensor it becomes one node of a functional model (see ``Layer``).
        """
        if isinstance(x, SYMBOLIC_TYPES) and is_symbolic(x):
            return symbolic_call(self, x, args, kwargs, training)
        x = self._prepare_input(x)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        return call_context.call_in_mode(self, training, x, *args, **kwargs)

    # ------------------------------------------------------------- symbolic graph
    def _symbolic_graph(self):
        """(input, output) KerasTensors of the layers called once on a symbolic input.

        Keras 3 runs a built Sequential as a functional graph, so that ``model.inputs`` and
        every layer's ``input``/``output`` exist (to cut a feature extractor out of it). Made
        on first use from the known input shape; ``add``/``pop`` start a new one.
        """
        graph = self.__dict__.get("_graph")
        if graph is not None and graph[2] == [id(layer) for layer in self._layers]:
            return graph[:2]
        if not self.built and self._known_input_shape() is None:
            raise AttributeError(
                f"Sequential '{self.name}' has no symbolic inputs yet: start it with "
                f"npgrad.Input(shape), give the first layer input_shape=, or build it"
            )
        if not self.built:
            self.build()
        if self._input_layer is not None:
            inputs = self._input_layer.output
        else:
            inputs = Input(batch_shape=self._build_shape, dtype=self.dtype)
        outputs = inputs
        for layer in self._layers:
            outputs = layer(outputs)
        self.__dict__["_graph"] = (inputs, outputs, [id(layer) for layer in self._layers])
        return inputs, outputs

    @property
    def inputs(self):
        """The model's symbolic inputs, a list of one KerasTensor (Keras 3)."""
        return [self._symbolic_graph()[0]]

    @property
    def outputs(self):
        """The model's symbolic outputs, a list of one KerasTensor (Keras 3)."""
        return [self._symbolic_graph()[1]]

    @property
    def input(self):
        """The model's symbolic input (``inputs[0]``)."""
        return self._symbolic_graph()[0]

    @property
    def output(self):
        """The model's symbolic output (``outputs[0]``)."""
        return self._symbolic_graph()[1]

    def compute_output_shape(self, input_shape):
        """The output shape for an input shape (batch axis may be None), layer by layer."""
        shape = tuple(input_shape)
        if self._input_layer is not None:
            shape = self._input_layer.compute_output_shape(shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def _summary_rows(self):
        rows = []
        shape = self.input_shape
        for layer in self._layers:
            if shape is not None and layer.built:
                shape = tuple(layer.compute_output_shape(shape))
            else:
                shape = None
            rows.append((layer, shape))
        return rows

    # ------------------------------------------------------------- config
    def get_config(self):
        """``{"name", "trainable", "dtype", "layers": [...]}``, each layer as
        ``npgrad.layers.serialize`` gives it (``module``, ``class_name``, ``config``,
        ``registered_name``).

        An InputLayer, when present, is the first entry of ``layers`` (as in Keras 3).
        """
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        layers = ([self._input_layer] if self._input_layer is not None else []) + self._layers
        config["layers"] = [serialize(layer) for layer in layers]
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuild a Sequential from ``get_config()`` output (layer classes by registered name).

        Raises:
            ValueError: an unknown layer class or a malformed entry.
        """
        config = dict(config)
        specs = config.pop("layers", [])
        if not isinstance(specs, list):
            raise ValueError(f"Sequential.from_config: 'layers' must be a list, got {specs!r}")
        layers = []
        for spec in specs:
            if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
                raise ValueError(
                    f"Sequential.from_config: each layer needs 'class_name' and 'config', got {spec!r}"
                )
            layers.append(layer_class(spec).from_config(dict(spec.get("config") or {})))
        return cls(layers=layers, **config)
