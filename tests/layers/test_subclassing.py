"""Layer and Model subclasses written for Keras 3 run unchanged: the call-signature rule,
add_weight/add_variable, Variables, add_loss, shape inference from symbolic calls."""

import warnings

import numpy as np
import pytest

import npgrad
from npgrad import layers as L


class Linear(L.Layer):
    """The keras.io "making new layers" example, verbatim but for the import."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):  # no training, no mask: Keras passes neither
        return npgrad.functional.matmul(inputs, self.w) + self.b


def test_call_without_training_is_called_without_it():
    layer = Linear(4)
    out = layer(np.ones((2, 3), "float32"), training=True)
    assert out.shape == (2, 4)
    model = npgrad.Sequential([npgrad.Input((3,)), Linear(2)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)  # fit passes training=True


def test_training_reaches_call_only_when_accepted():
    seen = []

    class Takes(L.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class TakesKwargs(L.Layer):
        def call(self, x, **kwargs):
            seen.append(kwargs.get("training"))
            return x

    Takes()(np.ones((1, 2)), training=True)
    TakesKwargs()(np.ones((1, 2)), training=False)
    Takes()(np.ones((1, 2)))
    assert seen == [True, False, False]


def test_add_weight_without_a_name_names_it_as_keras():
    layer = Linear(3)
    layer(np.ones((1, 2), "float32"))
    assert [w.name for w in layer.weights] == [f"{layer.name}/variable", f"{layer.name}/variable_1"]
    assert isinstance(layer.w, npgrad.Variable) and layer.w.trainable
    np.testing.assert_array_equal(layer.b.numpy(), np.zeros(3))


def test_add_weight_orders_and_defaults():
    class Both(L.Layer):
        def build(self, shape):
            self.a = self.add_weight("a", (2, 2), "ones")                 # npgrad/Keras 2 order
            self.b = self.add_weight((3,), "zeros", "float64", False)      # Keras 3 order
            self.c = self.add_variable((2, 5))                             # glorot by default
            self.d = self.add_weight(shape=(), initializer="ones", dtype="int32")

        def call(self, x):
            return x

    layer = Both()
    layer(np.ones((1, 1)))
    assert layer.a.name.endswith("/a") and (layer.a.numpy() == 1).all()
    assert layer.b.dtype == np.float64 and not layer.b.trainable
    frozen = [id(w) for w in layer.non_trainable_weights]  # `in` would compare values
    assert id(layer.b) in frozen and id(layer.d) in frozen
    assert layer.c.shape == (2, 5) and np.abs(layer.c.numpy()).max() > 0
    assert layer.d.shape == () and layer.d.dtype == np.int32
    with pytest.raises(TypeError, match="add_weight: unexpected argument"):
        layer.add_weight(shape=(1,), colour="red")
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        layer.add_weight(shape=(None, 3))


def test_variable_state_api():
    v = npgrad.Variable(np.zeros(3), name="counts")
    v.assign_add(np.ones(3)).assign_add(1.0)
    np.testing.assert_array_equal(v.numpy(), [2.0, 2.0, 2.0])
    v.assign_sub([1.0, 0.0, 1.0])
    v.assign(np.array([5.0, 6.0, 7.0]))
    np.testing.assert_array_equal(v.value.numpy(), [5.0, 6.0, 7.0])
    assert v.path == "counts" and v.requires_grad
    with pytest.raises(ValueError, match="cannot assign a value of shape \\(2,\\)"):
        v.assign(np.ones(2))
    (v * 2.0).sum().backward()  # a Variable is a Tensor: gradients flow to it
    np.testing.assert_array_equal(v.grad, [2.0, 2.0, 2.0])
    frozen = npgrad.Variable(np.ones(2), trainable=False)
    assert not frozen.requires_grad
    counter = npgrad.Variable(0)
    assert counter.dtype == np.float32  # Python numbers become float32, as Tensor does


class Sampling(L.Layer):
    """The VAE example's layer: called on a list of two symbolic tensors."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = npgrad.Tensor(np.random.default_rng(0).normal(size=z_mean.shape)
                                .astype(z_mean.dtype))
        return z_mean + (z_log_var * 0.5).exp() * epsilon


