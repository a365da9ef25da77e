"""Small models nobody tuned npgrad for, against PyTorch: where a plain model meets a cliff.

    python benchmarks/bench_untuned.py                   # every model, 7 rounds
    python benchmarks/bench_untuned.py --only mlp,bigru --rounds 9

``bench_workloads.py`` holds the workloads the performance issue named and the ones later
stops tuned; ``bench_layers.py`` single layers. This one trains small whole models of the
kinds tutorials start with, through ``train_on_batch`` (a compiled model, Adam, float32) and
PyTorch's usual loop, 2 threads each, 10 steps a round, rounds interleaved (``harness``):

- ``mlp``: Dense(512, relu) + Dropout(0.2) + Dense(512, relu) + Dropout(0.2) + Dense(10) on
  784 features, batch 128 (Keras's "MNIST MLP" example).
- ``autoencoder``: a convolutional autoencoder on 28x28x1 images, batch 64: Conv2D(32, 3,
  stride 2) + Conv2D(64, 3, stride 2), then Conv2DTranspose(64, 3, stride 2) +
  Conv2DTranspose(32, 3, stride 2) + Conv2D(1, 3, sigmoid), 'same' padding, ReLU, binary
  cross-entropy.
- ``bigru``: Embedding(20000, 64) + Bidirectional(GRU(32)) + Dense(1, sigmoid) on 100-token
  sequences, batch 32.
- ``conv_lstm``: a time-series regressor, Conv1D(32, 5, relu) + MaxPooling1D(2) + LSTM(32) +
  Dense(1) on (120, 8) windows, batch 64, mean squared error.

Prints a markdown table of medians and ratios and writes
benchmarks/results/untuned-<time>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import (compare, import_torch, limit_threads, print_table, torch_training,
                     write_json)

import npgrad

STEPS = 10
NAMES = {
    "mlp": "MLP 784 -> 512 -> 512 -> 10 with dropout, batch 128",
    "autoencoder": "conv autoencoder (2 strided convs, 2 strided transposed), 28x28, batch 64",
    "bigru": "Embedding(20000, 64) + Bidirectional(GRU(32)) + Dense, 100 tokens, batch 32",
    "conv_lstm": "Conv1D(32, 5) + MaxPooling1D + LSTM(32) + Dense regressor, 120 x 8, batch 64",
}
BATCHES = {"mlp": 128, "autoencoder": 64, "bigru": 32, "conv_lstm": 64}


def data(kind, rng):
    """Inputs and targets for :data:`STEPS` batches (channels last for the images)."""
    n = STEPS * BATCHES[kind]
    if kind == "mlp":
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
    if kind == "autoencoder":
        x = rng.random((n, 28, 28, 1), dtype=np.float32)
        return x, x
    if kind == "bigru":
        return rng.integers(0, 20000, (n, 100)), rng.integers(0, 2, n).astype(np.float32)
    return rng.random((n, 120, 8), dtype=np.float32), rng.random((n, 1), dtype=np.float32)


def npgrad_model(kind):
    """The compiled npgrad model of ``kind``."""
    L = npgrad.layers
    if kind == "mlp":
        layers = [npgrad.Input((784,)), L.Dense(512, activation="relu"), L.Dropout(0.2),
                  L.Dense(512, activation="relu"), L.Dropout(0.2),
                  L.Dense(10, activation="softmax")]
        loss = "sparse_categorical_crossentropy"
    elif kind == "autoencoder":
        conv = dict(strides=2, padding="same", activation="relu")
        layers = [npgrad.Input((28, 28, 1)), L.Conv2D(32, 3, **conv), L.Conv2D(64, 3, **conv),
                  L.Conv2DTranspose(64, 3, **conv), L.Conv2DTranspose(32, 3, **conv),
                  L.Conv2D(1, 3, padding="same", activation="sigmoid")]
        loss = "binary_crossentropy"
    elif kind == "bigru":
        layers = [npgrad.Input((100,), dtype="int32"), L.Embedding(20000, 64),
                  L.Bidirectional(L.GRU(32)), L.Dense(1, activation="sigmoid")]
        loss = "binary_crossentropy"
    else:
        layers = [npgrad.Input((120, 8)), L.Conv1D(32, 5, activation="relu"),
                  L.MaxPooling1D(2), L.LSTM(32), L.Dense(1)]
        loss = "mse"
    model = npgrad.Sequential(layers)
    model.compile(optimizer="adam", loss=loss)
    return model


def torch_model(kind, torch):
    """The PyTorch model of ``kind`` (logits where npgrad ends in a sigmoid or softmax) and
    its loss."""
    nn = torch.nn
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(512, 10))
        return model, nn.CrossEntropyLoss()
    if kind == "autoencoder":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 64, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.Conv2d(32, 1, 3, 1, 1))
        return model, nn.BCEWithLogitsLoss()

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            if kind == "bigru":
                self.embed = nn.Embedding(20000, 64)
                self.rnn = nn.GRU(64, 32, batch_first=True, bidirectional=True)
                self.head = nn.Linear(64, 1)
            else:
                self.conv = nn.Conv1d(8, 32, 5)
                self.rnn = nn.LSTM(32, 32, batch_first=True)
                self.head = nn.Linear(32, 1)

        def forward(self, x):
            if kind == "bigru":
                _, h = self.rnn(self.embed(x))  # h: (2, N, 32), each direction's last state
                return self.head(torch.cat([h[0], h[1]], dim=1)).squeeze(1)
            z = torch.relu(self.conv(x.transpose(1, 2)))  # (N, C, L), PyTorch's layout
            z = torch.nn.functional.max_pool1d(z, 2).transpose(1, 2)
            _, (h, _) = self.rnn(z)
            return self.head(h[0])

    loss = nn.BCEWithLogitsLoss() if kind == "bigru" else nn.MSELoss()
    return Recurrent(), loss


def trainers(kind, torch, rng):
    """(npgrad round, PyTorch round or None): :data:`STEPS` training steps each."""
    x, y = data(kind, rng)
    size = BATCHES[kind]
    model = npgrad_model(kind)

    def npgrad_round():
        for i in range(STEPS):
            model.train_on_batch(x[i * size:(i + 1) * size], y[i * size:(i + 1) * size])

    if torch is None:
        return npgrad_round, None
    net, loss_fn = torch_model(kind, torch)
    images = kind == "autoencoder"  # NHWC -> NCHW, PyTorch's layout
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if images else x)
    ys = torch.from_numpy(np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if images else y)
    return npgrad_round, torch_training(net, loss_fn, xs, ys, size, STEPS, torch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", default=",".join(NAMES), help="comma list of " + ",".join(NAMES))
    args = parser.parse_args()
    kinds = [k for k in args.only.split(",") if k]
    unknown = sorted(set(kinds) - set(NAMES))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {sorted(NAMES)}")
    limit_threads()
    torch = import_torch()
    rng = np.random.default_rng(0)
    results = [compare(f"{NAMES[kind]}, {STEPS} steps", *trainers(kind, torch, rng),
                       rounds=args.rounds) for kind in kinds]
    print_table(results, "untuned models: training steps, medians")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, Path(__file__).parent / "results" / f"untuned-{stamp}.json")


if __name__ == "__main__":
    main()
