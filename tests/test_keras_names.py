"""npgrad's public names against Keras 3's, module by module.

KERAS_NAMES was generated once from Keras (see its comment) and is kept here, so this test
runs without Keras. Every Keras name must exist in npgrad, be LEFT_OUT (with the reason; the
docs list them too) or be PENDING (being added on another branch right now; the lead trims
PENDING after merging, and test_pending_names_are_still_missing says when to).
"""

import importlib

import pytest

# Generated once from Keras 3.15.1 (KERAS_BACKEND=torch): sorted(n for n in dir(keras.<module>)
# if not n.startswith('_')). Regenerate by hand when moving to a newer Keras.
KERAS_NAMES = {
    "layers": [
        'Activation', 'ActivityRegularization', 'AdaptiveAveragePooling1D',
        'AdaptiveAveragePooling2D', 'AdaptiveAveragePooling3D', 'AdaptiveMaxPooling1D',
        'AdaptiveMaxPooling2D', 'AdaptiveMaxPooling3D', 'Add', 'AdditiveAttention',
        'AlphaDropout', 'Attention', 'AugMix', 'AutoContrast', 'Average',
        'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'AvgPool1D',
        'AvgPool2D', 'AvgPool3D', 'BatchNormalization', 'Bidirectional', 'CategoryEncoding',
        'CenterCrop', 'Concatenate', 'ContrastLimitedAdaptiveHistogramEqualization',
        'Conv1D', 'Conv1DTranspose', 'Conv2D', 'Conv2DTranspose', 'Conv3D',
        'Conv3DTranspose', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Convolution1D',
        'Convolution1DTranspose', 'Convolution2D', 'Convolution2DTranspose',
        'Convolution3D', 'Convolution3DTranspose', 'Cropping1D', 'Cropping2D', 'Cropping3D',
        'CutMix', 'Dense', 'DepthwiseConv1D', 'DepthwiseConv2D', 'Discretization', 'Dot',
        'Dropout', 'ELU', 'EinsumDense', 'Embedding', 'Equalization', 'Flatten',
        'FlaxLayer', 'GRU', 'GRUCell', 'GaussianDropout', 'GaussianNoise',
        'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D',
        'GlobalAvgPool1D', 'GlobalAvgPool2D', 'GlobalAvgPool3D', 'GlobalMaxPool1D',
        'GlobalMaxPool2D', 'GlobalMaxPool3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
        'GlobalMaxPooling3D', 'GroupNormalization', 'GroupQueryAttention', 'HashedCrossing',
        'Hashing', 'Identity', 'Input', 'InputLayer', 'InputSpec', 'IntegerLookup',
        'JaxLayer', 'LSTM', 'LSTMCell', 'Lambda', 'Layer', 'LayerNormalization',
        'LeakyReLU', 'Masking', 'MaxNumBoundingBoxes', 'MaxPool1D', 'MaxPool2D',
        'MaxPool3D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'Maximum',
        'MelSpectrogram', 'Minimum', 'MixUp', 'MultiHeadAttention', 'Multiply',
        'Normalization', 'PReLU', 'Permute', 'Pipeline', 'RMSNormalization', 'RNN',
        'RandAugment', 'RandomBrightness', 'RandomColorDegeneration', 'RandomColorJitter',
        'RandomContrast', 'RandomCrop', 'RandomElasticTransform', 'RandomErasing',
        'RandomFlip', 'RandomGaussianBlur', 'RandomGrayscale', 'RandomHue', 'RandomInvert',
        'RandomPerspective', 'RandomPosterization', 'RandomRotation', 'RandomSaturation',
        'RandomSharpness', 'RandomShear', 'RandomTranslation', 'RandomZoom', 'ReLU',
        'RepeatVector', 'Rescaling', 'Reshape', 'Resizing', 'ReversibleEmbedding',
        'STFTSpectrogram', 'SeparableConv1D', 'SeparableConv2D', 'SeparableConvolution1D',
        'SeparableConvolution2D', 'SimpleRNN', 'SimpleRNNCell', 'Softmax', 'Solarization',
        'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'SpectralNormalization',
        'StackedRNNCells', 'StringLookup', 'Subtract', 'TFSMLayer', 'TextVectorization',
        'TimeDistributed', 'TorchModuleWrapper', 'UnitNormalization', 'UpSampling1D',
        'UpSampling2D', 'UpSampling3D', 'Wrapper', 'ZeroPadding1D', 'ZeroPadding2D',
        'ZeroPadding3D', 'add', 'average', 'concatenate', 'deserialize', 'dot', 'maximum',
        'minimum', 'multiply', 'serialize', 'subtract',
    ],
    "losses": [
        'BinaryCrossentropy', 'BinaryFocalCrossentropy', 'CTC', 'CategoricalCrossentropy',
        'CategoricalFocalCrossentropy', 'CategoricalGeneralizedCrossEntropy',
        'CategoricalHinge', 'Circle', 'CosineSimilarity', 'Dice', 'Hinge', 'Huber',
        'KLDivergence', 'LogCosh', 'Loss', 'MeanAbsoluteError',
        'MeanAbsolutePercentageError', 'MeanSquaredError', 'MeanSquaredLogarithmicError',
        'Poisson', 'SparseCategoricalCrossentropy', 'SquaredHinge', 'Tversky',
        'binary_crossentropy', 'binary_focal_crossentropy', 'categorical_crossentropy',
        'categorical_focal_crossentropy', 'categorical_generalized_cross_entropy',
        'categorical_hinge', 'circle', 'cosine_similarity', 'ctc', 'deserialize', 'dice',
        'get', 'hinge', 'huber', 'kl_divergence', 'log_cosh', 'mean_absolute_error',
        'mean_absolute_percentage_error', 'mean_squared_error',
        'mean_squared_logarithmic_error', 'poisson', 'serialize',
        'sparse_categorical_crossentropy', 'squared_hinge', 'tversky',
    ],
    "metrics": [
        'AUC', 'Accuracy', 'BinaryAccuracy', 'BinaryCrossentropy', 'BinaryIoU',
        'CategoricalAccuracy', 'CategoricalCrossentropy', 'CategoricalHinge',
        'ConcordanceCorrelation', 'CosineSimilarity', 'F1Score', 'FBetaScore',
        'FalseNegatives', 'FalsePositives', 'Hinge', 'IoU', 'KLDivergence', 'LogCoshError',
        'Mean', 'MeanAbsoluteError', 'MeanAbsolutePercentageError', 'MeanIoU',
        'MeanMetricWrapper', 'MeanSquaredError', 'MeanSquaredLogarithmicError', 'Metric',
        'OneHotIoU', 'OneHotMeanIoU', 'PearsonCorrelation', 'Poisson', 'Precision',
        'PrecisionAtRecall', 'R2Score', 'Recall', 'RecallAtPrecision',
        'RootMeanSquaredError', 'SensitivityAtSpecificity', 'SparseCategoricalAccuracy',
        'SparseCategoricalCrossentropy', 'SparseTopKCategoricalAccuracy',
        'SpecificityAtSensitivity', 'SquaredHinge', 'Sum', 'TopKCategoricalAccuracy',
        'TrueNegatives', 'TruePositives', 'binary_accuracy', 'binary_crossentropy',
        'binary_focal_crossentropy', 'categorical_accuracy', 'categorical_crossentropy',
        'categorical_focal_crossentropy', 'categorical_hinge', 'concordance_correlation',
        'deserialize', 'get', 'hinge', 'huber', 'kl_divergence', 'log_cosh',
        'mean_absolute_error', 'mean_absolute_percentage_error', 'mean_squared_error',
        'mean_squared_logarithmic_error', 'pearson_correlation', 'poisson', 'serialize',
        'sparse_categorical_accuracy', 'sparse_categorical_crossentropy',
        'sparse_top_k_categorical_accuracy', 'squared_hinge', 'top_k_categorical_accuracy',
    ],
    "optimizers": [
        'Adadelta', 'Adafactor', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'Ftrl', 'Lamb',
        'Lion', 'LossScaleOptimizer', 'MultiOptimizer', 'Muon', 'Nadam', 'Optimizer',
        'OptimizerMap', 'RMSprop', 'SGD', 'ScheduleFreeAdamW', 'deserialize', 'get',
        'legacy', 'schedules', 'serialize',
    ],
    "activations": [
        'celu', 'deserialize', 'elu', 'exponential', 'gelu', 'get', 'glu', 'hard_shrink',
        'hard_sigmoid', 'hard_silu', 'hard_swish', 'hard_tanh', 'leaky_relu', 'linear',
        'log_sigmoid', 'log_softmax', 'mish', 'relu', 'relu6', 'selu', 'serialize',
        'sigmoid', 'silu', 'soft_shrink', 'softmax', 'softplus', 'softsign', 'sparse_plus',
        'sparse_sigmoid', 'sparsemax', 'squareplus', 'swish', 'tanh', 'tanh_shrink',
        'threshold',
    ],
    "constraints": [
        'Constraint', 'MaxNorm', 'MinMaxNorm', 'NonNeg', 'UnitNorm', 'deserialize', 'get',
        'max_norm', 'min_max_norm', 'non_neg', 'serialize', 'unit_norm',
    ],
    "initializers": [
        'Constant', 'GlorotNormal', 'GlorotUniform', 'HeNormal', 'HeUniform', 'Identity',
        'IdentityInitializer', 'Initializer', 'LecunNormal', 'LecunUniform', 'Ones',
        'Orthogonal', 'OrthogonalInitializer', 'RandomNormal', 'RandomUniform', 'STFT',
        'STFTInitializer', 'TruncatedNormal', 'VarianceScaling', 'Zeros', 'constant',
        'deserialize', 'get', 'glorot_normal', 'glorot_uniform', 'he_normal', 'he_uniform',
        'identity', 'lecun_normal', 'lecun_uniform', 'ones', 'orthogonal', 'random_normal',
        'random_uniform', 'serialize', 'stft', 'truncated_normal', 'variance_scaling',
        'zeros',
    ],
    "regularizers": [
        'L1', 'L1L2', 'L2', 'OrthogonalRegularizer', 'Regularizer', 'deserialize', 'get',
        'l1', 'l1_l2', 'l2', 'orthogonal_regularizer', 'serialize',
    ],
    "callbacks": [
        'BackupAndRestore', 'CSVLogger', 'Callback', 'CallbackList', 'EarlyStopping',
        'History', 'LambdaCallback', 'LearningRateScheduler', 'ModelCheckpoint',
        'OrbaxCheckpoint', 'ProgbarLogger', 'ReduceLROnPlateau', 'RemoteMonitor',
        'SwapEMAWeights', 'TensorBoard', 'TerminateOnNaN',
    ],
    "utils": [
        'Config', 'CustomObjectScope', 'FeatureSpace', 'Progbar', 'PyDataset', 'Sequence',
        'array_to_img', 'audio_dataset_from_directory', 'bounding_boxes', 'clear_session',
        'custom_object_scope', 'deserialize_keras_object', 'disable_interactive_logging',
        'enable_interactive_logging', 'get_custom_objects', 'get_file', 'get_registered_name',
        'get_registered_object', 'get_source_inputs', 'image_dataset_from_directory',
        'img_to_array', 'is_interactive_logging_enabled', 'is_keras_tensor', 'legacy',
        'load_img', 'model_to_dot', 'normalize', 'pack_x_y_sample_weight', 'pad_sequences',
        'plot_model', 'register_keras_serializable', 'save_img', 'serialize_keras_object',
        'set_random_seed', 'split_dataset', 'standardize_dtype', 'text_dataset_from_directory',
        'timeseries_dataset_from_array', 'to_categorical', 'unpack_x_y_sample_weight',
    ],
    "preprocessing": [
        'image', 'image_dataset_from_directory', 'sequence', 'text_dataset_from_directory',
        'timeseries_dataset_from_array',
    ],
}  # fmt: skip

