"""A character-level language model (LSTM or GRU) trained on text that ships with Python.

    python examples/char_rnn.py                     # the source of the `textwrap` module, 10 epochs
    python examples/char_rnn.py --quick             # a few thousand characters, < 30 s
    python examples/char_rnn.py --module this       # the Zen of Python (decoded from `this`)
    python examples/char_rnn.py --cell gru --temperature 0.5

Embedding(vocab, 32) -> LSTM(128) (or GRU) -> Dense(vocab, softmax) predicts the character that
follows a window of ``--window`` characters; Adam; sparse categorical cross-entropy. Prints the
loss per epoch, then samples text with a temperature (lower = more conservative). No downloads:
the text is read from the installed standard library (inspect / the `this` module).
"""

import argparse
import codecs
import importlib
import inspect
import time

import numpy as np

import npgrad
from npgrad.layers.recurrent import GRU, LSTM


def load_text(module_name, max_chars):
    """The text of a stdlib module: its source, or for `this` the decoded Zen of Python."""
    if module_name == "this":
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
            this = importlib.import_module("this")
        text = codecs.decode(this.s, "rot13")
    else:
        text = inspect.getsource(importlib.import_module(module_name))
    return text[:max_chars] if max_chars else text


def make_windows(ids, window, stride):
    """Inputs (M, window) and next-character targets (M,) from a sequence of ids."""
    starts = np.arange(0, len(ids) - window, stride)
    x = np.stack([ids[s:s + window] for s in starts])
    y = ids[starts + window]
    return x, y


def build_model(vocab, cell="lstm", units=128, embedding=32):
    rnn = {"lstm": LSTM, "gru": GRU}[cell]
    return npgrad.Sequential([
        npgrad.layers.Embedding(vocab, embedding),
        rnn(units),
        npgrad.layers.Dense(vocab, activation="softmax"),
    ])


def sample(model, seed_ids, length, temperature, window, rng):
    """Generate ``length`` ids, one at a time, from p ** (1 / temperature) renormalized."""
    ids = list(seed_ids)
    for _ in range(length):
        probs = model.predict(np.array([ids[-window:]]), verbose=0)[0].astype(np.float64)
        logits = np.log(np.maximum(probs, 1e-12)) / max(temperature, 1e-6)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return ids[len(seed_ids):]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="textwrap", help="stdlib module whose text to learn")
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--window", type=int, default=40)
    parser.add_argument("--stride", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-chars", type=int, default=60000)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--sample-length", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="4,000 characters, 6 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.max_chars, args.epochs, args.units, args.sample_length = 4000, 6, 64, 120
        args.stride = 2
    npgrad.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    text = load_text(args.module, args.max_chars)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    x, y = make_windows(ids, args.window, args.stride)
    print(f"text: {len(text):,} characters of `{args.module}`, vocabulary {len(chars)}, "
          f"{len(x):,} windows of {args.window}")

    model = build_model(len(chars), args.cell, args.units)
    model.compile(optimizer=npgrad.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    start = time.perf_counter()
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    seconds = time.perf_counter() - start
    print("loss per epoch (cross-entropy, nats/char):")
    for epoch, loss in enumerate(history.history["loss"], 1):
        print(f"  epoch {epoch:2d}  loss {loss:.4f}  {'#' * int(loss * 10)}")
    print(f"{seconds / args.epochs:.1f} s/epoch; a uniform guess would score "
          f"{np.log(len(chars)):.4f}")

    seed_ids = ids[:args.window]
    generated = sample(model, seed_ids, args.sample_length, args.temperature, args.window, rng)
    print(f"\n--- sample (temperature {args.temperature}), after the prompt "
          f"{text[:args.window]!r} ---")
    print("".join(chars[i] for i in generated))
    return history.history["loss"]


if __name__ == "__main__":
    main()
