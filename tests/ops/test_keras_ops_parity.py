"""npgrad.ops against keras.ops (Keras 3, torch backend): the same expression on the same
inputs gives the same values.

Keras runs in a separate interpreter (``NPGRAD_KERAS_PYTHON``, default
``/work/refenv/bin/python``) that evaluates every expression once; the test skips when that
interpreter or Keras is absent.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from npgrad import ops

KERAS_PYTHON = os.environ.get("NPGRAD_KERAS_PYTHON", "/work/refenv/bin/python")

rng = np.random.default_rng(0)
INPUTS = {
    "x": rng.normal(size=(3, 4)).astype("float32"),
    "y": rng.normal(size=(3, 4)).astype("float32"),
    "v": rng.normal(size=(5,)).astype("float32"),
    "p": rng.uniform(0.2, 3.0, size=(3, 4)).astype("float32"),
    "u": rng.uniform(-0.9, 0.9, size=(3, 4)).astype("float32"),
    "m": (rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)).astype("float32"),
    "img": rng.uniform(size=(2, 6, 5, 3)).astype("float32"),
    "seq": rng.normal(size=(2, 8, 3)).astype("float32"),
    "k2": rng.normal(size=(3, 3, 3, 4)).astype("float32"),
    "k1": rng.normal(size=(3, 3, 2)).astype("float32"),
    "dk": rng.normal(size=(3, 3, 3, 2)).astype("float32"),
    "labels": np.array([0, 2, 1], dtype="int32"),
    "onehot": np.eye(4, dtype="float32")[[0, 2, 1]],
    "ints": np.array([[3, -1, 4], [1, 5, -9]], dtype="int32"),
    "q": rng.normal(size=(2, 4, 2, 8)).astype("float32"),
}

EXPRESSIONS = [
    # creation
    "ops.ones((2, 3))", "ops.zeros_like(x)", "ops.full((2, 2), 7.5)", "ops.arange(2, 11, 3)",
    "ops.arange(0.0, 1.0, 0.25)", "ops.eye(3, 4, k=1)", "ops.linspace(0.0, 1.0, 5)",
    "ops.tri(3, 4, k=-1)", "ops.tril(x)", "ops.triu(x, 1)", "ops.identity(3)",
    "ops.full_like(x, 2)", "ops.ones_like(ints)",
    # elementwise
    "ops.add(x, y)", "ops.subtract(x, 2.0)", "ops.multiply(x, y)", "ops.divide(x, p)",
    "ops.power(p, y)", "ops.square(x)", "ops.sqrt(p)", "ops.exp(x)", "ops.log(p)",
    "ops.log1p(p)", "ops.expm1(x)", "ops.log2(p)", "ops.log10(p)", "ops.abs(x)",
    "ops.negative(x)", "ops.sign(x)", "ops.floor(x)", "ops.ceil(x)", "ops.round(x * 3)",
    "ops.clip(x, -0.5, 0.5)", "ops.maximum(x, y)", "ops.minimum(x, 0.0)", "ops.mod(x, 0.7)",
    "ops.floor_divide(x, 0.7)", "ops.sin(x)", "ops.cos(x)", "ops.tan(u)", "ops.arcsin(u)",
    "ops.arccos(u)", "ops.arctan(x)", "ops.sinh(x)", "ops.cosh(x)", "ops.tanh(x)",
    "ops.arctanh(u)", "ops.arctan2(x, y)", "ops.reciprocal(p)", "ops.rsqrt(p)", "ops.erf(x)",
    "ops.erfinv(u)", "ops.logaddexp(x, y)", "ops.hypot(x, y)", "ops.where(x > 0, x, y)",
    "ops.equal(ints, 1)", "ops.greater(x, y)", "ops.logical_and(x > 0, y > 0)",
    "ops.isnan(x)", "ops.divide_no_nan(x, ops.where(y > 0, y, 0.0))",
    "ops.nan_to_num(ops.log(x))", "ops.add(ints, 2)", "ops.abs(ints)", "ops.cbrt(p)",
    "ops.heaviside(x, 0.5)", "ops.deg2rad(x)",
    # reductions
    "ops.sum(x)", "ops.sum(x, axis=0)", "ops.mean(x, axis=-1, keepdims=True)", "ops.max(x, axis=1)",
    "ops.min(x)", "ops.prod(x, axis=0)", "ops.std(x, axis=1)", "ops.var(x)",
    "ops.argmax(x, axis=1)", "ops.argmin(x)", "ops.argsort(v)", "ops.sort(x, axis=0)",
    "ops.cumsum(x, axis=1)", "ops.cumprod(x, axis=0)", "ops.all(x > -5)", "ops.any(x > 2)",
    "ops.count_nonzero(ints)", "ops.median(x, axis=1)", "ops.quantile(x, 0.3, axis=0)",
    "ops.percentile(v, 70.0)", "ops.average(x, axis=1, weights=p[0])", "ops.logsumexp(x, axis=1)",
    "ops.amax(x, axis=0)", "ops.ptp(x, axis=1)",
    "ops.top_k(x, 2)[0]", "ops.top_k(x, 2)[1]", "ops.in_top_k(labels, x, 2)",
    "ops.segment_sum(x, labels, 3)", "ops.segment_max(x, labels, 3)",
    # shape and indexing
    "ops.reshape(x, (2, 6))", "ops.transpose(x)", "ops.expand_dims(v, 0)",
    "ops.squeeze(ops.expand_dims(x, 1))", "ops.concatenate([x, y], axis=0)",
    "ops.stack([x, y], axis=1)", "ops.split(x, 2, axis=1)[1]", "ops.split(v, [1, 3])[2]",
    "ops.tile(x, (2, 1))", "ops.repeat(x, 2, axis=0)", "ops.repeat(v, 2)",
    "ops.take(x, labels, axis=1)", "ops.take(x, labels)", "ops.take_along_axis(x, ops.argsort(x, axis=1), axis=1)",
    "ops.flip(x, 1)", "ops.roll(x, 1, axis=0)", "ops.roll(x, -2)", "ops.swapaxes(img, 1, 2)",
    "ops.moveaxis(img, -1, 1)", "ops.pad(x, ((1, 0), (0, 2)))",
    "ops.pad(x, ((1, 1), (2, 2)), mode='reflect')", "ops.pad(x, ((1, 1), (1, 1)), mode='symmetric')",
    "ops.diag(v)", "ops.diagonal(m, axis1=1, axis2=2)", "ops.trace(m, axis1=1, axis2=2)",
    "ops.ravel(x)", "ops.broadcast_to(v, (2, 5))", "ops.hstack([x, y])", "ops.vstack([v, v])",
    "ops.array_split(v, 3)[0]", "ops.diff(x, axis=1)", "ops.rot90(x)", "ops.get_item(x, 1)",
    "ops.slice(x, (1, 1), (2, 2))", "ops.slice_update(x, (0, 1), ops.ones((2, 2)))",
    "ops.scatter([[0, 1], [2, 3]], [5.0, 6.0], (3, 4))",
    "ops.scatter_update(x, [[0, 0], [2, 1]], [9.0, 8.0])",
    "ops.unstack(ops.convert_to_tensor(x), axis=1)[2]", "ops.meshgrid(v, v[:3])[0]", "ops.nonzero(ints)[1]",
    # products
    "ops.matmul(x, ops.transpose(y))", "ops.dot(v, v)", "ops.einsum('ij,kj->ik', x, y)",
    "ops.einsum('bij,bjk->bik', m, m)", "ops.tensordot(x, y, axes=([1], [1]))",
    "ops.outer(v, v[:2])", "ops.inner(x, y)", "ops.vdot(v, v * 2)", "ops.kron(x[:2, :2], y[:2, :2])",
    "ops.cross(x[:2, :3], y[:2, :3])", "ops.correlate(v, v[:3], mode='full')",
    "ops.correlate(v, v[:3], mode='same')", "ops.correlate(v, v[:3])",
    # linalg
    "ops.inv(m)", "ops.det(m)", "ops.solve(m, m[:, :, :2])", "ops.norm(x)",
    "ops.norm(x, ord=1, axis=1)", "ops.norm(x, ord='fro', axis=(0, 1))", "ops.cholesky(ops.matmul(m, ops.transpose(m, (0, 2, 1))))",
    "ops.eigh(ops.matmul(m, ops.transpose(m, (0, 2, 1))))[0]", "ops.slogdet(m)[1]",
    # nn
    "ops.relu(x)", "ops.relu6(x * 5)", "ops.sigmoid(x)", "ops.softplus(x)", "ops.softsign(x)",
    "ops.silu(x)", "ops.log_sigmoid(x)", "ops.leaky_relu(x)", "ops.hard_sigmoid(x * 4)",
    "ops.hard_silu(x * 4)", "ops.elu(x, 0.5)", "ops.selu(x)", "ops.gelu(x)",
    "ops.gelu(x, approximate=False)", "ops.celu(x)", "ops.glu(x)", "ops.hard_tanh(x * 2)",
    "ops.soft_shrink(x)", "ops.hard_shrink(x)", "ops.tanh_shrink(x)", "ops.squareplus(x)",
    "ops.sparse_plus(x)", "ops.threshold(x, 0.1, -3.0)",
    "ops.softmax(x)", "ops.softmax(x, axis=0)", "ops.log_softmax(x)",
    "ops.one_hot(labels, 4)", "ops.one_hot(labels, 4, axis=0)", "ops.multi_hot(ints[:, :1] % 4, 4)",
    "ops.conv(img, k2, padding='same')", "ops.conv(img, k2, strides=2)",
    "ops.conv(seq, k1, padding='same')", "ops.depthwise_conv(img, dk, padding='same')",
    "ops.conv_transpose(img, ops.transpose(k2, (0, 1, 3, 2))[:, :, :2, :], strides=2, padding='same')",
    "ops.max_pool(img, 2)", "ops.max_pool(img, 3, strides=2, padding='same')",
    "ops.average_pool(img, 2)", "ops.max_pool(seq, 2)", "ops.average_pool(seq, 3, strides=1)",
    "ops.moments(x, axes=[0])[1]", "ops.batch_normalization(x, v[:4], p[0], axis=1, offset=y[0], scale=p[1])",
    "ops.normalize(x)", "ops.layer_normalization(x, epsilon=1e-3)", "ops.rms_normalization(x, epsilon=1e-6)",
    "ops.binary_crossentropy(ops.sigmoid(y), x, from_logits=True)",
    "ops.binary_crossentropy(ops.sigmoid(y), ops.sigmoid(x))",
    "ops.categorical_crossentropy(onehot, x, from_logits=True)",
    "ops.categorical_crossentropy(onehot, ops.softmax(x))",
    "ops.sparse_categorical_crossentropy(labels, x, from_logits=True)",
    "ops.depth_to_space(ops.tile(img[:, :2, :2, :], (1, 1, 1, 4)), 2)",
    "ops.space_to_depth(img[:, :4, :4, :], 2)", "ops.psnr(img, img * 0.9, 1.0)",
    "ops.dot_product_attention(q, q * 0.5, q)", "ops.dot_product_attention(q, q, q, is_causal=True)",
    # image
    "ops.image.resize(img, (9, 4))", "ops.image.resize(img, (3, 10))",
    "ops.image.rgb_to_grayscale(img)", "ops.image.rgb_to_hsv(img)",
    "ops.image.hsv_to_rgb(img)", "ops.image.pad_images(img, 1, 2, target_height=9, target_width=8)",
    "ops.image.crop_images(img, 1, 1, target_height=4, target_width=3)",
    "ops.image.extract_patches(img, 2)", "ops.image.extract_patches(img, (3, 2), strides=1, padding='same')",
    # core
    "ops.cast(x, 'int32')", "ops.cast(ints, 'float32')", "ops.stop_gradient(ops.convert_to_tensor(x))",
    "ops.convert_to_tensor([1.5, 2.0])", "ops.erfc(x)",
    "ops.extract_sequences(v, 2, 1)", "ops.logdet(ops.matmul(m, ops.transpose(m, (0, 2, 1))))",
]

_KERAS_SCRIPT = r"""
import json, os, sys
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
import keras
from keras import ops
inputs = dict(np.load(sys.argv[1]))
expressions = json.loads(open(sys.argv[2]).read())
out = {}
for i, expression in enumerate(expressions):
    try:
        value = eval(expression, {"ops": ops, "np": np}, inputs)
        out[str(i)] = np.asarray(ops.convert_to_numpy(value))
    except Exception as error:
        out[f"error{i}"] = np.asarray(repr(error))
