"""Run by tests/distribution/test_sync_batch_norm.py alone and under ``mpiexec -n 2``.

    python sync_bn_worker.py SCENARIO OUT_DIR [DTYPE]

``sync``: a small CNN with ``BatchNormalization(synchronized=True)`` after its convolution
and a ``SyncBatchNormalization`` after its dense layer; ``plain``: the same model with
per-process batch statistics. Both train two epochs on 34 samples at a global batch of 11
(slices of 5 and 6 samples, and a last batch of one sample, which leaves one rank a
stand-in). Every rank writes ``OUT_DIR/result_<rank>.npz``: the weights (moving statistics
included) and the History.
"""

import os
import sys

import numpy as np

import npgrad
from npgrad import layers as L


def model(dtype, synchronized):
    # no bias before a batch norm (it cancels: its gradient is rounding noise, which Adam
    # would blow up to full steps in float32); every layer in the test's dtype
    npgrad.utils.set_random_seed(5)
    net = npgrad.Sequential([
        npgrad.Input((5, 5, 2)),
        L.Conv2D(3, 3, padding="same", use_bias=False, dtype=dtype),
        L.BatchNormalization(momentum=0.8, synchronized=synchronized, dtype=dtype),
        L.ReLU(dtype=dtype),
        L.Flatten(dtype=dtype),
        L.Dense(6, use_bias=False, dtype=dtype),
        (L.SyncBatchNormalization if synchronized else L.BatchNormalization)(momentum=0.7,
                                                                             dtype=dtype),
        L.Activation("tanh", dtype=dtype),
        L.Dense(2, dtype=dtype),
    ])
    net.compile(npgrad.optimizers.Adam(0.01),
                npgrad.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
    return net


def main():
    scenario, out = sys.argv[1], sys.argv[2]
    dtype = sys.argv[3] if len(sys.argv) > 3 else "float64"
    npgrad.distribution.initialize()
    npgrad.distribution.set_distribution(npgrad.distribution.DataParallel())
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(34, 5, 5, 2)) + np.arange(34)[:, None, None, None] / 10).astype(dtype)
    y = (x[:, :2].sum(axis=(1, 2, 3)) > 3.4).astype("int64")
    net = model(dtype, synchronized=scenario == "sync")
    history = net.fit(x, y, batch_size=11, epochs=2, verbose=0)
    arrays = {f"w{i}_{w.name}": np.asarray(w.data) for i, w in enumerate(net.weights)}
    arrays.update({f"h_{k}": np.asarray(v) for k, v in history.history.items()})
    arrays["predictions"] = net.predict(x, batch_size=17, verbose=0)
    rank = npgrad.distribution.process_id()
    np.savez(os.path.join(out, f"result_{rank}.npz"), **arrays)


if __name__ == "__main__":
    main()
