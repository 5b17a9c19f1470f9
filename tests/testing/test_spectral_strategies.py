"""The adversarial strategies of orthornn.testing draw what they promise: prescribed eigen-angles
(exactly π, π − 10⁻ᵏ, 0, 10⁻ᵏ, repeated, clustered, reflections), nearly orthogonal and nearly skew
matrices with the defect asked for, products of Rotations, Givens meshes at 0 and π; they find
the failure a Haar strategy misses, shrink to the simplest spectrum and print a public call."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
from hypothesis import Phase, find, given, reporting, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import orthornn
from orthornn.testing import (
    EXPM_DEGREE_SWITCHES,
    MESH_PHASES_DRAWN_SINGLY,
    MESH_SPECIAL_PHASES,
    SPECTRUM_KINDS,
    SPECTRUM_PLANES_DRAWN_SINGLY,
    adversarial_orthogonal_matrices,
    adversarial_rotations,
    as_torch,
    assert_orthogonal,
    dimensions,
    givens_mesh,
    givens_meshes,
    haar_orthogonal,
    mesh_phases,
    nearly_orthogonal,
    nearly_orthogonal_matrices,
    nearly_skew,
    nearly_skew_matrices,
    orthogonal_matrices,
    orthogonal_matrices_with_angles,
    orthogonal_with_angles,
    rotation_product,
    rotation_products,
    rotation_with_generator_norm,
    special_orthogonal_matrices,
    spectra,
)


def plane_angles(R: np.ndarray) -> np.ndarray:
    """Eigen-angles |φ| in [0, π] of an orthogonal matrix, sorted (each pair counted twice)."""
    return np.sort(np.abs(np.angle(np.linalg.eigvals(R.astype(np.float64)))))


def expected_angles(angles: tuple[float, ...], n: int, det: int) -> np.ndarray:
    phi = [abs(float(orthornn._conventions.wrap_phase(a))) for a in angles for _ in (0, 1)]
    rest = n - 2 * len(angles)
    phi += [0.0] * (rest - (det == -1)) + [math.pi] * (det == -1)
    return np.sort(phi)


@pytest.mark.parametrize("kind", SPECTRUM_KINDS)
@given(data=st.data())
def test_spectra_have_their_kind(kind, data):
    n = data.draw(dimensions(1, 9))
    det = data.draw(st.sampled_from([1, -1]))
    phi = data.draw(spectra(n, kind, det=det))
    k = n // 2 if det == 1 else (n - 1) // 2
    assert len(phi) == k and all(-math.pi < a <= math.pi for a in phi)
    if not phi:
        return
    if kind == "zero":
        assert phi == (0.0,) * k
    elif kind == "pi":
        assert phi[0] == math.pi
    elif kind == "near_pi":
        assert 0 < math.pi - phi[0] <= 0.1 + 1e-12
    elif kind == "near_zero":
        assert all(1e-16 < a <= 0.1 for a in phi)
    elif kind == "small":
        assert 1e-9 <= phi[0] < 1 and all(a == 0 or 1e-9 <= a < 1 for a in phi)
    elif kind == "expm":
        assert all(a == 0 or _below_a_switch(a) for a in phi) and _below_a_switch(phi[0])
    elif kind == "repeated":
        assert len(set(phi)) == 1
    elif kind == "clustered":
        gaps = np.abs(np.angle(np.exp(1j * (np.array(phi) - phi[0]))))
        assert gaps.max() <= k * 1e-3


@given(data=st.data())
def test_prescribed_angles_are_the_spectrum(data):
    n = data.draw(dimensions(1, 9))
    det = data.draw(st.sampled_from([1, -1]))
    phi = data.draw(spectra(n, "any", det=det))
    seed = data.draw(st.integers(0, 2**32 - 1))
    R = orthogonal_with_angles(phi, seed, n=n, det=det)
    assert_orthogonal(R)  # conjugation keeps it orthogonal to rounding (16·√n·eps)
    assert np.linalg.det(R) == pytest.approx(det, abs=1e-12)
    # eigenvalues of a normal matrix are perfectly conditioned: within a few eps in |e^{iφ}|
    got = np.sort_complex(np.linalg.eigvals(R))
    want = np.sort_complex(np.linalg.eigvals(orthogonal_with_angles(phi, None, n=n, det=det)))
    assert np.allclose(np.sort(np.abs(got + 1)), np.sort(np.abs(want + 1)), atol=1e-7)
    assert np.allclose(plane_angles(R), expected_angles(phi, n, det), atol=1e-7)


def test_conjugation_is_not_axis_aligned_and_seeds_reproduce():
    R = orthogonal_with_angles((math.pi, 0.3), 5)
    assert np.count_nonzero(np.abs(R) > 1e-3) > 8  # dense: not a block diagonal
    assert np.array_equal(R, orthogonal_with_angles((math.pi, 0.3), 5))
    assert np.array_equal(orthogonal_with_angles((math.pi,), None), -np.eye(2))
    batch = orthogonal_with_angles([[0.1], [0.2], [0.3]], 1)
    assert batch.shape == (3, 2, 2) and np.allclose(plane_angles(batch[2]), [0.3, 0.3])


def test_bad_spectra_are_refused():
    with pytest.raises(ValueError, match="need n ≥ 5"):
        orthogonal_with_angles((0.1, 0.2), 0, n=4, det=-1)
    with pytest.raises(ValueError, match="valid kinds: zero, pi"):
        spectra(4, "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="det must be"):
        adversarial_orthogonal_matrices(3, det=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n is needed"):
        orthogonal_matrices_with_angles(None, st.just(0.1))


def test_adversarial_strategies_reach_every_hard_spectrum():
    s = adversarial_orthogonal_matrices(dimensions(2, 6))

    def min_gap_to(R, z):
        return np.abs(np.linalg.eigvals(R) - z).min()

    assert np.linalg.det(find(s, lambda R: np.linalg.det(R) < 0)) == pytest.approx(-1)
    find(s, lambda R: np.linalg.det(R) > 0 and min_gap_to(R, -1) < 1e-12)  # −1 in SO(n): angle π
    find(s, lambda R: 1e-14 < np.pi - plane_angles(R).max() < 1e-9)  # π − 10⁻ᵏ, resolved
    find(s, lambda R: 0 < np.abs(R - np.eye(len(R))).max() < 1e-12 and plane_angles(R).max() > 1e-15)
    find(s, lambda R: len(R) >= 6 and 0 < np.ptp(plane_angles(R)[::2]) < 1e-6)  # clustered


def test_failures_shrink_to_the_simplest_spectrum():
    R = find(adversarial_rotations(dimensions(2, 8)), lambda R: np.abs(np.linalg.eigvals(R) + 1).min() < 1e-9)
    assert R.shape == (2, 2) and np.array_equal(R, orthogonal_with_angles((math.pi,), 0, n=2))


def _report_of(test) -> str:
    """What hypothesis reports for a failing test: the reporter's lines and the exception's notes."""
    lines: list[str] = []
    with reporting.with_reporter(lines.append), pytest.raises(AssertionError) as err:
        test()
    return "\n".join([*lines, *getattr(err.value, "__notes__", [])])


def test_a_falsifying_draw_prints_as_a_public_call():
    @settings(max_examples=50, database=None)
    @given(adversarial_rotations(3, dtype=st.sampled_from([np.float64, np.float32])))
    def fails(R):
        assert np.abs(np.linalg.eigvals(R.astype(np.float64)) + 1).min() > 1e-5

    text = _report_of(fails)
    assert "orthogonal_with_angles(" in text and "dtype='float" in text
    assert "_haar" not in text and "dt)" not in text and "lambda" not in text

    @settings(max_examples=50, database=None)
    @given(orthogonal_matrices(3))
    def fails_haar(Q):
        assert np.linalg.det(Q) > 0

    text = _report_of(fails_haar)
    assert "haar_orthogonal(" in text
    call = re.search(r"haar_orthogonal\([^)]*\)", text).group(0)
    Q = eval(call, {"haar_orthogonal": haar_orthogonal})
    assert np.linalg.det(Q) < 0  # the printed call rebuilds the falsifying matrix


def test_adversarial_rotations_find_the_complex_logm_that_haar_misses():
    """The issue's headline: scipy.linalg.logm of a rotation with eigenvalue −1 is complex (iπ)."""

    def real_logm(R):
        L = scipy.linalg.logm(R)
        assert np.abs(np.imag(L)).max(initial=0) < 1e-8

    calls = []

    def counted(R):
        calls.append(1)
        real_logm(R)

    once = settings(max_examples=100, database=None, derandomize=True, phases=[Phase.generate])
    once(given(special_orthogonal_matrices(dimensions(2, 8)))(counted))()  # 100 Haar rotations: logm stays real
    assert len(calls) == 100
    calls.clear()
    with pytest.raises(AssertionError):
        once(given(adversarial_rotations(dimensions(2, 8)))(counted))()
    assert len(calls) <= 10  # found within the first few draws (the spectrum kind "pi" comes early)


