"""Property tests of orthornn.so_log / so_exp / so_power / canonical_form (numpy).

Oracles: the round trip exp(log R) = R (issue 3: ≤ 1e-12·n, angles at and near π included),
the exact spectrum of block forms, the group law R^λ R^μ = R^{λ+μ}, the Rotation closed form
R(a, b)^λ = I + sin(λθ)G + (1 − cos λθ)G² (built here from a Gram–Schmidt frame), scipy's
logm / expm / fractional_matrix_power away from π (independent algorithms), and the two
internal routes (canonical form vs spectral) against each other.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from haar import haar
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import ATOL, LIE_ROUNDTRIP_PER_N, ORTHO_PER_N

from orthornn import (
    NoRealLogarithmError,
    NotFiniteError,
    NotOrthogonalError,
    NotSkewError,
    ShapeError,
    rotation,
    so_exp,
    so_log,
    so_power,
)
from orthornn._conventions import BRANCH_TOL
from orthornn.numeric import lie
from orthornn.numeric.lie import canonical_form
from orthornn.testing import assert_orthogonal, dimensions, skew_symmetric_matrices, special_orthogonal_matrices

DTYPES = {"float64": np.float64, "float32": np.float32}
dtypes = pytest.mark.parametrize("dt", list(DTYPES))
SEEDS = st.integers(0, 2**32 - 1)


def blocks(phis, n: int) -> np.ndarray:
    """blockdiag(M(φ_1), …, M(φ_k), I_{n−2k})."""
    R = np.eye(n)
    for j, p in enumerate(phis):
        R[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = [[np.cos(p), -np.sin(p)], [np.sin(p), np.cos(p)]]
    return R


def log_blocks(phis, n: int) -> np.ndarray:
    L = np.zeros((n, n))
    for j, p in enumerate(phis):
        L[2 * j + 1, 2 * j], L[2 * j, 2 * j + 1] = p, -p
    return L


def roundtrip_atol(dt: str, n: int) -> float:
    return LIE_ROUNDTRIP_PER_N[dt] * n


#: Angles at and near the branch cut, and tiny ones (eigenvalue 1 to working precision).
BRANCH_ANGLES = [np.pi, -np.pi, np.pi - 1e-15, np.pi - 1e-10, np.pi - 1e-6, np.pi - 1e-3, 1e-12, 1e-8, 0.0]


def angle_lists(max_k: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.one_of(st.sampled_from(BRANCH_ANGLES), st.floats(-np.pi, np.pi)), min_size=0, max_size=max_k)


# ----------------------------------------------------------------------------------------------
# round trip, skewness, dtype
# ----------------------------------------------------------------------------------------------


@dtypes
@given(R=special_orthogonal_matrices(dimensions(1, 32), dtype=np.float64), data=st.data())
def test_log_is_real_exactly_skew_and_exponentiates_back(dt, R, data):
    R = R.astype(DTYPES[dt])
    n = R.shape[-1]
    A = so_log(R)
    assert A.dtype == DTYPES[dt] and A.shape == R.shape and np.isrealobj(A)
    assert np.array_equal(A, -A.T)  # exactly skew, bit for bit
    assert np.abs(np.linalg.eigvals(A.astype(np.float64)).imag).max(initial=0) <= np.pi + 1e-9
    back = so_exp(A)
    assert back.dtype == DTYPES[dt]
    np.testing.assert_allclose(back, R, rtol=0, atol=roundtrip_atol(dt, n))


@given(n=st.integers(2, 40), phis=angle_lists(6), seed=SEEDS)
def test_roundtrip_at_and_near_pi(n, phis, seed):
    phis = phis[: n // 2]
    Q = haar(n, seed)
    R = Q @ blocks(phis, n) @ Q.T
    A = so_log(R)
    assert np.array_equal(A, -A.T)
    np.testing.assert_allclose(so_exp(A), R, rtol=0, atol=roundtrip_atol("float64", n))
    # the spectrum of log R is ±i·(principal angles): singular values are the |φ| in pairs
    expected = np.sort(np.abs(np.concatenate([phis, phis, np.zeros(n - 2 * len(phis))])))
    np.testing.assert_allclose(np.sort(np.linalg.svd(A, compute_uv=False)), expected, rtol=0, atol=1e-9)


@given(n=st.integers(1, 40), phis=angle_lists(6))
def test_log_of_block_form_is_block_form(n, phis):
    phis = [p for p in phis if abs(p) < np.pi - 1e-3][: n // 2]  # away from the (non-unique) π
    A = so_log(blocks(phis, n))
    np.testing.assert_allclose(A, log_blocks(phis, n), rtol=0, atol=1e-13)


@dtypes
@given(A=skew_symmetric_matrices(dimensions(1, 24), max_abs=3.0))
def test_exp_is_a_rotation_and_matches_scipy_expm(dt, A):
    A = A.astype(DTYPES[dt])
    n = A.shape[-1]
    R = so_exp(A)
    assert R.dtype == DTYPES[dt]
    # the eigenvalues ω² of AᵀA carry an absolute error ~ eps·‖A‖², so cos ω, sin ω carry ~ eps·‖A‖
    scale = max(1.0, np.linalg.norm(A.astype(np.float64), 2))
    assert_orthogonal(R, atol=ORTHO_PER_N[dt] * n * scale * (1 if dt == "float64" else 0.1), special=True)
    ref = scipy.linalg.expm(A.astype(np.float64))
    np.testing.assert_allclose(R, ref, rtol=0, atol=ATOL[dt] * n * scale)


# ----------------------------------------------------------------------------------------------
# independent methods: scipy away from π; the Rotation closed form
# ----------------------------------------------------------------------------------------------


def max_angle(R: np.ndarray) -> float:
    return float(np.abs(np.angle(np.linalg.eigvals(R))).max())


@given(n=st.integers(2, 24), seed=SEEDS, lam=st.floats(-2.0, 2.0))
def test_agrees_with_scipy_logm_and_fractional_power_away_from_pi(n, seed, lam):
    R = haar(n, seed)
    # condition numbers of log and R^λ grow like 1/(π − φ_max); keep away from the cut
    cond = 1.0 / max(np.pi - max_angle(R), 1e-3)
    A = so_log(R)
    np.testing.assert_allclose(A, scipy.linalg.logm(R).real, rtol=0, atol=1e-13 * n * cond)
    P = scipy.linalg.fractional_matrix_power(R, lam).real
    np.testing.assert_allclose(so_power(R, lam), P, rtol=0, atol=1e-13 * n * cond)


@given(n=st.integers(2, 32), seed=SEEDS, theta=st.floats(0.0, np.pi - 1e-6), lam=st.floats(-1.0, 1.0))
def test_power_of_one_rotation_is_the_closed_form(n, seed, theta, lam):
    rng = np.random.default_rng(seed)
    ua = rng.standard_normal(n)
    ua /= np.linalg.norm(ua)
    v = rng.standard_normal(n)
    v -= (ua @ v) * ua
    ub = v / np.linalg.norm(v)
    G = np.outer(ub, ua) - np.outer(ua, ub)
    R = np.eye(n) + np.sin(theta) * G + (1 - np.cos(theta)) * G @ G
    expected = np.eye(n) + np.sin(lam * theta) * G + (1 - np.cos(lam * theta)) * G @ G
    np.testing.assert_allclose(so_power(R, lam), expected, rtol=0, atol=ATOL["float64"] * n)
    np.testing.assert_allclose(so_log(R), theta * G, rtol=0, atol=ATOL["float64"] * n / (np.pi - theta))
    # the same through orthornn.rotation(a, b) with b = cos θ u_a + sin θ u_b (RUM eq. 1)
    Rab = rotation(ua, np.cos(theta) * ua + np.sin(theta) * ub)
    np.testing.assert_allclose(so_power(Rab, lam), expected, rtol=0, atol=ATOL["float64"] * n / (np.pi - theta))


@given(n=st.integers(1, 32), seed=SEEDS, lam=st.floats(-1.5, 1.5), mu=st.floats(-1.5, 1.5), r=st.floats(0, 1))
def test_power_group_law_on_the_principal_branch(n, seed, lam, mu, r):
    # spectral radius of log R is r ≤ 1 and |λ|, |μ|, |λ+μ| ≤ 3 < π: all on the principal branch
    B = np.random.default_rng(seed).standard_normal((n, n))
    A = B - B.T
    A *= r / max(np.abs(np.linalg.eigvals(A)).max(), 1e-300)
    R = so_exp(A)
    P = so_power(R, lam) @ so_power(R, mu)
    np.testing.assert_allclose(P, so_power(R, lam + mu), rtol=0, atol=ATOL["float64"] * n)
    assert_orthogonal(so_power(R, lam), atol=ORTHO_PER_N["float64"] * n, special=True)


@given(R=special_orthogonal_matrices(dimensions(1, 32)))
def test_power_zero_and_one(R):
    n = R.shape[-1]
    np.testing.assert_allclose(so_power(R, 0.0), np.eye(n), rtol=0, atol=ORTHO_PER_N["float64"] * n)
    np.testing.assert_allclose(so_power(R, 1.0), R, rtol=0, atol=roundtrip_atol("float64", n))
    np.testing.assert_allclose(so_power(R, 1.0), so_exp(so_log(R)), rtol=0, atol=roundtrip_atol("float64", n))


# ----------------------------------------------------------------------------------------------
# the two routes; the canonical form; the branch convention
# ----------------------------------------------------------------------------------------------


@given(n=st.integers(2, 48), phis=angle_lists(4), seed=SEEDS, lam=st.floats(-1.0, 1.0))
def test_spectral_and_canonical_routes_agree(n, phis, seed, lam):
    phis = [p for p in phis if abs(p) < np.pi - 1e-3][: n // 2]
    Q = haar(n, seed)
    R = Q @ blocks(phis, n) @ Q.T if phis else haar(n, seed + 7)
    cond = 1.0 / max(np.pi - max_angle(R), 1e-3)
    lam_arr = np.asarray(lam)
    for f in (None, lam_arr):
        a = lie._spectral(R, "R", np.dtype(np.float64), f)
        b = lie._canonical_route(R, "R", np.dtype(np.float64), f)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13 * n * cond)


@given(n=st.integers(lie.SPECTRAL_MIN_N, 48), phis=angle_lists(8), rep=st.integers(0, 3), seed=SEEDS)
def test_spectral_route_frames_reconstruct(n, phis, rep, seed):
    # repeated angles (clusters of size > 2), tiny angles, angles at π, the eigenvalue 1
    phis = (phis + phis[:1] * rep)[: n // 2]
    Q = haar(n, seed)
    R = Q @ blocks(phis, n) @ Q.T if phis else haar(n, seed + 3)
    value, Z, phi = lie._spectral(R, "R", np.dtype(np.float64), None, frames=True)
    assert_orthogonal(Z, atol=ORTHO_PER_N["float64"] * n)
    assert np.all((phi > -np.pi) & (phi <= np.pi))
    np.testing.assert_allclose(
        lie._assemble(Z, np.cos(phi), np.sin(phi), 1.0), R, rtol=0, atol=roundtrip_atol("float64", n)
    )
    np.testing.assert_allclose(lie._assemble(Z, 0 * phi, phi, 0.0), value, rtol=0, atol=roundtrip_atol("float64", n))


@given(R=special_orthogonal_matrices(dimensions(1, 24)))
def test_canonical_form_reconstructs(R):
    Z, phi = canonical_form(R)
    n = R.shape[-1]
    assert_orthogonal(Z, atol=ORTHO_PER_N["float64"] * n)
    assert np.all((phi > -np.pi) & (phi <= np.pi))
    M = np.zeros((n, n))
    M[: 2 * phi.size, : 2 * phi.size] = scipy.linalg.block_diag(*[blocks([p], 2) for p in phi]) if phi.size else 0
    if n % 2:
        M[-1, -1] = 1.0
    np.testing.assert_allclose(Z @ M @ Z.T, R, rtol=0, atol=roundtrip_atol("float64", n))


def canonical_pi_log(P: np.ndarray) -> np.ndarray:
    """The LOG_BRANCH rule written out independently: pivoted Gram–Schmidt of P e_i."""
    vecs = [P[:, i].copy() for i in range(P.shape[0])]
    basis = []
    while len(basis) < round(np.trace(P)):
        res = [v - sum((w @ v) * w for w in basis) for v in vecs]
        k = int(np.argmax([np.linalg.norm(r) for r in res]))
        basis.append(res[k] / np.linalg.norm(res[k]))
    L = np.zeros_like(P)
    for w1, w2 in zip(basis[0::2], basis[1::2], strict=True):
        L += np.pi * (np.outer(w2, w1) - np.outer(w1, w2))
    return L


@pytest.mark.parametrize(("n", "m"), [(2, 1), (3, 1), (5, 1), (5, 2), (40, 1), (40, 2)])
def test_branch_convention_at_pi_is_the_documented_one(n, m):
    Q = haar(n, 1000 * n + m)
    R = Q @ blocks([np.pi] * m, n) @ Q.T
    P = Q[:, : 2 * m] @ Q[:, : 2 * m].T  # projector on the −1 eigenspace
    expected = canonical_pi_log(P)
    np.testing.assert_allclose(so_log(R), expected, rtol=0, atol=1e-12 * n)
    # not unique: the other orientation exponentiates to the same R
    np.testing.assert_allclose(so_exp(-expected), R, rtol=0, atol=1e-12 * n)
    np.testing.assert_allclose(so_exp(expected), R, rtol=0, atol=1e-12 * n)


def test_minus_identity_in_the_plane_gets_angle_plus_pi():
    A = so_log(-np.eye(2))
    np.testing.assert_array_equal(A, [[0.0, -np.pi], [np.pi, 0.0]])


# ----------------------------------------------------------------------------------------------
# the snap to π (issue 15): decided by separating the computed angle from π, not by a window
# growing with n (64·n·eps snapped π − 1e-12 from n = 128 on; the log was then off by up to 0.53)
# ----------------------------------------------------------------------------------------------

#: Angles within this of π are π in every dimension (BRANCH_TOL·eps: 1.4e-14 in float64).
FLOOR = BRANCH_TOL * np.finfo(np.float64).eps


@settings(max_examples=40)
@given(
    n=st.integers(2, 200),
    k=st.integers(1, 13),
    sign=st.sampled_from([1.0, -1.0]),
    others=st.lists(st.floats(-3.0, 3.0), max_size=3),
    seed=SEEDS,
    lam=st.floats(-1.0, 1.0),
)
def test_angles_near_pi_are_resolved_in_every_dimension(n, k, sign, others, seed, lam):
    """An eigen-angle ±(π − 10⁻ᵏ), k ≤ 13 (> FLOOR), is the principal one for n = 2…200."""
    phis = [sign * (np.pi - 10.0**-k), *others][: n // 2]
    Q = haar(n, seed)
    R = Q @ blocks(phis, n) @ Q.T
    np.testing.assert_allclose(so_log(R), Q @ log_blocks(phis, n) @ Q.T, rtol=0, atol=ATOL["float64"])
    expected = Q @ blocks([lam * p for p in phis], n) @ Q.T
    np.testing.assert_allclose(so_power(R, lam), expected, rtol=0, atol=ATOL["float64"])
    _, phi = canonical_form(R)
    assert np.abs(np.abs(phi) - abs(phis[0])).min() <= 1e-14 and np.pi not in phi  # the angle, not π


@settings(max_examples=30)
@given(
    n=st.integers(3, 200),  # n = 2: P_E = I ties every pivot of the convention (test_minus_identity_…)
    delta=st.sampled_from([0.0, 1e-16, 1e-15, 4e-15, 8e-15]),
    sign=st.sampled_from([1.0, -1.0]),
    seed=SEEDS,
)
def test_angles_within_the_floor_are_pi_in_every_dimension(n, delta, sign, seed):
    """π − δ with δ below FLOOR takes the branch convention, the same matrix as exactly π."""
    phis = [sign * (np.pi - delta), 0.5][: n // 2]
    Q = haar(n, seed)
    R = Q @ blocks(phis, n) @ Q.T
    expected = canonical_pi_log(Q[:, :2] @ Q[:, :2].T) + Q @ log_blocks([0.0, *phis[1:]], n) @ Q.T
    np.testing.assert_allclose(so_log(R), expected, rtol=0, atol=ATOL["float64"])
    _, phi = canonical_form(R)
    assert phi[-1] == np.pi or np.pi in phi


def test_the_data_decide_between_floor_and_window():
    """Between FLOOR and 64·n·eps an angle is π only if its error bound reaches π − |φ|: here,
    only when the input is noisy enough (‖RᵀR − I‖₂ ≈ 6e-12) not to tell π − 1e-12 from π."""
    n, delta = 128, 1e-12
    assert FLOOR < delta <= BRANCH_TOL * n * np.finfo(np.float64).eps
    Q = haar(n, 3)
    R = Q @ blocks([-(np.pi - delta), 0.4], n) @ Q.T
    np.testing.assert_allclose(so_log(R), Q @ log_blocks([-(np.pi - delta), 0.4], n) @ Q.T, rtol=0, atol=1e-13)
    noisy = R + 1e-13 * np.random.default_rng(0).standard_normal((n, n))
    snapped = so_log(Q @ blocks([np.pi, 0.4], n) @ Q.T)
    np.testing.assert_allclose(so_log(noisy), snapped, rtol=0, atol=1e-9)
    assert np.abs(so_log(noisy) - so_log(R)).max() > 0.1  # the log is discontinuous there
    # beyond the window nothing is snapped, however noisy: n = 8 has 64·n·eps = 1.1e-13 < δ
    Q8 = haar(8, 3)
    R8 = Q8 @ blocks([-(np.pi - delta), 0.4], 8) @ Q8.T
    np.testing.assert_allclose(so_log(R8), Q8 @ log_blocks([-(np.pi - delta), 0.4], 8) @ Q8.T, rtol=0, atol=1e-13)


# ----------------------------------------------------------------------------------------------
# RUM memory: products of many Rotations; batches and broadcasting
# ----------------------------------------------------------------------------------------------


def rum_memory(n: int, steps: int, seed: int) -> np.ndarray:
    """R_t = R_{t−1} Rotation(ε_t, τ_t) with λ = 1 (closed form of each Rotation)."""
    rng = np.random.default_rng(seed)
    R = np.eye(n)
    for _ in range(steps):
        a, b = rng.standard_normal((2, n))
        ua = a / np.linalg.norm(a)
        w = b - (ua @ b) * ua
        ub = w / np.linalg.norm(w)
        th = np.arccos(np.clip(ua @ b / np.linalg.norm(b), -1, 1))
        G = np.outer(ub, ua) - np.outer(ua, ub)
        R = R @ (np.eye(n) + np.sin(th) * G + (1 - np.cos(th)) * G @ G)
    return R


@pytest.mark.parametrize(("n", "steps"), [(24, 3), (64, 5), (100, 200)])
def test_rum_memory_products(n, steps):
    R = rum_memory(n, steps, seed=n + steps)
    A = so_log(R)
    assert np.array_equal(A, -A.T)
    np.testing.assert_allclose(so_exp(A), R, rtol=0, atol=roundtrip_atol("float64", n))
    half = so_power(R, 0.5)
    np.testing.assert_allclose(half @ half, R, rtol=0, atol=roundtrip_atol("float64", n))


def test_batches_and_broadcasting(rng):
    Rb = np.stack([np.stack([haar(6, 10 * i + j) for j in range(3)]) for i in range(2)])  # (2, 3, 6, 6)
    lam = np.array([0.2, -0.7, 1.3])
    A, P = so_log(Rb), so_power(Rb, lam)
    assert A.shape == P.shape == (2, 3, 6, 6)
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(A[i, j], so_log(Rb[i, j]))
            np.testing.assert_allclose(P[i, j], so_power(Rb[i, j], lam[j]), rtol=0, atol=1e-14)
    assert so_power(Rb[0, 0], lam).shape == (3, 6, 6)
    np.testing.assert_allclose(so_exp(A), Rb, rtol=0, atol=1e-13)
    assert so_log(np.empty((0, 4, 4))).shape == (0, 4, 4)


def test_dtypes_of_power():
    R = haar(5, 3)
    R32 = R.astype(np.float32)
    assert so_power(R32, np.float32(0.5)).dtype == np.float32
    assert so_power(R32, 0.5).dtype == np.float64  # a Python float is float64
    assert so_power(R, np.float32(0.5)).dtype == np.float64


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [so_log, lambda R: so_power(R, 0.5), canonical_form])
def test_errors_of_log_and_power(f):
    with pytest.raises(ShapeError, match="square"):
        f(np.eye(3)[:2])
    with pytest.raises(ShapeError):
        f(np.ones(3))
    with pytest.raises(ShapeError, match="n ≥ 1"):
        f(np.empty((0, 0)))
    bad = np.eye(3)
    bad[0, 1] = np.nan
    with pytest.raises(NotFiniteError):
        f(bad)
    with pytest.raises(NotOrthogonalError, match=r"= 0\.01 > tolerance"):
        f(np.diag([1.0, 1.0, np.sqrt(1.01)]))
    with pytest.raises(NoRealLogarithmError, match="determinant −1"):
        f(np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(NoRealLogarithmError, match=r"R\[1\]"):
        f(np.stack([np.eye(3), haar(3, 1) @ np.diag([1.0, -1.0, 1.0])]))


def test_det_minus_one_is_refused_on_the_spectral_route_too():
    R = haar(40, 5) @ np.diag([-1.0] + [1.0] * 39)
    assert R.shape[-1] >= lie.SPECTRAL_MIN_N
    with pytest.raises(NoRealLogarithmError):
        so_log(R)
    with pytest.raises(NoRealLogarithmError):
        so_power(R, 0.3)


def test_errors_of_power_lam():
    with pytest.raises(ShapeError, match="does not broadcast"):
        so_power(np.stack([np.eye(3)] * 2), [0.1, 0.2, 0.3])
    with pytest.raises(NotFiniteError, match="lam"):
        so_power(np.eye(3), np.inf)


def test_errors_of_exp():
    with pytest.raises(NotSkewError, match=r"= 1 > tolerance"):
        so_exp(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ShapeError):
        so_exp(np.zeros((2, 3)))
    with pytest.raises(NotFiniteError):
        so_exp(np.full((2, 2), np.inf))


@pytest.mark.parametrize("f", [so_log, so_exp, lambda R: so_power(R, 0.5), canonical_form])
def test_one_rule_for_n_zero_and_empty_batches(f):
    """n = 0 is refused by all (issue 15: so_exp accepted 0×0, so_log refused it); an empty
    batch of n×n matrices (n ≥ 1) is accepted by all."""
    for shape in [(0, 0), (3, 0, 0)]:
        with pytest.raises(ShapeError, match="n ≥ 1"):
            f(np.empty(shape))
    out = f(np.empty((0, 4, 4)))
    assert all(x.shape[0] == 0 for x in (out if isinstance(out, tuple) else (out,)))
