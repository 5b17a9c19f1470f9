"""Givens meshes: decomposition round trips, layer algebra, matrix-free application, errors.

Oracles: the dense product of explicit Givens matrices (an independent construction), exact
round trips ``compose(decompose(U)) == U`` on Haar-random and adversarial matrices, and the
group identities of same-pairing layers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL, EUNN_ROUNDTRIP_PER_N, ORTHO_PER_N

import orthornn
from orthornn import GivensMesh, apply_mesh, givens_compose, givens_decompose, rotation_phases
from orthornn.errors import NotFiniteError, NotOrthogonalError, OrthornnError, ShapeError
from orthornn.numeric.givens import fft_layout, layout_pairs, tunable_layout
from orthornn.testing import dimensions, orthogonal_matrices, special_orthogonal_matrices

MESHES = ["clements", "reck"]


def dense_givens(i: int, j: int, theta: float, n: int) -> np.ndarray:
    """G(i, j, θ) as a dense matrix: rotates e_i toward e_j (G[j, i] = sin θ)."""
    g = np.eye(n)
    g[i, i] = g[j, j] = np.cos(theta)
    g[j, i], g[i, j] = np.sin(theta), -np.sin(theta)
    return g


def dense_compose(mesh: GivensMesh) -> np.ndarray:
    """U = D Λ_{L−1} ⋯ Λ_0 from explicit n×n Givens matrices, one rotation at a time (unbatched)."""
    u = np.eye(mesh.n)
    k = 0
    for pairs in mesh.pairs:
        for i, j in pairs:
            u = dense_givens(int(i), int(j), float(mesh.phases[k]), mesh.n) @ u
            k += 1
    return np.diag(mesh.signs) @ u


def assert_round_trip(u: np.ndarray, mesh: str) -> GivensMesh:
    m = givens_decompose(u, mesh)
    n = u.shape[-1]
    key = "float32" if u.dtype == np.float32 else "float64"
    err = np.abs(givens_compose(m) - u).max()
    assert err <= EUNN_ROUNDTRIP_PER_N[key] * n, (mesh, n, err)
    assert m.num_rotations == n * (n - 1) // 2
    assert m.phases.shape == (*u.shape[:-2], n * (n - 1) // 2)
    assert np.all(m.phases > -np.pi) and np.all(m.phases <= np.pi)
    det = np.sign(np.linalg.det(u.astype(np.float64)))
    np.testing.assert_array_equal(m.signs[..., 0], det)
    np.testing.assert_array_equal(m.signs[..., 1:], 1.0)
    return m


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("mesh", MESHES)
@given(u=orthogonal_matrices(dimensions(1, 12)))
def test_round_trip_haar(mesh, u):
    assert_round_trip(u, mesh)


@pytest.mark.parametrize("mesh", MESHES)
@given(u=special_orthogonal_matrices(dimensions(2, 9)))
def test_rotations_decompose_without_signs(mesh, u):
    m = assert_round_trip(u, mesh)
    np.testing.assert_array_equal(m.signs, 1.0)
    np.testing.assert_allclose(
        givens_compose(GivensMesh.from_layout(u.shape[0], mesh, rotation_phases(u, mesh))),
        u,
        atol=ATOL["float64"] * u.shape[0],
        rtol=0,
    )


@pytest.mark.parametrize(("n", "mesh"), [(64, "clements"), (65, "reck"), (257, "clements"), (512, "clements")])
def test_round_trip_large(n, mesh):
    from scipy.stats import ortho_group

    assert_round_trip(ortho_group.rvs(n, random_state=n), mesh)


@pytest.mark.parametrize("mesh", MESHES)
@given(u=orthogonal_matrices(dimensions(2, 8), dtype=np.float32))
def test_round_trip_float32(mesh, u):
    m = assert_round_trip(u, mesh)
    assert m.phases.dtype == np.float32 and givens_compose(m).dtype == np.float32


def adversarial(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Permutations, −I, π block rotations in random planes, reflections, Rotation products."""
    mats = [np.eye(n), -np.eye(n), np.eye(n)[::-1], np.eye(n)[rng.permutation(n)]]
    if n >= 2:
        d = np.ones(n)
        d[[0, n - 1]] = -1  # −1 at the two ends: the farthest pair of signs to absorb
        mats.append(np.diag(d))
        p = np.eye(n)[rng.permutation(n)]
        block = np.eye(n)
        block[:2, :2] = -np.eye(2)  # rotation by π in the plane (e_0, e_1)
        mats.append(p @ block @ p.T)
        mats.append(dense_givens(0, n - 1, np.pi, n))
        v = rng.normal(size=n)
        mats.append(np.eye(n) - 2 * np.outer(v, v) / (v @ v))
        a, b = rng.normal(size=(2, 4, n))
        rs = orthornn.rotation(a, b)
        mats.append(rs[0] @ rs[1] @ rs[2] @ rs[3])
        mats.append(orthornn.rotation(a[0], -a[0]))  # antiparallel: a rotation by π
    return mats


