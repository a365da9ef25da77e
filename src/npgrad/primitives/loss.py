"""Fused, numerically stable losses with hand-written backward passes.

Every loss takes ``(y_true, y_pred, ...)`` in Keras order and returns the PER-SAMPLE loss:
the mean over the last axis for mse / mae / huber / binary cross-entropy (shape
``y_pred.shape[:-1]``), the sum over the class axis for the categorical ones (shape of
``y_pred`` without that axis). The Loss classes in ``npgrad.losses`` reduce these further.

``y_true`` is a constant (never differentiated); ``y_pred`` is the differentiable input.

Semantics follow Keras 3:

* Probability inputs are clipped to ``[1e-7, 1 - 1e-7]`` before the log (the gradient is
  zero where the clip is active, as ``clip_by_value``'s), so probabilities of exactly 0 or 1
  give a large but finite loss and a finite gradient.
* The categorical losses on probabilities first re-normalize ``y_pred`` by its sum along
  the class axis, as Keras does, then clip and take the log.
* ``from_logits=True`` computes the loss from pre-activation logits with log-sum-exp
  (softmax) or ``max(z, 0) - z*y + log(1 + exp(-|z|))`` (sigmoid): finite for logits of
  any size, e.g. +-1000.

Fused softmax cross-entropy: ``softmax_cross_entropy`` and ``sparse_softmax_cross_entropy``
(what ``from_logits=True`` calls) fuse softmax and cross-entropy into one op whose
backward is simply ``softmax(z) - y``. A Sequential model whose last activation is softmax
and which is trained with a cross-entropy loss passes its pre-softmax logits to these
losses with ``from_logits=True`` (the wiring lives in ``npgrad.models``), so training never
takes ``log`` of a softmax output that underflowed to 0.

Example:
    >>> import numpy as np, npgrad
    >>> import npgrad.functional as F
    >>> logits = npgrad.Tensor(np.array([[2.0, -1.0, 0.5]]), requires_grad=True)
    >>> loss = F.sparse_categorical_crossentropy(np.array([0]), logits, from_logits=True)
    >>> loss.shape
    (1,)
"""

import numpy as np
from scipy import special

from npgrad.autograd.function import Function, Identity
from npgrad.autograd.tensor import Tensor
from npgrad.primitives import activation, last_axis

EPSILON = 1e-7  # Keras' backend.epsilon(): the probability clip


# ------------------------------------------------------------------ input helpers
def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _float_dtype(y_pred):
    """The dtype the loss is computed in: y_pred's floating dtype, else float32."""
    data = _raw(y_pred)
    dtype = getattr(data, "dtype", None)
    return dtype if dtype is not None and dtype.kind == "f" else np.dtype(np.float32)


def _pred_shape(y_pred, name):
    shape = np.shape(_raw(y_pred))
    if len(shape) == 0:
        raise ValueError(f"{name}: y_pred must have at least one axis, got a scalar")
    return shape


def _dense_target(y_true, y_pred, name):
    """y_true as an array of y_pred's dtype and shape (Keras rank matching, then broadcast)."""
    shape = _pred_shape(y_pred, name)
    target = np.asarray(_raw(y_true), dtype=_float_dtype(y_pred))
    # Keras squeezes or expands a trailing axis of size 1 so the ranks agree
    if target.ndim == len(shape) - 1 and shape[-1] == 1:
        target = target[..., None]
    elif target.ndim == len(shape) + 1 and target.shape[-1] == 1:
        target = target[..., 0]
    try:
        if np.broadcast_shapes(target.shape, shape) != tuple(shape):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{name}: y_true of shape {target.shape} does not match y_pred of shape {tuple(shape)}"
        ) from None
    return np.broadcast_to(target, shape)


def _class_axis(axis, ndim, name):
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis must be an int in [{-ndim}, {ndim}), got {axis!r}")
    return int(axis) % ndim


