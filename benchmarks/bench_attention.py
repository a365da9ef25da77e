"""Attention benchmarks: npgrad MultiHeadAttention and a Transformer encoder block against PyTorch.

    python benchmarks/bench_attention.py                  # 7 interleaved rounds of 5 steps
    python benchmarks/bench_attention.py --rounds 3 --steps 2
    python benchmarks/bench_attention.py --profile        # cProfile of npgrad's MHA step

Workloads (issue 12), float32, 2 threads for both libraries, self-attention on a batch of
32 sequences of 64 steps with 128 features and 4 heads of 32:

- "MHA forward+backward": ``MultiHeadAttention(4, 32)(x, x)``, a sum, backward to every
  weight and to x; PyTorch: ``nn.MultiheadAttention(128, 4, batch_first=True)`` with
  ``need_weights=False`` (its packed q/k/v projection and fused SDPA kernel).
- "MHA forward": the same under no_grad (inference).
- "encoder block train step": one post-norm Transformer encoder block (MHA, residual +
  LayerNorm, Dense(256, relu) -> Dense(128), residual + LayerNorm; dropout 0) on the same
  batch, a mean-squared loss, backward and an Adam update; PyTorch:
  ``nn.TransformerEncoderLayer(128, 4, 256, dropout=0.0, batch_first=True)`` + Adam.

Prints a markdown table of medians and ratios npgrad/PyTorch (target <= 1.2), writes
benchmarks/results/attention-<time>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import compare, import_torch, limit_threads, print_table, write_json  # noqa: E402

import npgrad  # noqa: E402
from npgrad import layers as L  # noqa: E402

BATCH, STEPS, DIM, HEADS, FF = 32, 64, 128, 4, 256
TARGET = 1.2


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS, DIM)).astype(np.float32)
    y = rng.standard_normal((BATCH, STEPS, DIM)).astype(np.float32)
    return x, y


def npgrad_mha(steps, backward=True):
    layer = L.MultiHeadAttention(num_heads=HEADS, key_dim=DIM // HEADS)
    x, _ = _data()
    layer(x, x)  # build

    def run():
        for _ in range(steps):
            if backward:
                xt = npgrad.Tensor(x, requires_grad=True)
                layer(xt, xt).sum().backward()
                for w in layer.weights:
                    w.zero_grad()
            else:
                with npgrad.no_grad():
                    layer(x, x)

    return run


def torch_mha(torch, steps, backward=True):
    layer = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True)
    x = torch.from_numpy(_data()[0])

    def run():
        for _ in range(steps):
            if backward:
                xt = x.clone().requires_grad_(True)
                out, _ = layer(xt, xt, xt, need_weights=False)
                out.sum().backward()
                layer.zero_grad(set_to_none=True)
            else:
                with torch.no_grad():
                    layer(x, x, x, need_weights=False)

    return run


def npgrad_encoder_block():
    """The encoder block as a functional model (the example's block, dropout 0)."""
    inputs = npgrad.Input((STEPS, DIM))
    attention = L.MultiHeadAttention(num_heads=HEADS, key_dim=DIM // HEADS)(inputs, inputs)
    x = L.LayerNormalization(epsilon=1e-5)(L.Add()([inputs, attention]))
    ff = L.Dense(DIM)(L.Dense(FF, activation="relu")(x))
    return npgrad.Model(inputs, L.LayerNormalization(epsilon=1e-5)(L.Add()([x, ff])))


def npgrad_train_step(steps):
    model = npgrad_encoder_block()
    optimizer = npgrad.optimizers.Adam(1e-3)
    x, y = _data()
    target = npgrad.Tensor(y)

    def run():
        for _ in range(steps):
            out = model(x, training=True)
            loss = ((out - target) ** 2).mean()
            loss.backward()
            params = model.trainable_weights
            optimizer.apply_gradients([(w.grad, w) for w in params])
            for w in params:
                w.zero_grad()

    return run


def torch_train_step(torch, steps):
    block = torch.nn.TransformerEncoderLayer(DIM, HEADS, FF, dropout=0.0, batch_first=True)
    optimizer = torch.optim.Adam(block.parameters(), lr=1e-3)
    x, y = (torch.from_numpy(a) for a in _data())

    def run():
        for _ in range(steps):
            loss = ((block(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    return run


def profile(steps):
    run = npgrad_mha(steps)
    run()
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    limit_threads()
    if args.profile:
        profile(args.steps)
        return []
    torch = import_torch()
    if torch is None:
        print("PyTorch not installed: timing npgrad alone")
    shape = f"batch {BATCH}, {STEPS} steps, {DIM} features, {HEADS} heads"
    workloads = [
        (f"MHA forward+backward, {shape}, {args.steps} calls", npgrad_mha(args.steps),
         torch_mha(torch, args.steps) if torch else None),
        (f"MHA forward, {shape}, {args.steps} calls", npgrad_mha(args.steps, backward=False),
         torch_mha(torch, args.steps, backward=False) if torch else None),
        (f"encoder block train step (ff {FF}, Adam), {shape}, {args.steps} steps",
         npgrad_train_step(args.steps), torch_train_step(torch, args.steps) if torch else None),
    ]
    results = []
    for name, mine, theirs in workloads:
        results.append(compare(name, mine, theirs, rounds=args.rounds, target=TARGET))
        print_table(results[-1:], "progress")
    print_table(results, "npgrad vs PyTorch attention (CPU, 2 threads, float32, medians)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(results, args.out or Path(__file__).parent / "results" / f"attention-{stamp}.json")
    return results


if __name__ == "__main__":
    main()
