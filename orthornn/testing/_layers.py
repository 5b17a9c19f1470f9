r"""``check_orthogonal_layer``: one call that property-tests a torch layer whose weight is meant to
be orthogonal — square (O(n), SO(n)) or rectangular (semi-orthogonal: a point of the Stiefel
manifold, in either orientation) — such as a ``torch.nn.utils.parametrizations.orthogonal``
layer, geotorch, a hand-made Cayley or EUNN layer. torch is imported when the check runs, not
when this module is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._asserts import assert_orthogonal, assert_semi_orthogonal
from ._draws import dtype_name
from ._strategies import adversarial_orthogonal_matrices, dimensions

__all__ = ["OPTIMIZERS", "LayerReport", "check_orthogonal_layer"]

#: The optimisers the check drives, by name: ``torch.optim`` class and keyword arguments. Weight
#: decay is on in both: a layer that stores its weight directly is pulled off the group by it.
OPTIMIZERS: dict[str, tuple[str, dict[str, float]]] = {
    "sgd": ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}),
    "adamw": ("AdamW", {"lr": 1e-2, "weight_decay": 1e-2}),
}


@dataclass(frozen=True)
class LayerReport:
    """What :func:`check_orthogonal_layer` ran and measured (it raises on a failure instead).

    Attributes
    ----------
    examples : int
        Hypothesis examples run (each: a size, a dtype, an optimiser, a target matrix).
    checks : tuple of str
        The checks that ran at least once.
    skipped : tuple of str
        The checks that could not run, with the reason (e.g. no ``right_inverse``).
    float32_drift : float or None
        ``‖WᵀW − I‖_max`` (the Gram matrix of the shorter side for a rectangular weight) after
        ``drift_steps`` AdamW steps in float32, in units of eps(float32) (``None`` if float32 is
        not among the dtypes).
    shapes : tuple of (int, int)
        The weight shapes ``(rows, cols)`` checked, sorted (rectangular ones were checked as
        semi-orthogonal).
    """

    examples: int
    checks: tuple[str, ...]
    skipped: tuple[str, ...]
    float32_drift: float | None
    shapes: tuple[tuple[int, int], ...] = ()


def _default_weight(layer: Any) -> Any:
    return layer.weight


def _assign(layer: Any, target: Any, weight: Callable[[Any], Any]) -> bool:
    """Assign ``target`` through the layer's ``right_inverse``; ``False`` if it has none."""
    from torch.nn.utils import parametrize

    if not parametrize.is_parametrized(layer, "weight"):
        return False
    if not all(hasattr(p, "right_inverse") for p in layer.parametrizations["weight"]):
        return False
    layer.weight = target
    return True


def _gram_defect(w: Any) -> float:
    """``‖WᵀW − I‖_max`` of a tall or square weight, ``‖WWᵀ − I‖_max`` of a wide one, in float64."""
    import torch

    w = w.detach().double()
    g = w.T @ w if w.shape[-2] >= w.shape[-1] else w @ w.T
    return float((g - torch.eye(g.shape[-1], dtype=torch.float64)).abs().max())


