"""Learning-rate schedules (Keras 3 formulas): callables ``step -> learning rate``.

An optimizer given a schedule evaluates it at ``optimizer.iterations`` (the number of
``apply_gradients`` calls made so far, starting at 0) before every update.

Example:
    >>> lr = npgrad.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
    >>> opt = npgrad.optimizers.SGD(learning_rate=lr)
    >>> lr(200)                      # 0.1 * 0.5 ** 2
    0.025
"""

import math
from npgrad.utils.config import Configurable


def _positive(value, name, who):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{who}: {name} must be a positive number, got {value!r}")
    return value


def _non_negative(value, name, who):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{who}: {name} must be a non-negative number, got {value!r}")
    return value


def _step(step, who):
    step = float(step)
    if step < 0:
        raise ValueError(f"{who}: step must be >= 0, got {step}")
    return step


class LearningRateSchedule(Configurable):
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: float >= 0.
        decay_steps: positive number of steps per decay period.
        decay_rate: float > 0.
        staircase: if True, ``step / decay_steps`` is floored (decay in discrete jumps).
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        who = "ExponentialDecay"
        self.initial_learning_rate = _non_negative(initial_learning_rate, "initial_learning_rate", who)
        self.decay_steps = _positive(decay_steps, "decay_steps", who)
        self.decay_rate = _positive(decay_rate, "decay_rate", who)
        self.staircase = bool(staircase)

    def __call__(self, step):
        progress = _step(step, "ExponentialDecay") / self.decay_steps
        if self.staircase:
            progress = math.floor(progress)
        return self.initial_learning_rate * self.decay_rate**progress

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Args:
        initial_learning_rate: float >= 0.
        decay_steps: positive number.
        decay_rate: float >= 0.
        staircase: if True, ``step / decay_steps`` is floored.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        who = "InverseTimeDecay"
        self.initial_learning_rate = _non_negative(initial_learning_rate, "initial_learning_rate", who)
        self.decay_steps = _positive(decay_steps, "decay_steps", who)
        self.decay_rate = _non_negative(decay_rate, "decay_rate", who)
        self.staircase = bool(staircase)

    def __call__(self, step):
        progress = _step(step, "InverseTimeDecay") / self.decay_steps
        if self.staircase:
            progress = math.floor(progress)
        return self.initial_learning_rate / (1.0 + self.decay_rate * progress)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate per interval: ``values[0]`` while ``step <= boundaries[0]``,
    ``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after.

    Args:
        boundaries: strictly increasing list of steps.
        values: list of learning rates, one more than ``boundaries``.
    """

    def __init__(self, boundaries, values):
        who = "PiecewiseConstantDecay"
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"{who}: values must have exactly one more element than boundaries, got "
                f"{len(values)} values for {len(boundaries)} boundaries"
            )
        if any(later <= earlier for earlier, later in zip(boundaries, boundaries[1:])):
            raise ValueError(f"{who}: boundaries must be strictly increasing, got {boundaries}")
        for value in values:
            _non_negative(value, "values", who)
        self.boundaries, self.values = boundaries, values

    def __call__(self, step):
        step = _step(step, "PiecewiseConstantDecay")
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay (Keras 3 / SGDR without restarts).

    Without warmup: ``lr(step) = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
    + alpha)`` with ``s = min(step, decay_steps)``. With ``warmup_target`` set, the rate first
    rises linearly from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``,
    then decays from ``warmup_target`` by the same formula with ``s = step - warmup_steps``.

    Args:
        initial_learning_rate: float >= 0.
        decay_steps: positive number of decay steps.
        alpha: minimum rate as a fraction of the decayed-from rate.
        warmup_target: None (no warmup) or the rate reached after warmup.
        warmup_steps: number of warmup steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
                 warmup_steps=0):
        who = "CosineDecay"
        self.initial_learning_rate = _non_negative(initial_learning_rate, "initial_learning_rate", who)
        self.decay_steps = _positive(decay_steps, "decay_steps", who)
        self.alpha = _non_negative(alpha, "alpha", who)
        if warmup_target is not None:
            _non_negative(warmup_target, "warmup_target", who)
        self.warmup_target = warmup_target
        self.warmup_steps = _non_negative(warmup_steps, "warmup_steps", who)

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _step(step, "CosineDecay")
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            delta = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + delta * fraction
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


ALL_OBJECTS = {
    cls.__name__: cls
    for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay)
}


def serialize(schedule):
    """Return ``{"class_name": ..., "config": ...}`` for a schedule (JSON-able)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            f"schedules.serialize: expected a LearningRateSchedule, got {type(schedule).__name__}"
        )
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """Rebuild a schedule from :func:`serialize`'s dict.

    Raises:
        ValueError: for an unknown class name, listing the valid ones.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"schedules.deserialize: expected a dict with 'class_name', got {config!r}")
    name = config["class_name"]
    if name not in ALL_OBJECTS:
        raise ValueError(
            f"Unknown learning-rate schedule {name!r}. Valid names: {', '.join(sorted(ALL_OBJECTS))}"
        )
    return ALL_OBJECTS[name].from_config(dict(config.get("config") or {}))
