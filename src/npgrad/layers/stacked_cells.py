"""StackedRNNCells: several recurrent cells run as one cell, each feeding the next.

``RNN(StackedRNNCells([LSTMCell(32), GRUCell(16)]))`` runs both cells at every step: the
first cell's output is the second cell's input, and the step's output is the last cell's.

npgrad's ``RNN`` takes a cell's states as one flat list, so ``state_size`` is the flat list
of every cell's state sizes, in cell order (LSTMCell: h, c), and ``call`` splits it; the
weights are the cells' weights in cell order, as in Keras.

Example:
    >>> cells = StackedRNNCells([npgrad.layers.SimpleRNNCell(4), npgrad.layers.GRUCell(3)])
    >>> npgrad.layers.RNN(cells)(np.ones((2, 5, 6))).shape
    (2, 3)
"""

from __future__ import annotations

import numpy as np

from npgrad.layers.layer import Layer, get_layer_class


def _sizes(cell):
    size = cell.state_size
    return [int(size)] if isinstance(size, (int, np.integer)) else [int(s) for s in size]


class StackedRNNCells(Layer):
    """A stack of recurrent cells that behaves as a single cell.

    Args:
        cells: list of cells (Layers with ``state_size`` and ``call(inputs, states, training)``).

    Attributes:
        state_size: flat list of the cells' state sizes, in cell order.
        output_size: the last cell's output size.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells: argument `cells` must hold at least one cell")
        for cell in cells:
            if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
                raise TypeError("StackedRNNCells: every cell must be a Layer with a `state_size`, "
                                f"got {type(cell).__name__}")
        self.cells = cells

    @property
    def state_size(self):
        """Flat list of every cell's state sizes (npgrad's RNN takes states flat)."""
        return [s for cell in self.cells for s in _sizes(cell)]

    @property
    def output_size(self):
        """The last cell's output size (its first state's size when it declares none)."""
        last = self.cells[-1]
        return getattr(last, "output_size", None) or _sizes(last)[0]

    def build(self, input_shape):
        batch, features = input_shape[0], input_shape[-1]
        for cell in self.cells:
            cell._maybe_build((batch, features))
            features = getattr(cell, "output_size", None) or _sizes(cell)[0]

    def call(self, inputs, states, training=False):
        """One step: inputs (N, F), the flat states -> (last cell's output, new flat states)."""
        if not isinstance(states, (list, tuple)):
            states = [states]
        expected = self.state_size
        if len(states) != len(expected):
            raise ValueError(f"Layer '{self.name}' (StackedRNNCells): expected {len(expected)} "
                             f"states {expected}, got {len(states)}")
        new_states, start, x = [], 0, inputs
        for cell in self.cells:
            count = len(_sizes(cell))
            x, cell_states = cell(x, list(states[start:start + count]), training=training)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.extend(cell_states)
            start += count
        return x, new_states

    def get_config(self):
        config = super().get_config()
        config["cells"] = [{"class_name": type(c).__name__, "config": c.get_config()}
                           for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [get_layer_class(spec["class_name"]).from_config(spec["config"])
                 for spec in config.pop("cells")]
        return cls(cells, **config)


__all__ = ["StackedRNNCells"]