def _integer_labels(y_true, pred_shape, axis, name):
    """Validate sparse labels against y_pred; return an intp array of the per-sample shape.

    Accepts labels of y_pred's shape without the class axis, or that shape plus a trailing
    axis of size 1 (Keras' (N, 1) labels). Floats holding whole numbers are cast.
    """
    labels = np.asarray(_raw(y_true))
    sample_shape = tuple(pred_shape[:axis] + pred_shape[axis + 1:])
    if labels.shape != sample_shape:
        if labels.shape == sample_shape + (1,):
            labels = labels.reshape(sample_shape)
        else:
            raise ValueError(
                f"{name}: labels of shape {labels.shape} do not match y_pred of shape "
                f"{tuple(pred_shape)} (expected {sample_shape} or {sample_shape + (1,)})"
            )
    if labels.dtype.kind == "f":
        fractional = labels != np.round(labels)  # NaN counts as fractional
        if fractional.any():
            bad = labels[fractional].flat[0].item()
            raise ValueError(f"{name}: labels must be whole numbers, got {bad!r}")
    elif labels.dtype.kind not in "biu":
        raise TypeError(f"{name}: labels must be integers, got an array of dtype {labels.dtype}")
    classes = pred_shape[axis]
    out_of_range = (labels < 0) | (labels >= classes)
    if out_of_range.any():
        bad = labels[out_of_range].flat[0].item()
        raise ValueError(
            f"{name}: label {bad!r} is out of range for {classes} classes "
            f"(labels must be in [0, {classes}))"
        )
    return labels.astype(np.intp)


def _expand(grad):
    """The per-sample upstream gradient, with the reduced last axis put back."""
    return grad[..., None]


def _expand_graph(grad):
    """:func:`_expand` of a Tensor (a recorded backward)."""
    return grad.reshape(grad.shape + (1,))


def _softmax_recorded(op, probs):
    """softmax(logits) of a cross-entropy op's logits input, recorded, from its saved
    probabilities: log(probs) is the logits shifted by each row's log-sum-exp, and the
    softmax and all its derivatives ignore that shift (nothing logits-sized is kept)."""
    with np.errstate(divide="ignore"):  # an underflowed 0 gives -inf, whose softmax is 0
        return activation.softmax(op.graph_input(0, np.log(probs)))


