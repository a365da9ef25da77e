"""Adadelta, Adafactor, Ftrl, Lamb, Lion, Muon, ScheduleFreeAdamW: 20-step trajectories equal
to Keras 3's (stored in tests/reference/losses_metrics/optimizers.npz), on a vector (the
quadratic ||A p - b||^2) and a 3x4 matrix updated in the same apply_gradients calls; plus
configs, state round trips and constraints applied after each update."""

import json
from pathlib import Path

import numpy as np
import pytest

import npgrad
from npgrad import constraints, optimizers
from tests.reference import losses_metrics_cases as cases

REFERENCE = Path(__file__).resolve().parent / "reference" / "losses_metrics" / "optimizers.npz"
CASES = cases.optimizer_cases()


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _run(name, steps=None):
    cls, kwargs, default_steps = CASES[name]
    a, b, p0 = cases.quadratic()
    vector = npgrad.Tensor(p0.copy(), requires_grad=True)
    matrix = npgrad.Tensor(cases.matrix_start(), requires_grad=True)
    opt = getattr(optimizers, cls)(**kwargs)
    trajectory, matrices = [], []
    for _ in range(steps or default_steps):
        grads = [cases.quadratic_gradient(a, b, vector.data), cases.matrix_gradient(matrix.data)]
        opt.apply_gradients(zip(grads, [vector, matrix]))
        trajectory.append(vector.data.copy())
        matrices.append(matrix.data.copy())
    return opt, np.array(trajectory), np.array(matrices), [vector, matrix]


# Keras 3.15's ScheduleFreeAdamW reads ``momentum.value`` before updating the momentum in
# place; under the torch backend that value is the same tensor, so x_old is computed from the
# *new* z. npgrad follows the algorithm (and Keras's JAX/TensorFlow backends): x_old from the
# old z. test_schedule_free_adamw_matches_the_algorithm checks it against the formulas.
KERAS_TORCH_DIFFERS = {"schedule_free_adamw", "schedule_free_adamw_warmup"}


