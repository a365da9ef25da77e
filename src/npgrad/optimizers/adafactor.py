"""Adafactor (Shazeer & Stern 2018): second moments factored into row and column averages."""

import math

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_epsilon, check_range, scalars


def _rms(x):
    return np.sqrt(np.mean(np.square(x)))


class Adafactor(Optimizer):
    """Adafactor in Keras's form (no first moment).

    With ``t`` the step: ``rho = min(lr, 1 / sqrt(t))`` (and, with ``relative_step`` and a
    constant rate, ``lr = min(lr, 1 / sqrt(t))`` first); ``alpha = max(epsilon_2, rms(var)) * rho``;
    ``G = g^2 + epsilon_1``; ``beta_2 = 1 - t^beta_2_decay``. For a variable of 2 or more
    axes, row and column averages ``r = beta_2 r + (1 - beta_2) mean(G, -1)``,
    ``c = beta_2 c + (1 - beta_2) mean(G, -2)`` and ``v = (r / mean(r)) outer c``; otherwise
    ``v = beta_2 v + (1 - beta_2) G``. ``u = g / sqrt(v)``,
    ``var -= alpha * u / max(1, rms(u) / clip_threshold)``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_2_decay: exponent of the second-moment decay schedule (default -0.8).
        epsilon_1: added to squared gradients (default 1e-30).
        epsilon_2: lower bound of the variable's RMS scale (default 1e-3).
        clip_threshold: update RMS clipping threshold (default 1.0).
        relative_step: cap a constant learning rate at ``1 / sqrt(t)``.
        **kwargs: base arguments.
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_2_decay = check_range(beta_2_decay, "beta_2_decay", "Adafactor", -math.inf,
                                         0.0, True)
        self.epsilon_1 = check_epsilon(epsilon_1, "Adafactor", "epsilon_1")
        self.epsilon_2 = check_epsilon(epsilon_2, "Adafactor", "epsilon_2")
        self.clip_threshold = check_epsilon(clip_threshold, "Adafactor", "clip_threshold")
        self.relative_step = bool(relative_step)

    def _create_slots(self, var):
        slots = {"velocity": np.zeros_like(var.data)}
        if var.data.ndim >= 2:
            slots["r"] = np.zeros(var.shape[:-1], dtype=var.dtype)
            slots["c"] = np.zeros(var.shape[:-2] + var.shape[-1:], dtype=var.dtype)
        return slots

    def _update(self, var, grad, slots, lr):
        t, lr, epsilon_2 = scalars(var, self.iterations + 1, lr, self.epsilon_2)
        if self.relative_step and self.learning_rate_schedule is None:
            lr = np.minimum(lr, 1 / np.sqrt(t))
        rho = np.minimum(lr, 1 / np.sqrt(t))
        alpha = np.maximum(epsilon_2, _rms(var.data)) * rho
        regulated = np.square(grad) + self.epsilon_1
        beta_2 = 1 - np.power(t, var.dtype.type(self.beta_2_decay))
        v = slots["velocity"]
        if var.data.ndim >= 2:
            r, c = slots["r"], slots["c"]
            r[...] = beta_2 * r + (1 - beta_2) * np.mean(regulated, axis=-1)
            c[...] = beta_2 * c + (1 - beta_2) * np.mean(regulated, axis=-2)
            v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta_2 * v + (1 - beta_2) * regulated
        u = grad / np.sqrt(v)
        u_hat = u / np.maximum(var.dtype.type(1), _rms(u) / self.clip_threshold)
        var.data -= alpha * u_hat

    def get_config(self):
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
