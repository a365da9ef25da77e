"""Schedule-free AdamW (Defazio et al. 2024): interpolation and averaging in place of a schedule."""

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_beta, check_epsilon, check_range, scalars


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW, Keras's form; the variable holds the interpolated point ``y``.

    ``z`` (slot ``momentum``) starts as the variable. Per step, with warmup factor
    ``min(t / warmup_steps, 1)`` on the rate: ``v += (g^2 - v)(1 - beta_2)``;
    ``z_old = z``; ``z -= lr g / (sqrt(v / (1 - beta_2^t)) + eps)``;
    ``x_old = (y - (1 - beta_1) z_old) / beta_1``; ``x = (1 - 1/t) x_old + z / t``;
    ``y = (1 - beta_1) z + beta_1 x``.

    Args:
        learning_rate: float, schedule or callable (default 0.0025).
        beta_1: interpolation factor in [0, 1) (default 0.9).
        beta_2: second-moment decay in [0, 1) (default 0.999).
        epsilon: positive constant (default 1e-8).
        warmup_steps: linear warmup length, >= 0 (default 0).
        **kwargs: base arguments (weight_decay is decoupled, as AdamW).
    """

    elementwise = True

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        who = "ScheduleFreeAdamW"
        self.beta_1 = check_beta(beta_1, "beta_1", who)
        if self.beta_1 == 0:
            raise ValueError(f"{who}: beta_1 must be in (0, 1), got {beta_1!r}")
        self.beta_2 = check_beta(beta_2, "beta_2", who)
        self.epsilon = check_epsilon(epsilon, who)
        self.warmup_steps = int(check_range(warmup_steps, "warmup_steps", who, 0, 2**62, True))

    def _create_slots(self, var):
        return {"momentum": var.data.copy(), "velocity": np.zeros_like(var.data)}

    def _update(self, var, grad, slots, lr):
        t, lr, beta_1, beta_2 = scalars(var, self.iterations + 1, lr, self.beta_1, self.beta_2)
        if self.warmup_steps > 0:
            lr = lr * np.minimum(t / var.dtype.type(self.warmup_steps), 1)
        z, v = slots["momentum"], slots["velocity"]
        z_old = z.copy()
        v += (np.square(grad) - v) * (1 - beta_2)
        denominator = np.sqrt(v / (1 - beta_2**t)) + var.dtype.type(self.epsilon)
        z -= lr * grad / denominator
        weight = 1 / t
        x_old = (var.data - (1 - beta_1) * z_old) / beta_1
        x_new = (1 - weight) * x_old + weight * z
        var.data[...] = (1 - beta_1) * z + beta_1 * x_new

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
