"""First contact: a two-layer network learns XOR, the classic problem a linear model cannot solve.

    python examples/xor.py
"""

import numpy as np

import npgrad


def main(argv=None):
    npgrad.utils.set_random_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    model = npgrad.Sequential([
        npgrad.layers.Dense(8, activation="tanh", input_shape=(2,)),
        npgrad.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=npgrad.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    probabilities = model.predict(x, verbose=0).ravel()
    for inputs, p in zip(x, probabilities):
        print(f"{inputs.astype(int)} -> {p:.3f}")
    print(f"final loss {history.history['loss'][-1]:.4f}, "
          f"accuracy {history.history['accuracy'][-1]:.2f}")
    return probabilities


if __name__ == "__main__":
    main()
