"""LAMB (You et al. 2019): Adam steps rescaled by a per-variable trust ratio."""

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_beta, check_epsilon, scalars


class Lamb(Optimizer):
    """Layer-wise adaptive moments.

    ``m``, ``v`` as Adam; ``update = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + eps)``;
    ``ratio = ||var|| / ||update||`` (1 when either norm is 0); ``var -= ratio * lr * update``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: first-moment decay in [0, 1).
        beta_2: second-moment decay in [0, 1).
        epsilon: positive constant (default 1e-7).
        **kwargs: base arguments.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_beta(beta_1, "beta_1", "Lamb")
        self.beta_2 = check_beta(beta_2, "beta_2", "Lamb")
        self.epsilon = check_epsilon(epsilon, "Lamb")

    def _create_slots(self, var):
        return {"momentum": np.zeros_like(var.data), "velocity": np.zeros_like(var.data)}

    def _update(self, var, grad, slots, lr):
        t, lr, beta_1, beta_2 = scalars(var, self.iterations + 1, lr, self.beta_1, self.beta_2)
        m, v = slots["momentum"], slots["velocity"]
        m += (grad - m) * (1 - self.beta_1)
        v += (np.square(grad) - v) * (1 - self.beta_2)
        update = (m / (1 - beta_1**t)) / (np.sqrt(v / (1 - beta_2**t)) + self.epsilon)
        weight_norm = np.sqrt(np.sum(np.square(var.data)))
        update_norm = np.sqrt(np.sum(np.square(update)))
        ratio = weight_norm / update_norm if weight_norm > 0 and update_norm > 0 else 1.0
        var.data -= var.dtype.type(ratio) * lr * update

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
