"""With Keras installed (the optional reference environment), recompute the stored Keras
values of tests/reference/losses_metrics/ and check they are current; skipped without Keras."""

import os
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from tests.reference import make_losses_metrics_reference as generator  # noqa: E402

STORED = Path(__file__).resolve().parent / "reference" / "losses_metrics"


def _stored(name):
    with np.load(STORED / f"{name}.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "torch") != "torch",
                    reason="the references were computed with Keras's torch backend")
@pytest.mark.parametrize("name,compute", [
    ("losses", lambda: generator.loss_reference(keras, torch)),
    ("metrics", lambda: generator.metric_reference(keras)),
    ("optimizers", lambda: generator.optimizer_reference(keras, torch)),
    ("activations", lambda: generator.activation_reference(keras, torch)),
])
def test_stored_reference_matches_keras_now(name, compute):
    fresh, stored = compute(), _stored(name)
    assert sorted(fresh) == sorted(stored)
    for key in stored:
        np.testing.assert_allclose(fresh[key], stored[key], rtol=1e-6, atol=1e-7, err_msg=key)
