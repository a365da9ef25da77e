"""Global settings, as ``keras.config``: default float dtype, fuzz factor, image layout, switches.

Example:
    >>> import npgrad
    >>> npgrad.config.floatx()
    'float32'
    >>> npgrad.config.set_floatx("float64")      # new Tensors from Python data, ops.ones, ...
    >>> npgrad.config.backend()
    'npgrad'

``set_floatx`` really changes the default dtype: Tensors made from Python numbers and lists,
the ``npgrad.ops`` creation functions (``ones``, ``zeros``, ``arange`` of floats, ...), ops on
integer inputs and ``npgrad.random`` draw in it. Layers keep the dtype they were created with
(``dtype=`` argument). Switches that mean nothing for a NumPy library (traceback filtering,
unsafe deserialization, flash attention) are kept as flags so Keras code that sets them runs.
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import default_float, set_default_float

_FLOAT_DTYPES = ("float16", "float32", "float64")
_settings = {
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
    "traceback_filtering": True,
    "interactive_logging": True,
    "unsafe_deserialization": False,
    "flash_attention": None,
}


def backend():
    """The name of the backend: ``"npgrad"`` (NumPy arrays with npgrad's autograd)."""
    return "npgrad"


def floatx():
    """The default float dtype, as a string (``"float32"`` unless changed)."""
    return default_float().name


def set_floatx(value):
    """Set the default float dtype: ``"float16"``, ``"float32"`` or ``"float64"``.

    Raises:
        ValueError: any other value (bfloat16 has no NumPy dtype).
    """
    if value not in _FLOAT_DTYPES:
        raise ValueError(f"set_floatx: expected one of {_FLOAT_DTYPES}, got {value!r}")
    set_default_float(value)


def epsilon():
    """The fuzz factor added to denominators (default 1e-7)."""
    return _settings["epsilon"]


def set_epsilon(value):
    """Set the fuzz factor returned by :func:`epsilon`."""
    _settings["epsilon"] = float(value)


def image_data_format():
    """``"channels_last"``: npgrad's images are NHWC."""
    return _settings["image_data_format"]


def set_image_data_format(data_format):
    """Set the image layout; only ``"channels_last"`` (NHWC) is supported.

    Raises:
        ValueError: ``"channels_first"`` or anything else.
    """
    if data_format != "channels_last":
        raise ValueError(
            f"set_image_data_format: npgrad layers work on channels_last (NHWC) images only, "
            f"got {data_format!r}"
        )
    _settings["image_data_format"] = data_format


def dtype_policy():
    """The global dtype policy's name: the float dtype (npgrad has no mixed precision)."""
    return floatx()


def set_dtype_policy(policy):
    """Set the dtype policy: a float dtype name (``"float32"``, ``"float64"``).

    Raises:
        ValueError: mixed-precision policies (``"mixed_float16"``...), which npgrad lacks.
    """
    name = getattr(policy, "name", policy)
    if name not in _FLOAT_DTYPES:
        raise ValueError(
            f"set_dtype_policy: npgrad supports the policies {_FLOAT_DTYPES} (no mixed "
            f"precision), got {name!r}"
        )
    set_floatx(name)


def enable_traceback_filtering():
    """Kept for Keras code: npgrad never filters tracebacks (a flag only)."""
    _settings["traceback_filtering"] = True


def disable_traceback_filtering():
    """Kept for Keras code: npgrad never filters tracebacks (a flag only)."""
    _settings["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    """The flag set by :func:`enable_traceback_filtering` (no effect on tracebacks)."""
    return _settings["traceback_filtering"]


def enable_interactive_logging():
    """Progress bars, model summaries and callback messages go to stdout (the default)."""
    _settings["interactive_logging"] = True


def disable_interactive_logging():
    """Progress bars, model summaries and callback messages go to Python's ``logging``
    (logger ``"npgrad"``, level INFO) instead of stdout, as Keras sends them to ``absl``."""
    _settings["interactive_logging"] = False


def is_interactive_logging_enabled():
    """Whether progress output goes to stdout (True) or to ``logging`` (False)."""
    return _settings["interactive_logging"]


def enable_unsafe_deserialization():
    """Kept for Keras code: npgrad's loaders never execute code from a file, so loading a
    ``Lambda`` layer stays impossible; this only sets a flag."""
    _settings["unsafe_deserialization"] = True


def is_unsafe_deserialization_enabled():
    """The flag set by :func:`enable_unsafe_deserialization` (no effect)."""
    return _settings["unsafe_deserialization"]


def enable_flash_attention():
    """Kept for Keras code (no effect: there is no flash attention on the CPU)."""
    _settings["flash_attention"] = True


def disable_flash_attention():
    """Kept for Keras code (no effect)."""
    _settings["flash_attention"] = False


def is_flash_attention_enabled():
    """The flash-attention flag (None until set, as Keras)."""
    return _settings["flash_attention"]


__all__ = [
    "backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
    "set_image_data_format", "dtype_policy", "set_dtype_policy", "enable_traceback_filtering",
    "disable_traceback_filtering", "is_traceback_filtering_enabled", "enable_interactive_logging",
    "disable_interactive_logging", "is_interactive_logging_enabled",
    "enable_unsafe_deserialization", "is_unsafe_deserialization_enabled",
    "enable_flash_attention", "disable_flash_attention", "is_flash_attention_enabled",
]  # fmt: skip
