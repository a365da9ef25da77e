"""Gradient checking: analytic gradients against central finite differences.

Example:
    >>> import numpy as np, npgrad
    >>> from npgrad.utils import gradcheck
    >>> gradcheck(lambda x, w: npgrad.functional.tanh(x @ w),
    ...           [np.random.randn(3, 4), np.random.randn(4, 2)])
    True
"""

from __future__ import annotations

import numpy as np

from npgrad.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def _evaluate(fn, arrays, kwargs, upstream):
    """Scalar <fn(arrays), upstream> computed in float64 without building a graph."""
    from npgrad.autograd.engine import no_grad

    with no_grad():
        out = fn(*[Tensor(a) for a in arrays], **kwargs)
    return float(np.sum(np.asarray(out.data, dtype=np.float64) * upstream))


def gradcheck(fn, inputs, kwargs=None, eps=1e-6, atol=1e-5, rtol=1e-3, requires_grad=None,
              max_elements=64, seed=0):
    """Check ``fn``'s backward against central differences in float64.

    ``fn`` is called as ``fn(*tensors, **kwargs)`` and must return one Tensor and be
    deterministic. A random upstream gradient ``u`` is used (a plain ``.sum()`` would hide
    errors that cancel), so the checked scalar is ``sum(fn(x) * u)``. Inputs with at most
    ``max_elements`` elements are checked element by element; larger ones along random
    directions (a random-projection check).

    Args:
        fn: function of Tensors returning a Tensor.
        inputs: list of array-likes (converted to float64).
        kwargs: constant keyword arguments for ``fn``.
        eps: finite-difference step.
        atol, rtol: tolerance: ``|analytic - numeric| <= atol + rtol * |numeric|``.
        requires_grad: optional list of bools, which inputs to differentiate (default all);
            those marked False must receive no gradient.
        max_elements: inputs larger than this are checked along random directions.
        seed: seed for the upstream gradient and projection directions.

    Returns:
        True when every gradient matches.

    Raises:
        GradcheckError: with a report naming the input, the worst element, the analytic and
            numeric values and the absolute and relative errors.
    """
    kwargs = dict(kwargs or {})
    rng = np.random.default_rng(seed)
    arrays = [np.array(getattr(x, "data", x), dtype=np.float64) for x in inputs]
    originals = [a.copy() for a in arrays]
    flags = _flags("gradcheck", requires_grad, len(arrays))

    tensors = [Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]
    out = fn(*tensors, **kwargs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise GradcheckError(f"gradcheck: float64 inputs gave a {out.dtype} output (dtype not preserved)")
    upstream = rng.standard_normal(out.shape)
    if out.requires_grad:
        out.backward(upstream.astype(out.dtype))

    for i, (t, original) in enumerate(zip(tensors, originals)):
        if not np.array_equal(t.data, original, equal_nan=True):
            raise GradcheckError(f"gradcheck: input {i} was modified in place by fn or its backward")
        if not flags[i]:
            if t.grad is not None:
                raise GradcheckError(f"gradcheck: input {i} did not ask for a gradient but got one")
            continue
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        if analytic.shape != t.shape or analytic.dtype != t.dtype:
            raise GradcheckError(
                f"gradcheck: input {i} gradient has shape {analytic.shape} and dtype "
                f"{analytic.dtype}, expected {t.shape} and {t.dtype}"
            )
        _compare(fn, arrays, kwargs, upstream, i, analytic, eps, atol, rtol, max_elements, rng)
    return True


def _flags(caller, requires_grad, n):
    """Which of the ``n`` inputs to differentiate (default all), checked."""
    flags = list(requires_grad) if requires_grad is not None else [True] * n
    if len(flags) != n:
        raise ValueError(f"{caller}: requires_grad has {len(flags)} entries for {n} inputs")
    return flags


def _numeric_directional(fn, arrays, kwargs, upstream, i, direction, eps):
    plus = [a if j != i else a + eps * direction for j, a in enumerate(arrays)]
    minus = [a if j != i else a - eps * direction for j, a in enumerate(arrays)]
    return (_evaluate(fn, plus, kwargs, upstream) - _evaluate(fn, minus, kwargs, upstream)) / (2 * eps)


def _compare(fn, arrays, kwargs, upstream, i, analytic, eps, atol, rtol, max_elements, rng):
    x = arrays[i]
    if x.size <= max_elements:
        labels = list(np.ndindex(x.shape)) if x.ndim else [()]
        directions = []
        for idx in labels:
            d = np.zeros_like(x)
            d[idx] = 1.0
            directions.append(d)
        what = [f"element {idx}" for idx in labels]
    else:
        directions = [rng.standard_normal(x.shape) for _ in range(8)]
        what = [f"random direction #{k}" for k in range(len(directions))]
    worst = None
    for d, label in zip(directions, what):
        numeric = _numeric_directional(fn, arrays, kwargs, upstream, i, d, eps)
        value = float(np.sum(analytic * d))
        err = abs(value - numeric)
        tol = atol + rtol * abs(numeric)
        if not (err <= tol):  # also catches NaN and inf, which compare False
            excess = err - tol if np.isfinite(err) else np.inf
            if worst is None or excess > worst[0]:
                worst = (excess, label, value, numeric, err)
    if worst is not None:
        _, label, value, numeric, err = worst
        rel = err / max(abs(numeric), 1e-12)
        raise GradcheckError(
            f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at {label}: "
            f"analytic {value:.8g}, numeric {numeric:.8g}, abs error {err:.3g}, rel error {rel:.3g} "
            f"(atol {atol}, rtol {rtol})"
        )


def gradgradcheck(fn, inputs, kwargs=None, eps=1e-6, atol=1e-5, rtol=1e-3, requires_grad=None,
                  max_elements=64, seed=0):
    """Check ``fn``'s second derivatives: the gradients that ``npgrad.autograd.grad`` gives with
    ``create_graph=True``, differentiated again, against central differences of the
    first-order gradients (PyTorch's ``gradgradcheck``).

    The checked function is ``x -> d<fn(x), u>/dx`` for a fixed random ``u`` (every input's
    gradient, flattened and joined), so :func:`gradcheck` compares its backward, the
    second-order pass, with finite differences of plain first-order gradients (the ones
    :func:`gradcheck` verifies). The first-order values of the recorded pass must also equal
    the plain ones. Arguments as :func:`gradcheck`.

    Raises:
        GradcheckError: with :func:`gradcheck`'s report, or naming the input whose recorded
            first-order gradient differs from the plain one.
    """
    from npgrad.autograd.engine import enable_grad
    from npgrad.autograd.gradients import grad
    from npgrad.primitives.shape import concatenate

    kwargs = dict(kwargs or {})
    arrays = [np.array(getattr(x, "data", x), dtype=np.float64) for x in inputs]
    flags = _flags("gradgradcheck", requires_grad, len(arrays))
    with enable_grad():
        probe = fn(*[Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)], **kwargs)
    upstream = np.random.default_rng(seed + 1).standard_normal(probe.shape)

    def first_order(*tensors, **kw):
        recorded = any(t.requires_grad for t in tensors)  # else gradcheck's numeric pass
        with enable_grad():
            xs = tensors if recorded else [Tensor(t.data, requires_grad=f)
                                           for t, f in zip(tensors, flags)]
            wanted = [x for x, f in zip(xs, flags) if f]
            grads = grad(fn(*xs, **kw), wanted, grad_outputs=upstream, create_graph=recorded,
                         allow_unused=True)
        flat = [(g if g is not None else Tensor(np.zeros(x.shape))).reshape(-1)
                for g, x in zip(grads, wanted)]
        return concatenate(flat, axis=0) if recorded else Tensor(np.concatenate(
            [f.data for f in flat]))

    recorded = first_order(*[Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)],
                           **kwargs)
    plain = first_order(*[Tensor(a) for a in arrays], **kwargs)
    if not np.allclose(recorded.data, plain.data, atol=atol, rtol=rtol):
        worst = int(np.argmax(np.abs(recorded.data - plain.data)))
        raise GradcheckError(
            f"gradgradcheck: the recorded first-order gradient differs from the plain one at "
            f"flat element {worst}: {recorded.data[worst]:.8g} against {plain.data[worst]:.8g}")
    return gradcheck(first_order, arrays, kwargs, eps=eps, atol=atol, rtol=rtol,
                     requires_grad=flags, max_elements=max_elements, seed=seed)
