"""examples/keras_interop.py --quick: a Keras-made model is fine-tuned and written back."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "keras_interop.py"


@pytest.mark.example
def test_keras_interop_quick(tmp_path):
    pytest.importorskip("h5py")
    env = dict(os.environ, NPGRAD_OFFLINE="1")
    result = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--out", str(tmp_path)], check=False,
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "optimizer Adam at step 8" in result.stdout  # Keras's compile settings and state
    assert "predictions identical=True" in result.stdout
    after = float(result.stdout.split(", after ")[1].split()[0])
    assert after > 0.5  # fine-tuning learned (10 classes: chance is 0.1)
    with zipfile.ZipFile(tmp_path / "fine_tuned.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json",
                                              "model.weights.h5"]
