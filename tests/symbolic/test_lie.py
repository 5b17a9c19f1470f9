"""The `lie` theorem family and its exact frame algebra.

* every theorem in proofs/lie.py is proved, and fast (issue: the file well under 60 s);
* the exact objects of orthornn.symbolic.lie, lambdified in a concrete frame, equal scipy's expm
  (an independent algorithm), and a wrong closed form is refuted exactly;
* the exact closed form R(a,b)^λ = I + sin(λθ)G + (1 − cos λθ)G², lambdified, equals the numeric
  so_power (the symbolic layer is the specification of the numeric one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL

import orthornn
from orthornn.symbolic import Status, decide_zero, load_theorems
from orthornn.symbolic.frame import FrameOperator
from orthornn.symbolic.lie import J, frame_exp, generator, rotation_power

PROOFS = Path(__file__).resolve().parents[2] / "proofs" / "lie.py"
THEOREMS = load_theorems(PROOFS)


def test_family_is_complete():
    ids = {t.id for t in THEOREMS}
    assert ids == {
        "lie.frame_series",
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


_t, _l = sp.symbols("t l", real=True)
_OBJECTS = {
    "G": sp.lambdify((), [generator().c, generator().M], "numpy"),
    "exp": sp.lambdify(_t, [frame_exp(_t * sp.Matrix(J)).c, frame_exp(_t * sp.Matrix(J)).M], "numpy"),
    "power": sp.lambdify((_t, _l), [rotation_power(_t, _l).c, rotation_power(_t, _l).M], "numpy"),
}


def in_frame(cM, F: np.ndarray) -> np.ndarray:
    """The n×n matrix c I + F M Fᵀ of a (lambdified) frame operator for a concrete orthonormal frame."""
    c, M = cM
    return float(c) * np.eye(F.shape[0]) + F @ np.asarray(M, dtype=float) @ F.T


@given(n=st.integers(2, 6), theta=st.floats(-3.0, 3.0), lam_=st.floats(-2.0, 2.0), seed=st.integers(0, 2**31))
def test_exact_objects_match_scipy_expm(n, theta, lam_, seed):
    F, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, 2)))
    G = in_frame(_OBJECTS["G"](), F)
    np.testing.assert_allclose(G, F[:, 1:] @ F[:, :1].T - F[:, :1] @ F[:, 1:].T, rtol=0, atol=1e-15)
    E = in_frame(_OBJECTS["exp"](theta), F)
    np.testing.assert_allclose(E, scipy.linalg.expm(theta * G), rtol=0, atol=1e-13)
    P = in_frame(_OBJECTS["power"](theta, lam_), F)
    np.testing.assert_allclose(P, scipy.linalg.expm(lam_ * theta * G), rtol=0, atol=1e-13)


def test_a_wrong_closed_form_is_refuted():
    th_, la = sp.symbols("theta lambda", real=True)
    G = generator()
    wrong = FrameOperator.identity() + sp.sin(la * th_) * G + (1 + sp.cos(la * th_)) * (G * G)
    diff = rotation_power(th_, la) - wrong
    assert decide_zero(sp.Matrix([diff.c, *diff.M])) is Status.FAILED


th, lam = sp.symbols("theta lambda", real=True)
_G = sp.Matrix([[0, -1, 0], [1, 0, 0], [0, 0, 0]])
_POWER = sp.lambdify((th, lam), sp.eye(3) + sp.sin(lam * th) * _G + (1 - sp.cos(lam * th)) * _G**2, "numpy")


@given(theta=st.floats(0.0, np.pi - 1e-6), lam_=st.floats(-1.0, 1.0), seed=st.integers(0, 2**31))
def test_lambdified_closed_form_equals_numeric_power(theta, lam_, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))
    R = q @ np.asarray(_POWER(theta, 1.0), dtype=float) @ q.T
    expected = q @ np.asarray(_POWER(theta, lam_), dtype=float) @ q.T
    np.testing.assert_allclose(orthornn.so_power(R, lam_), expected, rtol=0, atol=ATOL["float64"] * 3)