# name -> why npgrad does not offer it
LEFT_OUT = {
    "layers": {
        "TorchModuleWrapper": "wraps a PyTorch module: another framework",
        "JaxLayer": "wraps a JAX function: another framework",
        "FlaxLayer": "wraps a Flax module: another framework",
        "TFSMLayer": "loads a TensorFlow SavedModel: another framework",
    },
    "optimizers": {
        "LossScaleOptimizer": "loss scaling is for float16 training under a dtype policy, "
                              "which npgrad deliberately leaves out (DESIGN.md)",
        "legacy": "the tf.keras 2 optimizers' namespace, kept by Keras for TensorFlow users",
    },
    "callbacks": {
        "OrbaxCheckpoint": "writes checkpoints with Orbax, a JAX library: another framework",
    },
    "utils": {
        "FeatureSpace": "a structured-data preprocessing pipeline built on tf.data; compose "
                        "npgrad's preprocessing layers (Normalization, StringLookup, ...)",
        "audio_dataset_from_directory": "decodes WAV files with TensorFlow (tf.audio); "
                                        "npgrad reads no audio",
        "text_dataset_from_directory": "a tf.data dataset of strings; not built (read the "
                                       "files and use TextVectorization)",
        "bounding_boxes": "box-format helpers of the object-detection augmentation layers, "
                          "which npgrad does not have",
        "legacy": "the tf.keras 2 serialization functions, kept by Keras for TensorFlow users",
    },
    "preprocessing": {
        "text_dataset_from_directory": "a tf.data dataset of strings; not built (read the "
                                       "files and use TextVectorization)",
    },
}

