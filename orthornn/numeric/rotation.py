r"""The Rotation operation of RUM (eq. 1), batched in numpy, and its matrix-free application.

For unit vectors :math:`\hat a = a/\lVert a\rVert`, :math:`\hat b = b/\lVert b\rVert` with
:math:`c = \hat a\cdot\hat b = \cos\theta`, RUM's rotation in span(a, b) taking :math:`\hat a`
to :math:`\hat b` is

.. math::

    R(a, b) = I + K + \frac{K^2}{1 + c} = I + \sin\theta\, G + (1 - \cos\theta)\, G^2
            = \exp(\theta G),\qquad K = \hat b\hat a^\top - \hat a\hat b^\top = \sin\theta\, G,

with the generator :math:`G = u_b u_a^\top - u_a u_b^\top` of the plane. Both :func:`rotation`
and :func:`rotate` write it as a rank-two update of the identity,

.. math:: R = I + x\,\hat a^\top + y\,v^\top,

computed once by :func:`_plane` (so the two functions share every branch decision):

* ``c > 0`` (θ < π/2, including θ → 0): the division-free form with :math:`v = w = \hat b -
  c\hat a` (not normalised), :math:`x = w - \frac{s^2}{1+c}\hat a`, :math:`y = -\hat a -
  \frac{w}{1+c}`, :math:`s = \lVert w\rVert`. Nothing is divided by ``s``: θ = 0 gives the
  identity (up to rounding, no 0/0), and near it nothing cancels.
* ``c ≤ 0``: the frame form with :math:`v = u_b = w/s`, :math:`x = s\,u_b - (1-c)\hat a`,
  :math:`y = -s\hat a - (1-c)\,u_b`. The frame :math:`(\hat a, u_b)` is orthonormal to working
  precision even when ``s`` is tiny, so ``R`` stays orthogonal near θ = π.
* ``c < 0`` with ``s ≤ ANTIPARALLEL_SIN_EPS·eps``: exactly antiparallel (the convention
  :data:`~orthornn._conventions.ANTIPARALLEL`): rotation by π in span(â, p), ``p`` the canonical
  partner of â, i.e. :math:`R = I - 2\hat a\hat a^\top - 2pp^\top`.
* ``a = 0`` or ``b = 0``: the identity (:data:`~orthornn._conventions.ZERO_NORM`).

Inputs are first divided by their largest entry, then by their 2-norm, so nothing overflows or
underflows and :math:`R(\alpha a, \beta b) = R(a, b)` for :math:`\alpha, \beta > 0`; ``(c, s)``
is renormalised to :math:`c^2 + s^2 = 1` before use (keeping ``c`` accurate both near 1 and
near 0, where :math:`\sqrt{1 - s^2}` would not be).

References
----------
Dangovski, Jing, Soljačić, "Rotational Unit of Memory" (RUM, arXiv:1710.09537), section 3.1,
eq. (1); ``docs/rotation.md``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._conventions import ANTIPARALLEL_SIN_EPS
from ..errors import OrthornnError, ShapeError
from .validation import as_float_array, broadcast_vectors

__all__ = ["rotate", "rotation"]

FloatArray = NDArray[np.floating]


class _Plane(NamedTuple):
    """``R = I + α(v âᵀ − â vᵀ) − β â âᵀ − γ v vᵀ`` for a batch; ``α, β, γ`` have shape ``(..., 1)``.

    ``(α, β, γ)`` is ``(1, s²/(1+c), 1/(1+c))`` with ``v = w`` (division-free branch, c > 0),
    ``(s, 1−c, 1−c)`` with ``v = u_b`` (frame branch), ``(0, 2, 2)`` with ``v = p`` (antiparallel),
    ``(0, 0, 0)`` for a zero vector. ``antiparallel`` marks the θ = π rows.
    """

    ahat: FloatArray
    v: FloatArray
    alpha: FloatArray
    beta: FloatArray
    gamma: FloatArray
    antiparallel: NDArray[np.bool_]


def _dot(p: FloatArray, q: FloatArray) -> FloatArray:
    return np.einsum("...i,...i->...", p, q)


def _unit(z: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """``z/‖z‖`` scaled by ``max|z|`` first (no overflow/underflow), and the mask ``z == 0``."""
    big = np.max(np.abs(z), axis=-1, keepdims=True)
    zero = big == 0
    y = z / np.where(zero, 1, big)
    norm = np.sqrt(_dot(y, y))[..., None]
    return y * (1 / np.where(zero, 1, norm)), zero[..., 0]


def _canonical_partner(a: FloatArray, ahat: FloatArray) -> FloatArray:
    """Unit vector along ``e_k − â_k â``, ``k = argmin |a_k|`` (first on ties); 0 if ``n = 1``."""
    k = np.argmin(np.abs(a), axis=-1)[..., None]
    p = -np.take_along_axis(ahat, k, axis=-1) * ahat
    np.put_along_axis(p, k, np.take_along_axis(p, k, axis=-1) + 1, axis=-1)
    norm = np.sqrt(_dot(p, p))[..., None]
    return p / np.where(norm > 0, norm, 1)


def plane_coefficients(ahat: Any, bhat: Any, valid: Any, xp: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Branch decisions and coefficients of ``R(a, b)`` from unit vectors, for any array namespace.

    The single implementation of the branch logic, shared by this module (``xp = numpy``) and its
    torch twin :mod:`orthornn.nn.functional.rotation` (``xp = torch``): it uses only operations
    both namespaces spell alike (``where``, ``sqrt``, ``finfo``, arithmetic, ``.sum(-1)``), so no
    torch import is needed here. ``valid`` is false for rows with a zero vector.

    Returns ``(v, alpha, beta, gamma, antiparallel)`` with ``alpha, beta, gamma`` of shape
    ``(...)`` (zero-vector rows are *not* yet masked, antiparallel rows have ``v = 0`` until the
    caller substitutes the canonical partner).
    """
    c = (ahat * bhat).sum(-1)
    w = bhat - c[..., None] * ahat
    w = w - (ahat * w).sum(-1)[..., None] * ahat  # re-orthogonalise once: w ⟂ â to working precision
    s2 = (w * w).sum(-1)
    r2 = xp.where(valid, c * c + s2, 1)
    r = xp.sqrt(r2)  # renormalise (c, s) to c² + s² = 1; w/r is applied through v below
    c, s2 = c / r, s2 / r2

    tol = ANTIPARALLEL_SIN_EPS * xp.finfo(ahat.dtype).eps
    near = c > 0
    antiparallel = ~near & (s2 <= tol * tol) & valid
    frame = ~near & ~antiparallel & valid
    s = xp.sqrt(xp.where(frame, s2, 1))
    one_plus_c = 1 + xp.where(near, c, 0)

    v = w * xp.where(near, 1 / r, xp.where(frame, 1 / (r * s), 0))[..., None]  # w, u_b or 0
    alpha = xp.where(near, 1, xp.where(antiparallel, 0, s))
    beta = xp.where(near, s2 / one_plus_c, xp.where(antiparallel, 2, 1 - c))
    gamma = xp.where(near, 1 / one_plus_c, xp.where(antiparallel, 2, 1 - c))
    return v, alpha, beta, gamma, antiparallel


