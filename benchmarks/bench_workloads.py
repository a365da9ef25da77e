"""Workloads beyond the seed CNN (issue 17): npgrad against PyTorch on the CPU, side by side.

    python benchmarks/bench_workloads.py                       # every workload, 5 rounds
    python benchmarks/bench_workloads.py --only resnet,lstm --rounds 7 --steps 3
    python benchmarks/bench_workloads.py --only memory         # peak memory of each workload

Workloads (the same model, data, batches and optimizer in both libraries, float32, Adam,
2 threads each, batch 64):

- ``resnet``: a CIFAR-shaped residual net (32x32x3 -> Conv16 + BN + ReLU, a residual block
  of 16, strided residual blocks of 32 and 64 with 1x1 shortcut convs + BN, global average
  pooling, Dense 10). Every conv is 'same'-padded and bias-free, followed by
  BatchNormalization; the residual Add is followed by ReLU.
- ``lstm`` / ``gru``: Embedding(5000, 64) + LSTM(64) or GRU(64) + Dense(2) on 80-step
  sequences of token ids.
- ``bilstm``: Keras's "bidirectional LSTM on IMDB" example: Embedding(20000, 128), two
  Bidirectional(LSTM(64)) layers (the first with ``return_sequences``), Dense(1, sigmoid),
  binary cross-entropy, 200-token reviews, batch 32 (PyTorch: ``nn.LSTM(bidirectional=True)``
  and ``BCEWithLogitsLoss``).
- ``conv1d``: a text CNN, Embedding(5000, 64) + Conv1D(64, 5, same, relu) + MaxPooling1D(2)
  + Conv1D(64, 5, relu) + GlobalAveragePooling1D + Dense(2) on 200-step sequences.
- ``dcgan``: one DCGAN step (a discriminator update on 64 real + 64 fake images, then a
  generator update on 64 latent vectors) with the networks of ``examples/gan_mnist.py``:
  Conv2DTranspose + BN + ReLU generator, strided Conv2D + BN + LeakyReLU discriminator.
- ``transformer``: a post-norm Transformer encoder classifier on (64, 64, 32) float
  sequences: Dense(128) projection, MultiHeadAttention(4 heads of 32) self-attention +
  residual + LayerNormalization, Dense(512, relu) -> Dense(128) + residual +
  LayerNormalization, GlobalAveragePooling1D, Dense(10); PyTorch: ``nn.Linear``,
  ``nn.MultiheadAttention(batch_first=True)``, ``nn.LayerNorm(eps=1e-3)`` (Keras's epsilon).
- ``gelu``: the same encoder with Dense(512, gelu) (exact erf GELU, Keras's and PyTorch's
  default) in the FFN.
- ``cifarcnn``: the classic Keras CIFAR-10 CNN example (Conv2D(32, 3, same) + ReLU,
  Conv2D(32, 3) + ReLU, MaxPooling2D, Dropout(0.25), the same with 64 filters, Flatten,
  Dense(512, relu), Dropout(0.5), Dense(10)) on 32x32x3 images: a convolutional net of the
  kind people train that no fast path was written for.
- ``seedcnn``: the seed model A of ``bench_models.py`` (Conv2D 32 + MaxPool + Conv2D 64 +
  MaxPool + Dense 10) on random 28x28 digits, batch 32 (for the busy comparison).
- ``mobilenet``: Keras's MobileNetV2 pattern on 32x32x3 images: Conv2D(32, 3, stride 2) +
  BN + ReLU6, eight inverted residual blocks (1x1 expansion x6 + BN + ReLU6, depthwise 3x3
  (stride 1 or 2) + BN + ReLU6, 1x1 projection + BN, a residual Add where the shapes
  match), a 1x1 Conv2D(320) + BN + ReLU6 head, global average pooling, Dense(10).
  PyTorch: grouped ``nn.Conv2d(groups=channels)`` and ``nn.ReLU6``.
- ``unet``: Keras's U-Net-like segmentation example (``unet_models.py``): separable convs,
  overlapping max pools, Conv2DTranspose, UpSampling2D, residual adds and a per-pixel
  softmax over 3 classes, 64x64x3 images, batch 16.
- ``textavg``: a bag-of-embeddings text classifier (fastText style, the first model of many
  text tutorials): Embedding(20000, 128) + GlobalAveragePooling1D + Dense(64, relu) +
  Dense(1, sigmoid) on Keras's IMDB example's 200-token reviews, batch 32. Its 2.56 M-value
  table makes the step mostly the table's gradient and Adam's update of it.
- ``memory``: each workload in a fresh process per library, peak resident memory over the
  resident memory just before training (the training's own footprint), for npgrad plus the
  growth of its helper process where the recurrent ops split their batch with one
  (``npgrad.primitives.batch_halves``); ``--replicas 2`` adds npgrad under
  ``DataParallel(threads=2)``.

``--busy`` starts one competing CPU-bound process (a pure-Python loop, pinned to no core) for
the whole run, waits ``--busy-warmup`` seconds for the load average to see it, and runs every
library at its DEFAULT threading: npgrad without ``set_num_threads`` (``fit`` adapts BLAS's
threads to the load), PyTorch with its own ``torch.get_num_threads()``. ``--default-threads``
does the same without the competitor (the quiet machine at the defaults).

npgrad trains through ``Model.fit`` (``GAN.train_on_batch`` for the DCGAN) and PyTorch with
its usual loop. Rounds alternate between the libraries; the table quotes medians, and the
ratio of the medians is what to compare (the machine may be shared). Raw timings go to
benchmarks/results/workloads-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_models  # noqa: E402
import unet_models  # noqa: E402
from harness import (compare, import_torch, limit_threads, print_table,  # noqa: E402
                     torch_training, write_json)

import npgrad  # noqa: E402

BATCH = 64
VOCAB, EMBED, TEXT_STEPS, CNN_TEXT_STEPS = 5000, 64, 80, 200
LATENT, GAN_WIDTH = 100, 64
SEQ, FEATURES, D_MODEL, HEADS, FFN = 64, 32, 128, 4, 512
TARGETS = {"resnet": 1.2, "lstm": 1.0, "gru": 1.0, "bilstm": 1.0, "conv1d": 1.2, "dcgan": 1.2,
           "transformer": 1.2, "gelu": 1.2, "cifarcnn": 1.2, "seedcnn": 0.8, "mobilenet": 1.2,
           "unet": 1.2, "textavg": 1.2}
#: MobileNetV2's inverted residual blocks on CIFAR: (expansion, output channels, stride)
MOBILENET_BLOCKS = ((1, 16, 1), (6, 24, 1), (6, 24, 1), (6, 32, 2), (6, 32, 1), (6, 64, 2),
                    (6, 64, 1), (6, 96, 1))
BATCHES = {"seedcnn": 32, "unet": 16, "bilstm": 32, "textavg": 32}  # the rest use BATCH
#: workloads with binary float labels and binary cross-entropy (the rest: sparse categorical)
BINARY = ("bilstm", "textavg")
#: Keras's IMDB example: vocabulary, review length, embedding, units per direction
IMDB_VOCAB, IMDB_STEPS, IMDB_EMBED, IMDB_UNITS = 20000, 200, 128, 64
NAMES = {
    "resnet": "ResNet (3 stages, BN, residual, 32x32x3) train, batch 64",
    "lstm": "Embedding(5000, 64) + LSTM(64) + Dense train, 80 steps, batch 64",
    "gru": "Embedding(5000, 64) + GRU(64) + Dense train, 80 steps, batch 64",
    "bilstm": "Keras's IMDB example: Embedding(20000, 128) + 2 x Bidirectional(LSTM(64)) + "
              "Dense(1, sigmoid) train, 200 steps, batch 32",
    "conv1d": "Embedding + 2 x Conv1D(64, 5) text CNN train, 200 steps, batch 64",
    "dcgan": "DCGAN step (D on 64 real + 64 fake, then G), 28x28",
    "cifarcnn": "the Keras CIFAR-10 CNN example (4 convs, 2 pools, dropout, Dense 512) train, "
                "batch 64",
    "seedcnn": "seed CNN model A train, batch 32",
    "mobilenet": "MobileNetV2-style net (8 inverted residual blocks: 1x1, depthwise 3x3, BN, "
                 "ReLU6) train, 32x32x3, batch 64",
    "unet": f"U-Net-like segmentation net (Keras example: separable convs, Conv2DTranspose, "
            f"upsampling) train, {unet_models.SIZE}x{unet_models.SIZE}x3, batch 16",
    "transformer": f"Transformer encoder (MHA {HEADS} heads, LayerNorm, FFN {FFN}) classifier "
                   f"train, {SEQ} x {D_MODEL}, batch 64",
    "textavg": "Embedding(20000, 128) + GlobalAveragePooling1D + Dense(64) + Dense(1, sigmoid) "
               "train, 200 steps, batch 32",
    "gelu": f"the Transformer encoder with a GELU (exact, erf) FFN, {SEQ} x {D_MODEL}, batch 64",
}


def data(kind, steps, seed=0):
    """Random inputs and labels for ``steps`` batches of the workload (NHWC / token ids)."""
    rng = np.random.default_rng(seed)
    n = steps * BATCHES.get(kind, BATCH)
    if kind == "seedcnn":
        return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)
    if kind in ("resnet", "cifarcnn", "mobilenet"):
        return rng.standard_normal((n, 32, 32, 3)).astype(np.float32), rng.integers(0, 10, n)
    if kind in ("lstm", "gru"):
        return rng.integers(1, VOCAB, (n, TEXT_STEPS)), rng.integers(0, 2, n)
    if kind in BINARY:  # labels as floats (binary cross-entropy)
        return rng.integers(1, IMDB_VOCAB, (n, IMDB_STEPS)), rng.integers(0, 2, n).astype("float32")
    if kind == "unet":
        size = unet_models.SIZE
        return (rng.standard_normal((n, size, size, 3)).astype(np.float32),
                rng.integers(0, unet_models.CLASSES, (n, size, size)))
    if kind == "conv1d":
        return rng.integers(1, VOCAB, (n, CNN_TEXT_STEPS)), rng.integers(0, 2, n)
    if kind in ("transformer", "gelu"):
        return rng.standard_normal((n, SEQ, FEATURES)).astype(np.float32), rng.integers(0, 10, n)
    return np.tanh(rng.standard_normal((n, 28, 28, 1))).astype(np.float32), None


# ----------------------------------------------------------------------------- npgrad
def npgrad_resnet():
    L = npgrad.layers

    def conv_bn(x, filters, kernel=3, strides=1, relu=True):
        x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        return L.ReLU()(x) if relu else x

    def block(x, filters, strides=1):
        shortcut = x
        y = conv_bn(x, filters, strides=strides)
        y = conv_bn(y, filters, relu=False)
        if strides != 1 or x.shape[-1] != filters:
            shortcut = conv_bn(x, filters, kernel=1, strides=strides, relu=False)
        return L.ReLU()(L.Add()([y, shortcut]))

    inputs = npgrad.Input(shape=(32, 32, 3))
    x = conv_bn(inputs, 16)
    x = block(x, 16)
    x = block(x, 32, strides=2)
    x = block(x, 64, strides=2)
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(10, activation="softmax")(x)
    return npgrad.Model(inputs, outputs)


def npgrad_mobilenet():
    """Keras's MobileNetV2 pattern on CIFAR: a stride-2 stem, inverted residual blocks
    (1x1 expansion, depthwise 3x3, 1x1 projection, each with batch norm, ReLU6 after the
    first two, a residual Add where the shapes allow), a 1x1 head conv, global pooling."""
    L = npgrad.layers

    def unit(x, layer, relu6=True):
        x = L.BatchNormalization()(layer(x))
        return L.ReLU(6.0)(x) if relu6 else x

    def block(x, expansion, filters, strides):
        channels = x.shape[-1]
        y = x if expansion == 1 else unit(x, L.Conv2D(channels * expansion, 1, use_bias=False))
        y = unit(y, L.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False))
        y = unit(y, L.Conv2D(filters, 1, use_bias=False), relu6=False)
        return L.Add()([x, y]) if strides == 1 and channels == filters else y

    inputs = npgrad.Input(shape=(32, 32, 3))
    x = unit(inputs, L.Conv2D(32, 3, strides=2, padding="same", use_bias=False))
    for expansion, filters, strides in MOBILENET_BLOCKS:
        x = block(x, expansion, filters, strides)
    x = unit(x, L.Conv2D(320, 1, use_bias=False))
    outputs = L.Dense(10, activation="softmax")(L.GlobalAveragePooling2D()(x))
    return npgrad.Model(inputs, outputs)


def npgrad_transformer(activation="relu"):
    L = npgrad.layers
    inputs = npgrad.Input(shape=(SEQ, FEATURES))
    x = L.Dense(D_MODEL)(inputs)
    attention = L.MultiHeadAttention(num_heads=HEADS, key_dim=D_MODEL // HEADS)(x, x)
    x = L.LayerNormalization()(L.Add()([x, attention]))
    ff = L.Dense(D_MODEL)(L.Dense(FFN, activation=activation)(x))
    x = L.LayerNormalization()(L.Add()([x, ff]))
    outputs = L.Dense(10, activation="softmax")(L.GlobalAveragePooling1D()(x))
    return npgrad.Model(inputs, outputs)


def npgrad_model(kind):
    L = npgrad.layers
    if kind == "resnet":
        return npgrad_resnet()
    if kind in ("transformer", "gelu"):
        return npgrad_transformer("relu" if kind == "transformer" else "gelu")
    if kind == "seedcnn":
        return bench_models.npgrad_model("A")
    if kind == "cifarcnn":
        return npgrad_cifar_cnn()
    if kind == "mobilenet":
        return npgrad_mobilenet()
    if kind == "unet":
        return unet_models.npgrad_unet(npgrad)
    if kind == "bilstm":
        return npgrad.Sequential([
            npgrad.Input(shape=(IMDB_STEPS,)), L.Embedding(IMDB_VOCAB, IMDB_EMBED),
            L.Bidirectional(L.LSTM(IMDB_UNITS, return_sequences=True)),
            L.Bidirectional(L.LSTM(IMDB_UNITS)), L.Dense(1, activation="sigmoid"),
        ])
    if kind == "textavg":
        return npgrad.Sequential([
            npgrad.Input(shape=(IMDB_STEPS,)), L.Embedding(IMDB_VOCAB, IMDB_EMBED),
            L.GlobalAveragePooling1D(), L.Dense(64, activation="relu"),
            L.Dense(1, activation="sigmoid"),
        ])
    if kind in ("lstm", "gru"):
        rnn = L.LSTM(EMBED) if kind == "lstm" else L.GRU(EMBED)
        return npgrad.Sequential([npgrad.Input(shape=(TEXT_STEPS,)), L.Embedding(VOCAB, EMBED),
                                  rnn, L.Dense(2, activation="softmax")])
    return npgrad.Sequential([
        npgrad.Input(shape=(CNN_TEXT_STEPS,)), L.Embedding(VOCAB, EMBED),
        L.Conv1D(64, 5, padding="same", activation="relu"), L.MaxPooling1D(2),
        L.Conv1D(64, 5, activation="relu"), L.GlobalAveragePooling1D(),
        L.Dense(2, activation="softmax"),
    ])


def npgrad_cifar_cnn():
    L = npgrad.layers
    return npgrad.Sequential([
        npgrad.Input(shape=(32, 32, 3)),
        L.Conv2D(32, 3, padding="same", activation="relu"), L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2), L.Dropout(0.25),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2), L.Dropout(0.25),
        L.Flatten(), L.Dense(512, activation="relu"), L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])


def npgrad_gan():
    L = npgrad.layers
    w = GAN_WIDTH
    generator = npgrad.Sequential([
        npgrad.Input(shape=(LATENT,)),
        L.Dense(7 * 7 * 2 * w, use_bias=False), L.BatchNormalization(), L.ReLU(),
        L.Reshape((7, 7, 2 * w)),
        L.Conv2DTranspose(w, 4, strides=2, padding="same", use_bias=False),
        L.BatchNormalization(), L.ReLU(),
        L.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ])
    discriminator = npgrad.Sequential([
        npgrad.Input(shape=(28, 28, 1)),
        L.Conv2D(w, 4, strides=2, padding="same"), L.LeakyReLU(0.2),
        L.Conv2D(2 * w, 4, strides=2, padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(0.2),
        L.Flatten(), L.Dense(1),
    ])
    gan = npgrad.models.GAN(generator, discriminator, latent_dim=LATENT)
    gan.compile()
    return gan


def npgrad_loss(kind):
    """The loss ``compile`` gets: binary cross-entropy for :data:`BINARY`, else sparse
    categorical cross-entropy."""
    return "binary_crossentropy" if kind in BINARY else "sparse_categorical_crossentropy"


def npgrad_trainer(kind, steps):
    x, y = data(kind, steps)
    if kind == "dcgan":
        gan = npgrad_gan()

        def run():
            for i in range(steps):
                gan.train_on_batch(x[i * BATCH:(i + 1) * BATCH])

        return run
    model = npgrad_model(kind)
    model.compile(optimizer="adam", loss=npgrad_loss(kind))

    def run():
        model.fit(x, y, batch_size=BATCHES.get(kind, BATCH), epochs=1, shuffle=False, verbose=0)

    return run


# ----------------------------------------------------------------------------- torch
def torch_modules(torch):
    nn = torch.nn

    def bn(c):  # Keras defaults: epsilon 1e-3, momentum 0.99 (PyTorch counts 1 - momentum)
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), bn(cout)
            self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), bn(cout)
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (x if self.shortcut is None else self.shortcut(x)))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), bn(16), nn.ReLU())
            self.blocks = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))

    class TextRNN(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(EMBED, EMBED, batch_first=True)
            self.head = nn.Linear(EMBED, 2)

        def forward(self, x):
            out, _ = self.rnn(self.embed(x))
            return self.head(out[:, -1])

    class BiLSTM(nn.Module):  # Keras's IMDB example; the head gives logits
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(IMDB_VOCAB, IMDB_EMBED)
            self.first = nn.LSTM(IMDB_EMBED, IMDB_UNITS, batch_first=True, bidirectional=True)
            self.second = nn.LSTM(2 * IMDB_UNITS, IMDB_UNITS, batch_first=True,
                                  bidirectional=True)
            self.head = nn.Linear(2 * IMDB_UNITS, 1)

        def forward(self, x):
            out, _ = self.first(self.embed(x))
            _, (h, _) = self.second(out)  # h: (2, N, U), the last state of each direction
            return self.head(torch.cat([h[0], h[1]], dim=1)).squeeze(1)

    class TextCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.conv1 = nn.Conv1d(EMBED, 64, 5, padding=2)
            self.conv2 = nn.Conv1d(64, 64, 5)
            self.head = nn.Linear(64, 2)

        def forward(self, x):
            h = self.embed(x).transpose(1, 2)  # (N, C, L), PyTorch's layout
            h = torch.max_pool1d(torch.relu(self.conv1(h)), 2)
            return self.head(torch.relu(self.conv2(h)).mean(dim=2))

    return ResNet, TextRNN, TextCNN, BiLSTM, bn


def torch_text_average(torch):
    """The ``textavg`` workload: mean of the review's embeddings, two dense layers (logits)."""
    nn = torch.nn

    class TextAverage(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(IMDB_VOCAB, IMDB_EMBED)
            self.head = nn.Sequential(nn.Linear(IMDB_EMBED, 64), nn.ReLU(), nn.Linear(64, 1))

        def forward(self, x):
            return self.head(self.embed(x).mean(dim=1)).squeeze(1)

    return TextAverage()


def torch_cifar_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 6 * 6, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10),
    )


