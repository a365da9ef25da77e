"""Registry cases: the keras.losses and keras.activations added with the Keras catalogue.

Each loss case differentiates ``y_pred`` only (targets, labels and constants are keyword
arguments); inputs stay away from kinks (hinge margins, clips, shrink thresholds).
"""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad import activations, losses
from npgrad.primitives.loss import saturating_cast
from tests.gradcheck.registry import OpCase, away_from, floats, well_separated


def _loss(name, fn, inputs, **extra):
    """A case calling ``fn(y_true, y_pred, **constants)`` with y_pred differentiated."""
    return OpCase(f"losses.{name}", lambda y_pred, y_true, **kw: fn(y_true, y_pred, **kw),
                  inputs, **extra)


@st.composite
def _pair(draw, pred=(-3.0, 3.0), true=(-3.0, 3.0), min_dims=1, max_dims=3, min_side=1,
          kink_gap=None, **constants):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                  max_side=4))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=floats(*pred)))
    y_true = draw(hnp.arrays(np.float64, shape, elements=floats(*true)))
    if kink_gap is not None:  # keep y_pred - y_true away from 0
        y_pred = y_true + away_from(y_pred - y_true, [0.0], kink_gap)
    return [y_pred], {"y_true": y_true, **constants}


@st.composite
def _hinge(draw, categorical=False):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=4))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=floats()))
    if categorical:
        y_true = np.eye(shape[-1])[draw(hnp.arrays(np.int64, shape[:1],
                                                   elements=st.integers(0, shape[-1] - 1)))]
        # the label's masked-out 0 joins the max over the other classes (Keras's formula):
        # keep the other scores at least 0.08 away from 0, and distinct (no ties in the max)
        spread = np.arange(y_pred.size).reshape(shape) * 1e-3
        away = np.where(y_pred >= 0, 1.0, -1.0) * (np.abs(y_pred) + 0.1) + spread
        y_pred = np.where(y_true > 0, y_pred + spread, away)
        pos = (y_true * y_pred).sum(-1)
        neg = ((1 - y_true) * y_pred).max(-1)
        margin = neg - pos + 1  # keep the margin away from 0 by moving the label's score
        y_pred = y_pred + y_true * np.where(np.abs(margin) < 0.05, 0.1, 0.0)[:, None]
        # the spread alone can cancel a drawn gap of -1e-3 (0.101 against 0.10100009 was
        # drawn): then the max has two near-tied candidates, which finite differences cross
        assume(all(well_separated(row) for row in np.where(y_true > 0, 0.0, y_pred)))
    else:
        y_true = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
        # margin 1 - y p away from 0: p away from y
        y_pred = y_true * away_from(y_true * y_pred, [1.0], 0.05)
    return [y_pred], {"y_true": y_true}


@st.composite
def _probabilities(draw, low=0.05, high=0.95, classes=False, **constants):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    y_pred = draw(hnp.arrays(np.float64, (n, c), elements=floats(low, high)))
    if classes:
        labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
        y_true = np.eye(c)[labels] if classes == "onehot" else labels
    else:
        y_true = draw(hnp.arrays(np.float64, (n, c), elements=floats(0.0, 1.0)))
    return [y_pred], {"y_true": y_true, **constants}


@st.composite
def _segmentation(draw, **constants):
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=floats(0.05, 0.95)))
    y_true = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    axis = draw(st.sampled_from([None, tuple(range(1, len(shape)))]))
    return [y_pred], {"y_true": y_true, "axis": axis, **constants}


@st.composite
def _ctc(draw):
    n, steps, classes = draw(st.integers(1, 3)), draw(st.integers(4, 6)), draw(st.integers(3, 4))
    logits = draw(hnp.arrays(np.float64, (n, steps, classes), elements=floats()))
    labels = np.zeros((n, 3), dtype=np.int64)
    for i in range(n):  # at most 2 labels: always fits in 4+ steps, repeats included
        length = draw(st.integers(0, 2))
        labels[i, :length] = draw(hnp.arrays(np.int64, (length,),
                                             elements=st.integers(1, classes - 1)))
    return [logits], {"y_true": labels}


@st.composite
def _circle(draw):
    n, d = draw(st.integers(3, 5)), draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    margin = 0.25
    while True:  # off-diagonal cosines away from the kinks at 1 (distance 0) and -margin
        x = rng.normal(size=(n, d))
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        cos = (x @ x.T)[~np.eye(n, dtype=bool)]
        if (cos < 0.95).all() and (np.abs(cos + margin) > 0.03).all():
            break
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 1)))
    return [x], {"y_true": labels, "gamma": 2.0, "margin": margin}


def _act(name, fn, kinks=(), low=-4.0, high=4.0, **constants):
    @st.composite
    def inputs(draw):
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
        x = draw(hnp.arrays(np.float64, shape, elements=floats(low, high)))
        return [away_from(x, kinks, 0.02)], dict(constants)

    return OpCase(f"activations.{name}", lambda x, **kw: fn(x, **kw), inputs())


