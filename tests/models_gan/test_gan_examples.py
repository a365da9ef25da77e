"""The GAN examples' quick modes, run as a user would (subprocess)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
needs_mnist = pytest.mark.skipif(
    not os.environ.get("NPGRAD_DATA"),
    reason="real MNIST not found: set NPGRAD_DATA to a folder holding the MNIST IDX files",
)


def run_example(name, *args, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args],
                            capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, (
        f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.mark.example
@pytest.mark.slow
@needs_mnist
@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_gan_mnist_quick_then_quality(tmp_path, model):
    out = run_example("gan_mnist.py", "--quick", "--model", model, "--seed", "0",
                      "--out", str(tmp_path))
    assert re.search(r"trained \w+ GAN on \d+ images for 1 epoch", out)
    for name in ("generator.npgrad", "gan.npgrad", "samples_epoch_001.png"):
        assert (tmp_path / name).exists(), name
    assert (tmp_path / "samples_epoch_001.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    report = run_example("gan_quality.py", "--quick", "--generator",
                         str(tmp_path / "gan.npgrad"), "--classifier",
                         str(tmp_path / "classifier.npgrad"))
    real = re.search(r"real test digits .*confident \(p >= 0.9\) ([0-9.]+)%", report)
    fake = re.search(r"generated samples \(n=200\): confident .* ([0-9.]+) bits", report)
    assert real and fake, report
    accuracy = re.search(r"classifier: test accuracy ([0-9.]+)", report)
    assert accuracy and float(accuracy.group(1)) > 0.5  # the quick classifier does classify
    assert re.search(r"quality bar .*: (PASS|FAIL)", report)