np.savez(sys.argv[3], **out)
"""


@pytest.fixture(scope="module")
def keras_values(tmp_path_factory):
    if not Path(KERAS_PYTHON).exists():
        pytest.skip(f"no Keras interpreter at {KERAS_PYTHON} (set NPGRAD_KERAS_PYTHON)")
    folder = tmp_path_factory.mktemp("keras_ops")
    np.savez(folder / "inputs.npz", **INPUTS)
    (folder / "expressions.json").write_text(json.dumps(EXPRESSIONS))
    (folder / "run.py").write_text(_KERAS_SCRIPT)
    result = subprocess.run(
        [KERAS_PYTHON, str(folder / "run.py"), str(folder / "inputs.npz"),
         str(folder / "expressions.json"), str(folder / "out.npz")],
        capture_output=True, text=True, timeout=600, env={**os.environ, "KERAS_BACKEND": "torch"})
    if result.returncode != 0:
        if "No module named 'keras'" in result.stderr:
            pytest.skip("keras is not installed in the reference interpreter")
        pytest.fail(f"the Keras reference run failed:\n{result.stderr[-3000:]}")
    with np.load(folder / "out.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("index", range(len(EXPRESSIONS)), ids=EXPRESSIONS)
def test_same_values_as_keras(keras_values, index):
    expression = EXPRESSIONS[index]
    if f"error{index}" in keras_values:
        pytest.fail(f"Keras could not evaluate {expression}: {keras_values[f'error{index}']}")
    expected = keras_values[str(index)]
    value = eval(expression, {"ops": ops, "np": np}, dict(INPUTS))  # noqa: S307 - test strings
    actual = np.asarray(ops.convert_to_numpy(value))
    assert actual.shape == expected.shape, f"{expression}: shape {actual.shape} vs {expected.shape}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=2e-4, atol=2e-5)
    assert actual.dtype.kind == expected.dtype.kind or (expected.dtype.kind in "iu"
                                                         and actual.dtype.kind in "iu"), \
        f"{expression}: dtype {actual.dtype} vs Keras {expected.dtype}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