def test_a_layer_on_a_list_of_symbolic_tensors_infers_its_shape():
    x = npgrad.Input((6,))
    z_mean, z_log_var = L.Dense(2)(x), L.Dense(2)(x)
    z = Sampling()([z_mean, z_log_var])
    assert z.shape == (None, 2)
    encoder = npgrad.Model(x, [z_mean, z_log_var, z])
    outputs = encoder.predict(np.ones((5, 6), "float32"), verbose=0)
    assert [o.shape for o in outputs] == [(5, 2), (5, 2), (5, 2)]


def test_shapes_that_follow_a_none_dimension_stay_none():
    class Doubler(L.Layer):  # output length follows the unknown input length
        def call(self, x):
            return npgrad.concatenate([x, x], axis=1)

    tokens = npgrad.Input((None,))
    out = Doubler()(tokens)
    assert out.shape == (None, None)
    fixed = Doubler()(npgrad.Input((3,)))
    assert fixed.shape == (None, 6)
    model = npgrad.Model(tokens, out)
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 8)


def test_add_loss_joins_the_training_loss():
    class ActivityPenalty(L.Layer):
        def call(self, x):
            self.add_loss(0.5 * (x * x).sum())
            return x

    npgrad.utils.set_random_seed(0)
    inputs = npgrad.Input((3,))
    model = npgrad.Model(inputs, L.Dense(1)(ActivityPenalty()(inputs)))
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    plain = float(npgrad.losses.MeanSquaredError()(y, model(x)).numpy())
    loss = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(plain + 0.5 * 12.0, rel=1e-5)
    assert len(model.losses) == 1  # one call, one penalty (the list restarts per call)
    model(x)
    assert len(model.losses) == 1
    with pytest.raises(ValueError, match="expected a scalar loss"):
        ActivityPenalty().add_loss(np.ones(3))


def test_add_weight_constraint_is_applied_after_each_update():
    class Clipped(L.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], 1), initializer="ones",
                                     constraint="non_neg")

        def call(self, x):
            return npgrad.functional.matmul(x, self.w)

    layer = Clipped()
    layer(np.ones((1, 2), "float32"))
    assert layer.w.constraint is not None
    npgrad.optimizers.SGD(10.0).apply_gradients([(np.ones((2, 1)), layer.w)])
    np.testing.assert_array_equal(layer.w.numpy(), np.zeros((2, 1)))  # 1 - 10 < 0 -> 0


def test_mask_helpers_and_optimizer_apply_refuse_bad_input():
    from npgrad.layers.masks import get_keras_mask, set_keras_mask

    assert get_keras_mask(np.ones((2, 3))) is None  # arrays carry no mask
    with pytest.raises(TypeError, match="set_keras_mask: expected a Tensor, got ndarray"):
        set_keras_mask(np.ones((2, 3)), np.ones((2, 3), bool))
    w = npgrad.Variable(np.ones(2))
    with pytest.raises(ValueError, match="got 2 gradients for 1 variables"):
        npgrad.optimizers.SGD().apply([np.ones(2), np.ones(2)], [w])


def test_a_layer_called_on_several_symbolic_tensors_traces_them_all():
    # Keras 3 traces call(*args, **kwargs) with every symbolic argument
    class Combine(L.Layer):
        def call(self, a, b, scale=1.0, extra=None):
            out = npgrad.ops.concatenate([a + b, a * b], axis=-1) * scale
            return out if extra is None else out + extra

    a, b, c = npgrad.Input((3,)), npgrad.Input((3,)), npgrad.Input((6,))
    out = Combine()(a, b, scale=2.0, extra=c)
    assert out.shape == (None, 6)
    model = npgrad.Model([a, b, c], out)
    x, y, z = np.full((2, 3), 2.0), np.full((2, 3), 3.0), np.ones((2, 6))
    np.testing.assert_allclose(model([x, y, z]).numpy(), np.hstack([x + y, x * y]) * 2 + z)


def test_a_custom_call_sees_integer_inputs_as_they_are_and_floats_cast():
    # Keras autocasts only floating inputs; npgrad's own layers still cast integers (Dense)
    seen = []

    class Parity(L.Layer):
        def call(self, x):
            seen.append(x.dtype)
            return npgrad.ops.bitwise_and(x, 1)

    class Record(L.Layer):
        def call(self, x):
            seen.append(x.dtype)
            return x

    np.testing.assert_array_equal(Parity()(np.array([0, 3, 4], dtype="int32")).numpy(), [0, 1, 0])
    Record()(np.array([0.5], dtype="float64"))
    Record()(npgrad.Tensor(np.array([True])))
    assert seen == [np.int32, np.float32, np.bool_]
    assert L.Dense(2)(np.ones((1, 3), dtype="int64")).dtype == np.float32


