"""Sequential runs Conv2D + MaxPooling2D as one fused op, with the unfused results."""

import numpy as np
import pytest

import npgrad
from npgrad.autograd.engine import graph_ops
from npgrad.primitives.conv_pool import Conv2DMaxPool2D

L = npgrad.layers


def _model(activation="relu", padding="valid", pool=(2, 2), strides=(1, 1), fuse=True, seed=0):
    npgrad.utils.set_random_seed(seed)
    f64 = {"dtype": "float64"}
    model = npgrad.Sequential([
        L.Conv2D(4, (3, 3), activation=activation, padding=padding, strides=strides,
                 input_shape=(14, 13, 2), **f64),
        L.MaxPooling2D(pool, **f64),
        L.Conv2D(3, (2, 2), activation=activation, **f64),
        L.MaxPooling2D((2, 2), **f64),
        L.Flatten(**f64),
        L.Dense(3, activation="softmax", **f64),
    ])
    model.fuse_layers = fuse
    model.compile(optimizer=npgrad.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def _op_types(out):
    return {type(op) for op in graph_ops(out)}


@pytest.mark.parametrize("activation", ["relu", None])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_fused_model_trains_exactly_like_the_unfused_one(activation, padding):
    rng = np.random.default_rng(0)
    # quantized pixels make tied pooling windows, as MNIST's background does
    x = rng.integers(0, 3, (8, 14, 13, 2)).astype(np.float64)
    y = rng.integers(0, 3, 8)
    fused, plain = _model(activation, padding), _model(activation, padding, fuse=False)
    np.testing.assert_allclose(fused.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-12)
    fused.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_fused_op_is_used_only_where_it_applies():
    x = np.zeros((2, 14, 13, 2))
    assert Conv2DMaxPool2D in _op_types(_model()(x))
    assert Conv2DMaxPool2D not in _op_types(_model(fuse=False)(x))
    assert Conv2DMaxPool2D not in _op_types(_model(activation="tanh")(x))
    assert npgrad.primitives.pool.MaxPool2D in _op_types(_model(pool=(3, 3))(x))  # first pair unfused
    strided_first = _op_types(_model(strides=(2, 1))(x))  # only the second pair fuses
    assert npgrad.primitives.conv.Conv2D in strided_first and Conv2DMaxPool2D in strided_first


def test_fused_path_keeps_the_layers_input_checks():
    model = _model()
    with pytest.raises(ValueError, match="incompatible"):
        model(np.zeros((2, 14, 13, 3)))


def _functional(activation="relu", padding="valid", fuse=True, seed=0, tap=False):
    """The model of ``_model`` written with the functional API (``tap``: also output the
    first conv's activations, which must then not be fused away)."""
    npgrad.utils.set_random_seed(seed)
    f64 = {"dtype": "float64"}
    x = npgrad.Input((14, 13, 2), dtype="float64")
    conv = L.Conv2D(4, (3, 3), activation=activation, padding=padding, **f64)(x)
    h = L.MaxPooling2D((2, 2), **f64)(conv)
    h = L.MaxPooling2D((2, 2), **f64)(L.Conv2D(3, (2, 2), activation=activation, **f64)(h))
    out = L.Dense(3, activation="softmax", **f64)(L.Flatten(**f64)(h))
    model = npgrad.Model(x, [out, conv] if tap else out)
    model.fuse_layers = fuse
    return model


@pytest.mark.parametrize("activation", ["relu", None])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_functional_models_fuse_too_and_train_exactly_like_unfused(activation, padding):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (8, 14, 13, 2)).astype(np.float64)
    y = rng.integers(0, 3, 8)
    fused, plain = _functional(activation, padding), _functional(activation, padding, fuse=False)
    assert Conv2DMaxPool2D in _op_types(fused(x))
    assert Conv2DMaxPool2D not in _op_types(plain(x))
    for model in (fused, plain):
        model.compile(optimizer=npgrad.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(fused.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-12)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_functional_fusion_keeps_conv_outputs_that_are_used_elsewhere():
    x = np.random.default_rng(1).standard_normal((2, 14, 13, 2))
    model = _functional(tap=True)
    out, conv = model(x)
    assert conv.shape == (2, 12, 11, 4)  # the conv's own output is still computed
    ops = _op_types(out)
    assert npgrad.primitives.conv.Conv2D in ops  # first pair unfused: its conv output is an output
    assert Conv2DMaxPool2D in ops  # second pair fused


# ----------------------------------------------------------------- BatchNormalization + ReLU
def _residual_model(fuse=True, seed=0, relu=None):
    """A small residual net: Conv + BN + ReLU units, a residual Add + ReLU, as functional."""
    npgrad.utils.set_random_seed(seed)
    f64 = {"dtype": "float64"}
    relu = relu or (lambda: L.ReLU(**f64))
    inputs = npgrad.Input((6, 5, 3), dtype="float64")
    h = L.Conv2D(4, 3, padding="same", use_bias=False, **f64)(inputs)
    h = relu()(L.BatchNormalization(**f64)(h))
    y = L.Conv2D(4, 3, padding="same", use_bias=False, **f64)(h)
    y = L.BatchNormalization(**f64)(y)
    h = L.ReLU(**f64)(L.Add(**f64)([h, y]))
    outputs = L.Dense(3, activation="softmax", **f64)(L.GlobalAveragePooling2D(**f64)(h))
    model = npgrad.Model(inputs, outputs)
    model.fuse_layers = fuse
    model.compile(optimizer=npgrad.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def _bn_sequential(fuse=True, seed=0, act="relu_layer"):
    npgrad.utils.set_random_seed(seed)
    f64 = {"dtype": "float64"}
    last = L.ReLU(**f64) if act == "relu_layer" else (
        L.Activation("relu", **f64) if act == "activation" else L.ReLU(max_value=1.0, **f64))
    model = npgrad.Sequential([
        npgrad.Input((7,), dtype="float64"), L.Dense(5, **f64), L.BatchNormalization(**f64),
        last, L.Dense(3, activation="softmax", **f64)])
    model.fuse_layers = fuse
    model.compile(optimizer=npgrad.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def _relu6_residual_model(fuse=True, seed=0):
    """The residual model with ReLU(max_value=0.5) after its first batch norm: a cap the
    normalized values cross often (MobileNet's ReLU6 pattern)."""
    return _residual_model(fuse, seed, relu=lambda: L.ReLU(max_value=0.5, dtype="float64"))


@pytest.mark.parametrize("build", [_residual_model, _bn_sequential, _relu6_residual_model])
def test_batch_norm_relu_fusion_trains_exactly_like_the_layers(build):
    rng = np.random.default_rng(1)
    shape = (12, 7) if build is _bn_sequential else (12, 6, 5, 3)
    x, y = rng.standard_normal(shape), rng.integers(0, 3, 12)
    fused, plain = build(), build(fuse=False)
    np.testing.assert_allclose(fused.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-12)
    fused.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    # trainable weights and the moving statistics alike
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-10)


def test_batch_norm_relu_fuses_only_plain_relus():
    from npgrad.primitives.activation import ReLU as ReLUOp

    x = np.random.default_rng(0).standard_normal((4, 7))
    assert ReLUOp not in _op_types(_bn_sequential()(x, training=True))
    assert ReLUOp not in _op_types(_bn_sequential(act="activation")(x, training=True))
    assert ReLUOp in _op_types(_bn_sequential(fuse=False)(x, training=True))
    # ReLU(max_value=1) fuses too, the cap inside the op; a leaky ReLU does not (below)
    capped = graph_ops(_bn_sequential(act="capped")(x, training=True))
    assert ReLUOp not in {type(op) for op in capped}
    assert [(op.relu, op.relu_cap) for op in capped
            if type(op) is npgrad.primitives.nn.BatchNorm] == [(True, 1.0)]
    images = np.random.default_rng(0).standard_normal((2, 6, 5, 3))

    def ops(model):
        found = graph_ops(model(images, training=True))
        relus = sum(type(op) is ReLUOp for op in found)
        return relus, sorted(op.relu for op in found if type(op) is npgrad.primitives.nn.BatchNorm)

    # the first unit fuses; the second BN feeds an Add, whose ReLU fuses with it (AddReLU)
    assert ops(_residual_model()) == (0, [False, True])
    assert ops(_residual_model(fuse=False)) == (2, [False, False])
    leaky = _residual_model(relu=lambda: L.ReLU(negative_slope=0.1, dtype="float64"))
    assert ops(leaky)[1] == [False, False]


def test_add_relu_fuses_the_residual_join_and_trains_like_the_layers():
    from npgrad.primitives.elementwise import AddReLU

    images = np.random.default_rng(2).standard_normal((2, 6, 5, 3))
    assert AddReLU in _op_types(_residual_model()(images, training=True))
    assert AddReLU not in _op_types(_residual_model(fuse=False)(images, training=True))
    # values and gradients: the residual model of the BN tests trains identically either way
    # (test_batch_norm_relu_fusion_trains_exactly_like_the_layers); broadcast merges and
    # three inputs stay two layers
    f64 = {"dtype": "float64"}
    a, b = npgrad.Input((4, 3), dtype="float64"), npgrad.Input((1, 3), dtype="float64")
    broadcast = npgrad.Model([a, b], L.ReLU(**f64)(L.Add(**f64)([a, b])))
    x1, x2 = np.ones((2, 4, 3)), -2 * np.ones((2, 1, 3))
    out = broadcast([x1, x2], training=True)
    assert AddReLU not in _op_types(out) and np.all(out.numpy() == 0)
    c = npgrad.Input((4, 3), dtype="float64")
    three = npgrad.Model([a, c], L.ReLU(**f64)(L.Add(**f64)([a, c, a])))
    assert AddReLU not in _op_types(three([x1, -x1], training=True))


def test_fused_add_relu_equals_add_then_relu_in_value_and_gradient():
    from npgrad import Tensor

    rng = np.random.default_rng(3)
    a, b, g = (rng.standard_normal((4, 5, 3)) for _ in range(3))
    results = []
    for fused in (True, False):
        ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        y = npgrad.functional.add_relu(ta, tb) if fused else npgrad.functional.relu(ta + tb)
        (y * g).sum().backward()
        results.append((y.numpy(), ta.grad, tb.grad))
    for got, expected in zip(*results):
        np.testing.assert_array_equal(got, expected)


def test_add_relu_names_the_shapes_it_cannot_broadcast():
    with pytest.raises(ValueError, match=r"add_relu.*\(2, 3\).*\(4,\)"):
        npgrad.functional.add_relu(np.ones((2, 3)), np.ones(4))


# ----------------------------------------------------------------- Conv2D + BN folded at inference
def _conv_bn_units(fuse=True, seed=0, use_bias=False, scale=True, center=True, relu=True,
                   functional=False, strides=1):
    """Conv2D + BatchNormalization (+ ReLU) twice, then a classifier head."""
    npgrad.utils.set_random_seed(seed)
    f64 = {"dtype": "float64"}

    def unit(filters, kernel, stride):
        layers = [L.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=use_bias,
                           **f64),
                  L.BatchNormalization(scale=scale, center=center, **f64)]
        return layers + ([L.ReLU(**f64)] if relu else [])

    body = unit(4, 3, strides) + unit(5, (2, 3), 1)
    head = [L.GlobalAveragePooling2D(**f64), L.Dense(3, activation="softmax", **f64)]
    if functional:
        inputs = npgrad.Input((7, 6, 3), dtype="float64")
        h = inputs
        for layer in body + head:
            h = layer(h)
        model = npgrad.Model(inputs, h)
    else:
        model = npgrad.Sequential([npgrad.Input((7, 6, 3), dtype="float64"), *body, *head])
    model.fuse_layers = fuse
    model.compile(optimizer=npgrad.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    return model


def _trained_pair(**kwargs):
    """The same model fused and unfused, trained alike so the moving statistics are not the
    initial ones (the fold must use them)."""
    rng = np.random.default_rng(4)
    x, y = 3 * rng.standard_normal((10, 7, 6, 3)) + 1, rng.integers(0, 3, 10)
    fused, plain = _conv_bn_units(**kwargs), _conv_bn_units(fuse=False, **kwargs)
    for model in (fused, plain):
        model.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    return fused, plain, x


@pytest.mark.parametrize("options", [
    {}, {"use_bias": True}, {"scale": False, "center": False}, {"relu": False},
    {"functional": True}, {"functional": True, "use_bias": True, "relu": False},
    {"strides": 2},
])
def test_conv_batch_norm_folded_at_inference_equals_the_layers(options):
    fused, plain, x = _trained_pair(**options)
    # training through the fused runs changed nothing (weights and moving statistics)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=1e-10, atol=1e-12)
    assert npgrad.primitives.nn.BatchNorm not in _op_types(fused(x))  # folded away
    assert npgrad.primitives.nn.BatchNorm in _op_types(plain(x))
    # training still normalizes by the batch (and fuses BN + ReLU when a ReLU follows)
    assert npgrad.primitives.nn.BatchNorm in _op_types(fused(x, training=True))


def test_folded_conv_batch_norm_passes_gradients_to_every_weight_and_the_input():
    from npgrad import Tensor

    fused, plain, x = _trained_pair(use_bias=True)
    grads = []
    for model in (fused, plain):
        inputs = Tensor(x, requires_grad=True)
        for weight in model.trainable_weights:
            weight.grad = None
        model(inputs, training=False).sum().backward()
        grads.append([inputs.grad] + [w.grad for w in model.trainable_weights])
    for got, expected in zip(*grads):
        assert got is not None
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_conv_batch_norm_folds_only_plain_pairs():
    f64 = {"dtype": "float64"}
    x = np.random.default_rng(5).standard_normal((2, 6, 6, 3))

    def ops(*layers):
        model = npgrad.Sequential([npgrad.Input((6, 6, 3), dtype="float64"), *layers])
        return _op_types(model(x))

    bn = lambda: L.BatchNormalization(**f64)
    assert npgrad.primitives.nn.BatchNorm not in ops(L.Conv2D(4, 3, **f64), bn())
    # synchronized BN folds too: at inference it normalizes by its moving statistics alone
    assert npgrad.primitives.nn.BatchNorm not in ops(
        L.Conv2D(4, 3, **f64), L.BatchNormalization(synchronized=True, **f64))
    # an activation inside the conv, grouped convs and layers of two dtypes stay two layers
    assert npgrad.primitives.nn.BatchNorm in ops(L.Conv2D(4, 3, activation="relu", **f64), bn())
    mixed = npgrad.Sequential([npgrad.Input((6, 6, 3), dtype="float64"), L.Conv2D(4, 3, **f64),
                               L.BatchNormalization(dtype="float32")])
    out = mixed(x)
    assert npgrad.primitives.nn.BatchNorm in _op_types(out) and out.dtype == np.float32
    grouped = L.Conv2D(4, 3, groups=2, **f64)
    assert npgrad.primitives.nn.BatchNorm in _op_types(
        npgrad.Sequential([npgrad.Input((6, 6, 4), dtype="float64"), grouped, bn()])(
            np.ones((2, 6, 6, 4))))


def test_folded_conv_batch_norm_keeps_the_size_check():
    model = _conv_bn_units()
    model(np.zeros((1, 7, 6, 3)))
    conv = model.layers[0]
    conv.filters = 6  # a conv that no longer matches the BN it was built with
    conv.built = False
    with pytest.raises(ValueError, match="batch_normalization"):
        model(np.zeros((1, 7, 6, 3)))
