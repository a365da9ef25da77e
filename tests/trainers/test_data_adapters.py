"""fit/evaluate/predict take arrays, lists and dicts of arrays, generators and PyDatasets."""

import numpy as np
import pytest

import npgrad
from npgrad import layers as L


def linear_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x.sum(axis=1, keepdims=True) * 0.5).astype("float32")


def fresh_model(seed=0):
    npgrad.utils.set_random_seed(seed)
    model = npgrad.Sequential([npgrad.Input((3,)), L.Dense(1)])
    model.compile(npgrad.optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


def batches(x, y, batch_size):
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


class Batches(npgrad.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_begun = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_begin(self):
        self.epochs_begun += 1


def test_a_generator_trains_like_the_same_batches_of_arrays():
    x, y = linear_data()
    reference = fresh_model()
    reference.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    model = fresh_model()
    history = model.fit(batches(x, y, 16), epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert history.history["loss"][0] > 0


def test_an_endless_generator_needs_steps_per_epoch_and_spans_epochs():
    x, y = linear_data()

    def forever():
        while True:
            yield from batches(x, y, 16)

    model = fresh_model()
    history = model.fit(forever(), steps_per_epoch=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("workers, processes", [(1, False), (3, False), (2, True)])
def test_a_py_dataset_trains_like_arrays_with_any_workers(workers, processes):
    x, y = linear_data()
    reference = fresh_model()
    reference.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    model = fresh_model()
    dataset = Batches(x, y, 16, workers=workers, use_multiprocessing=processes, max_queue_size=2)
    model.fit(dataset, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert dataset.epochs_begun == 2
    np.testing.assert_allclose(model.predict(dataset, verbose=0), model.predict(x, verbose=0))
    assert model.evaluate(dataset, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


def test_validation_data_may_be_a_generator_or_a_py_dataset():
    x, y = linear_data()
    model = fresh_model()
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=Batches(x, y, 32))
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"])
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=batches(x, y, 32))
    assert "val_mae" in history.history


def test_dict_inputs_are_matched_to_named_inputs():
    npgrad.utils.set_random_seed(0)
    a, b = npgrad.Input((2,), name="left"), npgrad.Input((3,), name="right")
    out = L.Dense(1)(L.Concatenate()([a, b]))
    model = npgrad.Model([a, b], out)
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    left, right = rng.normal(size=(8, 2)), rng.normal(size=(8, 3))
    target = rng.normal(size=(8, 1))
    by_name = model.predict({"right": right, "left": left}, verbose=0)
    np.testing.assert_allclose(by_name, model.predict([left, right], verbose=0))
    model.fit({"left": left, "right": right}, target, epochs=1, verbose=0)
    # a key the model does not take is left out with a warning, as Keras 3 (an unused
    # column of a table can stay in the dict); in a direct call too
    before = model.get_weights()
    with pytest.warns(UserWarning, match="\\['middle'\\] are not inputs"):
        model.fit({"left": left, "right": right, "middle": right}, target, epochs=1,
                  shuffle=False, verbose=0)
    after = model.get_weights()
    model.set_weights(before)
    model.fit({"left": left, "right": right}, target, epochs=1, shuffle=False, verbose=0)
    for got, expected in zip(after, model.get_weights()):
        np.testing.assert_array_equal(got, expected)
    with pytest.warns(UserWarning, match="\\['middle'\\] are not inputs"):
        direct = model({"left": left, "right": right, "middle": right})
    np.testing.assert_allclose(direct.numpy(), model([left, right]).numpy())
    with pytest.raises(ValueError, match="missing \\['right'\\]"):
        model.predict({"left": left}, verbose=0)


def test_a_dict_for_a_single_input_model_must_name_its_input():
    model = fresh_model()
    with pytest.raises(ValueError, match="one input"):
        model.predict({"a": np.zeros((2, 3)), "b": np.zeros((2, 3))}, verbose=0)


@pytest.mark.parametrize("bad, message", [
    ((np.zeros((4, 3)), np.zeros((4, 1)), np.ones(4), np.ones(4)), "tuple of 4 elements"),
    (None, "yielded None"),
])
def test_a_generator_yielding_the_wrong_structure_is_named(bad, message):
    model = fresh_model()

    def gen():
        yield bad

    with pytest.raises(ValueError, match=message):
        model.fit(gen(), epochs=1, verbose=0)


def test_generators_refuse_separate_targets_and_splits():
    x, y = linear_data()
    model = fresh_model()
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(batches(x, y, 8), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        model.fit(batches(x, y, 8), validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="class_weight needs arrays"):
        model.fit(batches(x, y, 8), class_weight={0: 1.0}, verbose=0)


def test_py_dataset_arguments_are_checked():
    with pytest.raises(ValueError, match="workers"):
        Batches(np.zeros(2), np.zeros(2), 1, workers=0)
    with pytest.raises(NotImplementedError, match="__getitem__"):
        npgrad.utils.PyDataset()[0]
