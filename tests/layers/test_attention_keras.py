"""Keras parity of the attention layers: Keras's weights moved across, forward values, gradients
of every weight and one SGD step, against reference values Keras computed.

The stored reference (tests/reference/attention/keras_attention.npz, made by
tests/reference/make_attention_reference.py) runs without Keras; the live test recomputes
it with Keras 3 (PyTorch backend) when Keras is installed, and skips otherwise.
"""

import os
from pathlib import Path

import numpy as np
import pytest

import npgrad
import npgrad.functional as F
import npgrad.layers as L
from tests.reference.make_attention_reference import CASES, arrays_for

STORED = Path(__file__).resolve().parents[1] / "reference" / "attention" / "keras_attention.npz"


@pytest.fixture(scope="module")
def stored():
    with np.load(STORED, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _close(actual, expected, err_msg="", tight=True):
    """Tight for float64 references; Keras's torch backend computes some cases partly in
    float32 (``ops.where(mask, x, 0)``, ``convert_to_tensor`` of float64 arrays): their
    outputs come back as float32 and those cases are compared at float32 precision."""
    tight = tight and expected.dtype == np.float64
    np.testing.assert_allclose(actual, expected, rtol=1e-8 if tight else 2e-6,
                               atol=1e-10 if tight else 1e-6, err_msg=err_msg)


def _run_case(name, ref):
    """Replay one case in npgrad and compare with ``ref`` (Keras's values)."""
    spec = CASES[name]
    data = arrays_for(name, spec)
    for key, value in data.items():  # the same inputs Keras saw
        np.testing.assert_array_equal(value, ref[f"{name}/in_{key}"])
    layer = getattr(L, spec["cls"])(dtype="float64", **spec["config"])
    if spec["cls"] in ("Attention", "AdditiveAttention"):
        inputs = [data["query"], data["value"]] + ([data["key"]] if "key" in data else [])
        kwargs = dict(spec.get("call", {}))
        if spec.get("list_masks"):
            kwargs["mask"] = [data["query_mask"], data["value_mask"]]

        def call(**extra):
            return layer(inputs, **kwargs, **extra)
    elif spec["cls"] == "EinsumDense":
        def call(**extra):
            return layer(data["x"])
    else:
        query = data["query"]
        value = query if spec.get("self_attention") else data["value"]
        kwargs = dict(spec.get("call", {}))
        for key in ("key", "attention_mask"):
            if key in data:
                kwargs[key] = data[key]
        # Keras masks travel attached to the tensors (as Embedding(mask_zero=True) does)
        if "query_mask" in data:
            query = npgrad.Tensor(query)
            query._keras_mask = data["query_mask"]
        if "value_mask" in data:
            value = npgrad.Tensor(value)
            value._keras_mask = data["value_mask"]

        def call(**extra):
            return layer(query, value, **kwargs, **extra)

    call()
    tight = ref[f"{name}/output"].dtype == np.float64 and not spec.get("float32_accurate")
    n = len(layer.weights)
    keras_weights = [ref[f"{name}/w{i}"] for i in range(n)]
    assert f"{name}/w{n}" not in ref, "npgrad has fewer weights than Keras"
    layer.set_weights(keras_weights)  # checks Keras's order and shapes
    paths = [str(p) for p in ref[f"{name}/weight_paths"]]
    depth = 2 if spec["cls"] in ("MultiHeadAttention", "GroupQueryAttention") else 1
    assert [w.name.split("/")[-depth:] for w in layer.weights] == \
        [p.split("/")[-depth:] for p in paths]
    if spec.get("scores"):
        out, scores = call(return_attention_scores=True)
        _close(scores.numpy(), ref[f"{name}/scores"], tight=tight)
    else:
        out = call()
    _close(out.numpy(), ref[f"{name}/output"], tight=tight)
    (out * ref[f"{name}/probe"]).sum().backward()
    for i, w in enumerate(layer.trainable_weights):
        _close(w.grad, ref[f"{name}/g{i}"], err_msg=f"gradient of {w.name}", tight=tight)
    # one SGD step lands where Keras's lands: w - lr * grad
    npgrad.optimizers.SGD(learning_rate=0.1).apply_gradients(
        [(w.grad, w) for w in layer.trainable_weights])
    for i, w in enumerate(layer.trainable_weights):
        _close(w.numpy(), ref[f"{name}/w{i}"] - 0.1 * ref[f"{name}/g{i}"], tight=tight)


def _run_dot_product_attention(ref):
    q, k, v = ref["dpa/q"], ref["dpa/k"], ref["dpa/v"]
    cases = {"dpa_plain": {}, "dpa_bias": dict(bias=ref["dpa/bias"]),
             "dpa_mask": dict(mask=ref["dpa/mask"]),
             "dpa_causal_scale": dict(is_causal=True, scale=0.3)}
    for case, kwargs in cases.items():
        out = F.dot_product_attention(q, k, v, **kwargs)
        _close(out.numpy(), ref[f"{case}/output"], err_msg=case)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_stored_keras_reference(stored, name):
    _run_case(name, stored)


def test_dot_product_attention_matches_stored_keras_reference(stored):
    _run_dot_product_attention(stored)


@pytest.fixture(scope="module")
def live():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the live parity test uses Keras's PyTorch backend")
    from tests.reference.make_attention_reference import compute_reference

    return compute_reference()


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras_live(live, name):
    _run_case(name, live)


def test_dot_product_attention_matches_keras_live(live):
    _run_dot_product_attention(live)


def test_stored_reference_is_what_the_script_makes_today(live, stored):
    """The stored file is current: regenerate it with the script when this fails."""
    assert sorted(live) == sorted(stored)
    for key in stored:
        if stored[key].dtype.kind in "fb":
            np.testing.assert_allclose(live[key], stored[key], rtol=1e-6, atol=1e-9, err_msg=key)
