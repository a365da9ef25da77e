"""Run by the reference interpreter (Keras 3, torch backend): load a .keras file and predict.

Usage: python keras_predict.py MODEL.keras INPUTS.npz OUTPUTS.npz [RESAVED.keras]
INPUTS.npz holds x0, x1... (one per model input); OUTPUTS.npz gets y0, y1... and "iterations"
(the optimizer's step count, -1 when the model is not compiled). With RESAVED.keras, Keras
also saves the model it loaded there (a file written by Keras itself, all its defaults in).
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np


def main(model_path, inputs_path, outputs_path, resaved_path=None):
    model = keras.models.load_model(model_path)
    with np.load(inputs_path) as data:
        xs = [data[f"x{i}"] for i in range(len(data.files))]
    y = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    ys = y if isinstance(y, (list, tuple)) else [y]
    optimizer = getattr(model, "optimizer", None)
    iterations = -1 if optimizer is None else int(optimizer.iterations)
    np.savez(outputs_path, iterations=iterations,
             **{f"y{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(ys)})
    if resaved_path:
        model.save(resaved_path)


if __name__ == "__main__":
    main(*sys.argv[1:5])
