"""TextVectorization: strings to token indices or bag-of-words vectors, NumPy only.

The pipeline is Keras 3's: standardize each string (by default lower-case ASCII letters,
as ``tf.strings.lower``, and delete the punctuation ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'``),
split it (on runs of whitespace, or into characters), optionally form n-grams (joined by
spaces: all 1-grams, then all 2-grams, ...), then look the tokens up in a vocabulary
learned by ``adapt`` (a :class:`~npgrad.layers.StringLookup` with mask token ``""``: in
'int' mode index 0 is padding and 1 is ``[UNK]``).

Example:
    >>> vectorize = TextVectorization(output_sequence_length=4)
    >>> vectorize.adapt(["The cat sat.", "The dog sat on the mat!"])
    >>> vectorize.get_vocabulary()[:4]
    ['', '[UNK]', 'the', 'sat']
    >>> vectorize(np.array(["the cat ran"])).numpy()
    array([[2, 7, 1, 0]])
"""

from __future__ import annotations

import re

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments
from npgrad.layers.glue import get_registered_function, registered_name
from npgrad.layers.layer import Layer
from npgrad.layers.lookup import StringLookup

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = (None, "whitespace", "character")


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _callable_arg(value, allowed, arg):
    if value in allowed or callable(value):
        return value
    if isinstance(value, str) and get_registered_function(value) is not None:
        return get_registered_function(value)  # a registered callable, from a config
    raise ValueError(f"TextVectorization: argument `{arg}` must be one of {list(allowed)} or a "
                     f"callable, got {value!r}")


