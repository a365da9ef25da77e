"""The configuration protocol shared by initializers, regularizers and schedules."""


class Configurable:
    """An object rebuilt from its constructor arguments: ``cls(**obj.get_config())``.

    Subclasses return their arguments from ``get_config`` (JSON-able); ``from_config`` and a
    readable ``repr`` come from here.
    """

    def get_config(self):
        """Return the constructor arguments as a JSON-able dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild the object from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({args})"


def resolve(identifier, base, lookup, deserialize, what):
    """Turn a Keras-style identifier into an object: None, a name, a config dict, a class, a callable.

    Args:
        identifier: what the user passed.
        base: the base class (a subclass is instantiated with no arguments).
        lookup: name -> class (raises ValueError listing the valid names).
        deserialize: config dict -> object.
        what: the kind of object, for the error message.

    Raises:
        ValueError: for anything else.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {what} identifier: {identifier!r}")
