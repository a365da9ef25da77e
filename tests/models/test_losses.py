"""Loss classes, functions, reductions and lookup, against Keras values and hand computations."""

import numpy as np
import pytest

import npgrad
import npgrad.functional as F
from npgrad import losses


def test_keras_reference_clipped_probabilities(keras_ref):
    probs, labels = keras_ref["losses/probs"], keras_ref["losses/labels"]
    sparse = losses.sparse_categorical_crossentropy(labels, probs).numpy()
    np.testing.assert_allclose(sparse, keras_ref["losses/sparse_cce"], rtol=1e-6)
    onehot = np.eye(probs.shape[1], dtype=np.float32)[labels]
    bce = losses.binary_crossentropy(onehot, probs).numpy()
    np.testing.assert_allclose(bce, keras_ref["losses/bce"], rtol=1e-6)
    # the classes reduce those per-sample values to their mean
    value = losses.SparseCategoricalCrossentropy()(labels, probs).item()
    assert value == pytest.approx(float(np.mean(keras_ref["losses/sparse_cce"])), rel=1e-6)


def test_hand_computed_values():
    y_true = np.array([[0.0, 1.0], [1.0, 1.0]])
    y_pred = np.array([[0.5, 0.5], [0.0, 3.0]])
    # per-sample: mean over the last axis
    np.testing.assert_allclose(losses.mse(y_true, y_pred).numpy(), [0.25, 2.5])
    np.testing.assert_allclose(losses.mae(y_true, y_pred).numpy(), [0.5, 1.5])
    # huber, delta 1: 0.5 d^2 inside, |d| - 0.5 outside
    np.testing.assert_allclose(losses.huber(y_true, y_pred).numpy(), [0.125, (0.5 + 1.5) / 2])
    assert losses.MeanSquaredError()(y_true, y_pred).item() == pytest.approx(1.375)
    assert losses.MeanAbsoluteError(reduction="sum")(y_true, y_pred).item() == pytest.approx(2.0)
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="none")(y_true, y_pred).numpy(), [0.25, 2.5]
    )
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    cce = losses.CategoricalCrossentropy()(np.eye(2)[[1, 0]], probs).item()
    assert cce == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    bce = losses.BinaryCrossentropy()(np.array([[1.0], [0.0]]), np.array([[0.9], [0.2]])).item()
    assert bce == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)


def test_sample_weight_and_reductions():
    y_true, y_pred = np.zeros((4, 1)), np.array([[1.0], [2.0], [3.0], [4.0]])
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    per_sample = np.array([1.0, 4.0, 9.0, 16.0]) * weights
    mse = losses.MeanSquaredError()
    # Keras 3: sum of the weighted losses over the number of samples
    assert mse(y_true, y_pred, sample_weight=weights).item() == pytest.approx(per_sample.sum() / 4)
    summed = losses.MeanSquaredError(reduction="sum")(y_true, y_pred, sample_weight=weights)
    assert summed.item() == pytest.approx(per_sample.sum())
    by_weight = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert by_weight(y_true, y_pred, weights).item() == pytest.approx(per_sample.sum() / 3.5)
    with pytest.raises(ValueError, match="sample_weight"):
        mse(y_true, y_pred, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_label_smoothing():
    probs = np.array([[0.7, 0.2, 0.1]])
    smoothed = losses.CategoricalCrossentropy(label_smoothing=0.3)(np.array([[1.0, 0, 0]]), probs)
    target = np.array([0.8, 0.1, 0.1])
    assert smoothed.item() == pytest.approx(-np.sum(target * np.log(probs)))
    bce = losses.BinaryCrossentropy(label_smoothing=0.2)(np.array([[1.0]]), np.array([[0.6]]))
    assert bce.item() == pytest.approx(-(0.9 * np.log(0.6) + 0.1 * np.log(0.4)))
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=1.5)


@pytest.mark.parametrize("loss_cls", [losses.SparseCategoricalCrossentropy,
                                      losses.CategoricalCrossentropy])
def test_softmax_output_trains_on_its_logits(loss_cls):
    """Extreme logits: finite loss and gradient, equal to the from_logits computation."""
    logits_data = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 2000.0]], dtype=np.float32)
    labels = np.array([2, 0])
    y_true = labels if loss_cls is losses.SparseCategoricalCrossentropy else np.eye(3)[labels]

    logits = npgrad.Tensor(logits_data, requires_grad=True)
    loss = loss_cls()(y_true, F.softmax(logits))
    loss.backward()

    reference_logits = npgrad.Tensor(logits_data, requires_grad=True)
    reference = loss_cls(from_logits=True)(y_true, reference_logits)
    reference.backward()

    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad))
    assert loss.item() == pytest.approx(reference.item()) == pytest.approx(2000.0)
    np.testing.assert_allclose(logits.grad, reference_logits.grad)
    # without the logits (no graph recorded), the probabilities are clipped as Keras does
    with npgrad.no_grad():
        clipped = loss_cls()(y_true, F.softmax(npgrad.Tensor(logits_data)))
    assert clipped.item() == pytest.approx(-np.log(1e-7), rel=1e-4)


