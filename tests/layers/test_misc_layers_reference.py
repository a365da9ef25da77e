"""The core issue-12 layers against reference values Keras computed (stored in the project).

tests/reference/make_misc_layers_reference.py regenerates the files with Keras 3 (PyTorch
backend); these tests need no Keras. For each case: the same weights, the same output, and
one training step (loss ``mean((y - target) ** 2)``): the same input gradient and the same
weights after one SGD(0.1) step.
"""

from pathlib import Path

import numpy as np
import pytest

import npgrad
import npgrad.functional as F
import npgrad.layers as L

FOLDER = Path(__file__).resolve().parents[1] / "reference" / "misc_layers"


def _load(name):
    with np.load(FOLDER / f"{name}.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _cases(ref):
    return sorted({key.split("/")[0] for key in ref})


def _config(ref, case):
    prefix = f"{case}/config/"
    config = {}
    for key, value in ref.items():
        if key.startswith(prefix):
            config[key[len(prefix):]] = value.tolist()
    return config


def _check(layer, ref, case, rtol=1e-5, atol=1e-5):
    """Forward, then (when stored) the input gradient and the weights after one SGD step."""
    x = ref[f"{case}/x"]
    layer._maybe_build(x.shape)
    weights = [ref[f"{case}/w{i}"] for i in range(len(layer.weights)) if f"{case}/w{i}" in ref]
    if weights:
        layer.set_weights(weights)
    xt = npgrad.Tensor(x, requires_grad=True)
    y = layer(xt)
    np.testing.assert_allclose(y.numpy(), ref[f"{case}/y"], rtol=rtol, atol=atol)
    if f"{case}/target" not in ref:
        return
    loss = F.mean(F.square(y - ref[f"{case}/target"]))
    loss.backward()
    np.testing.assert_allclose(xt.grad, ref[f"{case}/dx"], rtol=1e-4, atol=1e-6)
    params = layer.trainable_weights
    if params:
        npgrad.optimizers.SGD(0.1).apply_gradients([(p.grad, p) for p in params])
        for i, w in enumerate(layer.get_weights()):
            np.testing.assert_allclose(w, ref[f"{case}/w{i}_after"], rtol=1e-4, atol=1e-6)


GROUP_NORM = {
    "groups2": lambda: L.GroupNormalization(groups=2),
    "instance": lambda: L.GroupNormalization(groups=-1, epsilon=1e-5),
    "axis1": lambda: L.GroupNormalization(groups=2, axis=1),
    "no_scale": lambda: L.GroupNormalization(groups=3, scale=False),
}


@pytest.mark.parametrize("case", sorted(GROUP_NORM))
def test_group_normalization_matches_stored_keras_values(case):
    _check(GROUP_NORM[case](), _load("group_normalization"), case)


RMS_NORM = {"last": lambda: L.RMSNormalization(),
            "two_axes": lambda: L.RMSNormalization(axis=[1, 2], epsilon=1e-3)}


@pytest.mark.parametrize("case", sorted(RMS_NORM))
def test_rms_normalization_matches_stored_keras_values(case):
    _check(RMS_NORM[case](), _load("rms_normalization"), case)


def test_normalization_matches_stored_keras_values():
    ref = _load("normalization")
    assert _cases(ref) == ["adapted", "fixed", "inverted", "scalar", "two_axes_batches"]
    for case, layer in [("adapted", L.Normalization()), ("inverted", L.Normalization(invert=True)),
                        ("scalar", L.Normalization(axis=None))]:
        layer.adapt(ref[f"{case}/data"])
        _check(layer, ref, case)
    fixed = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0])
    _check(fixed, ref, "fixed")
    images = ref["two_axes_batches/data"]
    batched = L.Normalization(axis=(1, 3))
    batched.adapt([images[:2], images[2:]])  # merged moments equal the whole data's
    _check(batched, ref, "two_axes_batches", rtol=1e-4)


def test_resizing_matches_stored_keras_values():
    ref = _load("resizing")
    cases = _cases(ref)
    assert len(cases) == 7
    for case in cases:
        _check(L.Resizing(**_config(ref, case)), ref, case)


def test_text_vectorization_matches_keras_expectations():
    ref = _load("text_vectorization")
    for case in _cases(ref):
        layer = L.TextVectorization(**_config(ref, case))
        if f"{case}/adapt" in ref:
            layer.adapt(ref[f"{case}/adapt"])
        out = layer(ref[f"{case}/x"])
        np.testing.assert_allclose(out.numpy(), ref[f"{case}/y"], rtol=1e-6, err_msg=case)
