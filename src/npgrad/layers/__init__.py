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
from npgrad.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from npgrad.layers.conv_nd import (
    Conv1DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution3D,
    Convolution3DTranspose,
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
from npgrad.layers.depthwise_separable import (
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
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
from npgrad.layers.op_layer import OpLayer
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
from npgrad.layers.pooling_nd import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    AveragePooling3D,
    AvgPool3D,
    GlobalAveragePooling3D,
    GlobalAvgPool3D,
    GlobalMaxPool3D,
    GlobalMaxPooling3D,
    MaxPool3D,
    MaxPooling3D,
)
from npgrad.layers.preprocessing import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from npgrad.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
)
from npgrad.layers.recurrent_wrappers import Bidirectional, TimeDistributed
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
    # more convolution (3-D, transposed, depthwise, separable, convolutional LSTM)
    "Conv1DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Convolution1DTranspose", "Convolution3D", "Convolution3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "SeparableConvolution1D", "SeparableConvolution2D",
    # more pooling (3-D, global 3-D, adaptive)
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "AveragePooling3D",
    "AvgPool3D", "GlobalAveragePooling3D", "GlobalAvgPool3D", "GlobalMaxPool3D",
    "GlobalMaxPooling3D",
    "MaxPool3D", "MaxPooling3D",
    # npgrad.ops calls on symbolic tensors
    "OpLayer",
    # a layer as a dict and back
    "serialize", "deserialize",
]  # fmt: skip

# misc layers (issue 12): normalization variants, noise, reshaping glue, preprocessing
from npgrad.layers.feature_normalization import (  # noqa: E402
    GroupNormalization,
    RMSNormalization,
    UnitNormalization,
)
from npgrad.layers.numerical_preprocessing import (  # noqa: E402
    CategoryEncoding,
    Discretization,
    Hashing,
    Normalization,
)
from npgrad.layers.regularization import (  # noqa: E402
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from npgrad.layers.spectral_normalization import SpectralNormalization  # noqa: E402

__all__ += [
    "GroupNormalization", "RMSNormalization", "UnitNormalization", "SpectralNormalization",
    "Normalization", "Discretization", "CategoryEncoding", "Hashing",
    "ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
]  # fmt: skip
from npgrad.layers.cropping_padding import (  # noqa: E402
    Cropping1D,
    Cropping2D,
    Cropping3D,
    UpSampling1D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding3D,
)
from npgrad.layers.glue import Identity, Lambda, Permute, RepeatVector, register_function  # noqa: E402
from npgrad.layers.stacked_cells import StackedRNNCells  # noqa: E402

__all__ += [
    "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding3D", "Identity", "Lambda", "Permute", "RepeatVector", "register_function",
    "StackedRNNCells",
]  # fmt: skip
from npgrad.layers.image_preprocessing import (  # noqa: E402
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    Rescaling,
    Resizing,
)

__all__ += [
    "CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop", "Rescaling", "Resizing",
]  # fmt: skip
from npgrad.layers.lookup import IntegerLookup, StringLookup  # noqa: E402

__all__ += ["IntegerLookup", "StringLookup"]
from npgrad.layers.text_vectorization import TextVectorization  # noqa: E402

__all__ += ["TextVectorization"]
from npgrad.layers.spectrogram import MelSpectrogram, STFTSpectrogram  # noqa: E402

__all__ += ["MelSpectrogram", "STFTSpectrogram"]
from npgrad.layers.color_augmentation import (  # noqa: E402
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomErasing,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)

__all__ += ["AutoContrast", "Equalization", "RandomColorDegeneration", "RandomColorJitter",
            "RandomErasing", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
            "RandomInvert", "RandomPosterization", "RandomSaturation", "RandomSharpness",
            "Solarization"]
from npgrad.layers.attention import AdditiveAttention, Attention  # noqa: E402
from npgrad.layers.einsum_dense import EinsumDense  # noqa: E402
from npgrad.layers.multi_head_attention import (  # noqa: E402
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)

__all__ += [
    # attention
    "AdditiveAttention", "Attention", "EinsumDense", "GroupQueryAttention",
    "GroupedQueryAttention", "MultiHeadAttention",
]  # fmt: skip
from npgrad.layers.sync_batch_normalization import SyncBatchNormalization  # noqa: E402

__all__ += ["SyncBatchNormalization"]
