"""Muon (Jordan et al. 2024): orthogonalized momentum for matrices, AdamW for the rest."""

import re

import numpy as np

from npgrad.optimizers.optimizer import Optimizer, check_beta, check_epsilon, check_range, scalars


def newton_schulz(x, steps, a=3.4445, b=-4.7750, c=2.0315):
    """Approximate the orthogonal factor ``U V^T`` of ``x``'s SVD with a quintic iteration.

    ``x`` is scaled to Frobenius norm ~1; each step is ``x = a x + (b A + c A A) x`` with
    ``A = x x^T`` (on the transposed matrix when it has more rows than columns).
    """
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = np.swapaxes(x, -1, -2)
    x = x / (np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True)) + 1e-7)
    for _ in range(steps):
        gram = x @ np.swapaxes(x, -1, -2)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return np.swapaxes(x, -1, -2) if tall else x


class Muon(Optimizer):
    """Muon for 2-D weights, AdamW for every other variable, as Keras.

    Muon step (2-D variables that are not excluded): ``m += g + (momentum - 1) m``;
    ``u = g + momentum m`` (Nesterov) or ``m``; ``O = newton_schulz(u)``;
    ``var -= lr * O * sqrt(max(rows, cols)) * rms_rate`` (no rescaling when ``rms_rate`` is
    None). AdamW step (other variables) with ``adam_beta_1``, ``adam_beta_2``, ``epsilon`` and
    rate ``lr * adam_lr_ratio``. Weight decay ``weight_decay`` for Muon variables and
    ``adam_weight_decay`` for AdamW ones.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        adam_beta_1, adam_beta_2: AdamW's moment decays.
        adam_weight_decay: AdamW variables' decay (default 0.004).
        epsilon: AdamW's epsilon (default 1e-7).
        weight_decay: Muon variables' decay (default 0.004).
        exclude_layers: regular expressions; variables whose name matches use AdamW.
        exclude_embeddings: variables whose name contains "embedding" use AdamW.
        muon_a, muon_b, muon_c: Newton-Schulz coefficients.
        adam_lr_ratio: AdamW rate / Muon rate.
        momentum: Muon's momentum (default 0.95).
        ns_steps: Newton-Schulz iterations (default 5).
        nesterov: Nesterov-style momentum.
        rms_rate: update RMS matching factor (default 0.2), or None.
        **kwargs: other base arguments.
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)
        who = "Muon"
        self.adam_beta_1 = check_beta(adam_beta_1, "adam_beta_1", who)
        self.adam_beta_2 = check_beta(adam_beta_2, "adam_beta_2", who)
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = check_epsilon(epsilon, who)
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = bool(exclude_embeddings)
        self.muon_a, self.muon_b, self.muon_c = float(muon_a), float(muon_b), float(muon_c)
        self.adam_lr_ratio = float(adam_lr_ratio)
        self.momentum = check_range(momentum, "momentum", who, 0.0, 1.0, True)
        if not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"{who}: ns_steps must be an int >= 0, got {ns_steps!r}")
        self.ns_steps = ns_steps
        self.nesterov = bool(nesterov)
        self.rms_rate = rms_rate

    def _uses_adamw(self, var):
        if var.data.ndim != 2:
            return True
        name = getattr(var, "name", None) or ""
        if self.exclude_embeddings and "embedding" in name.lower():
            return True
        return any(re.search(pattern, name) for pattern in self.exclude_layers)

    def _weight_decay_of(self, var):
        return self.adam_weight_decay if self._uses_adamw(var) else self.weight_decay

    def _use_weight_decay(self, var):
        if not self._weight_decay_of(var):
            return False
        saved, self.weight_decay = self.weight_decay, self._weight_decay_of(var)
        try:
            return super()._use_weight_decay(var)
        finally:
            self.weight_decay = saved

    def _create_slots(self, var):
        slots = {"momentum": np.zeros_like(var.data)}
        if self._uses_adamw(var):
            slots["velocity"] = np.zeros_like(var.data)
        return slots

    def _update(self, var, grad, slots, lr):
        if "velocity" in slots:
            self._adamw_update(var, grad, slots, lr * self.adam_lr_ratio)
            return
        m = slots["momentum"]
        m += grad + m * var.dtype.type(self.momentum - 1)
        direction = grad + self.momentum * m if self.nesterov else m
        update = newton_schulz(direction, self.ns_steps, self.muon_a, self.muon_b, self.muon_c)
        update = var.dtype.type(lr) * update
        if self.rms_rate is not None:
            update = update * np.sqrt(max(var.shape[0], var.shape[1])) * self.rms_rate
        var.data -= update.astype(var.dtype)

    def _adamw_update(self, var, grad, slots, lr):
        t, lr, beta_1, beta_2 = scalars(var, self.iterations + 1, lr, self.adam_beta_1,
                                        self.adam_beta_2)
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m, v = slots["momentum"], slots["velocity"]
        m += (grad - m) * (1 - self.adam_beta_1)
        v += (np.square(grad) - v) * (1 - self.adam_beta_2)
        var.data -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
            "adam_weight_decay": self.adam_weight_decay, "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers, "exclude_embeddings": self.exclude_embeddings,
            "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
            "ns_steps": self.ns_steps, "nesterov": self.nesterov, "rms_rate": self.rms_rate,
        }
