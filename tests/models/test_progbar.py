"""The progress bar: plain lines off a terminal, redraws with \\r on one, Keras 3 text."""

import io

from npgrad.utils.progbar import Progbar
from npgrad.utils.summary import readable_size


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_output_is_one_final_line_without_control_characters():
    out = io.StringIO()
    bar = Progbar(5, file=out)
    for step in range(1, 6):
        bar.update(step, values=[("accuracy", 0.5 + step / 10), ("loss", 1.0 / step)])
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text and "\b" not in text
    assert text.count("\n") == 1
    assert text.startswith("5/5 " + "━" * 20 + " ")
    # the final update sets the values it is given (logs are already epoch averages)
    assert text.rstrip().endswith("- accuracy: 1.0000 - loss: 0.2000")
    assert "/step" in text


def test_terminal_output_redraws_in_place_and_shows_an_eta():
    out = FakeTerminal()
    bar = Progbar(4, interval=0.0, file=out)
    bar.update(1, values=[("loss", 2.0)])
    bar.update(2, values=[("loss", 1.0)])
    first_lines = out.getvalue()
    assert first_lines.startswith("\r") and "\n" not in first_lines
    assert "s - loss: 1.5000" in first_lines  # ETA seconds, then the running average
    bar.update(4, values=[("loss", 0.5)])
    assert out.getvalue().endswith("\n") and "loss: 0.5000" in out.getvalue().split("\r")[-1]


def test_verbose_two_and_zero():
    out = io.StringIO()
    bar = Progbar(3, verbose=2, file=out)
    bar.update(1, values=[("loss", 1.0)])
    assert out.getvalue() == ""
    bar.update(3, values=[("loss", 0.25)])
    assert out.getvalue().startswith("3/3 - ") and out.getvalue().endswith("- loss: 0.2500\n")
    silent = io.StringIO()
    quiet = Progbar(3, verbose=0, file=silent)
    quiet.add(3, values=[("loss", 1.0)])
    assert silent.getvalue() == ""


def test_stateful_metrics_unknown_target_and_small_values():
    out = io.StringIO()
    bar = Progbar(None, file=out, stateful_metrics=["lr"])
    bar.update(1, values=[("lr", 0.1), ("tiny", 1e-5)])
    bar.update(2, values=[("lr", 0.05), ("tiny", 1e-5)], finalize=True)
    text = out.getvalue()
    assert text.startswith("2/Unknown") and "lr: 0.0500" in text and "tiny: 1.0000e-05" in text


def test_readable_sizes():
    assert readable_size(0) == "0.00 B"
    assert readable_size(139304) == "136.04 KB"
    assert readable_size(3 * 1024 ** 2) == "3.00 MB"


def test_a_one_batch_predict_reports_the_time_of_its_batch(capsys):
    # the bar started after the first batch, so one batch of 50 ms read "61us/step"
    import re
    import time

    import numpy as np

    import npgrad

    class Slow(npgrad.layers.Layer):
        def call(self, x):
            time.sleep(0.05)
            return x

    inp = npgrad.Input((2,))
    model = npgrad.Model(inp, Slow()(inp))
    capsys.readouterr()
    model.predict(np.ones((4, 2)), verbose=1)
    found = re.search(r"(\d+)(ms|s)/step", capsys.readouterr().out)
    assert found and (found.group(2) == "s" or int(found.group(1)) >= 40), found
