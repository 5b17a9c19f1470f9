"""Tests of the exact Rotation layer: the frame algebra, the explicit matrices, proofs/rotation.py.

Oracles: explicit matrices for a concrete N with a concrete orthonormal frame F (the frame
algebra must agree with plain matrix arithmetic once F and w are numbers), the independent
explicit forms of orthornn.symbolic.rotation, and meta-tests showing that false variants
of the claims are reported ``failed``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from orthornn.errors import OrthornnError, ShapeError
from orthornn.symbolic import Derivation, Status, discover, theorem
from orthornn.symbolic.frame import (
    DIM,
    FRAME,
    OMEGA,
    FrameAlgebraError,
    FrameOperator,
    FrameVector,
    W,
    frame_inner,
    frame_rotation,
    gram_schmidt,
    reduce_frame,
)
from orthornn.symbolic.rotation import (
    division_free_rotation,
    frame,
    generator,
    plane_rotation,
    rodrigues,
    rotate,
    rotation,
)

PROOFS = Path(__file__).resolve().parents[2] / "proofs" / "rotation.py"

#: A concrete orthonormal frame in R^4 (columns orthonormal, no zero entries) and a vector
#: of its complement.
F4 = sp.Matrix([[1, 1], [1, -1], [1, 1], [1, -1]]) / 2
W4 = sp.Matrix([1, 0, -1, 0])


def concrete(expr: sp.MatrixExpr) -> sp.Matrix:
    """Substitute the concrete frame F4, w = W4 (so N = 4) and evaluate."""
    e = expr.xreplace({FRAME: sp.ImmutableMatrix(F4), W: sp.ImmutableMatrix(W4)})
    return sp.Matrix(e.subs(DIM, 4).doit().as_explicit())


def explicit(op: FrameOperator) -> sp.Matrix:
    return op.c * sp.eye(4) + F4 * op.M * F4.T


def test_concrete_frame_is_orthonormal_and_w_is_in_the_complement():
    assert F4.T * F4 == sp.eye(2)
    assert F4.T * W4 == sp.zeros(2, 1)


OPERANDS = [
    (FrameOperator(2, [[1, -3], [0, 5]]), FrameOperator(sp.Rational(-1, 3), [[2, 7], [-1, 4]])),
    (FrameOperator(0, [[0, -1], [1, 0]]), FrameOperator(1, [[sp.Rational(1, 2), 0], [3, -2]])),
    (FrameOperator(-4, sp.zeros(2, 2)), FrameOperator(3, [[1, 1], [1, 1]])),
]


@pytest.mark.parametrize(("X", "Y"), OPERANDS)
def test_frame_algebra_agrees_with_explicit_matrices_in_dimension_4(X, Y):
    assert explicit(X * Y) == explicit(X) * explicit(Y)
    assert explicit(X + Y) == explicit(X) + explicit(Y)
    assert explicit(X - Y) == explicit(X) - explicit(Y)
    assert explicit(X.T) == explicit(X).T
    assert explicit(X**3) == explicit(X) ** 3
    assert explicit(sp.Rational(5, 2) * X) == sp.Rational(5, 2) * explicit(X)
    assert concrete(X.expr()) == explicit(X)


@pytest.mark.parametrize(("X", "Y"), OPERANDS)
def test_action_and_inner_product_agree_with_explicit_vectors(X, Y):
    h, g = FrameVector([3, -2], 5), FrameVector([1, 4], -1)
    h4, g4 = F4 * h.x + h.t * W4, F4 * g.x + g.t * W4
    image = X(h)
    assert F4 * image.x + image.t * W4 == explicit(X) * h4
    assert frame_inner(h, g).subs(OMEGA, (W4.T * W4)[0, 0]) == (h4.T * g4)[0, 0]


def test_product_rule_closed_form():
    c, c2 = sp.symbols("c c2")
    A = sp.Matrix(2, 2, sp.symbols("a0:4"))
    B = sp.Matrix(2, 2, sp.symbols("b0:4"))
    P = FrameOperator(c, A) * FrameOperator(c2, B)
    assert sp.expand(P.c - c * c2) == 0
    assert sp.expand(P.M - (c * B + c2 * A + A * B)) == sp.zeros(2, 2)


def test_reduce_frame_rules():
    A = sp.ImmutableMatrix([[1, 2], [3, 4]])
    assert reduce_frame(FRAME.T * FRAME) == [(1, [sp.ImmutableMatrix(sp.eye(2))])]
    assert reduce_frame(FRAME.T * W) == []
    assert reduce_frame(W.T * FRAME * A) == []
    assert reduce_frame(W.T * W) == [(OMEGA, [sp.ImmutableMatrix([[1]])])]
    assert reduce_frame(FRAME * A * FRAME.T * FRAME * A * FRAME.T) == [(1, [FRAME, sp.ImmutableMatrix(A * A), FRAME.T])]


def test_terms_outside_the_algebra_are_rejected():
    with pytest.raises(FrameAlgebraError, match="not in the frame algebra"):
        FrameOperator.from_expr(W * W.T)
    with pytest.raises(FrameAlgebraError, match="not a vector"):
        FrameVector.from_expr(W * W.T * W)
    with pytest.raises(FrameAlgebraError, match="2×2"):
        FrameOperator(1, sp.eye(3))
    with pytest.raises(FrameAlgebraError, match="plane of F"):
        gram_schmidt(FrameVector([1, 0], 1), FrameVector([0, 1]))


def test_frame_rotation_matches_explicit_rotation_for_concrete_frame():
    x, y = sp.Matrix([2, 1]), sp.Matrix([-1, 3])
    R = frame_rotation(FrameVector(x), FrameVector(y))
    assert sp.simplify(explicit(R) - rotation(F4 * x, F4 * y)) == sp.zeros(4, 4)


# --------------------------------------------------------------------------- explicit layer

A3, B3 = sp.Matrix([2, 0, 1]), sp.Matrix([1, 3, -1])


def test_explicit_forms_agree():
    R = rotation(A3, B3)
    f = frame(A3, B3)
    assert sp.simplify(rodrigues(generator(A3, B3), f.cos, f.sin) - R) == sp.zeros(3, 3)
    assert sp.simplify(division_free_rotation(A3, B3) - R) == sp.zeros(3, 3)
    h = sp.Matrix(sp.symbols("h0:3"))
    assert sp.simplify(rotate(A3, B3, h) - R * h) == sp.zeros(3, 1)
    assert sp.simplify(f.cos - A3.dot(B3) / (A3.norm() * B3.norm())) == 0


def test_two_dimensional_rotation_is_the_plane_rotation():
    t = sp.pi / 5
    R = rotation([1, 0], [sp.cos(t), sp.sin(t)])
    assert sp.simplify(R - plane_rotation(t)) == sp.zeros(2, 2)


def test_explicit_rotation_accepts_rows_and_symbols():
    a = sp.Matrix(sp.symbols("a0:3", real=True))
    b = sp.Matrix(sp.symbols("b0:3", real=True))
    R = rotation(a.T, b.T)
    assert R.shape == (3, 3)
    point = dict(zip([*a, *b], [1, 2, 2, 0, 1, 0], strict=True))
    Rp = sp.simplify(R.subs(point))
    assert sp.simplify(Rp.T * Rp) == sp.eye(3)


@pytest.mark.parametrize(
    ("a", "b", "error", "match"),
    [
        ([1, 0, 0], [2, 0, 0], OrthornnError, "non-collinear"),
        ([1, 0, 0], [-3, 0, 0], OrthornnError, "non-collinear"),
        ([0, 0, 0], [1, 2, 3], OrthornnError, "a != 0"),
        ([1, 2, 3], [0, 0, 0], OrthornnError, "b != 0"),
        ([1, 2], [1, 2, 3], ShapeError, "same shape"),
        ([1], [2], ShapeError, "N >= 2"),
        ([[1, 2], [3, 4]], [1, 2], ShapeError, "column vector"),
    ],
)
def test_degenerate_or_malformed_pairs_raise(a, b, error, match):
    with pytest.raises(error, match=match):
        rotation(a, b)


def test_division_free_form_rejects_antiparallel_pair():
    with pytest.raises(OrthornnError, match="antiparallel"):
        division_free_rotation([1, 1, 0], [-2, -2, 0])


# --------------------------------------------------------------------------- the theorem file


@pytest.fixture(scope="module")
def results():
    theorems = discover([PROOFS])
    return {th.id: th.run() for th in theorems}


def test_theorem_file_defines_the_issue_family(results):
    expected = {
        "rotation.exp_series",
        "rotation.rodrigues",
        "rotation.orthogonal",
        "rotation.determinant",
        "rotation.maps_a_to_b",
        "rotation.fixes_complement",
        "rotation.inverse",
        "rotation.scale_invariance",
        "rotation.eigenvalues",
        "rotation.norm_and_matrix_free",
        "rotation.division_free",
    }
    assert expected <= set(results)


def test_every_rotation_theorem_is_proved(results):
    not_proved = {k: (r.status, r.message) for k, r in results.items() if r.status is not Status.PROVED}
    assert not not_proved
    for r in results.values():
        assert r.checks, f"{r.id} made no exact check"
        assert r.steps, f"{r.id} records no derivation"


# --------------------------------------------------------------------------- meta-tests: checks can fail


theta = sp.Symbol("theta", real=True)
J = sp.Matrix([[0, -1], [1, 0]])


def _eq1() -> FrameOperator:
    M = plane_rotation(theta)
    return FrameOperator(1, M - sp.eye(2))


@theorem("meta.flipped_generator", r"\text{eq. (1)} = I + \sin\theta\,G' + (1-\cos\theta)G'^2,\ G' = -G")
def flipped_generator(d: Derivation) -> None:
    G = FrameOperator(0, -J)  # u_a u_bᵀ − u_b u_aᵀ: the sign of G flipped
    rod = FrameOperator.identity() + sp.sin(theta) * G + (1 - sp.cos(theta)) * (G * G)
    d.equal(_eq1().M, rod.M, "plane blocks")


@theorem("meta.not_orthogonal", r"R'^\top R' = I \text{ for } M' = [[\cos, -2\sin], [\sin, \cos]]")
def not_orthogonal(d: Derivation) -> None:
    M = sp.Matrix([[sp.cos(theta), -2 * sp.sin(theta)], [sp.sin(theta), sp.cos(theta)]])
    R = FrameOperator(1, M - sp.eye(2))
    d.equal((R.T * R).M, sp.zeros(2, 2), "plane block of R^T R - I")


@theorem("meta.negative_scale", r"R(-a, b) = R(a, b)")
def negative_scale(d: Derivation) -> None:
    rho, b2 = sp.symbols("rho b2", positive=True)
    b1 = sp.Symbol("b1", real=True)
    a, b = FrameVector([rho, 0]), FrameVector([b1, b2])
    d.equal(frame_rotation(-1 * a, b).M, frame_rotation(a, b).M, "plane blocks")


@theorem("meta.wrong_multiplicity", r"\det(xI_N - R) = (x-1)^{N-1}\det(xI_2 - M)")
def wrong_multiplicity(d: Derivation) -> None:
    x = sp.Symbol("x")
    lam = x - 1
    d.equal(sp.powsimp(lam**DIM / lam ** (DIM - 1)), lam**2, "(x-1)^N / (x-1)^(N-1) = (x-1)^2")


@pytest.mark.parametrize("false_theorem", [flipped_generator, not_orthogonal, negative_scale, wrong_multiplicity])
def test_false_variants_are_reported_failed(false_theorem):
    assert false_theorem.run().status is Status.FAILED
