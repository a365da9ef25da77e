"""``Config`` (``keras.utils.Config``): a dict of named settings that also reads and writes
them as attributes, can be frozen, and turns into JSON.

Example:
    >>> config = npgrad.utils.Config(learning_rate=0.1, momentum=0.9)
    >>> config.use_ema = True                  # attribute style
    >>> config["seed"] = 123                   # dict style
    >>> config.learning_rate, config["use_ema"]
    (0.1, True)
    >>> config.freeze()
    >>> config.seed = 1                        # ValueError: the config is frozen
"""

from __future__ import annotations

import copy
import difflib
import json

__all__ = ["Config"]

#: the names that stay ordinary attributes (everything else is an entry)
_OWN = frozenset({"_config", "_frozen"})


class Config:
    """A dict-like container of named values with attribute access (Keras 3's
    ``keras.utils.Config``).

    Entries are set and read as attributes (``config.seed = 1``) or items
    (``config["seed"]``); ``keys``, ``values``, ``items``, ``get``, ``pop``, ``update``,
    ``len``, ``in`` and ``del`` work as on a dict. Iterating gives the keys in sorted order
    (as Keras). :meth:`freeze` makes every change raise ``ValueError``.

    Args:
        **kwargs: the initial entries.
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", kwargs)
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        """True while the config is frozen."""
        return self._frozen

    def freeze(self):
        """Forbid further changes (they raise ``ValueError``)."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        """Allow changes again."""
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self):
        """A (shallow) copy of the entries as a plain dict."""
        return copy.copy(self._config)

    def to_json(self):
        """The entries as a JSON string (``TypeError`` for values JSON cannot hold)."""
        return json.dumps(self._config)

    def keys(self):
        """The entries' names, as ``dict.keys``."""
        return self._config.keys()

    def values(self):
        """The entries' values, as ``dict.values``."""
        return self._config.values()

    def items(self):
        """``(name, value)`` pairs, as ``dict.items``."""
        return self._config.items()

    def pop(self, *args):
        """Remove an entry and return its value, as ``dict.pop``."""
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        """Add or replace entries, as ``dict.update``."""
        self._raise_if_frozen()
        return self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        """The entry's value, or ``value`` when there is none."""
        return self._config.get(keyname, value)

    def __setattr__(self, name, value):
        if name in _OWN or hasattr(type(self), name):
            return object.__setattr__(self, name, value)
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name):  # only called for names that are not attributes
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        message = f"Unknown attribute: '{name}'."
        closest = difflib.get_close_matches(name, [str(k) for k in config], n=1, cutoff=0.7)
        if closest:
            message += f" Did you mean '{closest[0]}'?"
        raise AttributeError(message)

    def __setitem__(self, key, item):
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item):
        return item in self._config

    def __iter__(self):
        return iter(sorted(self._config))

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"
