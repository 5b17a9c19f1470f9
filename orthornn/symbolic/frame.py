r"""Exact, dimension-free algebra of operators that act only on a 2-plane of :math:`\mathbb{R}^N`.

Let :math:`F = [u_a\ u_b]` be an ``N×2`` matrix with orthonormal columns,
:math:`F^\top F = I_2`, with ``N`` a *symbol* (``N`` is a positive integer, nothing more is
assumed). Every operator in the RUM Rotation lies in the algebra

.. math::

    \mathcal{A} = \{\, c\, I_N + F M F^\top \;:\; c \in \mathbb{R},\ M \in \mathbb{R}^{2\times 2} \,\},

and every vector splits as :math:`h = F x + t\,w` with :math:`x \in \mathbb{R}^2` and ``w`` a
vector of the complement, :math:`F^\top w = 0`, with :math:`\lVert w\rVert^2 = \omega`.

The objects here are genuine sympy *matrix expressions* in the ``N×2`` matrix symbol
:data:`F` and the ``N×1`` symbol :data:`W`. A product, transpose or inner product is formed as
a matrix expression, expanded, and rewritten with the exact rules (:func:`reduce_frame`)

.. math:: F^\top F \to I_2,\qquad F^\top w \to 0,\qquad w^\top F \to 0,\qquad w^\top w \to \omega,

and the result is read back as a pair :math:`(c, M)` (a :class:`FrameOperator`), a pair
:math:`(x, t)` (a :class:`FrameVector`) or a scalar. Nothing uses a concrete ``N``; so an
identity between such objects proved here holds in every dimension :math:`N \ge 2`. The
closed forms that result — the product rule
:math:`(cI + FMF^\top)(c'I + FM'F^\top) = cc'I + F(cM' + c'M + MM')F^\top`, the transpose rule
and the action on vectors — are the lemma ``rotation.frame_algebra`` of
``proofs/rotation.py``.

References
----------
RUM, section 3.1, eq. (1): :math:`R = I - u_a u_a^\top - u_b u_b^\top + [u_a\ u_b] M(\theta) [u_a\ u_b]^\top`
is :math:`I_N + F(M(\theta) - I_2)F^\top \in \mathcal{A}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import sympy as sp
from sympy.matrices.expressions import MatAdd, MatMul, MatrixExpr

__all__ = [
    "DIM",
    "FRAME",
    "OMEGA",
    "FrameAlgebraError",
    "FrameOperator",
    "FrameVector",
    "GramSchmidt",
    "W",
    "frame_inner",
    "frame_rotation",
    "gram_schmidt",
    "reduce_frame",
]

#: The dimension ``N``: a positive integer symbol (never a number).
DIM = sp.Symbol("N", integer=True, positive=True)
#: The frame :math:`F = [u_a\ u_b]`, an ``N×2`` matrix symbol with :math:`F^\top F = I_2`.
FRAME = sp.MatrixSymbol("F", DIM, 2)
#: A vector of the complement of the plane: :math:`F^\top w = 0`.
W = sp.MatrixSymbol("w", DIM, 1)
#: :math:`\omega = \lVert w\rVert^2 \ge 0`.
OMEGA = sp.Symbol("omega", nonnegative=True)

_FT, _WT = FRAME.T, W.T


class FrameAlgebraError(ValueError):
    """A matrix expression is not of the form the frame algebra reads back."""


def _terms(expr: sp.Basic) -> list[tuple[sp.Expr, list[sp.Basic]]]:
    """Distribute a matrix expression into a sum of (scalar coefficient, matrix factors) terms.

    Only the ring laws are used: distributivity over sums, associativity of products,
    integer powers as repeated products and :math:`(XY)^\top = Y^\top X^\top`.
    """
    if isinstance(expr, sp.ZeroMatrix):
        return []
    if isinstance(expr, MatAdd):
        return [t for arg in expr.args for t in _terms(arg)]
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        return _product([[(coeff, [])]] + [_terms(m) for m in mats])
    if isinstance(expr, sp.MatPow) and expr.exp.is_Integer and expr.exp > 0:
        return _product([_terms(expr.base)] * int(expr.exp))
    if isinstance(expr, sp.Transpose) and not isinstance(expr.arg, sp.MatrixSymbol):
        return [(c, [m.T for m in reversed(mats)]) for c, mats in _terms(expr.arg)]
    return [(sp.Integer(1), [expr])]


def _product(
    factors: list[list[tuple[sp.Expr, list[sp.Basic]]]],
) -> list[tuple[sp.Expr, list[sp.Basic]]]:
    out: list[tuple[sp.Expr, list[sp.Basic]]] = [(sp.Integer(1), [])]
    for terms in factors:
        out = [(c1 * c2, m1 + m2) for c1, m1 in out for c2, m2 in terms]
    return out


def _explicit(m: sp.Basic) -> bool:
    return isinstance(m, sp.MatrixBase)


def _reduce_factors(coeff: sp.Expr, mats: list[sp.Basic]) -> tuple[sp.Expr, list[sp.Basic]]:
    """Apply FᵀF → I₂, Fᵀw → 0, wᵀF → 0, wᵀw → ω, drop identities, multiply explicit neighbours."""
    mats = [m for m in mats if not isinstance(m, sp.Identity)]
    changed = True
    while changed:
        changed = False
        for i in range(len(mats) - 1):
            left, right = mats[i], mats[i + 1]
            if (left, right) == (_FT, FRAME):
                mats[i : i + 2] = [sp.ImmutableMatrix(sp.eye(2))]
            elif (left, right) in ((_FT, W), (_WT, FRAME)):
                return sp.Integer(0), []
            elif (left, right) == (_WT, W):
                coeff, mats[i : i + 2] = coeff * OMEGA, [sp.ImmutableMatrix([[1]])]
            elif _explicit(left) and _explicit(right):
                mats[i : i + 2] = [sp.ImmutableMatrix(left * right)]
            else:
                continue
            changed = True
            break
    return coeff, mats


def reduce_frame(expr: MatrixExpr) -> list[tuple[sp.Expr, list[sp.Basic]]]:
    r"""Expand a matrix expression in :data:`FRAME` and :data:`W` and apply the frame rules.

    .. math:: F^\top F = I_2,\quad F^\top w = 0,\quad w^\top F = 0,\quad w^\top w = \omega

    Returns the non-zero terms as ``(coefficient, factors)`` with explicit 2×2 (or 2×1, 1×2,
    1×1) sympy matrices multiplied together, e.g. ``F*A*F.T*F*B*F.T`` becomes
    ``(1, [F, A*B, F.T])``.

    Examples
    --------
    >>> A = sp.ImmutableMatrix([[1, 2], [3, 4]])
    >>> reduce_frame(FRAME * A * FRAME.T * FRAME * A * FRAME.T)
    [(1, [F, Matrix([
    [ 7, 10],
    [15, 22]]), F.T])]
    >>> reduce_frame(FRAME.T * W)
    []
    """
    out = []
    for coeff, mats in _terms(expr):
        coeff, mats = _reduce_factors(coeff, mats)
        if coeff != 0:
            out.append((coeff, mats))
    return out


def _as_column(x: object) -> sp.ImmutableMatrix:
    m = sp.ImmutableMatrix(x)
    if m.shape != (2, 1):
        raise FrameAlgebraError(f"frame coordinates must be a 2×1 column, got shape {m.shape}")
    return m


@dataclass(frozen=True)
class FrameOperator:
    r"""The operator :math:`c\, I_N + F M F^\top` of the frame algebra :math:`\mathcal{A}`.

    .. math:: (cI + FMF^\top)(c'I + FM'F^\top) = cc'\,I + F(cM' + c'M + MM')F^\top

    Products, sums, transposes and actions are computed on the matrix expression
    :meth:`expr` (``N`` symbolic) with the rules of :func:`reduce_frame` and read back.

    References
    ----------
    RUM, section 3.1, eq. (1); the lemma ``rotation.frame_algebra`` in ``proofs/rotation.py``.

    Examples
    --------
    >>> J = sp.Matrix([[0, -1], [1, 0]])
    >>> G = FrameOperator(0, J)                      # G = u_b u_aᵀ − u_a u_bᵀ
    >>> (G * G * G + G).is_zero                      # G³ = −G, in every dimension N
    True
    >>> (G * G).M                                    # G² = −F Fᵀ
    Matrix([
    [-1,  0],
    [ 0, -1]])
    """

    c: sp.Expr
    M: sp.ImmutableMatrix

    def __init__(self, c: object, M: object) -> None:
        m = sp.ImmutableMatrix(M)
        if m.shape != (2, 2):
            raise FrameAlgebraError(f"M must be 2×2, got shape {m.shape}")
        object.__setattr__(self, "c", sp.sympify(c))
        object.__setattr__(self, "M", m)

    @classmethod
    def identity(cls) -> FrameOperator:
        """The identity :math:`I_N = 1\\cdot I_N + F\\,0\\,F^\\top`."""
        return cls(1, sp.zeros(2, 2))

    @classmethod
    def from_expr(cls, expr: MatrixExpr) -> FrameOperator:
        r"""Read an ``N×N`` matrix expression back as :math:`c\,I_N + F M F^\top`.

        Every term, after :func:`reduce_frame`, must be a multiple of :math:`I_N` or of
        :math:`F E F^\top` with an explicit 2×2 matrix ``E``; otherwise
        :class:`FrameAlgebraError` is raised (the expression is not in :math:`\mathcal{A}`).
        """
        c, M = sp.Integer(0), sp.zeros(2, 2)
        for coeff, mats in reduce_frame(expr):
            if not mats:
                c += coeff
            elif len(mats) == 3 and mats[0] == FRAME and mats[2] == _FT and _explicit(mats[1]):
                M += coeff * mats[1]
            elif len(mats) == 2 and (mats[0], mats[1]) == (FRAME, _FT):
                M += coeff * sp.eye(2)
            else:
                raise FrameAlgebraError(f"term {coeff}*{mats} is not in the frame algebra")
        return cls(c, M)

    def expr(self) -> MatrixExpr:
        """The ``N×N`` matrix expression :math:`c\\,I_N + F M F^\\top`."""
        return self.c * sp.Identity(DIM) + FRAME * self.M * _FT

    def __add__(self, other: FrameOperator) -> FrameOperator:
        return FrameOperator.from_expr(self.expr() + other.expr())

    def __sub__(self, other: FrameOperator) -> FrameOperator:
        return FrameOperator.from_expr(self.expr() - other.expr())

    def __neg__(self) -> FrameOperator:
        return FrameOperator.from_expr(-self.expr())

    def __rmul__(self, scalar: object) -> FrameOperator:
        return FrameOperator.from_expr(sp.sympify(scalar) * self.expr())

    def __mul__(self, other: object) -> FrameOperator:
        if isinstance(other, FrameOperator):
            return FrameOperator.from_expr(self.expr() * other.expr())
        return FrameOperator.from_expr(self.expr() * sp.sympify(other))

    def __pow__(self, n: int) -> FrameOperator:
        if int(n) != n or n < 0:
            raise FrameAlgebraError(f"only non-negative integer powers, got {n}")
        out = FrameOperator.identity()
        for _ in range(int(n)):
            out = out * self
        return out

    def __call__(self, v: FrameVector) -> FrameVector:
        """Apply the operator to a vector :math:`F x + t w`."""
        return FrameVector.from_expr(self.expr() * v.expr())

    @property
    def T(self) -> FrameOperator:
        """The transpose, read back from :math:`(cI_N + FMF^\\top)^\\top`."""
        return FrameOperator.from_expr(self.expr().T)

    def diff(self, *symbols: sp.Symbol) -> FrameOperator:
        """Derivative with respect to scalar parameters (``F`` does not depend on them)."""
        return FrameOperator(sp.diff(self.c, *symbols), self.M.diff(*symbols))

    def subs(self, *args: object, **kwargs: object) -> FrameOperator:
        """Substitute in the scalar parameters."""
        return FrameOperator(self.c.subs(*args, **kwargs), self.M.subs(*args, **kwargs))

    def simplify(self) -> FrameOperator:
        """Simplify ``c`` and the entries of ``M``."""
        return FrameOperator(sp.simplify(self.c), sp.simplify(self.M))

    @property
    def is_zero(self) -> bool:
        """True iff ``c`` and every entry of ``M`` simplify to ``0`` (the zero operator)."""
        return sp.simplify(self.c) == 0 and all(sp.simplify(e) == 0 for e in self.M)


@dataclass(frozen=True)
class FrameVector:
    r"""The vector :math:`h = F x + t\, w` with :math:`x \in \mathbb{R}^2` and :math:`F^\top w = 0`.

    .. math:: (cI + FMF^\top)(Fx + tw) = F(cx + Mx) + c\,t\,w

    Examples
    --------
    >>> x1, x2, t = sp.symbols("x1 x2 t", real=True)
    >>> h = FrameVector([x1, x2], t)
    >>> frame_inner(h, h)
    omega*t**2 + x1**2 + x2**2
    """

    x: sp.ImmutableMatrix
    t: sp.Expr

    def __init__(self, x: object, t: object = 0) -> None:
        object.__setattr__(self, "x", _as_column(x))
        object.__setattr__(self, "t", sp.sympify(t))

    @classmethod
    def from_expr(cls, expr: MatrixExpr) -> FrameVector:
        """Read an ``N×1`` matrix expression back as :math:`F x + t w`."""
        x, t = sp.zeros(2, 1), sp.Integer(0)
        for coeff, mats in reduce_frame(expr):
            if len(mats) == 2 and mats[0] == FRAME and _explicit(mats[1]):
                x += coeff * mats[1]
            elif mats == [W]:
                t += coeff
            else:
                raise FrameAlgebraError(f"term {coeff}*{mats} is not a vector F x + t w")
        return cls(x, t)

    def expr(self) -> MatrixExpr:
        """The ``N×1`` matrix expression :math:`F x + t w`."""
        return FRAME * self.x + self.t * W

    def __add__(self, other: FrameVector) -> FrameVector:
        return FrameVector.from_expr(self.expr() + other.expr())

    def __sub__(self, other: FrameVector) -> FrameVector:
        return FrameVector.from_expr(self.expr() - other.expr())

    def __rmul__(self, scalar: object) -> FrameVector:
        return FrameVector.from_expr(sp.sympify(scalar) * self.expr())


def frame_inner(u: FrameVector, v: FrameVector) -> sp.Expr:
    r"""The inner product :math:`u^\top v`, computed from the matrix expression.

    .. math:: (Fx + tw)^\top (Fy + sw) = x^\top y + t s\, \omega

    Examples
    --------
    >>> frame_inner(FrameVector([1, 2], 3), FrameVector([5, 0], 1))
    3*omega + 5
    """
    total = sp.Integer(0)
    for coeff, mats in reduce_frame(u.expr().T * v.expr()):
        if len(mats) == 1 and _explicit(mats[0]) and mats[0].shape == (1, 1):
            total += coeff * mats[0][0, 0]
        else:
            raise FrameAlgebraError(f"term {coeff}*{mats} is not a scalar")
    return total


class GramSchmidt(NamedTuple):
    r"""The frame :math:`(u_a, u_b)` of a pair and :math:`\cos\theta, \sin\theta` (RUM §3.1)."""

    u_a: FrameVector
    u_b: FrameVector
    cos: sp.Expr
    sin: sp.Expr


def _in_plane(v: FrameVector, name: str) -> None:
    if sp.simplify(v.t) != 0:
        raise FrameAlgebraError(f"{name} must lie in the plane of F (t = 0), got t = {v.t}")


def _norm(v: FrameVector) -> sp.Expr:
    """:math:`\\lVert v\\rVert = \\sqrt{v^\\top v}`, the radicand factored (an exact rewrite)."""
    return sp.sqrt(sp.factor(frame_inner(v, v)))


def gram_schmidt(a: FrameVector, b: FrameVector) -> GramSchmidt:
    r"""Gram–Schmidt of RUM §3.1 for two vectors of the plane, with inner products in :math:`\mathbb{R}^N`.

    .. math::

        u_a = \frac{a}{\lVert a\rVert},\quad v = b - (u_a\cdot b)u_a,\quad
        u_b = \frac{v}{\lVert v\rVert},\quad \cos\theta = \frac{u_a\cdot b}{\lVert b\rVert},
        \quad \sin\theta = \frac{\lVert v\rVert}{\lVert b\rVert}

    Every inner product is :func:`frame_inner` of ``N×1`` matrix expressions.

    Examples
    --------
    >>> g = gram_schmidt(FrameVector([3, 0]), FrameVector([1, 1]))
    >>> g.u_b.x.T, g.cos, g.sin
    (Matrix([[0, 1]]), sqrt(2)/2, sqrt(2)/2)
    """
    _in_plane(a, "a")
    _in_plane(b, "b")
    u_a = (1 / _norm(a)) * a
    proj = frame_inner(u_a, b)
    v = b - proj * u_a
    rv, rb = _norm(v), _norm(b)
    return GramSchmidt(u_a, (1 / rv) * v, proj / rb, rv / rb)


def frame_rotation(a: FrameVector, b: FrameVector) -> FrameOperator:
    r"""RUM eq. (1) for two vectors of the plane of :data:`FRAME`, in every dimension ``N``.

    .. math::

        R(a, b) = I_N - u_a u_a^\top - u_b u_b^\top + [u_a\ u_b]\, M(\theta)\, [u_a\ u_b]^\top

    with :func:`gram_schmidt`; the ``N×2`` matrix :math:`[u_a\ u_b] = [F x_a\ F x_b]` is
    :math:`F [x_a\ x_b]`. The matrix expression is read back as :math:`c I_N + F M F^\top`.

    References
    ----------
    RUM, section 3.1, eq. (1).

    Examples
    --------
    >>> R = frame_rotation(FrameVector([2, 0]), FrameVector([0, 5]))   # a quarter turn
    >>> R.c, R.M
    (1, Matrix([
    [-1, -1],
    [ 1, -1]]))
    """
    g = gram_schmidt(a, b)
    rot = sp.Matrix([[g.cos, -g.sin], [g.sin, g.cos]])
    pair = FRAME * sp.ImmutableMatrix(sp.Matrix.hstack(g.u_a.x, g.u_b.x))
    ua, ub = g.u_a.expr(), g.u_b.expr()
    return FrameOperator.from_expr(sp.Identity(DIM) - ua * ua.T - ub * ub.T + pair * sp.ImmutableMatrix(rot) * pair.T)
