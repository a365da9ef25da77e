"""Optimizers with Keras 3 update rules, defaults and epsilon placement.

Every rule updates ``var.data`` in place with NumPy; ``docs/optimizers.md`` lists the
formulas. ``t`` below is the 1-based step number ``iterations + 1``.

Example:
    >>> opt = npgrad.optimizers.get("adam")
    >>> loss.backward()
    >>> opt.step(model.trainable_weights)          # or opt.apply_gradients(zip(grads, params))
    >>> opt.zero_grad(model.trainable_weights)
"""

import math

import numpy as np

from npgrad.optimizers import schedules
from npgrad.optimizers.optimizer import Optimizer, check_range
from npgrad.primitives import blas_level1
from npgrad.primitives import parallel as _parallel

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "Adamax", "Nadam",
    "Adadelta", "Adafactor", "Ftrl", "Lamb", "Lion", "Muon", "ScheduleFreeAdamW",
    "MultiOptimizer", "OptimizerMap", "get", "serialize", "deserialize", "schedules",
]


def _beta(value, name, who):
    return check_range(value, name, who, 0.0, 1.0, False)


def _scalars(var, *values):
    """The given numbers as scalars of ``var``'s dtype (Keras casts step, rate and betas)."""
    return [var.dtype.type(value) for value in values]


