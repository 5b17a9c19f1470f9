r"""Sign, ordering and branch conventions of orthornn, stated once.

Every layer (symbolic, numeric, torch) imports its conventions from here; ``docs/conventions.md``
explains them in prose. Changing a value here changes the library everywhere.

Vectors are columns; arrays are batched over *leading* dimensions, so a batch of matrices
has shape ``(..., n, n)`` and a batch of vectors ``(..., n)``.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ANTIPARALLEL",
    "ANTIPARALLEL_SIN_EPS",
    "BRANCH_TOL",
    "CAYLEY_MARGIN",
    "GIVENS",
    "GIVENS_MESH_ORDER",
    "LOG_BRANCH",
    "NEAR_GROUP_TOL",
    "ORTHOGONALITY_TOL",
    "PHASE_INTERVAL",
    "SKEW_TOL",
    "ZERO_NORM",
    "orthogonality_tolerance",
    "wrap_phase",
]

#: Rotation(a, b) when ``a = 0`` or ``b = 0``: the identity (no plane is defined, nothing rotates).
#: When ``b`` is a positive multiple of ``a`` (θ = 0): the identity.
ZERO_NORM: Final = "identity"

#: Rotation(a, b) when ``b`` is a negative multiple of ``a`` (θ = π): the rotation plane is not
#: determined by (a, b). orthornn completes it deterministically with the *canonical partner*
#: of ``â``: the unit vector along ``e_k - (â·e_k) â`` where ``k`` is the index of the smallest
#: ``|â_k|`` (first such index on ties; computed as the first argmin of ``|a_k|``, the same index
#: without the rounding of the normalisation). The result is a rotation by π in span(â, partner): it
#: maps â to -â, has det +1 and is never a reflection. See docs/conventions.md.
ANTIPARALLEL: Final = "rotate-by-pi-in-canonical-plane"

#: Rotation(a, b) treats a pair as *exactly* antiparallel (and applies :data:`ANTIPARALLEL`) when
#: ``â·b̂ < 0`` and ``sin θ = ‖b̂ − (â·b̂) â‖ ≤ ANTIPARALLEL_SIN_EPS · eps(dtype)``: below that the
#: plane of (a, b) is rounding noise (``b = −3a`` in floating point has sin θ of a few eps), so
#: snapping it to the canonical plane keeps ``R(αa, βb) = R(a, b)``. Above it the computed plane
#: is used (it is exactly orthonormal, so R stays orthogonal to eps whatever its accuracy).
#: Measured: exact multiples ``b = βa`` (β < 0) give sin θ ≤ 1.02·eps (docs/rotation.md), so 16
#: leaves a 16× margin while moving ``R â`` by at most 16·eps from ``b̂``.
ANTIPARALLEL_SIN_EPS: Final = 16.0

#: Givens rotations: ``G(i, j, θ)`` rotates e_i toward e_j, ``G e_i = cos θ e_i + sin θ e_j`` (so
#: ``G[j, i] = sin θ``, ``G[i, j] = −sin θ``). ``sympy.rot_givens(i, j, θ)`` is the transpose:
#: ``rot_givens(i, j, θ) = G(i, j, −θ) = G(j, i, θ)`` (proved: ``eunn.givens_convention``).
GIVENS: Final = "G[j, i] = +sin(theta): e_i rotates toward e_j"

#: A Givens mesh is ``U = D Λ_{L−1} ⋯ Λ_0``: layer 0 acts on a vector first, the ±1 diagonal D
#: last; phases are stored layer-major. ``givens_decompose`` returns D = diag(det U, 1, …, 1).
GIVENS_MESH_ORDER: Final = "layer 0 first, sign diagonal last"

#: Half-open interval of principal eigenphases: (−π, π]. A −1 eigenvalue has phase +π, and the
#: principal logarithm of a 2×2 block with angle π is ``[[0, −π], [π, 0]]`` (angle +π).
PHASE_INTERVAL: Final = ("open", -math.pi, math.pi, "closed")

#: Principal real logarithm at an eigenvalue −1 (φ = π), where the log is NOT unique (every
#: complex structure J on the −1 eigenspace E gives exp(πJ) = −I on E). ``so_log`` (numpy and
#: torch) returns πJ for the canonical J of E: with w_1, w_2, … the orthonormal basis of E from
#: pivoted Gram–Schmidt of the projections P_E e_i (largest residual first, positive coefficient
#: on each pivot), J maps w_1 → w_2, w_3 → w_4, … (rotation by +π from w_{2j−1} toward w_{2j}).
#: It depends only on E, not on the algorithm that found it. See docs/conventions.md, docs/lie.md.
LOG_BRANCH: Final = "plus-pi-in-canonical-planes"

#: When an eigenphase counts as exactly π (eigenvalue −1; it then follows :data:`LOG_BRANCH`) in
#: ``so_log``/``so_power`` (numpy and torch), by a separation test on the computed angle, with
#: ``δ = π − |φ|``: ``δ ≤ BRANCH_TOL·eps(dtype)`` — π, in every dimension (the snap moves R by at
#: most that much); ``δ > BRANCH_TOL·n·eps(dtype)`` — never π; in between, π only if the angle's
#: a-posteriori error bound (residual of its computed plane plus the distance of R from O(n);
#: ``orthornn.numeric.lie._angle_error_bounds``) reaches δ, i.e. the data cannot separate it from
#: π. For rotations accurate to rounding that bound is below BRANCH_TOL·eps (measured ≤ 9.2e-15 for
#: n ≤ 200), so the decision does not depend on n. ``orthornn.spectra`` uses the plain window
#: ``δ ≤ BRANCH_TOL·n·eps``. See docs/conventions.md.
BRANCH_TOL: Final = 64.0

#: torch ``so_log``/``so_power`` factor a rotation by its Cayley transform (batched solve + complex
#: ``eigh``) only when every eigenphase satisfies ``π − |φ| ≥ CAYLEY_MARGIN`` (``|tan(φ/2)| ≤ 200``);
#: the others take the canonical-form route. The error grows like ``eps·max|tan(φ/2)|`` (measured,
#: benchmarks/lie.py: ≤ 1.3e-14 at this margin for n ≤ 100, 1.9e-13 at 1e-3); 16% of Haar SO(50) fall back.
CAYLEY_MARGIN: Final = 1e-2

#: torch ``so_log``/``so_power`` accept ``‖RᵀR − I‖_max`` up to this (absolute) and differentiate
#: ``log ∘ polar``: three Newton–Schulz steps ``U ← U(3I − UᵀU)/2`` take a defect of 1e-2 below
#: 1e-16. torch ``so_exp`` accepts a relative skew defect up to this and uses ``(A − Aᵀ)/2``.
NEAR_GROUP_TOL: Final = 1e-2

#: ``‖RᵀR − I‖_max`` allowed before an input is rejected as not orthogonal, as a multiple of
#: ``n·eps(dtype)``; see :func:`orthogonality_tolerance`.
ORTHOGONALITY_TOL: Final = 1e3

#: ``‖A + Aᵀ‖_max / max(1, ‖A‖_max)`` allowed before an input is rejected as not skew, as a
#: multiple of ``eps(dtype)``.
SKEW_TOL: Final = 1e3


def orthogonality_tolerance(n: int, dtype: np.dtype | type) -> float:
    """Largest accepted orthogonality defect ``‖MᵀM − I‖_max`` for an ``n×n`` matrix of ``dtype``.

    It is ``ORTHOGONALITY_TOL · max(n, 1) · eps(dtype)``: 2.2e-13·n in float64, 1.2e-4·n in float32.

    >>> orthogonality_tolerance(10, np.float64) < 1e-11
    True
    """
    return float(ORTHOGONALITY_TOL * max(n, 1) * np.finfo(dtype).eps)


def wrap_phase(phi: NDArray[np.floating] | float) -> NDArray[np.floating]:
    r"""Wrap angles into the principal interval (−π, π].

    .. math:: \operatorname{wrap}(\varphi) = \varphi - 2\pi \left\lceil \frac{\varphi - \pi}{2\pi} \right\rceil

    >>> float(wrap_phase(-np.pi)) == np.pi and float(wrap_phase(3 * np.pi)) == np.pi
    True
    >>> float(wrap_phase(0.5))
    0.5

    The formula rounds: ``φ − π`` of an angle just above −π can round to −2π exactly, and the
    shift then lands just above π; one correction of ±2π puts every result in (−π, π].

    >>> bool(-np.pi < float(wrap_phase(-3.1415926535897927)) <= np.pi)
    True
    """
    phi = np.asarray(phi)
    out = phi - 2 * np.pi * np.ceil((phi - np.pi) / (2 * np.pi))
    out = np.where(out > np.pi, out - 2 * np.pi, out)
    return np.where(out <= -np.pi, out + 2 * np.pi, out)
