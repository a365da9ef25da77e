"""StringLookup and IntegerLookup: map tokens to vocabulary indices (and back), NumPy only.

Index layout, as Keras 3: in ``output_mode='int'`` a ``mask_token`` takes index 0, then
``num_oov_indices`` out-of-vocabulary indices, then the vocabulary. In the other modes
(one_hot, multi_hot, count, tf_idf) the mask token takes no index and is not counted.
``adapt`` counts tokens and orders the vocabulary by count, most frequent first, ties
broken by the token in *descending* order (Keras's ``np.lexsort(...)[::-1]``), after
removing the mask and OOV tokens; ``max_tokens`` caps the whole vocabulary.

With several OOV indices, an unknown token's bucket is Keras's: FarmHash64 of the token
(SipHash with a ``salt``), or for IntegerLookup ``token % num_oov_indices`` unless
``oov_method='farmhash'``. ``sparse`` outputs are not supported (NumPy only).

Example:
    >>> lookup = StringLookup()
    >>> lookup.adapt(["a", "b", "b", "c", "c", "c"])
    >>> lookup.get_vocabulary()
    ['[UNK]', 'c', 'b', 'a']
    >>> lookup(np.array([["a", "z"]])).numpy()
    array([[3, 0]])
"""

from __future__ import annotations

import collections

import numpy as np

from npgrad.autograd.tensor import Tensor
from npgrad.layers import arguments, call_context
from npgrad.layers.layer import Layer
from npgrad.layers.numerical_preprocessing import encode_categorical, hash_to_bins, salt_arg

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _tokens_array(x, kind):
    """Inputs as an ndarray of Python str (strings) or int64 (integers)."""
    data = x.data if isinstance(x, Tensor) else x
    array = np.asarray(data, dtype=object if kind == "string" else None)
    if kind == "string":
        return np.vectorize(lambda v: v.decode("utf-8") if isinstance(v, bytes) else str(v),
                            otypes=[object])(array) if array.size else array.astype(object)
    if array.dtype.kind == "f" and not np.all(array == np.round(array)):
        raise TypeError("IntegerLookup: expected integer inputs, got non-integer floats")
    return array.astype(np.int64)


def _ragged_rows(data):
    """The rows of a list of token lists (a ragged batch, as ``tf.ragged.constant`` makes in
    Keras), or None for anything else. An object array of lists counts too."""
    if isinstance(data, np.ndarray) and data.dtype == object and data.ndim == 1:
        data = data.tolist()
    if isinstance(data, (list, tuple)) and data \
            and all(isinstance(row, (list, tuple)) for row in data):
        return [list(row) for row in data]
    return None


def _one_row(row):
    """One ragged row as a (1, len) batch of tokens."""
    batch = np.empty((1, len(row)), dtype=object)
    batch[0, :] = row
    return batch


