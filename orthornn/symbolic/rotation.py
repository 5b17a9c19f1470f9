r"""The Rotation operation of RUM (eq. 1) as exact sympy matrices, for explicit vectors.

For a non-collinear pair :math:`a, b \in \mathbb{R}^N` (column vectors, any concrete ``N``)

.. math::

    u_a = \frac{a}{\lVert a\rVert},\quad v = b - (u_a\cdot b)\,u_a,\quad
    u_b = \frac{v}{\lVert v\rVert},\quad
    \cos\theta = \frac{a\cdot b}{\lVert a\rVert\lVert b\rVert},\quad
    \sin\theta = \frac{\lVert v\rVert}{\lVert b\rVert},

    R(a, b) = I - u_a u_a^\top - u_b u_b^\top + [u_a\ u_b]\, M(\theta)\, [u_a\ u_b]^\top,
    \qquad M(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}.

``sin θ`` is taken as ``‖v‖/‖b‖`` (never ``arccos``), with
:math:`\lVert v\rVert = \sqrt{\lVert b\rVert^2 - (u_a\cdot b)^2}` (Pythagoras), so the entries are
algebraic in the coordinates of ``a`` and ``b``: these functions are the exact
specification the numeric and torch layers are tested against (e.g. through
``sympy.lambdify``). The dimension-free theorems about them are in ``proofs/rotation.py``.

For vectors of symbols each entry has O(N) size but repeats the sums ``a·a``, ``a·b``,
``b·b``; lambdify with common-subexpression elimination,
``sympy.lambdify([a, b], rotation(a, b), "numpy", cse=True)``. Measured on the 2-core
project machine: N = 4: 0.6 s (1.9 s without ``cse``), N = 8: 1.9 s (9.9 s).

Only non-collinear pairs have a rotation plane; a pair that is *provably* degenerate
(``a = 0``, ``b = 0`` or ``b ∥ a`` with concrete entries) raises
:class:`~orthornn.errors.OrthornnError` here. The numeric layers define those cases by the
conventions of ``orthornn._conventions`` (identity, canonical plane at θ = π).

References
----------
Jing, Gulcehre, Peurifoy, Shen, Tegmark, Soljačić, Bengio, "Rotational Unit of Memory"
(RUM), section 3.1, eq. (1).
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from ..errors import OrthornnError, ShapeError

__all__ = [
    "Frame",
    "division_free_rotation",
    "frame",
    "generator",
    "plane_rotation",
    "rodrigues",
    "rotate",
    "rotation",
]


class Frame(NamedTuple):
    r"""The orthonormal frame of a non-collinear pair and the angle between them.

    ``u_a``, ``u_b`` are ``N×1`` sympy matrices with :math:`u_a^\top u_a = u_b^\top u_b = 1`,
    :math:`u_a^\top u_b = 0`; ``cos`` and ``sin`` are :math:`\cos\theta, \sin\theta` with
    :math:`\theta \in (0, \pi)`.
    """

    u_a: sp.Matrix
    u_b: sp.Matrix
    cos: sp.Expr
    sin: sp.Expr

    @property
    def matrix(self) -> sp.Matrix:
        r"""The ``N×2`` matrix :math:`F = [u_a\ u_b]` (it satisfies :math:`F^\top F = I_2`)."""
        return sp.Matrix.hstack(self.u_a, self.u_b)


def plane_rotation(theta: sp.Expr) -> sp.Matrix:
    r"""The 2×2 rotation :math:`M(\theta)` of RUM eq. (1).

    .. math:: M(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}

    References
    ----------
    RUM, section 3.1, eq. (1).

    Examples
    --------
    >>> t = sp.Symbol("theta", real=True)
    >>> M = plane_rotation(t)
    >>> sp.simplify(M.T * M) == sp.eye(2)
    True
    """
    c, s = sp.cos(theta), sp.sin(theta)
    return sp.Matrix([[c, -s], [s, c]])


def _column(x: object, name: str) -> sp.Matrix:
    m = x if isinstance(x, sp.MatrixBase) else sp.Matrix(x)
    if m.shape[1] != 1 and m.shape[0] == 1:
        m = m.T
    if m.shape[1] != 1 or m.shape[0] < 2:
        raise ShapeError(f"{name} must be a column vector of length N >= 2, got shape {m.shape}")
    return sp.Matrix(m)


def _norm(v: sp.Matrix) -> sp.Expr:
    return sp.sqrt((v.T * v)[0, 0])


def _pair(a: object, b: object) -> tuple[sp.Matrix, sp.Matrix]:
    a_m, b_m = _column(a, "a"), _column(b, "b")
    if a_m.shape != b_m.shape:
        raise ShapeError(f"a and b must have the same shape, got {a_m.shape} and {b_m.shape}")
    return a_m, b_m


def frame(a: object, b: object) -> Frame:
    r"""The orthonormal frame :math:`(u_a, u_b)` of ``(a, b)`` and :math:`\cos\theta, \sin\theta`.

    .. math::

        u_a = \frac{a}{\lVert a\rVert},\quad v = b - (u_a\cdot b)u_a,\quad
        u_b = \frac{v}{\lVert v\rVert},\quad
        \cos\theta = \frac{u_a\cdot b}{\lVert b\rVert},\quad \sin\theta = \frac{\lVert v\rVert}{\lVert b\rVert}

    (Gram–Schmidt; :math:`\lVert v\rVert` is computed as :math:`\sqrt{\lVert b\rVert^2 - (u_a\cdot b)^2}`,
    which keeps each entry of size O(N)). Raises :class:`~orthornn.errors.OrthornnError` when ``a = 0``, ``b = 0``
    or ``b ∥ a`` is provable from the entries, and :class:`~orthornn.errors.ShapeError` for
    vectors that are not columns of one length ``N >= 2``.

    References
    ----------
    RUM, section 3.1 (definitions under eq. 1).

    Examples
    --------
    >>> f = frame([1, 0, 0], [1, 1, 0])
    >>> f.u_b.T, f.cos, f.sin
    (Matrix([[0, 1, 0]]), sqrt(2)/2, sqrt(2)/2)
    >>> sp.simplify(f.matrix.T * f.matrix) == sp.eye(2)
    True
    """
    a_m, b_m = _pair(a, b)
    ra, rb = _norm(a_m), _norm(b_m)
    if ra.is_zero or rb.is_zero:
        raise OrthornnError("the exact Rotation needs a != 0 and b != 0 (no rotation plane)")
    u_a = a_m / ra
    proj = (u_a.T * b_m)[0, 0]
    v = b_m - proj * u_a
    # ‖v‖² = ‖b‖² − (u_a·b)² (Pythagoras, v ⟂ u_a): an O(N) expression instead of O(N²).
    rv = sp.sqrt(rb**2 - proj**2)
    if rv.is_zero or (not rv.free_symbols and sp.simplify(rv) == 0):
        raise OrthornnError("the exact Rotation needs non-collinear a and b (no rotation plane)")
    return Frame(u_a=u_a, u_b=v / rv, cos=proj / rb, sin=rv / rb)


def generator(a: object, b: object) -> sp.Matrix:
    r"""The generator :math:`G = u_b u_a^\top - u_a u_b^\top` of the Rotation (skew, rank 2).

    .. math:: G = u_b u_a^\top - u_a u_b^\top,\qquad G^3 = -G,\qquad R(a, b) = \exp(\theta G)

    References
    ----------
    RUM, section 3.1; orthornn ``proofs/rotation.py`` (``rotation.exp_series``).

    Examples
    --------
    >>> G = generator([1, 0, 0], [1, 1, 0])
    >>> G + G.T == sp.zeros(3, 3) and sp.simplify(G**3 + G) == sp.zeros(3, 3)
    True
    """
    f = frame(a, b)
    return f.u_b * f.u_a.T - f.u_a * f.u_b.T


def rodrigues(g: sp.Matrix, cos: sp.Expr, sin: sp.Expr) -> sp.Matrix:
    r"""The Rodrigues form :math:`I + \sin\theta\,G + (1 - \cos\theta)\,G^2` from a generator.

    .. math:: R = I + \sin\theta\, G + (1 - \cos\theta)\, G^2

    For the ``G`` of :func:`generator` this is :math:`\exp(\theta G) = R(a, b)`.

    References
    ----------
    RUM, section 3.1; orthornn ``proofs/rotation.py`` (``rotation.exp_series``).

    Examples
    --------
    >>> a, b = [2, 0, 1], [1, 3, 0]
    >>> f = frame(a, b)
    >>> sp.simplify(rodrigues(generator(a, b), f.cos, f.sin) - rotation(a, b)) == sp.zeros(3, 3)
    True
    """
    n = g.shape[0]
    return sp.eye(n) + sin * g + (1 - cos) * g * g


def rotation(a: object, b: object) -> sp.Matrix:
    r"""The Rotation :math:`R(a, b)` of RUM eq. (1) as an exact ``N×N`` sympy matrix.

    .. math::

        R(a, b) = I - u_a u_a^\top - u_b u_b^\top + [u_a\ u_b]\, M(\theta)\, [u_a\ u_b]^\top

    with the frame and angle of :func:`frame`. ``a`` and ``b`` are explicit column vectors
    (sympy matrices or sequences; entries may be symbols), of one length ``N >= 2``.

    References
    ----------
    RUM, section 3.1, eq. (1).

    Examples
    --------
    >>> a, b = sp.Matrix([1, 0, 0]), sp.Matrix([1, 1, 0])
    >>> R = rotation(a, b)
    >>> sp.simplify(R * a / a.norm() - b / b.norm()) == sp.zeros(3, 1)
    True
    >>> sp.simplify(R.T * R) == sp.eye(3) and sp.simplify(R.det()) == 1
    True
    """
    f = frame(a, b)
    F = f.matrix
    n = F.shape[0]
    M = sp.Matrix([[f.cos, -f.sin], [f.sin, f.cos]])
    return sp.eye(n) - f.u_a * f.u_a.T - f.u_b * f.u_b.T + F * M * F.T


def division_free_rotation(a: object, b: object) -> sp.Matrix:
    r"""The division-free form :math:`I + K + K^2/(1 + c)` of the Rotation.

    .. math::

        R = I + K + \frac{K^2}{1 + c},\qquad K = \hat b\hat a^\top - \hat a\hat b^\top,
        \qquad c = \hat a\cdot\hat b

    It needs no Gram–Schmidt and no :math:`\sin\theta`; it equals eq. (1) for every pair with
    :math:`c \neq -1` (``rotation.division_free`` in ``proofs/rotation.py``).

    References
    ----------
    RUM, section 3.1, eq. (1) (rewritten without the frame).

    Examples
    --------
    >>> a, b = [2, 0, 1], [1, 3, 0]
    >>> sp.simplify(division_free_rotation(a, b) - rotation(a, b)) == sp.zeros(3, 3)
    True
    """
    a_m, b_m = _pair(a, b)
    ra, rb = _norm(a_m), _norm(b_m)
    if ra.is_zero or rb.is_zero:
        raise OrthornnError("the exact Rotation needs a != 0 and b != 0 (no rotation plane)")
    ah, bh = a_m / ra, b_m / rb
    K = bh * ah.T - ah * bh.T
    c = (ah.T * bh)[0, 0]
    if (1 + c).is_zero or (not c.free_symbols and sp.simplify(1 + c) == 0):
        raise OrthornnError("the division-free form is undefined for antiparallel a and b")
    return sp.eye(a_m.shape[0]) + K + K * K / (1 + c)


def rotate(a: object, b: object, h: object) -> sp.Matrix:
    r"""Apply the Rotation to ``h`` without forming the matrix (O(N) operations).

    .. math::

        R h = h + \sin\theta\,\bigl(u_b (u_a\cdot h) - u_a (u_b\cdot h)\bigr)
              + (\cos\theta - 1)\bigl(u_a (u_a\cdot h) + u_b (u_b\cdot h)\bigr)

    References
    ----------
    RUM, section 3.1 (eq. 1 applied to a vector); orthornn ``proofs/rotation.py``
    (``rotation.norm_and_matrix_free``).

    Examples
    --------
    >>> a, b, h = [2, 0, 1], [1, 3, 0], sp.Matrix([1, -1, 4])
    >>> sp.simplify(rotate(a, b, h) - rotation(a, b) * h) == sp.zeros(3, 1)
    True
    """
    f = frame(a, b)
    h_m = _column(h, "h")
    if h_m.shape != f.u_a.shape:
        raise ShapeError(f"h must have shape {f.u_a.shape} like a and b, got {h_m.shape}")
    pa, pb = (f.u_a.T * h_m)[0, 0], (f.u_b.T * h_m)[0, 0]
    return h_m + f.sin * (f.u_b * pa - f.u_a * pb) + (f.cos - 1) * (f.u_a * pa + f.u_b * pb)
