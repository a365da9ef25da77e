"""One optimizer per group of variables: ``OptimizerMap`` and ``MultiOptimizer`` (Keras 3).

Variables are matched by name (a layer's weight is named ``"<layer>/<weight>"``, Keras's
``variable.path`` for a top-level layer): first an exact key, then the keys as regular
expressions (``re.fullmatch``), else the default optimizer.

Example:
    >>> opt = npgrad.optimizers.MultiOptimizer(npgrad.optimizers.OptimizerMap(
    ...     npgrad.optimizers.SGD(0.01), {"encoder.*": npgrad.optimizers.Adam(1e-3)}))
    >>> model.compile(optimizer=opt, loss="mse")
"""

import re

from npgrad.optimizers.optimizer import Optimizer


class OptimizerMap:
    """Map variable names to optimizers, with a default for the names no key matches.

    Args:
        default_optimizer: the optimizer of unmatched variables.
        optimizer_map: optional ``{name or regular expression: optimizer}``.

    Raises:
        TypeError: for a default that is not an Optimizer, or a map that is not a dict.
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                f"OptimizerMap: default_optimizer must be an Optimizer, got {default_optimizer!r}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: optimizer_map must be a dict, got {optimizer_map!r}")
        self.default_optimizer = default_optimizer
        self._map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    def __getitem__(self, key):
        """The optimizer of a variable name: exact key, else the one matching pattern.

        Raises:
            ValueError: when several patterns match.
        """
        if key in self._map:
            return self._map[key]
        matches = [pattern for pattern in self._map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"OptimizerMap: several optimizers match variable {key!r}: {matches}")
        return self._map[matches[0]] if matches else self.default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: keys must be strings, got {key!r}")
        if key in self._map:
            raise ValueError(f"OptimizerMap: {key!r} is already mapped to {self._map[key]!r}")
        if not isinstance(optimizer, Optimizer) or isinstance(optimizer, MultiOptimizer):
            raise ValueError(
                f"OptimizerMap: values must be optimizers (not a MultiOptimizer), got {optimizer!r}"
            )
        self._map[key] = optimizer

    def __delitem__(self, key):
        del self._map[key]

    def __len__(self):
        return len(self._map)

    def __iter__(self):
        return iter(self._map)

    def keys(self):
        """The keys (names or patterns)."""
        return self._map.keys()

    def values(self):
        """The mapped optimizers (without the default)."""
        return self._map.values()

    def items(self):
        """``(key, optimizer)`` pairs."""
        return self._map.items()

    def __call__(self, variable):
        """The optimizer of a variable (by its ``name``)."""
        return self[getattr(variable, "name", None) or ""]

    def get_config(self):
        """JSON-able: the default and the mapped optimizers as ``{"class_name", "config"}``."""
        return {"default_optimizer": _serialized(self.default_optimizer),
                "optimizer_map": {key: _serialized(opt) for key, opt in self._map.items()}}

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config`'s output."""
        return cls(_deserialized(config["default_optimizer"]),
                   {key: _deserialized(value) for key, value in config["optimizer_map"].items()})


