"""Stateful metrics against hand computations."""

import numpy as np
import pytest

import npgrad
from npgrad import metrics


def test_mean_accumulates_with_weights():
    m = metrics.Mean()
    m.update_state([1.0, 3.0])
    m.update_state([5.0], sample_weight=[2.0])
    assert m.result() == pytest.approx((1 + 3 + 10) / 4)
    m.reset_state()
    assert m.result() == 0.0


def test_accuracies():
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5], [0.4, 0.25, 0.35]])
    labels = np.array([1, 2, 2, 1])
    sparse = metrics.SparseCategoricalAccuracy()
    sparse.update_state(labels, probs)
    assert sparse.result() == 0.5
    sparse.update_state(labels[:, None], probs)  # (N, 1) labels too
    assert sparse.result() == 0.5
    categorical = metrics.CategoricalAccuracy()
    assert categorical(np.eye(3)[labels], probs) == 0.5
    top2 = metrics.SparseTopKCategoricalAccuracy(k=2)
    assert top2(labels, probs) == 0.75  # sample 3: label 1 is only third
    top2_onehot = metrics.TopKCategoricalAccuracy(k=2)
    assert top2_onehot(np.eye(3)[labels], probs) == 0.75
    binary = metrics.BinaryAccuracy()
    assert binary(np.array([[1], [0], [1], [0]]), np.array([[0.7], [0.6], [0.2], [0.1]])) == 0.5
    assert metrics.BinaryAccuracy(threshold=0.65)(np.array([1, 0]), np.array([[0.7], [0.6]])) == 1.0
    exact = metrics.Accuracy()
    assert exact(np.array([1, 2, 3]), np.array([1, 2, 4])) == pytest.approx(2 / 3)


def test_weighted_accuracy():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.9, 0.1]]), sample_weight=[3.0, 1.0])
    assert m.result() == pytest.approx(0.75)


def test_regression_metrics():
    y_true, y_pred = np.array([[0.0, 1.0], [2.0, 2.0]]), np.array([[1.0, 1.0], [0.0, 2.0]])
    assert metrics.MeanSquaredError()(y_true, y_pred) == pytest.approx((0.5 + 2.0) / 2)
    assert metrics.MeanAbsoluteError()(y_true, y_pred) == pytest.approx((0.5 + 1.0) / 2)


def test_precision_recall():
    y_true = np.array([1, 1, 1, 0, 0])
    y_pred = np.array([0.9, 0.8, 0.3, 0.6, 0.1])
    # tp = 2, fp = 1, fn = 1
    assert metrics.Precision()(y_true, y_pred) == pytest.approx(2 / 3)
    assert metrics.Recall()(y_true, y_pred) == pytest.approx(2 / 3)
    assert metrics.Precision(thresholds=0.85)(y_true, y_pred) == 1.0
    assert metrics.Recall(thresholds=0.85)(y_true, y_pred) == pytest.approx(1 / 3)
    assert metrics.Precision().result() == 0.0  # nothing seen yet


