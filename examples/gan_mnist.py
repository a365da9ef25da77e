"""Train a GAN on MNIST digits and write grids of generated samples after every epoch.

    python examples/gan_mnist.py --model mlp --epochs 30     # fully connected GAN
    python examples/gan_mnist.py --model dcgan --epochs 5    # DCGAN: transposed convolutions
    python examples/gan_mnist.py --quick                     # small subset, one epoch, seconds
    python examples/gan_mnist.py --model dcgan --epochs 5 --resume runs/gan_dcgan/gan.npgrad \
        --initial-epoch 5                                     # 5 more epochs, same optimizers

Images are scaled to [-1, 1] to match the generator's tanh output. The discriminator returns
one logit; the loss is BinaryCrossentropy(from_logits=True), the generator's the
non-saturating one, both networks Adam(2e-4, beta_1=0.5) (Radford et al. 2015). The
generator's optimizer keeps a moving average of its weights (``use_ema``, momentum 0.999);
when training ends the generator takes the averaged weights, whose samples are cleaner than
the last raw step's (Yazici et al. 2019). The epoch grids show the raw weights. The run
writes ``samples_epoch_NNN.png`` (a fixed latent grid, raw weights), ``samples_final.png``
(the same grid from the final generator), ``generator.npgrad`` (after every epoch, with the
averaged weights; load it with ``npgrad.models.load_model``) and ``gan.npgrad``
(``GAN.load``) to ``--out``. Measure the
samples with ``examples/gan_quality.py --generator <out>/generator.npgrad``.
"""

import argparse
import os
import time

from _common import load_mnist

import npgrad
from npgrad.models.gan import GAN, GANMonitor, image_grid, save_image

L = npgrad.layers


def build_mlp(latent_dim):
    """Fully connected GAN: generator latent -> 256 -> 512 -> 1024 -> 784 tanh, each hidden
    layer LeakyReLU then batch norm; discriminator 784 -> 512 -> 256 -> 1 logit."""
    generator = npgrad.Sequential([
        npgrad.Input(shape=(latent_dim,)),
        L.Dense(256), L.LeakyReLU(0.2), L.BatchNormalization(momentum=0.8),
        L.Dense(512), L.LeakyReLU(0.2), L.BatchNormalization(momentum=0.8),
        L.Dense(1024), L.LeakyReLU(0.2), L.BatchNormalization(momentum=0.8),
        L.Dense(784, activation="tanh"),
        L.Reshape((28, 28, 1)),
    ], name="mlp_generator")
    discriminator = npgrad.Sequential([
        npgrad.Input(shape=(28, 28, 1)),
        L.Flatten(),
        L.Dense(512), L.LeakyReLU(0.2),
        L.Dense(256), L.LeakyReLU(0.2),
        L.Dense(1),
    ], name="mlp_discriminator")
    return generator, discriminator


