"""DataParallel(threads=N): N replicas in one process train exactly as one model does.

The gradient of a global batch is the sum of each slice's gradient weighted by its share,
so with float64 weights and no per-batch statistics (batch norm) the thread replicas must
end with one model's weights, logs, evaluations and predictions, to rounding.
"""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
from npgrad import layers as L
from npgrad.distribution import DataParallel
from npgrad.distribution.communicator import DistributionError, LocalCommunicator
from npgrad.distribution.threads import ThreadCommunicator
from tests.data_parallel_helpers import (
    assert_same_weights,
    bn_model,
    data,
    mlp,
    trained_under,
)


@pytest.fixture(autouse=True)
def no_distribution_after():
    yield
    npgrad.distribution.set_distribution(None)


def train(threads, run, build=mlp):
    """``run(model)`` under DataParallel(threads=threads) (None: no distribution)."""
    return trained_under(None if threads is None else {"threads": threads}, run, build)


def fit_everything(model):
    x, y = data()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2)
    return {"history": history.history,
            "evaluation": model.evaluate(x, y, batch_size=9, verbose=0),
            "predictions": model.predict(x, batch_size=11, verbose=0)}


def test_two_threads_train_evaluate_and_predict_as_one_model():
    one, expected = train(None, fit_everything)
    two, got = train(2, fit_everything)
    assert_same_weights(one, two)
    for key, values in expected["history"].items():
        np.testing.assert_allclose(got["history"][key], values, rtol=0, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(got["evaluation"], expected["evaluation"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["predictions"], expected["predictions"], rtol=0, atol=1e-12)


@settings(max_examples=12, deadline=None)
@given(threads=st.integers(2, 3), n=st.integers(1, 13), batch_size=st.integers(1, 6))
def test_any_batch_cut_any_thread_count_matches_one_model(threads, n, batch_size):
    def run(model):
        x, y = data(n, seed=n)
        return model.fit(x, y, batch_size=batch_size, epochs=2, verbose=0).history

    one, expected = train(None, run)
    many, got = train(threads, run)
    assert_same_weights(one, many)
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, rtol=0, atol=1e-12, err_msg=key)


class KerasThreeStep(npgrad.Model):
    """A Keras 3 custom train_step: its own loss tracker, ``optimizer.apply``."""

    def __init__(self):
        super().__init__()
        self.hidden = L.Dense(5, activation="relu", dtype="float64")
        self.out = L.Dense(1, dtype="float64")
        self.tracker = npgrad.metrics.Mean(name="loss")

    def call(self, x):
        return self.out(self.hidden(x))

    @property
    def metrics(self):
        return [self.tracker]

    def train_step(self, data):
        x, y = data
        prediction = self(x, training=True)
        loss = npgrad.ops.mean((prediction[:, 0] - y) ** 2)
        loss.backward()
        variables = self.trainable_variables
        self.optimizer.apply([v.grad for v in variables], variables)
        self.zero_grad()
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}


def keras_three_model():
    npgrad.utils.set_random_seed(4)
    model = KerasThreeStep()
    model.compile(optimizer=npgrad.optimizers.SGD(0.05, momentum=0.9))
    return model


def test_a_custom_train_step_with_its_own_tracker_trains_as_one_model():
    def run(model):
        x, y = data(40)
        return model.fit(x, y.astype("float64"), batch_size=8, epochs=2, verbose=0).history

    one, expected = train(None, run, keras_three_model)
    two, got = train(2, run, keras_three_model)
    assert_same_weights(one, two)
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=0, atol=1e-12)


def test_a_learning_rate_callback_and_weights_set_between_calls_reach_every_replica():
    schedule = npgrad.callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 / (epoch + 1))

    def run(model):
        x, y = data()
        model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[schedule])
        model.train_on_batch(x[:20], y[:20])
        model.set_weights([w * 0.5 for w in model.get_weights()])  # the replicas' arrays too
        model.layers[0].trainable = False                           # and their flags
        model.train_on_batch(x[20:40], y[20:40])
        return model.predict(x, verbose=0)

    one, expected = train(None, run)
    two, got = train(2, run)
    assert_same_weights(one, two)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_synchronized_batch_norm_over_threads_is_batch_norm_over_the_whole_batch():
    def run(model):
        x, y = data(48)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)

    one, _ = train(None, run, lambda: bn_model(False))
    two, _ = train(2, run, lambda: bn_model(True))
    assert_same_weights(one, two)  # moving statistics included


