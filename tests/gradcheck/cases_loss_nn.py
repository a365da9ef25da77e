"""Registry cases: fused losses and layer maths (dropout, batch/layer norm, embedding).

Labels, targets, moving statistics and indices are constants (keyword arguments); only
predictions, inputs and parameters are differentiated. Inputs keep away from kinks: mae
ties, huber's |d| = delta, clipped probabilities.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad.functional as F
from npgrad.primitives import loss
from tests.gradcheck.registry import OpCase, arrays, floats


# ------------------------------------------------------------------ losses
@st.composite
def _regression(draw, kinks=()):
    """y_pred with a y_true of the same shape; |y_pred - y_true| kept away from ``kinks``."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=floats()))
    y_true = draw(hnp.arrays(np.float64, shape, elements=floats()))
    gap = np.abs(y_pred - y_true)
    for k in kinks:  # push |d| at least 0.05 away from the kink, keeping d's sign
        near = np.abs(gap - k) < 0.05
        gap = np.where(near, k + np.where(gap >= k, 0.1, -0.1), gap)
    if kinks:
        gap = np.abs(gap)
        y_pred = y_true + np.where(y_pred >= y_true, 1.0, -1.0) * gap
    return [y_pred], {"y_true": y_true}


@st.composite
def _huber_inputs(draw):
    delta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    arrays_, kwargs = draw(_regression(kinks=(0.0, delta)))
    return arrays_, {**kwargs, "delta": delta}


@st.composite
def _binary(draw, from_logits):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    elements = floats() if from_logits else floats(0.05, 0.95)
    y_pred = draw(hnp.arrays(np.float64, shape, elements=elements))
    y_true = draw(hnp.arrays(np.float64, shape, elements=floats(0.0, 1.0)))
    return [y_pred], {"y_true": y_true, "from_logits": from_logits}


