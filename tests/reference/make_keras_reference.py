"""Recompute tests/reference/keras_reference.npz with Keras 3 (run it where Keras is installed).

The file holds inputs (``x``, initial weights ``w0...``, the quadratic's ``A, b, p0``, loss
inputs) and what Keras computes from them (``y``, ``pred0``, weights after fitting ``w2_i``,
optimizer trajectories, losses, a parameter count); README.md lists the cases. The inputs
are random draws made once; this script reads them from an existing reference file (so the
outputs are reproducible) and recomputes every output with Keras:

    KERAS_BACKEND=torch python tests/reference/make_keras_reference.py --check
    KERAS_BACKEND=torch python tests/reference/make_keras_reference.py --out new.npz

``--check`` compares the recomputed outputs with the stored ones (rtol 1e-5 forward, 1e-4
after training steps) and exits non-zero on a difference. Written against Keras 3.15.1 with
the torch backend (CPU), float32.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = Path(__file__).resolve().parent
CONV2D = {
    "conv2d_valid": dict(kernel_size=(3, 3)),
    "conv2d_same_s2": dict(kernel_size=(3, 3), strides=(2, 2), padding="same"),
    "conv2d_same_even": dict(kernel_size=(4, 4), strides=(2, 2), padding="same"),
    "conv2d_dilated": dict(kernel_size=(3, 3), dilation_rate=(2, 2)),
    "conv2d_s21": dict(kernel_size=(3, 3), strides=(2, 1)),
}
CONV2D_TRANSPOSE = {
    "conv2dT_s2_same": dict(strides=(2, 2), padding="same"),
    "conv2dT_s2_valid": dict(strides=(2, 2), padding="valid"),
    "conv2dT_s1_same": dict(strides=(1, 1), padding="same"),
}
POOLING = {
    "maxpool_2": lambda: layers.MaxPooling2D((2, 2)),
    "maxpool_3s2_same": lambda: layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same"),
    "avgpool_2": lambda: layers.AveragePooling2D((2, 2)),
    "avgpool_3s2_same": lambda: layers.AveragePooling2D((3, 3), strides=(2, 2), padding="same"),
}
RNN = {
    "simplernn_seq": lambda: layers.SimpleRNN(5, return_sequences=True),
    "lstm_seq": lambda: layers.LSTM(5, return_sequences=True),
    "gru_seq": lambda: layers.GRU(5, return_sequences=True),
    "gru_reset_before_seq": lambda: layers.GRU(5, return_sequences=True, reset_after=False),
}
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.05),
    "sgd_momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
    "adagrad": lambda: keras.optimizers.Adagrad(0.1),
    "adam": lambda: keras.optimizers.Adam(0.05),
    "adamw": lambda: keras.optimizers.AdamW(0.05, weight_decay=0.1),
    "adamax": lambda: keras.optimizers.Adamax(0.05),
}
SEED_OPTIMIZERS = {"seedA_sgd": lambda: keras.optimizers.SGD(0.1),
                   "seedA_adam": lambda: keras.optimizers.Adam(1e-3)}
# outputs compared after training steps get the looser tolerance
TRAINED = ("/w2_", "batchnorm_fit/pred", "optim_")


def _layer_output(layer, x, weights=()):
    layer.build(x.shape)
    if weights:
        layer.set_weights(list(weights))
    return keras.ops.convert_to_numpy(layer(x))


def seed_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def compute(ref):
    """Every output of the reference file, computed by Keras from the file's inputs."""
    out = {}
    for case, kwargs in CONV2D.items():
        w = [ref[f"{case}/w0"], ref[f"{case}/w1"]]
        out[f"{case}/y"] = _layer_output(layers.Conv2D(5, **kwargs), ref[f"{case}/x"], w)
    for case, kwargs in CONV2D_TRANSPOSE.items():
        w = [ref[f"{case}/w0"], ref[f"{case}/w1"]]
        out[f"{case}/y"] = _layer_output(layers.Conv2DTranspose(4, (3, 3), **kwargs),
                                         ref[f"{case}/x"], w)
    for case, make in POOLING.items():
        out[f"{case}/y"] = _layer_output(make(), ref[f"{case}/x"])
    out["upsampling_2/y"] = _layer_output(layers.UpSampling2D((2, 2)), ref["upsampling_2/x"])
    for case, make in RNN.items():
        w = [ref[f"{case}/w{i}"] for i in range(3)]
        out[f"{case}/y"] = _layer_output(make(), ref[f"{case}/x"], w)

    for case, make_optimizer in SEED_OPTIMIZERS.items():
        model = seed_cnn()
        model.set_weights([ref[f"{case}/w0_{i}"] for i in range(6)])
        x, y = ref[f"{case}/x"], ref[f"{case}/y"]
        out[f"{case}/pred0"] = model.predict(x, verbose=0)
        model.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        for i, w in enumerate(model.get_weights()):
            out[f"{case}/w2_{i}"] = w
    out["param_counts/seedA"] = np.asarray(seed_cnn().count_params(), dtype=np.int64)

    case = "batchnorm_fit"
    x, y = ref[f"{case}/x"], ref[f"{case}/y"]
    model = keras.Sequential([keras.Input((x.shape[1],)), layers.BatchNormalization(),
                              layers.Dense(2)])
    model.set_weights([ref[f"{case}/w0_{i}"] for i in range(6)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        out[f"{case}/w2_{i}"] = w
    out[f"{case}/pred"] = model.predict(x, verbose=0)

    A, b = ref["quadratic/A"], ref["quadratic/b"]
    for name, make in OPTIMIZERS.items():
        p = keras.Variable(ref["quadratic/p0"].copy())
        optimizer = make()
        trajectory = []
        for _ in range(20):
            value = keras.ops.convert_to_numpy(p)
            grad = (2.0 * A.T @ (A @ value - b)).astype(np.float32)  # d ||A p - b||^2 / dp
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(grad), p)])
            trajectory.append(keras.ops.convert_to_numpy(p))
        out[f"optim_{name}/trajectory"] = np.stack(trajectory)

    probs, labels = ref["losses/probs"], ref["losses/labels"]
    onehot = np.eye(probs.shape[1], dtype=np.float32)[labels]
    out["losses/sparse_cce"] = keras.ops.convert_to_numpy(
        keras.losses.sparse_categorical_crossentropy(labels, probs))
    out["losses/bce"] = keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(onehot, probs))
    return out