@given(data=st.data())
def test_batches_and_dtype_strategies(data):
    shape = data.draw(st.sampled_from([(), (3,), (2, 2)]))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    for strategy in (
        orthogonal_matrices(3, dtype=dtype, batch_shape=shape),
        adversarial_orthogonal_matrices(3, dtype=dtype, batch_shape=shape),
        nearly_orthogonal_matrices(3, 1e-3, dtype=dtype, batch_shape=shape),
        rotation_products(3, 4, dtype=dtype, batch_shape=shape),
    ):
        M = data.draw(strategy)
        assert M.shape == (*shape, 3, 3) and M.dtype == dtype
    Rs = data.draw(adversarial_rotations(4, batch_shape=shape))
    assert np.allclose(np.linalg.det(Rs), 1)


def test_dtype_may_be_a_strategy():
    s = orthogonal_matrices(2, dtype=st.sampled_from([np.float32, np.float64]))
    assert find(s, lambda q: q.dtype == np.float32).dtype == np.float32
    assert find(s, lambda q: q.dtype == np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="dtype must be one of"):
        orthogonal_matrices(2, dtype=np.int64)


@given(st.integers(1, 12), st.integers(0, 2**32 - 1), st.integers(-14, -2))
def test_nearly_orthogonal_has_the_defect_asked_for(n, seed, k):
    d = min(10.0**k, 0.5 / n)
    M = nearly_orthogonal(n, seed, d)
    assert np.abs(M.T @ M - np.eye(n)).max() == pytest.approx(d, rel=1e-6, abs=4 * n * 2.3e-16)  # rounding of M, MᵀM


