"""Optimizers: Keras reference trajectories, schedules, clipping, state, API and validation."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npgrad
from npgrad import optimizers
from npgrad.optimizers import schedules

# Hyperparameters of tests/reference (README): 20 apply_gradients steps on ||A p - b||^2.
REFERENCE_CASES = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd_momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adam": lambda: optimizers.Adam(0.05),
    "adamw": lambda: optimizers.AdamW(0.05, weight_decay=0.1),
    "adamax": lambda: optimizers.Adamax(0.05),
}

# Every optimizer and slot variant, for the generic tests.
ALL_VARIANTS = {
    **REFERENCE_CASES,
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adam_amsgrad": lambda: optimizers.Adam(0.05, amsgrad=True),
    "nadam": lambda: optimizers.Nadam(0.05),
    "sgd_wd_clip": lambda: optimizers.SGD(0.05, momentum=0.5, weight_decay=0.01, clipnorm=1.0),
    "adam_ema": lambda: optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9),
}


def _quadratic_gradient(A, b, p):
    return 2 * A.T @ (A @ p - b)


def _problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(5, 3)).astype(dtype)
    b = rng.normal(size=5).astype(dtype)
    return A, b


def _make_params(dtype=np.float64):
    rng = np.random.default_rng(1)
    return [
        npgrad.Tensor(rng.normal(size=(3,)).astype(dtype), requires_grad=True),
        npgrad.Tensor(rng.normal(size=(2, 2)).astype(dtype), requires_grad=True),
    ]


def _gradients(params, step):
    """Deterministic, step-dependent gradients for a list of parameters."""
    return [np.sin(p.data * (step + 1)) + 0.1 * p.data for p in params]


# ---------------------------------------------------------------- Keras parity
@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
def test_trajectory_matches_keras(case, keras_ref):
    A, b = keras_ref["quadratic/A"], keras_ref["quadratic/b"]
    p = npgrad.Tensor(keras_ref["quadratic/p0"].copy(), requires_grad=True)
    opt = REFERENCE_CASES[case]()
    trajectory = []
    for _ in range(20):
        opt.apply_gradients([(_quadratic_gradient(A, b, p.data), p)])
        trajectory.append(p.data.copy())
    trajectory = np.array(trajectory)
    assert trajectory.dtype == np.float32
    np.testing.assert_allclose(trajectory, keras_ref[f"optim_{case}/trajectory"], rtol=1e-4, atol=1e-6)
    assert opt.iterations == 20


def test_nadam_matches_keras_formula():
    """Nadam has no Keras reference file entry: check it against Keras's formula written out."""
    A, b = _problem()
    p = npgrad.Tensor(np.array([0.5, -1.0, 2.0]))
    opt = optimizers.Nadam(0.05, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    expected = p.data.copy()
    m = np.zeros(3)
    v = np.zeros(3)
    u_product = 1.0
    for step in range(1, 11):
        g = _quadratic_gradient(A, b, expected)
        u_t = 0.9 * (1 - 0.5 * 0.96**step)
        u_next = 0.9 * (1 - 0.5 * 0.96 ** (step + 1))
        u_product *= u_t
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - 0.999**step)
        expected = expected - 0.05 * m_hat / (np.sqrt(v_hat) + 1e-7)
        opt.apply_gradients([(_quadratic_gradient(A, b, p.data), p)])
        np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-14)


def test_rmsprop_centered_with_momentum_matches_formula():
    A, b = _problem()
    p = npgrad.Tensor(np.array([0.5, -1.0, 2.0]))
    opt = optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, epsilon=1e-6)
    expected, v, avg, mom = p.data.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for _ in range(8):
        g = _quadratic_gradient(A, b, expected)
        v = 0.8 * v + 0.2 * g * g
        avg = 0.8 * avg + 0.2 * g
        mom = 0.5 * mom + 0.01 * g / np.sqrt(v - avg**2 + 1e-6)
        expected = expected - mom
        opt.apply_gradients([(_quadratic_gradient(A, b, p.data), p)])
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)


def test_adam_amsgrad_uses_running_max_of_velocity():
    p = npgrad.Tensor(np.zeros(1))
    opt = optimizers.Adam(0.1, beta_1=0.0, beta_2=0.5, epsilon=1e-12, amsgrad=True)
    opt.apply_gradients([(np.array([4.0]), p)])   # v = 8, v_hat = 8
    opt.apply_gradients([(np.array([0.5]), p)])   # v = 4.125, v_hat stays 8
    alpha = 0.1 * math.sqrt(1 - 0.25) / 1.0
    expected = -0.1 * math.sqrt(0.5) * 4 / math.sqrt(8) - alpha * 0.5 / math.sqrt(8)
    np.testing.assert_allclose(p.data, [expected], rtol=1e-9)