def _epsilon(value, who):
    if not isinstance(value, (int, float, np.floating)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{who}: epsilon must be a positive number, got {value!r}")
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Without momentum: ``var -= lr * g``. With momentum ``mu`` (Keras form, velocity ``m``
    starts at 0): ``m = mu * m - lr * g``; then ``var += m``, or for Nesterov
    ``var += mu * m - lr * g``.

    Args:
        learning_rate: float, schedule or callable (default 0.01).
        momentum: float in [0, 1].
        nesterov: use Nesterov momentum.
        **kwargs: base arguments (clipnorm, clipvalue, global_clipnorm, weight_decay, name).
    """

    elementwise = True

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_range(momentum, "momentum", "SGD", 0.0, 1.0, True)
        self.nesterov = bool(nesterov)

    def _create_slots(self, var):
        return {"momentum": np.zeros_like(var.data)} if self.momentum != 0 else {}

    def _update(self, var, grad, slots, lr):
        if self.momentum == 0:
            var.data -= lr * grad
            return
        m = slots["momentum"]
        m *= self.momentum
        m -= lr * grad
        if self.nesterov:
            var.data += self.momentum * m - lr * grad
        else:
            var.data += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Divide the gradient by a running RMS of recent gradients (epsilon inside the sqrt).

    ``v = rho * v + (1 - rho) * g**2``; centered: ``a = rho * a + (1 - rho) * g`` and
    ``denominator = v - a**2 + eps``, else ``denominator = v + eps``;
    ``increment = lr * g / sqrt(denominator)``; with momentum ``mu``:
    ``m = mu * m + increment; var -= m``, else ``var -= increment``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: discount factor in [0, 1).
        momentum: float in [0, 1].
        epsilon: positive constant (default 1e-7).
        centered: normalize by the variance estimate instead of the second moment.
        **kwargs: base arguments.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _beta(rho, "rho", "RMSprop")
        self.momentum = check_range(momentum, "momentum", "RMSprop", 0.0, 1.0, True)
        self.epsilon = _epsilon(epsilon, "RMSprop")
        self.centered = bool(centered)

    def _create_slots(self, var):
        slots = {"velocity": np.zeros_like(var.data)}
        if self.momentum > 0:
            slots["momentum"] = np.zeros_like(var.data)
        if self.centered:
            slots["average_gradient"] = np.zeros_like(var.data)
        return slots

    def _update(self, var, grad, slots, lr):
        rho = self.rho
        v = slots["velocity"]
        v *= rho
        v += (1 - rho) * np.square(grad)
        if self.centered:
            a = slots["average_gradient"]
            a *= rho
            a += (1 - rho) * grad
            denominator = v - np.square(a) + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = lr * grad / np.sqrt(denominator)
        if self.momentum > 0:
            m = slots["momentum"]
            m *= self.momentum
            m += increment
            var.data -= m
        else:
            var.data -= increment

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Per-element rates shrinking with the sum of squared gradients (epsilon inside the sqrt).

    ``acc += g**2; var -= lr * g / sqrt(acc + eps)``, ``acc`` starting at
    ``initial_accumulator_value``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        initial_accumulator_value: float >= 0 (default 0.1).
        epsilon: positive constant (default 1e-7).
        **kwargs: base arguments.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_range(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad", 0.0, math.inf, True
        )
        self.epsilon = _epsilon(epsilon, "Adagrad")

    def _create_slots(self, var):
        return {"accumulator": np.full_like(var.data, self.initial_accumulator_value)}

    def _update(self, var, grad, slots, lr):
        acc = slots["accumulator"]
        acc += np.square(grad)
        var.data -= lr * grad / np.sqrt(acc + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


#: Adam updates a variable of at least this many values (8 MiB of float32) as one vector on
#: every core (:meth:`Adam._update_whole`) rather than slice by slice on one: on the 2-core
#: Xeon, two threads, 2.56 M float32 values 6.7 -> 4.3 ms a step, 1 M 2.6 -> 2.5, 400 K
#: 1.1 -> 1.5 (there the slices stay in cache and win)
WHOLE_VECTOR_SIZE = 2**21


class Adam(Optimizer):
    """Adam (Kingma & Ba) in Keras's form: bias correction folded into the step size.

    ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``;
    ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``;
    amsgrad: ``v_hat = max(v_hat, v)`` used instead of ``v``;
    ``var -= alpha * m / (sqrt(v) + eps)`` (epsilon outside the sqrt, not bias-corrected).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: first-moment decay in [0, 1).
        beta_2: second-moment decay in [0, 1).
        epsilon: positive constant (default 1e-7).
        amsgrad: keep the running maximum of ``v``.
        **kwargs: base arguments.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        who = type(self).__name__
        self.beta_1 = _beta(beta_1, "beta_1", who)
        self.beta_2 = _beta(beta_2, "beta_2", who)
        self.epsilon = _epsilon(epsilon, who)
        self.amsgrad = bool(amsgrad)

    def _create_slots(self, var):
        slots = {"momentum": np.zeros_like(var.data), "velocity": np.zeros_like(var.data)}
        if self.amsgrad:
            slots["velocity_hat"] = np.zeros_like(var.data)
        return slots

    def _update(self, var, grad, slots, lr):
        # scalars in the variable's dtype, as Keras computes them (float32 parity)
        t, lr, beta_1, beta_2 = _scalars(var, self.iterations + 1, lr, self.beta_1, self.beta_2)
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m, v = slots["momentum"], slots["velocity"]
        # the same arithmetic as the formulas above, in place in two scratch buffers
        step, denominator = self._scratch(var, 2)
        np.subtract(grad, m, out=step)
        step *= 1 - self.beta_1
        m += step  # m += (g - m) * (1 - beta_1)
        np.square(grad, out=step)
        step -= v
        step *= 1 - self.beta_2
        v += step  # v += (g^2 - v) * (1 - beta_2)
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.multiply(m, alpha, out=step)
        np.sqrt(v, out=denominator)
        denominator += self.epsilon
        step /= denominator
        var.data -= step  # var -= alpha * m / (sqrt(v) + eps)

    def _update_in_chunks(self, var, grad, slots, lr):
        if (type(self)._update is Adam._update and not self.amsgrad
                and var.size >= WHOLE_VECTOR_SIZE and grad.dtype == var.dtype
                and _parallel.threads() > 1 and blas_level1.available(var.dtype)):
            return self._update_whole(var, grad, slots, lr)
        return super()._update_in_chunks(var, grad, slots, lr)

    def _update_whole(self, var, grad, slots, lr):
        """:meth:`_update` on a variable of :data:`WHOLE_VECTOR_SIZE` values or more, on
        every core: the moments as ``m = beta_1 * m + (1 - beta_1) * g`` (and the same for
        ``v``) and the step by BLAS's ``scal`` and ``axpy`` (:mod:`blas_level1`: one pass
        each, shared between BLAS's threads), the square, root and quotient by blocks
        shared between the pool's threads. The same maths as the slices of
        :meth:`_update`, rounded differently (the fused multiply-adds): within float
        rounding of it, not bit for bit."""
        t, lr, beta_1, beta_2 = _scalars(var, self.iterations + 1, lr, self.beta_1, self.beta_2)
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        flat, grad = var.data.reshape(-1), grad.reshape(-1)
        m, v = slots["momentum"].reshape(-1), slots["velocity"].reshape(-1)
        (step,) = (a.reshape(-1) for a in self._scratch(var, 1))  # g^2, then the quotient
        blas_level1.scal(self.beta_1, m)
        blas_level1.axpy(1 - self.beta_1, grad, m)
        _parallel.elementwise(lambda out, g: np.square(g, out=out), step, grad)
        blas_level1.scal(self.beta_2, v)
        blas_level1.axpy(1 - self.beta_2, step, v)
        epsilon = var.dtype.type(self.epsilon)

        def quotient(out, velocity, momentum):  # m / (sqrt(v) + eps)
            np.sqrt(velocity, out=out)
            out += epsilon
            np.divide(momentum, out, out=out)

        _parallel.elementwise(quotient, step, v, m)
        blas_level1.axpy(-alpha, step, flat)  # var -= alpha * m / (sqrt(v) + eps)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay: ``var -= var * weight_decay * lr`` before the Adam step.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        weight_decay: float >= 0 (default 0.004, as Keras).
        beta_1, beta_2, epsilon, amsgrad: as :class:`Adam`.
        **kwargs: other base arguments.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number, got None (use Adam instead)")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adam with the infinity norm.

    ``m += (g - m) * (1 - beta_1)``; ``u = max(beta_2 * u, |g|)``;
    ``var -= lr * m / ((1 - beta_1**t) * (u + eps))``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: first-moment decay in [0, 1).
        beta_2: infinity-norm decay in [0, 1).
        epsilon: positive constant (default 1e-7).
        **kwargs: base arguments.
    """

    elementwise = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _beta(beta_1, "beta_1", "Adamax")
        self.beta_2 = _beta(beta_2, "beta_2", "Adamax")
        self.epsilon = _epsilon(epsilon, "Adamax")

    def _create_slots(self, var):
        return {"m": np.zeros_like(var.data), "u": np.zeros_like(var.data)}

    def _update(self, var, grad, slots, lr):
        t, lr, beta_1 = _scalars(var, self.iterations + 1, lr, self.beta_1)
        m, u = slots["m"], slots["u"]
        m += (grad - m) * (1 - self.beta_1)
        np.maximum(self.beta_2 * u, np.abs(grad), out=u)
        var.data -= (lr * m) / ((1 - beta_1**t) * (u + self.epsilon))

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat), with Keras's momentum schedule.

    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``, ``u_{t+1}`` likewise; ``P_t = prod u_1..u_t``
    (kept across steps as ``u_product``); ``m``, ``v`` as Adam;
    ``m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)``;
    ``v_hat = v / (1 - beta_2**t)``; ``var -= lr * m_hat / (sqrt(v_hat) + eps)``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: first-moment decay in [0, 1).
        beta_2: second-moment decay in [0, 1).
        epsilon: positive constant (default 1e-7).
        **kwargs: base arguments.
    """

    elementwise = True

    _GLOBALS = ("u_product",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _beta(beta_1, "beta_1", "Nadam")
        self.beta_2 = _beta(beta_2, "beta_2", "Nadam")
        self.epsilon = _epsilon(epsilon, "Nadam")
        self._u_product = 1.0

    def _create_slots(self, var):
        return {"momentum": np.zeros_like(var.data), "velocity": np.zeros_like(var.data)}

    def _before_updates(self):
        self._u_product *= self.beta_1 * (1.0 - 0.5 * 0.96 ** (self.iterations + 1))

    def _update(self, var, grad, slots, lr):
        t, lr, beta_1, beta_2, decay, product = _scalars(
            var, self.iterations + 1, lr, self.beta_1, self.beta_2, 0.96, self._u_product
        )
        u_t = beta_1 * (1 - 0.5 * decay**t)
        u_next = beta_1 * (1 - 0.5 * decay ** (t + 1))
        product_next = product * u_next
        m, v = slots["momentum"], slots["velocity"]
        m += (grad - m) * (1 - self.beta_1)
        v += (np.square(grad) - v) * (1 - self.beta_2)
        m_hat = u_next * m / (1 - product_next) + (1 - u_t) * grad / (1 - product)
        v_hat = v / (1 - beta_2**t)
        var.data -= (m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


from npgrad.optimizers.adadelta import Adadelta  # noqa: E402 - after the base rules
from npgrad.optimizers.adafactor import Adafactor  # noqa: E402
from npgrad.optimizers.ftrl import Ftrl  # noqa: E402
from npgrad.optimizers.lamb import Lamb  # noqa: E402
from npgrad.optimizers.lion import Lion  # noqa: E402
from npgrad.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap  # noqa: E402
from npgrad.optimizers.muon import Muon  # noqa: E402
from npgrad.optimizers.schedule_free import ScheduleFreeAdamW  # noqa: E402

_CLASSES = (SGD, RMSprop, Adagrad, Adam, AdamW, Adamax, Nadam, Adadelta, Adafactor, Ftrl, Lamb,
            Lion, Muon, ScheduleFreeAdamW, MultiOptimizer)
ALL_OBJECTS = {cls.__name__.lower(): cls for cls in _CLASSES}


def _lookup(name):
    cls = ALL_OBJECTS.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"Unknown optimizer {name!r}. Valid names: {', '.join(sorted(ALL_OBJECTS))}"
        )
    return cls


def serialize(optimizer):
    """Return ``{"class_name": ..., "config": ...}`` for an optimizer (JSON-able).

    Args:
        optimizer: an :class:`Optimizer`.

    Returns:
        dict.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizers.serialize: expected an Optimizer, got {type(optimizer).__name__}")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    """Rebuild an optimizer (without its state) from :func:`serialize`'s dict."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"optimizers.deserialize: expected a dict with 'class_name', got {config!r}")
    return _lookup(config["class_name"]).from_config(dict(config.get("config") or {}))


def get(identifier):
    """Turn a name, config dict, class or instance into an optimizer.

    Args:
        identifier: a string ('sgd', 'adam', 'rmsprop', 'adagrad', 'adamw', 'adamax', 'nadam';
            case-insensitive, so Keras's 'Adam' and 'RMSprop' work), a dict
            ``{"class_name": ..., "config": {...}}``, an Optimizer class or instance.

    Returns:
        An :class:`Optimizer` (a new one with default arguments for names and classes).

    Raises:
        ValueError: for an unknown name (listing the valid ones) or another kind of value.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