def test_nearly_orthogonal_refuses_a_defect_it_cannot_build():
    with pytest.raises(ValueError, match=r"\[0, 1/\(2n\)\]"):
        nearly_orthogonal(4, 0, 0.2)


@given(nearly_orthogonal_matrices(dimensions(2, 8), dtype=st.sampled_from([np.float32, np.float64])))
def test_nearly_orthogonal_matrices_are_not_orthogonal(M):
    eps = np.finfo(M.dtype).eps
    m = M.astype(np.float64)
    d = np.abs(m.T @ m - np.eye(len(M))).max()
    assert 90 * eps <= d <= max(1e-2, 0.5 / len(M)) * (1 + 1e-6)


@given(st.integers(1, 10), st.integers(0, 2**32 - 1), st.integers(-14, 0))
def test_nearly_skew_has_the_defect_asked_for(n, seed, k):
    A = nearly_skew(n, seed, 10.0**k, max_abs=3.0)
    defect = np.abs(A + A.T).max() / max(1.0, np.abs(A).max())
    assert defect == pytest.approx(10.0**k, rel=1e-9)


@given(nearly_skew_matrices(4, 1e-5, dtype=np.float32))
def test_nearly_skew_float32(A):
    assert A.dtype == np.float32
    a = A.astype(np.float64)
    assert np.abs(a + a.T).max() / max(1.0, np.abs(a).max()) == pytest.approx(1e-5, abs=4 * 1.2e-7)  # float32 rounding