def torch_mobilenet(torch):
    nn = torch.nn
    bn = torch_modules(torch)[-1]

    class Block(nn.Module):
        def __init__(self, cin, expansion, cout, stride):
            super().__init__()
            wide = cin * expansion
            layers = [] if expansion == 1 else [nn.Conv2d(cin, wide, 1, bias=False), bn(wide),
                                                nn.ReLU6()]
            layers += [nn.Conv2d(wide, wide, 3, stride, 1, groups=wide, bias=False), bn(wide),
                       nn.ReLU6(), nn.Conv2d(wide, cout, 1, bias=False), bn(cout)]
            self.body, self.residual = nn.Sequential(*layers), stride == 1 and cin == cout

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    layers, cin = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), bn(32), nn.ReLU6()], 32
    for expansion, cout, stride in MOBILENET_BLOCKS:
        layers.append(Block(cin, expansion, cout, stride))
        cin = cout
    layers += [nn.Conv2d(cin, 320, 1, bias=False), bn(320), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(320, 10)]
    return nn.Sequential(*layers)


def torch_transformer(torch, activation="relu"):
    nn = torch.nn
    act = torch.relu if activation == "relu" else torch.nn.functional.gelu

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Linear(FEATURES, D_MODEL)
            self.attention = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
            self.norm1 = nn.LayerNorm(D_MODEL, eps=1e-3)  # Keras's default epsilon
            self.ff1, self.ff2 = nn.Linear(D_MODEL, FFN), nn.Linear(FFN, D_MODEL)
            self.norm2 = nn.LayerNorm(D_MODEL, eps=1e-3)
            self.head = nn.Linear(D_MODEL, 10)

        def forward(self, x):
            x = self.project(x)
            x = self.norm1(x + self.attention(x, x, x, need_weights=False)[0])
            x = self.norm2(x + self.ff2(act(self.ff1(x))))
            return self.head(x.mean(dim=1))

    return Encoder()


