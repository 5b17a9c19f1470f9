r"""Spectra of recurrent transitions: eigenphases, their statistics, and distances between them.

An orthogonal transition :math:`V` acts on the hidden state as a set of independent clocks: in
its real Schur (canonical) form it is a block diagonal of 2×2 rotations :math:`M(\varphi_j)` and
±1s, and its eigenvalues are :math:`e^{\pm i\varphi_j}` and ±1. This module measures what a
researcher compares between a trained transition and an explicit solution:

* :func:`eigenphases` — the phases in (−π, π], sorted, from the real Schur form (the stable
  route for orthogonal input), with the orthogonality defect on request; :func:`eigenvalues`
  for transitions that are not orthogonal (a trained LT-RNN's ``V`` drifts off the group);
* :func:`root_distance` — distance to the nearest p-th root of unity (the copy task's clock has
  all its phases on the (T+S)-th roots, Henaff et al. §3.1.1);
* :func:`spacings`, :func:`spacing_variance` — nearest-neighbour spacings on the circle
  (level repulsion of Haar-random rotations vs independent phases);
* :func:`circular_histogram`, :func:`circular_wasserstein` — phase distributions and the
  Wasserstein-1 distance between two of them on the circle;
* :func:`haar_eigenphase_density` — the closed-form (Weyl) eigenphase density of Haar SO(n);
* :func:`departure_from_normality` — Henrici's measure, zero exactly for normal matrices;
* :func:`memory_phases` — the phases of RUM's associative memory :math:`R_t` over a sequence;
* :func:`ordinal` — ``p`` as an English ordinal (``"10th"``), for labels such as "10th roots".

Conjugate pairs: the spectrum of a real matrix is symmetric under :math:`\varphi \mapsto
-\varphi`, so the mirrored half carries no information and, if kept, counts every spacing
twice. The spacing statistics therefore use, by default, the *half spectrum*: the phases in
:math:`[0, \pi]` (one per conjugate pair; real eigenvalues ±1, which have no partner, at their
multiplicity), as points on a circle of circumference π (convention ``"half"``; the others are
``"mirror"`` and ``"full"``, see :func:`spacings`). See ``docs/spectra.md``.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from ._conventions import orthogonality_tolerance, wrap_phase
from .errors import OrthornnError, ShapeError
from .numeric.lie import _branch_tols, _canonical_one
from .numeric.validation import as_float_array, check_orthogonal, check_square

__all__ = [
    "SPACING_CONVENTIONS",
    "circular_histogram",
    "circular_wasserstein",
    "departure_from_normality",
    "eigenphases",
    "eigenvalues",
    "haar_eigenphase_density",
    "half_spectrum",
    "memory_phases",
    "ordinal",
    "root_distance",
    "spacing_variance",
    "spacings",
]

FloatArray = NDArray[np.floating]
ComplexArray = NDArray[np.complexfloating]


# ---------------------------------------------------------------------------------------------
# eigenphases and eigenvalues
# ---------------------------------------------------------------------------------------------


def _phases_one(R: FloatArray, floor: float, window: float) -> FloatArray:
    """Sorted eigenphases of one orthogonal float64 matrix from its canonical (real Schur) form.

    :func:`orthornn.numeric.lie._canonical_one` gives the plane angles (never exactly 0 or π),
    the number of eigenvalues −1 (blocks snapped to π by ``so_log``'s rule included: ``floor``
    and ``window`` from :func:`orthornn.numeric.lie._branch_tols`) and, by count, the
    eigenvalues +1 (1×1 blocks): those get phases exactly π and exactly 0.
    """
    n = R.shape[0]
    _, phi, n_minus = _canonical_one(R, window, floor=floor)
    planes = phi[(phi != 0.0) & (phi != np.pi)]
    n_plus = n - 2 * planes.size - n_minus
    return np.sort(np.concatenate([planes, -planes, np.full(n_minus, np.pi), np.zeros(n_plus)]))


@overload
def eigenphases(M: ArrayLike, *, return_defect: Literal[False] = ..., tol: float | None = ...) -> FloatArray: ...
@overload
def eigenphases(
    M: ArrayLike, *, return_defect: Literal[True], tol: float | None = ...
) -> tuple[FloatArray, FloatArray]: ...
def eigenphases(
    M: ArrayLike, *, return_defect: bool = False, tol: float | None = None
) -> FloatArray | tuple[FloatArray, FloatArray]:
    r"""Eigenphases of orthogonal matrices, in (−π, π], sorted ascending.

    .. math::

        M = Z\,\operatorname{blockdiag}\bigl(M(\varphi_1), \dots, M(\varphi_k), \pm 1, \dots\bigr)\,Z^\top
        \;\Longrightarrow\; \operatorname{spec} M = \{e^{\pm i\varphi_j}\} \cup \{\pm 1\}

    computed from the real Schur form (``scipy.linalg.schur(output="real")``, by the canonical
    form of :mod:`orthornn.numeric.lie`), which for an orthogonal matrix is block diagonal: each
    2×2 block gives the pair :math:`\pm\varphi_j` (``atan2``, accurate at and near 0 and π),
    each 1×1 block gives exactly 0 (eigenvalue +1) or exactly +π (eigenvalue −1,
    :data:`~orthornn._conventions.PHASE_INTERVAL`). A block whose angle the data cannot
    separate from π counts as two eigenvalues −1 (phase +π each, never −π), by the rule of
    :func:`~orthornn.numeric.lie.so_log` (:data:`~orthornn._conventions.BRANCH_TOL`): within
    ``64·eps`` of π always, beyond ``64·n·eps`` never, in between only if the angle's
    a-posteriori error bound reaches ``π − |φ|``. The pairs are exact mirror images, so the
    multiplicity of the eigenvalue 1 is the number of exact zeros.

    Parameters
    ----------
    M : array_like, shape ``(..., n, n)``
        Orthogonal matrices (det ±1), float32 or float64.
    return_defect : bool
        Also return the orthogonality defect :math:`\lVert M^\top M - I\rVert_{\max}` of each
        matrix (how far from the group the phases were read off).
    tol : float, optional
        Largest accepted defect; default
        :func:`~orthornn._conventions.orthogonality_tolerance` (``1e3·n·eps``).

    Returns
    -------
    phases : ndarray, shape ``(..., n)``, the input dtype
    defect : ndarray, shape ``(...)`` (only with ``return_defect=True``)

    Raises
    ------
    NotOrthogonalError
        A matrix is further than ``tol`` from orthogonal: use :func:`eigenvalues` for general
        (e.g. trained, unconstrained) transitions.
    ShapeError, NotFiniteError

    References
    ----------
    Golub & Van Loan, *Matrix Computations*, §7.4 (real Schur form); Henaff et al. (2016),
    §3.1.1 (the clock's phases); RUM (Jing et al.), §5.2.

    Examples
    --------
    A rotation by 0.3 in a plane of R³ and the reflection diag(1, 1, −1):

    >>> import numpy as np
    >>> c, s = np.cos(0.3), np.sin(0.3)
    >>> eigenphases(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]))
    array([-0.3,  0. ,  0.3])
    >>> phases, defect = eigenphases(np.diag([1.0, 1.0, -1.0]), return_defect=True)
    >>> phases.tolist(), float(defect)
    ([0.0, 0.0, 3.141592653589793], 0.0)
    """
    arr = as_float_array(M, "M", min_ndim=2)
    n = check_square(arr, "M")
    tol = orthogonality_tolerance(n, arr.dtype) if tol is None else float(tol)
    defect = check_orthogonal(arr, "M", tol=tol)
    flat = arr.astype(np.float64, copy=False).reshape(-1, n, n)
    out = np.empty((flat.shape[0], n))
    floor, window = _branch_tols(n, arr.dtype)
    for b in range(flat.shape[0]):
        out[b] = _phases_one(flat[b], floor, window)
    phases = out.reshape(*arr.shape[:-1]).astype(arr.dtype, copy=False)
    if return_defect:
        return phases, defect
    return phases


def eigenvalues(M: ArrayLike) -> ComplexArray:
    r"""Eigenvalues of general real square matrices, sorted by principal phase, then modulus.

    .. math:: \lambda_k = |\lambda_k|\, e^{i\varphi_k},\qquad \varphi_k \in (-\pi, \pi]

    The route for transitions that are *not* orthogonal (a trained LT-RNN's ``V``); the phases
    are ``wrap_phase(np.angle(λ))`` so that a negative real eigenvalue has phase +π. For
    orthogonal input prefer :func:`eigenphases` (exact pairs, exact ±1).

    Parameters
    ----------
    M : array_like, shape ``(..., n, n)``

    Returns
    -------
    ndarray, shape ``(..., n)``, complex (complex64 for float32 input)

    Examples
    --------
    A Jordan block has the double eigenvalue 2:

    >>> import numpy as np
    >>> eigenvalues(np.array([[2.0, 1.0], [0.0, 2.0]])).real.tolist()
    [2.0, 2.0]
    >>> lam = eigenvalues(np.array([[0.0, -2.0], [2.0, 0.0]]))
    >>> bool(np.allclose(lam, [-2j, 2j]))
    True
    """
    arr = as_float_array(M, "M", min_ndim=2)
    check_square(arr, "M")
    ctype = np.complex64 if arr.dtype == np.float32 else np.complex128
    lam = np.linalg.eigvals(arr).astype(ctype, copy=False)  # numpy returns real when all are real
    phase = wrap_phase(np.angle(lam))
    order = np.lexsort((np.abs(lam), phase), axis=-1)
    return np.take_along_axis(lam, order, axis=-1)


def memory_phases(R_seq: ArrayLike, *, return_defect: bool = False) -> FloatArray | tuple[FloatArray, FloatArray]:
    r"""Eigenphases of RUM's associative memory :math:`R_t` at every time step.

    .. math:: R_t = (R_{t-1})^\lambda\,\mathrm{Rotation}(\varepsilon_t, \tau_t),\quad
        \operatorname{spec} R_t = \{e^{\pm i\varphi_{t,j}}\} \cup \{1\}

    RUM §5.2 reads the memory as phases: each step rotates one plane, so the phases of
    :math:`R_t` move as information is written. This is :func:`eigenphases` over a sequence.

    Parameters
    ----------
    R_seq : array_like, shape ``(T, n, n)`` or ``(B, T, n, n)``
        Memory matrices as a numpy array (convert torch tensors with
        ``.detach().cpu().numpy()``).
    return_defect : bool
        Also return the orthogonality defects, shape ``(..., T)``.

    Returns
    -------
    ndarray, shape ``(T, n)`` or ``(B, T, n)``

    References
    ----------
    Jing et al., "Rotational Unit of Memory", §3.2 and §5.2.

    Examples
    --------
    Powers of one rotation: the phases grow linearly in time.

    >>> import numpy as np
    >>> c, s = np.cos(0.5), np.sin(0.5)
    >>> R = np.array([[c, -s], [s, c]])
    >>> seq = np.stack([np.linalg.matrix_power(R, t) for t in (1, 2, 3)])
    >>> bool(np.allclose(memory_phases(seq)[:, 1], [0.5, 1.0, 1.5]))
    True
    """
    arr = as_float_array(R_seq, "R_seq")
    if arr.ndim not in (3, 4):
        raise ShapeError(f"R_seq must have shape (T, n, n) or (B, T, n, n), got {arr.shape}")
    check_square(arr, "R_seq")
    if return_defect:
        return eigenphases(arr, return_defect=True)
    return eigenphases(arr)


# ---------------------------------------------------------------------------------------------
# statistics of phases
# ---------------------------------------------------------------------------------------------


def _phases(phases: ArrayLike, name: str = "phases") -> FloatArray:
    """Validated angles ``(..., m)`` (``m ≥ 1``) wrapped to (−π, π]."""
    arr = as_float_array(phases, name, min_ndim=1)
    if arr.shape[-1] == 0:
        raise ShapeError(f"{name} must hold at least one phase, got shape {arr.shape}")
    return wrap_phase(arr).astype(arr.dtype, copy=False)


def ordinal(k: int) -> str:
    """``k`` as an English ordinal, for labels such as ``f"{ordinal(p)} roots of unity"``.

    The suffix is "th" for 11, 12, 13 (and 111, 112, …), otherwise "st", "nd", "rd" after a last
    digit 1, 2, 3 and "th" after any other.

    >>> [ordinal(k) for k in (1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 101, 111, 510)]
    ['1st', '2nd', '3rd', '4th', '10th', '11th', '12th', '13th', '21st', '22nd', '101st', '111th', '510th']
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise OrthornnError(f"ordinal needs an integer, got {k!r}")
    m = abs(int(k))
    suffix = "th" if m % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(m % 10, "th")
    return f"{int(k)}{suffix}"


def root_distance(phases: ArrayLike, p: int, *, normalized: bool = False) -> FloatArray:
    r"""Distance of each phase to the nearest p-th root of unity, along the circle.

    .. math:: \delta_p(\varphi) = \min_{k \in \mathbb Z}\ \Bigl|\varphi - \frac{2\pi k}{p}\Bigr|
        \in \Bigl[0, \frac{\pi}{p}\Bigr]

    With ``normalized=True`` the distance is divided by :math:`\pi/p`, so it lies in [0, 1]:
    0 on a root, and uniform on [0, 1] for phases spread uniformly over the circle (mean 1/2).
    The copy task's clock (Henaff et al. §3.1.1) has :math:`\alpha_j = 2\pi l_j/(T+S)`: every
    phase is on a (T+S)-th root, so :math:`\delta_{T+S} = 0` up to rounding.

    Parameters
    ----------
    phases : array_like, shape ``(..., m)``
        Angles (any real value; wrapped to (−π, π]).
    p : int
        Order of the roots of unity, ``p ≥ 1``.
    normalized : bool
        Divide by the largest possible distance π/p.

    Returns
    -------
    ndarray, shape ``(..., m)``

    Examples
    --------
    >>> import numpy as np
    >>> root_distance(np.array([0.0, np.pi / 2, np.pi / 4, -np.pi]), 4).round(12).tolist()
    [0.0, 0.0, 0.785398163397, 0.0]
    >>> float(root_distance(np.array([np.pi / 4]), 4, normalized=True)[0])
    1.0
    """
    arr = _phases(phases)
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise OrthornnError(f"p must be an integer >= 1, got {p!r}")
    step = 2 * np.pi / p
    k = np.round(arr / step)
    dist = np.abs(arr - k * step)
    dist = np.minimum(dist, np.pi / p)  # rounding at exactly half a step
    return (dist / (np.pi / p) if normalized else dist).astype(arr.dtype, copy=False)


def _check_conjugate_symmetric(arr: FloatArray, convention: str) -> None:
    """Raise unless every row of phases is symmetric under φ ↦ −φ (the spectrum of a real matrix)."""
    srt = np.sort(arr, axis=-1)
    mirror = np.sort(wrap_phase(-arr), axis=-1)
    gap = np.abs(wrap_phase(srt - mirror))
    tol = 1e3 * float(np.finfo(arr.dtype).eps) * np.pi
    worst = float(gap.max(initial=0.0))
    if worst > tol:
        raise OrthornnError(
            f"spacing convention {convention!r} needs the spectrum of a real matrix (phases "
            f"symmetric under φ ↦ −φ), but the phases differ from their mirror image by up to "
            f"{worst:.3g} > {tol:.3g}; use convention='full' for phases that are not conjugate pairs"
        )


def half_spectrum(phases: ArrayLike) -> list[FloatArray]:
    r"""One phase per conjugate pair: the phases in :math:`[0, \pi]`, sorted, per matrix.

    .. math:: H = \{\varphi \in \operatorname{spec} : 0 \le \varphi \le \pi\}

    For the spectrum of a real matrix (symmetric under :math:`\varphi \mapsto -\varphi`) this
    keeps :math:`+\varphi_j` of every pair :math:`\pm\varphi_j` and every real eigenvalue (phase
    0 or π, which has no partner) at its multiplicity: ``n/2`` phases for SO(n), ``n`` even, with
    no real eigenvalue. Rows may keep different numbers of phases, hence a list.

    Parameters
    ----------
    phases : array_like, shape ``(..., n)``
        Conjugation-symmetric phases (as from :func:`eigenphases`).

    Returns
    -------
    list of ndarray
        One 1-D array per row, in C order of the batch dimensions.

    Raises
    ------
    OrthornnError
        A row is not symmetric under φ ↦ −φ (to ``1e3·π·eps``).

    Examples
    --------
    >>> import numpy as np
    >>> [h.tolist() for h in half_spectrum(np.array([-0.5, 0.0, 0.5, np.pi]))]
    [[0.0, 0.5, 3.141592653589793]]
    """
    return _half_rows(_phases(phases), "half")


def _half_rows(arr: FloatArray, convention: str) -> list[FloatArray]:
    _check_conjugate_symmetric(arr, convention)
    return [row[row >= 0] for row in np.sort(arr, axis=-1).reshape(-1, arr.shape[-1])]


def _gaps_full(row: FloatArray) -> FloatArray:
    """All sorted phases on the circle of length 2π: consecutive gaps, the wrap-around last."""
    return np.diff(np.concatenate([row, row[:1] + 2 * np.pi]))


def _gaps_half(h: FloatArray) -> FloatArray:
    """The half spectrum on a circle of length π (0 and π identified): gaps, wrap-around last."""
    return np.diff(np.concatenate([h, h[:1] + np.pi]))


def _gaps_mirror(h: FloatArray) -> FloatArray:
    """Gaps of the full circle, each mirror-image pair once: between consecutive points of the
    half spectrum, plus the self-mirror gaps 2θ_min across 1 and 2(π − θ_max) across −1 when no
    eigenvalue sits there."""
    extra = ([2 * h[0]] if h[0] > 0 else []) + ([2 * (np.pi - h[-1])] if h[-1] < np.pi else [])
    return np.concatenate([np.diff(h), np.asarray(extra, dtype=h.dtype)])


#: Spacing conventions (see :func:`spacings`): name → (uses the half spectrum, gap function).
SPACING_CONVENTIONS = {
    "half": (True, _gaps_half),
    "mirror": (True, _gaps_mirror),
    "full": (False, _gaps_full),
}


def _convention_rows(arr: FloatArray, convention: str) -> list[FloatArray]:
    """The raw (unnormalised) gaps of every matrix under ``convention``."""
    if convention not in SPACING_CONVENTIONS:
        raise OrthornnError(
            f"unknown spacing convention {convention!r}; valid: {', '.join(SPACING_CONVENTIONS)}"
        )
    halve, gaps = SPACING_CONVENTIONS[convention]
    if halve:
        rows = _half_rows(arr, convention)
    else:
        rows = list(np.sort(arr, axis=-1).reshape(-1, arr.shape[-1]))
    # every convention has at least one gap and a total length > 0 (π, 2π, or ≥ π for "mirror")
    return [g / g.mean() for g in map(gaps, rows)]


def spacings(phases: ArrayLike, *, convention: str = "half") -> FloatArray:
    r"""Nearest-neighbour spacings on the circle, normalised to mean 1, pooled over the batch.

    .. math:: s_k = \frac{g_k}{\bar g},\qquad \bar g = \frac1m \sum_{k=1}^m g_k

    for the gaps :math:`g_1..g_m` between neighbouring points of one matrix, the wrap-around
    gap included. Three conventions (:data:`SPACING_CONVENTIONS`) say which points and gaps:

    * ``"half"`` (default) — one phase per conjugate pair, the :func:`half_spectrum`
      :math:`0 \le \theta_1 \le \dots \le \theta_m \le \pi`, on a circle of length π (0 and π
      identified, i.e. the angle-doubling map :math:`\theta \mapsto 2\theta`): gaps
      :math:`\theta_{k+1} - \theta_k` and :math:`\theta_1 + \pi - \theta_m`. Independent angles
      (expRNN's "henaff" initialiser) give exactly the uniform-points law here. The eigenvalues 1
      and −1, if both present, land on the same point (a zero gap).
    * ``"mirror"`` — the gaps of the full spectrum on the circle, each mirror-image pair of
      gaps once: :math:`\theta_{k+1} - \theta_k`, plus :math:`2\theta_1` (across 1) unless
      :math:`\theta_1 = 0` and :math:`2(\pi - \theta_m)` (across −1) unless :math:`\theta_m = \pi`.
      Any set of p-th roots of unity that is closed under conjugation has zero variance here.
    * ``"full"`` — every phase on the circle of length 2π (for phases that are not conjugate
      pairs: independent phases, complex matrices).

    Level repulsion shows as few small spacings (Haar SO(n): variance ≈ 0.19); independent
    uniform points give the exponential law (variance :math:`(m-1)/(m+1) \to 1`).

    Parameters
    ----------
    phases : array_like, shape ``(..., n)``
        Angles (wrapped to (−π, π]); ``"half"`` and ``"mirror"`` need conjugation-symmetric rows.
    convention : {"half", "mirror", "full"}

    Returns
    -------
    ndarray, 1-D
        Every matrix's spacings (each normalised by its own mean), concatenated in batch order.

    Raises
    ------
    OrthornnError
        Unknown convention; phases not symmetric for ``"half"``/``"mirror"``.

    Examples
    --------
    Equally spaced points have every spacing 1:

    >>> import numpy as np
    >>> spacings(2 * np.pi * np.arange(5) / 5, convention="full").round(12).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    >>> roots = np.sort(np.angle(np.exp(2j * np.pi * np.arange(7) / 7)))
    >>> spacings(roots, convention="mirror").round(12).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    arr = _phases(phases)
    return np.concatenate(_convention_rows(arr, convention)).astype(arr.dtype, copy=False)


def spacing_variance(phases: ArrayLike, *, convention: str = "half") -> FloatArray:
    r"""Variance of the normalised nearest-neighbour spacings of each matrix.

    .. math:: \sigma^2 = \frac1m \sum_{k=1}^m (s_k - 1)^2

    (the spacings :math:`s_k` of :func:`spacings` have mean exactly 1). Measured at n = 64 over
    200 seeded samples (``docs/spectra.md``), convention ``"half"``: Haar SO(64) ≈ 0.19 (level
    repulsion; the β = 2 Wigner surmise gives 3π/8 − 1 ≈ 0.178), expRNN's "henaff" initialiser
    (block rotations, angles U(−π, π)) ≈ 0.93 (32 independent points on a circle:
    :math:`(m-1)/(m+1) = 31/33`); independent uniform phases, convention ``"full"``, ≈ 0.97
    (:math:`63/65`).

    Parameters
    ----------
    phases : array_like, shape ``(..., n)``
    convention : {"half", "mirror", "full"}
        As in :func:`spacings`.

    Returns
    -------
    ndarray, shape ``(...)``
        With equal gap counts per matrix (e.g. SO(2k) without real eigenvalues), the mean over
        a batch equals the variance of the pooled spacings.

    Examples
    --------
    Two points a quarter turn apart: spacings 1/2 and 3/2.

    >>> import numpy as np
    >>> float(spacing_variance(np.array([0.0, np.pi / 2]), convention="full"))
    0.25
    """
    arr = _phases(phases)
    var = np.array([float(np.mean((s - 1.0) ** 2)) for s in _convention_rows(arr, convention)])
    return var.reshape(arr.shape[:-1]).astype(arr.dtype, copy=False)


def circular_histogram(
    phases: ArrayLike, bins: int = 64, *, density: bool = False
) -> tuple[FloatArray, FloatArray]:
    r"""Histogram of phases on the circle with half-open bins :math:`(e_k, e_{k+1}]` over (−π, π].

    .. math:: c_k = \#\{\varphi : e_k < \varphi \le e_{k+1}\},\qquad e_k = -\pi + \frac{2\pi k}{B}

    The bins match :data:`~orthornn._conventions.PHASE_INTERVAL`: a phase +π (eigenvalue −1)
    falls in the last bin and nothing is counted twice. ``density=True`` divides by
    ``m · 2π/B`` so the histogram integrates to 1 over the circle.

    Parameters
    ----------
    phases : array_like, shape ``(..., m)``
    bins : int
        Number of equal bins ``B ≥ 1``.
    density : bool

    Returns
    -------
    counts : ndarray, shape ``(..., B)``
    edges : ndarray, shape ``(B + 1,)``, from −π to π

    Examples
    --------
    >>> import numpy as np
    >>> counts, edges = circular_histogram(np.array([-np.pi, 0.0, 1e-9, np.pi / 2]), bins=4)
    >>> counts.tolist()  # −π is +π (last bin); 0 closes bin 1, 1e-9 and π/2 are in (0, π/2]
    [0.0, 1.0, 2.0, 1.0]
    """
    arr = _phases(phases)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise OrthornnError(f"bins must be an integer >= 1, got {bins!r}")
    edges = np.linspace(-np.pi, np.pi, bins + 1)
    edges[0], edges[-1] = -np.pi, np.pi
    idx = np.clip(np.searchsorted(edges, arr, side="left") - 1, 0, bins - 1)
    flat = idx.reshape(-1, arr.shape[-1])
    offsets = (np.arange(flat.shape[0]) * bins)[:, None]
    counts = np.bincount((flat + offsets).ravel(), minlength=flat.shape[0] * bins).astype(np.float64)
    counts = counts.reshape(*arr.shape[:-1], bins)
    if density:
        counts = counts / (arr.shape[-1] * 2 * np.pi / bins)
    return counts, edges


def circular_wasserstein(a: ArrayLike, b: ArrayLike) -> FloatArray:
    r"""Wasserstein-1 distance between two empirical phase distributions on the circle.

    .. math:: W_1(\mu, \nu) = \min_{c \in \mathbb R} \int_{-\pi}^{\pi} \bigl|F(t) - G(t) - c\bigr|\,dt

    with :math:`F, G` the cumulative distribution functions of the samples (uniform weights,
    sizes may differ) and the arc length as ground cost; the minimum is at a weighted median
    of :math:`F - G` (Cabrelli & Molter 1995; Rabin, Delon & Gousseau 2011). ``F − G`` is a step
    function, so the integral and the median are computed exactly: sort the pooled points,
    take the step values on the gaps (the gap from the last point around to the first has
    value 0), and the median of those values weighted by the gap lengths. At most π.

    Parameters
    ----------
    a : array_like, shape ``(..., m)``
    b : array_like, shape ``(..., k)``
        Angles (wrapped to (−π, π]); the batch dimensions broadcast.

    Returns
    -------
    ndarray, shape ``(...)``

    References
    ----------
    J. Rabin, J. Delon, Y. Gousseau, "Transportation distances on the circle", J. Math.
    Imaging Vis. 41 (2011), Thm. 3.

    Examples
    --------
    Two point masses: the distance is their arc distance.

    >>> import numpy as np
    >>> float(circular_wasserstein(np.array([3.0]), np.array([-3.0])).round(12))
    0.283185307180
    """
    x = _phases(a, "a")
    y = _phases(b, "b")
    try:
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    except ValueError:
        raise ShapeError(f"batch dimensions do not broadcast: a {x.shape}, b {y.shape}") from None
    m, k = x.shape[-1], y.shape[-1]
    dtype = np.result_type(x.dtype, y.dtype)
    pts = np.concatenate(
        [np.broadcast_to(x, (*batch, m)), np.broadcast_to(y, (*batch, k))], axis=-1
    ).astype(np.float64)
    w = np.concatenate([np.full(m, 1.0 / m), np.full(k, -1.0 / k)])
    order = np.argsort(pts, axis=-1, kind="stable")
    xs = np.take_along_axis(pts, order, axis=-1)
    step = np.cumsum(w[order], axis=-1)  # F − G on [xs_j, xs_{j+1})
    step[..., -1] = 0.0  # after the last point F = G = 1 (exactly)
    length = np.diff(np.concatenate([xs, xs[..., :1] + 2 * np.pi], axis=-1), axis=-1)
    # weighted median of the step values (weights: gap lengths, summing to 2π)
    so = np.argsort(step, axis=-1, kind="stable")
    vals = np.take_along_axis(step, so, axis=-1)
    cum = np.cumsum(np.take_along_axis(length, so, axis=-1), axis=-1)
    j = np.argmax(cum >= 0.5 * cum[..., -1:], axis=-1)[..., None]
    c = np.take_along_axis(vals, j, axis=-1)
    return np.sum(length * np.abs(step - c), axis=-1).astype(dtype, copy=False)


def haar_eigenphase_density(phi: ArrayLike, n: int) -> FloatArray:
    r"""Density of one eigenphase of a Haar-random rotation in SO(n) (Weyl), on (−π, π].

    With :math:`N = \lfloor n/2 \rfloor` and the Weyl integration formula, the angles
    :math:`\theta_1..\theta_N \in [0, \pi]` form a determinantal process whose one-point density
    (expected number of angles per unit length) is

    .. math::

        \rho_{SO(2N)}(\theta) = \frac1\pi\Bigl(N - \tfrac12 + \frac{\sin((2N-1)\theta)}{2\sin\theta}\Bigr),
        \qquad
        \rho_{SO(2N+1)}(\theta) = \frac1\pi\Bigl(N - \frac{\sin(2N\theta)}{2\sin\theta}\Bigr),

    (orthonormal functions :math:`\cos k\theta` resp. :math:`\sin((k+\tfrac12)\theta)`,
    ``docs/spectra.md``). The phases :math:`\pm\theta_j` on the full circle then have density
    :math:`\rho(|\varphi|)`, and one phase drawn from the ``n`` has density
    :math:`f(\varphi) = \rho(|\varphi|)/n`. For odd ``n`` the eigenvalue 1 is forced: ``f``
    integrates to ``(n − 1)/n`` and the rest is an atom of mass ``1/n`` at 0 (not included).

    Parameters
    ----------
    phi : array_like
        Angles (wrapped to (−π, π]).
    n : int
        Matrix size, ``n ≥ 1``.

    Returns
    -------
    ndarray, the shape of ``phi``

    References
    ----------
    H. Weyl, *The Classical Groups* (1939), ch. VII; N. Katz & P. Sarnak, *Random Matrices,
    Frobenius Eigenvalues and Monodromy* (1999), §5.

    Examples
    --------
    SO(2) is the circle itself (uniform phase); SO(3) rotation angles have density
    :math:`(1 - \cos\theta)/\pi` on [0, π]:

    >>> import numpy as np
    >>> float(haar_eigenphase_density(1.0, 2) * 2 * np.pi)
    1.0
    >>> bool(np.isclose(3 * haar_eigenphase_density(1.0, 3), (1 - np.cos(1.0)) / np.pi))
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OrthornnError(f"n must be an integer >= 1, got {n!r}")
    theta = np.abs(wrap_phase(as_float_array(phi, "phi"))).astype(np.float64)
    N = n // 2
    if N == 0:
        return np.zeros_like(theta)
    s = np.sin(theta)
    small = s < 1e-8
    safe = np.where(small, 1.0, s)
    if n % 2 == 0:
        m = 2 * N - 1
        # sin(mθ)/sin θ → ±m at θ = 0, π (sign (−1)^(m−1) at π; m odd, so +m)
        ratio = np.where(small, m, np.sin(m * theta) / safe)
        rho = (N - 0.5 + 0.5 * ratio) / np.pi
    else:
        m = 2 * N
        # sin(2Nθ)/sin θ → 2N at 0 and −2N at π
        limit = np.where(theta < 1.0, m, -m)
        ratio = np.where(small, limit, np.sin(m * theta) / safe)
        rho = (N - 0.5 * ratio) / np.pi
    return rho / n


# ---------------------------------------------------------------------------------------------
# non-normality
# ---------------------------------------------------------------------------------------------


def departure_from_normality(M: ArrayLike, *, relative: bool = False) -> FloatArray:
    r"""Henrici's departure from normality, computed from the complex Schur form.

    .. math:: \operatorname{dep}(M) = \sqrt{\lVert M\rVert_F^2 - \sum_i |\lambda_i|^2}
        = \lVert N\rVert_F,\qquad M = Q(D + N)Q^*

    with :math:`D + N` the complex Schur form (``N`` strictly upper triangular); reading it off
    ``N`` avoids the cancellation of the first formula. Zero exactly for normal matrices
    (orthogonal, symmetric, skew), :math:`\sqrt{n-1}` for an n×n Jordan block. An orthogonal
    transition that drifts off the group in training shows up here. ``relative=True`` divides
    by :math:`\lVert M\rVert_F` (0 for the zero matrix).

    Parameters
    ----------
    M : array_like, shape ``(..., n, n)``
    relative : bool

    Returns
    -------
    ndarray, shape ``(...)``

    References
    ----------
    P. Henrici, "Bounds for iterates, inverses, spectral variation and fields of values of
    non-normal matrices", Numer. Math. 4 (1962).

    Examples
    --------
    >>> import numpy as np
    >>> float(departure_from_normality(np.array([[1.0, 1.0, 0], [0, 1.0, 1.0], [0, 0, 1.0]]))) ** 2
    2.0
    >>> bool(departure_from_normality(np.array([[0.0, -1.0], [1.0, 0.0]])) < 1e-15)
    True
    """
    arr = as_float_array(M, "M", min_ndim=2)
    n = check_square(arr, "M")
    flat = arr.astype(np.float64, copy=False).reshape(-1, n, n)
    out = np.empty(flat.shape[0])
    for b in range(flat.shape[0]):
        T = scipy.linalg.schur(flat[b], output="complex", check_finite=False)[0]
        out[b] = np.linalg.norm(np.triu(T, 1))
    if relative:
        norm = np.linalg.norm(flat, axis=(-2, -1))
        out = np.where(norm > 0, out / np.where(norm > 0, norm, 1.0), 0.0)
    return out.reshape(arr.shape[:-2]).astype(arr.dtype, copy=False)

