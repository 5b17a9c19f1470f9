"""Smoke test of the secular eigen-update prototype (analysis/spectral_update): on generic
rotation angles it must keep reproducing the dense reference step, from R_0 = I (full
deflation), from repeated angles, and for odd n (a root forced onto a pole)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

STUDY = Path(__file__).resolve().parents[2] / "analysis" / "spectral_update"


def _load(name):
    """A script of the study as a module (its folder on sys.path while it imports its siblings)."""
    sys.path.insert(0, str(STUDY))
    try:
        spec = importlib.util.spec_from_file_location(f"spectral_update_{name}", STUDY / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(STUDY))
    return mod


def _stress():
    return _load("stress")


@pytest.mark.parametrize(
    ("n", "lam", "init"),
    [(3, 0.5, "identity"), (8, 0.25, "identity"), (7, -0.5, "repeated 1.1"), (10, 0.75, "two clusters")],
)
def test_generic_angles_match_the_dense_reference_step(n, lam, init):
    stress = _stress()
    step_err, orth = stress.run(n, lam, "uniform", init, 15, np.random.default_rng(n))
    assert step_err < 1e-9
    assert orth < 1e-10


def test_the_secular_roots_of_identity_start_are_plus_minus_theta():
    sys.path.insert(0, str(STUDY))
    try:
        from secular import update
    finally:
        sys.path.remove(str(STUDY))
    n, th = 6, 1.2
    rng = np.random.default_rng(0)
    Y, _ = np.linalg.qr(rng.standard_normal((n, 2)) + 1j * rng.standard_normal((n, 2)))
    omega, X = update(np.zeros(n), Y, th)
    assert np.allclose(np.sort(omega), np.sort(np.r_[np.zeros(n - 2), -th, th]), atol=1e-14)
    np.testing.assert_allclose(X.conj().T @ X, np.eye(n), atol=1e-13)


def _adjoint():
    return _load("adjoint")


@pytest.mark.parametrize(("n", "lam", "start"), [(5, 0.5, "identity"), (6, -0.5, "haar"), (7, 1.5, "haar")])
def test_the_spectral_backward_equals_autograd_through_so_power(n, lam, start):
    errs = _adjoint().case(n, 8, lam, np.random.default_rng(n), start)
    assert max(errs.values()) < 1e-9, errs


@pytest.mark.parametrize(
    ("n", "lam", "theta", "init"),
    [
        (5, 0.5, "π", "identity"),
        (8, -0.5, "near π", "two clusters"),
        (9, 1.5, "tiny", "repeated 1.1"),
        (6, 0.25, "uniform", "π − 1e-6"),
    ],
)
def test_the_real_schur_form_matches_the_reference_at_the_hard_angles(n, lam, theta, init):
    step_err, orth = _stress().run_real(n, lam, theta, init, 12, np.random.default_rng(n))
    assert step_err < 1e-9
    assert orth < 1e-12
