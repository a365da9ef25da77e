"""Forecast a noisy sum of sines one step ahead from a window of past values, with a GRU.

    python examples/time_series.py                  # 20 epochs
    python examples/time_series.py --quick          # < 30 s
    python examples/time_series.py --cell lstm --window 48 --noise 0.1

GRU(32) -> Dense(1) reads ``--window`` past values (shape (N, window, 1)) and predicts the
next one; mse; Adam. The test set is the last 20 % of the series (no shuffling across the
split). Reports test MSE against the naive last-value forecast (which it must beat) and,
when matplotlib is installed, saves prediction vs truth to time_series.png (--out).
"""

import argparse
import os
from pathlib import Path

import numpy as np

import npgrad
from npgrad.layers.recurrent import GRU, LSTM


def make_series(length, noise, rng):
    """sin(2 pi t / 50) + 0.5 sin(2 pi t / 15 + 1) + 0.3 sin(2 pi t / 7) + Gaussian noise."""
    t = np.arange(length, dtype=np.float64)
    clean = (np.sin(2 * np.pi * t / 50) + 0.5 * np.sin(2 * np.pi * t / 15 + 1.0)
             + 0.3 * np.sin(2 * np.pi * t / 7))
    return (clean + noise * rng.standard_normal(length)).astype(np.float32)


def windows(series, window):
    """x (M, window, 1) of past values and y (M, 1) the value right after each window."""
    idx = np.arange(len(series) - window)[:, None] + np.arange(window)
    return series[idx][..., None], series[window:][:, None]


def plot(truth, prediction, naive, path):
    try:
        import matplotlib

        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the plot")
        return
    n = min(300, len(truth))
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(truth[:n], label="truth", lw=1.5)
    ax.plot(prediction[:n], label="GRU forecast", lw=1.2)
    ax.plot(naive[:n], label="last value", lw=0.8, alpha=0.6)
    ax.set_xlabel("test step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved prediction vs truth to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4000, help="points in the series")
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="1,500 points, 8 epochs")
    parser.add_argument("--out", default=".", help="folder for time_series.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.epochs = 1500, 8
    npgrad.utils.set_random_seed(args.seed)
    series = make_series(args.length, args.noise, np.random.default_rng(args.seed))
    x, y = windows(series, args.window)
    split = int(0.8 * len(x))
    x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

    rnn = {"gru": GRU, "lstm": LSTM}[args.cell]
    model = npgrad.Sequential([
        npgrad.Input(shape=(args.window, 1)),
        rnn(args.units),
        npgrad.layers.Dense(1),
    ])
    model.compile(optimizer=npgrad.optimizers.Adam(3e-3), loss="mse")
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=0.1, verbose=0)
    for epoch, (loss, val) in enumerate(zip(history.history["loss"],
                                            history.history["val_loss"]), 1):
        print(f"epoch {epoch:2d}  loss {loss:.4f}  val_loss {val:.4f}")

    prediction = model.predict(x_test, verbose=0)
    naive = x_test[:, -1]  # tomorrow = today
    mse = float(np.mean((prediction - y_test) ** 2))
    naive_mse = float(np.mean((naive - y_test) ** 2))
    print(f"test MSE {mse:.4f} vs naive last-value MSE {naive_mse:.4f} "
          f"(noise floor {args.noise ** 2:.4f}); ratio {mse / naive_mse:.2f}")
    print("beats the naive forecast" if mse < naive_mse else "does NOT beat the naive forecast")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    plot(y_test[:, 0], prediction[:, 0], naive[:, 0], Path(args.out) / "time_series.png")
    return mse, naive_mse


if __name__ == "__main__":
    main()
