"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): sign updates."""

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_range, scalars


class Lion(Optimizer):
    """Evolved sign momentum.

    ``var -= lr * sign(beta_1 m + (1 - beta_1) g)``; then ``m = beta_2 m + (1 - beta_2) g``.

    Args:
        learning_rate: float, schedule or callable (default 0.001; usually 3-10x smaller
            than Adam's).
        beta_1: interpolation of the update in (0, 1] (default 0.9).
        beta_2: momentum decay in [0, 1] (default 0.99).
        **kwargs: base arguments.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if beta_1 <= 0:
            raise ValueError(f"Lion: beta_1 must be in (0, 1], got {beta_1!r}")
        self.beta_1 = check_range(beta_1, "beta_1", "Lion", 0.0, 1.0, True)
        self.beta_2 = check_range(beta_2, "beta_2", "Lion", 0.0, 1.0, True)

    def _create_slots(self, var):
        return {"momentum": np.zeros_like(var.data)}

    def _update(self, var, grad, slots, lr):
        lr, beta_1, beta_2 = scalars(var, lr, self.beta_1, self.beta_2)
        m = slots["momentum"]
        var.data -= lr * np.sign(m * beta_1 + grad * (1 - beta_1))
        m *= beta_2
        m += grad * (1 - beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