def test_float64_variables_stay_float64():
    p = npgrad.Tensor(np.ones(3))
    optimizers.Adam(0.1).apply_gradients([(np.ones(3, dtype=np.float32), p)])
    assert p.dtype == np.float64


# ---------------------------------------------------------------- schedules
def test_exponential_and_inverse_time_decay_formulas():
    exp = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert exp(0) == pytest.approx(0.1)
    assert exp(15) == pytest.approx(0.1 * 0.5**1.5)
    stair = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert stair(19) == pytest.approx(0.05) and stair(20) == pytest.approx(0.025)
    inv = schedules.InverseTimeDecay(1.0, decay_steps=4, decay_rate=0.5)
    assert inv(6) == pytest.approx(1.0 / (1 + 0.5 * 1.5))
    inv_stair = schedules.InverseTimeDecay(1.0, decay_steps=4, decay_rate=0.5, staircase=True)
    assert inv_stair(6) == pytest.approx(1.0 / 1.5)


def test_piecewise_constant_boundaries_are_inclusive_on_the_left_interval():
    sched = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [sched(s) for s in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_cosine_decay_with_and_without_warmup():
    cos = schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert cos(0) == pytest.approx(1.0)
    assert cos(50) == pytest.approx(0.9 * 0.5 + 0.1)
    assert cos(100) == pytest.approx(0.1) and cos(500) == pytest.approx(0.1)
    warm = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    assert warm(0) == pytest.approx(0.0)
    assert warm(2) == pytest.approx(0.4)
    assert warm(5) == pytest.approx(1.0)
    assert warm(10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert warm(100) == pytest.approx(0.0, abs=1e-12)


def test_optimizer_evaluates_schedule_at_iterations():
    sched = schedules.PiecewiseConstantDecay([0], [1.0, 0.1])   # step 0 -> 1.0, then 0.1
    p = npgrad.Tensor(np.zeros(1))
    opt = optimizers.SGD(learning_rate=sched)
    assert opt.learning_rate == 1.0
    opt.apply_gradients([(np.ones(1), p)])
    assert opt.learning_rate == pytest.approx(0.1)
    opt.apply_gradients([(np.ones(1), p)])
    np.testing.assert_allclose(p.data, [-1.1])
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.5


def test_learning_rate_is_settable():
    p = npgrad.Tensor(np.zeros(1))
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.5
    opt.apply_gradients([(np.ones(1), p)])
    np.testing.assert_allclose(p.data, [-0.5])
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0


def test_bad_schedule_arguments():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="one more"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="increasing"):
        schedules.PiecewiseConstantDecay([2, 1], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Valid names"):
        schedules.deserialize({"class_name": "Linear", "config": {}})


def test_config_round_trip_through_json_keeps_schedule():
    sched = schedules.CosineDecay(0.1, 50, alpha=0.2, warmup_target=0.3, warmup_steps=5)
    opt = optimizers.Adam(learning_rate=sched, beta_1=0.8, amsgrad=True, clipvalue=2.0)
    rebuilt = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(rebuilt) is optimizers.Adam
    assert rebuilt.get_config() == opt.get_config()
    assert rebuilt.learning_rate_schedule(17) == sched(17)


# ---------------------------------------------------------------- clipping
def test_clipvalue_is_elementwise():
    p = npgrad.Tensor(np.zeros(3))
    grad = np.array([-5.0, 0.2, 3.0])
    optimizers.SGD(1.0, clipvalue=0.5).apply_gradients([(grad, p)])
    np.testing.assert_allclose(p.data, [0.5, -0.2, -0.5])
    np.testing.assert_array_equal(grad, [-5.0, 0.2, 3.0])   # caller's gradient untouched


def test_clipnorm_is_per_variable_and_global_clipnorm_is_joint():
    grads = [np.array([3.0, 4.0]), np.array([0.3, 0.4])]      # norms 5 and 0.5
    a, b = npgrad.Tensor(np.zeros(2)), npgrad.Tensor(np.zeros(2))
    optimizers.SGD(1.0, clipnorm=1.0).apply_gradients(zip(grads, [a, b]))
    np.testing.assert_allclose(-a.data, [0.6, 0.8])
    np.testing.assert_allclose(-b.data, [0.3, 0.4])           # under the norm: unchanged
    a, b = npgrad.Tensor(np.zeros(2)), npgrad.Tensor(np.zeros(2))
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients(zip(grads, [a, b]))
    total = math.sqrt(25 + 0.25)
    np.testing.assert_allclose(-a.data, grads[0] / total)
    np.testing.assert_allclose(-b.data, grads[1] / total)


@given(
    grad=hnp.arrays(np.float64, st.integers(1, 6),
                    elements=st.floats(-1e3, 1e3, allow_nan=False)),
    clipnorm=st.floats(0.01, 10.0),
)
def test_clipnorm_never_exceeds_the_norm_and_keeps_direction(grad, clipnorm):
    p = npgrad.Tensor(np.zeros_like(grad))
    optimizers.SGD(1.0, clipnorm=clipnorm).apply_gradients([(grad, p)])
    step = -p.data
    norm = np.linalg.norm(grad)
    assert np.linalg.norm(step) <= clipnorm * (1 + 1e-12)
    np.testing.assert_allclose(step, grad * min(1.0, clipnorm / norm) if norm > 0 else grad,
                               rtol=1e-12, atol=1e-300)


def test_only_one_clipping_mode():
    with pytest.raises(ValueError, match="at most one"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


# ---------------------------------------------------------------- weight decay
def test_decoupled_weight_decay_and_exclusion():
    kernel = npgrad.Tensor(np.full(2, 2.0), name="dense/kernel")
    bias = npgrad.Tensor(np.full(2, 2.0), name="dense/bias")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(np.zeros(2), kernel), (np.zeros(2), bias)])
    np.testing.assert_allclose(kernel.data, 2.0 - 2.0 * 0.5 * 0.1)
    np.testing.assert_allclose(bias.data, 2.0)


# ---------------------------------------------------------------- state
@pytest.mark.parametrize("case", sorted(ALL_VARIANTS))
def test_state_restore_resumes_bitwise(case, tmp_path):
    straight = _make_params()
    opt = ALL_VARIANTS[case]()
    for step in range(10):
        opt.apply_gradients(zip(_gradients(straight, step), straight))

    first = _make_params()
    opt = ALL_VARIANTS[case]()
    for step in range(5):
        opt.apply_gradients(zip(_gradients(first, step), first))
    np.savez(tmp_path / "state.npz", **opt.get_state(first))
    saved_weights = [p.data.copy() for p in first]

    resumed = [npgrad.Tensor(w, requires_grad=True) for w in saved_weights]
    fresh = ALL_VARIANTS[case]()
    with np.load(tmp_path / "state.npz", allow_pickle=False) as archive:
        fresh.set_state({key: archive[key] for key in archive.files}, resumed)
    assert fresh.iterations == 5
    for step in range(5, 10):
        fresh.apply_gradients(zip(_gradients(resumed, step), resumed))
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_keys_and_copies():
    params = _make_params()
    opt = optimizers.Adam(0.01)
    opt.apply_gradients(zip(_gradients(params, 0), params))
    state = opt.get_state(params)
    assert set(state) == {"iterations", "learning_rate", "slots/0/momentum", "slots/0/velocity",
                          "slots/1/momentum", "slots/1/velocity"}
    state["slots/0/momentum"][...] = 99.0
    assert not np.any(opt.get_state(params)["slots/0/momentum"] == 99.0)


def test_set_state_rejects_mismatches():
    params = _make_params()
    opt = optimizers.Adam()
    opt.apply_gradients(zip(_gradients(params, 0), params))
    state = opt.get_state(params)
    with pytest.raises(ValueError, match="only 1 variables"):
        optimizers.Adam().set_state(state, params[:1])
    with pytest.raises(ValueError, match="shape"):
        optimizers.Adam().set_state(state, params[::-1])
    with pytest.raises(ValueError, match="no slot"):
        optimizers.SGD(momentum=0.9).set_state(state, params)
    with pytest.raises(ValueError, match="iterations"):
        optimizers.Adam().set_state({}, params)


# ---------------------------------------------------------------- API
def test_step_and_apply_gradients_agree():
    a_params, b_params = _make_params(), _make_params()
    a_opt, b_opt = optimizers.Adam(0.05), optimizers.Adam(0.05)
    for step in range(3):
        grads = _gradients(a_params, step)
        a_opt.apply_gradients(zip(grads, a_params))
        for p, g in zip(b_params, _gradients(b_params, step)):
            p.grad = g
        b_opt.step(b_params)
        b_opt.zero_grad(b_params)
        assert all(p.grad is None for p in b_params)
    for a, b in zip(a_params, b_params):
        np.testing.assert_array_equal(a.data, b.data)


def test_step_after_backward_updates_in_place_without_graph():
    w = npgrad.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    buffer = w.data
    loss = (w * w).sum()
    loss.backward()
    optimizers.SGD(0.25).step([w])
    assert w.data is buffer and w.is_leaf
    np.testing.assert_allclose(w.data, [0.5, -1.0])


def test_none_gradients_are_skipped():
    a, b = _make_params()
    before = b.data.copy()
    opt = optimizers.SGD(0.1, momentum=0.9)
    opt.apply_gradients([(np.ones(3), a), (None, b)])
    np.testing.assert_array_equal(b.data, before)
    assert opt.iterations == 1 and opt.variables == [a]
    opt.apply_gradients([(None, a), (None, b)])
    assert opt.iterations == 1   # nothing to apply: a no-op, as in Keras


def test_gradient_as_tensor_and_shape_check():
    p = npgrad.Tensor(np.zeros(2))
    optimizers.SGD(1.0).apply_gradients([(npgrad.Tensor(np.ones(2)), p)])
    np.testing.assert_allclose(p.data, [-1.0, -1.0])
    with pytest.raises(ValueError, match="does not match"):
        optimizers.SGD().apply_gradients([(np.ones(3), p)])
    with pytest.raises(TypeError, match="Tensor"):
        optimizers.SGD().apply_gradients([(np.ones(2), np.zeros(2))])


@pytest.mark.parametrize(
    "identifier, cls",
    [("sgd", optimizers.SGD), ("adam", optimizers.Adam), ("Adam", optimizers.Adam),
     ("rmsprop", optimizers.RMSprop), ("RMSprop", optimizers.RMSprop),
     ("adagrad", optimizers.Adagrad), ("adamw", optimizers.AdamW),
     ("adamax", optimizers.Adamax), ("nadam", optimizers.Nadam),
     ({"class_name": "SGD", "config": {"learning_rate": 0.3, "momentum": 0.5}}, optimizers.SGD),
     (optimizers.Adamax, optimizers.Adamax)],
)
def test_get_resolves_identifiers(identifier, cls):
    assert type(optimizers.get(identifier)) is cls


def test_get_keeps_instances_and_rejects_unknown_names():
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}}).momentum == 0.5
    with pytest.raises(ValueError, match="adamax"):
        optimizers.get("adamm")
    with pytest.raises(ValueError):
        optimizers.get(42)


