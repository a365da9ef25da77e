"""Keras-compatible layers.

Every layer builds lazily from its first input (or eagerly from ``input_shape=``), exposes
``weights`` / ``trainable_weights`` in Keras order, and round-trips through
``get_config()`` / ``from_config()``.
"""

from npgrad.layers.conv import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
)
from npgrad.layers.core import (
    ELU,
    Activation,
    Dense,
    Dropout,
    Embedding,
    Input,
    InputLayer,
    LeakyReLU,
    Masking,
    PReLU,
    ReLU,
    Softmax,
)
from npgrad.layers.layer import Layer, get_layer_class
from npgrad.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from npgrad.layers.normalization import BatchNormalization, LayerNormalization
from npgrad.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from npgrad.layers.preprocessing import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from npgrad.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    TimeDistributed,
)
from npgrad.layers.reshaping import Flatten, Reshape, UpSampling2D, ZeroPadding2D
from npgrad.layers.serialization import deserialize, serialize

__all__ = [
    "Layer", "get_layer_class", "Input", "InputLayer",
    # core
    "Activation", "Dense", "Dropout", "ELU", "Embedding", "LeakyReLU", "Masking", "PReLU",
    "ReLU", "Softmax",
    # convolution
    "Conv1D", "Conv2D", "Conv2DTranspose", "Convolution1D", "Convolution2D",
    "Convolution2DTranspose",
    # pooling
    "AveragePooling1D", "AveragePooling2D", "AvgPool1D", "AvgPool2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D",
    "MaxPooling1D", "MaxPooling2D",
    # merging (and their functional forms)
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
    # normalization
    "BatchNormalization", "LayerNormalization",
    # reshaping
    "Flatten", "Reshape", "UpSampling2D", "ZeroPadding2D",
    # recurrent
    "Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
    "TimeDistributed",
    # preprocessing (augmentation)
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
    # a layer as a dict and back
    "serialize", "deserialize",
]  # fmt: skip
