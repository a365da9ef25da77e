"""Keras 3 reference values for the attention layers, stored in tests/reference/attention/.

Run with the reference environment (Keras 3 on its PyTorch backend):

    KERAS_BACKEND=torch /work/refenv/bin/python tests/reference/make_attention_reference.py

For each case it builds the Keras layer in float64, sets random weights (biases too), runs
one forward pass on fixed random inputs, takes the gradient of ``sum(output * probe)``
(``probe`` a fixed random array) with respect to every weight, and stores inputs, weights
(Keras's ``get_weights()`` order), outputs, attention scores and gradients under
``<case>/<name>``. ``tests/layers/test_attention_keras.py`` replays every case in npgrad
against this file (no Keras needed) and, when Keras is installed, against Keras live.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "attention" / "keras_attention.npz"

# case -> (layer class, constructor kwargs, input shapes, call kwargs that are arrays, flags)
CASES = {
    "mha_self_causal": dict(
        cls="MultiHeadAttention", config=dict(num_heads=2, key_dim=3),
        inputs=dict(query=(2, 4, 6)), self_attention=True,
        call=dict(use_causal_mask=True), scores=True),
    "mha_cross_masks": dict(
        cls="MultiHeadAttention",
        config=dict(num_heads=3, key_dim=2, value_dim=4, output_shape=5),
        inputs=dict(query=(2, 4, 6), value=(2, 5, 7), key=(2, 5, 3)),
        masks=dict(attention_mask=(2, 4, 5), query_mask=(2, 4), value_mask=(2, 5)),
        scores=True),
    "mha_fast_path": dict(  # no scores, no dropout: Keras takes ops.dot_product_attention
        # (torch's SDPA with a float32 additive mask there: only float32-accurate)
        cls="MultiHeadAttention", config=dict(num_heads=2, key_dim=4, use_bias=False),
        float32_accurate=True,
        inputs=dict(query=(3, 5, 8), value=(3, 6, 8)),
        masks=dict(attention_mask=(3, 5, 6))),
    "mha_gate_window": dict(
        cls="MultiHeadAttention",
        config=dict(num_heads=2, key_dim=3, use_gate=True, sliding_window=2),
        inputs=dict(query=(2, 5, 4)), self_attention=True, call=dict(use_causal_mask=True),
        scores=True),
    "gqa_gate_window": dict(
        cls="GroupQueryAttention",
        config=dict(head_dim=2, num_query_heads=2, num_key_value_heads=1, use_gate=True,
                    sliding_window=3),
        inputs=dict(query=(2, 5, 4), value=(2, 5, 4)), scores=True),
    "gqa_causal": dict(
        cls="GroupQueryAttention",
        config=dict(head_dim=3, num_query_heads=4, num_key_value_heads=2),
        inputs=dict(query=(2, 5, 6), value=(2, 5, 6)), call=dict(use_causal_mask=True),
        scores=True),
    "attention_dot_scaled": dict(
        cls="Attention", config=dict(use_scale=True),
        inputs=dict(query=(2, 3, 4), value=(2, 5, 4)), list_masks=True, scores=True),
    "attention_concat_causal": dict(
        cls="Attention", config=dict(use_scale=True, score_mode="concat"),
        inputs=dict(query=(2, 4, 3), value=(2, 4, 5), key=(2, 4, 3)),
        call=dict(use_causal_mask=True), scores=True),
    "additive_attention": dict(
        cls="AdditiveAttention", config=dict(),
        inputs=dict(query=(2, 3, 4), value=(2, 5, 4)), list_masks=True, scores=True),
    "einsum_dense_heads": dict(
        cls="EinsumDense", config=dict(equation="abc,cde->abde", output_shape=(None, 2, 3),
                                       bias_axes="de", activation="tanh"),
        inputs=dict(x=(2, 4, 5))),
    "einsum_dense_ellipsis": dict(
        cls="EinsumDense", config=dict(equation="...b,bc->...c", output_shape=4,
                                       bias_axes="c"),
        inputs=dict(x=(2, 3, 5))),
}


def arrays_for(case_name, spec):
    """The fixed random inputs and masks of a case (same seed in every environment)."""
    rng = np.random.default_rng(sum(map(ord, case_name)))
    data = {name: rng.standard_normal(shape) for name, shape in spec["inputs"].items()}
    for name, shape in spec.get("masks", {}).items():
        mask = rng.random(shape) > 0.3
        mask[..., 0] = True  # every query keeps one key: no fully masked rows
        data[name] = mask
    if spec.get("list_masks"):
        q, v = spec["inputs"]["query"], spec["inputs"]["value"]
        data["query_mask"] = rng.random(q[:-1]) > 0.3
        value_mask = rng.random(v[:-1]) > 0.3
        value_mask[..., 0] = True
        data["value_mask"] = value_mask
    return data


def _weights_like(rng, shapes):
    return [rng.standard_normal(s) * 0.5 for s in shapes]


def compute_reference():
    """Run every case in Keras; returns a flat dict ``{"<case>/<name>": array}``."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import torch

    out = {}
    for name, spec in CASES.items():
        data = arrays_for(name, spec)
        layer = getattr(keras.layers, spec["cls"])(dtype="float64", **spec["config"])
        t = {k: torch.tensor(v) for k, v in data.items()}
        if spec["cls"] in ("Attention", "AdditiveAttention"):
            inputs = [t["query"], t["value"]] + ([t["key"]] if "key" in t else [])
            kwargs = dict(spec.get("call", {}))
            if spec.get("list_masks"):
                kwargs["mask"] = [t["query_mask"], t["value_mask"]]
            call = lambda **extra: layer(inputs, **kwargs, **extra)  # noqa: E731
        elif spec["cls"] == "EinsumDense":
            call = lambda **extra: layer(t["x"])  # noqa: E731
        else:
            kwargs = dict(spec.get("call", {}))
            if "key" in t:
                kwargs["key"] = t["key"]
            if "attention_mask" in t:
                kwargs["attention_mask"] = t["attention_mask"]

            def call(**extra):  # used within this loop iteration only
                query = t["query"].clone()
                value = query if spec.get("self_attention") else t["value"].clone()
                # Keras masks travel attached to the tensors (as Embedding(mask_zero=True)
                # makes them); Keras's MHA consumes them, so attach them for every call
                if "query_mask" in t:
                    query._keras_mask = t["query_mask"]
                if "value_mask" in t:
                    value._keras_mask = t["value_mask"]
                return layer(query, value, **kwargs, **extra)
        call()  # build
        rng = np.random.default_rng(sum(map(ord, name)) + 1)
        weights = _weights_like(rng, [w.shape for w in layer.get_weights()])
        layer.set_weights(weights)
        if spec.get("scores"):
            result, scores = call(return_attention_scores=True)
            out[f"{name}/scores"] = scores.detach().numpy()
        else:
            result = call()
        probe = rng.standard_normal(tuple(result.shape))
        loss = (result * torch.tensor(probe)).sum()
        loss.backward()
        out[f"{name}/output"] = result.detach().numpy()
        out[f"{name}/probe"] = probe
        for key, value in data.items():
            out[f"{name}/in_{key}"] = value
        for i, (w, v) in enumerate(zip(layer.trainable_weights, weights)):
            out[f"{name}/w{i}"] = v
            out[f"{name}/g{i}"] = w.value.grad.detach().numpy()
        out[f"{name}/weight_paths"] = np.array([w.path for w in layer.weights])
    # the functional op: keras.ops.nn.dot_product_attention, (B, T, N, H)
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3, 5), (2, 6, 3, 5), (2, 6, 3, 2)))
    bias = rng.standard_normal((1, 3, 4, 6))
    mask = rng.random((2, 1, 4, 6)) > 0.3
    mask[..., 0] = True
    ops = keras.ops
    for case, kwargs in (("dpa_plain", {}), ("dpa_bias", dict(bias=bias)),
                         ("dpa_mask", dict(mask=mask)),
                         ("dpa_causal_scale", dict(is_causal=True, scale=0.3))):
        result = ops.nn.dot_product_attention(q, k, v, **kwargs)
        out[f"{case}/output"] = ops.convert_to_numpy(result)
    out["dpa/q"], out["dpa/k"], out["dpa/v"] = q, k, v
    out["dpa/bias"], out["dpa/mask"] = bias, mask
    return out


def main():
    reference = compute_reference()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **reference)
    print(f"wrote {len(reference)} arrays to {OUT}")


if __name__ == "__main__":
    main()
