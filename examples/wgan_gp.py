"""WGAN-GP: a Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty.

    python examples/wgan_gp.py            # 2,000 generator steps on a ring of 8 Gaussians
    python examples/wgan_gp.py --quick    # 300 steps, a few seconds

The penalty needs a second-order gradient (Gulrajani et al., 2017): the critic's gradient
with respect to its input, at points between real and fake samples, is a value in the
loss, ``lambda * (||d critic(x) / dx|| - 1) ** 2``, and training differentiates it with
respect to the critic's weights. ``npgrad.autograd.grad(..., create_graph=True)`` returns
that input gradient as a Tensor in the graph, as ``torch.autograd.grad`` does, so the
critic's ``loss.backward()`` reaches through it. The loop is PyTorch's: forward, loss,
``backward()``, ``optimizer.step``, ``zero_grad``.

The data: 8 Gaussians (std 0.02) on a circle of radius 2. The script prints the critic's
Wasserstein estimate, the mean input-gradient norm at the interpolates (the penalty
pulls it to 1) and, at the end, how many of the 8 modes the generator's samples reach.
"""

import argparse

import numpy as np

import npgrad
from npgrad.autograd import grad

L = npgrad.layers


def ring(n, rng, modes=8, radius=2.0, std=0.02):
    """``n`` points from ``modes`` Gaussians evenly placed on a circle."""
    angles = 2 * np.pi * rng.integers(0, modes, n) / modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centers + std * rng.standard_normal((n, 2))).astype(np.float32)


def mlp(out_units, activation, name):
    return npgrad.Sequential([L.Input((2,)), L.Dense(128, activation=activation),
                              L.Dense(128, activation=activation), L.Dense(out_units)],
                             name=name)


def gradient_penalty(critic, real, fake, rng):
    """The penalty on random points between real and fake samples, and their gradient norms."""
    alpha = rng.random((len(real), 1), dtype=np.float32)
    between = npgrad.Tensor(alpha * real + (1 - alpha) * fake, requires_grad=True)
    (slopes,) = grad(critic(between, training=True).sum(), between, create_graph=True)
    norms = ((slopes * slopes).sum(axis=1) + 1e-12) ** 0.5
    return ((norms - 1.0) ** 2).mean(), norms


def modes_reached(samples, modes=8, radius=2.0, within=0.3):
    angles = 2 * np.pi * np.arange(modes) / modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    distance = np.linalg.norm(samples[:, None, :] - centers[None], axis=2)
    return int((distance.min(axis=0) < within).sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="generator steps")
    parser.add_argument("--critic-steps", type=int, default=5, help="critic steps per generator step")
    parser.add_argument("--penalty", type=float, default=0.1, help="the gradient penalty's weight (0.1: the WGAN-GP authors' value for toy data, "
                        "10 for images)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--quick", action="store_true", help="300 generator steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = 300 if args.quick else args.steps
    npgrad.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    generator, critic = mlp(2, "relu", "generator"), mlp(1, "relu", "critic")
    g_optimizer = npgrad.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
    c_optimizer = npgrad.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
    n = args.batch_size

    for step in range(1, steps + 1):
        for _ in range(args.critic_steps):
            real = ring(n, rng)
            with npgrad.no_grad():
                fake = generator(rng.standard_normal((n, 2)).astype(np.float32)).numpy()
            penalty, norms = gradient_penalty(critic, real, fake, rng)
            distance = critic(real, training=True).mean() - critic(fake, training=True).mean()
            loss = -distance + args.penalty * penalty
            loss.backward()  # through the input gradient too: a second-order pass
            c_optimizer.step(critic.trainable_weights)
            c_optimizer.zero_grad(critic.trainable_weights)
        fake = generator(rng.standard_normal((n, 2)).astype(np.float32), training=True)
        g_loss = -critic(fake, training=True).mean()
        g_loss.backward()
        g_optimizer.step(generator.trainable_weights)
        g_optimizer.zero_grad(generator.trainable_weights + critic.trainable_weights)
        if step % max(steps // 10, 1) == 0 or step == steps:
            print(f"step {step}: wasserstein estimate {distance.item():.4f}, "
                  f"gradient norm {float(norms.numpy().mean()):.3f}")
    with npgrad.no_grad():
        samples = generator(rng.standard_normal((2000, 2)).astype(np.float32)).numpy()
    radius = float(np.linalg.norm(samples, axis=1).mean())
    reached = modes_reached(samples)
    print(f"samples: mean radius {radius:.3f} (data 2.000), modes reached {reached} of 8")
    return {"radius": radius, "modes": reached, "gradient_norm": float(norms.numpy().mean())}


if __name__ == "__main__":
    main()
