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
from tolerances import ATOL

from orthornn import GivensMesh, givens_compose
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
