r"""Exact objects for the Lie theory of one Rotation: operators :math:`cI + F M F^\top` on a frame.

For an orthonormal pair :math:`F = [u_a\ u_b]` (:math:`F^\top F = I_2`) in any dimension
:math:`n \ge 2`, operators of the form

.. math:: \mathcal{O}(c, M) = c\,I_n + F M F^\top,\qquad c \in \mathbb R,\ M \in \mathbb R^{2\times 2},

form an algebra: :math:`\mathcal O(c_1, M_1)\,\mathcal O(c_2, M_2) = \mathcal O(c_1c_2,\ c_1M_2 + c_2M_1 + M_1M_2)`
and :math:`\mathcal O(c, M)^\top = \mathcal O(c, M^\top)` (``proofs/lie.py``, theorem
``lie.frame_algebra``). The generator :math:`G = u_bu_a^\top - u_au_b^\top` is :math:`\mathcal O(0, J)`,
the Rotation of RUM eq. (1) is :math:`\mathcal O(1, M(\theta) - I_2)`. Computing with
:class:`FrameOperator` is therefore computing with n×n matrices for every n at once, with only
2×2 symbolic algebra; :meth:`FrameOperator.difference` is zero iff the two pairs agree, which
is sufficient for the operators to be equal in every dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["FrameOperator", "J", "plane_rotation"]

#: The generator of rotations of the plane: :math:`J = \begin{bmatrix}0 & -1\\ 1 & 0\end{bmatrix}`.
J = sp.ImmutableMatrix([[0, -1], [1, 0]])


def plane_rotation(phi: sp.Expr) -> sp.Matrix:
    r""":math:`M(\varphi) = \begin{bmatrix}\cos\varphi & -\sin\varphi\\ \sin\varphi & \cos\varphi\end{bmatrix}`
    (rotates :math:`e_1` toward :math:`e_2`; RUM eq. 1).

    >>> plane_rotation(sp.pi / 2)
    Matrix([
    [0, -1],
    [1,  0]])
    """
    return sp.Matrix([[sp.cos(phi), -sp.sin(phi)], [sp.sin(phi), sp.cos(phi)]])


@dataclass(frozen=True)
class FrameOperator:
    r"""The operator :math:`c\,I + F M F^\top` on :math:`\mathbb R^n` for a fixed orthonormal frame F.

    >>> th = sp.Symbol("theta", real=True)
    >>> G = FrameOperator.generator()
    >>> R = FrameOperator(1, plane_rotation(th) - sp.eye(2))
    >>> sp.simplify((R.T @ R).difference(FrameOperator.identity()))  # RᵀR = I
    Matrix([
    [0],
    [0],
    [0],
    [0],
    [0]])
    >>> (G @ G).M == -sp.eye(2)  # G² = −FFᵀ
    True
    """

    c: sp.Expr
    M: sp.Matrix

    def __post_init__(self) -> None:
        object.__setattr__(self, "c", sp.sympify(self.c))
        object.__setattr__(self, "M", sp.Matrix(self.M))
        if self.M.shape != (2, 2):
            raise ValueError(f"M must be 2×2, got {self.M.shape}")

    @classmethod
    def identity(cls) -> FrameOperator:
        """:math:`I = \\mathcal O(1, 0)`."""
        return cls(1, sp.zeros(2))

    @classmethod
    def generator(cls) -> FrameOperator:
        """:math:`G = u_b u_a^\\top - u_a u_b^\\top = \\mathcal O(0, J)`."""
        return cls(0, sp.Matrix(J))

    def __matmul__(self, other: FrameOperator) -> FrameOperator:
        return FrameOperator(self.c * other.c, self.c * other.M + other.c * self.M + self.M * other.M)

    def __add__(self, other: FrameOperator) -> FrameOperator:
        return FrameOperator(self.c + other.c, self.M + other.M)

    def __sub__(self, other: FrameOperator) -> FrameOperator:
        return FrameOperator(self.c - other.c, self.M - other.M)

    def __rmul__(self, scalar: object) -> FrameOperator:
        s = sp.sympify(scalar)
        return FrameOperator(s * self.c, s * self.M)

    @property
    def T(self) -> FrameOperator:
        """Transpose: :math:`\\mathcal O(c, M)^\\top = \\mathcal O(c, M^\\top)`."""
        return FrameOperator(self.c, self.M.T)

    def diff(self, x: sp.Symbol) -> FrameOperator:
        """Derivative with respect to a parameter ``x`` (F fixed)."""
        return FrameOperator(sp.diff(self.c, x), self.M.diff(x))

    def subs(self, *args: object) -> FrameOperator:
        """Substitute in ``c`` and ``M``."""
        return FrameOperator(self.c.subs(*args), self.M.subs(*args))

    def difference(self, other: FrameOperator) -> sp.Matrix:
        """``(c − c', M − M')`` as a 5-vector: zero implies the two operators are equal for every n."""
        return sp.Matrix([self.c - other.c, *list(self.M - other.M)])

    def latex(self) -> str:
        """``c I + F M F^T`` in LaTeX."""
        return rf"{sp.latex(self.c)}\,I + F {sp.latex(self.M)} F^\top"
