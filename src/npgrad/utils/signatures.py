"""What a user's method accepts, read from its signature: Keras 3 passes ``training``,
``mask`` and the like only to a ``call`` (or ``compute_loss``) that takes them."""

from __future__ import annotations

import inspect


def takes(function, name):
    """Whether ``function`` takes the argument ``name`` (``training`` also through
    ``**kwargs``). False for a callable without a readable signature."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    if name in parameters:
        return True
    return name == "training" and any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def first_parameter(method):
    """The name of an unbound method's first argument after ``self`` (None when it has
    none, or when it is keyword-only or variadic)."""
    try:
        parameters = list(inspect.signature(method).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    first = parameters[0] if parameters else None
    return first.name if first is not None and first.kind in (
        first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD) else None


def default_of(function, name):
    """The default value of ``function``'s argument ``name`` (None when it has no default, no
    such argument or no readable signature)."""
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return None
    if parameter is None or parameter.default is parameter.empty:
        return None
    return parameter.default