def test_keras_defaults():
    assert optimizers.SGD().learning_rate == 0.01
    adam = optimizers.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    rms = optimizers.RMSprop()
    assert (rms.learning_rate, rms.rho, rms.epsilon) == (0.001, 0.9, 1e-7)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate"),
        (lambda: optimizers.SGD(momentum=1.5), "momentum"),
        (lambda: optimizers.SGD(momentum=-0.1), "momentum"),
        (lambda: optimizers.RMSprop(rho=1.0), "rho"),
        (lambda: optimizers.RMSprop(epsilon=0.0), "epsilon"),
        (lambda: optimizers.Adam(beta_1=1.0), "beta_1"),
        (lambda: optimizers.Adam(beta_2=-0.5), "beta_2"),
        (lambda: optimizers.Adam(epsilon=-1e-7), "epsilon"),
        (lambda: optimizers.Adamax(beta_1=1.2), "beta_1"),
        (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (lambda: optimizers.AdamW(weight_decay=None), "weight_decay"),
        (lambda: optimizers.SGD(weight_decay=-0.1), "weight_decay"),
        (lambda: optimizers.SGD(clipnorm=0.0), "clipnorm"),
        (lambda: optimizers.Nadam(epsilon=0), "epsilon"),
    ],
)
def test_invalid_hyperparameters_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


