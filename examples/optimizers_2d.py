"""Four optimizers race down the Rosenbrock valley: SGD, SGD with momentum, RMSprop, Adam.

    python examples/optimizers_2d.py            # 3,000 steps each, PNG of the trajectories
    python examples/optimizers_2d.py --quick    # 300 steps each

The loss surface (docs/06_optimizers.md) is Rosenbrock's banana-shaped valley,

    f(x, y) = (1 - x)^2 + 100 (y - x^2)^2,   minimum 0 at (1, 1),

computed with npgrad ops; each step is ``loss.backward()`` then ``optimizer.apply_gradients``,
exactly what ``fit`` does for a network's weights. The script prints every optimizer's final
point, loss and distance to the minimum, and saves the trajectories over the contour plot when
matplotlib is installed.
"""

import argparse
import os

import numpy as np

import npgrad
import npgrad.optimizers

START = (-1.5, 2.0)
MINIMUM = np.array([1.0, 1.0])


def rosenbrock(p):
    """f(p) for a Tensor p of shape (2,)."""
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def optimizers():
    """The contestants, each with a learning rate that does not diverge from START."""
    return {
        "SGD lr=1e-3": npgrad.optimizers.SGD(learning_rate=1e-3),
        "SGD momentum=0.9 lr=1e-3": npgrad.optimizers.SGD(learning_rate=1e-3, momentum=0.9),
        "RMSprop lr=1e-2": npgrad.optimizers.RMSprop(learning_rate=1e-2),
        "Adam lr=5e-2": npgrad.optimizers.Adam(learning_rate=5e-2),
    }


def run(optimizer, steps):
    """Minimize from START; return the (steps + 1, 2) trajectory and the final loss."""
    p = npgrad.Tensor(np.array(START, dtype=np.float64), requires_grad=True)
    path = [p.numpy().copy()]
    for _ in range(steps):
        loss = rosenbrock(p)
        loss.backward()
        optimizer.apply_gradients([(p.grad, p)])
        p.grad = None                    # gradients accumulate until zeroed
        path.append(p.numpy().copy())
    with npgrad.no_grad():
        final = float(rosenbrock(p).item())
    return np.array(path), final


def plot(paths, path):
    """Contours of f and one line per optimizer; returns False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the trajectory plot")
        return False
    xs, ys = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    zs = (1 - xs) ** 2 + 100 * (ys - xs**2) ** 2
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.contour(xs, ys, np.log10(zs + 1e-3), levels=25, cmap="Greys", linewidths=0.7)
    for name, trajectory in paths.items():
        ax.plot(trajectory[:, 0], trajectory[:, 1], "-", lw=1.5, label=name)
    ax.plot(*START, "ko")
    ax.plot(*MINIMUM, "r*", markersize=14)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Rosenbrock: (1 - x)^2 + 100 (y - x^2)^2")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved the trajectories to {path}")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="300 steps each")
    parser.add_argument("--out", default="runs/optimizers_2d", help="where the PNG goes")
    args = parser.parse_args(argv)
    steps = 300 if args.quick else args.steps

    paths, distances = {}, {}
    print(f"start {START}, minimum (1, 1), {steps} steps each")
    for name, optimizer in optimizers().items():
        trajectory, final = run(optimizer, steps)
        paths[name] = trajectory
        distances[name] = float(np.linalg.norm(trajectory[-1] - MINIMUM))
        x, y = trajectory[-1]
        print(f"{name:26s} final ({x:+.4f}, {y:+.4f})  loss {final:.2e}  "
              f"distance to minimum {distances[name]:.4f}")
    os.makedirs(args.out, exist_ok=True)
    plot(paths, os.path.join(args.out, "trajectories.png"))
    return distances


if __name__ == "__main__":
    main()
