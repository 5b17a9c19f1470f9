"""orthornn.spectra: eigenphases (Schur route vs eigvals), statistics against closed forms,
brute force and linear programming, and the three spacing variances of the issue."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL

from orthornn._conventions import BRANCH_TOL
from orthornn.errors import NotFiniteError, NotOrthogonalError, OrthornnError, ShapeError
from orthornn.numeric.lie import canonical_form
from orthornn.numeric.validation import orthogonality_defect
from orthornn.spectra import (
    SPACING_CONVENTIONS,
    circular_histogram,
    circular_wasserstein,
    departure_from_normality,
    eigenphases,
    eigenvalues,
    haar_eigenphase_density,
    half_spectrum,
    memory_phases,
    ordinal,
    root_distance,
    spacing_variance,
    spacings,
)

TWO_PI = 2 * np.pi
angle = st.floats(-np.pi, np.pi, allow_nan=False).map(lambda t: np.pi if t == -np.pi else t)
seeds = st.integers(0, 2**32 - 1)


def haar_o(n: int, seed: int, size: int = 1) -> np.ndarray:
    """Haar-random O(n) matrices (scipy), ``(n, n)`` for size 1 else ``(size, n, n)``."""
    M = scipy.stats.ortho_group.rvs(n, size=size, random_state=np.random.default_rng(seed))
    return M.reshape(n, n) if size == 1 else M


def block_matrix(thetas: list[float], extra: list[float]) -> np.ndarray:
    """blockdiag(M(θ_1), …, M(θ_k), extra...) with M(θ) = [[cos, −sin], [sin, cos]]."""
    n = 2 * len(thetas) + len(extra)
    B = np.zeros((n, n))
    for j, t in enumerate(thetas):
        c, s = np.cos(t), np.sin(t)
        B[2 * j : 2 * j + 2, 2 * j : 2 * j + 2] = [[c, -s], [s, c]]
    for i, e in enumerate(extra):
        B[2 * len(thetas) + i, 2 * len(thetas) + i] = e
    return B


def circ(x, y):
    d = np.abs(x - y) % TWO_PI
    return np.minimum(d, TWO_PI - d)


# --------------------------------------------------------------------------------------------
# eigenphases
# --------------------------------------------------------------------------------------------


@given(
    st.lists(angle.filter(lambda t: abs(t) > 1e-3 and np.pi - abs(t) > 1e-3), max_size=4),
    st.lists(st.sampled_from([1.0, -1.0]), max_size=3),
    seeds,
)
def test_eigenphases_recover_the_block_angles_under_orthogonal_similarity(thetas, extra, seed):
    if 2 * len(thetas) + len(extra) < 2:
        extra = [*extra, 1.0, -1.0]
    B = block_matrix(thetas, extra)
    n = B.shape[0]
    Z = haar_o(n, seed)
    M = Z @ B @ Z.T
    expected = np.sort(np.concatenate([thetas, -np.asarray(thetas), np.where(np.asarray(extra) > 0, 0.0, np.pi)]))
    got = eigenphases(M)
    np.testing.assert_allclose(got, expected, atol=100 * n * np.finfo(float).eps)
    assert np.all(got > -np.pi) and np.all(got <= np.pi)
    # an independent route: angles of numpy's eigenvalues, as a sorted multiset
    other = np.sort(np.where(np.isclose(np.angle(np.linalg.eigvals(M)), -np.pi), np.pi, np.angle(np.linalg.eigvals(M))))
    np.testing.assert_allclose(got, other, atol=1e-9)


def test_eigenvalue_one_multiplicity_is_exact_and_minus_one_is_plus_pi():
    B = block_matrix([0.7], [1.0, 1.0, 1.0, -1.0, -1.0])
    Z = haar_o(7, 3)
    phases = eigenphases(Z @ B @ Z.T)
    assert int(np.sum(phases == 0.0)) == 3
    assert int(np.sum(phases == np.pi)) == 2
    assert not np.any(phases == -np.pi)
    assert eigenphases(np.eye(5)).tolist() == [0.0] * 5
    assert eigenphases(-np.eye(2)).tolist() == [np.pi, np.pi]


def test_eigenphases_come_in_exact_mirror_pairs_and_are_sorted():
    M = haar_o(9, 11, size=5)
    phases = eigenphases(M)
    assert phases.shape == (5, 9)
    assert np.all(np.diff(phases, axis=-1) >= 0)
    inner = phases[np.abs(phases) < np.pi]
    np.testing.assert_array_equal(np.sort(inner), np.sort(-inner))  # exact, not approximate


def test_eigenphases_batched_equals_one_at_a_time_and_keeps_float32():
    M = haar_o(6, 5, size=6).reshape(2, 3, 6, 6)
    batched = eigenphases(M)
    assert batched.shape == (2, 3, 6)
    for i, j in itertools.product(range(2), range(3)):
        np.testing.assert_array_equal(batched[i, j], eigenphases(M[i, j]))
    p32 = eigenphases(M.astype(np.float32))
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, batched, atol=ATOL["float32"] * 10)


def test_eigenphases_report_the_orthogonality_defect():
    M = haar_o(8, 2, size=3)
    _phases, defect = eigenphases(M, return_defect=True)
    assert defect.shape == (3,)
    np.testing.assert_array_equal(defect, orthogonality_defect(M))
    assert np.all(defect < 1e-13)


def test_eigenphases_refuse_bad_input():
    with pytest.raises(NotOrthogonalError, match="not orthogonal"):
        eigenphases(np.array([[2.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(NotFiniteError):
        eigenphases(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(ShapeError):
        eigenphases(np.ones((2, 3)))
    # a looser tolerance is explicit
    near = np.eye(3) + 1e-9
    assert eigenphases(near, tol=1e-6).shape == (3,)


# the snap to π is so_log's rule (issue 15): the plain window 64·n·eps snapped π − 1e-12 from n = 71 on
#: Angles within this of π are π in every dimension (BRANCH_TOL·eps: 1.4e-14 in float64).
PI_FLOOR = BRANCH_TOL * np.finfo(np.float64).eps


@pytest.mark.parametrize("n", [128, 129, 200])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_an_angle_the_data_separate_from_pi_is_not_snapped_in_high_dimension(n, sign):
    delta = 1e-12
    assert PI_FLOOR < delta <= BRANCH_TOL * n * np.finfo(np.float64).eps  # inside the old window: it was snapped
    extra = [1.0] * (n - 4) if n % 2 == 0 else [1.0] * (n - 5) + [-1.0]  # n = 129: det −1, one eigenvalue −1
    B = block_matrix([sign * (np.pi - delta), 0.4], extra)
    Z = haar_o(n, 7)
    phases = eigenphases(Z @ B @ Z.T)
    n_minus = extra.count(-1.0)
    assert int(np.sum(phases == np.pi)) == n_minus  # only the true eigenvalue −1, not the pair
    assert np.abs(phases[-1 - n_minus] - (np.pi - delta)) <= 1e-14
    assert np.abs(phases[0] + (np.pi - delta)) <= 1e-14


def test_eigenphases_snap_to_pi_exactly_when_canonical_form_does():
    """One rule with so_log: within the floor, or for input too noisy to tell, the pair is −1 twice."""
    n, delta = 128, 1e-12
    Z = scipy.stats.special_ortho_group.rvs(n, random_state=np.random.default_rng(4))
    clean = Z @ block_matrix([-(np.pi - delta), 0.4], [1.0] * (n - 4)) @ Z.T
    near = Z @ block_matrix([np.pi - 4e-15, 0.4], [1.0] * (n - 4)) @ Z.T
    noisy = clean + 1e-13 * np.random.default_rng(0).standard_normal((n, n))  # ‖RᵀR − I‖₂ = 3.2e-12 > δ
    for R, snapped in ((clean, False), (near, True), (noisy, True)):
        phases = eigenphases(R)
        _, phi = canonical_form(R)
        assert (int(np.sum(phases == np.pi)) == 2) is snapped
        assert (np.pi in phi) is snapped
        planes, n_pi = phi[(phi != 0) & (phi != np.pi)], int(np.sum(phi == np.pi))
        rest = np.zeros(n - 2 * planes.size - 2 * n_pi)
        np.testing.assert_array_equal(phases, np.sort(np.concatenate([planes, -planes, [np.pi] * 2 * n_pi, rest])))


def test_eigenvalues_general_route_matches_numpy_and_sorts_by_phase():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((4, 7, 7))
    lam = eigenvalues(M)
    for b in range(4):
        ref = np.linalg.eigvals(M[b])
        np.testing.assert_allclose(np.sort_complex(lam[b]), np.sort_complex(ref), atol=1e-12)
    phase = np.angle(lam)
    phase = np.where(phase == -np.pi, np.pi, phase)
    assert np.all(np.diff(phase, axis=-1) >= -1e-15)
    neg = eigenvalues(np.diag([-2.0, 1.0]))
    assert neg.dtype == np.complex128  # complex even when every eigenvalue is real
    assert neg.tolist() == [1.0, -2.0]  # phase 0 first, then +π
    assert eigenvalues(np.eye(2, dtype=np.float32)).dtype == np.complex64


# --------------------------------------------------------------------------------------------
# roots of unity: the copy clock sits on them, Haar phases are uniform relative to them
# --------------------------------------------------------------------------------------------


def test_copy_clock_phases_are_on_the_roots_of_unity():
    from orthornn.henaff import copy_solution

    T, S, d = 500, 10, 128
    V = copy_solution(K=8, S=S, T=T, d=d, rng=0).V
    phases, defect = eigenphases(V, return_defect=True)
    assert phases.shape == (2 * d + 1,) and float(defect) < 1e-14
    dist = root_distance(phases, T + S)
    assert float(dist.max()) < 1e-13
    # … and not on the roots of a different order
    assert float(root_distance(phases, T + S + 1, normalized=True).mean()) > 0.2


def test_haar_phases_are_uniform_relative_to_the_roots():
    phases = eigenphases(scipy.stats.special_ortho_group.rvs(64, size=50, random_state=np.random.default_rng(1)))
    u = root_distance(phases, 510, normalized=True).ravel()
    assert 0.0 <= u.min() and u.max() <= 1.0
    assert abs(u.mean() - 0.5) < 0.03 and abs(u.var() - 1 / 12) < 0.01
    assert scipy.stats.kstest(u, "uniform").pvalue > 1e-3


@given(angle, st.integers(1, 600))
def test_root_distance_is_the_circular_distance_to_the_nearest_root(phi, p):
    roots = TWO_PI * np.arange(p) / p
    brute = circ(phi, roots).min()
    assert abs(float(root_distance(np.array([phi]), p)[0]) - brute) < 1e-12
    assert 0 <= float(root_distance(np.array([phi]), p, normalized=True)[0]) <= 1


def test_root_distance_rejects_bad_order():
    for p in (0, -3, 2.5, True):
        with pytest.raises(OrthornnError, match="p must be"):
            root_distance(np.zeros(3), p)


# --------------------------------------------------------------------------------------------
# spacings: the three numbers of the issue
# --------------------------------------------------------------------------------------------


def test_spacing_variance_haar_shows_level_repulsion():
    M = scipy.stats.special_ortho_group.rvs(64, size=200, random_state=np.random.default_rng(7))
    var = spacing_variance(eigenphases(M))
    assert var.shape == (200,)
    assert 0.1 <= float(var.mean()) <= 0.3
    # the pooled spacings have the same variance (equal counts: 32 per matrix)
    s = spacings(eigenphases(M))
    assert s.size == 200 * 32
    assert abs(float(s.var()) - float(var.mean())) < 1e-12


def test_spacing_variance_independent_uniform_phases_is_poisson():
    phases = np.random.default_rng(8).uniform(-np.pi, np.pi, size=(200, 64))
    var = float(spacing_variance(phases, convention="full").mean())
    assert 0.8 <= var <= 1.2
    # exact expectation for m i.i.d. uniform points on a circle: (m − 1)/(m + 1)
    assert abs(var - 63 / 65) < 0.1


def test_spacing_variance_expRNN_henaff_initialiser_is_nearly_poisson():
    rng = np.random.default_rng(9)
    thetas = rng.uniform(-np.pi, np.pi, size=(200, 32))
    Z = haar_o(64, 10, size=200)
    M = np.stack([z @ block_matrix(list(t), []) @ z.T for z, t in zip(Z, thetas, strict=True)])
    var = float(spacing_variance(eigenphases(M)).mean())
    assert abs(var - 31 / 33) < 0.1  # 32 independent uniform points on [0, π] as a circle
    assert var > 0.8


def test_half_conventions_use_one_phase_per_pair_and_check_symmetry():
    M = scipy.stats.special_ortho_group.rvs(10, random_state=np.random.default_rng(3))
    phases = eigenphases(M)
    (h,) = half_spectrum(phases)
    assert h.size == 5 and np.all((h >= 0) & (h <= np.pi))
    assert spacings(phases).size == 5 and spacings(phases, convention="full").size == 10
    assert spacings(phases, convention="mirror").size == 6  # 4 internal gaps + across 1 and −1
    for convention in ("half", "mirror"):
        with pytest.raises(OrthornnError, match="convention='full'"):
            spacing_variance(np.array([0.1, 0.2, 0.3]), convention=convention)
    with pytest.raises(OrthornnError, match="valid: half, mirror, full"):
        spacings(phases, convention="both")
    for convention in SPACING_CONVENTIONS:  # a single point: one gap, the whole circle
        assert spacings(np.array([np.pi]), convention=convention).tolist() == [1.0]
    (h,) = half_spectrum(eigenphases(np.diag([1.0, -1.0, 1.0])))
    assert h.tolist() == [0.0, 0.0, np.pi]


@given(st.lists(angle, min_size=1, max_size=20), angle)
def test_spacings_sum_to_the_count_and_are_rotation_invariant(phis, shift):
    phis = np.asarray(phis)
    s = spacings(phis, convention="full")
    assert s.size == phis.size and np.all(s >= 0)
    assert abs(float(s.sum()) - phis.size) < 1e-9
    v1 = float(spacing_variance(phis, convention="full"))
    v2 = float(spacing_variance(phis + shift, convention="full"))
    assert abs(v1 - v2) < 1e-9


@pytest.mark.parametrize("p", [7, 10, 33])
def test_roots_of_unity_have_zero_variance_under_full_and_mirror(p):
    roots = np.sort(np.angle(np.exp(2j * np.pi * np.arange(p) / p)))
    roots = np.where(np.isclose(roots, -np.pi), np.pi, roots)
    assert float(spacing_variance(roots, convention="full")) < 1e-26
    assert float(spacing_variance(roots, convention="mirror")) < 1e-26
    # "half" identifies 0 with π: p odd leaves one half-size gap, p even a double point
    assert float(spacing_variance(roots, convention="half")) > 0.01


def test_half_convention_has_zero_variance_for_roots_of_minus_one():
    m = 6  # phases ±(k + 1/2)π/m: equally spaced after angle doubling
    theta = (np.arange(m) + 0.5) * np.pi / m
    phases = np.sort(np.concatenate([theta, -theta]))
    assert float(spacing_variance(phases)) < 1e-26
    np.testing.assert_allclose(spacings(phases), np.ones(m), atol=1e-13)


def test_mirror_convention_by_hand():
    # half spectrum {0.3, 1.0}: gaps 0.7, across 1: 0.6, across −1: 2(π − 1)
    phases = np.array([-1.0, -0.3, 0.3, 1.0])
    g = np.array([0.7, 0.6, 2 * (np.pi - 1.0)])
    np.testing.assert_allclose(spacings(phases, convention="mirror"), g / g.mean(), atol=1e-14)
    h = np.array([0.7, 0.3 + np.pi - 1.0])
    np.testing.assert_allclose(spacings(phases, convention="half"), h / h.mean(), atol=1e-14)


# --------------------------------------------------------------------------------------------
# circular histogram
# --------------------------------------------------------------------------------------------


@given(st.lists(angle, min_size=1, max_size=40), st.integers(1, 30))
def test_circular_histogram_counts_every_phase_once(phis, bins):
    phis = np.asarray(phis)
    counts, edges = circular_histogram(phis, bins)
    assert counts.sum() == phis.size and edges[0] == -np.pi and edges[-1] == np.pi
    dens, _ = circular_histogram(phis, bins, density=True)
    assert abs(float(dens.sum() * TWO_PI / bins) - 1) < 1e-12
    inner = phis[np.min(np.abs(phis[:, None] - edges[None, :]), axis=1) > 1e-9]
    np.testing.assert_array_equal(
        circular_histogram(inner, bins)[0] if inner.size else np.zeros(bins), np.histogram(inner, edges)[0]
    )


def test_circular_histogram_bins_are_half_open_on_the_left_and_batched():
    counts, _ = circular_histogram(np.array([[-np.pi, np.pi, 0.0], [np.pi / 2, np.pi / 2, -3.0]]), bins=2)
    assert counts.tolist() == [[1.0, 2.0], [1.0, 2.0]]  # ±π → +π in (0, π]; 0 closes (−π, 0]


# --------------------------------------------------------------------------------------------
# circular Wasserstein-1
# --------------------------------------------------------------------------------------------


def w1_grid(a, b, points=200_001):
    """Brute force: F − G on a fine grid, the integral minimised over every level c it takes
    (the objective is convex and piecewise linear in c, so its minimum is at one of them)."""
    t = np.linspace(-np.pi, np.pi, points)
    h = np.searchsorted(np.sort(a), t, side="right") / len(a) - np.searchsorted(np.sort(b), t, side="right") / len(b)
    dt = t[1] - t[0]
    return min(float(np.sum(np.abs(h - c)) * dt) for c in np.unique(h))


def w1_lp(a, b):
    """Optimal transport with arc-length cost, as a linear program (HiGHS)."""
    a, b = np.asarray(a), np.asarray(b)
    m, k = a.size, b.size
    cost = circ(a[:, None], b[None, :]).ravel()
    A_eq = np.zeros((m + k, m * k))
    for i in range(m):
        A_eq[i, i * k : (i + 1) * k] = 1
    for j in range(k):
        A_eq[m + j, j::k] = 1
    rhs = np.concatenate([np.full(m, 1 / m), np.full(k, 1 / k)])
    res = scipy.optimize.linprog(cost, A_eq=A_eq, b_eq=rhs, bounds=(0, None), method="highs")
    assert res.status == 0
    return float(res.fun)


@given(angle, angle)
def test_wasserstein_of_two_point_masses_is_the_arc_distance(x, y):
    got = float(circular_wasserstein(np.array([x]), np.array([y])))
    assert abs(got - float(circ(x, y))) < 1e-12


@given(st.lists(angle, min_size=1, max_size=6), st.lists(angle, min_size=1, max_size=6))
def test_wasserstein_equals_the_transport_linear_program(a, b):
    assert (
        abs(float(circular_wasserstein(np.array(a), np.array(b))) - w1_lp(a, b)) < 1e-7
    )  # HiGHS feasibility tolerance


def test_wasserstein_equals_brute_force_on_a_fine_grid():
    rng = np.random.default_rng(4)
    for m, k in [(3, 5), (7, 2), (4, 4)]:
        a, b = rng.uniform(-np.pi, np.pi, m), rng.uniform(-np.pi, np.pi, k)
        assert abs(float(circular_wasserstein(a, b)) - w1_grid(a, b)) < 2e-4


@given(
    st.lists(angle, min_size=1, max_size=8),
    st.lists(angle, min_size=1, max_size=8),
    st.lists(angle, min_size=1, max_size=8),
    angle,
)
def test_wasserstein_is_a_rotation_invariant_metric(a, b, c, shift):
    a, b, c = map(np.asarray, (a, b, c))
    ab = float(circular_wasserstein(a, b))
    assert float(circular_wasserstein(a, a)) < 1e-12
    assert abs(ab - float(circular_wasserstein(b, a))) < 1e-12
    assert ab <= float(circular_wasserstein(a, c)) + float(circular_wasserstein(c, b)) + 1e-12
    assert abs(ab - float(circular_wasserstein(a + shift, b + shift))) < 1e-9
    assert 0 <= ab <= np.pi + 1e-12


def test_wasserstein_batches_broadcast():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-3, 3, (4, 1, 6)), rng.uniform(-3, 3, (3, 2))
    w = circular_wasserstein(a, b)
    assert w.shape == (4, 3)
    assert abs(float(w[2, 1]) - float(circular_wasserstein(a[2, 0], b[1]))) < 1e-15
    with pytest.raises(ShapeError, match="broadcast"):
        circular_wasserstein(np.zeros((2, 3)), np.zeros((3, 3)))


# --------------------------------------------------------------------------------------------
# Haar density (Weyl)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 9])
def test_haar_density_integrates_to_the_non_forced_fraction(n):
    total, _ = scipy.integrate.quad(lambda t: float(haar_eigenphase_density(t, n)), -np.pi, np.pi, limit=200)
    assert abs(total - 2 * (n // 2) / n) < 1e-9
    assert np.all(haar_eigenphase_density(np.linspace(-np.pi, np.pi, 1001), n) >= -1e-15)


@pytest.mark.parametrize("n", [4, 5])
def test_haar_density_matches_a_monte_carlo_histogram(n):
    phases = eigenphases(scipy.stats.special_ortho_group.rvs(n, size=4000, random_state=np.random.default_rng(n)))
    bins = 24
    counts, edges = circular_histogram(phases.ravel(), bins)
    if n % 2:  # remove the forced eigenvalue 1 (one exact zero per matrix)
        counts[bins // 2 - 1] -= 4000
    prob = counts / phases.size
    expected = np.array(
        [
            scipy.integrate.quad(lambda t: float(haar_eigenphase_density(t, n)), lo, hi)[0]
            for lo, hi in itertools.pairwise(edges)
        ]
    )
    # binomial standard error of each bin ≤ sqrt(p/N) with N = 4000·n phases
    assert np.max(np.abs(prob - expected) / np.sqrt(expected / phases.size)) < 5


def test_haar_density_limits_at_zero_and_pi_are_continuous():
    for n in (6, 7):
        for t0 in (0.0, np.pi):
            near = float(haar_eigenphase_density(t0 - np.sign(t0 - 1) * 1e-5, n))
            assert abs(float(haar_eigenphase_density(t0, n)) - near) < 1e-6


# --------------------------------------------------------------------------------------------
# departure from normality
# --------------------------------------------------------------------------------------------


def test_departure_from_normality_is_zero_for_normal_matrices():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((8, 8))
    for normal in (haar_o(8, 1), A + A.T, A - A.T, np.diag(rng.standard_normal(8))):
        scale = np.linalg.norm(normal)
        assert float(departure_from_normality(normal)) < 1e-13 * scale


@pytest.mark.parametrize("n", [2, 3, 6, 10])
def test_departure_of_a_jordan_block_is_sqrt_n_minus_one(n):
    J = 0.7 * np.eye(n) + np.eye(n, k=1)
    assert abs(float(departure_from_normality(J)) - np.sqrt(n - 1)) < 1e-12
    assert abs(float(departure_from_normality(J, relative=True)) - np.sqrt((n - 1) / (n - 1 + 0.49 * n))) < 1e-12


def test_departure_agrees_with_henricis_formula_and_is_similarity_invariant():
    rng = np.random.default_rng(7)
    M = rng.standard_normal((5, 6, 6))
    lam = np.linalg.eigvals(M)
    direct = np.sqrt(np.linalg.norm(M, axis=(-2, -1)) ** 2 - np.sum(np.abs(lam) ** 2, axis=-1))
    dep = departure_from_normality(M)
    assert dep.shape == (5,)
    np.testing.assert_allclose(dep, direct, rtol=1e-9)
    Z = haar_o(6, 8)
    np.testing.assert_allclose(departure_from_normality(Z @ M @ Z.T), dep, rtol=1e-10)
    assert float(departure_from_normality(np.zeros((3, 3)), relative=True)) == 0.0


# --------------------------------------------------------------------------------------------
# RUM memory phases
# --------------------------------------------------------------------------------------------


def test_memory_phases_follow_the_rum_memory_sequence():
    from orthornn import rotation

    rng = np.random.default_rng(12)
    eps, tau = rng.standard_normal((2, 3, 20, 6))
    rot = rotation(eps, tau)  # (B, T, n, n)
    R = np.empty_like(rot)
    for b in range(3):
        acc = np.eye(6)
        for t in range(20):
            acc = acc @ rot[b, t]  # λ = 1: R_t = R_{t−1} Rotation(ε_t, τ_t)
            R[b, t] = acc
    phases, defect = memory_phases(R, return_defect=True)
    assert phases.shape == (3, 20, 6) and defect.shape == (3, 20)
    np.testing.assert_array_equal(memory_phases(R[1]), phases[1])
    # step 1 is one Rotation: angle θ_1 = arccos(ε̂·τ̂) and four exact zeros
    cos1 = np.sum(eps[:, 0] * tau[:, 0], -1) / np.linalg.norm(eps[:, 0], axis=-1) / np.linalg.norm(tau[:, 0], axis=-1)
    np.testing.assert_allclose(phases[:, 0, -1], np.arccos(cos1), atol=1e-12)
    assert np.all(np.sum(phases[:, 0] == 0.0, axis=-1) == 4)


def test_memory_phases_need_a_sequence():
    with pytest.raises(ShapeError, match=r"\(T, n, n\)"):
        memory_phases(np.eye(3))


# ordinal labels ("10th roots", not "10-th roots"; issue 16)


@pytest.mark.parametrize(
    ("k", "word"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (10, "10th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (101, "101st"),
        (111, "111th"),
        (112, "112th"),
        (0, "0th"),
    ],
)
def test_ordinal_english(k, word):
    assert ordinal(k) == word


@given(st.integers(0, 10**6))
def test_ordinal_suffix_depends_on_the_last_two_digits(k):
    word = ordinal(k)
    assert word[:-2] == str(k) and word[-2:] in ("st", "nd", "rd", "th")
    assert ordinal(k + 100)[-2:] == word[-2:]  # only k mod 100 matters
    teen = 10 <= k % 100 <= 19
    assert (word[-2:] == "th") == (teen or k % 10 not in (1, 2, 3))


def test_ordinal_refuses_non_integers():
    for bad in (2.0, True, "3"):
        with pytest.raises(OrthornnError, match="integer"):
            ordinal(bad)