def _plane(a: FloatArray, b: FloatArray) -> _Plane:
    """Branch decisions and plane of ``R(a, b)`` for broadcast batches ``(..., n)``."""
    ahat, a_zero = _unit(a)
    bhat, b_zero = _unit(b)
    valid = ~(a_zero | b_zero)
    v, alpha, beta, gamma, antiparallel = plane_coefficients(ahat, bhat, valid, np)
    if antiparallel.any():
        v = np.where(antiparallel[..., None], _canonical_partner(a, ahat), v)
    alpha, beta, gamma = (np.where(valid, t, 0)[..., None].astype(a.dtype, copy=False) for t in (alpha, beta, gamma))
    return _Plane(ahat, v, alpha, beta, gamma, antiparallel)


def _vectors(arrays: list[ArrayLike], names: list[str]) -> list[FloatArray]:
    vecs = broadcast_vectors([as_float_array(x, nm, min_ndim=1) for x, nm in zip(arrays, names, strict=True)], names)
    if vecs[0].shape[-1] == 0:
        shapes = ", ".join(f"{nm} {v.shape}" for v, nm in zip(vecs, names, strict=True))
        raise ShapeError(f"vectors must have length n ≥ 1; got {shapes}")
    return vecs


def check_rotatable(n: int, antiparallel: Any) -> None:
    """Raise for an antiparallel pair in n = 1, where no rotation exists (numpy and torch masks).

    Called only when ``n = 1``, so the torch twin synchronises only there.
    """
    if n == 1 and bool(antiparallel.any()):
        raise OrthornnError(
            "rotation of R^1 requested for antiparallel a, b (opposite signs): SO(1) = {1} has no "
            "rotation taking â to −â (only the reflection −1, which orthornn never returns)"
        )


def _checked_plane(a: FloatArray, b: FloatArray) -> _Plane:
    f = _plane(a, b)
    check_rotatable(a.shape[-1], f.antiparallel)
    return f


