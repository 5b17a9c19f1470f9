"""The `eunn` theorem family and the exact Givens objects it is about.

* every theorem in proofs/eunn.py is proved (the file runs in well under 60 s);
* the exact decomposition in the proof detects a wrong mesh (the check can fail);
* the symbolic ``givens`` / ``layer`` are the specification of the numeric mesh: lambdified, they
  equal ``givens_compose`` under hypothesis; and the convention against ``sympy.rot_givens``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import ATOL, ORTHO_PER_N

from orthornn import GivensMesh, givens_compose, givens_decompose
from orthornn.numeric.givens import layout_pairs
from orthornn.symbolic import Derivation, Status, load_theorems
from orthornn.symbolic.givens import givens, layer, mesh, tunable_pairs

PROOFS = Path(__file__).resolve().parents[2] / "proofs" / "eunn.py"
THEOREMS = load_theorems(PROOFS)


def test_family_is_complete():
    assert {t.id for t in THEOREMS} == {
        "eunn.givens_convention",
        "eunn.direct_sum",
        "eunn.layer_group",
        "eunn.forgetting",
        "eunn.sign_moves",
        "eunn.counting",
        "eunn.schedule",
        "eunn.decomposition",
        "eunn.decomposition_4",
        "eunn.decomposition_general",
        "eunn.remainder_identity",
    }


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_theorem_is_proved(thm):
    result = thm.run()
    assert result.status is Status.PROVED, (result.message, result.checks)


def test_a_wrong_mesh_fails_the_exact_check():
    """The composition check of eunn.decomposition is not vacuous: a mesh with one rotation's
    sine negated (the sympy.rot_givens convention) is exactly refuted."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("proofs_eunn", PROOFS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    U = mod.cayley(3, [sp.Rational(1, 2), -2, sp.Rational(1, 3)])
    _, layers = mod.exact_decompose(U, "clements")
    d = Derivation()
    assert d.equal(mesh(layers), U, "right") is Status.PROVED
    assert d.equal(mesh([lam.T if k == 1 else lam for k, lam in enumerate(layers)]), U, "wrong") is Status.FAILED