def test_get_names_and_errors():
    assert metrics.get("acc").name == "acc"
    assert metrics.get("accuracy").name == "accuracy"
    assert isinstance(metrics.get("sparse_categorical_accuracy"), metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert isinstance(metrics.get("Precision"), metrics.Precision)
    restored = metrics.deserialize(metrics.serialize(metrics.SparseTopKCategoricalAccuracy(k=3)))
    assert restored(np.array([2]), np.array([[0.4, 0.35, 0.25]])) == 1.0
    custom = metrics.get(lambda y_true, y_pred: np.abs(y_true - y_pred))
    assert custom(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 2.0
    with pytest.raises(ValueError, match="accuracy"):
        metrics.get("acurracy")
    with pytest.raises(ValueError, match="labels"):
        metrics.SparseCategoricalAccuracy()(np.array([0, 1, 2]), np.ones((2, 3)))


def test_a_custom_metric_whose_result_is_a_variable_compiles_and_shows():
    # keras.io's training guide: result() returns the state Variable itself
    class Counter(npgrad.metrics.Metric):
        def __init__(self):
            super().__init__(name="counter")
            self.count = npgrad.Variable(np.float32(0.0), trainable=False)

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign_add(1.0)

        def result(self):
            return self.count

        def reset_state(self):
            self.count.assign(0.0)

    metric = Counter()
    assert repr(metric) == "<Counter name='counter' result=0>"
    model = npgrad.Sequential([npgrad.Input((2,)), npgrad.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[metric])
    history = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, epochs=2, verbose=0)
    assert history.history["counter"] == [2.0, 2.0]


def test_custom_metric_state_from_add_variable_and_add_weight_as_keras():
    # keras.io's training guide: CategoricalTruePositives keeps its count in add_variable
    class TruePositives(npgrad.metrics.Metric):
        def __init__(self, name="true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")
            self.seen = self.add_weight("seen", initializer="zeros", dtype="int32")  # Keras 2

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = npgrad.ops.argmax(y_pred, axis=1) == npgrad.ops.reshape(y_true, (-1,))
            self.true_positives.assign_add(npgrad.ops.sum(npgrad.ops.cast(hits, "float32")))
            self.seen.assign_add(np.int32(len(y_true)))

        def result(self):
            return self.true_positives

    metric = TruePositives()
    assert [v.name for v in metric.variables] == ["true_positives/ctp", "true_positives/seen"]
    assert not any(v.trainable for v in metric.variables)
    metric.update_state(np.array([1, 0, 1]), np.array([[0.1, 0.9], [0.8, 0.2], [0.7, 0.3]]))
    assert float(metric.result()) == 2.0 and int(metric.seen) == 3
    metric.reset_state()  # Keras's default: every state variable back to zeros
    assert float(metric.result()) == 0.0 and int(metric.seen) == 0
    model = npgrad.Sequential([npgrad.Input((2,)), npgrad.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[metric])
    x, y = np.eye(2, dtype="float32")[[0, 1, 0, 1]], np.array([0, 1, 0, 1])
    logs = model.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)
    expected = float((model.predict(x, verbose=0).argmax(1) == y).sum())
    assert logs["true_positives"] == expected


def test_a_metric_without_state_variables_must_write_its_reset():
    class Stateless(npgrad.metrics.Metric):
        def update_state(self, y_true, y_pred, sample_weight=None):
            pass

        def result(self):
            return 0.0

    with pytest.raises(NotImplementedError, match="Stateless: override reset_state"):
        Stateless().reset_state()
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        Stateless().add_variable(shape="x")


def test_results_answer_numpy_as_keras_tensors_do():
    # custom loops print metric.result().numpy() (keras.io's sklearn-metric callback recipe)
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0])
    value = mean.result()
    assert value == 1.5 and isinstance(value, float) and f"{value:.2f}" == "1.50"
    assert value.numpy().dtype == np.float32 and value.numpy().shape == () and value.numpy() == 1.5
    per_class = metrics.F1Score(average=None)
    per_class.update_state(np.eye(3)[[0, 1, 2]], np.eye(3)[[0, 1, 1]])
    assert type(per_class.result().numpy()) is np.ndarray
    np.testing.assert_allclose(per_class.result().numpy(), [1.0, 2 / 3, 0.0], atol=1e-6)

    class Count(metrics.Metric):  # a subclass's own result() answers too
        def __init__(self):
            super().__init__(name="count")
            self.n = 0

        def update_state(self, values):
            self.n += len(values)

        def result(self):
            return self.n

    count = Count()
    count.update_state([1, 2, 3])
    assert count.result().numpy() == 3
    assert npgrad.metrics.AUC()(np.array([0, 1]), np.array([0.2, 0.9])).numpy() == 1.0
