"""FTRL-Proximal (McMahan et al. 2013): per-coordinate rates with L1/L2 regularization."""

import math

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_range, scalars


class Ftrl(Optimizer):
    """Follow-the-regularized-leader, Keras's form.

    With ``p = -learning_rate_power`` and ``l2 = l2_regularization_strength + beta / (2 lr)``:
    ``g' = g + 2 * l2_shrinkage * var``; ``n' = n + g^2``;
    ``z += g' - (n'^p - n^p) / lr * var``;
    ``var = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 l2)``; ``n = n'``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        learning_rate_power: float <= 0 (default -0.5).
        initial_accumulator_value: starting value of ``n``, >= 0 (default 0.1).
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0.
        l2_shrinkage_regularization_strength: >= 0, a magnitude penalty on the gradient.
        beta: >= 0 (default 0.0).
        **kwargs: base arguments.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        who = "Ftrl"
        self.learning_rate_power = check_range(learning_rate_power, "learning_rate_power", who,
                                                -math.inf, 0.0, True)
        self.initial_accumulator_value = check_range(
            initial_accumulator_value, "initial_accumulator_value", who, 0.0, math.inf, True)
        self.l1_regularization_strength = check_range(
            l1_regularization_strength, "l1_regularization_strength", who, 0.0, math.inf, True)
        self.l2_regularization_strength = check_range(
            l2_regularization_strength, "l2_regularization_strength", who, 0.0, math.inf, True)
        self.l2_shrinkage_regularization_strength = check_range(
            l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength", who,
            0.0, math.inf, True)
        self.beta = check_range(beta, "beta", who, 0.0, math.inf, True)

    def _create_slots(self, var):
        return {"accumulator": np.full_like(var.data, self.initial_accumulator_value),
                "linear": np.zeros_like(var.data)}

    def _update(self, var, grad, slots, lr):
        (lr,) = scalars(var, lr)
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        accumulator, linear = slots["accumulator"], slots["linear"]
        grad_to_use = grad + 2 * self.l2_shrinkage_regularization_strength * var.data
        new_accumulator = accumulator + np.square(grad)
        new_power = np.power(new_accumulator, power)
        linear += grad_to_use - (new_power - np.power(accumulator, power)) / lr * var.data
        quadratic = new_power / lr + 2 * l2
        l1 = self.l1_regularization_strength
        var.data[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
        accumulator[...] = new_accumulator

    def get_config(self):
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
