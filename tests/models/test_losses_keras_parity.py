"""Every keras.losses class against values Keras 3 computed (tests/reference/losses_metrics),
value, gradient and the unreduced per-sample losses; plus a live comparison when keras is here."""

from pathlib import Path

import numpy as np
import pytest

import npgrad
from npgrad import losses
from tests.reference.losses_metrics_cases import loss_cases

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "losses_metrics" / "losses.npz"
CASES = loss_cases()


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _npgrad(name, reduction=None):
    cls, kwargs, y_true, y_pred, weight = CASES[name]
    if reduction is not None:
        kwargs = {**kwargs, "reduction": reduction}
    loss = getattr(losses, cls)(**kwargs)
    pred = npgrad.Tensor(y_pred.copy(), requires_grad=True)
    value = loss(y_true, pred, sample_weight=None if reduction else weight)
    return value, pred


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_value_and_gradient_match_keras(name, reference):
    value, pred = _npgrad(name)
    value.backward()
    assert value.dtype == np.float32
    np.testing.assert_allclose(value.numpy(), reference[f"{name}/value"], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(pred.grad, reference[f"{name}/grad"], rtol=2e-4, atol=1e-6)
    unreduced, _ = _npgrad(name, reduction="none")
    np.testing.assert_allclose(unreduced.numpy(), reference[f"{name}/none"], rtol=2e-5, atol=1e-6)


TARGETS = Path(__file__).resolve().parents[1] / "reference" / "losses_metrics" / "loss_targets.npz"
FLOAT_TARGETS = sorted(name for name, case in CASES.items() if case[2].dtype.kind == "f")


@pytest.mark.parametrize("name", FLOAT_TARGETS)
def test_a_target_that_requires_a_gradient_gets_keras_gradient(name):
    # Keras's losses are ops on both arguments: a target Tensor in the graph is trained too
    cls, kwargs, y_true, y_pred, weight = CASES[name]
    target = npgrad.Tensor(y_true.copy(), requires_grad=True)
    pred = npgrad.Tensor(y_pred.copy(), requires_grad=True)
    value = getattr(losses, cls)(**kwargs)(target, pred, sample_weight=weight)
    value.backward()
    with np.load(TARGETS, allow_pickle=False) as expected:
        np.testing.assert_allclose(target.grad, expected[f"{name}/target_grad"], rtol=2e-4,
                                   atol=1e-6)
    constant, pred_alone = _npgrad(name)  # the prediction's side is unchanged
    constant.backward()
    np.testing.assert_allclose(value.numpy(), constant.numpy(), rtol=1e-6)
    np.testing.assert_allclose(pred.grad, pred_alone.grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip(name):
    cls, kwargs, *_ = CASES[name]
    loss = getattr(losses, cls)(**kwargs)
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()


def test_every_keras_loss_class_has_a_reference_case():
    from tests.test_keras_names import KERAS_NAMES

    classes = {name for name in KERAS_NAMES["losses"] if name[0].isupper()} - {"Loss"}
    assert classes <= {case[0] for case in CASES.values()}


def test_live_keras_when_installed():
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    cls, kwargs, y_true, y_pred, _ = CASES["binary_focal_balanced_logits"]
    expected = getattr(keras.losses, cls)(**kwargs)(y_true, torch.tensor(y_pred))
    value, _ = _npgrad("binary_focal_balanced_logits")
    np.testing.assert_allclose(value.numpy(), expected.detach().numpy(), rtol=2e-5)
