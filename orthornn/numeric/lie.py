r"""Lie-algebra logarithm, exponential and real powers on SO(n), batched in numpy.

Every :math:`R \in SO(n)` has a *canonical form* (the real Schur form of a normal matrix):

.. math::

    R = Z\,\operatorname{blockdiag}\bigl(M(\varphi_1), \dots, M(\varphi_k), I\bigr)\,Z^\top,
    \qquad M(\varphi) = \begin{bmatrix}\cos\varphi & -\sin\varphi\\ \sin\varphi & \cos\varphi\end{bmatrix},

with :math:`Z` orthogonal and :math:`\varphi_j \in (-\pi, \pi]`. The principal logarithm and the
real powers are the same similarity of the blocks :math:`\varphi_j J` and :math:`M(\lambda\varphi_j)`,
:math:`J = \bigl[\begin{smallmatrix}0 & -1\\ 1 & 0\end{smallmatrix}\bigr]` (``proofs/lie.py``).

Two algorithms compute it (``docs/lie.md`` measures them):

* :func:`canonical_form` — the real Schur form (LAPACK ``dgees``), one matrix at a time: angles
  by ``atan2`` of the averaged 2×2 blocks, exact at and near π. It is the reference, the
  branch-cut handler, and the route of :func:`so_log` / :func:`so_power` for
  ``n < SPECTRAL_MIN_N``.
* the *spectral route* used from ``n ≥ SPECTRAL_MIN_N``: with the commuting parts
  :math:`S = (R + R^\top)/2` and :math:`K = (R - R^\top)/2` of the normal matrix :math:`R`,

  .. math::

      \log R = g(S)\,K,\quad g(\cos\varphi) = \frac{\varphi}{\sin\varphi},\qquad
      R^\lambda = p(S) + q(S)\,K,\quad p(\cos\varphi) = \cos\lambda\varphi,\
      q(\cos\varphi) = \frac{\sin\lambda\varphi}{\sin\varphi},

  evaluated in the eigenbasis of the *symmetric* :math:`S` (``numpy.linalg.eigh``, batched in C,
  backward stable at repeated eigenvalues). :math:`g, p, q` are smooth functions of
  :math:`\cos\varphi` except at :math:`\cos\varphi = -1`, so the eigenvectors with
  :math:`\cos\varphi` below a cut (chosen in the widest gap of the spectrum of :math:`S` in
  :data:`SPECTRAL_CUT`) span an invariant subspace that is handed to :func:`canonical_form`
  (a small matrix, and it carries the branch convention at π). The same decomposition also
  yields canonical frames (:func:`_spectral_frames`), which the torch backward uses.

Branch convention at φ = π (:data:`orthornn._conventions.LOG_BRANCH`): eigenvalues −1 to
working precision (:data:`orthornn._conventions.BRANCH_TOL`: within ``64·eps`` of π, or within
``64·n·eps`` and not separated from π by the computed angle's error bound) form an
even-dimensional eigenspace :math:`E`; :func:`canonical_form` takes the orthonormal basis :math:`w_1, w_2, \dots`
of :math:`E` obtained by pivoted Gram–Schmidt of the projections :math:`P_E e_i` of the
standard basis vectors (largest residual first, each :math:`w` with a positive coefficient on
its pivot) and returns the planes :math:`(w_1, w_2), (w_3, w_4), \dots` with angle :math:`+\pi`,
i.e. :math:`\log R \mid_E = \pi \sum_j (w_{2j} w_{2j-1}^\top - w_{2j-1} w_{2j}^\top)`. This choice
depends only on :math:`E` (not on the algorithm that found it); any other complex structure on
:math:`E` gives another real logarithm with the same exponential — the log is not unique there.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dgees as _dgees

from .._conventions import BRANCH_TOL, orthogonality_tolerance
from ..errors import NoRealLogarithmError, ShapeError
from .validation import as_float_array, check_orthogonal, check_skew, check_square

__all__ = ["canonical_form", "so_exp", "so_log", "so_power"]

FloatArray = NDArray[np.floating]

#: Interval of ``cos φ`` in which the spectral route places its cut (in the widest gap of the
#: spectrum of ``S``): eigenvalues below go to the canonical form. Its lower end keeps
#: ``g(c) = φ/sin φ`` and ``q(c)`` smooth (``g(−0.95) ≈ 9.0``); with ``n`` eigenvalues the gap is at
#: least ``0.65/(n+1)``, so the split subspaces are invariant to ``O(n·eps)``.
SPECTRAL_CUT: tuple[float, float] = (-0.95, -0.3)

#: From this ``n`` on, :func:`so_log` and :func:`so_power` take the spectral route (batched
#: ``eigh``); below it one real Schur form per matrix is faster (measured: ``docs/lie.md``).
SPECTRAL_MIN_N: int = 32


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------


def _check_n(arr: FloatArray, name: str) -> int:
    """``n`` of a batch of square matrices, which must have ``n ≥ 1`` (empty *batches* are fine).

    One rule for ``so_log``, ``so_power``, ``so_exp`` and their torch twins: SO(0) and so(0)
    are not given a meaning (docs/conventions.md).
    """
    n = check_square(arr, name)
    if n == 0:
        raise ShapeError(f"{name} must be n×n with n ≥ 1, got shape {arr.shape}")
    return n


def _special_orthogonal(R: ArrayLike, name: str) -> tuple[FloatArray, np.dtype]:
    """Validate a batch of rotations; return it as float64 and the dtype to return results in."""
    arr = as_float_array(R, name, min_ndim=2)
    n = _check_n(arr, name)
    check_orthogonal(arr, name, tol=orthogonality_tolerance(n, arr.dtype))
    return arr.astype(np.float64, copy=False), arr.dtype


def _where(index: tuple) -> str:
    """``"[i, j]"`` for a batch index (``""`` for an unbatched matrix)."""
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if len(index) else ""


def _det_minus_one(name: str, where: str) -> NoRealLogarithmError:
    return NoRealLogarithmError(
        f"{name}{where} has determinant −1: it is orthogonal but not a rotation, and no real "
        "matrix A has exp(A) = R (det exp(A) = e^{tr A} > 0)"
    )


# ---------------------------------------------------------------------------------------------
# canonical form (real Schur)
# ---------------------------------------------------------------------------------------------


def _pi_planes(Y: FloatArray) -> FloatArray:
    """Canonical orthonormal basis ``w_1..w_m`` of span(Y) (pivoted Gram–Schmidt of ``P e_i``)."""
    Q, Rr, _ = scipy.linalg.qr(Y.T, pivoting=True, check_finite=False)
    signs = np.where(np.diag(Rr) < 0, -1.0, 1.0)
    return Y @ (Q * signs)


def _schur(R: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Real Schur form ``R = Z T Zᵀ`` straight from LAPACK ``dgees`` (no wrapper overhead)."""
    T, _, _, _, Z, _, info = _dgees(_no_sort, R, compute_v=1, sort_t=0, overwrite_a=0)
    if info != 0:  # pragma: no cover - dgees fails only on non-finite input, rejected earlier
        raise np.linalg.LinAlgError(f"real Schur decomposition failed (LAPACK dgees info={info})")
    return T, Z


