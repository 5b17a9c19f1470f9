"""The `lie` theorem family and its exact frame algebra.

* every theorem in proofs/lie.py is proved, and fast (issue: the file well under 60 s);
* the frame algebra is the matrix algebra: FrameOperator products equal explicit n×n products
  for a concrete orthonormal frame (n = 2, 3, 5), and a wrong claim fails;
* the exact closed form R(a,b)^λ = I + sin(λθ)G + (1 − cos λθ)G², lambdified, equals the numeric
  so_power (the symbolic layer is the specification of the numeric one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL

import orthornn
from orthornn.symbolic import Status, decide_zero, load_theorems
from orthornn.symbolic.lie import FrameOperator, J, plane_rotation

PROOFS = Path(__file__).resolve().parents[2] / "proofs" / "lie.py"
THEOREMS = load_theorems(PROOFS)


def test_family_is_complete():
    ids = {t.id for t in THEOREMS}
    assert ids == {
        "lie.frame_algebra",
        "lie.rotation_log",
        "lie.rotation_power",
        "lie.block_form",
        "lie.similarity",
        "lie.det_exp",
        "lie.branch_pi",
    }


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_theorem_is_proved(thm):
    result = thm.run()
    assert result.status is Status.PROVED, (result.message, result.checks)
    assert result.seconds < 30


def explicit(op: FrameOperator, F: sp.Matrix) -> sp.Matrix:
    return op.c * sp.eye(F.shape[0]) + F * op.M * F.T


@pytest.mark.parametrize("n", [2, 3, 5])
def test_frame_algebra_is_the_matrix_algebra(n):
    # an exact orthonormal frame in R^n (rational Pythagorean entries)
    u = sp.zeros(n, 1)
    v = sp.zeros(n, 1)
    u[0], u[1] = sp.Rational(3, 5), sp.Rational(4, 5)
    v[0], v[1] = sp.Rational(-4, 5), sp.Rational(3, 5)
    F = sp.Matrix.hstack(u, v)
    assert F.T * F == sp.eye(2)
    a, b = sp.symbols("a b", real=True)
    X = FrameOperator(a, sp.Matrix([[1, b], [2, a * b]]))
    Y = FrameOperator(b, plane_rotation(a))
    assert sp.simplify(explicit(X @ Y, F) - explicit(X, F) * explicit(Y, F)) == sp.zeros(n)
    assert sp.simplify(explicit(X.T, F) - explicit(X, F).T) == sp.zeros(n)
    G = explicit(FrameOperator.generator(), F)
    assert G == v * u.T - u * v.T  # G = u_b u_aᵀ − u_a u_bᵀ


def test_a_wrong_product_rule_fails():
    a, b = sp.symbols("a b", real=True)
    X, Y = FrameOperator(a, sp.Matrix(J)), FrameOperator(b, sp.eye(2))
    wrong = FrameOperator(a * b, a * Y.M + b * X.M)  # drops M_1 M_2
    assert decide_zero((X @ Y).difference(wrong)) is Status.FAILED


th, lam = sp.symbols("theta lambda", real=True)
_G = sp.Matrix([[0, -1, 0], [1, 0, 0], [0, 0, 0]])
_POWER = sp.lambdify((th, lam), sp.eye(3) + sp.sin(lam * th) * _G + (1 - sp.cos(lam * th)) * _G**2, "numpy")


@given(theta=st.floats(0.0, np.pi - 1e-6), lam_=st.floats(-1.0, 1.0), seed=st.integers(0, 2**31))
def test_lambdified_closed_form_equals_numeric_power(theta, lam_, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))
    R = q @ np.asarray(_POWER(theta, 1.0), dtype=float) @ q.T
    expected = q @ np.asarray(_POWER(theta, lam_), dtype=float) @ q.T
    np.testing.assert_allclose(orthornn.so_power(R, lam_), expected, rtol=0, atol=ATOL["float64"] * 3)