def _proof_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("proofs_eunn", PROOFS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_wrong_phase_fails_the_symbolic_round_trip():
    """The symbolic round trip (half-angle phases) refutes a mesh with one phase's sine negated."""
    mod = _proof_module()
    t = list(sp.symbols("t1:4", positive=True))
    U = mod.half_angle_mesh(3, "clements", t, [1, -1, 1])
    _, phases, signs = mod.exact_givens_decompose(U, "clements")
    d = Derivation()
    assert d.equal(mod._product(mod._mesh_layers(phases, "clements", 3), signs), U, "right") is Status.PROVED
    wrong = [-p if k == 1 else p for k, p in enumerate(phases)]
    assert d.equal(mod._product(mod._mesh_layers(wrong, "clements", 3), signs), U, "wrong") is Status.FAILED


def test_assembly_lemma_detects_a_missing_sign_flip():
    """Lemma C of eunn.decomposition_general is not vacuous: placing the left rotations without the
    d_p d_{p+1} flip (G(θ)ᵀ D = D G(−θ), wrong when d_p ≠ d_{p+1}) is exactly refuted."""
    mod = _proof_module()
    d = Derivation()
    placed, product = mod.assembly_sides(3, "clements", [1, -1, 1])
    assert d.equal(placed, product, "right") is Status.PROVED
    placed, product = mod.assembly_sides(3, "clements", [1, -1, 1], placement_signs=[1, 1, 1])
    assert d.equal(placed, product, "wrong") is Status.FAILED


def test_last_touch_bookkeeping_is_not_vacuous():
    """remainder_identity rests on last_touch: it does find non-partner diagonal entries (the
    check len(others) <= 1 can fail), and the numeric remainder agrees with the conclusion."""
    from orthornn.numeric.eunn import _null_all, schedule

    mod = _proof_module()
    assert mod.last_touch(3, "clements")[(2, 2)] == "mixed"
    assert mod.last_touch(4, "reck").get((0, 0)) != "partner"
    assert all(mod.last_touch(4, "reck")[(k, k)] == "partner" for k in range(1, 4))
    rng = np.random.default_rng(3)
    for n in (3, 4, 5):
        q, _ = np.linalg.qr(rng.normal(size=(8, n, n)))
        q[:, 0, :] *= np.sign(np.linalg.det(q))[:, None]  # the det flip
        for name in ("clements", "reck"):
            a = q.copy()
            _null_all(a, schedule(n, name))
            np.testing.assert_allclose(a, np.broadcast_to(np.eye(n), a.shape), atol=ORTHO_PER_N["float64"] * n, rtol=0)


def test_exact_decomposition_matches_numeric_phases():
    """The exact pipeline of the proof is the implemented one: its (cos, sin) are those of the
    numeric phases of givens_decompose, on a rational rotation and on degenerate inputs."""
    mod = _proof_module()
    cases = [
        mod.cayley(4, [sp.Rational(1, 2), -2, sp.Rational(1, 3), 3, sp.Rational(-2, 5), 1]),
        sp.diag(-1, 1, 1) * mod.cayley(3, [sp.Rational(1, 3), 2, sp.Rational(-3, 4)]),
        -sp.eye(4),
        sp.Matrix(4, 4, lambda a, b: 1 if b == (a + 1) % 4 else 0),
    ]
    for U in cases:
        for name in ("clements", "reck"):
            _, phases, signs = mod.exact_givens_decompose(U, name)
            m = givens_decompose(np.array(U.evalf(), dtype=float), name)
            np.testing.assert_allclose([float(p.c) for p in phases], np.cos(m.phases), atol=ATOL["float64"], rtol=0)
            np.testing.assert_allclose([float(p.s) for p in phases], np.sin(m.phases), atol=ATOL["float64"], rtol=0)
            np.testing.assert_array_equal(signs, m.signs)


def test_exact_phase_runs_the_implemented_sign_absorption():
    """ExactPhase interprets the three moves of _absorb_signs exactly (same result as the floats)
    and refuses any other change of phase."""
    from orthornn.numeric.eunn import _absorb_signs

    mod = _proof_module()
    rng = np.random.default_rng(0)
    for n in (3, 4, 5):
        P = n * (n - 1) // 2
        for signs in (
            [-1.0, -1.0] + [1.0] * (n - 2),
            [1.0] * (n - 2) + [-1.0, -1.0],
            [-1.0, 1.0] * (n // 2) + [1.0] * (n % 2),
        ):
            if sum(s < 0 for s in signs) % 2:
                continue
            floats = rng.uniform(-np.pi, np.pi, P)
            exact = np.empty(P, dtype=object)
            exact[:] = [mod.ExactPhase(sp.cos(v), sp.sin(v)) for v in floats]
            done_f = _absorb_signs(n, "clements", floats, np.array(signs))
            done_e = _absorb_signs(n, "clements", exact, np.array(signs))
            assert done_f and done_e
            np.testing.assert_allclose([float(p.c) for p in exact], np.cos(floats), atol=ATOL["float64"], rtol=0)
            np.testing.assert_allclose([float(p.s) for p in exact], np.sin(floats), atol=ATOL["float64"], rtol=0)
    with pytest.raises(TypeError, match="only"):
        mod.ExactPhase(sp.Integer(1), sp.Integer(0)) + 0.5


def test_rot_givens_is_the_transpose():
    t = sp.Symbol("t", real=True)
    assert sp.rot_givens(0, 2, t, 3) == givens(0, 2, t, 3).T
    assert givens(0, 2, t, 3)[2, 0] == sp.sin(t)


@settings(max_examples=20)
@given(
    n=st.integers(1, 5),
    layout=st.sampled_from(["tunable", "clements", "reck"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_symbolic_mesh_is_the_numeric_mesh(n, layout, seed):
    rng = np.random.default_rng(seed)
    pairs = layout_pairs(n, layout)
    P = sum(len(p) for p in pairs)
    values = rng.uniform(-np.pi, np.pi, P)
    signs = rng.choice([-1, 1], size=n)
    syms = sp.symbols(f"t0:{P}", real=True) if P else ()
    layers, k = [], 0
    for p in pairs:
        layers.append(layer([tuple(map(int, q)) for q in p], list(syms[k : k + len(p)]), n))
        k += len(p)
    exact = mesh(layers, [int(s) for s in signs])
    f = sp.lambdify([syms], exact, "numpy")
    numeric = givens_compose(GivensMesh.from_layout(n, layout, values, signs.astype(float)))
    np.testing.assert_allclose(np.asarray(f(values), dtype=float), numeric, atol=ATOL["float64"], rtol=0)


def test_tunable_pairs_match_numeric_layout():
    for n in range(1, 9):
        for first in (0, 1):
            numeric = layout_pairs(n, "tunable", capacity=2)[first]
            assert [tuple(map(int, q)) for q in numeric] == tunable_pairs(n, first)


def test_layer_rejects_overlapping_pairs():
    with pytest.raises(ValueError, match="disjoint"):
        layer([(0, 1), (1, 2)], [0, 0], 3)
    with pytest.raises(ValueError, match="distinct"):
        givens(1, 1, 0, 3)