def _serialized(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def _deserialized(config):
    """An inner optimizer from ``{"class_name", "config"}``: any Optimizer subclass by name."""
    name = config.get("class_name") if isinstance(config, dict) else None
    stack, found = [Optimizer], None
    while stack and found is None:
        cls = stack.pop()
        found = cls if cls.__name__ == name and cls is not Optimizer else None
        stack.extend(cls.__subclasses__())
    if found is None or found is MultiOptimizer:
        raise ValueError(f"OptimizerMap: unknown optimizer config {config!r}")
    return found.from_config(dict(config.get("config") or {}))


class MultiOptimizer(Optimizer):
    """Delegate each variable to the optimizer an :class:`OptimizerMap` (or callable) picks.

    Each inner optimizer keeps its own rate, slots and step count; ``iterations`` counts the
    MultiOptimizer's own steps. As in Keras, the learning rate cannot be read or set here:
    use the inner optimizers (:attr:`optimizers`).

    Args:
        optimizer_map: an :class:`OptimizerMap`, or a callable ``variable -> Optimizer``.
        name: a label.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(0.0, name=name)
        if not callable(optimizer_map):
            raise TypeError(
                f"MultiOptimizer: optimizer_map must be an OptimizerMap or a callable, got "
                f"{optimizer_map!r}"
            )
        self.loss_scale_factor = loss_scale_factor
        self._optimizer_map = optimizer_map
        self._inner = []
        if isinstance(optimizer_map, OptimizerMap):
            for optimizer in list(optimizer_map.values()) + [optimizer_map.default_optimizer]:
                if optimizer not in self._inner:
                    self._inner.append(optimizer)

    @property
    def learning_rate(self):
        """Not available on a MultiOptimizer (AttributeError, as Keras)."""
        raise AttributeError(
            "MultiOptimizer: read the learning rate on the inner optimizers (`.optimizers`)"
        )

    @learning_rate.setter
    def learning_rate(self, value):
        if "_optimizer_map" in self.__dict__:  # after construction, as Keras: refuse
            raise AttributeError(
                "MultiOptimizer: set the learning rate on the inner optimizers (`.optimizers`)"
            )
        self._learning_rate = value  # the base class's constructor stores its 0.0

    @property
    def optimizers(self):
        """The inner optimizers, in first-use order."""
        return list(self._inner)

    def _optimizer_of(self, var):
        optimizer = self._optimizer_map(var)
        if not isinstance(optimizer, Optimizer) or isinstance(optimizer, MultiOptimizer):
            raise ValueError(
                f"MultiOptimizer: the optimizer for variable {var.name!r} must be an Optimizer "
                f"(not a MultiOptimizer), got {optimizer!r}"
            )
        if optimizer not in self._inner:
            self._inner.append(optimizer)
        return optimizer

    def _groups(self, pairs):
        """``[(optimizer, [items...])]`` in inner-optimizer order; pairs are (x, var)."""
        groups = {}
        for item, var in pairs:
            groups.setdefault(id(self._optimizer_of(var)), []).append((item, var))
        return [(opt, groups[id(opt)]) for opt in self._inner if id(opt) in groups]

    def build(self, variables):
        """Build every inner optimizer on its variables."""
        for optimizer, group in self._groups([(None, var) for var in variables]):
            optimizer.build([var for _, var in group])

    def apply_gradients(self, grads_and_vars):
        """Apply one step: each inner optimizer updates its own variables.

        Returns:
            The MultiOptimizer's new ``iterations`` count.
        """
        pairs = [(g, self._check_variable(v)) for g, v in grads_and_vars if g is not None]
        if not pairs:
            return self.iterations
        for optimizer, group in self._groups([(g, v) for g, v in pairs]):
            optimizer.apply_gradients(group)
        self.iterations += 1
        return self.iterations

    def finalize_variable_values(self, var_list):
        """Each inner optimizer's ``finalize_variable_values`` on its variables."""
        for optimizer, group in self._groups([(None, var) for var in var_list]):
            optimizer.finalize_variable_values([var for _, var in group])

    def moving_average(self, var):
        """The moving average the variable's optimizer keeps (None without ``use_ema``)."""
        return self._optimizer_of(var).moving_average(var)

    def get_state(self, variables=None):
        """``iterations`` and each inner optimizer's state under ``optimizer_{k}/``.

        Args:
            variables: the variables, in the order ``set_state`` will be given.
        """
        variables = list(variables if variables is not None else [])
        state = {"iterations": super().get_state([])["iterations"]}
        for k, (optimizer, group) in enumerate(self._groups([(None, v) for v in variables])):
            index = self._inner.index(optimizer)
            for key, value in optimizer.get_state([var for _, var in group]).items():
                state[f"optimizer_{index}/{key}"] = value
        return state

    def set_state(self, state, variables):
        """Restore :meth:`get_state`'s output for the same variables."""
        variables = [self._check_variable(v) for v in variables]
        state = dict(state)
        if "iterations" not in state:
            raise ValueError("MultiOptimizer.set_state: the state has no 'iterations' entry")
        groups = self._groups([(None, v) for v in variables])
        for optimizer, group in groups:
            prefix = f"optimizer_{self._inner.index(optimizer)}/"
            inner = {key[len(prefix):]: value for key, value in state.items()
                     if key.startswith(prefix)}
            if inner:
                optimizer.set_state(inner, [var for _, var in group])
        known = {f"optimizer_{self._inner.index(opt)}/" for opt, _ in groups}
        unknown = [key for key in state if key != "iterations"
                   and not any(key.startswith(prefix) for prefix in known)]
        if unknown:
            raise ValueError(f"MultiOptimizer.set_state: unexpected state keys {unknown[:3]}")
        self.iterations = int(state["iterations"])

    def get_config(self):
        """JSON-able config (an OptimizerMap is serialized; a plain callable cannot be)."""
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise ValueError("MultiOptimizer: only an OptimizerMap can be serialized, not a "
                             f"callable ({self._optimizer_map!r})")
        return {"name": self.name, "loss_scale_factor": self.loss_scale_factor,
                "optimizer_map": self._optimizer_map.get_config()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["optimizer_map"] = OptimizerMap.from_config(config["optimizer_map"])
        return cls(**config)

    def __repr__(self):
        return f"MultiOptimizer(optimizers={self._inner!r}, name={self.name!r})"
