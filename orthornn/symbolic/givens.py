r"""Exact Givens rotations, EUNN layers and meshes (sympy): the specification of the numeric meshes.

Convention (``docs/conventions.md``): :math:`G(i, j, \theta)` rotates :math:`e_i` toward
:math:`e_j`,

.. math:: G e_i = \cos\theta\, e_i + \sin\theta\, e_j,\qquad G e_j = -\sin\theta\, e_i + \cos\theta\, e_j,

so ``G[j, i] = sin θ``. ``sympy.rot_givens(i, j, θ, n)`` is the transpose:
``rot_givens(i, j, θ, n) = givens(i, j, −θ, n) = givens(j, i, θ, n)`` (proved in ``proofs/eunn.py``).

A *layer* is the product of Givens rotations on disjoint pairs (they commute); a *mesh* is
:math:`\Lambda_{L-1}\cdots\Lambda_0` (layer 0 acts first), as in :mod:`orthornn.numeric.givens`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

__all__ = ["givens", "givens_cs", "layer", "mesh", "rotation_block", "tunable_pairs"]


def givens(i: int, j: int, theta: sp.Expr, n: int) -> sp.Matrix:
    r"""The :math:`n\times n` Givens rotation by ``theta`` taking :math:`e_i` toward :math:`e_j`.

    .. math:: G(i, j, \theta) = I + (\cos\theta - 1)(e_ie_i^\top + e_je_j^\top)
              + \sin\theta\,(e_je_i^\top - e_ie_j^\top)

    References
    ----------
    Jing et al. (2017), *Tunable EUNN*; RUM (Dangovski, Jing, Soljačić 2017), §5.2.

    Examples
    --------
    >>> t = sp.Symbol("t", real=True)
    >>> G = givens(0, 2, t, 3)
    >>> G * sp.Matrix([1, 0, 0]) == sp.Matrix([sp.cos(t), 0, sp.sin(t)])
    True
    >>> sp.simplify(G.T * G) == sp.eye(3)
    True
    """
    return givens_cs(i, j, sp.cos(theta), sp.sin(theta), n)


def givens_cs(i: int, j: int, c: sp.Expr, s: sp.Expr, n: int) -> sp.Matrix:
    """:func:`givens` from its cosine ``c`` and sine ``s`` (for algebraic rotations, ``c² + s² = 1``).

    >>> givens_cs(0, 1, sp.Rational(3, 5), sp.Rational(4, 5), 2)
    Matrix([
    [3/5, -4/5],
    [4/5,  3/5]])
    """
    if i == j or not (0 <= i < n and 0 <= j < n):
        raise ValueError(f"need distinct indices in 0..{n - 1}, got ({i}, {j})")
    g = sp.eye(n)
    g[i, i] = g[j, j] = c
    g[j, i], g[i, j] = s, -s
    return g


def rotation_block(theta: sp.Expr) -> sp.Matrix:
    r"""The 2×2 rotation block of RUM eq. (1).

    .. math:: M(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}

    >>> rotation_block(sp.pi / 2)
    Matrix([
    [0, -1],
    [1,  0]])
    """
    return givens(0, 1, theta, 2)


def tunable_pairs(n: int, first: int) -> list[tuple[int, int]]:
    """Pairs ``(k, k+1)`` with ``k ≡ first (mod 2)``: the two pairings of the tunable EUNN.

    >>> tunable_pairs(5, 0), tunable_pairs(5, 1)
    ([(0, 1), (2, 3)], [(1, 2), (3, 4)])
    """
    return [(k, k + 1) for k in range(first % 2, n - 1, 2)]


def layer(pairs: Sequence[tuple[int, int]], phases: Sequence[sp.Expr], n: int) -> sp.Matrix:
    r"""One EUNN layer :math:`\Lambda(\theta) = \prod_k G(i_k, j_k, \theta_k)` on disjoint pairs.

    >>> a, b = sp.symbols("a b", real=True)
    >>> L = layer([(0, 1), (2, 3)], [a, b], 4)
    >>> L == sp.diag(rotation_block(a), rotation_block(b))
    True
    """
    if len(pairs) != len(phases):
        raise ValueError(f"{len(pairs)} pairs but {len(phases)} phases")
    used = [k for p in pairs for k in p]
    if len(set(used)) != len(used):
        raise ValueError(f"pairs of a layer must be disjoint, got {list(pairs)}")
    out = sp.eye(n)
    for (i, j), t in zip(pairs, phases, strict=True):
        out = givens(i, j, t, n) * out
    return out


def mesh(layers: Sequence[sp.Matrix], signs: Sequence[int] | None = None) -> sp.Matrix:
    r"""The mesh :math:`D\,\Lambda_{L-1}\cdots\Lambda_0` of explicit layer matrices (layer 0 acts first).

    >>> a = sp.Symbol("a", real=True)
    >>> L0 = layer([(0, 1)], [a], 2)
    >>> sp.simplify(mesh([L0, layer([(0, 1)], [-a], 2)])) == sp.eye(2)
    True
    """
    if not layers and signs is None:
        raise ValueError("an empty mesh needs its signs (to know n)")
    n = layers[0].shape[0] if layers else len(signs)  # type: ignore[arg-type]
    out = sp.eye(n)
    for lam in layers:
        out = lam * out
    if signs is not None:
        out = sp.diag(*signs) * out
    return out
