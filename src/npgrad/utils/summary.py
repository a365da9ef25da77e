"""The ``model.summary()`` table: one row per layer with its type, output shape and size.

Example output (the seed CNN)::

    Model: "sequential"
    ____________________________________________________________________________
     Layer (type)                       Output Shape                   Param #
    ============================================================================
     conv2d (Conv2D)                    (None, 26, 26, 32)                 320
    ...
    ============================================================================
     Total params: 34,826 (136.04 KB)
     Trainable params: 34,826 (136.04 KB)
     Non-trainable params: 0 (0.00 B)
    ____________________________________________________________________________
"""

from __future__ import annotations

from npgrad.utils.io_utils import print_msg


def readable_size(num_bytes):
    """Bytes in Keras' units: ``139304 -> '136.04 KB'`` (powers of 1024)."""
    size = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"  # pragma: no cover - the loop returns


def _bytes(weights):
    return sum(int(w.size) * w.dtype.itemsize for w in weights)


def format_shape(shape):
    """``(None, 26, 26, 32)`` style text; ``'?'`` when unknown."""
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + (",)" if len(shape) == 1 else ")")


def _trainable_mark(layer):
    """Keras's Trainable column: Y or N for a layer with weights, - for one without."""
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def summary_text(model, rows, line_length=None, show_trainable=False, connections=None):
    """The summary table as one string.

    Args:
        model: the model (its name and weights give the title and totals).
        rows: list of ``(layer, output_shape_or_None)`` in display order.
        line_length: total width (default: wide enough for the content, at least 76).
        show_trainable: add Keras's ``Trainable`` column (Y, N, or - for no weights).
        connections: one "Connected to" entry per row (``dense[0][0], dense_1[0][0]``), or
            None for no such column (a sequential model).

    Returns:
        The table, lines joined by newlines (no trailing newline).
    """
    linked = connections if connections is not None else [None] * len(rows)
    cells = [(f"{layer.name} ({type(layer).__name__})", format_shape(shape),
              f"{layer.count_params():,}" if layer.built else "0 (unbuilt)")
             + ((_trainable_mark(layer),) if show_trainable else ())
             + ((link,) if connections is not None else ())
             for (layer, shape), link in zip(rows, linked)]
    header = ("Layer (type)", "Output Shape", "Param #") + (("Trainable",) if show_trainable else ()) \
        + (("Connected to",) if connections is not None else ())
    widths = [len(h) for h in header]
    for cell in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, cell)]
    widths = [widths[0] + 4, widths[1] + 4, widths[2] + 2] + [w + 4 for w in widths[3:]]
    if line_length is not None and line_length > sum(widths) + 1:
        widths[0] += line_length - 1 - sum(widths)
    width = 1 + sum(widths)
    if line_length is None and width < 76:
        widths[0] += 76 - width
        width = 76

    def row(name, shape, params, *extra):
        text = f" {name:<{widths[0]}}{shape:<{widths[1]}}{params:>{widths[2]}}"
        if show_trainable:
            text += f"{extra[0]:^{widths[3]}}"
        if connections is not None:  # left-aligned after a gap, as Keras's column
            text = (text + "  " + extra[-1]).rstrip()
        return text

    trainable = _bytes(model.trainable_weights)
    non_trainable = _bytes(model.non_trainable_weights)
    n_trainable = sum(int(w.size) for w in model.trainable_weights)
    n_non_trainable = sum(int(w.size) for w in model.non_trainable_weights)
    lines = [f'Model: "{model.name}"', "_" * width, row(*header), "=" * width]
    for i, cell in enumerate(cells):
        lines.append(row(*cell))
        if i < len(cells) - 1:
            lines.append(" " + "-" * (width - 1))
    lines += [
        "=" * width,
        f" Total params: {n_trainable + n_non_trainable:,} ({readable_size(trainable + non_trainable)})",
        f" Trainable params: {n_trainable:,} ({readable_size(trainable)})",
        f" Non-trainable params: {n_non_trainable:,} ({readable_size(non_trainable)})",
        "_" * width,
    ]
    return "\n".join(lines)


def print_summary(model, rows, line_length=None, print_fn=None, show_trainable=False,
                  connections=None):
    """Print :func:`summary_text` line by line with ``print_fn`` (default
    :func:`npgrad.utils.io_utils.print_msg`: stdout, or the ``"npgrad"`` logger while
    interactive logging is disabled, as Keras)."""
    print_fn = print_fn or print_msg
    for line in summary_text(model, rows, line_length, show_trainable, connections).split("\n"):
        print_fn(line)
