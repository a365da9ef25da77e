"""``pad_sequences``: lists of variable-length sequences to one padded array (Keras)."""

from __future__ import annotations

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (or truncate) sequences to a common length, as ``keras.utils.pad_sequences``.

    Args:
        sequences: a list of sequences (lists or arrays); each element may itself be a
            scalar or an array of one shape (then the output has those trailing axes).
        maxlen: the output length (default: the longest sequence).
        dtype: output dtype.
        padding: ``"pre"`` (pad before) or ``"post"``.
        truncating: ``"pre"`` (drop the start of long sequences) or ``"post"``.
        value: the padding value.

    Returns:
        Array of shape ``(len(sequences), maxlen) + element shape``.

    Raises:
        ValueError: bad ``padding``/``truncating``, a non-iterable sequence, elements of
            different shapes, or a string ``value`` with a non-string dtype.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', got {truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of iterables")
    lengths, element_shape = [], None
    for i, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError:
            raise ValueError(
                f"pad_sequences: `sequences` must be a list of iterables; found "
                f"non-iterable {seq!r} at position {i}") from None
        if element_shape is None and len(seq):
            element_shape = np.asarray(seq).shape[1:]
    element_shape = element_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.object_)
    if isinstance(value, str) and not is_text:
        raise ValueError(f"pad_sequences: dtype {dtype} cannot hold the padding value {value!r}; "
                         f"use dtype=object or a string dtype")
    out = np.full((len(lengths), maxlen) + tuple(element_shape), value, dtype=dtype)
    for i, seq in enumerate(sequences):
        if not len(seq) or maxlen == 0:
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(element_shape):
            raise ValueError(
                f"pad_sequences: the elements of sequence {i} have shape {kept.shape[1:]}, "
                f"expected {tuple(element_shape)} like the others")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out
