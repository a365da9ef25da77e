"""A Keras 3 style progress bar.

On a terminal the bar is redrawn in place with ``\\r``::

    1875/1875 ━━━━━━━━━━━━━━━━━━━━ 12s 6ms/step - accuracy: 0.9532 - loss: 0.1547

When the output is not a terminal (a log file, a pipe, CI), nothing is drawn while the
epoch runs and one plain line (no ``\\r``, no ANSI escapes) is written when it ends. After
``npgrad.utils.disable_interactive_logging()`` that line goes to Python's ``logging``
instead (:func:`npgrad.utils.io_utils.print_msg`), as Keras sends it to ``absl.logging``.

Example:
    >>> bar = Progbar(target=100)
    >>> for step in range(1, 101):
    ...     bar.update(step, values=[("loss", 0.1)])
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from npgrad.utils.io_utils import is_interactive_logging_enabled, print_msg


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps expected, None if unknown.
        width: bar width in characters (Keras 3's default is 20).
        verbose: 0 silent, 1 progress bar, 2 one line when the target is reached.
        interval: minimum seconds between two redraws on a terminal.
        stateful_metrics: names of values shown as given; others are averaged over steps.
        unit_name: the unit in the per-step time (``'6ms/step'``).
        file: stream to write to (default ``sys.stdout`` at each write, or the ``"npgrad"``
            logger while interactive logging is disabled).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", file=None):
        self.target = target
        self.width = int(width)
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._file = file
        self._values = {}
        self._values_order = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_at_first_step = None  # step 1 includes building the model: not in the rate
        self._prev_total_width = 0

    @property
    def file(self):
        return self._file if self._file is not None else sys.stdout

    @property
    def _dynamic_display(self):
        if self._file is None and not is_interactive_logging_enabled():
            return False  # log records: one line per finished bar
        isatty = getattr(self.file, "isatty", None)
        return bool(isatty and isatty())

    def update(self, current, values=None, finalize=None):
        """Update the bar.

        Args:
            current: index of the current step (1-based count of steps done).
            values: list of ``(name, value)`` pairs; non-stateful values are averaged
                over the steps, weighted by the number of steps each update covers.
            finalize: whether this is the last update; default ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._values_order:
                self._values_order.append(name)
            value = _scalar(value)
            if name in self.stateful_metrics or finalize:
                self._values[name] = [value, 1]
            else:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * steps, count + steps]
        self._seen_so_far = current

        now = time.time()
        if self._time_at_first_step is None and current == 1:
            self._time_at_first_step = now
        if self.verbose == 1:
            if not finalize and not self._dynamic_display:
                return  # plain output: one line when the epoch ends, like a finished bar
            if not finalize and now - self._last_update < self.interval:
                return
            line = self._bar(current) + self._info(current, now, finalize)
            self._write_line(line, finalize)
        elif self.verbose == 2 and finalize:
            count = self._count(current)
            line = f"{count} - {now - self._start:.0f}s - {self._per_step(current, now)}"
            self._write_line(line + self._values_text(), True)
        self._last_update = now

    def add(self, n, values=None):
        """Advance by ``n`` steps (see :meth:`update`)."""
        self.update(self._seen_so_far + n, values)

    # ------------------------------------------------------------- formatting
    def _count(self, current):
        if self.target is None:
            return f"{current}/Unknown"
        digits = int(math.log10(max(self.target, 1))) + 1
        return f"{current:>{digits}d}/{self.target}"

    def _bar(self, current):
        count = self._count(current)
        if self.target is None:
            return count
        done = min(int(self.width * current / max(self.target, 1)), self.width)
        if self._dynamic_display:  # bold count, green done part, dim rest (Keras 3 colours)
            return (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m"
                    f"\x1b[37m{'━' * (self.width - done)}\x1b[0m")
        return f"{count} {'━' * done}{' ' * (self.width - done)}"

    def _info(self, current, now, finalize):
        if self.target is None or finalize:
            text = f" {now - self._start:.0f}s {self._per_step(current, now)}"
        else:
            eta = self._time_per_step(current, now) * (self.target - current)
            text = f" {_format_eta(eta)}"
        return text + self._values_text()

    def _time_per_step(self, current, now):
        # the first step also builds the model and warms caches: leave it out once possible
        if self._time_at_first_step is not None and current > 1:
            return (now - self._time_at_first_step) / (current - 1)
        return (now - self._start) / max(current, 1)

    def _per_step(self, current, now):
        seconds = self._time_per_step(current, now)
        if seconds >= 1 or seconds == 0:
            return f"{seconds:.0f}s/{self.unit_name}"
        if seconds >= 1e-3:
            return f"{seconds * 1e3:.0f}ms/{self.unit_name}"
        return f"{seconds * 1e6:.0f}us/{self.unit_name}"

    def _values_text(self):
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            value = total / max(count, 1)
            if not isinstance(value, float):
                text += f" - {name}: {value}"
            elif value == 0 or abs(value) > 1e-3:
                text += f" - {name}: {value:.4f}"
            else:
                text += f" - {name}: {value:.4e}"
        return text

    def _write_line(self, line, finalize):
        if self._dynamic_display:
            padding = max(self._prev_total_width - len(line), 0)
            print_msg("\r" + line + " " * padding, line_break=finalize, file=self.file)
            self._prev_total_width = len(line)
        else:
            print_msg(line, file=self._file)


def _scalar(value):
    """A float from a number, 0-d array or Tensor; other things are shown as text."""
    data = getattr(value, "data", value)
    try:
        array = np.asarray(data)
    except Exception:  # noqa: BLE001 - anything odd is displayed as is
        return value
    if array.size == 1 and array.dtype.kind in "fiub":
        return float(array.reshape(()))
    return value


def _format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"
