"""Where npgrad's progress bars and model summaries go: stdout while interactive logging
is on (the default), Python's ``logging`` (logger ``"npgrad"``, level INFO) once
``npgrad.utils.disable_interactive_logging()`` (or ``npgrad.config``'s) has been called, as
Keras sends them to ``absl.logging`` then.

Example:
    >>> import logging
    >>> logging.basicConfig(level=logging.INFO)
    >>> npgrad.utils.disable_interactive_logging()   # a server job: logs, not a live bar
    >>> model.fit(x, y, epochs=2)                     # one log record per epoch's bar line
"""

from __future__ import annotations

import logging
import sys

from npgrad.config import (  # the switches live in npgrad.config; keras.utils has them too
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

__all__ = ["disable_interactive_logging", "enable_interactive_logging",
           "is_interactive_logging_enabled", "print_msg"]

#: the logger that receives the messages while interactive logging is off
LOGGER = logging.getLogger("npgrad")


def print_msg(message, line_break=True, file=None):
    """Show a message: written to ``file`` (default ``sys.stdout``) while interactive
    logging is on, logged at INFO level on the ``"npgrad"`` logger while it is off.

    Args:
        message: the text.
        line_break: end it with a newline (stream output only; a log record is one line).
        file: the stream to write to; a stream given explicitly is always written to.
    """
    message = str(message)
    if file is None and not is_interactive_logging_enabled():
        LOGGER.info(message.strip("\r\n"))
        return
    stream = file if file is not None else sys.stdout
    text = message + ("\n" if line_break else "")
    try:
        stream.write(text)
    except UnicodeEncodeError:  # a console that cannot show the bar's box-drawing characters
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.replace("━", "=").encode(encoding, errors="ignore").decode(encoding))
    stream.flush()
