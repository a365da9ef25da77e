# Adapted for npgrad from https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/examples/demo_functional.py
# Original work published by keras-team (its author, where named, in the docstring below)
# under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Changes from the original: the Keras imports are swapped for npgrad; lines marked
# "# npgrad:" use small local data instead of a download or shorten training, so that the
# script runs in seconds on one CPU core. Nothing else is changed.
import numpy as np

from npgrad import Model
from npgrad import layers
from npgrad import losses
from npgrad import metrics
from npgrad import optimizers
import npgrad as keras

keras.config.disable_traceback_filtering()

inputs = layers.Input((100,))
x = layers.Dense(512, activation="relu")(inputs)
residual = x
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(512, activation="relu")(x)
x += residual
x = layers.Dense(512, activation="relu")(x)
residual = x
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(512, activation="relu")(x)
x += residual
residual = x
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(512, activation="relu")(x)
x += residual
outputs = layers.Dense(16)(x)
model = Model(inputs, outputs)

model.summary()

x = np.random.random((2000, 100))  # npgrad: shortened
y = np.random.random((2000, 16))  # npgrad: shortened
batch_size = 32
epochs = 2  # npgrad: shortened

model.compile(
    optimizer=optimizers.Adam(learning_rate=0.001),
    loss=losses.MeanSquaredError(),
    metrics=[
        metrics.CategoricalAccuracy(name="acc"),
        metrics.MeanSquaredError(name="mse"),
    ],
)

print("\nTrain model")
history = model.fit(
    x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2
)
print("\nHistory:")
print(history.history)

print("\nEvaluate model")
scores = model.evaluate(x, y, return_dict=True)
print(scores)

print("\nRun inference")
pred = model.predict(x)
print(f"Inferred output shape {pred.shape}")