def check(ref, out):
    """Compare recomputed outputs with the stored ones; return the number of mismatches."""
    bad = 0
    for key, value in sorted(out.items()):
        stored = ref[key]
        rtol = 1e-4 if any(mark in key for mark in TRAINED) else 1e-5
        ok = stored.shape == value.shape and np.allclose(value, stored, rtol=rtol, atol=1e-6)
        diff = float(np.max(np.abs(value.astype(np.float64) - stored))) if stored.shape == \
            value.shape and stored.size else 0.0
        print(f"{'ok ' if ok else 'BAD'} {key:32s} max abs diff {diff:.3g}")
        bad += not ok
    return bad


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default=str(HERE / "keras_reference.npz"),
                        help="reference file whose inputs are reused")
    parser.add_argument("--out", help="write the inputs and recomputed outputs here")
    parser.add_argument("--check", action="store_true",
                        help="compare the recomputed outputs with those in --inputs")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    with np.load(args.inputs, allow_pickle=False) as data:
        ref = {key: data[key] for key in data.files}
    out = compute(ref)
    # "y" is an output of the layer cases and an input (labels, targets) of the fit cases
    fit_cases = (*SEED_OPTIMIZERS, "batchnorm_fit")
    missing = sorted(key for key in ref if key not in out and key.rsplit("/", 1)[-1] in
                     ("y", "pred0", "pred", "trajectory", "sparse_cce", "bce")
                     and not (key.endswith("/y") and key.split("/")[0] in fit_cases))
    if missing:
        print("outputs not recomputed:", missing)
    if args.out:
        np.savez(args.out, **{**ref, **{k: np.asarray(v) for k, v in out.items()}})
        print(f"wrote {args.out} ({len(ref)} keys, {len(out)} recomputed)")
    if args.check:
        bad = check(ref, out)
        print(f"{len(out)} outputs recomputed, {bad} differ")
        return 1 if bad or missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
