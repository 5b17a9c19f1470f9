r"""Exact decision procedures: is a sympy expression identically zero?

The answer is one of three :class:`Status` values and never comes from a floating-point
comparison:

* ``PROVED`` — a chain of exact rewrites (expansion, trigonometric and radical simplification)
  reduced the expression to the literal ``0``;
* ``FAILED`` — sympy proved the expression non-zero (``expr.is_zero is False``), or an exact
  rational counterexample exists: substituting small rationals for the free symbols (respecting
  their assumptions) gives a value sympy proves non-zero;
* ``UNDECIDED`` — neither: sympy could not decide. Never reported as proved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from fractions import Fraction

import sympy as sp

__all__ = ["Status", "combine", "decide_true", "decide_zero"]


class Status(str, Enum):
    """Outcome of a theorem or of one of its checks."""

    PROVED = "proved"
    FAILED = "failed"
    UNDECIDED = "undecided"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


def combine(statuses: Iterable[Status]) -> Status:
    """Status of a conjunction: error beats failed beats undecided beats proved.

    An empty conjunction is not a proof: it is ``UNDECIDED``.

    >>> combine([Status.PROVED, Status.UNDECIDED])
    <Status.UNDECIDED: 'undecided'>
    >>> combine([])
    <Status.UNDECIDED: 'undecided'>
    """
    statuses = list(statuses)
    if not statuses:
        return Status.UNDECIDED
    for worst in (Status.ERROR, Status.FAILED, Status.UNDECIDED):
        if worst in statuses:
            return worst
    return Status.PROVED


#: Rewrites tried in order; each is exact. The first that yields literal 0 proves the claim.
_REWRITES: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    lambda e: e,
    sp.expand,
    lambda e: sp.expand(sp.expand_trig(e)),
    sp.cancel,
    lambda e: sp.expand(sp.powsimp(sp.radsimp(sp.together(e)), force=False)),
    sp.trigsimp,
    sp.simplify,
    lambda e: sp.simplify(sp.expand_complex(e)),
)

#: Rational values tried, per free symbol, when looking for an exact counterexample.
_PROBES = (Fraction(1, 3), Fraction(2, 7), Fraction(5, 4), Fraction(-3, 5), Fraction(7, 2))


def _probe_values(sym: sp.Symbol, k: int) -> sp.Rational:
    v = _PROBES[k % len(_PROBES)]
    r = sp.Rational(v.numerator, v.denominator)
    if sym.is_integer:
        r = sp.Integer(2 + k)
    if sym.is_nonnegative or sym.is_positive:
        r = abs(r)
    if sym.is_negative or sym.is_nonpositive:
        r = -abs(r)
    return r


def _is_zero_scalar(expr: sp.Expr) -> Status:
    expr = sp.sympify(expr)
    for rewrite in _REWRITES:
        e = rewrite(expr)
        if e == 0:
            return Status.PROVED
        if e.is_zero is False and not e.free_symbols:
            return Status.FAILED
    if expr.is_zero is False:
        return Status.FAILED
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    for k in range(len(_PROBES)):
        point = {s: _probe_values(s, k + i) for i, s in enumerate(symbols)}
        try:
            value = sp.simplify(expr.xreplace(point))
        except (ZeroDivisionError, TypeError, ValueError):  # pragma: no cover - defensive
            continue
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            continue
        if value.is_zero is False:
            return Status.FAILED
    return Status.UNDECIDED


def decide_zero(expr: sp.Expr | sp.MatrixBase) -> Status:
    """Decide exactly whether ``expr`` (scalar or matrix, entrywise) is identically zero.

    >>> x = sp.Symbol("x", real=True)
    >>> decide_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    <Status.PROVED: 'proved'>
    >>> decide_zero(sp.sin(x) ** 2 - sp.cos(x) ** 2)
    <Status.FAILED: 'failed'>
    >>> f, g = sp.Function("f"), sp.Function("g")
    >>> decide_zero(f(x) - g(x))
    <Status.UNDECIDED: 'undecided'>
    """
    if isinstance(expr, sp.MatrixBase):
        return combine(_is_zero_scalar(entry) for entry in expr)
    if isinstance(expr, sp.MatrixExpr):
        return decide_zero(expr.as_explicit())
    return _is_zero_scalar(expr)


def decide_true(relation: object) -> Status:
    """Decide a structural claim: a sympy relational or a boolean computed exactly.

    ``True``/``sympy.true`` is proved, ``False``/``sympy.false`` failed; an unevaluated relational
    is moved to ``lhs - rhs`` and decided with :func:`decide_zero` (equalities only).

    >>> decide_true(sp.Eq(sp.Integer(2), sp.Integer(2)))
    <Status.PROVED: 'proved'>
    >>> decide_true(False)
    <Status.FAILED: 'failed'>
    """
    if relation is True or relation is sp.true:
        return Status.PROVED
    if relation is False or relation is sp.false:
        return Status.FAILED
    if isinstance(relation, sp.Equality):
        return decide_zero(relation.lhs - relation.rhs)
    return Status.UNDECIDED
