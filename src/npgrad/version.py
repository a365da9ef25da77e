"""The package version (one place, read by npgrad.__version__ and the Keras file writer)."""

__version__ = "0.1.0"