def _compute_dtype(dtype):
    """float16 probabilities are clipped and logged in float32: ``1 - 1e-7`` is 1 in float16."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _saturate(values, dtype):
    """``values`` cast to ``dtype``, clipped to its finite range (never inf, NaN stays NaN).

    The probability forms divide by probabilities as small as 1e-7 and by row sums that can
    be tiny; their exact gradients can exceed float16's (or float32's) range.
    """
    high = np.finfo(dtype).max
    return np.clip(values, -high, high).astype(dtype, copy=False)


def _mean_last(values):
    """Mean over the last axis; where the sum overflows, the sum of ``value / n`` instead."""
    with np.errstate(over="ignore"):
        mean = np.mean(values, axis=-1)
    if not np.isfinite(mean).all() and np.isfinite(values).all():
        mean = np.sum(values / values.shape[-1], axis=-1)
    return mean


def _clamp_log_probs(shifted):
    """``z - max(z)`` floored at the dtype's lowest finite value (no -inf from overflow).

    A -inf log-probability times a zero target would make the loss NaN.
    """
    return np.maximum(shifted, -np.finfo(shifted.dtype).max, out=shifted)


class SaturatingCast(Function):
    """Cast to ``dtype``; the gradient comes back clipped to the input dtype's finite range.

    Composed losses on float16 predictions compute in float32 through it: their exact
    gradients (``1 / p`` at ``p = 1e-7``) exceed float16's range, and a plain cast back would
    turn them into ``inf``.
    """

    def forward(self, x, dtype=None):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return (_saturate(grad, self.input_dtype),)


def saturating_cast(x, dtype):
    """``x`` cast to ``dtype`` with the gradient saturated at the input dtype's largest value.

    Args:
        x: Tensor.
        dtype: the floating dtype to compute in.

    Returns:
        Tensor of ``dtype``.
    """
    return SaturatingCast.apply(x, dtype=np.dtype(dtype))


# ------------------------------------------------------------------ regression losses
class MeanSquaredError(Function):
    """mean((y_pred - y_true)^2) over the last axis."""

    def forward(self, y_pred, y_true=None):
        diff = y_pred - y_true
        self.save_for_backward(diff)
        return np.mean(diff * diff, axis=-1)

    def backward(self, grad):
        (diff,) = self.saved
        # d/dp mean(d^2) = 2 d / n
        scale = diff.dtype.type(2.0 / diff.shape[-1])
        return (_expand(grad) * diff * scale,)

    def backward_graph(self, grad):
        (diff,) = self.saved
        # y_pred - y_true as a Tensor whose gradient goes to y_pred as it is
        diff_t = Identity.apply(self.graph_input(0, diff), value=diff)
        return (_expand_graph(grad) * diff_t * (2.0 / diff.shape[-1]),)


class MeanAbsoluteError(Function):
    """mean(|y_pred - y_true|) over the last axis; the gradient at an exact tie is 0."""

    def forward(self, y_pred, y_true=None):
        diff = y_pred - y_true
        self.save_for_backward(np.sign(diff))
        return np.mean(np.abs(diff), axis=-1)

    def backward(self, grad):
        (sign,) = self.saved
        # d/dp mean|d| = sign(d) / n, sign(0) = 0
        return (_expand(grad) * sign * sign.dtype.type(1.0 / sign.shape[-1]),)

    backward_graph = backward  # sign(d) is piecewise constant


class Huber(Function):
    """mean over the last axis of 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta).

    At |d| == delta both pieces have slope d, so the gradient is continuous.
    """

    def forward(self, y_pred, y_true=None, delta=1.0):
        diff = y_pred - y_true
        delta = diff.dtype.type(delta)
        abs_diff = np.abs(diff)
        quadratic = abs_diff <= delta
        half = diff.dtype.type(0.5)
        loss = np.where(quadratic, half * diff * diff, delta * abs_diff - half * delta * delta)
        # gradient of each piece: d inside, delta * sign(d) outside, i.e. d clipped to +-delta
        self.save_for_backward(np.clip(diff, -delta, delta))
        return np.mean(loss, axis=-1)

    def backward(self, grad):
        (slope,) = self.saved
        return (_expand(grad) * slope * slope.dtype.type(1.0 / slope.shape[-1]),)


# ------------------------------------------------------------------ binary cross-entropy
class BinaryCrossentropy(Function):
    """Binary cross-entropy of probabilities, clipped to [eps, 1 - eps], mean over the last axis."""

    def forward(self, y_pred, y_true=None):
        self.dtype = y_pred.dtype
        compute = _compute_dtype(y_pred.dtype)
        y_pred, y_true = y_pred.astype(compute, copy=False), y_true.astype(compute, copy=False)
        low, high = compute.type(EPSILON), compute.type(1.0 - EPSILON)
        p = np.clip(y_pred, low, high)
        loss = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
        inside = (y_pred >= low) & (y_pred <= high)
        self.save_for_backward(p, y_true, inside)
        return _saturate(np.mean(loss, axis=-1), self.dtype)

    def backward(self, grad):
        p, y_true, inside = self.saved
        # d/dp -(y log p + (1-y) log(1-p)) = (p - y) / (p (1 - p)); zero where clipped
        dp = (p - y_true) / (p * (1 - p)) * inside
        return (_saturate(_expand(grad) * dp * p.dtype.type(1.0 / p.shape[-1]), self.dtype),)


class SigmoidBinaryCrossentropy(Function):
    """Binary cross-entropy of logits: max(z, 0) - z y + log(1 + exp(-|z|)), mean over last axis."""

    def forward(self, logits, y_true=None):
        loss = np.maximum(logits, 0) - logits * y_true + np.log1p(np.exp(-np.abs(logits)))
        self.save_for_backward(logits, y_true)
        return _mean_last(loss)

    def backward(self, grad):
        logits, y_true = self.saved
        # d/dz = sigmoid(z) - y
        dz = special.expit(logits) - y_true
        return (_expand(grad) * dz * logits.dtype.type(1.0 / logits.shape[-1]),)

    def backward_graph(self, grad):
        logits, y_true = self.saved
        dz = activation.sigmoid(self.graph_input(0, logits)) - y_true
        return (_expand_graph(grad) * dz * (1.0 / logits.shape[-1]),)


# ------------------------------------------------------------------ categorical cross-entropy
# The four classes below work on arrays whose class axis has been moved last.
class SoftmaxCrossEntropy(Function):
    """-sum(y * log_softmax(z)) over the last (class) axis; y one-hot or soft."""

    def forward(self, logits, y_true=None):
        with np.errstate(over="ignore"):  # z - max(z) below -max: floored just after
            shifted = _clamp_log_probs(logits - last_axis.amax(logits))
        exp = np.exp(shifted)
        total = last_axis.total(exp)
        log_probs = shifted - np.log(total)
        self.save_for_backward(exp / total, y_true)
        with np.errstate(over="ignore"):  # a floored log-probability: saturated just below
            loss = -last_axis.total(y_true * log_probs)[..., 0]
        return _saturate(loss, logits.dtype)

    def backward(self, grad):
        probs, y_true = self.saved
        # d/dz -sum_k y_k (z_k - lse(z)) = softmax(z) * sum(y) - y
        dz = probs * last_axis.total(y_true) - y_true
        return (_expand(grad) * dz,)

    def backward_graph(self, grad):
        probs, y_true = self.saved
        probs = _softmax_recorded(self, probs)
        return (_expand_graph(grad) * (probs * y_true.sum(axis=-1, keepdims=True) - y_true),)


class SparseSoftmaxCrossEntropy(Function):
    """logsumexp(z) - z[label] over the last (class) axis, integer labels."""

    def forward(self, logits, labels=None):
        with np.errstate(over="ignore"):  # z - max(z) below -max: floored just after
            shifted = _clamp_log_probs(logits - last_axis.amax(logits))
        probs = np.exp(shifted)
        total = last_axis.total(probs)
        # as (rows, C): plain fancy indexing, several times cheaper than take_along_axis
        self.rows = np.arange(labels.size)
        picked = shifted.reshape(-1, shifted.shape[-1])[self.rows, labels.reshape(-1)]
        loss = np.log(total[..., 0]) - picked.reshape(labels.shape)
        probs /= total
        self.save_for_backward(probs)
        self.labels = labels
        return loss

    def backward(self, grad):
        (probs,) = self.saved
        # d/dz (lse(z) - z_label) = softmax(z) - onehot(label)
        upstream = _expand(grad)
        dz = np.multiply(probs, upstream, order="C")  # so that the (rows, C) form is a view
        # one label per row, so no index repeats
        dz.reshape(-1, dz.shape[-1])[self.rows, self.labels.reshape(-1)] -= np.broadcast_to(
            upstream, self.labels.shape + (1,)).reshape(-1)
        return (dz,)

    def backward_graph(self, grad):
        (probs,) = self.saved
        onehot = np.zeros(probs.shape, dtype=probs.dtype)
        np.put_along_axis(onehot, self.labels[..., None], 1, axis=-1)
        return (_expand_graph(grad) * (_softmax_recorded(self, probs) - onehot),)


def _renormalize(y_pred):
    """q = p / S with S = sum(p) along the last axis (Keras), for any finite p.

    Returns ``(q, S)`` where S may differ from the true sum where that is unusable: a row sum
    that overflows is computed on the row divided by its largest magnitude (q is unchanged,
    S is then that scaled sum times the scale, kept as the pair), and a sum smaller in
    magnitude than the dtype's tiny (zero, or cancelling entries) is replaced by +-tiny.
    So q is finite or +-inf (the clip then makes it 1e-7 or 1 - 1e-7), never NaN.
    """
    with np.errstate(over="ignore"):
        total = y_pred.sum(axis=-1, keepdims=True)
    scale = None
    if not np.isfinite(total).all():
        scale = np.maximum(np.abs(y_pred).max(axis=-1, keepdims=True), 1)
        y_pred = y_pred / scale
        total = y_pred.sum(axis=-1, keepdims=True)
    tiny = np.finfo(y_pred.dtype).tiny
    total = np.where(np.abs(total) < tiny, np.where(total < 0, -tiny, tiny), total)
    with np.errstate(over="ignore"):
        q = y_pred / total
    if scale is not None:
        total = (total, scale)
    return q, total


def _divide_by_total(values, total):
    """values / S for the S ``_renormalize`` returned (a pair when the row was scaled)."""
    with np.errstate(over="ignore"):
        if isinstance(total, tuple):
            return values / total[0] / total[1]
        return values / total


class CategoricalCrossentropy(Function):
    """-sum(y * log(clip(p / sum(p)))) over the last (class) axis, Keras' probability form."""

    def forward(self, y_pred, y_true=None):
        self.dtype = y_pred.dtype
        compute = _compute_dtype(y_pred.dtype)
        y_pred, y_true = y_pred.astype(compute, copy=False), y_true.astype(compute, copy=False)
        low, high = compute.type(EPSILON), compute.type(1.0 - EPSILON)
        q, total = _renormalize(y_pred)
        clipped = np.clip(q, low, high)
        inside = (q >= low) & (q <= high)
        self.save_for_backward(q, y_true, inside)
        self.total = total
        return _saturate(-np.sum(y_true * np.log(clipped), axis=-1), self.dtype)

    def backward(self, grad):
        q, y_true, inside = self.saved
        # dL/dq_k = -y_k / q_k where unclipped; q = p / S gives dL/dp = (dq - sum(dq q)) / S
        # (dq is 0 where clipped, and so is its product with q, even where q is inf)
        dq = -np.divide(y_true, q, out=np.zeros_like(q), where=inside)
        dq_q = np.sum(np.where(inside, dq * np.where(inside, q, 0), 0), axis=-1, keepdims=True)
        dp = _divide_by_total(dq - dq_q, self.total)
        return (_saturate(_expand(grad) * dp, self.dtype),)