# ---------------------------------------------------------------- cache-sized slices
def _three_steps(make, shape=(300, 450)):
    rng = np.random.default_rng(0)
    var = npgrad.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    opt = make()
    for _ in range(3):
        opt.apply_gradients([(rng.standard_normal(shape).astype(np.float32), var)])
    return var.data.copy(), opt.get_state([var])


@pytest.mark.parametrize("case", sorted(ALL_VARIANTS))
def test_large_variables_updated_in_slices_match_one_call_bit_for_bit(case, monkeypatch):
    from npgrad.optimizers import optimizer as base

    assert ALL_VARIANTS[case]().elementwise
    calls = []
    original = type(ALL_VARIANTS[case]())._update

    def counting(self, var, grad, slots, lr):
        calls.append(var.size)
        return original(self, var, grad, slots, lr)

    monkeypatch.setattr(type(ALL_VARIANTS[case]()), "_update", counting)
    sliced_var, sliced_state = _three_steps(ALL_VARIANTS[case])
    # 135,000 float32 elements: slices of 65,536, the last one shorter, in each of 3 steps
    assert base.CHUNK_BYTES // 4 == 65536
    assert calls == [65536, 65536, 135000 - 2 * 65536] * 3
    calls.clear()
    monkeypatch.setattr(base, "CHUNK_BYTES", 1 << 40)
    whole_var, whole_state = _three_steps(ALL_VARIANTS[case])
    assert calls == [300 * 450] * 3
    np.testing.assert_array_equal(sliced_var, whole_var)
    assert sliced_state.keys() == whole_state.keys()
    for key in whole_state:
        np.testing.assert_array_equal(sliced_state[key], whole_state[key])


