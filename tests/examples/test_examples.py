"""Run each example's quick mode as a user would, in a subprocess."""

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
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _accuracy(output):
    return float(re.findall(r"test accuracy ([0-9.]+)", output)[-1])


@pytest.mark.example
@needs_mnist
def test_mnist_cnn_quick(tmp_path):
    out = run_example("mnist_cnn.py", "--quick", "--seed", "0", "--out", str(tmp_path), "--verbose", "2")
    assert "Total params: 34,826" in out
    assert _accuracy(out) > 0.80  # 2,000 images, one epoch
    assert (tmp_path / "model.npgrad").exists()


@pytest.mark.example
@needs_mnist
def test_mnist_mlp_quick():
    assert _accuracy(run_example("mnist_mlp.py", "--quick", "--seed", "0")) > 0.80


@pytest.mark.example
@needs_mnist
def test_custom_loop_quick():
    assert _accuracy(run_example("custom_loop.py", "--quick")) > 0.75


@pytest.mark.example
def test_xor_learns():
    out = run_example("xor.py")
    assert "accuracy 1.00" in out


@pytest.mark.example
def test_mnist_cnn_without_data_says_how_to_supply_it(tmp_path):
    env = dict(os.environ, NPGRAD_DATA=str(tmp_path), NPGRAD_CACHE=str(tmp_path / "cache"),
               NPGRAD_OFFLINE="1", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "mnist_cnn.py"), "--quick", "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode != 0
    assert "NPGRAD_DATA" in result.stderr and "train-images-idx3-ubyte" in result.stderr


def _reconstruction(output):
    before, after = re.findall(r"test reconstruction mse ([0-9.]+) -> ([0-9.]+)", output)[-1]
    return float(before), float(after)


@pytest.mark.example
def test_autoencoder_custom_train_step_learns_from_x_alone():
    before, after = _reconstruction(run_example("autoencoder.py", "--quick", "--synthetic"))
    assert after < before / 3


@pytest.mark.example
@needs_mnist
def test_autoencoder_on_mnist_quick():
    before, after = _reconstruction(run_example("autoencoder.py", "--quick"))
    assert after < before / 3


@pytest.mark.example
def test_segmentation_quick_finds_the_shapes():
    out = run_example("segmentation.py", "--quick")
    accuracy, background, iou = map(float, re.findall(
        r"pixel accuracy ([0-9.]+) \(all background: ([0-9.]+)\), mean IoU ([0-9.]+)", out)[-1])
    # an all-background mask scores `background` and an IoU near 0.28: the net beats both
    assert accuracy > background + 0.02 and iou > 0.4


@pytest.mark.example
def test_transformer_text_quick_learns_word_order():
    out = run_example("transformer_text.py", "--quick", "--seed", "0")
    assert "multi_head_attention (MultiHeadAttention)" in out
    # who gave it depends on word order: a bag of words stays near 50%, the encoder does not
    assert _accuracy(out) > 0.75


@pytest.mark.example
@needs_mnist
def test_mnist_data_parallel_quick_on_two_thread_replicas(tmp_path):
    out = run_example("mnist_data_parallel.py", "--quick", "--threads", "2", "--out", str(tmp_path))
    assert "processes 1, forked by fit 1, replicas 2" in out
    assert _accuracy(out) > 0.5  # 2,000 images, one epoch at batch 128
    assert (tmp_path / "model.npgrad").exists()


@pytest.mark.example
@needs_mnist
@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="DataParallel(processes=) forks: Linux and the other Unixes")
def test_mnist_data_parallel_quick_on_two_forked_processes(tmp_path):
    out = run_example("mnist_data_parallel.py", "--quick", "--processes", "2",
                      "--out", str(tmp_path))
    assert "processes 1, forked by fit 2, replicas 1" in out
    assert out.count("Epoch 1/1") <= 1 and out.count("16/16") == 1  # the fork prints nothing
    assert _accuracy(out) > 0.5
    assert (tmp_path / "model.npgrad").exists()


@pytest.mark.example
def test_wgan_gp_quick_covers_the_ring():
    # the gradient penalty is a second-order gradient (create_graph=True); 300 steps
    out = run_example("wgan_gp.py", "--quick")
    radius, modes = re.findall(r"mean radius ([0-9.]+) .* modes reached (\d) of 8", out)[-1]
    assert abs(float(radius) - 2.0) < 0.5 and int(modes) >= 6
    norm = float(re.findall(r"gradient norm ([0-9.]+)", out)[-1])
    assert 0.2 < norm < 3.0  # the penalty keeps the critic's slope near 1
