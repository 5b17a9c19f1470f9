"""The exact decision procedure: proved only for identities, failed only with exact evidence."""

from __future__ import annotations

import pytest
import sympy as sp

from orthornn.symbolic import Status, combine, decide_true, decide_zero

x, y = sp.symbols("x y", real=True)
t = sp.Symbol("t", positive=True)


@pytest.mark.parametrize(
    "expr",
    [
        sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1,
        sp.sin(x + y) - sp.sin(x) * sp.cos(y) - sp.cos(x) * sp.sin(y),
        (x + y) ** 3 - x**3 - 3 * x**2 * y - 3 * x * y**2 - y**3,
        sp.sqrt(t**2) - t,
        sp.exp(sp.I * x) - sp.cos(x) - sp.I * sp.sin(x),
    ],
)
def test_identities_are_proved(expr):
    assert decide_zero(expr) is Status.PROVED


@pytest.mark.parametrize(
    "expr",
    [
        sp.sin(x) - sp.cos(x),
        sp.sin(x) ** 2 - sp.cos(x) ** 2,
        x**2 + 1,
        sp.sqrt(x**2) - x,  # false for x < 0
        sp.Integer(1),
    ],
)
def test_non_identities_fail(expr):
    assert decide_zero(expr) is Status.FAILED


def test_undecidable_is_never_proved():
    f, g = sp.Function("f"), sp.Function("g")
    assert decide_zero(f(x) - g(x)) is Status.UNDECIDED


def test_matrices_are_checked_entrywise():
    M = sp.Matrix([[sp.cos(x), -sp.sin(x)], [sp.sin(x), sp.cos(x)]])
    assert decide_zero(M.T * M - sp.eye(2)) is Status.PROVED
    assert decide_zero(M * M - sp.eye(2)) is Status.FAILED


def test_relations_and_booleans():
    assert decide_true(sp.Eq(sp.sin(x) ** 2, 1 - sp.cos(x) ** 2)) is Status.PROVED
    assert decide_true(True) is Status.PROVED
    assert decide_true(False) is Status.FAILED
    assert decide_true(sp.Gt(x, 0)) is Status.UNDECIDED


def test_combine_orders_outcomes():
    P, F, U, E = Status.PROVED, Status.FAILED, Status.UNDECIDED, Status.ERROR
    assert combine([P, P]) is P
    assert combine([P, U]) is U
    assert combine([U, F]) is F
    assert combine([F, E]) is E
    assert combine([]) is U