def test_sigmoid_output_trains_on_its_logits():
    logits = npgrad.Tensor(np.array([[80.0], [-80.0]], dtype=np.float32), requires_grad=True)
    loss = losses.BinaryCrossentropy()(np.array([[0.0], [1.0]]), F.sigmoid(logits))
    loss.backward()
    assert loss.item() == pytest.approx(80.0)
    np.testing.assert_allclose(logits.grad, [[0.5], [-0.5]], rtol=1e-6)


def test_get_and_serialize():
    assert losses.get("mse") is losses.mean_squared_error
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    assert losses.get(None) is None
    huber = losses.Huber(delta=2.0)
    assert losses.get(huber) is huber
    restored = losses.deserialize(losses.serialize(huber))
    assert isinstance(restored, losses.Huber) and restored.delta == 2.0
    sparse = losses.as_loss("sparse_categorical_crossentropy")
    assert isinstance(sparse, losses.SparseCategoricalCrossentropy)
    assert sparse.name == "sparse_categorical_crossentropy"
    restored = losses.deserialize(losses.serialize(losses.BinaryCrossentropy(from_logits=True)))
    assert restored.from_logits is True

    def custom(y_true, y_pred):
        return F.mean_squared_error(y_true, y_pred) * 2

    wrapped = losses.as_loss(custom)
    assert wrapped.name == "custom"
    assert wrapped(np.zeros((2, 1)), np.ones((2, 1))).item() == pytest.approx(2.0)
    with pytest.raises(ValueError, match="mean_squared_error"):
        losses.get("mean_sqared_error")
    with pytest.raises(TypeError):
        losses.get(3)


def test_out_of_range_label_is_named():
    probs = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="label .*7"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 7]), probs)


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "huber", "log_cosh"])
def test_losses_of_the_difference_differentiate_a_target_that_requires_it(name):
    # Keras's losses are ops on both arguments: a consistency loss trains both branches
    rng = np.random.default_rng(0)
    a = npgrad.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = npgrad.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    loss = npgrad.losses.get(name)
    value = npgrad.losses.get(name)(a, b) if not isinstance(loss, type) else loss()(a, b)
    value = value.mean() if value.ndim else value
    value.backward()
    assert a.grad is not None and b.grad is not None
    np.testing.assert_allclose(a.grad, -b.grad, rtol=1e-12, atol=1e-15)  # f(b - a)
    constant = npgrad.losses.get(name)(a.data, b.detach())
    np.testing.assert_allclose(np.mean(np.asarray(constant.data)), float(value), rtol=1e-12)
    # the Loss object too, with a target one rank short (Keras's rank matching)
    c = npgrad.Tensor(rng.normal(size=(4,)), requires_grad=True)
    p = npgrad.Tensor(rng.normal(size=(4, 1)), requires_grad=True)
    npgrad.losses.MeanSquaredError()(c, p).backward()
    np.testing.assert_allclose(c.grad, -p.grad[:, 0], rtol=1e-12)


def test_integer_label_losses_take_the_target_as_data():
    # labels index the classes: nothing to differentiate, even on a Tensor that asks for it
    probs = npgrad.Tensor(np.full((2, 3), 1 / 3), requires_grad=True)
    labels = npgrad.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    value = npgrad.losses.SparseCategoricalCrossentropy()(labels, probs)
    value.backward()
    np.testing.assert_allclose(float(value), np.log(3.0), rtol=1e-12)
    assert probs.grad is not None and labels.grad is None


def test_a_plain_loss_function_gets_targets_of_the_predictions_rank():
    # keras.io's siamese contrastive loss: labels (N,) against sigmoid outputs (N, 1) broadcast
    # to (N, N) and trained the model to a constant 0.5, silently
    seen = []

    def contrastive(y_true, y_pred):
        seen.append(tuple(y_true.shape))
        return npgrad.ops.mean((1 - y_true) * npgrad.ops.square(y_pred)
                               + y_true * npgrad.ops.square(npgrad.ops.maximum(1 - y_pred, 0)))

    npgrad.utils.set_random_seed(0)
    inp = npgrad.Input((3,))
    model = npgrad.Model(inp, npgrad.layers.Dense(1, activation="sigmoid")(inp))
    model.compile("sgd", loss=contrastive)
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    y = (np.arange(8) % 2).astype("float32")
    value = model.evaluate(x, y, batch_size=8, verbose=0)
    p = model.predict(x, verbose=0)
    expected = np.mean((1 - y[:, None]) * p**2 + y[:, None] * np.maximum(1 - p, 0) ** 2)
    assert seen[-1] == (8, 1) and value == pytest.approx(expected, rel=1e-6)
    assert losses.as_loss(contrastive)(y[:, None, None], p).shape == ()  # (8,1,1) -> (8,1)
