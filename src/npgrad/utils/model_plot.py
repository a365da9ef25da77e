"""``plot_model`` and ``model_to_dot`` without Graphviz: the layer graph as DOT text, a PNG
drawn with npgrad's own PNG writer and pixel font, or an SVG.

Example:
    >>> npgrad.utils.plot_model(model, "model.png", show_shapes=True)   # no Graphviz needed
    >>> print(npgrad.utils.model_to_dot(model).to_string())             # DOT source
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from npgrad.utils.bitmap_font import draw_text, text_size
from npgrad.utils.png import encode_png
from npgrad.utils.summary import format_shape

_SCALE, _LINE, _PAD, _GAP = 2, 14, 8, 26  # font scale, line height, box padding, box gap


def _graph(model, show_shapes, show_dtype, show_layer_names, show_layer_activations,
           show_trainable):
    """The boxes (label lines per layer) and the edges (index pairs) of a model."""
    try:
        rows = model._summary_rows()  # (layer, output shape) as summary() shows them
    except Exception:  # noqa: BLE001 - a model that cannot report shapes still plots
        rows = [(layer, None) for layer in model.layers]
    layers = [layer for layer, _ in rows]
    index = {id(layer): i for i, layer in enumerate(layers)}
    model_nodes = getattr(model, "_nodes", None)
    edges = []
    if model_nodes is not None:  # functional: follow each node to the layers that fed it
        for node in model_nodes:
            for parent in node.parent_nodes:
                edge = (index.get(id(parent.layer)), index.get(id(node.layer)))
                if None not in edge and edge not in edges:
                    edges.append(edge)
    else:  # sequential: a chain
        edges = [(i, i + 1) for i in range(len(layers) - 1)]
    labels = []
    for layer, shape in rows:
        kind = type(layer).__name__
        lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
        if show_layer_activations and getattr(layer, "activation", None) is not None:
            activation = layer.activation
            lines.append(f"activation: {getattr(activation, '__name__', str(activation))}")
        if show_shapes:
            lines.append(f"output: {format_shape(shape) if shape is not None else '?'}")
        if show_dtype:
            lines.append(f"dtype: {getattr(getattr(layer, 'dtype', None), 'name', '?')}")
        if show_trainable:
            lines.append(f"trainable: {'yes' if layer.trainable else 'no'}")
        labels.append(lines)
    return labels, edges


class DotGraph:
    """A model diagram in Graphviz's DOT language (what ``model_to_dot`` returns).

    Attributes:
        labels: one list of text lines per layer box.
        edges: (from, to) box indices.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"``.
    """

    def __init__(self, labels, edges, rankdir="TB", dpi=200, name="model"):
        self.labels, self.edges, self.rankdir, self.dpi, self.name = labels, edges, rankdir, dpi, name

    def to_string(self):
        """The DOT source (render it with Graphviz's ``dot`` if you have it)."""
        out = [f'digraph "{self.name}" {{', f"  graph [rankdir={self.rankdir}, dpi={self.dpi}];",
               "  node [shape=record, fontname=Helvetica];"]
        for i, lines in enumerate(self.labels):
            text = "|".join(_dot_escape(line) for line in lines)
            out.append(f'  layer{i} [label="{{{text}}}"];')
        out += [f"  layer{a} -> layer{b};" for a, b in self.edges]
        out.append("}")
        return "\n".join(out) + "\n"

    source = property(to_string, doc="Same as :meth:`to_string`.")

    def create(self, prog=None, format="png"):  # noqa: A002 - pydot's name
        """The diagram as bytes: ``"png"`` (pixel font), ``"svg"`` or ``"dot"``."""
        if format == "png":
            return encode_png(render_png(self.labels, self.edges))
        if format == "svg":
            return render_svg(self.labels, self.edges).encode()
        if format in ("dot", "raw", "gv"):
            return self.to_string().encode()
        raise ValueError(f"model_to_dot: format must be 'png', 'svg' or 'dot', got {format!r}")

    def write(self, path, format="raw"):  # noqa: A002 - pydot's name
        """Write the diagram to ``path`` in ``format`` (``"raw"``/``"dot"``, ``"png"``, ``"svg"``)."""
        Path(path).write_bytes(self.create(format=format))


def _dot_escape(text):
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text


def _layout(labels):
    """Box geometry: a column of equal-width boxes. Returns (width, tops, heights)."""
    width = max(max(text_size(line, _SCALE)[0] for line in lines) for lines in labels) + 2 * _PAD
    heights = [len(lines) * _LINE + 2 * _PAD - (_LINE - 5 * _SCALE) for lines in labels]
    tops, y = [], _PAD
    for height in heights:
        tops.append(y)
        y += height + _GAP
    return width, tops, heights


def render_png(labels, edges):
    """The diagram as a uint8 RGB image: boxes top to bottom, arrows between them (edges that
    skip boxes run along the right margin)."""
    if not labels:
        raise ValueError("plot_model: the model has no layers")
    box_width, tops, heights = _layout(labels)
    skips = [(a, b) for a, b in edges if b != a + 1]
    width = _PAD + box_width + 12 * (len(skips) + 1) + _PAD
    height = tops[-1] + heights[-1] + _PAD
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    left = _PAD
    for lines, top, h in zip(labels, tops, heights):
        image[top:top + h, left:left + box_width] = (235, 242, 250)
        image[top, left:left + box_width] = image[top + h - 1, left:left + box_width] = 60
        image[top:top + h, left] = image[top:top + h, left + box_width - 1] = 60
        for k, line in enumerate(lines):
            draw_text(image, line, top + _PAD + k * _LINE, left + _PAD, color=20, scale=_SCALE)
    center = left + box_width // 2
    for a, b in edges:
        if b == a + 1:
            _vertical(image, center, tops[a] + heights[a], tops[b] - 1)
            _arrow_down(image, center, tops[b] - 1)
    for k, (a, b) in enumerate(skips):
        lane = left + box_width + 12 * (k + 1)
        y0, y1 = tops[a] + heights[a] // 2, tops[b] + heights[b] // 2
        image[y0, left + box_width:lane + 1] = 40
        _vertical(image, lane, min(y0, y1), max(y0, y1))
        image[y1, left + box_width:lane + 1] = 40
        for d in range(1, 4):  # arrowhead pointing left into the box
            image[y1 - d:y1 + d + 1, left + box_width + d] = 40
    return image


def _vertical(image, x, y0, y1):
    image[y0:y1 + 1, x] = 40


def _arrow_down(image, x, y):
    for d in range(1, 4):
        image[y - d, x - d:x + d + 1] = 40


def render_svg(labels, edges):
    """The diagram as SVG text (same layout as :func:`render_png`)."""
    box_width, tops, heights = _layout(labels)
    skips = [(a, b) for a, b in edges if b != a + 1]
    width = 2 * _PAD + box_width + 12 * (len(skips) + 1)
    height = tops[-1] + heights[-1] + _PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
             '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>']
    for lines, top, h in zip(labels, tops, heights):
        parts.append(f'<rect x="{_PAD}" y="{top}" width="{box_width}" height="{h}" '
                     f'fill="#ebf2fa" stroke="#3c3c3c"/>')
        for k, line in enumerate(lines):
            parts.append(f'<text x="{_PAD * 2}" y="{top + _PAD + 10 + k * _LINE}">'
                         f"{html.escape(line)}</text>")
    center = _PAD + box_width // 2
    for a, b in edges:
        if b == a + 1:
            parts.append(f'<line x1="{center}" y1="{tops[a] + heights[a]}" x2="{center}" '
                         f'y2="{tops[b] - 1}" stroke="#333" marker-end="url(#arrow)"/>')
    for k, (a, b) in enumerate(skips):
        lane = _PAD + box_width + 12 * (k + 1)
        y0, y1 = tops[a] + heights[a] // 2, tops[b] + heights[b] // 2
        parts.append(f'<polyline points="{_PAD + box_width},{y0} {lane},{y0} {lane},{y1} '
                     f'{_PAD + box_width},{y1}" fill="none" stroke="#333" '
                     f'marker-end="url(#arrow)"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, **kwargs):
    """The model's layer graph as a :class:`DotGraph` (``to_string()`` gives the DOT source).

    Args mirror ``keras.utils.model_to_dot``; ``expand_nested`` and ``subgraph`` are
    accepted and ignored (nested models are drawn as one box).
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"model_to_dot: rankdir must be 'TB' or 'LR', got {rankdir!r}")
    labels, edges = _graph(model, show_shapes, show_dtype, show_layer_names,
                           show_layer_activations, show_trainable)
    return DotGraph(labels, edges, rankdir=rankdir, dpi=dpi, name=getattr(model, "name", "model"))


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, **kwargs):
    """Draw the model's layer graph to ``to_file``, as ``keras.utils.plot_model``, without
    Graphviz: ``.png`` is drawn by npgrad (boxes, arrows, a pixel font), ``.svg`` is written
    as SVG, ``.dot``/``.gv`` as DOT source. The image is always top to bottom.

    Returns:
        None.

    Raises:
        ValueError: another file extension.
    """
    graph = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                         show_layer_names=show_layer_names, rankdir=rankdir, dpi=dpi,
                         show_layer_activations=show_layer_activations,
                         show_trainable=show_trainable)
    suffix = Path(to_file).suffix.lower().lstrip(".")
    formats = {"png": "png", "svg": "svg", "dot": "dot", "gv": "dot"}
    if suffix not in formats:
        raise ValueError(f"plot_model: to_file must end in .png, .svg, .dot or .gv, got {to_file!r}")
    graph.write(to_file, format=formats[suffix])
