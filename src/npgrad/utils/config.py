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
