"""Registry cases: losses differentiated in both arguments.

Keras's losses are ops on ``y_true`` as on ``y_pred``, so a target Tensor that requires a
gradient (the other branch of a consistency or mutual-learning loss) is trained too. Each
case here differentiates both; targets are drawn inside the clips (KL divergence) and away
from the kinks (hinge margins), and are not all 0/1 (hinge's label conversion).
"""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npgrad import losses

from tests.gradcheck.registry import OpCase, away_from, floats, well_separated


def _both(name, fn, inputs, **constants):
    """A case calling ``fn(y_true, y_pred, **constants)`` with both differentiated."""
    return OpCase(f"losses.{name}[target]",
                  lambda y_pred, y_true: fn(y_true, y_pred, **constants), inputs)


@st.composite
def _pairs(draw, pred=(-3.0, 3.0), true=(-3.0, 3.0), min_side=1):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=floats(*pred)))
    y_true = draw(hnp.arrays(np.float64, shape, elements=floats(*true)))
    return [y_pred, y_true], {}


@st.composite
def _margins(draw):
    y_pred, y_true = draw(_pairs(true=(1.1, 2.0)))[0]  # never all 0/1: no label conversion
    # 1 - y_true * y_pred away from 0: move y_pred
    y_pred = away_from(y_true * y_pred, [1.0], 0.05) / y_true
    return [y_pred, y_true], {}


@st.composite
def _categorical_margins(draw):
    y_pred, y_true = draw(_pairs(pred=(0.0, 0.1), true=(0.2, 1.0), min_side=2))[0]
    # the margin max(neg - pos + 1, 0) stays above 0.5; the max in neg needs one winner
    assume(all(well_separated(row) for row in ((1 - y_true) * y_pred).reshape(-1, y_pred.shape[-1])))
    return [y_pred, y_true], {}


CASES = [
    _both("binary_crossentropy", losses.binary_crossentropy,
          _pairs(pred=(0.05, 0.95), true=(0.0, 1.0))),
    _both("binary_crossentropy_logits", losses.binary_crossentropy,
          _pairs(true=(0.0, 1.0)), from_logits=True, label_smoothing=0.2),
    _both("categorical_crossentropy", losses.categorical_crossentropy,
          _pairs(pred=(0.1, 1.0), true=(0.0, 1.0), min_side=2)),
    _both("categorical_crossentropy_logits", losses.categorical_crossentropy,
          _pairs(true=(0.0, 1.0), min_side=2), from_logits=True, label_smoothing=0.1),
    _both("binary_focal_crossentropy", losses.binary_focal_crossentropy,
          _pairs(true=(0.0, 1.0)), from_logits=True, apply_class_balancing=True),
    _both("categorical_focal_crossentropy", losses.categorical_focal_crossentropy,
          _pairs(pred=(0.1, 1.0), true=(0.0, 1.0), min_side=2)),
    _both("kl_divergence", losses.kl_divergence, _pairs(pred=(0.05, 0.95), true=(0.05, 0.95))),
    _both("poisson", losses.poisson, _pairs(pred=(0.2, 3.0), true=(0.0, 4.0))),
    _both("cosine_similarity", losses.cosine_similarity,
          _pairs(pred=(0.5, 3.0), true=(0.5, 3.0), min_side=2)),
    _both("mean_absolute_percentage_error", losses.mean_absolute_percentage_error,
          _pairs(pred=(-3.0, -0.5), true=(0.5, 3.0))),
    _both("mean_squared_logarithmic_error", losses.mean_squared_logarithmic_error,
          _pairs(pred=(0.1, 3.0), true=(0.1, 3.0))),
    _both("hinge", losses.hinge, _margins()),
    _both("categorical_hinge", losses.categorical_hinge, _categorical_margins()),
    _both("dice", losses.dice, _pairs(pred=(0.05, 0.95), true=(0.05, 0.95))),
    _both("tversky", losses.tversky, _pairs(pred=(0.05, 0.95), true=(0.05, 0.95)),
          alpha=0.3, beta=0.7),
]