class _IndexLookup(Layer):
    """Shared machinery of StringLookup and IntegerLookup (Keras's IndexLookup)."""

    cast_inputs = False
    #: takes arrays of str/bytes (a model starting with it must pass them through)
    accepts_strings = True
    _kind = None

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                 idf_weights, invert, output_mode, sparse, pad_to_max_tokens, salt=None,
                 oov_method="farmhash", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.salt = salt_arg(salt, name)
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{name}: argument `oov_method` must be 'floormod' or 'farmhash', "
                             f"got {oov_method!r}")
        self.oov_method = oov_method
        if sparse:
            raise ValueError(f"{name}: sparse=True is not supported (NumPy only)")
        if max_tokens is not None and (isinstance(max_tokens, bool) or max_tokens <= 1):
            raise ValueError(f"{name}: argument `max_tokens` must be > 1 or None, got {max_tokens!r}")
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, (int, np.integer)) \
                or num_oov_indices < 0:
            raise ValueError(f"{name}: argument `num_oov_indices` must be an int >= 0, "
                             f"got {num_oov_indices!r}")
        output_mode = arguments.output_mode(output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"{name}: argument `output_mode` must be one of {list(_MODES)}, "
                             f"got {output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{name}: invert=True needs output_mode='int', got {output_mode!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{name}: pad_to_max_tokens=True needs `max_tokens`")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{name}: `idf_weights` only applies to output_mode='tf_idf'")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._vocabulary = None       # learned/given tokens, without special tokens
        self._idf = None              # idf weights of the vocabulary tokens (tf_idf)
        self._has_input_vocabulary = vocabulary is not None
        self.input_vocabulary = vocabulary
        self.input_idf_weights = idf_weights
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------- vocabulary
    def _oov_start(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self):
        return self._oov_start() + self.num_oov_indices

    def _convert(self, values):
        return list(_tokens_array(np.asarray(values, dtype=object if self._kind == "string"
                                             else None).reshape(-1), self._kind))

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (a list, an array, or a text file path with one token a line).

        The list may start with the special tokens in their order (mask, OOV); they are
        dropped. ``idf_weights`` (tf_idf mode) has one weight per vocabulary token.
        """
        name = type(self).__name__
        if isinstance(vocabulary, str) and self._kind == "string" and not isinstance(vocabulary, list):
            with open(vocabulary, encoding="utf-8") as handle:
                vocabulary = [line.rstrip("\n") for line in handle]
        tokens = self._convert(vocabulary)
        special = [t for t in (self.mask_token if self.output_mode == "int" else None,
                               self.oov_token) if t is not None]
        while tokens and special and tokens[0] in special:
            tokens.pop(0)
        if len(set(tokens)) != len(tokens):
            repeated = sorted({str(t) for t in tokens if tokens.count(t) > 1})
            raise ValueError(f"{name}: the vocabulary has repeated tokens {repeated}")
        for token in (self.mask_token, self.oov_token):
            if token is not None and token in tokens:
                raise ValueError(f"{name}: the reserved token {token!r} may appear only at the "
                                 "start of the vocabulary")
        if self.max_tokens is not None and self._token_start() + len(tokens) > self.max_tokens:
            raise ValueError(f"{name}: a vocabulary of {self._token_start() + len(tokens)} "
                             f"entries exceeds max_tokens={self.max_tokens}")
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{name}: output_mode='tf_idf' needs `idf_weights` with the "
                                 "vocabulary")
            idf = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            if idf.size != len(tokens):
                raise ValueError(f"{name}: expected {len(tokens)} idf_weights, got {idf.size}")
            self._idf = idf
        self._vocabulary = tokens
        self._has_input_vocabulary = True
        self._index = {t: i + self._token_start() for i, t in enumerate(tokens)}

    def adapt(self, data):
        """Learn the vocabulary from ``data`` (an array or iterable of batches of tokens)."""
        name = type(self).__name__
        if self._has_input_vocabulary:
            raise ValueError(f"{name} '{self.name}': cannot adapt a layer given a fixed vocabulary")
        rows = _ragged_rows(data)
        if rows is not None:  # each row a document of its own length (multi-label targets)
            self.adapt_documents([_tokens_array(row, self._kind).tolist() for row in rows])
            return
        if isinstance(data, (list, tuple)) and data and isinstance(data[0], (np.ndarray, Tensor)):
            batches = list(data)  # a list of batches
        elif isinstance(data, (np.ndarray, Tensor, list, tuple)):
            batches = [data]
        else:
            batches = list(data)
        documents = []
        for batch in batches:
            array = _tokens_array(batch, self._kind)
            rows = array.reshape(1, -1) if array.ndim <= 1 else array.reshape(array.shape[0], -1)
            documents.extend(row.tolist() for row in rows)
        self.adapt_documents(documents)

    def adapt_documents(self, documents):
        """Learn the vocabulary from a list of documents, each a list of tokens (ragged)."""
        counts, frequencies = collections.Counter(), collections.Counter()
        for document in documents:
            counts.update(document)
            frequencies.update(set(document))
        for token in (self.mask_token, self.oov_token):
            counts.pop(token, None)
        # count descending, ties by token descending (Keras: np.lexsort((tokens, counts))[::-1])
        ordered = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:max(self.max_tokens - self._token_start(), 0)]
        self._vocabulary = ordered
        self._index = {t: i + self._token_start() for i, t in enumerate(ordered)}
        if self.output_mode == "tf_idf":
            document_counts = np.array([frequencies[t] for t in ordered], dtype=np.float64)
            self._idf = np.log(1 + len(documents) / (1 + document_counts))

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens in index order (with the mask and OOV tokens first by default)."""
        self._check_vocabulary()
        if not include_special_tokens:
            return list(self._vocabulary)
        special = []
        if self._oov_start():
            special.append(self.mask_token)
        special += [self.oov_token] * self.num_oov_indices
        return special + list(self._vocabulary)

    def vocabulary_size(self):
        """Number of indices, special ones included."""
        self._check_vocabulary()
        return self._token_start() + len(self._vocabulary)

    @property
    def has_vocabulary(self):
        """Whether a vocabulary was set or adapted."""
        return self._vocabulary is not None

    def token_idf_weights(self):
        """The idf weights of the vocabulary tokens only (tf_idf mode), or None."""
        return None if self._idf is None else self._idf.copy()

    @property
    def idf_weights(self):
        """Per-index idf weights in tf_idf mode (special indices get the mean), else None."""
        if self._idf is None:
            return None
        front = np.full(self._token_start(), self._idf.mean() if self._idf.size else 0.0)
        weights = np.concatenate([front, self._idf])
        if self.pad_to_max_tokens:
            weights = np.pad(weights, (0, self.max_tokens - weights.size))
        return weights

    def _check_vocabulary(self):
        if self._vocabulary is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': no vocabulary; call adapt() "
                             "or pass `vocabulary`")

    # ------------------------------------------------------------- call
    def _prepare_input(self, x):
        rows = _ragged_rows(x)
        if rows is not None:  # a ragged batch: one object per row (see call)
            data = np.empty(len(rows), dtype=object)
            data[:] = rows
            return data
        data = np.asarray(x.data if isinstance(x, Tensor) else x)
        if self._kind == "string" and not self.invert and data.dtype.kind in "US":
            data = data.astype(object)
        return data

    def _lookup(self, array):
        flat = array.reshape(-1)
        out = np.empty(flat.shape, dtype=np.int64)
        oov_start = self._oov_start()
        for i, token in enumerate(flat.tolist()):
            index = self._index.get(token)
            if index is None:
                if self.mask_token is not None and token == self.mask_token:
                    index = 0 if self.output_mode == "int" else -1
                elif self.num_oov_indices == 0:
                    if call_context.probing():  # a shape probe's zeros: any index will do
                        index = 0
                        out[i] = index
                        continue
                    raise ValueError(f"{type(self).__name__} '{self.name}': the token {token!r} "
                                     "is not in the vocabulary and num_oov_indices=0")
                else:
                    index = oov_start + self._oov_bucket(token)
            out[i] = index
        return out.reshape(array.shape)

    def _oov_bucket(self, token):
        """Which of the OOV indices an unknown token takes (Keras's rule)."""
        if self.num_oov_indices == 1:
            return 0
        if self._kind == "integer" and self.oov_method == "floormod":
            return int(token) % self.num_oov_indices
        return int(hash_to_bins(np.array([token], dtype=object), self.num_oov_indices,
                                self.salt)[0])

    def call(self, x, training=False):
        self._check_vocabulary()
        if self.invert:
            return self._invert(np.asarray(x))
        rows = _ragged_rows(x)
        if rows is not None:  # rows of their own lengths: encoded one by one
            if self.output_mode == "int":
                raise ValueError(f"{type(self).__name__} '{self.name}': rows of different "
                                 f"lengths need a multi_hot, count or tf_idf output_mode; for "
                                 f"output_mode='int' pad them first (pad_sequences)")
            return Tensor(np.concatenate([self.call(_one_row(row)).numpy() for row in rows]))
        indices = self._lookup(_tokens_array(x, self._kind))
        if self.output_mode == "int":
            return Tensor(indices)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        weights = (indices >= 0).astype(np.float64)  # mask tokens (-1) count for nothing
        encoded = encode_categorical(np.maximum(indices, 0), mode, depth, self.dtype,
                                     count_weights=weights if mode == "count" else None)
        if mode == "multi_hot" and (indices < 0).any():
            counted = encode_categorical(np.maximum(indices, 0), "count", depth, np.float64,
                                         count_weights=weights)
            encoded = (counted > 0).astype(self.dtype)
        if mode == "one_hot":
            encoded = encoded * (indices >= 0).reshape(encoded.shape[:-1] + (1,))
        if self.output_mode == "tf_idf":
            encoded = (encoded * self.idf_weights).astype(self.dtype)
        return Tensor(encoded)

    def _invert(self, indices):
        if indices.dtype.kind not in "iuf":
            raise TypeError(f"{type(self).__name__} '{self.name}': invert=True expects integer "
                            f"indices, got dtype {indices.dtype}")
        vocabulary = self.get_vocabulary()
        size = len(vocabulary)
        fallback = self.oov_token
        flat = [vocabulary[int(i)] if 0 <= int(i) < size else fallback
                for i in indices.reshape(-1).tolist()]
        dtype = object if self._kind == "string" else np.int64
        return np.array(flat, dtype=dtype).reshape(indices.shape)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
        return (shape[:-1] if len(shape) > 1 else ()) + (depth,)

    def get_config(self):
        config = super().get_config()
        vocabulary = None if self._vocabulary is None else list(self._vocabulary)
        if vocabulary is not None and self._kind == "integer":
            vocabulary = [int(v) for v in vocabulary]
        config.update(
            max_tokens=self.max_tokens, num_oov_indices=self.num_oov_indices,
            mask_token=self.mask_token, oov_token=self.oov_token, output_mode=self.output_mode,
            sparse=self.sparse, pad_to_max_tokens=self.pad_to_max_tokens, invert=self.invert,
            vocabulary=vocabulary,
            idf_weights=None if self._idf is None else self._idf.tolist(),
            salt=self.salt,
        )
        return config


