"""Adadelta (Zeiler 2012): step sizes from running averages of squared gradients and updates."""

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_beta, check_epsilon, scalars


class Adadelta(Optimizer):
    """Adadelta in Keras's form (epsilon inside both square roots).

    ``a = rho a + (1 - rho) g^2``; ``delta = -sqrt(d + eps) g / sqrt(a + eps)``;
    ``d = rho d + (1 - rho) delta^2``; ``var += lr * delta``.

    Args:
        learning_rate: float, schedule or callable (default 0.001; Keras's, although the
            paper's rule uses 1.0).
        rho: decay rate in [0, 1) (default 0.95).
        epsilon: positive constant (default 1e-7).
        **kwargs: base arguments (clipnorm, clipvalue, global_clipnorm, weight_decay, name...).
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = check_beta(rho, "rho", "Adadelta")
        self.epsilon = check_epsilon(epsilon, "Adadelta")

    def _create_slots(self, var):
        return {"accumulated_grad": np.zeros_like(var.data),
                "accumulated_delta_var": np.zeros_like(var.data)}

    def _update(self, var, grad, slots, lr):
        (lr,) = scalars(var, lr)
        rho = self.rho
        accumulated_grad, accumulated_delta = slots["accumulated_grad"], slots["accumulated_delta_var"]
        accumulated_grad *= rho
        accumulated_grad += (1 - rho) * np.square(grad)
        delta = -(np.sqrt(accumulated_delta + self.epsilon) * grad) / np.sqrt(
            accumulated_grad + self.epsilon)
        accumulated_delta *= rho
        accumulated_delta += (1 - rho) * np.square(delta)
        var.data += lr * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