def test_unsynchronized_batch_norm_keeps_rank_zeros_statistics():
    """As each MPI process keeps its own: the model's moving mean moves toward the mean of
    rank 0's slice only (Keras's DataParallel does the same per device)."""
    x, y = data(8)

    def run(model):
        model.train_on_batch(x, y)
        return model.layers[0](x[:4]).numpy()  # rank 0's slice through the first Dense

    model, first_half = train(2, run, lambda: bn_model(False))
    momentum = model.layers[1].momentum
    # the Dense weights moved after the step; the statistics were taken before it, so
    # recompute the slice's mean from the weights the step started from
    start = bn_model(False)
    before = start.layers[0](x[:4]).numpy().mean(axis=0)
    # (the model's input is float32, as Keras's Input: hence 1e-6)
    np.testing.assert_allclose(model.layers[1].moving_mean.numpy(), (1 - momentum) * before,
                               rtol=1e-6)
    assert not np.allclose(before, start.layers[0](x).numpy().mean(axis=0))
    assert first_half.shape == (4, 4)


class FailsOnRankOne(L.Layer):
    def call(self, x):
        if npgrad.distribution.distribution().rank == 1:
            raise FloatingPointError("replica 1 failed")
        return x


def test_an_error_in_a_replica_is_raised_in_the_caller_and_nothing_hangs():
    def broken():
        model = npgrad.Sequential([npgrad.Input((6,)), FailsOnRankOne(), L.Dense(2)])
        model.compile("sgd", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    x, y = data(8)
    npgrad.distribution.set_distribution(DataParallel(threads=2))
    with pytest.raises(FloatingPointError, match="replica 1 failed"):
        broken().fit(x, y, batch_size=8, verbose=0)
    model = mlp()  # the same distribution trains the next model
    model.fit(x, y, batch_size=8, verbose=0)
    assert np.isfinite(model.evaluate(x, y, verbose=0)).all()


def test_replicas_share_the_trainable_arrays_and_own_the_rest():
    dp = DataParallel(threads=3)
    npgrad.distribution.set_distribution(dp)
    model = bn_model(False)
    x, y = data(9)
    model.train_on_batch(x, y)
    replicas = dp.replicas_of(model)
    assert len(replicas) == 2
    for replica in replicas:
        for mine, theirs in zip(model.weights, replica.weights, strict=True):
            assert (theirs.data is mine.data) == mine.trainable, mine.name
        assert replica.optimizer is model.optimizer


def test_threads_argument_is_checked():
    with pytest.raises(ValueError, match="threads must be a positive int, got 0"):
        DataParallel(threads=0)
    with pytest.raises(ValueError, match="threads must be a positive int"):
        DataParallel(threads=True)

    class TwoProcesses(LocalCommunicator):
        size = 2

    with pytest.raises(ValueError, match="threads=2 with 2 MPI processes"):
        DataParallel(threads=2, communicator=TwoProcesses())


def test_thread_communicator_collectives_and_a_broken_barrier():
    comm = ThreadCommunicator(3)
    results = {}

    def rank_work(rank):
        comm.bind(rank)
        total = comm.allreduce_sum(np.full(4, float(rank + 1)))
        shared = comm.broadcast(np.full(2, float(rank)), root=2)
        rows = comm.allgather_rows(np.full((rank, 2), rank))
        results[rank] = (total, shared, rows, comm.allgather_int64([rank, 10 * rank]))

    threads = [threading.Thread(target=rank_work, args=(r,)) for r in (1, 2)]
    for thread in threads:
        thread.start()
    rank_work(0)
    for thread in threads:
        thread.join()
    for rank in range(3):
        total, shared, rows, ints = results[rank]
        np.testing.assert_array_equal(total, np.full(4, 6.0))
        np.testing.assert_array_equal(shared, np.full(2, 2.0))
        np.testing.assert_array_equal(rows, [[1, 1], [2, 2], [2, 2]])
        np.testing.assert_array_equal(ints, [[0, 0], [1, 10], [2, 20]])
    comm.abort()
    with pytest.raises(DistributionError, match="another replica raised an error"):
        comm.barrier()


def test_blas_threads_are_shared_inside_and_given_back():
    from npgrad.utils import threads

    before = npgrad.utils.get_num_threads()
    if before is None:
        pytest.skip("NumPy's OpenBLAS cannot be reached here")
    previous = threads.set_num_threads(2)
    try:
        with threads.shared_threads(2):
            assert npgrad.utils.get_num_threads() == 1
        assert npgrad.utils.get_num_threads() == 2
    finally:
        threads.set_num_threads(previous)


def test_a_gan_trains_on_thread_replicas_with_one_update_per_optimizer():
    """The GAN's step calls two optimizers; each must step once per batch (in rank 0), not
    once per replica, and the replicas must share both networks' trainable arrays."""
    npgrad.utils.set_random_seed(5)
    generator = npgrad.Sequential([npgrad.Input((3,)), L.Dense(6, activation="tanh")])
    discriminator = npgrad.Sequential([npgrad.Input((6,)), L.Dense(1)])
    gan = npgrad.models.GAN(generator, discriminator, latent_dim=3)
    gan.compile()
    real = np.random.default_rng(0).normal(size=(10, 6)).astype("float32")
    dp = DataParallel(threads=2)
    npgrad.distribution.set_distribution(dp)
    before = [w.copy() for w in generator.get_weights()]
    logs = gan.train_on_batch(real, return_dict=True)
    logs = gan.train_on_batch(real, return_dict=True)
    assert gan.d_optimizer.iterations == 2 and gan.g_optimizer.iterations == 2
    assert all(np.isfinite(v) for v in logs.values())
    assert not np.allclose(before[0], generator.get_weights()[0])
    (replica,) = dp.replicas_of(gan)
    for mine, theirs in zip(gan.weights, replica.weights, strict=True):
        assert theirs.data is mine.data


def test_a_model_compiled_again_gets_replicas_with_the_new_loss():
    def run(model):
        x, y = data(24)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        model.compile(npgrad.optimizers.SGD(0.1), "mean_squared_error")  # another loss
        model.fit(x, np.eye(2)[y], batch_size=8, epochs=1, verbose=0)

    one, _ = train(None, run)
    two, _ = train(2, run)
    assert_same_weights(one, two)


class HoldsALock(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lock = threading.Lock()

    def call(self, x):
        return x


def test_a_model_that_cannot_be_copied_is_refused_with_the_reason():
    model = npgrad.Sequential([npgrad.Input((6,)), HoldsALock(), L.Dense(2)], name="locked")
    model.compile("sgd", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    npgrad.distribution.set_distribution(DataParallel(threads=2))
    x, y = data(4)
    with pytest.raises(TypeError, match=r"copy.deepcopy\(locked\) failed: TypeError: .*lock"):
        model.fit(x, y, verbose=0)


class RecordsItsGenerator(L.Layer):
    """Notes which generator each rank draws from, and its first draw."""

    seen = None  # {rank: (generator, first draw)}, reset by each run

    def call(self, x):
        data_parallel = npgrad.distribution.distribution()
        if data_parallel is not None:  # (not while the model is built)
            generator = npgrad.random.generator()
            self.seen.setdefault(data_parallel.rank, (generator, float(generator.random())))
        return x


def test_each_replica_draws_from_a_stream_of_its_own_that_a_seed_repeats():
    """Two threads drawing from one generator take its numbers in whatever order they
    run: a seeded run would not repeat. Rank 0 draws from npgrad's generator, each replica
    from its own stream derived from it (and the model's draws stay those of one model)."""
    def run_seeded():
        RecordsItsGenerator.seen = {}
        npgrad.utils.set_random_seed(7)
        model = npgrad.Sequential([npgrad.Input((6,)), RecordsItsGenerator(), L.Dense(2)])
        model.compile("sgd", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
        x, y = data(8)
        npgrad.distribution.set_distribution(DataParallel(threads=3))
        model.fit(x, y, batch_size=8, verbose=0, shuffle=False)
        npgrad.distribution.set_distribution(None)
        return dict(RecordsItsGenerator.seen)

    first, second = run_seeded(), run_seeded()
    assert second[0][0] is npgrad.random.generator()  # (set_random_seed made a new one)
    streams = {id(second[rank][0]) for rank in (0, 1, 2)}
    assert len(streams) == 3  # three different generators
    assert [first[r][1] for r in (0, 1, 2)] == [second[r][1] for r in (0, 1, 2)]
    assert len({first[r][1] for r in (0, 1, 2)}) == 3


def test_a_deep_functional_model_gets_replicas_without_a_recursion_error():
    # a chain of 200 layers: one copy.deepcopy of the model recursed past Python's limit
    inputs = npgrad.Input((6,))
    x = inputs
    for _ in range(100):
        x = L.Activation("tanh")(L.Dense(6)(x))
    model = npgrad.Model(inputs, L.Dense(3)(x))
    model.compile("sgd", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    twin = npgrad.models.clone_model(model)
    twin.set_weights(model.get_weights())
    twin.compile("sgd", npgrad.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = data(12)
    npgrad.distribution.set_distribution(DataParallel(threads=2))
    model.fit(x, y, batch_size=6, epochs=1, verbose=0, shuffle=False)
    npgrad.distribution.set_distribution(None)
    twin.fit(x, y, batch_size=6, epochs=1, verbose=0, shuffle=False)
    assert_same_weights(twin, model, atol=1e-5)  # float32: two half-batch sums
