"""The recurrent examples' quick modes, run as a user would (in a subprocess)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name, *args, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=timeout, env=env)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.slow
@pytest.mark.example
def test_time_series_quick_beats_the_last_value_baseline(tmp_path):
    out = _run("time_series.py", "--quick", "--out", str(tmp_path))
    mse, naive = map(float, re.search(r"test MSE ([0-9.]+) vs naive last-value MSE ([0-9.]+)",
                                      out).groups())
    assert mse < naive


@pytest.mark.slow
@pytest.mark.example
def test_char_rnn_quick_loss_falls_and_it_samples():
    out = _run("char_rnn.py", "--quick")
    losses = [float(v) for v in re.findall(r"epoch +\d+ +loss ([0-9.]+)", out)]
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.3
    assert "--- sample (temperature 0.7)" in out


@pytest.mark.slow
@pytest.mark.example
@pytest.mark.skipif(not os.environ.get("NPGRAD_DATA"),
                    reason="real MNIST not found: set NPGRAD_DATA to a folder holding the MNIST IDX files")
def test_lstm_mnist_rows_quick_learns():
    out = _run("lstm_mnist_rows.py", "--quick", "--seed", "0")
    assert "Total params: 81,674" in out
    assert float(re.findall(r"test accuracy ([0-9.]+)", out)[-1]) > 0.3  # 3,000 images, 1 epoch
