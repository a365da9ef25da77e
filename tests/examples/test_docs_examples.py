"""The learning path's examples (docs/0*.md), each run in its --quick mode in a subprocess.

Each test checks the numbers the example prints, not only that it ran. The MNIST ones skip
when NPGRAD_DATA is not set (the other example tests do the same).
"""

import importlib.util
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
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def run_example(name, *args, timeout=300):
    """Run ``examples/name`` with MPLBACKEND=Agg (NPGRAD_DATA passes through); its stdout."""
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=timeout, env=env, cwd=str(EXAMPLES.parent))
    assert result.returncode == 0, (
        f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def _is_png(path):
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.example
def test_backprop_by_hand_matches_autograd():
    out = run_example("backprop_by_hand.py", "--quick")
    difference = float(re.search(r"largest difference over all gradients: (\S+)", out).group(1))
    assert difference < 1e-12
    assert len(re.findall(r"max \|difference\|", out)) == 4       # W1, b1, W2, b2


@pytest.mark.example
def test_optimizers_2d_momentum_and_adam_beat_plain_sgd(tmp_path):
    out = run_example("optimizers_2d.py", "--quick", "--out", str(tmp_path))
    distance = {name.strip(): float(d) for name, d in
                re.findall(r"^(.+?)\s+final .* distance to minimum ([0-9.]+)", out, re.M)}
    assert len(distance) == 4, out
    sgd = distance["SGD lr=1e-3"]
    assert distance["SGD momentum=0.9 lr=1e-3"] < sgd and distance["Adam lr=5e-2"] < sgd
    assert _is_png(tmp_path / "trajectories.png") == HAS_MATPLOTLIB


@pytest.mark.example
@pytest.mark.slow
@needs_mnist
def test_regularization_prints_every_variant(tmp_path):
    out = run_example("regularization.py", "--quick", "--out", str(tmp_path))
    rows = re.findall(r"^(\w+)\s+([0-9.]+)\s+([0-9.]+)\s+(-?[0-9.]+)\s+([0-9.]+)\s+(\d+)", out, re.M)
    variants = {row[0]: [float(v) for v in row[1:]] for row in rows}
    assert set(variants) == {"baseline", "l2", "dropout", "batchnorm", "augmentation", "combined"}
    for train_acc, val_acc, gap, best_val, _ in variants.values():
        assert 0 <= val_acc <= best_val + 1e-9 <= 1 + 1e-9 and abs(train_acc - val_acc - gap) < 2e-3
    assert variants["baseline"][1] > 0.5                          # chance is 0.1
    assert _is_png(tmp_path / "curves.png") == HAS_MATPLOTLIB


@pytest.mark.example
@pytest.mark.slow
@needs_mnist
def test_transfer_learning_freezes_the_base(tmp_path):
    out = run_example("transfer_learning.py", "--quick", "--out", str(tmp_path))
    assert "frozen base weights unchanged by training: True" in out
    row = re.search(r"^\s+200\s+([0-9.]+)\s+([0-9.]+)$", out, re.M)      # 200 images of 5-9
    assert float(row.group(1)) > 0.3 and float(row.group(2)) > 0.2       # chance is 0.2
    counts = re.search(r"frozen base \+ new head (\d+), from scratch (\d+)", out)
    assert int(counts.group(1)) == 800 * 5 + 5                    # only the new Dense head
    assert int(counts.group(2)) == 160 + 4640 + 4005              # the whole CNN
    assert (tmp_path / "digits_0_4.npgrad").exists()


@pytest.mark.example
@pytest.mark.slow
@needs_mnist
def test_saliency_writes_pngs_and_focuses_on_the_ink(tmp_path):
    out = run_example("saliency.py", "--quick", "--out", str(tmp_path))
    assert _is_png(tmp_path / "saliency.png") and _is_png(tmp_path / "activations.png")
    concentration = float(re.search(r"mean concentration of saliency on the ink: ([0-9.]+)x",
                                    out).group(1))
    assert concentration > 1.2                                     # 1.0 would be uniform


@pytest.mark.example
@pytest.mark.slow
@needs_mnist
def test_adversarial_attack_hurts_and_adversarial_training_helps():
    out = run_example("adversarial.py", "--quick")
    table = {m.group(1): [float(v) for v in m.group(2).split()] for m in
             re.finditer(r"^(standard|adversarial)\s+((?:[0-9.]+\s*)+)$", out, re.M)}
    standard, adversarial = table["standard"], table["adversarial"]
    assert len(standard) == len(adversarial) == 6                  # epsilons 0 ... 0.25
    assert standard[0] > 0.6 and standard[2] < standard[0] - 0.3  # epsilon 0.1 breaks it
    assert adversarial[2] > standard[2]


def test_write_png_round_trips_through_zlib(tmp_path):
    sys.path.insert(0, str(EXAMPLES))
    try:
        saliency = importlib.import_module("saliency")
    finally:
        sys.path.remove(str(EXAMPLES))
    import struct
    import zlib

    import numpy as np

    image = (np.arange(6 * 5).reshape(6, 5) * 8).astype(np.uint8)
    saliency.write_png(tmp_path / "x.png", image)
    data = (tmp_path / "x.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (5, 6)
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8:start - 4])[0]
    raw = zlib.decompress(data[start:start + length])
    rows = np.frombuffer(raw, np.uint8).reshape(6, 6)
    assert np.all(rows[:, 0] == 0) and np.array_equal(rows[:, 1:], image)