@st.composite
def _glu_inputs(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    shape = shape[:-1] + (2 * shape[-1],)
    return [draw(hnp.arrays(np.float64, shape, elements=floats()))], {}


@st.composite
def _sparsemax_inputs(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 5))
    x = draw(hnp.arrays(np.float64, (n, c), elements=floats(-2.0, 2.0)))
    x = x + np.arange(x.size).reshape(x.shape) * 1e-2  # distinct: no ties at the support's edge
    # keep every value away from the threshold tau, where the support changes
    out = activations.sparsemax(x).numpy()
    tau = np.nanmax(np.where(out > 0, x - out, np.nan), axis=-1, keepdims=True)
    x = np.where(np.abs(x - tau) < 0.05, x + 0.1 * np.sign(x - tau + 1e-12), x)
    return [x], {"axis": -1}


CASES = [
    OpCase("saturating_cast", lambda x: saturating_cast(x, np.float64) * 1.0,
           st.tuples(st.lists(hnp.arrays(np.float64, st.tuples(st.integers(1, 4)),
                                         elements=floats()), min_size=1, max_size=1),
                     st.just({}))),
    _loss("mean_absolute_percentage_error", losses.mean_absolute_percentage_error,
          _pair(true=(0.5, 3.0), kink_gap=0.05)),
    _loss("mean_squared_logarithmic_error", losses.mean_squared_logarithmic_error,
          _pair(pred=(0.1, 3.0), true=(0.0, 3.0))),
    _loss("log_cosh", losses.log_cosh, _pair()),
    _loss("cosine_similarity", losses.cosine_similarity, _pair(pred=(0.5, 3.0), min_side=2)),
    _loss("hinge", losses.hinge, _hinge()),
    _loss("squared_hinge", losses.squared_hinge, _hinge()),
    _loss("categorical_hinge", losses.categorical_hinge, _hinge(categorical=True)),
    _loss("kl_divergence", losses.kl_divergence, _probabilities()),
    _loss("poisson", losses.poisson, _pair(pred=(0.2, 3.0), true=(0.0, 4.0))),
    _loss("binary_focal_crossentropy", losses.binary_focal_crossentropy, _probabilities()),
    _loss("binary_focal_crossentropy_logits", losses.binary_focal_crossentropy,
          _probabilities(-3.0, 3.0, from_logits=True, apply_class_balancing=True, gamma=1.5)),
    _loss("categorical_focal_crossentropy", losses.categorical_focal_crossentropy,
          _probabilities(0.1, 1.0, classes="onehot")),
    _loss("categorical_focal_crossentropy_logits", losses.categorical_focal_crossentropy,
          _probabilities(-3.0, 3.0, classes="onehot", from_logits=True, label_smoothing=0.1)),
    _loss("categorical_generalized_cross_entropy", losses.categorical_generalized_cross_entropy,
          _probabilities(0.05, 1.0, classes="sparse", q=0.6)),
    _loss("sparse_categorical_crossentropy_ignore_class", losses.sparse_categorical_crossentropy,
          _probabilities(-3.0, 3.0, classes="sparse", from_logits=True, ignore_class=1)),
    _loss("binary_crossentropy_axis", losses.binary_crossentropy,
          _probabilities(-3.0, 3.0, from_logits=True, axis=0)),
    _loss("dice", losses.dice, _segmentation()),
    _loss("tversky", losses.tversky, _segmentation(alpha=0.3, beta=0.7)),
    _loss("ctc", losses.ctc, _ctc()),
    _loss("circle", losses.circle, _circle()),
    _act("relu_options", activations.relu, kinks=(0.5, 2.0), negative_slope=0.1, max_value=2.0,
         threshold=0.5),
    _act("relu6", activations.relu6, kinks=(0.0, 6.0), low=-2.0, high=8.0),
    _act("celu", activations.celu, alpha=0.7),
    _act("exponential", activations.exponential),
    OpCase("activations.glu", lambda x: activations.glu(x), _glu_inputs()),
    _act("hard_shrink", activations.hard_shrink, kinks=(-0.5, 0.5)),
    _act("soft_shrink", activations.soft_shrink, kinks=(-0.3, 0.3), threshold=0.3),
    _act("hard_tanh", activations.hard_tanh, kinks=(-1.0, 1.0)),
    _act("hard_silu", activations.hard_silu, kinks=(-3.0, 3.0)),
    _act("log_sigmoid", activations.log_sigmoid),
    _act("mish", activations.mish),
    _act("sparse_plus", activations.sparse_plus, kinks=(-1.0, 1.0)),
    _act("sparse_sigmoid", activations.sparse_sigmoid, kinks=(-1.0, 1.0)),
    _act("squareplus", activations.squareplus, b=2.0),
    _act("tanh_shrink", activations.tanh_shrink),
    _act("threshold", activations.threshold, kinks=(0.5,), threshold=0.5, default_value=-1.0),
    OpCase("activations.sparsemax", lambda x, **kw: activations.sparsemax(x, **kw),
           _sparsemax_inputs()),
]
