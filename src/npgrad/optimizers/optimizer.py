"""The Optimizer base class: slots, clipping, weight decay, schedules, state.

A subclass declares its slots and writes one ``_update(var, grad, slots, lr)`` that changes
``var.data`` in place with vectorized NumPy (no graph is ever built). The base class does
the rest, in Keras 3's order for every ``apply_gradients`` call:

1. drop pairs whose gradient is None (if none remain, the call is a no-op);
2. clip the gradients (``clipnorm`` per variable, or ``global_clipnorm`` over all, or
   ``clipvalue`` elementwise; at most one of them);
3. decoupled weight decay, ``var -= var * weight_decay * lr``;
4. ``_update`` per variable with the learning rate at step ``iterations``;
5. with ``use_ema``, the moving average of each updated variable (Keras's
   ``ema_momentum``; the first step copies the variable), and every
   ``ema_overwrite_frequency`` steps the variables overwritten by their averages;
6. ``iterations += 1``; every :data:`FLUSH_EVERY` steps, the slots' values below a tiny
   bound are set to 0 (:func:`flush_tiny`: no update ever works on subnormal numbers).

The update rules are memory-bound: a dozen NumPy passes over arrays as large as the variable.
For a large variable of an optimizer whose rule is elementwise (``elementwise = True``, every
built-in one), ``_update`` is called on consecutive slices of ``CHUNK_BYTES`` instead, so the
passes after the first find the slice in the CPU's cache rather than in main memory (Adam
on a 692k-element kernel: 2.6 -> 2.1 ms per step inside training). Each element gets the
same arithmetic, so the result is bit for bit the one of a single call.

State format (``get_state`` / ``set_state``), flat so it fits an ``.npz``:
``"iterations"`` (int64 scalar), ``"learning_rate"`` (float64 scalar, absent when the rate is a
schedule), optimizer-wide values such as Nadam's ``"u_product"``, and one entry per slot
``"slots/{i}/{slot_name}"`` where ``i`` is the variable's index in the ``variables`` list
given to ``get_state``/``set_state`` (the model's ``trainable_weights`` order).
"""

import math

import numpy as np

from npgrad.autograd import Tensor
from npgrad.distribution import current as distribution_state
from npgrad.optimizers import schedules
from npgrad.utils.allocator import keep_freed_memory

#: elementwise rules update variables larger than twice this in slices of this many bytes
CHUNK_BYTES = 1 << 18
#: steps between two :func:`flush_tiny` passes over the slots: a moment at the bound
#: (5e-26) decays by Adam's 0.9 to 2e-27 in 32 steps, far from making subnormal numbers
FLUSH_EVERY = 32
#: per float dtype, 2**k such that (x + c) - c is 0 for |x| < ulp(c) / 2: float32 2**-60
#: (values below 5e-26), float64 2**-900 (below 1.5e-287)
_FLUSH = {np.dtype(np.float32): np.float32(2.0**-60), np.dtype(np.float64): np.float64(2.0**-900)}


def flush_tiny(slot):
    """Set the values of ``slot`` (an optimizer's running average, in place) below a tiny
    bound (5e-26 in float32) to 0, so that its updates never make subnormal numbers.

    A moment whose gradient stays 0 (a dead ReLU's weights) decays by its beta every step,
    and long before it is subnormal itself (below 1.2e-38 in float32) the update's
    intermediates are: Adam's ``(g - m) * (1 - beta_1)``, ``(g**2 - v) * (1 - beta_2)`` (v
    below 1.2e-35), ``m * alpha``. On Intel CPUs an arithmetic operation on a subnormal
    value takes a microcode assist, about a hundred times the usual cost: seed model B at
    batch 32 on a 2-core Xeon spent 0.19 s per 120 steps in Adam, then 0.72 s from about
    step 700 on. NumPy cannot set the CPU's flush-to-zero mode (TensorFlow sets it on its
    threads); ``(x + c) - c`` with a power of two ``c`` rounds exactly the values below
    ``ulp(c) / 2`` to 0 and moves the others by less than ``ulp(c)`` (1e-25 in float32):
    Adam's step ``alpha * m / (sqrt(v) + eps)`` changes by under 1e-18 times the learning
    rate. Other dtypes are left as they are.
    """
    c = _FLUSH.get(getattr(slot, "dtype", None))
    if c is not None and isinstance(slot, np.ndarray) and slot.size:
        slot += c
        slot -= c


