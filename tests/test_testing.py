"""Tests of the public testing helpers: the strategies draw what they promise, assert_orthogonal
passes on orthogonal matrices and fails (with the defect in the message) on others."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import find, given
from hypothesis import strategies as st

from orthornn.testing import (
    PAIR_KINDS,
    angles,
    assert_orthogonal,
    dimensions,
    haar_orthogonal,
    orthogonal_matrices,
    skew_symmetric_matrices,
    special_orthogonal_matrices,
    unit_vectors,
    vector_pairs,
    vectors,
)

DTYPES = [np.float64, np.float32]


def cos_sin(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a = a.astype(np.float64) / np.abs(a).max()
    b = b.astype(np.float64) / np.abs(b).max()
    ah, bh = a / np.linalg.norm(a), b / np.linalg.norm(b)
    # sin θ = ‖â ∧ b̂‖ (not ‖b̂ − c â‖: a rounded |c| > 1 would add |c| − 1 to an exact zero)
    wedge = np.outer(ah, bh) - np.outer(bh, ah)
    return float(ah @ bh), float(np.linalg.norm(wedge) / np.sqrt(2))


@given(dimensions(2, 9))
def test_dimensions(n):
    assert isinstance(n, int) and 2 <= n <= 9


@given(angles())
def test_angles_lie_in_the_principal_interval(t):
    assert -math.pi < t <= math.pi


def test_angles_reach_the_branch_points():
    assert find(angles(), lambda t: t == math.pi) == math.pi
    assert abs(find(angles(), lambda t: 0 < math.pi - t < 1e-6) - math.pi) < 1e-6
    assert find(angles(0.0, 1.0, exclude_min=False), lambda t: t == 0.0) == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_vectors(dtype, data):
    x = data.draw(vectors(dimensions(1, 12), dtype=dtype))
    assert x.dtype == dtype and x.ndim == 1 and 1 <= x.size <= 12
    assert np.isfinite(x).all() and np.abs(x).max() > 0


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_unit_vectors(dtype, data):
    u = data.draw(unit_vectors(dimensions(1, 12), dtype=dtype))
    assert u.dtype == dtype
    assert abs(np.linalg.norm(u.astype(np.float64)) - 1) <= 4 * np.finfo(dtype).eps


def _check_kind(kind: str, a: np.ndarray, b: np.ndarray) -> None:
    eps = np.finfo(a.dtype).eps
    assert a.shape == b.shape and np.abs(a).max() > 0 and np.abs(b).max() > 0
    c, s = cos_sin(a, b)
    if kind == "generic":
        assert math.cos(math.pi - 0.1) - 1e-6 <= c <= math.cos(0.1) + 1e-6
    elif kind == "nearly_collinear":
        assert c >= math.cos(0.1) - 1e-6 and s <= 0.1 + 1e-6
    elif kind == "nearly_antiparallel":
        assert c <= -math.cos(0.1) + 1e-6 and s <= 0.1 + 1e-6
    elif kind == "parallel":
        assert c > 0 and s <= 4 * eps
    elif kind == "antiparallel":
        assert c < 0 and s <= 4 * eps


@pytest.mark.parametrize("kind", PAIR_KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_vector_pairs_have_their_kind(kind, dtype, data):
    a, b = data.draw(vector_pairs(dimensions(2, 10), kind, dtype=dtype))
    assert a.dtype == b.dtype == dtype
    _check_kind(kind, a, b)


def test_nearly_collinear_pairs_reach_1e_minus_16():
    a, b = find(vector_pairs(3, "nearly_collinear"), lambda p: 0 < 1 - cos_sin(*p)[0] < 1e-15)
    assert cos_sin(a, b)[1] > 0  # still not exactly parallel: the sine is resolved
    a, b = find(vector_pairs(3, "nearly_antiparallel"), lambda p: 1 + cos_sin(*p)[0] < 1e-15)
    assert cos_sin(a, b)[1] > 0


def test_vector_pairs_any_covers_every_kind():
    for kind in ("parallel", "antiparallel", "nearly_collinear", "nearly_antiparallel"):
        find(vector_pairs(4, "any"), lambda p, kind=kind: _is(kind, *p))


def _is(kind: str, a: np.ndarray, b: np.ndarray) -> bool:
    c, s = cos_sin(a, b)
    return {
        "parallel": c > 0 and s == 0,
        "antiparallel": c < 0 and s == 0,
        "nearly_collinear": 0 < s < 1e-6 and c > 0,
        "nearly_antiparallel": 0 < s < 1e-6 and c < 0,
    }[kind]


def test_vector_pairs_reject_bad_arguments():
    with pytest.raises(ValueError, match="valid kinds: any, generic"):
        vector_pairs(3, "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float32 or float64"):
        vector_pairs(3, dtype=np.int64)
    with pytest.raises(ValueError, match="n ≥ 2"):
        find(vector_pairs(1, "generic"), lambda p: True)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_orthogonal_and_special_orthogonal_matrices(dtype, data):
    n = data.draw(dimensions(1, 16))
    q = data.draw(orthogonal_matrices(n, dtype=dtype))
    assert q.dtype == dtype and q.shape == (n, n)
    assert_orthogonal(q)
    r = data.draw(special_orthogonal_matrices(n, dtype=dtype))
    assert_orthogonal(r, special=True)
    assert abs(np.linalg.det(r.astype(np.float64)) - 1) < 1e-3


def test_orthogonal_matrices_take_both_determinants():
    assert np.linalg.det(find(orthogonal_matrices(3), lambda q: np.linalg.det(q) < 0)) == pytest.approx(-1)
    assert np.linalg.det(find(orthogonal_matrices(3), lambda q: np.linalg.det(q) > 0)) == pytest.approx(1)


def test_haar_moments():
    # Haar measure on O(3): E[Q] = 0, E[Q_ij²] = 1/3, E[tr Q] = 0, E[(tr Q)²] = 1. An unsigned
    # QR (no sign fix) is not Haar and fails the first and third of these.
    qs = np.stack([haar_orthogonal(3, seed) for seed in range(4000)])
    tr = np.trace(qs, axis1=1, axis2=2)
    assert np.abs(qs.mean(0)).max() < 0.04
    assert np.abs((qs**2).mean(0) - 1 / 3).max() < 0.04
    assert abs(tr.mean()) < 0.06 and abs((tr**2).mean() - 1) < 0.1


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_skew_symmetric_matrices(dtype, data):
    A = data.draw(skew_symmetric_matrices(dimensions(1, 10), dtype=dtype, max_abs=2.0))
    assert A.dtype == dtype
    assert np.array_equal(A, -A.T) and np.abs(A).max(initial=0) <= 2.0


def test_assert_orthogonal_passes_on_rotations_and_batches():
    t = 0.3
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    assert_orthogonal(R, special=True)
    assert_orthogonal(np.stack([R, R.T, np.eye(2)]), special=True)
    assert_orthogonal(np.diag([1.0, -1.0]))  # orthogonal, though not special


def test_assert_orthogonal_fails_on_non_orthogonal_matrices():
    with pytest.raises(AssertionError, match=r"‖MᵀM − I‖_max = 0\.0201 \(9\.05e\+13 eps\) > atol"):
        assert_orthogonal(1.01 * np.eye(3))
    with pytest.raises(AssertionError, match="not orthogonal"):
        assert_orthogonal(np.diag([1.0, 1.0, 0.0]))  # a projection
    with pytest.raises(AssertionError, match=r"batch index \(1,\)"):
        assert_orthogonal(np.stack([np.eye(2), np.array([[1.0, 1e-6], [0.0, 1.0]])]))
    assert_orthogonal(np.array([[1.0, 1e-6], [0.0, 1.0]]), atol=1e-5)  # atol is respected
    with pytest.raises(AssertionError, match=r"det M = -1 ≤ 0 \(a reflection\)"):
        assert_orthogonal(np.diag([1.0, 1.0, -1.0]), special=True)
    with pytest.raises(AssertionError, match=r"shape \(2, 3\)"):
        assert_orthogonal(np.ones((2, 3)))
    with pytest.raises(AssertionError, match="NaN or inf"):
        assert_orthogonal(np.array([[1.0, 0.0], [0.0, np.nan]]))


def test_assert_orthogonal_accepts_torch_tensors():
    q = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)))[0]
    assert_orthogonal(q.requires_grad_(True))
    assert_orthogonal(q.detach().float())
    with pytest.raises(AssertionError, match="not orthogonal"):
        assert_orthogonal(2 * q.detach())


def test_float32_tolerance_is_the_dtype_default():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((8, 8)))[0].astype(np.float32)
    assert_orthogonal(q)  # float32 rounding (≈1e-7) is inside 1e3·n·eps(float32)
    with pytest.raises(AssertionError):
        assert_orthogonal(q.astype(np.float64) + 1e-9, atol=1e-12)


def test_importing_the_testing_module_does_not_import_torch():
    code = "import sys, orthornn.testing; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)  # (tests/test_import.py shows such a check can fail)
