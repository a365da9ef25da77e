"""Write tests/reference/trainer_pin.npz: the seed CNN's weights and History after a short fit.

Run once with the trainer as it was before the Keras 3 split (commit 486225d); the test
tests/models/test_trainer_pin.py then checks that today's trainer reproduces it bit for bit.

    PYTHONPATH=src python tests/reference/make_trainer_pin.py
"""

from pathlib import Path

import numpy as np

import npgrad


def seed_cnn_run():
    """Fit the seed CNN for 2 epochs on fixed synthetic digits; (weights, history).

    BLAS products round differently with another thread count, so the run uses one thread.
    """
    previous = npgrad.utils.set_num_threads(1)
    try:
        return _fit()
    finally:
        npgrad.utils.set_num_threads(previous)


def _fit():
    npgrad.utils.set_random_seed(1234)
    rng = np.random.default_rng(7)
    x = rng.random((160, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 160)
    model = npgrad.Sequential([
        npgrad.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        npgrad.layers.MaxPooling2D((2, 2)),
        npgrad.layers.Flatten(),
        npgrad.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=2, validation_split=0.2, verbose=0,
                        class_weight={0: 2.0, 3: 0.5})
    return model.get_weights(), history.history


if __name__ == "__main__":
    weights, history = seed_cnn_run()
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    arrays.update({f"h_{k}": np.asarray(v) for k, v in history.items()})
    out = Path(__file__).resolve().parent / "trainer_pin.npz"
    np.savez(out, **arrays)
    print("wrote", out, sorted(arrays))