def test_slices_only_for_elementwise_rules_and_contiguous_variables():
    seen = []

    class NormalizedSGD(optimizers.Optimizer):  # not elementwise: divides by the whole norm
        def _update(self, var, grad, slots, lr):
            seen.append(var.shape)
            var.data -= lr * grad / np.linalg.norm(grad)

    var = npgrad.Tensor(np.ones((400, 400), np.float32))
    NormalizedSGD(0.1).apply_gradients([(np.ones((400, 400), np.float32), var)])
    assert seen == [(400, 400)]  # one call on the whole variable
    np.testing.assert_allclose(var.data, 1 - 0.1 / 400, rtol=1e-6)

    # a transposed (non-contiguous) variable is updated whole, in place
    var = npgrad.Tensor(np.zeros((400, 400), np.float32))
    var.data = var.data.T
    optimizers.SGD(0.5, momentum=0.5).apply_gradients([(np.ones((400, 400), np.float32), var)])
    np.testing.assert_array_equal(var.data, np.full((400, 400), -0.5, np.float32))


# ---------------------------------------------------------------- moving averages (use_ema)
def test_ema_follows_keras_updates_and_overwrite_frequency():
    # Keras's own test_ema: SGD(1.0), gradient 1, momentum 0.9, overwrite every 3 steps
    var = npgrad.Tensor(np.array([[3.0, 4.0], [5.0, 6.0]], np.float32))
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3)
    ones = np.ones((2, 2), np.float32)
    opt.apply_gradients([(ones, var)])
    np.testing.assert_allclose(var.data, [[2, 3], [4, 5]])
    np.testing.assert_allclose(opt.get_state()["slots/0/average"], [[2, 3], [4, 5]])  # copy
    opt.apply_gradients([(ones, var)])
    np.testing.assert_allclose(var.data, [[1, 2], [3, 4]])
    np.testing.assert_allclose(opt.get_state()["slots/0/average"], [[1.9, 2.9], [3.9, 4.9]])
    opt.apply_gradients([(ones, var)])  # step 3: the variable becomes its average
    np.testing.assert_allclose(var.data, [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)
    np.testing.assert_allclose(opt.get_state()["slots/0/average"], var.data)


def test_finalize_variable_values_only_with_ema():
    var = npgrad.Tensor(np.zeros(3, np.float32))
    plain = optimizers.SGD(1.0)
    plain.apply_gradients([(np.ones(3, np.float32), var)])
    plain.finalize_variable_values([var])
    np.testing.assert_array_equal(var.data, -1.0)
    averaged = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    for _ in range(2):
        averaged.apply_gradients([(np.ones(3, np.float32), var)])
    np.testing.assert_array_equal(var.data, -3.0)
    averaged.finalize_variable_values([var])
    np.testing.assert_array_equal(var.data, -2.5)  # 0.5 * -2 + 0.5 * -3


def test_fit_ends_with_the_averaged_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = npgrad.Sequential([npgrad.Input((3,)), npgrad.layers.Dense(1)])
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    model.compile(optimizer=opt, loss="mse")
    seen = []
    raw = npgrad.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()[0].copy()))
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[raw])
    kernel = model.get_weights()[0]
    np.testing.assert_array_equal(kernel, opt.get_state()["slots/0/average"])
    assert not np.array_equal(kernel, seen[-1])  # the raw weights at the last epoch's end


def test_ema_arguments_are_validated_and_serialized():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.Adam(use_ema=True, ema_momentum=1.0)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=0)
    config = optimizers.Adam(use_ema=True, ema_momentum=0.999, ema_overwrite_frequency=5).get_config()
    clone = optimizers.deserialize(json.loads(json.dumps({"class_name": "Adam", "config": config})))
    assert (clone.use_ema, clone.ema_momentum, clone.ema_overwrite_frequency) == (True, 0.999, 5)