# being added on other branches now (wave 2); the lead trims this after merging
PENDING = {
    # not built yet (docs/layers.md lists them with the reason): the label-mixing and
    # geometric augmentations, feature crossing, pipelines, and Keras's internal bases
    "layers": {
        "AugMix", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "HashedCrossing",
        "InputSpec", "MaxNumBoundingBoxes", "MixUp", "Pipeline", "RandAugment",
        "RandomElasticTransform", "RandomPerspective", "RandomShear", "ReversibleEmbedding",
        "Wrapper",
    },
    "initializers": {"IdentityInitializer", "OrthogonalInitializer", "STFT", "STFTInitializer",
                     "stft"},
    "callbacks": {"BackupAndRestore", "RemoteMonitor"},
}

MODULES = sorted(KERAS_NAMES)
# the modules that must be complete now (no PENDING entries allowed)
COMPLETE = {"losses", "metrics", "optimizers", "activations", "constraints"}


@pytest.mark.parametrize("module", MODULES)
def test_every_keras_name_exists_or_is_accounted_for(module):
    ours = set(dir(importlib.import_module(f"npgrad.{module}")))
    missing = set(KERAS_NAMES[module]) - ours - set(LEFT_OUT.get(module, {})) \
        - PENDING.get(module, set())
    assert not missing, f"npgrad.{module} lacks Keras names: {sorted(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_pending_and_left_out_names_are_still_missing(module):
    ours = set(dir(importlib.import_module(f"npgrad.{module}")))
    arrived = PENDING.get(module, set()) & ours
    assert not arrived, f"trim PENDING[{module!r}]: these now exist: {sorted(arrived)}"
    built = set(LEFT_OUT.get(module, {})) & ours
    assert not built, f"trim LEFT_OUT[{module!r}] and the docs: these exist: {sorted(built)}"


def test_pending_and_left_out_name_real_keras_names():
    for table in (LEFT_OUT, PENDING):
        for module, names in table.items():
            assert set(names) <= set(KERAS_NAMES[module]), (module, set(names) - set(KERAS_NAMES[module]))


def test_the_finished_modules_have_nothing_pending():
    assert not COMPLETE & set(PENDING)


def test_left_out_names_are_listed_in_the_docs():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "13_migrating.md").read_text()
    for module, names in LEFT_OUT.items():
        for name in names:
            assert f"`{module}.{name}`" in docs, name