def test_rotation_product_is_the_product_of_rotations():
    R = rotation_product(4, 3, 6)
    assert R.shape == (4, 4)
    assert_orthogonal(R, special=True, scale=6)
    assert np.array_equal(R, rotation_product(4, 3, 6)) and not np.allclose(R, np.eye(4))
    assert np.array_equal(rotation_product(4, 3, 0), np.eye(4))


@settings(max_examples=20)
@given(rotation_products(dimensions(2, 8)))
def test_rotation_products_are_rotations(R):
    assert_orthogonal(R, special=True, scale=100)


def test_givens_meshes_hit_phases_zero_and_pi():
    U = find(givens_meshes(3), lambda U: np.linalg.det(U) < 0)
    assert np.linalg.det(U) == pytest.approx(-1)
    assert np.array_equal(givens_mesh(3, (0.0, 0.0, 0.0)), np.eye(3))
    U = find(
        givens_meshes(4, det=1), lambda U: np.allclose(np.abs(U), np.round(np.abs(U))) and not np.allclose(U, np.eye(4))
    )
    assert_orthogonal(U, special=True)  # a signed permutation-like matrix from phases 0, ±π/2, π


def test_as_torch_redraws_with_the_same_constructor():
    import torch

    @settings(max_examples=10)
    @given(as_torch(adversarial_rotations(3), dtype=torch.float32))
    def check(R):
        assert isinstance(R, torch.Tensor) and R.dtype == torch.float32
        assert_orthogonal(R, special=True)

    check()
    pair = find(as_torch(st.tuples(st.just(np.eye(2)), st.just(np.ones(2)))), lambda p: True)
    assert isinstance(pair[0], torch.Tensor) and pair[1].dtype == torch.float64
    R = find(
        as_torch(special_orthogonal_matrices(3), dtype=st.sampled_from(["bfloat16", "float64"])),
        lambda R: R.dtype == torch.bfloat16,
    )
    assert R.dtype == torch.bfloat16

    @settings(max_examples=30, database=None)
    @given(as_torch(orthogonal_matrices(3), dtype="float32"))
    def fails(Q):
        assert torch.linalg.det(Q) > 0

    text = _report_of(fails)
    assert "haar_orthogonal(" in text and "device='cpu'" in text