class StringLookup(_IndexLookup):
    """Map strings to integer indices (or encodings), or indices back to strings.

    Args:
        max_tokens: maximum vocabulary size, special tokens included (None: no limit).
        num_oov_indices: indices for out-of-vocabulary tokens (default 1; 0 raises on OOV).
        vocabulary: optional list of tokens (or a file path), instead of ``adapt``.
        mask_token: optional token for padding, index 0 in 'int' mode.
        oov_token: token returned for OOV indices by ``invert`` (default '[UNK]').
        output_mode: 'int', 'one_hot', 'multi_hot', 'count' or 'tf_idf' (Keras's older
            'binary' and 'tf-idf' are taken for 'multi_hot' and 'tf_idf').
        invert: map indices back to tokens.
        sparse: must be False.
        pad_to_max_tokens: encodings have ``max_tokens`` entries.
        idf_weights: with a given vocabulary in 'tf_idf' mode, one weight per token.
        encoding: text encoding of bytes inputs (only 'utf-8').
        salt: with several OOV indices, key SipHash (an int or two) instead of FarmHash.

    Shapes: 'int': any -> same (int64); encodings: (N, K) -> (N, vocabulary size).
    """

    _kind = "string"

    def __init__(self, max_tokens=None, num_oov_indices=1, vocabulary=None, mask_token=None,
                 oov_token="[UNK]", output_mode="int", invert=False, sparse=False,
                 pad_to_max_tokens=False, idf_weights=None, encoding="utf-8", salt=None,
                 **kwargs):
        if encoding.lower().replace("-", "") != "utf8":
            raise ValueError(f"StringLookup: only encoding='utf-8' is supported, got {encoding!r}")
        self.encoding = "utf-8"
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, salt=salt,
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(_IndexLookup):
    """Map integer tokens (e.g. raw ids) to contiguous indices (or encodings), or back.

    Args:
        max_tokens: maximum vocabulary size, special tokens included (None: no limit).
        num_oov_indices: indices for out-of-vocabulary values (default 1).
        mask_token: optional value for padding, index 0 in 'int' mode.
        oov_token: value returned for OOV indices by ``invert`` (default -1).
        output_mode: 'int', 'one_hot', 'multi_hot', 'count' or 'tf_idf' (Keras's older
            'binary' and 'tf-idf' are taken for 'multi_hot' and 'tf_idf').
        sparse: must be False.
        pad_to_max_tokens: encodings have ``max_tokens`` entries.
        vocabulary: optional list of values, instead of ``adapt``.
        vocabulary_dtype: 'int64' (or 'int32').
        idf_weights: with a given vocabulary in 'tf_idf' mode, one weight per token.
        invert: map indices back to values.
        oov_method: with several OOV indices, 'floormod' (default: ``value % n``) or
            'farmhash' (FarmHash64 of the decimal text, or SipHash with ``salt``).
        salt: with oov_method='farmhash', key SipHash (an int or two).

    Shapes: 'int': any -> same (int64); encodings: (N, K) -> (N, vocabulary size).
    """

    _kind = "integer"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, oov_method="floormod",
                 salt=None, **kwargs):
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: argument `vocabulary_dtype` must be 'int64' or "
                             f"'int32', got {vocabulary_dtype!r}")
        self.vocabulary_dtype = vocabulary_dtype
        mask_token = None if mask_token is None else int(mask_token)
        oov_token = None if oov_token is None else int(oov_token)
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, salt=salt,
                         oov_method=oov_method, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary_dtype=self.vocabulary_dtype, oov_method=self.oov_method)
        return config


__all__ = ["StringLookup", "IntegerLookup"]