def rotation(a: ArrayLike, b: ArrayLike) -> FloatArray:
    r"""Rotation in span(a, b) taking :math:`a/\lVert a\rVert` to :math:`b/\lVert b\rVert` (RUM eq. 1).

    .. math::

        R = I + K + \frac{K^2}{1 + c},\quad K = \hat b\hat a^\top - \hat a\hat b^\top,
        \quad c = \hat a\cdot\hat b,

    equivalently :math:`R = I - u_a u_a^\top - u_b u_b^\top + [u_a\,u_b]\,M(\theta)\,[u_a\,u_b]^\top`
    (RUM eq. 1) :math:`= \exp(\theta G)`; ``R`` is the identity on :math:`\mathrm{span}(a,b)^\perp`.

    Parameters
    ----------
    a, b : array_like, shape ``(..., n)``
        Batches of vectors; leading dimensions broadcast. float32 stays float32 (if both are).

    Returns
    -------
    ndarray, shape ``(..., n, n)``
        Orthogonal with determinant +1. Degenerate pairs follow the conventions of
        :mod:`orthornn._conventions`: ``a = 0`` or ``b = 0`` or ``b = βa`` (β > 0) give the
        identity; ``b = βa`` (β < 0) gives the rotation by π in span(â, p), ``p`` the canonical
        partner of â (never a reflection).

    Raises
    ------
    ShapeError
        If the last dimensions differ, the batch dimensions do not broadcast, or ``n = 0``.
    NotFiniteError
        If an input contains NaN or inf.
    OrthornnError
        If ``n = 1`` and ``a, b`` have opposite signs (no rotation of :math:`\mathbb{R}^1` exists).

    See Also
    --------
    rotate : ``R(a, b) @ h`` in O(n) without forming ``R``.
    orthornn.nn.functional.rotation : the differentiable torch twin.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory" (RUM, arXiv:1710.09537), section 3.1, eq. (1).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([1.0, 2.0, 2.0]), np.array([0.0, 3.0, -4.0])
    >>> R = rotation(a, b)
    >>> bool(np.allclose(R.T @ R, np.eye(3)) and np.isclose(np.linalg.det(R), 1.0))
    True
    >>> bool(np.allclose(R @ (a / 3), b / 5))
    True
    >>> bool(np.allclose(rotation(a, 2 * a), np.eye(3), rtol=0, atol=1e-15))  # parallel: identity
    True
    >>> bool(np.allclose(rotation(a, -a) @ (a / 3), -a / 3))  # antiparallel: a half turn, det +1
    True
    """
    a_, b_ = _vectors([a, b], ["a", "b"])
    f = _checked_plane(a_, b_)
    n = a_.shape[-1]
    x = f.alpha * f.v - f.beta * f.ahat  # R = I + x âᵀ + y vᵀ
    y = -(f.alpha * f.ahat + f.gamma * f.v)
    R = x[..., :, None] * f.ahat[..., None, :]
    R += y[..., :, None] * f.v[..., None, :]
    diag = np.arange(n)
    R[..., diag, diag] += 1
    return R


def rotate(a: ArrayLike, b: ArrayLike, h: ArrayLike) -> FloatArray:
    r"""Apply :func:`rotation` ``(a, b)`` to ``h`` in O(n), without forming the matrix.

    .. math::

        R h = h + K h + \frac{K^2 h}{1 + c}
            = h + \sin\theta\,\bigl(u_b (u_a\cdot h) - u_a (u_b\cdot h)\bigr)
              + (\cos\theta - 1)\bigl(u_a (u_a\cdot h) + u_b (u_b\cdot h)\bigr).

    Parameters
    ----------
    a, b, h : array_like, shape ``(..., n)``
        Leading dimensions broadcast against each other.

    Returns
    -------
    ndarray, shape ``(..., n)``
        ``rotation(a, b) @ h`` (up to rounding), with the same degenerate-input conventions.

    Raises
    ------
    ShapeError, NotFiniteError, OrthornnError
        As for :func:`rotation`.

    References
    ----------
    Dangovski, Jing, Soljačić, "Rotational Unit of Memory" (RUM, arXiv:1710.09537), section 3.1,
    eq. (1) and the O(N_h) application to the hidden state.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b, h = rng.standard_normal((3, 5, 8))  # a batch of 5 vectors in R^8 each
    >>> Rh = rotate(a, b, h)
    >>> bool(np.allclose(Rh, (rotation(a, b) @ h[..., None])[..., 0]))
    True
    >>> bool(np.allclose(np.linalg.norm(Rh, axis=-1), np.linalg.norm(h, axis=-1)))
    True
    """
    a_, b_, h_ = _vectors([a, b, h], ["a", "b", "h"])
    f = _checked_plane(a_, b_)
    p, q = _dot(f.ahat, h_)[..., None], _dot(f.v, h_)[..., None]
    return h_ + f.ahat * (-f.beta * p - f.alpha * q) + f.v * (f.alpha * p - f.gamma * q)