def check_range(value, name, who, low, high, high_inclusive):
    """``value`` as a float in [low, high] (or [low, high)), or a ValueError naming ``who``."""
    if not isinstance(value, (int, float, np.floating)) or isinstance(value, bool):
        raise ValueError(f"{who}: {name} must be a number, got {value!r}")
    inside = low <= value <= high if high_inclusive else low <= value < high
    if not inside:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{who}: {name} must be in [{low}, {high}{bracket}, got {value!r}")
    return float(value)


def _check_positive(value, name, who, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, (int, float, np.floating)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{who}: {name} must be a positive number, got {value!r}")
    return float(value)


def check_beta(value, name, who):
    """``value`` as a float in [0, 1), or a ValueError naming ``who`` and ``name``."""
    return check_range(value, name, who, 0.0, 1.0, False)


def check_epsilon(value, who, name="epsilon"):
    """``value`` as a positive float, or a ValueError naming ``who`` and ``name``."""
    return _check_positive(value, name, who)


def scalars(var, *values):
    """The given numbers as scalars of ``var``'s dtype (Keras casts step, rate and betas)."""
    return [var.dtype.type(value) for value in values]


def apply_constraints(variables):
    """Keras' last step of ``apply``: ``var = var.constraint(var)`` for every variable that
    has a ``constraint`` attribute (set by a layer's ``kernel_constraint`` /
    ``bias_constraint``); the constraint receives and returns an ndarray of the same shape."""
    for var in variables:
        constraint = getattr(var, "constraint", None)
        if constraint is None:
            continue
        value = constraint(var.data)
        var.data[...] = value.data if isinstance(value, Tensor) else value


class Optimizer:
    """Base class of npgrad's optimizers (Keras 3 semantics).

    Args:
        learning_rate: float >= 0, a ``schedules.LearningRateSchedule`` (evaluated at
            ``iterations``), or a no-argument callable returning the rate.
        clipnorm: clip each gradient so its L2 norm is at most this.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: scale all gradients together so their joint L2 norm is at most this.
        weight_decay: decoupled weight decay factor (``var -= var * weight_decay * lr``).
        use_ema: keep an exponential moving average of every variable (slot ``"average"``),
            ``average = ema_momentum * average + (1 - ema_momentum) * var`` after each step.
            ``Model.fit`` (and ``GAN.fit``) copies the averages into the variables when it
            ends (:meth:`finalize_variable_values`), as Keras does; averaged weights often
            generalize better, and a GAN generator's samples get cleaner.
        ema_momentum: the average's decay in [0, 1) (default 0.99, as Keras).
        ema_overwrite_frequency: overwrite the variables with their averages every this many
            steps (None: only when training ends).
        name: a label.

    Attributes:
        iterations: number of ``apply_gradients`` calls that updated something.
    """

    _GLOBALS = ()  # names of optimizer-wide float state saved by get_state (e.g. Nadam)
    #: True when ``_update`` treats every element on its own (no norms, no reductions over
    #: the variable), so that it may be called on slices of a variable one after another
    elementwise = False

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name=None):
        who = type(self).__name__
        self.name = name or who.lower()
        self.clipnorm = _check_positive(clipnorm, "clipnorm", who, allow_none=True)
        self.clipvalue = _check_positive(clipvalue, "clipvalue", who, allow_none=True)
        self.global_clipnorm = _check_positive(global_clipnorm, "global_clipnorm", who, allow_none=True)
        given = [n for n in ("clipnorm", "clipvalue", "global_clipnorm") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"{who}: set at most one of clipnorm, clipvalue, global_clipnorm; got {given}")
        if weight_decay is not None:
            weight_decay = check_range(weight_decay, "weight_decay", who, 0.0, math.inf, True)
        self.weight_decay = weight_decay
        self.use_ema = bool(use_ema)
        self.ema_momentum = check_range(ema_momentum, "ema_momentum", who, 0.0, 1.0, False)
        if ema_overwrite_frequency is not None and (
                not isinstance(ema_overwrite_frequency, (int, np.integer))
                or isinstance(ema_overwrite_frequency, bool) or ema_overwrite_frequency < 1):
            raise ValueError(
                f"{who}: ema_overwrite_frequency must be a positive int or None, got "
                f"{ema_overwrite_frequency!r}"
            )
        self.ema_overwrite_frequency = (None if ema_overwrite_frequency is None
                                        else int(ema_overwrite_frequency))
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.iterations = 0
        self._variables = []  # strong refs in first-seen order: keeps the id() keys unique
        self._slots = {}  # id(variable) -> {slot name: ndarray}
        self._no_decay_ids, self._no_decay_names = set(), ()

    # ---------------------------------------------------------------- learning rate
    @property
    def learning_rate(self):
        """The rate used by the next update (a schedule is evaluated at ``iterations``)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        if callable(self._learning_rate):
            return float(self._learning_rate())
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        who = type(self).__name__
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                f"{who}: this optimizer was created with a LearningRateSchedule, so its learning "
                f"rate cannot be set to a number; assign a new schedule instead"
            )
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        self._learning_rate = check_range(value, "learning_rate", who, 0.0, math.inf, True)

    @property
    def learning_rate_schedule(self):
        """The schedule (or callable) given as learning rate, or None for a constant rate."""
        return None if isinstance(self._learning_rate, float) else self._learning_rate

    # ---------------------------------------------------------------- slots
    def _create_slots(self, var):
        """Return the new slots of ``var`` as ``{name: ndarray}`` (override; default none)."""
        return {}

    def _all_slots(self, var):
        """The rule's slots plus, with ``use_ema``, the moving average (a copy of ``var``)."""
        slots = self._create_slots(var)
        if self.use_ema:
            slots["average"] = var.data.copy()
        return slots

    def _slots_for(self, var):
        key = id(var)
        if key not in self._slots:
            self._slots[key] = self._all_slots(var)
            self._variables.append(var)
        return self._slots[key]

    def _scratch(self, var, count):
        """``count`` reusable work arrays shaped like ``var`` (not state: never saved).

        The slices of one variable share the buffers of its first (largest) slice.
        """
        key = var.scratch_key if isinstance(var, _Slice) else id(var)
        buffers = self.__dict__.setdefault("_scratch_buffers", {}).get(key)
        if buffers is None or len(buffers) < count or buffers[0].size < var.size \
                or buffers[0].dtype != var.dtype:
            buffers = [np.empty(var.size, dtype=var.dtype) for _ in range(count)]
            self._scratch_buffers[key] = buffers
        return [buffer[:var.size].reshape(var.shape) for buffer in buffers[:count]]

    def build(self, variables):
        """Create the slots of every variable now (otherwise done lazily on first update).

        Args:
            variables: iterable of Tensors.
        """
        for var in variables:
            self._slots_for(self._check_variable(var))

    @property
    def variables(self):
        """The variables this optimizer holds slots for, in first-seen order."""
        return list(self._variables)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: given Tensors, or any whose name contains one of
        ``var_names`` (e.g. ``["bias", "gamma"]``)."""
        self._no_decay_ids |= {id(var) for var in (var_list or [])}
        self._no_decay_names = tuple(self._no_decay_names) + tuple(var_names or ())

    def _weight_decay_of(self, var):
        """The decoupled weight decay factor of ``var`` (Muon uses two)."""
        return self.weight_decay

    def _use_weight_decay(self, var):
        if not self.weight_decay or id(var) in self._no_decay_ids:
            return False
        name = getattr(var, "name", None) or ""
        return not any(part in name for part in self._no_decay_names)

    # ---------------------------------------------------------------- updates
    def _check_variable(self, var):
        if not isinstance(var, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor variable, got {type(var).__name__}")
        if var.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: variables must be floating, got dtype {var.dtype}")
        return var

    def _as_gradient(self, grad, var):
        grad = grad.data if isinstance(grad, Tensor) else grad
        grad = np.asarray(grad, dtype=var.dtype)
        if grad.shape != var.shape:
            name = f" {var.name!r}" if var.name else ""
            raise ValueError(
                f"{type(self).__name__}: gradient of shape {grad.shape} does not match variable"
                f"{name} of shape {var.shape}"
            )
        return grad

    def _clip_gradients(self, grads):
        """Keras 3 clipping; returns new arrays (the caller's gradients are never modified)."""
        if self.clipnorm is not None:
            clipped = []
            for grad in grads:
                norm = math.sqrt(float(np.sum(np.square(grad, dtype=np.float64))))
                # Keras: g * clipnorm / max(norm, clipnorm)
                clipped.append(grad * (self.clipnorm / max(norm, self.clipnorm)))
            return clipped
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            scale = self.global_clipnorm / max(total, self.global_clipnorm)
            if not math.isfinite(total):
                scale = math.nan  # as Keras: a non-finite global norm poisons every gradient
            return [grad * scale for grad in grads]
        if self.clipvalue is not None:
            return [np.clip(grad, -self.clipvalue, self.clipvalue) for grad in grads]
        return grads

    def _before_updates(self):
        """Hook run once per step before the per-variable updates (Nadam's product)."""

    def _update(self, var, grad, slots, lr):
        """Update ``var.data`` in place from ``grad`` (override).

        Args:
            var: the Tensor to update.
            grad: ndarray of ``var``'s shape and dtype (already clipped).
            slots: this variable's ``{name: ndarray}`` slots, updated in place.
            lr: the learning rate for this step (float).
        """
        raise NotImplementedError

    def apply_gradients(self, grads_and_vars):
        """Apply one optimization step.

        Args:
            grads_and_vars: iterable of ``(gradient, variable)``; the gradient is an ndarray,
                a Tensor or None (skipped), the variable a floating Tensor updated in place.

        Returns:
            The new ``iterations`` count.
        """
        pairs = [(g, self._check_variable(v)) for g, v in grads_and_vars if g is not None]
        if not pairs:
            return self.iterations
        keep_freed_memory()  # a custom loop trains: reuse big blocks across its steps
        variables = [var for _, var in pairs]
        grads = [self._as_gradient(g, var) for g, var in pairs]
        data_parallel = distribution_state.active()
        if data_parallel is not None:  # sum every rank's share of the batch
            grads = data_parallel.reduce_gradients(grads)
            if not data_parallel.updates_weights:  # a thread replica: rank 0 updates the
                data_parallel.after_update()      # arrays it shares, this one waits for it
                return self.iterations
            try:
                return self._apply_reduced(grads, variables)
            finally:
                data_parallel.after_update()
        return self._apply_reduced(grads, variables)

    def _apply_reduced(self, grads, variables):
        """The update itself, from gradients already summed over the ranks."""
        grads = self._clip_gradients(grads)
        lr = self.learning_rate
        for var in variables:  # slots first (Keras builds before any update): a slot that
            self._slots_for(var)  # starts as a copy of the variable copies it undecayed
        for var in variables:
            if self._use_weight_decay(var):
                var.data -= var.data * self._weight_decay_of(var) * lr
        self._before_updates()
        for grad, var in zip(grads, variables):
            slots = self._slots_for(var)
            grad = _in_variable_layout(grad, var)
            if self.elementwise and var.data.nbytes > 2 * CHUNK_BYTES and _contiguous(var, slots):
                self._update_in_chunks(var, grad, slots, lr)
            else:
                self._update(var, grad, slots, lr)
        if self.use_ema:
            self._update_averages(variables)
        self.iterations += 1
        if self.iterations % FLUSH_EVERY == 0:
            for var in variables:
                for slot in self._slots_for(var).values():
                    flush_tiny(slot)
        apply_constraints(variables)
        return self.iterations

    def apply(self, grads, trainable_variables):
        """Keras 3's spelling: apply ``grads`` (a list, None entries skipped) to
        ``trainable_variables`` (the same length, in the same order).

        Raises:
            ValueError: the two lists differ in length.
        """
        grads, trainable_variables = list(grads), list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                             f"{len(trainable_variables)} variables")
        return self.apply_gradients(zip(grads, trainable_variables))

    def _update_averages(self, variables):
        """Moving averages after a step (Keras: the first step copies the variable)."""
        momentum = self.ema_momentum if self.iterations > 0 else 0.0
        for var in variables:
            average = self._slots[id(var)]["average"]
            average *= momentum
            average += (1.0 - momentum) * var.data
        frequency = self.ema_overwrite_frequency
        if frequency and (self.iterations + 1) % frequency == 0:
            self.finalize_variable_values(variables)

    def moving_average(self, var):
        """The moving average of ``var`` (an ndarray, the optimizer's own) with ``use_ema``,
        or None (no ``use_ema``, or ``var`` not updated yet)."""
        slots = self._slots.get(id(var))
        return None if slots is None else slots.get("average")

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, set each variable to its moving average (otherwise do nothing).

        ``Model.fit`` calls it when training ends, as Keras does.

        Args:
            var_list: the variables (Tensors); those without an average are left alone.
        """
        if not self.use_ema:
            return
        for var in var_list:
            slots = self._slots.get(id(var))
            if slots is not None and "average" in slots:
                var.data[...] = slots["average"]

    def _update_in_chunks(self, var, grad, slots, lr):
        """``_update`` on consecutive slices of ``var`` of ``CHUNK_BYTES`` each."""
        flat = var.data.reshape(-1)  # views: the caller checked contiguity, and put the
        grad = grad.reshape(-1)  # gradient in the variable's C order (_in_variable_layout)
        flat_slots = {name: value.reshape(-1) for name, value in slots.items()}
        step = max(1, CHUNK_BYTES // var.dtype.itemsize)
        for start in range(0, var.size, step):
            part = slice(start, start + step)
            self._update(_Slice(flat[part], var.name, id(var)), grad[part],
                         {name: value[part] for name, value in flat_slots.items()}, lr)

    def step(self, params):
        """PyTorch-style step: update every parameter from its ``.grad`` (None grads skipped).

        Args:
            params: iterable of Tensors (e.g. ``model.trainable_weights``).
        """
        params = list(params)
        return self.apply_gradients([(p.grad, p) for p in params])

    @staticmethod
    def zero_grad(params):
        """Forget the accumulated gradient of every parameter (``p.grad = None``)."""
        for param in params:
            param.grad = None

    # ---------------------------------------------------------------- config and state
    def get_config(self):
        """Return the constructor arguments as a JSON-able dict (schedules serialized)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(self._learning_rate)
        else:
            learning_rate = self.learning_rate
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
        }

    @classmethod
    def from_config(cls, config):
        """Build an optimizer from ``get_config()``'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def get_state(self, variables=None):
        """Return the optimizer's state as a flat ``{key: ndarray}`` dict (copies).

        Args:
            variables: the variables whose slots to save, in the order ``set_state`` will be
                given; defaults to the first-seen order.

        Returns:
            dict with "iterations", "learning_rate" (constant rates only), global values and
            "slots/{i}/{slot_name}" for each variable index ``i`` that has slots.
        """
        variables = self._variables if variables is None else list(variables)
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        if isinstance(self._learning_rate, float):
            state["learning_rate"] = np.asarray(self._learning_rate, dtype=np.float64)
        for name in self._GLOBALS:
            state[name] = np.asarray(getattr(self, "_" + name), dtype=np.float64)
        for index, var in enumerate(variables):
            for slot_name, value in self._slots.get(id(var), {}).items():
                state[f"slots/{index}/{slot_name}"] = value.copy()
        return state

    def set_state(self, state, variables):
        """Restore ``get_state``'s output for the same list of variables.

        Args:
            state: dict (or an open ``np.load`` archive filtered to these keys).
            variables: the variables, in the order used when the state was saved.

        Raises:
            ValueError: for a missing "iterations", an unknown key, an index beyond
                ``variables`` or a slot whose shape does not match its variable.
        """
        who = type(self).__name__
        variables = [self._check_variable(v) for v in variables]
        state = dict(state)
        if "iterations" not in state:
            raise ValueError(f"{who}.set_state: the state has no 'iterations' entry")
        new_slots = {}
        for key, value in state.items():
            if key in ("iterations", "learning_rate") or key in self._GLOBALS:
                continue
            parts = key.split("/")
            if len(parts) != 3 or parts[0] != "slots" or not parts[1].isdigit():
                raise ValueError(f"{who}.set_state: unexpected state key {key!r}")
            index, slot_name = int(parts[1]), parts[2]
            if index >= len(variables):
                raise ValueError(
                    f"{who}.set_state: key {key!r} refers to variable {index}, but only "
                    f"{len(variables)} variables were given"
                )
            var = variables[index]
            template = self._all_slots(var)
            if slot_name not in template:
                raise ValueError(f"{who}.set_state: {who} has no slot {slot_name!r} (key {key!r})")
            value = np.asarray(value)
            if value.shape != template[slot_name].shape:  # a variable's shape, or Adafactor's r, c
                raise ValueError(
                    f"{who}.set_state: slot {key!r} has shape {value.shape}, expected "
                    f"{template[slot_name].shape} for its variable of shape {var.shape}"
                )
            new_slots.setdefault(index, template)[slot_name] = value.astype(var.dtype, copy=True)
        self._variables, self._slots = [], {}
        for index, var in enumerate(variables):
            if index in new_slots:
                self._slots[id(var)] = new_slots[index]
                self._variables.append(var)
        self.iterations = int(np.asarray(state["iterations"]))
        if "learning_rate" in state and not isinstance(self._learning_rate, schedules.LearningRateSchedule):
            self.learning_rate = float(np.asarray(state["learning_rate"]))
        for name in self._GLOBALS:
            if name in state:
                setattr(self, "_" + name, float(np.asarray(state[name])))

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate!r}, name={self.name!r})"


def _in_variable_layout(grad, var):
    """``grad`` C-ordered when the variable is and the gradient is not (one copy).

    A weight gradient computed as a transposed product (the recurrent ops' ``(dZ @ X).T``)
    arrives in Fortran order, and an update rule's dozen passes mixing it with the C-ordered
    variable and slots would each run NumPy's strided loop: Adam on an LSTM(64)'s kernel and
    recurrent kernel took 156-168 us a step against 99-105 us with C-ordered gradients (a
    2-core AMD EPYC). The values are the same either way.
    """
    if (isinstance(grad, np.ndarray) and not grad.flags.c_contiguous
            and var.data.flags.c_contiguous):
        return np.ascontiguousarray(grad)
    return grad


def _contiguous(var, slots):
    return var.data.flags.c_contiguous and all(v.flags.c_contiguous for v in slots.values())


class _Slice:
    """A contiguous slice of a variable, passed to ``_update`` in its place.

    It offers what update rules read from a variable (``data``, ``dtype``, ``shape``,
    ``size``, ``name``); ``data`` is a view, so updating it updates the variable.
    """

    __slots__ = ("data", "name", "scratch_key")

    def __init__(self, data, name, scratch_key):
        self.data, self.name, self.scratch_key = data, name, scratch_key

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return self.data.size