def test_building_strategies_loads_no_torch_until_a_tensor_is_drawn():
    code = (
        "import sys, orthornn.testing as t; s = t.as_torch(t.adversarial_rotations(3)); "
        "t.adversarial_rotations(4).example(); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_small_angles_cover_every_decade_between_the_powers_of_ten():
    """Kind "small" draws c·10⁻ᵏ (c ∈ [1, 10)), not only 10⁻ᵏ as "near_zero" does."""
    s = spectra(2, "small")
    for k in range(1, 10):
        find(s, lambda phi, k=k: 2 * 10.0**-k < phi[0] < 9 * 10.0**-k)  # inside the decade
    assert find(s, lambda phi: True) == (0.1,)  # shrinks to the simplest


def test_small_angles_find_torchs_float64_matrix_exp_inaccuracy_within_100_examples():
    """torch 2.13 (CPU): torch.linalg.matrix_exp of a skew matrix of norm ≈ 0.02–0.06 is off by up
    to ~1e-10 in float64 (scipy's expm: 1e-16); the powers of ten of "near_zero" miss that window
    (0.01 gives 7e-14), "small" finds it (analysis/peer_checks/results.md)."""
    torch = pytest.importorskip("torch")

    def inaccurate(R):
        E = torch.linalg.matrix_exp(torch.from_numpy(orthornn.so_log(R))).numpy()
        return np.abs(E - R).max() > 1e-12

    budget = settings(max_examples=100, derandomize=True, database=None, phases=[Phase.generate])
    R = find(adversarial_rotations(dimensions(2, 8), "small"), inaccurate, settings=budget)
    assert inaccurate(R)
    with pytest.raises(NoSuchExample):
        find(adversarial_rotations(dimensions(2, 8), "near_zero"), inaccurate, settings=budget)


def _below_a_switch(x: float) -> bool:
    """Whether ``x`` is within 30 % below (or at) one of EXPM_DEGREE_SWITCHES."""
    return any(0.7 * t * (1 - 1e-12) <= x <= t * (1 + 1e-12) for t in EXPM_DEGREE_SWITCHES)


@settings(max_examples=40)
@given(data=st.data())
def test_expm_kind_puts_the_generators_one_norm_below_a_degree_switch(data):
    """adversarial_rotations(n, "expm"): one plane whose generator's 1-norm (what Padé and Taylor
    scaling-and-squaring rules test) is just below a switch, whatever the conjugation."""
    n = data.draw(dimensions(2, 9))
    R = data.draw(adversarial_rotations(n, "expm"))
    A = orthornn.so_log(R)
    assert np.linalg.matrix_rank(A, tol=1e-9) <= 2  # one plane
    norm = np.abs(A).sum(0).max()
    assert _below_a_switch(norm) or np.isclose(np.linalg.norm(A, 2), math.pi)  # (or capped at π)
    assert_orthogonal(R)
    # reflections and batches go through the same constructor
    M = data.draw(adversarial_orthogonal_matrices(n, "expm", batch_shape=(2,)))
    assert M.shape == (2, n, n)


def test_expm_switches_are_the_published_thresholds():
    # Higham (2005) Padé θ₃…θ₉ and torch's Taylor thresholds (float64 and float32), sorted, ≤ π
    assert len(EXPM_DEGREE_SWITCHES) == 15 and list(EXPM_DEGREE_SWITCHES) == sorted(EXPM_DEGREE_SWITCHES)
    assert 0.01495585217958292 in EXPM_DEGREE_SWITCHES and 0.5800524627688768 in EXPM_DEGREE_SWITCHES
    assert max(EXPM_DEGREE_SWITCHES) < math.pi
    assert find(spectra(2, "expm"), lambda phi: True) == (EXPM_DEGREE_SWITCHES[0],)  # shrinks to a switch


@settings(max_examples=50)
@given(
    norm=st.floats(1e-9, 3.0),
    seed=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    n=st.integers(2, 9),
)
def test_rotation_with_generator_norm_has_that_norm(norm, seed, n):
    R = rotation_with_generator_norm(norm, seed, n=n)
    A = orthornn.so_log(R)
    got = np.abs(A).sum(0).max()
    if np.linalg.norm(A, 2) < math.pi - 1e-9:  # (the angle is capped at π)
        assert got == pytest.approx(norm, rel=1e-9)
    batch = rotation_with_generator_norm([norm, norm / 2], seed, n=n)
    assert batch.shape == (2, n, n)


def test_rotation_with_generator_norm_refuses_bad_input():
    with pytest.raises(ValueError, match="norm"):
        rotation_with_generator_norm(-1.0, 0, n=3)
    with pytest.raises(ValueError, match="norm"):
        rotation_with_generator_norm(float("nan"), 0, n=3)
    with pytest.raises(ValueError):
        rotation_with_generator_norm(0.5, 0, n=1)


def test_expm_kind_finds_torchs_matrix_exp_losses_within_100_examples():
    """torch 2.13 (CPU): float64 matrix_exp off by up to 2.5e-10 at norms 0.017–0.050 (below the
    degree-8 switch 0.0499), float32 loses 1e-5 of orthogonality at 0.42–0.58 (below 0.58); the
    "expm" kind finds both (analysis/peer_checks/results.md)."""
    torch = pytest.importorskip("torch")

    def inaccurate64(R):
        E = torch.linalg.matrix_exp(torch.from_numpy(orthornn.so_log(R))).numpy()
        return np.abs(E - R).max() > 1e-12

    def drift32(R):
        E = torch.linalg.matrix_exp(torch.from_numpy(orthornn.so_log(R)).float()).double().numpy()
        return np.abs(E.T @ E - np.eye(len(R))).max() > 5e-6

    budget = settings(max_examples=100, derandomize=True, database=None, phases=[Phase.generate])
    for bad in (inaccurate64, drift32):
        assert bad(find(adversarial_rotations(dimensions(2, 8), "expm"), bad, settings=budget))


def test_mesh_phases_mix_special_and_uniform_phases():
    for special in (0.0, 0.5, 1.0):
        p = mesh_phases(64, 3, special=special)
        assert p.shape == (2016,) and np.all((-math.pi < p) & (p <= math.pi))
        at = np.isin(p, MESH_SPECIAL_PHASES).mean()
        assert abs(at - special) < 0.05  # 2,016 independent phases: the fraction to a few percent
    assert np.array_equal(mesh_phases(8, 1), mesh_phases(8, 1))  # a seed rebuilds them
    assert not np.array_equal(mesh_phases(8, 1), mesh_phases(8, 2))
    with pytest.raises(ValueError, match="special"):
        mesh_phases(4, 0, special=1.5)


def test_large_meshes_print_as_mesh_phases_small_ones_phase_by_phase():
    """n = 64 has 2,016 phases: drawn from a seed (a short call), not one by one."""
    assert math.comb(8, 2) == MESH_PHASES_DRAWN_SINGLY  # n ≤ 8 ('clements'): phase by phase

    def report(n):
        @settings(max_examples=20, database=None, derandomize=True)
        @given(givens_meshes(n, det=1))
        def fails(U):
            assert np.abs(U).max() < 0.999  # a mesh with a coordinate left alone fails

        return _report_of(fails)

    big = report(16)
    call = re.search(r"givens_mesh\((.|\n)*?\n    \)", big).group(0)
    assert "mesh_phases(" in call
    U = eval(
        call.replace("# or any other generated value", ""), {"givens_mesh": givens_mesh, "mesh_phases": mesh_phases}
    )
    assert np.abs(U).max() >= 0.999  # the printed call rebuilds the falsifying matrix
    assert "mesh_phases(" not in report(4)


@pytest.mark.parametrize("kind", ["pi", "near_pi", "near_zero", "small", "expm", "mixed", "generic"])
@settings(max_examples=15)
@given(data=st.data())
def test_large_spectra_keep_their_kind_beyond_the_planes_drawn_singly(kind, data):
    """n > 9: the planes after the first SPECTRUM_PLANES_DRAWN_SINGLY come from one seed."""
    n = data.draw(dimensions(10, 64))
    phi = np.array(data.draw(spectra(n, kind)))
    assert phi.shape == (n // 2,) and np.all((-math.pi < phi) & (phi <= math.pi))
    tail = phi[SPECTRUM_PLANES_DRAWN_SINGLY:]
    if kind == "pi":
        assert phi[0] == math.pi
    elif kind == "near_pi":
        assert 0 < math.pi - phi[0] <= 0.1 + 1e-12
    elif kind == "near_zero":
        assert np.all((1e-16 < phi) & (phi <= 0.1))
    elif kind == "small":
        assert 1e-9 <= phi[0] < 1 and np.all((phi == 0) | ((1e-9 <= phi) & (phi < 1)))
    elif kind == "expm":
        assert _below_a_switch(phi[0]) and all(a == 0 or _below_a_switch(a) for a in phi)
    if len(tail) >= 8 and kind != "near_zero":  # the seeded tail is not one repeated value
        assert len(set(tail.tolist())) > 1


def test_large_spectra_reach_their_structures():
    """The seeded tail draws π (for "pi"), and 0 (for "small") in some planes, generic ones in others."""
    find(spectra(64, "pi"), lambda p: sum(a == math.pi for a in p) > 8 and sum(a != math.pi for a in p) > 8)
    find(spectra(64, "small"), lambda p: sum(a == 0 for a in p) > 4 and sum(0 < a < 0.1 for a in p) > 4)
    find(spectra(64, "mixed"), lambda p: {0.0, math.pi} <= set(p) and any(0 < math.pi - a < 1e-5 for a in p))