def torch_gan(torch):
    nn = torch.nn
    w = GAN_WIDTH
    bn2d = torch_modules(torch)[-1]

    class View(nn.Module):
        def forward(self, x):
            return x.view(len(x), 2 * w, 7, 7)

    generator = nn.Sequential(
        nn.Linear(LATENT, 7 * 7 * 2 * w, bias=False), nn.BatchNorm1d(7 * 7 * 2 * w, eps=1e-3, momentum=0.01),
        nn.ReLU(), View(),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), bn2d(w), nn.ReLU(),
        nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), bn2d(2 * w), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * w * 7 * 7, 1),
    )
    return generator, discriminator


def torch_trainer(kind, steps, torch):
    x, y = data(kind, steps)
    if kind == "dcgan":
        return torch_gan_trainer(torch, x, steps)
    ResNet, TextRNN, TextCNN, BiLSTM, _ = torch_modules(torch)
    if kind in ("transformer", "gelu"):
        model = torch_transformer(torch, "relu" if kind == "transformer" else "gelu")
    elif kind == "seedcnn":
        model = bench_models.torch_model("A", torch)
    elif kind == "cifarcnn":
        model = torch_cifar_cnn(torch)
    elif kind == "mobilenet":
        model = torch_mobilenet(torch)
    elif kind == "unet":
        model = unet_models.torch_unet(torch)
    elif kind == "bilstm":
        model = BiLSTM()
    elif kind == "textavg":
        model = torch_text_average(torch)
    else:
        model = ResNet() if kind == "resnet" else TextCNN() if kind == "conv1d" else TextRNN(kind)
    loss_fn = torch.nn.BCEWithLogitsLoss() if kind in BINARY else torch.nn.CrossEntropyLoss()
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x)
    return torch_training(model, loss_fn, xs, torch.from_numpy(y), BATCHES.get(kind, BATCH),
                          steps, torch)