class SparseCategoricalCrossentropy(Function):
    """-log(clip(p[label] / sum(p))) over the last (class) axis, Keras' probability form."""

    def forward(self, y_pred, labels=None):
        self.dtype = y_pred.dtype
        compute = _compute_dtype(y_pred.dtype)
        y_pred = y_pred.astype(compute, copy=False)
        low, high = compute.type(EPSILON), compute.type(1.0 - EPSILON)
        q, total = _renormalize(y_pred)
        picked = np.take_along_axis(q, labels[..., None], axis=-1)  # (..., 1)
        inside = (picked >= low) & (picked <= high)
        self.save_for_backward(q, picked, inside)
        self.labels, self.total = labels, total
        return _saturate(-np.log(np.clip(picked, low, high))[..., 0], self.dtype)

    def backward(self, grad):
        q, picked, inside = self.saved
        # L = -log q_l, dq_l/dp_j = (delta_lj - q_l) / S, so dL/dp_j = (1 - delta_lj / q_l) / S
        # where q_l is unclipped, 0 elsewhere
        upstream = np.where(inside, _expand(grad).astype(q.dtype), 0)  # (..., 1)
        dp = np.broadcast_to(upstream, q.shape).copy()
        at_label = np.divide(upstream, picked, out=np.zeros_like(upstream), where=inside)
        np.put_along_axis(dp, self.labels[..., None],
                          np.take_along_axis(dp, self.labels[..., None], axis=-1) - at_label,
                          axis=-1)
        return (_saturate(_divide_by_total(dp, self.total), self.dtype),)