def build_dcgan(latent_dim, width=64):
    """DCGAN (Radford et al. 2015): Dense -> (7, 7, 2w) -> Conv2DTranspose 14x14 ->
    Conv2DTranspose 28x28 tanh, batch norm and ReLU in the generator.

    The discriminator mirrors it: two stride-2 convolutions with LeakyReLU(0.2), batch norm
    after the second, then one logit.
    """
    generator = npgrad.Sequential([
        npgrad.Input(shape=(latent_dim,)),
        L.Dense(7 * 7 * 2 * width, use_bias=False), L.BatchNormalization(), L.ReLU(),
        L.Reshape((7, 7, 2 * width)),
        L.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False),
        L.BatchNormalization(), L.ReLU(),
        L.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ], name="dcgan_generator")
    discriminator = npgrad.Sequential([
        npgrad.Input(shape=(28, 28, 1)),
        L.Conv2D(width, 4, strides=2, padding="same"), L.LeakyReLU(0.2),
        L.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(0.2),
        L.Flatten(),
        L.Dense(1),
    ], name="dcgan_discriminator")
    return generator, discriminator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mlp", "dcgan"), default="mlp")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--width", type=int, default=64, help="DCGAN channel width")
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--ema-momentum", type=float, default=0.999,
                        help="moving average of the generator's weights (0: none)")
    parser.add_argument("--train-size", type=int, default=None, help="use the first N images")
    parser.add_argument("--quick", action="store_true", help="small subset and one epoch")
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default=None, help="output folder (default runs/gan_<model>)")
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible runs")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    parser.add_argument("--resume", default=None,
                        help="a gan.npgrad to continue training (networks and optimizers)")
    parser.add_argument("--initial-epoch", type=int, default=0,
                        help="with --resume: epochs already done (numbers the grids on)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 1
        args.train_size = args.train_size or (2000 if args.model == "mlp" else 512)
        if args.model == "dcgan":
            args.width = min(args.width, 16)
    if args.seed is not None:
        npgrad.utils.set_random_seed(args.seed)
    out = args.out or os.path.join("runs", f"gan_{args.model}")
    os.makedirs(out, exist_ok=True)

    (x_train, _), _ = load_mnist(args.data, train_size=args.train_size)
    x_train = x_train * 2.0 - 1.0  # [0, 1] -> [-1, 1], the range of tanh
    if args.resume:
        gan = GAN.load(args.resume)  # compiled, both optimizers' state restored
        generator = gan.generator
        print(f"resumed {args.resume} after {args.initial_epoch} epoch(s)")
    else:
        if args.model == "mlp":
            generator, discriminator = build_mlp(args.latent_dim)
        else:
            generator, discriminator = build_dcgan(args.latent_dim, args.width)
        generator.summary()
        discriminator.summary()
        gan = GAN(generator, discriminator, latent_dim=args.latent_dim)
        gan.compile(
            d_optimizer=npgrad.optimizers.Adam(learning_rate=args.learning_rate, beta_1=0.5),
            g_optimizer=npgrad.optimizers.Adam(learning_rate=args.learning_rate, beta_1=0.5,
                                               use_ema=args.ema_momentum > 0,
                                               ema_momentum=args.ema_momentum or 0.99),
            label_smoothing=args.label_smoothing,
        )
    monitor = GANMonitor(out, num_images=64, columns=8, seed=0)
    # the generator after every epoch, so a long run can be measured (or cut short) anytime:
    # with its averaged weights (what fit ends with), the raw ones restored for training
    def save_generator(epoch, logs):
        averages = [(w, gan.g_optimizer.moving_average(w)) for w in generator.trainable_weights]
        raw = [(w, w.data.copy()) for w, average in averages if average is not None]
        for w, average in averages:
            if average is not None:
                w.data[...] = average
        generator.save(os.path.join(out, "generator.npgrad"))
        for w, value in raw:
            w.data[...] = value

    checkpoint = npgrad.callbacks.LambdaCallback(on_epoch_end=save_generator)
    start = time.perf_counter()
    history = gan.fit(x_train, epochs=args.initial_epoch + args.epochs,
                      initial_epoch=args.initial_epoch, batch_size=args.batch_size,
                      callbacks=[monitor, checkpoint], verbose=args.verbose)
    seconds = time.perf_counter() - start
    print(f"trained {args.model} GAN on {len(x_train)} images for {args.epochs} epoch(s) in "
          f"{seconds:.1f} s ({seconds / args.epochs:.1f} s per epoch); final d_loss "
          f"{history.history['d_loss'][-1]:.4f}, g_loss {history.history['g_loss'][-1]:.4f}")

    # the same latent grid from the final (averaged) generator
    final_grid = os.path.join(out, "samples_final.png")
    save_image(final_grid, image_grid(gan.generate(64, seed=0), columns=8))
    generator.save(os.path.join(out, "generator.npgrad"))
    gan.save(os.path.join(out, "gan.npgrad"))
    print(f"saved the generator to {os.path.join(out, 'generator.npgrad')}, the GAN to "
          f"{os.path.join(out, 'gan.npgrad')}, sample grids to {final_grid} and "
          f"{monitor.paths[-1]} and before")
    return history


if __name__ == "__main__":
    main()
