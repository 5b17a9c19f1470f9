r"""Exact Lie objects of one Rotation, in the dimension-free frame algebra.

Built on :mod:`orthornn.symbolic.frame` (operators :math:`cI_N + FMF^\top`, ``N`` symbolic):
the generator :math:`G = FJF^\top`, the exponential of a frame operator, and the real powers

.. math::

    \exp(FXF^\top) = I_N + F(e^X - I_2)F^\top,\qquad
    R(a,b)^\lambda = \exp(\lambda\theta G) = I + \sin(\lambda\theta)\,G + (1 - \cos\lambda\theta)\,G^2 .

These are the specification of :func:`orthornn.so_log` / :func:`orthornn.so_power` for one
Rotation; ``proofs/lie.py`` proves the identities between them.

References
----------
Jing et al., "Rotational Unit of Memory" (RUM), section 5.2.
"""

from __future__ import annotations

import sympy as sp

from .frame import FrameOperator

__all__ = ["J", "exp2", "frame_exp", "generator", "rotation_power"]

#: The generator of plane rotations :math:`J = [[0, -1], [1, 0]]`: :math:`e^{\varphi J} = M(\varphi)`.
J = sp.ImmutableMatrix([[0, -1], [1, 0]])


def exp2(X: sp.MatrixBase) -> sp.Matrix:
    r"""Exact exponential :math:`e^X` of a 2×2 matrix (sympy's Jordan-form sum), simplified to real form.

    >>> from orthornn.symbolic.rotation import plane_rotation
    >>> phi = sp.Symbol("phi", real=True)
    >>> exp2(phi * J) == plane_rotation(phi)
    True
    """
    E = sp.Matrix(X).exp()
    return sp.simplify(E.applyfunc(lambda e: sp.simplify(e.rewrite(sp.cos))))


def generator() -> FrameOperator:
    r"""The generator :math:`G = u_b u_a^\top - u_a u_b^\top = FJF^\top` of a Rotation's plane.

    >>> (generator() * generator()).M  # G² = −FFᵀ
    Matrix([
    [-1,  0],
    [ 0, -1]])
    """
    return FrameOperator(0, J)


def frame_exp(X: sp.MatrixBase) -> FrameOperator:
    r""":math:`\exp(FXF^\top) = \sum_k (FXF^\top)^k/k! = I_N + F(e^X - I_2)F^\top` (``lie.frame_series``).

    >>> from orthornn.symbolic.rotation import plane_rotation
    >>> th = sp.Symbol("theta", real=True)
    >>> frame_exp(th * J).M == plane_rotation(th) - sp.eye(2)  # RUM eq. (1): exp(θG) = R(a, b)
    True
    """
    return FrameOperator(1, exp2(X) - sp.eye(2))


def rotation_power(theta: sp.Expr, lam: sp.Expr) -> FrameOperator:
    r"""Closed form :math:`R(a,b)^\lambda = I + \sin(\lambda\theta)\,G + (1 - \cos\lambda\theta)\,G^2`.

    >>> from orthornn.symbolic.rotation import plane_rotation
    >>> th, lam = sp.symbols("theta lambda", real=True)
    >>> rotation_power(th, 1).M == plane_rotation(th) - sp.eye(2)
    True
    """
    G = generator()
    return FrameOperator.identity() + sp.sin(lam * theta) * G + (1 - sp.cos(lam * theta)) * (G * G)
