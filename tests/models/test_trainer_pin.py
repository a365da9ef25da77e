"""The seed CNN trains bit-identically to the trainer before the Keras 3 split.

tests/reference/trainer_pin.npz was written by tests/reference/make_trainer_pin.py with the
old one-class trainer (commit 486225d): 2 epochs with shuffling, validation_split and
class_weight. The same run today must give the same weights and History, bit for bit.
"""

from pathlib import Path

import numpy as np

from tests.reference.make_trainer_pin import seed_cnn_run

PIN = Path(__file__).resolve().parents[1] / "reference" / "trainer_pin.npz"


def test_seed_cnn_weights_and_history_are_bit_identical_to_the_pinned_run():
    weights, history = seed_cnn_run()
    with np.load(PIN, allow_pickle=False) as pinned:
        assert len(weights) == sum(k.startswith("w") for k in pinned.files)
        for i, w in enumerate(weights):
            np.testing.assert_array_equal(w, pinned[f"w{i}"])
        for key, values in history.items():
            np.testing.assert_array_equal(np.asarray(values), pinned[f"h_{key}"])
