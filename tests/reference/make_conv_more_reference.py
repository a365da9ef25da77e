"""Regenerate tests/reference/conv_more/keras_conv_more.npz with Keras 3 (torch backend).

Run from the repository root:

    KERAS_BACKEND=torch /work/refenv/bin/python tests/reference/make_conv_more_reference.py

For every case of :data:`CASES` (a Keras layer class name, its config and an input shape) it
builds ``Sequential([Input, layer])``, sets seeded random weights (biases too, so they are
checked), records the prediction, then takes one ``train_on_batch`` step of ``SGD(0.1)`` on
the mean squared error to a seeded random target and records the weights after it.

Keys: ``CASE/config`` (JSON: class_name, config), ``CASE/x``, ``CASE/target``, ``CASE/w0_i``
(weights before, get_weights order), ``CASE/y`` (prediction), ``CASE/w1_i`` (after the step).
All float32. ``convlstm2d_masked/`` holds a ConvLSTM2D called with a timestep mask
(:func:`keras_masked_reference`). Both functions are also used by
tests/layers/test_conv_more_keras.py to recompute the cases live when Keras is installed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).resolve().parent / "conv_more" / "keras_conv_more.npz"
LEARNING_RATE = 0.1

# name: (Keras class name, config, input shape with batch)
CASES = {
    "conv3d_same_s121": ("Conv3D", dict(filters=3, kernel_size=(2, 3, 2), strides=(1, 2, 1),
                                        padding="same"), (2, 4, 5, 6, 2)),
    "conv3d_groups": ("Conv3D", dict(filters=4, kernel_size=2, groups=2), (2, 3, 4, 3, 4)),
    "conv2d_groups_same": ("Conv2D", dict(filters=6, kernel_size=3, groups=3, padding="same"),
                           (2, 6, 7, 3)),
    "conv1d_groups_causal": ("Conv1D", dict(filters=4, kernel_size=3, groups=2,
                                            padding="causal", dilation_rate=2), (2, 9, 4)),
    "conv1d_transpose_same": ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2,
                                                      padding="same"), (2, 5, 2)),
    "conv1d_transpose_outpad": ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=3,
                                                        output_padding=1), (2, 4, 3)),
    "conv3d_transpose_same": ("Conv3DTranspose", dict(filters=2, kernel_size=(2, 3, 3),
                                                      strides=2, padding="same"), (2, 2, 3, 2, 3)),
    "depthwise2d_same_s2": ("DepthwiseConv2D", dict(kernel_size=3, strides=2, padding="same",
                                                    depth_multiplier=2), (2, 7, 6, 3)),
    "depthwise1d_dilated": ("DepthwiseConv1D", dict(kernel_size=3, dilation_rate=2), (2, 9, 3)),
    "separable2d_same": ("SeparableConv2D", dict(filters=4, kernel_size=3, padding="same",
                                                 depth_multiplier=2), (2, 6, 5, 3)),
    "separable1d_s2": ("SeparableConv1D", dict(filters=4, kernel_size=3, strides=2), (2, 9, 2)),
    "convlstm2d_seq": ("ConvLSTM2D", dict(filters=3, kernel_size=3, padding="same",
                                          return_sequences=True), (2, 4, 5, 5, 2)),
    "convlstm1d_last": ("ConvLSTM1D", dict(filters=2, kernel_size=3), (2, 3, 7, 2)),
    "convlstm1d_s2_same": ("ConvLSTM1D", dict(filters=2, kernel_size=3, strides=2,
                                              padding="same", return_sequences=True),
                           (2, 3, 7, 2)),
    "convlstm3d_same": ("ConvLSTM3D", dict(filters=2, kernel_size=2, padding="same"),
                        (2, 2, 3, 3, 3, 1)),
    "conv1d_transpose_dilated": ("Conv1DTranspose", dict(filters=2, kernel_size=3,
                                                         dilation_rate=2), (2, 5, 3)),
    "depthwise2d_m3_valid": ("DepthwiseConv2D", dict(kernel_size=(2, 3), depth_multiplier=3),
                             (2, 5, 6, 2)),
    "maxpool3d_valid": ("MaxPooling3D", dict(pool_size=2, strides=(1, 2, 2)), (2, 4, 5, 5, 2)),
    "maxpool3d_same": ("MaxPooling3D", dict(pool_size=3, strides=2, padding="same"),
                       (2, 5, 5, 5, 2)),
    "avgpool3d_valid": ("AveragePooling3D", dict(pool_size=(2, 2, 3)), (2, 4, 5, 6, 2)),
    "globalmax3d": ("GlobalMaxPooling3D", dict(), (2, 3, 4, 2, 3)),
    "globalavg3d_keepdims": ("GlobalAveragePooling3D", dict(keepdims=True), (2, 3, 4, 2, 3)),
    "adaptive_avg1d": ("AdaptiveAveragePooling1D", dict(output_size=4), (2, 10, 3)),
    "adaptive_max1d": ("AdaptiveMaxPooling1D", dict(output_size=3), (2, 7, 3)),
    "adaptive_avg2d": ("AdaptiveAveragePooling2D", dict(output_size=(3, 4)), (2, 7, 9, 3)),
    "adaptive_max2d": ("AdaptiveMaxPooling2D", dict(output_size=(4, 2)), (2, 9, 5, 2)),
}


def _seed(name):
    return sum(ord(ch) * (i + 1) for i, ch in enumerate(name)) % (2**31)


def case_inputs(name):
    """Seeded input and target-noise generator for a case (the same in Keras and npgrad)."""
    _, _, shape = CASES[name]
    rng = np.random.default_rng(_seed(name))
    return rng, rng.standard_normal(shape).astype("float32")


def keras_reference(name):
    """Compute one case with Keras; returns a dict of arrays (keys without the case prefix)."""
    import keras

    class_name, config, shape = CASES[name]
    rng, x = case_inputs(name)
    layer = getattr(keras.layers, class_name)(**config)
    model = keras.Sequential([keras.Input(shape[1:]), layer])
    weights = [(0.3 * rng.standard_normal(w.shape)).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    y = np.asarray(model.predict(x, verbose=0))
    target = rng.standard_normal(y.shape).astype("float32")
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    model.train_on_batch(x, target)
    out = {"config": np.asarray(json.dumps({"class_name": class_name, "config": config})),
           "x": x, "target": target, "y": y}
    out.update({f"w0_{i}": w for i, w in enumerate(weights)})
    out.update({f"w1_{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    return out


MASKED = "convlstm2d_masked"


def keras_masked_reference():
    """ConvLSTM2D(3, 3, padding='same', return_sequences=True) called with a timestep mask
    (right padding in one sample, left padding in the other): x, mask, w0_i, y (forward)."""
    import keras

    rng = np.random.default_rng(_seed(MASKED))
    x = rng.standard_normal((2, 5, 4, 4, 2)).astype("float32")
    mask = np.array([[True, True, True, False, False], [False, True, True, True, True]])
    layer = keras.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    layer.build(x.shape)
    weights = [(0.3 * rng.standard_normal(w.shape)).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    y = keras.ops.convert_to_numpy(layer(x, mask=mask))
    out = {"x": x, "mask": mask, "y": y}
    out.update({f"w0_{i}": w for i, w in enumerate(weights)})
    return out


def main():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    arrays = {}
    for name in CASES:
        for key, value in keras_reference(name).items():
            arrays[f"{name}/{key}"] = value
    for key, value in keras_masked_reference().items():
        arrays[f"{MASKED}/{key}"] = value
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUTPUT, **arrays)
    print(f"wrote {len(CASES)} cases, {len(arrays)} arrays to {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