def _no_sort(re: float, im: float) -> bool:  # pragma: no cover - never called with sort_t=0
    return False


def _branch_tols(n: int, dtype: np.dtype) -> tuple[float, float]:
    """``(floor, window)`` of the snap to π (:data:`~orthornn._conventions.BRANCH_TOL`) for ``n×n`` of ``dtype``.

    An angle with ``π − |φ| ≤ floor = BRANCH_TOL·eps`` is π; one with ``π − |φ| > window =
    BRANCH_TOL·n·eps`` is not; in between it is π only if its a-posteriori error bound
    (:func:`_angle_error_bounds`) does not separate it from π.
    """
    eps = float(np.finfo(dtype).eps)
    return BRANCH_TOL * eps, BRANCH_TOL * max(n, 1) * eps


def _angle_error_bounds(R: FloatArray, X: FloatArray, Y: FloatArray, phi: FloatArray) -> FloatArray:
    r"""Error bounds of computed angles ``phi`` of the planes ``(X[:, j], Y[:, j])`` of ``R`` (``N×N``).

    Let ``U`` be the orthogonal polar factor of ``R`` (the rotation it approximates) and
    ``ε_j = ‖R [x_j y_j] − [x_j y_j] M(φ_j)‖_F + ‖R − U‖₂``, where
    ``‖R − U‖₂ = max|σ_i − 1| ≤ g/(1 + √(1 − g))``, ``g = ‖RᵀR − I‖₂``. The unit vector
    ``w = [x_j y_j] v`` (``M(φ_j) v = e^{iφ_j} v``) has ``‖U w − e^{iφ_j} w‖ ≤ ε_j``, and ``U`` is
    normal, so it has an eigenvalue ``e^{iψ}`` with ``|e^{iψ} − e^{iφ_j}| ≤ ε_j``, i.e.
    ``|ψ − φ_j| ≤ 2 arcsin(ε_j/2)``. Returned: twice that (the residual is itself computed in
    floating point). Costs a few ``N×N`` products; called only for angles near π.
    """
    c, s = np.cos(phi), np.sin(phi)
    rx = R @ X - (X * c + Y * s)
    ry = R @ Y - (Y * c - X * s)
    r = np.sqrt(np.sum(rx * rx, axis=0) + np.sum(ry * ry, axis=0))
    gram = R.T @ R
    gram[np.diag_indices_from(gram)] -= 1.0
    g = min(1.0, float(np.abs(np.linalg.eigvalsh(gram)).max()))
    eps = r + g / (1.0 + np.sqrt(1.0 - g))
    return 4.0 * np.arcsin(np.minimum(1.0, 0.5 * eps))


