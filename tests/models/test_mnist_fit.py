"""A short fit of the seed CNN on a real-MNIST subset reaches a fixed accuracy."""

import numpy as np

import npgrad


def test_seed_cnn_learns_real_mnist_subset(mnist_data):
    (x_train, y_train), (x_test, y_test) = mnist_data
    x = (x_train[:3000].astype(np.float32) / 255)[..., None]
    xt = (x_test[:1000].astype(np.float32) / 255)[..., None]
    npgrad.utils.set_random_seed(0)
    L = npgrad.layers
    model = npgrad.Sequential([
        npgrad.Input((28, 28, 1)),
        L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
        L.Flatten(), L.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y_train[:3000], epochs=2, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(xt, y_test[:1000], verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert accuracy >= 0.88, accuracy  # 3,000 images, 2 epochs; a broken gradient stays far below