def torch_gan_trainer(torch, x, steps):
    generator, discriminator = torch_gan(torch)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    bce = torch.nn.BCEWithLogitsLoss()
    xs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def run():
        for i in range(steps):
            real = xs[i * BATCH:(i + 1) * BATCH]
            with torch.no_grad():
                fake = generator(torch.randn(BATCH, LATENT))
            d_opt.zero_grad()
            real_logits, fake_logits = discriminator(real), discriminator(fake)
            loss = (bce(real_logits, torch.ones_like(real_logits))
                    + bce(fake_logits, torch.zeros_like(fake_logits))) * 0.5
            loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            logits = discriminator(generator(torch.randn(BATCH, LATENT)))
            bce(logits, torch.ones_like(logits)).backward()
            g_opt.step()

    return run


# ----------------------------------------------------------------------------- memory
def _rss_mib(field="VmRSS:", pid="self"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    raise OSError(f"{field} not in /proc/{pid}/status")


def memory_child(library, kind, steps, replicas=0):
    """Train ``steps`` batches of ``kind``; print the peak RSS over the RSS before training.
    With ``replicas``, npgrad trains under ``DataParallel(threads=replicas)``."""
    import gc

    limit_threads()
    if replicas and library == "npgrad":
        npgrad.distribution.set_distribution(npgrad.distribution.DataParallel(threads=replicas))
    torch = import_torch()
    run = npgrad_trainer(kind, steps) if library == "npgrad" else torch_trainer(kind, steps, torch)
    # npgrad's recurrent ops split their batch with a helper process (batch_halves) when
    # the process has two BLAS threads: start it now, and count its growth as well
    from npgrad.primitives import batch_halves, helper_process

    helper = helper_process.get() if library == "npgrad" and batch_halves.wanted() else None
    gc.collect()
    pids = ["self"] + ([str(helper.pid)] if helper is not None else [])
    before = []
    for pid in pids:
        with open(f"/proc/{pid}/clear_refs", "w") as f:  # reset the high-water mark (Linux)
            f.write("5")
        before.append(_rss_mib(pid=pid))
    run()
    print(sum(_rss_mib("VmHWM:", pid) - b for pid, b in zip(pids, before)))


def memory(kinds, steps, replicas=0):
    """Each workload's peak memory in fresh processes: npgrad, with ``replicas`` also npgrad
    under ``DataParallel(threads=replicas)``, and PyTorch when installed."""
    torch = import_torch()
    setups = [("npgrad", 0)] + ([("npgrad", replicas)] if replicas else [])
    setups += [("torch", 0)] if torch else []
    names = [f"npgrad x {n} replicas" if n else library for library, n in setups]
    out = {}
    print("\n### peak resident memory of training over the memory before it (MiB)\n")
    print("| workload | " + " | ".join(names) + " | ratios to PyTorch |")
    print("|---" * (len(names) + 2) + "|")
    for kind in kinds:
        row = {}
        for name, (library, n) in zip(names, setups):
            proc = subprocess.run([sys.executable, __file__, "--memory-child", library,
                                   "--only", kind, "--steps", str(steps), "--replicas", str(n)],
                                  capture_output=True, text=True, check=True)
            row[name] = float(proc.stdout.strip().splitlines()[-1])
        out[kind] = row
        ratios = " / ".join(f"**{row[name] / row['torch']:.2f}**" for name in names[:-1]) \
            if "torch" in row else "n/a"
        print(f"| {kind} | " + " | ".join(f"{row[name]:.0f}" for name in names) + f" | {ratios} |")
    return out


def start_competitor(warmup):
    """A CPU-bound pure-Python loop in another process; returns it after ``warmup`` seconds."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    print(f"competitor pid {proc.pid}; waiting {warmup:.0f} s for the load average "
          f"(now {os.getloadavg()[0]:.2f})")
    time.sleep(warmup)
    print(f"load average now {os.getloadavg()[0]:.2f}")
    return proc


def timed_rounds(args, torch, only, defaults):
    """Interleaved rounds of every chosen workload; (results, extra facts for the JSON)."""
    results, threads = [], {}
    for kind in (k for k in TARGETS if k in only):
        np_run = npgrad_trainer(kind, args.steps)
        t_run = torch_trainer(kind, args.steps, torch) if torch else None
        target = 1.0 if args.busy else TARGETS[kind]
        label = " [busy, default threads]" if args.busy else " [default threads]" if defaults \
            else ""
        results.append(compare(f"{NAMES[kind]}, {args.steps} steps{label}", np_run, t_run,
                               rounds=args.rounds, target=target, settle=args.settle))
        threads[kind] = {"npgrad": npgrad.utils.get_num_threads(),
                         "torch": torch.get_num_threads() if torch else None,
                         "load_average": os.getloadavg()[0]}
        print_table(results[-1:], "progress")
        print(f"threads after the rounds: {threads[kind]}")
    if results:
        print_table(results, "npgrad vs PyTorch (CPU, float32, medians)")
    return results, {"threads": threads, "busy": bool(args.busy), "default_threads": defaults}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="training steps per timed round")
    parser.add_argument("--settle", type=int, default=1,
                        help="untimed rounds of the same library before each timed one "
                             "(harness.compare: the other library's spinning threads; 0 "
                             "reproduces the older, flattering runs)")
    parser.add_argument("--only", default="", help="comma list of " + ",".join(TARGETS) + ",memory")
    parser.add_argument("--memory-child", choices=("npgrad", "torch"))
    parser.add_argument("--replicas", type=int, default=0,
                        help="memory: also measure npgrad under DataParallel(threads=N)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--busy", action="store_true",
                        help="one competing CPU-bound process; both libraries at their defaults")
    parser.add_argument("--busy-warmup", type=float, default=60.0,
                        help="seconds the competitor runs before the first round")
    parser.add_argument("--default-threads", action="store_true",
                        help="no set_num_threads for either library (implied by --busy)")
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.only, args.steps, args.replicas)
        return None
    defaults = args.busy or args.default_threads
    if not defaults:
        limit_threads()
    torch = import_torch()
    only = args.only.split(",") if args.only else list(TARGETS) + ["memory"]
    competitor = start_competitor(args.busy_warmup) if args.busy else None
    try:
        results, extra = timed_rounds(args, torch, only, defaults)
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    if "memory" in only and not defaults:
        extra["peak_rss_mib"] = memory([k for k in TARGETS if k in only] or list(TARGETS),
                                       steps=max(args.steps, 4), replicas=args.replicas)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, args.out or Path(__file__).parent / "results" / f"workloads-{stamp}.json",
               extra)
    return results


if __name__ == "__main__":
    main()
