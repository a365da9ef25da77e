"""Regenerate tests/reference/misc_layers/*.npz: Keras 3 reference values for the issue-12 layers.

Run with Keras 3 on its PyTorch backend (the tests read the files without Keras):

    KERAS_BACKEND=torch /work/refenv/bin/python tests/reference/make_misc_layers_reference.py

Each case stores, under ``<case>/``: the input ``x``, the weights set into the Keras layer
(``w0``, ``w1``...), its output ``y``, and for the differentiable layers one training step:
the loss is ``mean((y - target) ** 2)``, ``dx`` is its gradient with respect to ``x`` and
``w<i>_after`` are the trainable weights after one ``keras.optimizers.SGD(0.1)`` step.

TextVectorization runs on TensorFlow in Keras (not installed in the reference environment),
so its cases hold the inputs and expected outputs of Keras's own test suite
(``keras/src/layers/preprocessing/text_vectorization_test.py``) and docstring; when
TensorFlow is importable the script recomputes them with Keras and checks they agree.
"""

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402

OUT = Path(__file__).resolve().parent / "misc_layers"
LEARNING_RATE = 0.1


def _numpy(t):
    return keras.ops.convert_to_numpy(t)


def record(store, case, layer, x, weights=None, train=True, seed=0, call_kwargs=None):
    """Run ``layer`` on ``x`` with ``weights``; store forward and one SGD step under ``case``."""
    rng = np.random.default_rng(seed)
    if not layer.built:
        layer.build(x.shape)
    if weights is not None:
        layer.set_weights(weights)
    for i, w in enumerate(layer.get_weights()):
        store[f"{case}/w{i}"] = np.asarray(w)
    store[f"{case}/x"] = x
    x_t = torch.tensor(x, requires_grad=train)
    y = layer(x_t, **(call_kwargs or {}))
    store[f"{case}/y"] = _numpy(y)
    if not train:
        return
    target = rng.standard_normal(tuple(y.shape)).astype(x.dtype)
    store[f"{case}/target"] = target
    loss = torch.mean(torch.square(y - torch.tensor(target)))
    loss.backward()
    store[f"{case}/dx"] = x_t.grad.numpy()
    variables = layer.trainable_variables
    if variables:
        grads = [v.value.grad for v in variables]
        keras.optimizers.SGD(LEARNING_RATE).apply(grads, variables)
        for i, v in enumerate(layer.weights):
            store[f"{case}/w{i}_after"] = _numpy(v)


def group_normalization(rng):
    store = {}
    x = rng.standard_normal((2, 4, 3, 6)).astype("float32")
    gamma = rng.uniform(0.5, 1.5, 6).astype("float32")
    beta = rng.standard_normal(6).astype("float32")
    record(store, "groups2", keras.layers.GroupNormalization(groups=2), x, [gamma, beta])
    record(store, "instance", keras.layers.GroupNormalization(groups=-1, epsilon=1e-5), x,
           [gamma, beta])
    x1 = rng.standard_normal((3, 4, 5)).astype("float32")
    g1, b1 = rng.uniform(0.5, 1.5, 4).astype("float32"), rng.standard_normal(4).astype("float32")
    record(store, "axis1", keras.layers.GroupNormalization(groups=2, axis=1), x1, [g1, b1])
    record(store, "no_scale", keras.layers.GroupNormalization(groups=3, scale=False), x,
           [beta])
    return store


def rms_normalization(rng):
    store = {}
    x = rng.standard_normal((3, 5, 8)).astype("float32")
    record(store, "last", keras.layers.RMSNormalization(), x,
           [rng.uniform(0.5, 1.5, 8).astype("float32")])
    record(store, "two_axes", keras.layers.RMSNormalization(axis=[1, 2], epsilon=1e-3), x,
           [rng.uniform(0.5, 1.5, (5, 8)).astype("float32")])
    return store


def normalization(rng):
    store = {}
    data = (rng.standard_normal((50, 3)) * [1.0, 5.0, 0.1] + [0.0, 10.0, -3.0]).astype("float32")
    x = rng.standard_normal((4, 3)).astype("float32") * 3
    for case, kwargs in {"adapted": {}, "inverted": {"invert": True}}.items():
        layer = keras.layers.Normalization(**kwargs)
        layer.adapt(data)
        store[f"{case}/data"] = data
        record(store, case, layer, x, train=False)
    images = rng.uniform(0, 255, (6, 4, 4, 3)).astype("float32")
    layer = keras.layers.Normalization(axis=(1, 3))
    layer.adapt(images)  # npgrad's test adapts on two batches: the merged moments must agree
    store["two_axes_batches/data"] = images
    record(store, "two_axes_batches", layer, images[:2], train=False)
    layer = keras.layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0])
    record(store, "fixed", layer, x, train=False)
    layer = keras.layers.Normalization(axis=None)
    layer.adapt(data)
    store["scalar/data"] = data
    record(store, "scalar", layer, x, train=False)
    return store


