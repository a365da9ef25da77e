"""Small npgrad models that together use every layer npgrad has (for Keras file tests)."""

import numpy as np

import npgrad
from npgrad import layers as L


def image_model():
    """Sequential over images: convolution, pooling, normalization, activations, reshaping."""
    return npgrad.Sequential([
        npgrad.Input((8, 8, 3)),
        L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomTranslation(0.1, 0.1),
        L.RandomZoom(0.1),
        L.Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer="l2"),
        L.BatchNormalization(),
        L.MaxPooling2D(),
        L.ZeroPadding2D(1),
        L.AveragePooling2D(2),
        L.UpSampling2D(2),
        L.Conv2DTranspose(3, 3, strides=2, padding="same"),
        L.PReLU(), L.LeakyReLU(0.1), L.ELU(), L.ReLU(max_value=6.0),
        L.Activation("tanh"),
        L.Conv2D(2, 3, dilation_rate=2),
        L.GlobalMaxPooling2D(),
        L.Dense(6, activation="relu", bias_initializer="ones"),
        L.Dropout(0.3),
        L.Dense(3), L.Softmax(),
    ], name="image_zoo")


def sequence_model():
    """Sequential over token ids: embedding with a mask and every recurrent layer."""
    return npgrad.Sequential([
        npgrad.Input((6,), dtype="int32"),
        L.Embedding(20, 4, mask_zero=True),
        L.LSTM(5, return_sequences=True),
        L.GRU(3, return_sequences=True),
        L.SimpleRNN(3, return_sequences=True, go_backwards=False),
        L.TimeDistributed(L.Dense(4)),
        L.Conv1D(4, 2, padding="same"),
        L.MaxPooling1D(2),
        L.AveragePooling1D(1),
        L.Flatten(),
        L.Reshape((3, 4)),
        L.GlobalAveragePooling1D(),
        L.Dense(1, activation="sigmoid"),
    ], name="sequence_zoo")


def functional_model(masking=True):
    """Two inputs, every merge layer, a nested Sequential, Bidirectional and RNN(cell)."""
    a = npgrad.Input((5, 4), name="a")
    b = npgrad.Input((5, 4), name="b")
    masked = L.Masking(0.0)(a) if masking else a
    h = L.Bidirectional(L.LSTM(3, return_sequences=True))(masked)
    g = L.RNN(L.GRUCell(6), return_sequences=True)(b)
    merged = [L.Add()([h, g]), L.Subtract()([h, g]), L.Multiply()([h, g]),
              L.Average()([h, g]), L.Maximum()([h, g]), L.Minimum()([h, g])]
    x = L.Concatenate(axis=-1)(merged)
    x = L.LayerNormalization()(x)
    inner = npgrad.Sequential([npgrad.Input((5, 36)), L.GlobalMaxPooling1D(), L.Dense(4)],
                              name="inner")
    x = inner(x)
    y = L.Dense(4)(L.GlobalAveragePooling1D()(g))
    out = L.Dot(axes=1)([x, y])
    rnn = L.RNN(L.SimpleRNNCell(2))(b)
    return npgrad.Model([a, b], [out, L.Dense(2, activation="softmax")(rnn)],
                        name="functional_zoo")


def inputs(model, n=4, seed=0):
    """Deterministic inputs for a zoo model."""
    rng = np.random.default_rng(seed)
    if model.name == "image_zoo":
        return rng.normal(size=(n, 8, 8, 3)).astype("float32")
    if model.name == "sequence_zoo":
        x = rng.integers(1, 20, size=(n, 6)).astype("int32")
        x[:, 4:] = 0  # padding, masked
        return x
    a = rng.normal(size=(n, 5, 4)).astype("float32")
    a[:, 3:] = 0.0  # masked steps
    return [a, rng.normal(size=(n, 5, 4)).astype("float32")]


ALL = (image_model, sequence_model, functional_model)