@pytest.mark.parametrize("name", sorted(set(CASES) - KERAS_TORCH_DIFFERS))
def test_trajectory_matches_keras(name, reference):
    opt, trajectory, matrices, _ = _run(name)
    assert trajectory.dtype == np.float32 and opt.iterations == len(trajectory)
    np.testing.assert_allclose(trajectory, reference[f"{name}/trajectory"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(matrices, reference[f"{name}/matrix_trajectory"], rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("warmup,weight_decay", [(0, None), (5, None), (0, 0.01), (5, 0.01)])
def test_schedule_free_adamw_matches_the_algorithm(warmup, weight_decay, reference):
    a, b, p0 = cases.quadratic()
    opt = optimizers.ScheduleFreeAdamW(0.05, warmup_steps=warmup, weight_decay=weight_decay)
    p = npgrad.Tensor(p0.copy())
    y, z, v = p0.copy(), p0.copy(), np.zeros_like(p0)
    f32 = np.float32
    for t in range(1, 21):
        g = cases.quadratic_gradient(a, b, y)
        lr = f32(0.05)
        if weight_decay:
            y = y - y * f32(weight_decay) * lr
        if warmup:
            lr = lr * min(t / warmup, 1)
        z_old = z.copy()
        v = v + (g * g - v) * (1 - f32(0.999))
        z = z - lr * g / (np.sqrt(v / (1 - f32(0.999) ** t)) + f32(1e-8))
        x = (1 - 1 / t) * (y - (1 - f32(0.9)) * z_old) / f32(0.9) + z / t
        y = (1 - f32(0.9)) * z + f32(0.9) * x
        opt.apply_gradients([(cases.quadratic_gradient(a, b, p.data), p)])
        np.testing.assert_allclose(p.data, y, rtol=1e-5, atol=1e-6)
    # the same run from the new z instead of the old one reproduces Keras-on-torch's numbers
    name = "schedule_free_adamw_warmup" if warmup else "schedule_free_adamw"
    assert not np.allclose(p.data, reference[f"{name}/trajectory"][-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_and_state_round_trip(name):
    opt, _, _, variables = _run(name, steps=3)
    rebuilt = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(rebuilt) is type(opt) and rebuilt.get_config() == opt.get_config()
    rebuilt.set_state(opt.get_state(variables), variables)
    copies = [npgrad.Tensor(v.data.copy()) for v in variables]
    rebuilt.set_state(opt.get_state(variables), copies)
    grads = [np.ones_like(v.data) for v in variables]
    opt.apply_gradients(zip(grads, variables))
    rebuilt.apply_gradients(zip(grads, copies))
    for original, copy in zip(variables, copies):
        np.testing.assert_array_equal(original.data, copy.data)


def test_every_keras_optimizer_name_is_known():
    for name in ("adadelta", "adafactor", "ftrl", "lamb", "lion", "muon", "schedulefreeadamw"):
        assert isinstance(optimizers.get(name), optimizers.Optimizer)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Adadelta: rho"):
        optimizers.Adadelta(rho=1.5)
    with pytest.raises(ValueError, match="Lion: beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="Ftrl: learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="Muon: ns_steps"):
        optimizers.Muon(ns_steps=-1)


def test_constraints_apply_after_each_update_as_keras():
    p = npgrad.Variable(np.array([[3.0, 4.0], [0.3, 0.4]]),
                        constraint=constraints.MaxNorm(max_value=1.0, axis=1))
    q = npgrad.Variable(np.array([-1.0, 2.0]))
    q.constraint = constraints.NonNeg()
    optimizers.SGD(0.1).apply_gradients([(np.zeros((2, 2)), p), (np.ones(2), q)])
    np.testing.assert_allclose(np.linalg.norm(p.data, axis=1), [1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(q.data, [0.0, 1.9])


def test_multi_optimizer_delegates_by_name_and_round_trips():
    a = npgrad.Tensor(np.ones(2), requires_grad=True, name="encoder/kernel")
    b = npgrad.Tensor(np.ones(2), requires_grad=True, name="head/kernel")
    adam, sgd = optimizers.Adam(0.1), optimizers.SGD(0.5)
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"encoder/.*": adam}))
    reference_a, reference_b = npgrad.Tensor(np.ones(2)), npgrad.Tensor(np.ones(2))
    ref_adam, ref_sgd = optimizers.Adam(0.1), optimizers.SGD(0.5)
    for step in range(3):
        grads = [np.array([1.0, -2.0]) * (step + 1), np.array([0.5, 0.25])]
        opt.apply_gradients(zip(grads, [a, b]))
        ref_adam.apply_gradients([(grads[0], reference_a)])
        ref_sgd.apply_gradients([(grads[1], reference_b)])
    np.testing.assert_array_equal(a.data, reference_a.data)
    np.testing.assert_array_equal(b.data, reference_b.data)
    assert opt.iterations == 3 and adam.iterations == 3 and opt.optimizers == [adam, sgd]
    with pytest.raises(AttributeError, match="inner optimizers"):
        opt.learning_rate
    rebuilt = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
    rebuilt.set_state(opt.get_state([a, b]), [a, b])
    assert rebuilt.iterations == 3
    assert rebuilt.optimizers[0].get_state([a])["slots/0/momentum"].tolist() == \
        adam.get_state([a])["slots/0/momentum"].tolist()
    with pytest.raises(ValueError, match="several optimizers"):
        optimizers.OptimizerMap(sgd, {"enc.*": adam, ".*kernel": sgd})["encoder/kernel"]


def test_multi_optimizer_trains_a_model_and_saves(tmp_path):
    model = npgrad.Sequential([npgrad.layers.Dense(3, name="encoder", input_shape=(4,)),
                               npgrad.layers.Dense(1, name="head")])
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.01), {"encoder/.*": optimizers.Adam(0.01)}))
    model.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert [o.iterations for o in opt.optimizers] == [2, 2]
    model.save(tmp_path / "m.npgrad")
    restored = npgrad.models.load_model(tmp_path / "m.npgrad")
    model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    restored.fit(x, y, epochs=1, verbose=0, shuffle=False)
    for mine, theirs in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