def resizing(rng):
    store = {}
    x = rng.uniform(0, 1, (2, 7, 10, 3)).astype("float32")
    cases = {
        "bilinear_down": dict(height=4, width=5),
        "bilinear_up": dict(height=12, width=15),
        "nearest_down": dict(height=4, width=6, interpolation="nearest"),
        "nearest_up": dict(height=13, width=11, interpolation="nearest"),
        "antialias": dict(height=3, width=4, antialias=True),
        "crop_aspect": dict(height=5, width=5, crop_to_aspect_ratio=True),
        "pad_aspect": dict(height=9, width=4, pad_to_aspect_ratio=True, fill_value=0.5),
    }
    for case, kwargs in cases.items():
        record(store, case, keras.layers.Resizing(**kwargs), x)
        for key, value in kwargs.items():
            store[f"{case}/config/{key}"] = np.asarray(value)
    return store


# Keras's own expectations (keras/src/layers/preprocessing/text_vectorization_test.py and the
# TextVectorization docstring): (constructor kwargs, adapt data or None, inputs, expected)
TEXT_CASES = {
    "adapt_int": (dict(max_tokens=5000, output_mode="int", output_sequence_length=4),
                  ["foo bar", "bar baz", "baz bada boom"], [["foo qux bar"], ["qux baz"]],
                  [[4, 1, 3, 0], [1, 2, 0, 0]]),
    "fixed_vocabulary": (dict(max_tokens=5000, output_mode="int", output_sequence_length=4,
                              vocabulary=["baz", "bar", "foo"]),
                         None, [["foo qux bar"], ["qux baz"]], [[4, 1, 3, 0], [1, 2, 0, 0]]),
    "multi_hot": (dict(output_mode="multi_hot", vocabulary=["foo", "bar", "baz"]), None,
                  [["foo bar"], ["baz foo foo"]], [[0, 1, 1, 0], [0, 1, 0, 1]]),
    "count": (dict(output_mode="count", vocabulary=["foo", "bar", "baz"]), None,
              ["foo bar", "baz foo foo"], [[0, 1, 1, 0], [0, 2, 0, 1]]),
    "tf_idf": (dict(output_mode="tf_idf", vocabulary=["foo", "bar", "baz"],
                    idf_weights=[0.3, 0.5, 0.2]), None, ["foo bar", "baz foo foo"],
               [[0.0, 0.3, 0.5, 0.0], [0.0, 0.6, 0.0, 0.2]]),
    "strip_punctuation": (dict(standardize="lower_and_strip_punctuation",
                               vocabulary=["hello", "world", "this", "is", "nice", "test"]),
                          None, ["Hello, World!. This is just a nice test!"],
                          [[2, 3, 4, 5, 1, 1, 6, 7]]),
}


def text_vectorization(rng):
    store = {}
    try:
        import tensorflow  # noqa: F401
        have_tf = True
    except ImportError:
        have_tf = False
    for case, (kwargs, adapt, inputs, expected) in TEXT_CASES.items():
        for key, value in kwargs.items():
            store[f"{case}/config/{key}"] = np.asarray(value)
        if adapt is not None:
            store[f"{case}/adapt"] = np.asarray(adapt)
        store[f"{case}/x"] = np.asarray(inputs)
        store[f"{case}/y"] = np.asarray(expected, dtype=np.float64)
        if have_tf:
            layer = keras.layers.TextVectorization(**kwargs)
            if adapt is not None:
                layer.adapt(adapt)
            np.testing.assert_allclose(_numpy(layer(inputs)), expected, rtol=1e-6)
    return store


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(12)
    for make in (group_normalization, rms_normalization, normalization, resizing,
                 text_vectorization):
        store = make(rng)
        path = OUT / f"{make.__name__}.npz"
        np.savez_compressed(path, **store)
        print(f"wrote {path} ({len(store)} arrays)")


if __name__ == "__main__":
    main()