def test_a_variable_assigned_as_an_attribute_is_a_weight_as_in_keras():
    class Scale(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.alpha = npgrad.Variable(np.ones(3, "float32"), name="alpha")
            self.steps = npgrad.Variable(np.zeros((), "int64"), trainable=False, name="steps")

        def call(self, x):
            return x * self.alpha

    layer = Scale()
    assert [w.name for w in layer.weights] == ["alpha", "steps"]
    assert [id(w) for w in layer.trainable_weights] == [id(layer.alpha)]
    assert layer.count_params() == 4
    model = npgrad.Sequential([npgrad.Input((3,)), layer])
    model.compile(optimizer=npgrad.optimizers.SGD(0.5), loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.full((4, 3), 2.0, "float32"), epochs=3, verbose=0)
    assert np.all(layer.alpha.numpy() > 1.5)  # trained towards 2
    # a weight another layer owns (tied) stays that layer's: counted once
    dense = L.Dense(3)
    dense.build((None, 3))

    class Tied(L.Layer):
        def __init__(self, kernel, **kwargs):
            super().__init__(**kwargs)
            self.kernel = kernel

        def call(self, x):
            return x @ self.kernel

    tied = Tied(dense.kernel)
    assert tied.weights == [] and len(dense.weights) == 2


def test_sublayers_of_a_traced_layer_are_built_when_the_graph_is_made():
    # Keras 3 runs call on symbolic inputs when build is the default and a sub-layer is
    # unbuilt; without it the first training step found no weights and updated nothing
    class Block(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(4)

        def call(self, x):
            return self.dense(x)

        def compute_output_shape(self, input_shape):
            return tuple(input_shape[:-1]) + (4,)

    inputs = npgrad.Input((3,))
    model = npgrad.Model(inputs, Block()(inputs))
    assert model.count_params() == 16
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "does not have any trainable weights"
        model.train_on_batch(np.ones((4, 3), "float32"), np.zeros((4, 4), "float32"))
    assert not np.array_equal(before[0], model.get_weights()[0])


def test_a_sublayer_probe_that_fails_warns_and_waits_for_data():
    class NeedsData(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(2)

        def call(self, x):
            if not np.any(npgrad.ops.convert_to_numpy(x)):
                raise ValueError("all zeros")
            return self.dense(x)

        def compute_output_shape(self, input_shape):
            return tuple(input_shape[:-1]) + (2,)

    inputs = npgrad.Input((3,))
    with pytest.warns(UserWarning, match="NeedsData|needs_data.*ValueError: all zeros"):
        model = npgrad.Model(inputs, NeedsData()(inputs))
    assert model(np.ones((1, 3), "float32")).shape == (1, 2) and model.count_params() == 8


def test_the_first_input_may_come_by_the_name_call_gives_it():
    # keras.io's endpoint-layer recipe: self.endpoint(logits=logits, targets=targets)
    class Endpoint(L.Layer):
        def call(self, logits, targets=None):
            return logits * 2 if targets is None else logits * 2 + targets

    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(Endpoint()(logits=x, targets=x).numpy(), np.full((2, 3), 3.0))
    np.testing.assert_array_equal(L.Dense(2, kernel_initializer="ones")(x=x).numpy(),
                                  np.full((2, 2), 3.0))
    symbolic = Endpoint()(logits=npgrad.Input((3,)))
    assert symbolic.shape == (None, 3)
    with pytest.raises(TypeError, match=r"called without an input; .*\('logits'\)"):
        Endpoint()(targets=x)


def test_the_shape_probe_keeps_the_symbolic_inputs_dtype():
    seen = []

    class Parity(L.Layer):
        def call(self, x):
            seen.append(x.dtype)
            return npgrad.ops.bitwise_and(x, 1)

    out = Parity()(npgrad.Input((3,), dtype="int32"))
    assert seen and all(d == np.int32 for d in seen) and out.shape == (None, 3)