# ------------------------------------------------------------------ public functions
def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error.

    Args:
        y_true: targets, broadcastable to ``y_pred``'s shape (a trailing axis of size 1 is
            added or dropped to match ranks, as Keras does). Not differentiated.
        y_pred: predictions, shape (..., d).

    Returns:
        Tensor of shape (...,): mean over the last axis of ``(y_true - y_pred)^2``.
    """
    y_true = _dense_target(y_true, y_pred, "mean_squared_error")
    return MeanSquaredError.apply(y_pred, y_true=y_true)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error; the gradient at an exact tie is 0.

    Args:
        y_true: targets, broadcastable to ``y_pred``'s shape. Not differentiated.
        y_pred: predictions, shape (..., d).

    Returns:
        Tensor of shape (...,): mean over the last axis of ``|y_true - y_pred|``.
    """
    return MeanAbsoluteError.apply(
        y_pred, y_true=_dense_target(y_true, y_pred, "mean_absolute_error")
    )


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss (Keras ``huber``).

    Args:
        y_true: targets, broadcastable to ``y_pred``'s shape. Not differentiated.
        y_pred: predictions, shape (..., d).
        delta: positive float, where the loss turns from quadratic to linear.

    Returns:
        Tensor of shape (...,): mean over the last axis of ``0.5 d^2`` for ``|d| <= delta``
        and ``delta * (|d| - 0.5 delta)`` otherwise, with ``d = y_pred - y_true``.
    """
    if not delta > 0:
        raise ValueError(f"huber: delta must be positive, got {delta!r}")
    return Huber.apply(y_pred, y_true=_dense_target(y_true, y_pred, "huber"), delta=float(delta))


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample binary cross-entropy (Keras ``binary_crossentropy``).

    Args:
        y_true: targets in [0, 1], broadcastable to ``y_pred``'s shape. Not differentiated.
        y_pred: probabilities (clipped to [1e-7, 1 - 1e-7]) or, with ``from_logits``, logits;
            shape (..., d).
        from_logits: whether ``y_pred`` holds logits (stable sigmoid form).

    Returns:
        Tensor of shape (...,): the mean over the last axis.
    """
    y_true = _dense_target(y_true, y_pred, "binary_crossentropy")
    if from_logits:
        return SigmoidBinaryCrossentropy.apply(y_pred, y_true=y_true)
    return BinaryCrossentropy.apply(y_pred, y_true=y_true)


def _with_class_axis_last(op, y_pred, axis, **constants):
    """Apply a last-axis categorical op to y_pred with its class axis moved last."""
    if axis != np.ndim(_raw(y_pred)) - 1:
        from npgrad.primitives import shape as _shape

        y_pred = _shape.transpose(y_pred, _moved_last(np.ndim(_raw(y_pred)), axis))
    return op.apply(y_pred, **constants)


