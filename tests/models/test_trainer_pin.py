"""The seed CNN trains as it did with the trainer before the Keras 3 split.

tests/reference/trainer_pin.npz was written by tests/reference/make_trainer_pin.py with the
old one-class trainer (commit 486225d): 2 epochs with shuffling, validation_split and
class_weight. The same run today must give the same History (accuracies exactly) and the
same weights up to float32 rounding: OpenBLAS picks its GEMM kernels by CPU (the pin was
written on an Intel Xeon; an AMD EPYC's kernels round differently, 1e-8 apart after the two
epochs), and npgrad's ops may sum in another order (a bias gradient as a GEMV). A change in
what the trainer does (batch order, the validation split, the class weights) moves them by
orders of magnitude more.
"""

from pathlib import Path

import numpy as np

from tests.reference.make_trainer_pin import seed_cnn_run

PIN = Path(__file__).resolve().parents[1] / "reference" / "trainer_pin.npz"


def test_seed_cnn_weights_and_history_match_the_pinned_run():
    weights, history = seed_cnn_run()
    with np.load(PIN, allow_pickle=False) as pinned:
        assert len(weights) == sum(k.startswith("w") for k in pinned.files)
        for i, w in enumerate(weights):
            np.testing.assert_allclose(w, pinned[f"w{i}"], rtol=1e-5, atol=1e-6)
        assert sorted(history) == sorted(k[2:] for k in pinned.files if k.startswith("h_"))
        for key, values in history.items():
            if "accuracy" in key:  # counts of right answers: exact
                np.testing.assert_array_equal(np.asarray(values), pinned[f"h_{key}"])
            else:
                np.testing.assert_allclose(np.asarray(values), pinned[f"h_{key}"], rtol=1e-6)