@st.composite
def _categorical(draw, from_logits, sparse):
    """Predictions with classes along ``axis`` (last or first) and matching targets."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    classes = draw(st.integers(2, 5))
    axis = draw(st.sampled_from([-1, 0]))
    pred_shape = shape[:-1] + (classes,) if axis == -1 else (classes,) + shape[1:]
    # probabilities: positive, unnormalized (Keras re-normalizes), never near the clip
    elements = floats() if from_logits else floats(0.1, 1.0)
    y_pred = draw(hnp.arrays(np.float64, pred_shape, elements=elements))
    sample_shape = tuple(n for i, n in enumerate(pred_shape) if i != axis % len(pred_shape))
    labels = draw(hnp.arrays(np.int64, sample_shape, elements=st.integers(0, classes - 1)))
    if sparse:
        if axis == -1 and len(sample_shape) == 1 and draw(st.booleans()):
            labels = labels[:, None]  # Keras' (N, 1) labels
        y_true = labels
    else:
        soft = draw(hnp.arrays(np.float64, pred_shape, elements=floats(0.0, 1.0)))
        onehot = np.moveaxis(np.eye(classes)[labels], -1, axis)
        y_true = onehot if draw(st.booleans()) else soft
    return [y_pred], {"y_true": y_true, "from_logits": from_logits, "axis": axis}


def _loss_case(name, fn, inputs, **extra):
    """A case calling ``fn(y_true, y_pred, **constants)`` with y_pred differentiated."""
    return OpCase(name, lambda y_pred, y_true, **kw: fn(y_true, y_pred, **kw), inputs, **extra)


# ------------------------------------------------------------------ layer maths
@st.composite
def _dropout_inputs(draw):
    (x,) = draw(arrays(1, min_dims=1, max_dims=4))
    noise_shape = None
    if draw(st.booleans()):
        noise_shape = tuple(n if draw(st.booleans()) else 1 for n in x.shape)
    return [x], {"rate": draw(st.sampled_from([0.1, 0.5, 0.8])), "training": True,
                 "seed": draw(st.integers(0, 2**16)), "noise_shape": noise_shape}


@st.composite
def _batch_norm_inputs(draw, training):
    ndim = draw(st.integers(2, 4))
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=3))
    axis = draw(st.sampled_from([-1, 1]))
    if training and np.prod(shape) == shape[axis]:  # at least two values per channel
        shape = (2,) + shape[1:]
    channels = shape[axis]
    x = draw(hnp.arrays(np.float64, shape, elements=floats()))
    gamma = draw(hnp.arrays(np.float64, (channels,), elements=floats(0.5, 2.0)))
    beta = draw(hnp.arrays(np.float64, (channels,), elements=floats()))
    moving_mean = draw(hnp.arrays(np.float64, (channels,), elements=floats(-1.0, 1.0)))
    moving_variance = draw(hnp.arrays(np.float64, (channels,), elements=floats(0.2, 2.0)))
    return [x, gamma, beta], {
        "moving_mean": moving_mean, "moving_variance": moving_variance, "training": training,
        "axis": axis, "momentum": draw(st.sampled_from([0.9, 0.99])),
    }


def _batch_norm(x, gamma, beta, moving_mean, moving_variance, **kw):
    return F.batch_norm(x, gamma, beta, moving_mean, moving_variance, **kw)


def _batch_norm_no_affine(x, gamma, beta, moving_mean, moving_variance, **kw):
    # center=False, scale=False: gamma and beta are not passed (and get no gradient)
    return F.batch_norm(x, None, None, moving_mean, moving_variance, **kw)


@st.composite
def _layer_norm_inputs(draw):
    (x,) = draw(arrays(1, min_dims=2, max_dims=3, min_side=2))
    axis = draw(st.sampled_from([-1, (-2, -1)]))
    axes = (axis,) if isinstance(axis, int) else axis
    param_shape = tuple(x.shape[a] for a in axes)
    gamma = draw(hnp.arrays(np.float64, param_shape, elements=floats(0.5, 2.0)))
    beta = draw(hnp.arrays(np.float64, param_shape, elements=floats()))
    return [x, gamma, beta], {"axis": axis, "epsilon": draw(st.sampled_from([1e-3, 1e-5]))}


@st.composite
def _embedding_inputs(draw):
    rows, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    table = draw(hnp.arrays(np.float64, (rows, dim), elements=floats()))
    index_shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    indices = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, rows - 1)))
    return [table], {"indices": indices}


CASES = [
    # losses
    _loss_case("mean_squared_error", F.mean_squared_error, _regression()),
    _loss_case("mean_absolute_error", F.mean_absolute_error, _regression(kinks=(0.0,))),
    _loss_case("huber", F.huber, _huber_inputs()),
    _loss_case("binary_crossentropy", F.binary_crossentropy, _binary(from_logits=False)),
    _loss_case("binary_crossentropy_from_logits", F.binary_crossentropy, _binary(from_logits=True)),
    _loss_case("categorical_crossentropy", F.categorical_crossentropy,
               _categorical(from_logits=False, sparse=False)),
    _loss_case("categorical_crossentropy_from_logits", F.categorical_crossentropy,
               _categorical(from_logits=True, sparse=False)),
    _loss_case("sparse_categorical_crossentropy", F.sparse_categorical_crossentropy,
               _categorical(from_logits=False, sparse=True)),
    _loss_case("sparse_categorical_crossentropy_from_logits", F.sparse_categorical_crossentropy,
               _categorical(from_logits=True, sparse=True)),
    _loss_case("softmax_cross_entropy",
               lambda y_true, y_pred, from_logits, axis: loss.softmax_cross_entropy(
                   y_true, y_pred, axis=axis),
               _categorical(from_logits=True, sparse=False)),
    _loss_case("sparse_softmax_cross_entropy",
               lambda y_true, y_pred, from_logits, axis: loss.sparse_softmax_cross_entropy(
                   y_true, y_pred, axis=axis),
               _categorical(from_logits=True, sparse=True)),
    # layer maths
    OpCase("dropout", F.dropout, _dropout_inputs()),
    OpCase("batch_norm", _batch_norm, _batch_norm_inputs(training=True)),
    OpCase("batch_norm_inference", _batch_norm, _batch_norm_inputs(training=False)),
    OpCase("batch_norm_no_affine", _batch_norm_no_affine, _batch_norm_inputs(training=True),
           requires_grad=(True, False, False)),
    OpCase("layer_norm", F.layer_norm, _layer_norm_inputs()),
    OpCase("layer_norm_no_affine", lambda x, gamma, beta, **kw: F.layer_norm(x, **kw),
           _layer_norm_inputs(), requires_grad=(True, False, False)),
    OpCase("embedding", lambda table, indices: F.embedding(indices, table), _embedding_inputs()),
]