def _stiefel_target(target: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The first ``cols`` columns (tall) or ``rows`` rows (wide) of a ``max(rows, cols)`` square target."""
    return target[:, :cols] if rows >= cols else target[:rows, :]


def _loss(w: Any, generator: Any) -> Any:
    import torch

    x = torch.randn(w.shape[-1], 4, generator=generator, dtype=torch.float64).to(w.dtype)
    y = torch.randn(w.shape[-2], 4, generator=generator, dtype=torch.float64).to(w.dtype)
    return ((w @ x - y) ** 2).sum()


def check_orthogonal_layer(
    make_layer: Callable[[int, Any], Any],
    *,
    sizes: st.SearchStrategy[int] | None = None,
    dtypes: Sequence[Any] = ("float64", "float32"),
    special: bool = False,
    weight: Callable[[Any], Any] | None = None,
    optimizers: Sequence[str] = ("sgd", "adamw"),
    steps: int = 5,
    drift_steps: int = 300,
    drift_size: int = 16,
    scale: float = 1.0,
    max_examples: int = 20,
    derandomize: bool = True,
) -> LayerReport:
    r"""Property-test a torch layer whose weight is meant to be orthogonal; raise on a failure.

    ``make_layer(n, dtype)`` returns a fresh ``nn.Module`` (``dtype`` a torch dtype) whose
    ``weight(layer)`` (default ``layer.weight``) is a matrix whose shape depends on ``n``: ``n×n``
    for an orthogonal layer, or rectangular ``r×c`` (e.g. ``Linear(n, n + 2)``, weight
    ``(n + 2)×n``) for a semi-orthogonal one — orthonormal columns when ``r ≥ c``, orthonormal
    rows when ``r < c``. For hypothesis-drawn sizes, dtypes, optimisers (:data:`OPTIMIZERS`:
    SGD with momentum and weight decay, AdamW) and adversarial target matrices
    (:func:`adversarial_orthogonal_matrices` of size ``max(r, c)``: eigenvalues −1, angles near
    π and 0, reflections unless ``special``; for a rectangular weight its first ``c`` columns or
    ``r`` rows), it checks:

    * **init**: the weight is orthogonal (:func:`assert_orthogonal`, with ``special=True``: det
      +1), or semi-orthogonal if rectangular (:func:`assert_semi_orthogonal`; ``det`` and
      ``special`` apply to square weights only, a rectangular one lists ``special`` as skipped);
    * **steps**: still so after ``steps`` optimiser steps on a random least-squares loss;
    * **assignment** (layers with a ``right_inverse``, e.g. torch parametrizations): assigning
      the target gives it back (to the tolerance); with ``special=True`` a target with det −1 must
      be refused (an exception) or give a rotation, never a reflection;
    * **gradients**: finite at the assigned hard spectrum (or at init);
    * **drift**: ``‖WᵀW − I‖_max`` (``‖WWᵀ − I‖_max`` for a wide weight) after ``drift_steps``
      AdamW steps in float32 at ``n = drift_size``, reported in eps; it fails only beyond
      orthornn's input tolerance ``1e3·max(r, c)·eps`` (where orthornn's own functions would
      refuse the weight).

    The run is reproducible: each layer is built under ``torch.manual_seed(0)`` (the global RNG
    restored afterwards) and, with ``derandomize`` (default), hypothesis draws the same examples
    on every run. Tolerances are :func:`orthogonality_tolerance` ``(max(r, c), dtype, scale=scale)``. A failure raises
    ``AssertionError`` naming the check, with hypothesis' shrunk falsifying example (the size,
    dtype, optimiser and the target as a call such as ``orthogonal_with_angles((π,), 0, n=2)``).

    Returns
    -------
    LayerReport
        The number of examples, the checks run and skipped, and the float32 drift.

    Examples
    --------
    >>> import torch
    >>> from torch.nn.utils.parametrizations import orthogonal
    >>> def make(n, dtype):
    ...     return orthogonal(torch.nn.Linear(n, n, bias=False, dtype=dtype), orthogonal_map="cayley")
    >>> report = check_orthogonal_layer(make, sizes=dimensions(2, 4), max_examples=4, drift_steps=20)
    >>> report.checks
    ('init', 'steps', 'assignment', 'gradients', 'drift')
    >>> def plain(n, dtype):  # orthogonal at init only: weight decay pulls it off O(n)
    ...     layer = torch.nn.Linear(n, n, bias=False, dtype=dtype)
    ...     torch.nn.init.orthogonal_(layer.weight)
    ...     return layer
    >>> check_orthogonal_layer(plain, max_examples=4, drift_steps=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: check 'steps' (...): not orthogonal: ...
    >>> def stiefel(n, dtype):  # a rectangular weight, (n + 1)×n: orthonormal columns
    ...     return orthogonal(torch.nn.Linear(n, n + 1, bias=False, dtype=dtype), orthogonal_map="cayley")
    >>> report = check_orthogonal_layer(stiefel, sizes=dimensions(2, 3), max_examples=3, drift_steps=0)
    >>> report.checks, all(r == c + 1 for r, c in report.shapes)
    (('init', 'steps', 'assignment', 'gradients'), True)
    """
    import torch

    get = _default_weight if weight is None else weight
    names = [dtype_name(d) for d in dtypes]
    unknown = [o for o in optimizers if o not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"unknown optimizers {unknown}; valid: {', '.join(OPTIMIZERS)}")
    ran: set[str] = set()
    skipped: set[str] = set()
    shapes: set[tuple[int, int]] = set()
    count = [0]
    size_strategy = dimensions(2, 8) if sizes is None else sizes

    def fail(check: str, context: str, err: Exception) -> None:
        raise AssertionError(f"check {check!r} ({context}): {err}") from None

    def run_example(data: st.DataObject) -> None:
        with torch.random.fork_rng():  # the layer's own init is seeded: one example, one result
            torch.manual_seed(0)
            example(data)

    def example(data: st.DataObject) -> None:
        count[0] += 1
        n = data.draw(size_strategy, label="n")
        name = data.draw(st.sampled_from(names), label="dtype")
        opt_name = data.draw(st.sampled_from(list(optimizers)), label="optimizer")
        dtype = getattr(torch, name)
        generator = torch.Generator().manual_seed(0)
        layer = make_layer(n, dtype)
        rows, cols = (int(x) for x in get(layer).shape[-2:])
        shapes.add((rows, cols))
        square = rows == cols
        size = max(rows, cols)
        full = data.draw(adversarial_orthogonal_matrices(size, det=None, dtype="float64"), label="target")
        target = full if square else _stiefel_target(full, rows, cols)
        context = f"n = {n}, {name}" if square else f"n = {n}, weight {rows}×{cols}, {name}"
        if special and not square:
            skipped.add(f"special: the weight is {rows}×{cols} (det and SO(n) apply to square weights only)")

        def check(w: Any) -> None:
            __tracebackhide__ = True
            if square:
                assert_orthogonal(w, special=special, scale=scale)
            else:
                assert_semi_orthogonal(w, scale=scale)

        try:
            check(get(layer))
        except AssertionError as err:
            fail("init", context, err)
        ran.add("init")
        cls, kwargs = OPTIMIZERS[opt_name]
        opt = getattr(torch.optim, cls)(layer.parameters(), **kwargs)
        for _ in range(steps):
            opt.zero_grad()
            _loss(get(layer), generator).backward()
            opt.step()
        try:
            with torch.no_grad():
                check(get(layer))
        except AssertionError as err:
            fail("steps", f"{context}, {steps} {cls} steps", err)
        ran.add("steps")
        t = torch.as_tensor(target, dtype=dtype)
        reflection = square and bool(np.linalg.det(target) < 0)
        try:
            with torch.no_grad():
                assigned = _assign(layer, t, get)
        except NotImplementedError as err:  # the layer declares assignment unsupported
            skipped.add(f"assignment: {err}")
            assigned = False
        except Exception as err:  # a refusal is legitimate only for det −1 targets of an SO(n) layer
            if not (special and reflection):
                fail("assignment", f"{context}, target det {'−1' if reflection else '+1'}", err)
            assigned = False
            ran.add("assignment")
        else:
            if not assigned:
                skipped.add("assignment: the layer has no right_inverse (not a torch parametrization)")
            else:
                ran.add("assignment")
                w = get(layer).detach()
                if special and reflection:
                    if torch.linalg.det(w.double()) < 0:
                        fail("assignment", context, AssertionError("a reflection was accepted by an SO(n) layer"))
                else:
                    err = float((w.double() - t.double()).abs().max())
                    tol = 1e3 * float(torch.finfo(dtype).eps) * size
                    if err > tol:
                        msg = f"assigned target not given back: max error {err:.3g} > {tol:.3g}"
                        fail("assignment", context, AssertionError(msg))
        layer.zero_grad()
        _loss(get(layer), generator).backward()
        bad = [k for k, p in layer.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
        if bad:
            where = "at the assigned target" if assigned else "at init"
            fail("gradients", context, AssertionError(f"non-finite gradients {where} in {bad}"))
        ran.add("gradients")

    test = settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        derandomize=derandomize,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )(given(data=st.data())(run_example))
    test()
    drift = None
    if "float32" in names and drift_steps > 0:
        layer = make_layer(drift_size, torch.float32)
        opt = torch.optim.AdamW(layer.parameters(), lr=1e-2, weight_decay=1e-2)
        generator = torch.Generator().manual_seed(1)
        for _ in range(drift_steps):
            opt.zero_grad()
            _loss(get(layer), generator).backward()
            opt.step()
        w = get(layer).detach()
        rows, cols = (int(x) for x in w.shape[-2:])
        defect = _gram_defect(w)
        drift = defect / float(np.finfo(np.float32).eps)
        if defect > 1e3 * max(rows, cols) * float(np.finfo(np.float32).eps):
            what = "‖WWᵀ − I‖_max" if rows < cols else "‖WᵀW − I‖_max"
            where = f"n = {drift_size}" + ("" if rows == cols else f", weight {rows}×{cols}")
            raise AssertionError(
                f"check 'drift' ({where}, float32, {drift_steps} AdamW steps): {what} = "
                f"{defect:.3g} ({drift:.3g} eps) beyond orthornn's input tolerance 1e3·n·eps"
            )
        ran.add("drift")
    order = ("init", "steps", "assignment", "gradients", "drift")
    return LayerReport(
        count[0], tuple(c for c in order if c in ran), tuple(sorted(skipped)), drift, tuple(sorted(shapes))
    )