def _moved_last(ndim, axis):
    return tuple(i for i in range(ndim) if i != axis) + (axis,)


def softmax_cross_entropy(y_true, logits, axis=-1):
    """Fused softmax + categorical cross-entropy of logits, stable for any logit size.

    Args:
        y_true: one-hot or soft targets of ``logits``' shape. Not differentiated.
        logits: pre-softmax scores, shape (..., C, ...) with classes along ``axis``.
        axis: the class axis.

    Returns:
        Tensor of ``logits``' shape without ``axis``: ``-sum(y_true * log_softmax(logits))``.
        Its backward is ``softmax(logits) - y_true`` (times ``sum(y_true)``).
    """
    name = "categorical_crossentropy"
    shape = _pred_shape(logits, name)
    axis = _class_axis(axis, len(shape), name)
    target = _dense_target(y_true, logits, name)
    target = np.moveaxis(target, axis, -1)
    return _with_class_axis_last(SoftmaxCrossEntropy, logits, axis, y_true=target)


def sparse_softmax_cross_entropy(y_true, logits, axis=-1):
    """Fused softmax + cross-entropy of logits with integer labels, stable for any logit size.

    Args:
        y_true: integer labels, shape of ``logits`` without ``axis`` (or with a trailing 1).
            Floats holding whole numbers are accepted. Not differentiated.
        logits: pre-softmax scores, shape (..., C, ...) with classes along ``axis``.
        axis: the class axis.

    Returns:
        Tensor of ``logits``' shape without ``axis``: ``logsumexp(logits) - logits[label]``.
        Its backward is ``softmax(logits) - onehot(label)``.

    Raises:
        ValueError: a label outside [0, C) or with a fractional part; labels of a wrong shape.
    """
    name = "sparse_categorical_crossentropy"
    shape = _pred_shape(logits, name)
    axis = _class_axis(axis, len(shape), name)
    labels = _integer_labels(y_true, shape, axis, name)
    return _with_class_axis_last(SparseSoftmaxCrossEntropy, logits, axis, labels=labels)


def categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample categorical cross-entropy with one-hot (or soft) targets (Keras semantics).

    Args:
        y_true: one-hot or soft targets of ``y_pred``'s shape. Not differentiated.
        y_pred: probabilities (re-normalized along ``axis``, then clipped to
            [1e-7, 1 - 1e-7]) or, with ``from_logits``, logits; classes along ``axis``.
        from_logits: whether ``y_pred`` holds logits (fused, stable softmax path).
        axis: the class axis.

    Returns:
        Tensor of ``y_pred``'s shape without ``axis``.
    """
    if from_logits:
        return softmax_cross_entropy(y_true, y_pred, axis=axis)
    name = "categorical_crossentropy"
    shape = _pred_shape(y_pred, name)
    axis = _class_axis(axis, len(shape), name)
    target = np.moveaxis(_dense_target(y_true, y_pred, name), axis, -1)
    return _with_class_axis_last(CategoricalCrossentropy, y_pred, axis, y_true=target)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample categorical cross-entropy with integer labels (Keras semantics).

    Example:
        >>> probs = np.array([[0.1, 0.7, 0.2]], dtype="float32")
        >>> F.sparse_categorical_crossentropy(np.array([1]), probs).numpy()   # -log(0.7)
        array([0.35667494], dtype=float32)

    Args:
        y_true: integer labels, shape of ``y_pred`` without ``axis``, or (N, 1) for (N, C)
            predictions. Floats holding whole numbers are accepted. Not differentiated.
        y_pred: probabilities (re-normalized along ``axis``, then clipped to
            [1e-7, 1 - 1e-7]) or, with ``from_logits``, logits; classes along ``axis``.
        from_logits: whether ``y_pred`` holds logits (fused, stable softmax path).
        axis: the class axis.

    Returns:
        Tensor of ``y_pred``'s shape without ``axis``.

    Raises:
        ValueError: a label outside [0, C) or with a fractional part; labels of a wrong shape.
    """
    if from_logits:
        return sparse_softmax_cross_entropy(y_true, y_pred, axis=axis)
    name = "sparse_categorical_crossentropy"
    shape = _pred_shape(y_pred, name)
    axis = _class_axis(axis, len(shape), name)
    labels = _integer_labels(y_true, shape, axis, name)
    return _with_class_axis_last(SparseCategoricalCrossentropy, y_pred, axis, labels=labels)
