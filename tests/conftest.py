"""Shared test configuration: hypothesis profiles and data locations."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# "dev" is quick for local runs; .ci/run selects "ci" (more examples, still minutes).
settings.register_profile(
    "dev", max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REFERENCE = Path(__file__).resolve().parent / "reference" / "keras_reference.npz"


@pytest.fixture(scope="session")
def keras_ref():
    """Keras-computed reference values, part of the checkout (tests/reference/README.md).

    ``NPGRAD_REFERENCE`` may point at another copy (e.g. one just regenerated).
    """
    path = Path(os.environ.get("NPGRAD_REFERENCE", REFERENCE))
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def mnist_data():
    """Real MNIST from NPGRAD_DATA; skips with the reason when it is not available."""
    folder = os.environ.get("NPGRAD_DATA")
    if not folder or not Path(folder).exists():
        pytest.skip("real MNIST not found: set NPGRAD_DATA to a folder holding the MNIST IDX files")
    from npgrad.datasets import mnist

    return mnist.load_data(path=folder)
