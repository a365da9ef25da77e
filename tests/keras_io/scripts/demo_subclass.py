# Adapted for npgrad from https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/examples/demo_subclass.py
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


class MyModel(Model):
    def __init__(self, hidden_dim, output_dim):
        super().__init__()
        self.dense1 = layers.Dense(hidden_dim, activation="relu")
        self.dense2 = layers.Dense(hidden_dim, activation="relu")
        self.dense3 = layers.Dense(output_dim)

    def call(self, x):
        x = self.dense1(x)
        x = self.dense2(x)
        return self.dense3(x)


model = MyModel(hidden_dim=256, output_dim=16)

x = np.random.random((2000, 128))  # npgrad: shortened
y = np.random.random((2000, 16))  # npgrad: shortened
batch_size = 32
epochs = 2  # npgrad: shortened

model.compile(
    optimizer=optimizers.SGD(learning_rate=0.001),
    loss=losses.MeanSquaredError(),
    metrics=[metrics.MeanSquaredError()],
)
history = model.fit(
    x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2
)

print("History:")
print(history.history)

model.summary()