def _canonical_one(
    R: FloatArray,
    branch_tol: float,
    embed: FloatArray | None = None,
    *,
    floor: float | None = None,
    full: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, int]:
    """``(Z, phi, n_minus)`` for one ``n×n`` float64 matrix; ``n_minus`` is odd iff det = −1.

    ``embed`` (``N×n``, orthonormal columns) says that ``R`` is the restriction ``Eᵀ R_N E`` of a
    larger rotation ``full`` (``R_N``) to an invariant subspace: the −1 eigenspace then gets the
    canonical planes of :data:`~orthornn._conventions.LOG_BRANCH` in the coordinates of ``R^N``,
    not of ``R^n``.

    A 2×2 block with ``π − |φ| ≤ branch_tol`` counts as two eigenvalues −1 (the snap). With
    ``floor`` (:func:`_branch_tols`), one with ``floor < π − |φ| ≤ branch_tol`` counts as −1
    only if the error bound of its angle (:func:`_angle_error_bounds`, against ``full`` when
    embedded) reaches ``π − |φ|``, i.e. if the data cannot separate it from π; ``floor=None``
    keeps the plain window (:mod:`orthornn.spectra`).

    In the real Schur form of a normal matrix every 2×2 diagonal block (non-zero subdiagonal)
    is a scaled rotation ``[[c, −s'], [s'', c]]`` with ``s' ≈ s''``: its angle is
    ``atan2((s' + s'')/2, c)``. Every 1×1 block is ±1 to working precision.
    """
    n = R.shape[0]
    T, Zs = _schur(R)
    sub = np.diagonal(T, -1)
    starts = np.flatnonzero(sub)
    sin2 = 0.5 * (sub[starts] - T[starts, starts + 1])
    phi2 = np.arctan2(sin2, 0.5 * (T[starts, starts] + T[starts + 1, starts + 1]))
    single = np.ones(n, dtype=bool)
    single[starts] = False
    single[starts + 1] = False
    ones = np.flatnonzero(single)
    delta = np.pi - np.abs(phi2)
    at_pi = delta <= branch_tol
    unsure = np.flatnonzero(at_pi & (delta > floor)) if floor is not None else np.empty(0, dtype=np.intp)
    if unsure.size:
        frame = Zs if embed is None else embed @ Zs
        i = starts[unsure]
        bound = _angle_error_bounds(R if full is None else full, frame[:, i], frame[:, i + 1], phi2[unsure])
        at_pi[unsure] = delta[unsure] <= bound
    neg = ones[np.diagonal(T)[ones] < 0]
    pos = ones[np.diagonal(T)[ones] > 0]
    gen = starts[~at_pi]
    k = gen.size
    minus = np.sort(np.concatenate([neg, starts[at_pi], starts[at_pi] + 1]))
    n_minus = minus.size
    Z = np.empty_like(R)
    Z[:, 0 : 2 * k : 2] = Zs[:, gen]
    Z[:, 1 : 2 * k : 2] = Zs[:, gen + 1]
    if n_minus % 2 == 0 and n_minus and embed is None:
        Z[:, 2 * k : 2 * k + n_minus] = _pi_planes(Zs[:, minus])
    elif n_minus % 2 == 0 and n_minus:
        Z[:, 2 * k : 2 * k + n_minus] = embed.T @ _pi_planes(embed @ Zs[:, minus])
    elif n_minus:
        Z[:, 2 * k : 2 * k + n_minus] = Zs[:, minus]
    Z[:, 2 * k + n_minus :] = Zs[:, pos]
    phi = np.zeros(n // 2)
    phi[:k] = phi2[~at_pi]
    phi[k : k + n_minus // 2] = np.pi
    return Z, phi, n_minus


def _canonical_batch(R: FloatArray, dtype: np.dtype, name: str) -> tuple[FloatArray, FloatArray]:
    """Canonical form of a float64 batch ``(..., n, n)`` whose input had ``dtype``; raises if some
    matrix has det −1."""
    batch, n = R.shape[:-2], R.shape[-1]
    floor, window = _branch_tols(n, dtype)
    flat = R.reshape(-1, n, n)
    Z = np.empty_like(flat)
    phi = np.zeros((flat.shape[0], n // 2))
    for b in range(flat.shape[0]):
        Z[b], phi[b], n_minus = _canonical_one(flat[b], window, floor=floor)
        if n_minus % 2:
            raise _det_minus_one(name, _where(np.unravel_index(b, batch)))
    return Z.reshape(*batch, n, n), phi.reshape(*batch, n // 2)


def canonical_form(R: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r"""Canonical (real Schur) form of rotations: ``R = Z blockdiag(M(φ_1), …, M(φ_m), [1]) Zᵀ``.

    .. math::

        R = \sum_{j=1}^{\lfloor n/2\rfloor} \bigl(\cos\varphi_j (x_j x_j^\top + y_j y_j^\top)
            + \sin\varphi_j (y_j x_j^\top - x_j y_j^\top)\bigr) + [\,z z^\top\,]_{n\ \mathrm{odd}},

    with :math:`x_j = Z_{:,2j-2}`, :math:`y_j = Z_{:,2j-1}` (0-based columns ``2j``, ``2j+1``) and,
    for odd ``n``, :math:`z` the last column. Planes with φ = 0 pair up fixed directions.

    Parameters
    ----------
    R : array_like, shape ``(..., n, n)``
        Rotations (orthogonal with det +1) within
        :func:`orthornn._conventions.orthogonality_tolerance`.

    Returns
    -------
    Z : ndarray, shape ``(..., n, n)``, float64
        Orthogonal frames.
    phi : ndarray, shape ``(..., n // 2)``, float64
        Angles in (−π, π]: first the planes of non-real eigenvalues in Schur order, then the
        −1 eigenspace as planes with angle +π (canonical basis, see the module docstring),
        then zeros.

    Raises
    ------
    ShapeError, NotFiniteError, NotOrthogonalError
        Not square / ``n = 0``; NaN or inf; ``‖RᵀR − I‖_max`` above the tolerance.
    NoRealLogarithmError
        ``det R = −1`` (the canonical form would need a −1 block).

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2; Golub & Van Loan,
    *Matrix Computations*, §7.4 (real Schur form).

    Examples
    --------
    >>> import numpy as np
    >>> c, s = np.cos(0.3), np.sin(0.3)
    >>> R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    >>> Z, phi = canonical_form(R)
    >>> float(abs(phi[0]))
    0.3
    >>> M = np.array([[np.cos(phi[0]), -np.sin(phi[0]), 0], [np.sin(phi[0]), np.cos(phi[0]), 0], [0, 0, 1]])
    >>> bool(np.allclose(Z @ M @ Z.T, R))
    True
    """
    R64, dtype = _special_orthogonal(R, "R")
    return _canonical_batch(R64, dtype, "R")


def _assemble(Z: FloatArray, cos: FloatArray, sin: FloatArray, fixed: float) -> FloatArray:
    r"""``Σ_j cos_j (x xᵀ + y yᵀ) + sin_j (y xᵀ − x yᵀ) + fixed·z zᵀ`` for frames ``Z``."""
    n = Z.shape[-1]
    m = n // 2
    X, Y = Z[..., :, 0 : 2 * m : 2], Z[..., :, 1 : 2 * m : 2]
    Xt, Yt = np.swapaxes(X, -1, -2), np.swapaxes(Y, -1, -2)
    cos, sin = cos[..., None, :], sin[..., None, :]
    out = (X * cos + Y * sin) @ Xt + (Y * cos - X * sin) @ Yt
    if n % 2 and fixed:
        z = Z[..., :, n - 1 :]
        out = out + fixed * (z @ np.swapaxes(z, -1, -2))
    return out


# ---------------------------------------------------------------------------------------------
# spectral route: f(R) = a(S) + b(S) K in the eigenbasis of S = (R + Rᵀ)/2
# ---------------------------------------------------------------------------------------------


def _phi_over_sin(c: FloatArray) -> FloatArray:
    r""":math:`g(c) = \arccos c / \sqrt{1 - c^2}` (= φ/sin φ), smooth on (−1, 1]; g(1) = 1."""
    c = np.clip(c, -1.0, 1.0)
    near = c > 1 - 1e-6
    d = np.where(near, 1.0, (1 - c) * (1 + c))
    series = 1 + (1 - c) / 3 + 2 * (1 - c) ** 2 / 15  # φ/sin φ in powers of 1 − cos φ
    return np.where(near, series, np.arccos(c) / np.sqrt(d))


def _split(c: FloatArray) -> FloatArray:
    """Per matrix, a cut in the widest gap of the sorted eigenvalues ``c`` inside SPECTRAL_CUT."""
    lo, hi = SPECTRAL_CUT
    inside = np.clip(c, lo, hi)
    edges = np.concatenate([np.full((*c.shape[:-1], 1), lo), inside, np.full((*c.shape[:-1], 1), hi)], axis=-1)
    gaps = np.diff(edges, axis=-1)
    j = np.argmax(gaps, axis=-1)[..., None]
    left = np.take_along_axis(edges, j, axis=-1)
    right = np.take_along_axis(edges, j + 1, axis=-1)
    return 0.5 * (left + right)


def _spectral(
    R: FloatArray, name: str, dtype: np.dtype, lam: FloatArray | None, *, frames: bool = False
) -> FloatArray | tuple[FloatArray, FloatArray, FloatArray]:
    """``log R`` (``lam is None``) or ``R^lam`` for a float64 batch by the spectral route.

    With ``frames=True`` also return a canonical form ``(Z, phi)`` built from the same
    eigendecomposition (:func:`_spectral_frames`; used by the torch backward).
    """
    n = R.shape[-1]
    Rt = np.swapaxes(R, -1, -2)
    c, V = np.linalg.eigh(0.5 * (R + Rt))
    Vt = np.swapaxes(V, -1, -2)
    Kt = Vt @ (0.5 * (R - Rt)) @ V  # K in the eigenbasis of S
    cut = _split(c)
    low = c < cut  # eigenvalues of S below the cut: handled by the canonical form
    keep = ~low
    mask2 = keep[..., :, None] & keep[..., None, :]
    if lam is None:
        g = _phi_over_sin(np.where(keep, c, 1.0))
        inner = 0.5 * (g[..., :, None] + g[..., None, :]) * Kt * mask2
    else:
        phi = np.arccos(np.clip(np.where(keep, c, 1.0), -1.0, 1.0))
        lam_ = lam[..., None]
        p = np.cos(lam_ * phi)
        q = lam_ * np.sinc(lam_ * phi / np.pi) / np.sinc(phi / np.pi)
        inner = 0.5 * (q[..., :, None] + q[..., None, :]) * Kt * mask2
        idx = np.arange(n)
        inner[..., idx, idx] += np.where(keep, p, 0.0)
    floor, branch_tol = _branch_tols(n, dtype)
    batch = R.shape[:-2]
    counts = low.sum(axis=-1)
    lows: dict[tuple, tuple[FloatArray, FloatArray, FloatArray]] = {}
    for b in zip(*np.nonzero(counts), strict=True) if batch else ([()] if counts else []):
        sel = np.nonzero(low[b])[0]
        Vl = V[b][:, sel]
        Rl = Vl.T @ R[b] @ Vl  # the restriction of R to its invariant subspace span(Vl)
        Zl, phil, n_minus = _canonical_one(Rl, branch_tol, embed=Vl, floor=floor, full=R[b])
        if n_minus % 2:
            raise _det_minus_one(name, _where(b))
        if lam is None:
            blk = _assemble(Zl, np.zeros_like(phil), phil, 0.0)
        else:
            t = lam[b] * phil
            blk = _assemble(Zl, np.cos(t), np.sin(t), 1.0)
        inner[b][np.ix_(sel, sel)] = blk
        lows[tuple(b)] = (sel, Zl, phil)
    out = V @ inner @ Vt
    if not frames:
        return out
    Z = np.empty_like(R)
    phis = np.zeros((*batch, n // 2))
    for b in np.ndindex(*batch):
        Z[b], phis[b] = _spectral_frames(R[b], c[b], V[b], Kt[b], keep[b], lows.get(b), branch_tol)
    return out, Z, phis


#: Consecutive eigenvalues of ``S`` closer than this belong to one cluster in
#: :func:`_spectral_frames`; couplings across clusters are ``O(eps/CLUSTER_GAP)`` and are dropped.
CLUSTER_GAP: float = 1e-6


def _spectral_frames(
    R: FloatArray,
    c: FloatArray,
    V: FloatArray,
    Kt: FloatArray,
    keep: NDArray[np.bool_],
    low: tuple[FloatArray, FloatArray, FloatArray] | None,
    branch_tol: float,
) -> tuple[FloatArray, FloatArray]:
    """Canonical frames of one rotation from its spectral decomposition (no full Schur form).

    The eigenvectors of ``S`` split into clusters of (numerically) equal ``cos φ``; ``R`` is
    block diagonal over them up to ``O(eps/CLUSTER_GAP)``. A cluster of two is one conjugate
    pair (its 2×2 block ``[[c, −s], [s, c]]`` gives the angle by ``atan2``; all pairs at once);
    a cluster of one, or a larger one with ``cos φ ≥ 1 − tol`` and ``|K| ≤ tol`` (the branch
    snap), is fixed; other larger clusters (repeated angles) get a real Schur form of their
    small block; the part below the cut comes from ``low``.
    """
    n = R.shape[0]
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    angles: list[float] = []
    fixed: list[FloatArray] = []

    def take(frame: FloatArray, phi: FloatArray) -> None:
        m = frame.shape[1]
        xs.append(frame[:, 0 : 2 * (m // 2) : 2])
        ys.append(frame[:, 1 : 2 * (m // 2) : 2])
        angles.extend(phi[: m // 2])
        if m % 2:
            fixed.append(frame[:, m - 1 :])

    if low is not None:
        sel, Zl, phil = low
        take(V[:, sel] @ Zl, phil)
    idx = np.flatnonzero(keep)  # a suffix: eigh sorts c ascending and the cut is a threshold
    if idx.size:
        starts = np.concatenate([[0], np.flatnonzero(np.diff(c[idx]) > CLUSTER_GAP) + 1])
        sizes = np.diff(np.append(starts, idx.size))
        fixed.append(V[:, idx[starts[sizes == 1]]])
        i = idx[starts[sizes == 2]]  # conjugate pairs, all at once
        sin = 0.5 * (Kt[i + 1, i] - Kt[i, i + 1])
        xs.append(V[:, i])
        ys.append(V[:, i + 1])
        angles.extend(np.arctan2(sin, 0.5 * (c[i] + c[i + 1])))
        for start, size in zip(idx[starts[sizes > 2]], sizes[sizes > 2], strict=True):
            cl = np.arange(start, start + size)
            if np.abs(Kt[np.ix_(cl, cl)]).max() <= branch_tol and c[cl].min() >= 1 - branch_tol:
                fixed.append(V[:, cl])  # eigenvalue 1 (to the precision of the branch snap)
            else:
                Vc = V[:, cl]
                Zc, phic, _ = _canonical_one(Vc.T @ R @ Vc, branch_tol, embed=Vc)
                take(Vc @ Zc, phic)
    lone = np.concatenate(fixed, axis=1) if fixed else np.empty((n, 0))
    k = lone.shape[1] // 2
    xs.append(lone[:, 0 : 2 * k : 2])
    ys.append(lone[:, 1 : 2 * k : 2])
    angles.extend([0.0] * k)
    Z = np.empty((n, n))
    X, Y = np.concatenate(xs, axis=1), np.concatenate(ys, axis=1)
    m = X.shape[1]
    Z[:, 0 : 2 * m : 2], Z[:, 1 : 2 * m : 2] = X, Y
    if n % 2:
        Z[:, n - 1] = lone[:, -1]
    return Z, np.asarray(angles, dtype=np.float64)


def _canonical_route(R: FloatArray, name: str, dtype: np.dtype, lam: FloatArray | None) -> FloatArray:
    """``log R`` or ``R^lam`` from :func:`canonical_form` (one Schur form per matrix)."""
    Z, phi = _canonical_batch(R, dtype, name)
    if lam is None:
        return _assemble(Z, np.zeros_like(phi), phi, 0.0)
    t = lam[..., None] * phi
    return _assemble(Z, np.cos(t), np.sin(t), 1.0)


def _log_or_power(R: FloatArray, name: str, dtype: np.dtype, lam: FloatArray | None) -> FloatArray:
    """Dispatch: the canonical form for small ``n``, the spectral route from SPECTRAL_MIN_N on."""
    route = _spectral if R.shape[-1] >= SPECTRAL_MIN_N else _canonical_route
    return route(R, name, dtype, lam)


def _finish_skew(L: FloatArray, dtype: np.dtype) -> FloatArray:
    return (0.5 * (L - np.swapaxes(L, -1, -2))).astype(dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


def so_log(R: ArrayLike) -> FloatArray:
    r"""Principal real logarithm of rotations: the skew-symmetric ``A`` with ``exp(A) = R``.

    .. math::

        \log R = Z\,\operatorname{blockdiag}(\varphi_1 J, \dots, \varphi_k J, 0)\,Z^\top
               = g(S)\,K,\qquad g(\cos\varphi) = \frac{\varphi}{\sin\varphi},

    eigenvalues :math:`\pm i\varphi_j` with :math:`\varphi_j \in (-\pi, \pi]`.

    Parameters
    ----------
    R : array_like, shape ``(..., n, n)``
        Rotations (orthogonal, det +1) within
        :func:`orthornn._conventions.orthogonality_tolerance` ``(n, dtype)``. float32 input is
        computed in float64 and returned as float32.

    Returns
    -------
    ndarray, shape ``(..., n, n)``
        Real and exactly skew-symmetric (``A == -A.T`` bit for bit). At an eigenvalue −1 the
        logarithm is not unique; the one returned follows
        :data:`orthornn._conventions.LOG_BRANCH` (module docstring).

    Raises
    ------
    ShapeError
        Not a (batch of) square matrices, or ``n = 0``.
    NotFiniteError
        NaN or inf in ``R``.
    NotOrthogonalError
        ``‖RᵀR − I‖_max`` above the tolerance (the message reports the defect).
    NoRealLogarithmError
        ``det R = −1``: no real logarithm exists.

    See Also
    --------
    so_exp, so_power, canonical_form, orthornn.nn.functional.so_log

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2; Higham, *Functions of
    Matrices* (2008), §11 (the principal logarithm).

    Examples
    --------
    >>> import numpy as np
    >>> from orthornn import rotation
    >>> R = rotation([1.0, 0.0, 0.0], [0.0, 1.0, 1.0])  # a rotation by π/2
    >>> A = so_log(R)
    >>> bool(np.array_equal(A, -A.T)) and bool(np.allclose(so_exp(A), R))
    True
    >>> float(np.linalg.norm(A) / np.sqrt(2))  # ‖θG‖_F = θ√2
    1.5707963267948966
    """
    R64, dtype = _special_orthogonal(R, "R")
    return _finish_skew(_log_or_power(R64, "R", dtype, None), dtype)


def so_power(R: ArrayLike, lam: ArrayLike) -> FloatArray:
    r"""Real powers of rotations on the principal branch: :math:`R^\lambda = \exp(\lambda \log R)`.

    .. math::

        R^\lambda = Z\,\operatorname{blockdiag}(M(\lambda\varphi_1), \dots, M(\lambda\varphi_k), I)\,Z^\top
                  = \cos(\lambda\Phi) + \frac{\sin \lambda\Phi}{\sin\Phi}\,K,

    with the same frame :math:`Z` as :func:`so_log` (no second decomposition).

    Parameters
    ----------
    R : array_like, shape ``(..., n, n)``
        Rotations, as for :func:`so_log`.
    lam : array_like, shape broadcastable to ``R.shape[:-2]``
        Real exponents (a scalar, or one per matrix of the batch).

    Returns
    -------
    ndarray, shape ``(broadcast(R.shape[:-2], lam.shape), n, n)``
        Rotations; float32 only if ``R`` and ``lam`` are both float32.

    Raises
    ------
    ShapeError, NotFiniteError, NotOrthogonalError, NoRealLogarithmError
        As for :func:`so_log`; also if ``lam`` does not broadcast or is not finite.

    See Also
    --------
    so_log, so_exp, orthornn.nn.functional.so_power

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2 (real λ in
    :math:`R_t = (R_{t-1})^\lambda\,\mathrm{Rotation}(\varepsilon_t, \tau_t)`).

    Examples
    --------
    >>> import numpy as np
    >>> from orthornn import rotation
    >>> R = rotation([1.0, 0.0, 0.0, 0.0], [1.0, 2.0, 0.0, 2.0])
    >>> half = so_power(R, 0.5)
    >>> bool(np.allclose(half @ half, R)) and bool(np.allclose(so_power(R, [0.0, 1.0]), [np.eye(4), R]))
    True
    """
    R64, dtype = _special_orthogonal(R, "R")
    lam_arr = as_float_array(lam, "lam")
    try:
        batch = np.broadcast_shapes(R64.shape[:-2], lam_arr.shape)
    except ValueError:
        raise ShapeError(
            f"lam of shape {lam_arr.shape} does not broadcast against the batch shape "
            f"{R64.shape[:-2]} of R {R64.shape}"
        ) from None
    n = R64.shape[-1]
    R_b = np.broadcast_to(R64, (*batch, n, n))
    lam_b = np.broadcast_to(lam_arr.astype(np.float64), batch)
    out_dtype = np.dtype(np.float32) if dtype == np.float32 and lam_arr.dtype == np.float32 else np.dtype(np.float64)
    P = _log_or_power(R_b, "R", dtype, lam_b)
    return P.astype(out_dtype, copy=False)


def so_exp(A: ArrayLike) -> FloatArray:
    r"""Exponential of skew-symmetric matrices: a rotation, orthogonal to working precision.

    .. math::

        \exp(A) = \cos\bigl(\sqrt{W}\bigr) + \frac{\sin\sqrt{W}}{\sqrt{W}}\,A,\qquad W = A^\top A = -A^2,

    both functions entire in :math:`W`, evaluated in the eigenbasis of the symmetric
    positive semidefinite :math:`W` (``numpy.linalg.eigh``, batched).

    Parameters
    ----------
    A : array_like, shape ``(..., n, n)``
        Skew-symmetric within ``SKEW_TOL·eps`` (:func:`orthornn.numeric.validation.check_skew`);
        only its skew part ``(A − Aᵀ)/2`` is used.

    Returns
    -------
    ndarray, shape ``(..., n, n)``
        ``exp(A)`` in SO(n); float32 input is computed in float64 and returned as float32.

    Raises
    ------
    ShapeError, NotFiniteError
        Not a (batch of) square matrices, or ``n = 0`` (as :func:`so_log`); NaN or inf.
    NotSkewError
        ``A`` is not skew-symmetric (the message reports the defect).

    See Also
    --------
    so_log, orthornn.nn.functional.so_exp

    References
    ----------
    Jing et al., "Rotational Unit of Memory" (RUM), section 5.2; Gallier & Xu, "Computing
    exponentials of skew-symmetric matrices" (2002).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0.0, -0.5, 0.2], [0.5, 0.0, -0.1], [-0.2, 0.1, 0.0]])
    >>> R = so_exp(A)
    >>> bool(np.allclose(R.T @ R, np.eye(3))) and bool(np.allclose(so_log(R), A))
    True
    """
    arr = as_float_array(A, "A", min_ndim=2)
    _check_n(arr, "A")
    check_skew(arr, "A")
    dtype = arr.dtype
    A64 = arr.astype(np.float64, copy=False)
    A64 = 0.5 * (A64 - np.swapaxes(A64, -1, -2))
    At = np.swapaxes(A64, -1, -2)
    w, V = np.linalg.eigh(At @ A64)
    Vt = np.swapaxes(V, -1, -2)
    omega = np.sqrt(np.clip(w, 0.0, None))
    q = np.sinc(omega / np.pi)
    inner = 0.5 * (q[..., :, None] + q[..., None, :]) * (Vt @ A64 @ V)
    n = A64.shape[-1]
    idx = np.arange(n)
    inner[..., idx, idx] += np.cos(omega)
    return (V @ inner @ Vt).astype(dtype, copy=False)