@pytest.mark.parametrize("mesh", MESHES)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 13])
def test_round_trip_adversarial(mesh, n, rng):
    for u in adversarial(n, rng):
        assert_round_trip(u, mesh)


@pytest.mark.parametrize("n", range(1, 9))
def test_every_sign_pattern_is_normalised(n, rng):
    """All 2^n sign diagonals D in front of a random rotation (batched, so the vectorised path
    runs too, and one at a time): the signs always end as diag(det, 1, …, 1)."""
    from scipy.stats import special_ortho_group

    q = special_ortho_group.rvs(n, random_state=n) if n > 1 else np.eye(1)
    patterns = np.array(list(itertools.product([1.0, -1.0], repeat=n)))
    u = patterns[:, :, None] * q  # D q for every D
    for mesh in MESHES:
        assert_round_trip(u, mesh)
        for k in rng.choice(len(u), size=min(len(u), 8), replace=False):
            assert_round_trip(u[k], mesh)


@pytest.mark.parametrize("mesh", MESHES)
def test_batched_is_vectorised_and_matches_single(mesh, rng):
    from scipy.stats import ortho_group

    u = ortho_group.rvs(6, size=6, random_state=3).reshape(2, 3, 6, 6)
    u[0, 0] = -np.eye(6)
    u[1, 2] = np.eye(6)[::-1]
    m = assert_round_trip(u, mesh)
    for idx in itertools.product(range(2), range(3)):
        single = givens_decompose(u[idx], mesh)
        np.testing.assert_allclose(givens_compose(single), givens_compose(m)[idx], atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize("mesh", MESHES)
def test_batched_float32(mesh):
    from scipy.stats import ortho_group

    u = ortho_group.rvs(9, size=4, random_state=1).astype(np.float32)
    m = assert_round_trip(u, mesh)
    assert m.phases.dtype == np.float32 and m.signs.dtype == np.float32


def test_empty_batch():
    m = givens_decompose(np.zeros((0, 3, 3)))
    assert m.phases.shape == (0, 3) and givens_compose(m).shape == (0, 3, 3)


# --- layouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 12))
def test_clements_layout_is_tunable_capacity_n(n):
    clements = layout_pairs(n, "clements")
    tunable = tunable_layout(n, n)
    assert len(clements) == n
    assert all(np.array_equal(a, b) for a, b in zip(clements, tunable, strict=True))


@pytest.mark.parametrize("n", range(2, 12))
def test_reck_layout_depth_and_count(n):
    reck = layout_pairs(n, "reck")
    assert len(reck) == max(2 * n - 3, 1)
    assert sum(len(p) for p in reck) == n * (n - 1) // 2


@pytest.mark.parametrize("n", [1, 2, 3, 6, 7])
@pytest.mark.parametrize("capacity", [0, 1, 2, 5])
def test_tunable_phase_count(n, capacity):
    """⌈L/2⌉·⌊n/2⌋ + ⌊L/2⌋·⌊(n−1)/2⌋ phases (proved for symbolic n in proofs/eunn.py)."""
    count = sum(len(p) for p in tunable_layout(n, capacity))
    assert count == -(-capacity // 2) * (n // 2) + (capacity // 2) * ((n - 1) // 2)


def test_fft_layout_strides():
    layers = fft_layout(8)
    assert [int(p[0, 1] - p[0, 0]) for p in layers] == [1, 2, 4]
    for p in layers:
        assert sorted(p.ravel().tolist()) == list(range(8))  # every index rotated in every layer


def test_fft_rejects_non_power_of_two():
    with pytest.raises(OrthornnError, match="power of two"):
        fft_layout(6)
    with pytest.raises(OrthornnError, match="log2"):
        layout_pairs(8, "fft", capacity=2)


# --- compose and apply against the dense product ------------------------------------------


def random_mesh(n: int, layout: str, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> GivensMesh:
    pairs = layout_pairs(n, layout)
    P = sum(len(p) for p in pairs)
    signs = rng.choice([-1.0, 1.0], size=(*batch, n))
    return GivensMesh.from_layout(n, layout, rng.uniform(-np.pi, np.pi, size=(*batch, P)), signs)


@pytest.mark.parametrize(
    ("n", "layout"), [(1, "tunable"), (5, "tunable"), (6, "clements"), (7, "reck"), (8, "fft"), (1, "fft")]
)
def test_compose_equals_dense_product(n, layout, rng):
    m = random_mesh(n, layout, rng)
    np.testing.assert_allclose(givens_compose(m), dense_compose(m), atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize(("n", "layout"), [(1, "tunable"), (6, "tunable"), (7, "reck"), (8, "fft"), (5, "clements")])
def test_single_mesh_rot_path_equals_dense(n, layout, rng):
    """The BLAS row-rotation path used for one large mesh, run on small meshes (independent of the
    layer-wise path) against the dense product."""
    from orthornn.numeric.givens import _compose_one

    m = random_mesh(n, layout, rng)
    np.testing.assert_allclose(_compose_one(m), dense_compose(m), atol=ATOL["float64"], rtol=0)


def test_custom_irregular_pairs(rng):
    pairs = (np.array([[0, 3], [2, 1]]), np.array([[4, 0]]), np.array([[1, 4], [0, 2]]))
    m = GivensMesh(n=5, layout="custom", pairs=pairs, phases=rng.normal(size=5), signs=np.ones(5))
    np.testing.assert_allclose(givens_compose(m), dense_compose(m), atol=ATOL["float64"], rtol=0)


@given(n=dimensions(1, 9), layout=st.sampled_from(["tunable", "clements", "reck"]), seed=st.integers(0, 2**32 - 1))
def test_apply_equals_compose_matvec(n, layout, seed):
    rng = np.random.default_rng(seed)
    m = random_mesh(n, layout, rng, batch=(3,))
    x = rng.normal(size=(4, 3, n))
    u = givens_compose(m)
    y = apply_mesh(m, x)
    np.testing.assert_allclose(y, np.einsum("bij,abj->abi", u, x), atol=ATOL["float64"], rtol=0)
    np.testing.assert_allclose(apply_mesh(m, y, transpose=True), x, atol=ATOL["float64"], rtol=0)
    ortho = np.abs(np.swapaxes(u, -1, -2) @ u - np.eye(n)).max()
    assert ortho <= ORTHO_PER_N["float64"] * max(n, 1) * 10


# --- layer algebra (the numeric shadow of proofs/eunn.py) -----------------------------------


@given(n=dimensions(2, 11), seed=st.integers(0, 2**32 - 1), first=st.sampled_from([0, 1]))
def test_same_pairing_layers_add_phases(n, seed, first):
    rng = np.random.default_rng(seed)
    pairs = tunable_layout(n, 1, first)
    k = len(pairs[0])
    theta, phi = rng.uniform(-4, 4, size=(2, k))

    def layer(t):
        return givens_compose(GivensMesh(n=n, layout="custom", pairs=pairs, phases=t, signs=np.ones(n)))

    tol = ATOL["float64"]
    np.testing.assert_allclose(layer(theta) @ layer(phi), layer(theta + phi), atol=tol, rtol=0)
    np.testing.assert_allclose(layer(-theta), layer(theta).T, atol=tol, rtol=0)
    np.testing.assert_allclose(layer(theta) @ layer(-theta), np.eye(n), atol=tol, rtol=0)


@given(n=dimensions(2, 9), seed=st.integers(0, 2**32 - 1))
def test_forgetting_cancels_layers(n, seed):
    """RUM eq. (2): a memory mesh followed by the mirrored mesh with negated phases is I; negating
    only the last k phases' layers forgets exactly those layers."""
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 2 * n))
    pairs = tunable_layout(n, L)
    P = sum(len(p) for p in pairs)
    theta = rng.uniform(-np.pi, np.pi, P)
    memory = GivensMesh(n=n, layout="custom", pairs=pairs, phases=theta, signs=np.ones(n))
    forget = GivensMesh(
        n=n,
        layout="custom",
        pairs=pairs[::-1],
        phases=-np.concatenate([memory.layer_phases(l) for l in range(L)][::-1]),
        signs=np.ones(n),
    )
    np.testing.assert_allclose(givens_compose(forget) @ givens_compose(memory), np.eye(n), atol=ATOL["float64"], rtol=0)
    k = int(rng.integers(0, L + 1))  # forget the last k layers only
    partial = GivensMesh(
        n=n,
        layout="custom",
        pairs=pairs[L - k :][::-1],
        phases=-np.concatenate([np.zeros(0), *[memory.layer_phases(l) for l in range(L - k, L)][::-1]]),
        signs=np.ones(n),
    )
    kept = GivensMesh(
        n=n, layout="custom", pairs=pairs[: L - k], phases=theta[: memory.offsets[L - k]], signs=np.ones(n)
    )
    np.testing.assert_allclose(
        givens_compose(partial) @ givens_compose(memory), givens_compose(kept), atol=ATOL["float64"], rtol=0
    )


# --- rotation_phases: the phase-encoding view of a RUM memory --------------------------------


def test_rotation_phases_of_a_memory_sequence(rng):
    n, T = 6, 12
    a, b = rng.normal(size=(2, T, n))
    steps = orthornn.rotation(a, b)
    memory = [np.eye(n)]
    for t in range(T):
        memory.append(memory[-1] @ steps[t])
    memory = np.stack(memory[1:])
    phases = rotation_phases(memory)
    assert phases.shape == (T, n * (n - 1) // 2)
    rebuilt = givens_compose(GivensMesh.from_layout(n, "clements", phases))
    np.testing.assert_allclose(rebuilt, memory, atol=EUNN_ROUNDTRIP_PER_N["float64"] * n, rtol=0)


def test_rotation_phases_rejects_reflections():
    with pytest.raises(NotOrthogonalError, match="det"):
        rotation_phases(np.diag([1.0, 1.0, -1.0]))


# --- errors -------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(ShapeError, match="square"):
        givens_decompose(np.eye(3)[:2])
    with pytest.raises(ShapeError, match="dimension"):
        givens_decompose(np.ones(3))
    with pytest.raises(ShapeError, match="1×1"):
        givens_decompose(np.zeros((0, 0)))
    with pytest.raises(NotOrthogonalError, match=r"5\.25"):
        givens_decompose(np.diag([1.0, 2.5]))  # ‖MᵀM − I‖_max = 5.25, reported
    with pytest.raises(NotFiniteError, match="NaN"):
        givens_decompose(np.array([[np.nan, 0], [0, 1.0]]))
    with pytest.raises(NotFiniteError):
        givens_decompose(np.array([[np.inf, 0], [0, 1.0]]))
    with pytest.raises(OrthornnError, match="valid meshes"):
        givens_decompose(np.eye(3), mesh="triangle")
    with pytest.raises(OrthornnError, match="valid layouts"):
        layout_pairs(3, "hexagonal")
    with pytest.raises(OrthornnError, match="disjoint"):
        GivensMesh(n=3, layout="custom", pairs=(np.array([[0, 1], [1, 2]]),), phases=np.zeros(2), signs=np.ones(3))
    with pytest.raises(OrthornnError, match="outside"):
        GivensMesh(n=3, layout="custom", pairs=(np.array([[0, 3]]),), phases=np.zeros(1), signs=np.ones(3))
    with pytest.raises(ShapeError, match="phases"):
        GivensMesh.from_layout(3, "tunable", np.zeros(2))
    with pytest.raises(OrthornnError, match="±1"):
        GivensMesh.from_layout(2, "tunable", np.zeros(1), signs=[1.0, 0.5])
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\)"):
        apply_mesh(GivensMesh.from_layout(3, "tunable", np.zeros(3)), np.ones(4))
    with pytest.raises(OrthornnError, match="positive integer"):
        tunable_layout(0)


def test_defect_is_reported():
    u = np.eye(4)
    u[0, 1] = 1e-6
    with pytest.raises(NotOrthogonalError, match="1e-06"):
        givens_decompose(u)


def test_mesh_is_immutable(rng):
    m = givens_decompose(np.eye(3))
    with pytest.raises(ValueError, match="read-only"):
        m.phases[0] = 1.0
    with pytest.raises(AttributeError):
        m.n = 4  # type: ignore[misc]
    assert "GivensMesh(n=3" in repr(m)