class TextVectorization(Layer):
    """Turn strings into sequences of token indices, or into multi-hot/count/tf-idf vectors.

    Args:
        max_tokens: maximum vocabulary size, including the padding and OOV tokens.
        standardize: 'lower_and_strip_punctuation' (default), 'lower', 'strip_punctuation',
            None, or a callable ``str -> str`` (register it with
            :func:`npgrad.layers.register_function` to save the layer).
        split: 'whitespace' (default), 'character', None, or a callable ``str -> list``.
        ngrams: None, an int n (1- to n-grams) or a tuple of n-gram widths.
        output_mode: 'int' (default), 'multi_hot', 'count' or 'tf_idf' (Keras's older
            'binary' and 'tf-idf' are taken for 'multi_hot' and 'tf_idf').
        output_sequence_length: 'int' mode: pad with 0 or truncate every sequence to this
            length (default: pad to the longest sequence of the batch).
        pad_to_max_tokens: encodings have ``max_tokens`` entries.
        vocabulary: optional list of tokens (or a file path), instead of ``adapt``.
        idf_weights: with a given vocabulary in 'tf_idf' mode.
        sparse, ragged: must be False (NumPy has no sparse or ragged tensors).
        encoding: 'utf-8'.

    Shapes: (N,) or (N, 1) strings -> (N, length) int64 indices, or (N, vocabulary size).
    """

    cast_inputs = False
    #: takes arrays of str/bytes (a model starting with it must pass them through)
    accepts_strings = True

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", **kwargs):
        super().__init__(**kwargs)
        if sparse or ragged:
            raise ValueError("TextVectorization: sparse and ragged outputs are not supported "
                             "(NumPy only)")
        self.standardize = _callable_arg(standardize, _STANDARDIZE, "standardize")
        self.split = _callable_arg(split, _SPLIT, "split")
        if ngrams is not None and not (
                isinstance(ngrams, int) or (isinstance(ngrams, (tuple, list))
                                            and all(isinstance(n, int) for n in ngrams))):
            raise ValueError(f"TextVectorization: argument `ngrams` must be None, an int or a "
                             f"tuple of ints, got {ngrams!r}")
        if ngrams is not None and self.split is None:
            raise ValueError("TextVectorization: `ngrams` needs a `split`")
        self.ngrams = list(ngrams) if isinstance(ngrams, (tuple, list)) else ngrams
        self._widths = None if ngrams is None else (
            tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else tuple(ngrams))
        output_mode = arguments.output_mode(output_mode)
        if output_mode not in ("int", "multi_hot", "count", "tf_idf"):
            raise ValueError("TextVectorization: argument `output_mode` must be one of "
                             f"['int', 'multi_hot', 'count', 'tf_idf'], got {output_mode!r}")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError("TextVectorization: `output_sequence_length` applies only to "
                                 "output_mode='int'")
            if isinstance(output_sequence_length, bool) or not isinstance(output_sequence_length, int) \
                    or output_sequence_length <= 0:
                raise ValueError("TextVectorization: argument `output_sequence_length` must be a "
                                 f"positive int or None, got {output_sequence_length!r}")
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.max_tokens = max_tokens
        self.encoding = encoding
        self._lookup = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary,
                                    idf_weights=idf_weights, pad_to_max_tokens=pad_to_max_tokens,
                                    mask_token="", output_mode=output_mode, encoding=encoding,
                                    name=f"{self.name}_lookup")

    # ------------------------------------------------------------- text pipeline
    def standardize_text(self, text):
        """One string through the ``standardize`` step."""
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.translate(_ASCII_LOWER)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        if callable(self.standardize):
            text = self.standardize(text)
        return text

    def tokenize(self, text):
        """One string through standardize, split and n-grams: its list of tokens."""
        text = self.standardize_text(_text(text))
        if self.split is None:
            return [text]
        if self.split == "whitespace":
            tokens = text.split()
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = [_text(t) for t in self.split(text)]
        if self._widths is None:
            return tokens
        grams = []
        for width in self._widths:
            grams.extend(" ".join(tokens[i:i + width]) for i in range(len(tokens) - width + 1))
        return grams

    def _documents(self, x):
        array = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=object)
        if array.ndim == 0:
            array = array.reshape(1)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ValueError(f"Layer '{self.name}' (TextVectorization): expected strings of shape "
                             f"(N,) or (N, 1), got shape {array.shape}")
        return [self.tokenize(text) for text in array.tolist()]

    # ------------------------------------------------------------- vocabulary
    def adapt(self, data):
        """Learn the vocabulary (and idf weights) from strings: an array, a list, or batches."""
        if isinstance(data, (np.ndarray, Tensor, list, tuple, str, bytes)) and not (
                isinstance(data, (list, tuple)) and data and isinstance(data[0], np.ndarray)):
            batches = [data]
        else:
            batches = list(data)
        documents = []
        for batch in batches:
            documents.extend(self._documents(batch))
        self._lookup.adapt_documents(documents)

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens in index order (``''`` and ``'[UNK]'`` first in 'int' mode)."""
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """Number of indices, special ones included."""
        return self._lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and idf weights in 'tf_idf' mode) instead of adapting."""
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------- call
    def _prepare_input(self, x):
        return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=object)

    def call(self, x, training=False):
        documents = self._documents(x)
        if self.output_mode != "int":
            rows = [self._lookup(np.array(doc, dtype=object)).numpy() for doc in documents]
            return Tensor(np.stack(rows) if rows else np.zeros((0, self._depth()), self.dtype))
        sequences = [self._lookup(np.array(doc, dtype=object)).numpy() for doc in documents]
        length = self.output_sequence_length
        if length is None:
            length = max((len(s) for s in sequences), default=0)
        out = np.zeros((len(sequences), length), dtype=np.int64)
        for row, sequence in enumerate(sequences):
            sequence = sequence[:length]
            out[row, :len(sequence)] = sequence
        return Tensor(out)

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._depth())

    def get_config(self):
        config = super().get_config()
        idf = self._lookup.token_idf_weights()
        config.update(
            max_tokens=self.max_tokens,
            standardize=registered_name(self.standardize) if callable(self.standardize)
            else self.standardize,
            split=registered_name(self.split) if callable(self.split) else self.split,
            ngrams=self.ngrams, output_mode=self.output_mode,
            output_sequence_length=self.output_sequence_length,
            pad_to_max_tokens=self.pad_to_max_tokens,
            vocabulary=self.get_vocabulary(include_special_tokens=False)
            if self._lookup.has_vocabulary else None,
            idf_weights=None if idf is None else idf.tolist(),
            sparse=False, ragged=False, encoding=self.encoding,
        )
        return config


__all__ = ["TextVectorization"]
