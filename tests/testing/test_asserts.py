"""Regression tests for the defects of orthornn.testing found by using it as a new user would
(issue 16): float32 bounds of skew_symmetric_matrices, float16/bfloat16/complex/empty input of
assert_orthogonal, a default tolerance that scales with the problem, messages in eps without
"batch index ()", pytest hiding the helper's frames; and assert_semi_orthogonal / assert_skew."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import orthornn.testing as ot
from orthornn.testing import (
    assert_orthogonal,
    assert_semi_orthogonal,
    assert_skew,
    haar_orthogonal,
    nearly_orthogonal,
    orthogonality_tolerance,
    skew_symmetric_matrices,
)


@pytest.mark.parametrize("max_abs", [0.1, 0.05, math.pi, 1e-3])
@settings(max_examples=20)
@given(data=st.data())
def test_skew_float32_bounds_need_not_be_float32_numbers(max_abs, data):
    A = data.draw(skew_symmetric_matrices(4, dtype=np.float32, max_abs=max_abs))  # raised InvalidArgument
    assert A.dtype == np.float32 and np.abs(A).max() <= max_abs and np.array_equal(A, -A.T)


def test_float16_and_bfloat16_get_their_own_tolerance():
    q = haar_orthogonal(8, 0)
    assert_orthogonal(q.astype(np.float16))  # rounding to float16 (≈5e-4) used to fail the float64 tolerance
    assert_orthogonal(torch.from_numpy(q).to(torch.bfloat16))
    assert_orthogonal(torch.from_numpy(q).half())
    with pytest.raises(AssertionError, match=r"float16\)"):
        assert_orthogonal((1.05 * q).astype(np.float16))
    assert orthogonality_tolerance(4, torch.bfloat16) == 32 * 2 * 2.0**-7
    assert orthogonality_tolerance(4, "float16") == 32 * 2 * float(np.finfo(np.float16).eps)


def test_complex_input_gets_a_unitary_check():
    with pytest.raises(AssertionError, match="not unitary"):
        assert_orthogonal(np.eye(3) + 1j * np.ones((3, 3)))  # passed before, with a ComplexWarning
    u = np.linalg.qr(
        np.random.default_rng(0).standard_normal((4, 4)) + 1j * np.random.default_rng(1).standard_normal((4, 4))
    )[0]
    assert_orthogonal(u)
    assert_orthogonal(torch.from_numpy(u).to(torch.complex64))
    with pytest.raises(ValueError, match="special=True applies to real matrices"):
        assert_orthogonal(u, special=True)


def test_empty_batches_pass():
    assert_orthogonal(np.zeros((0, 3, 3)))  # raised from argmax
    assert_orthogonal(np.zeros((2, 0, 0)), special=True)
    assert_semi_orthogonal(np.zeros((0, 4, 2)))
    assert_skew(np.zeros((0, 3, 3)))


def test_messages_state_eps_and_no_empty_batch_index():
    with pytest.raises(AssertionError) as err:
        assert_orthogonal(1.001 * np.eye(2))
    msg = str(err.value)
    assert "batch index" not in msg and "eps) > atol" in msg and "(n = 2, float64)" in msg
    with pytest.raises(AssertionError, match=r"det M = -1 ≤ 0 \(a reflection\) \(n = 2"):
        assert_orthogonal(np.diag([1.0, -1.0]), special=True)
    with pytest.raises(AssertionError, match=r"at batch index \(1, 0\)"):
        assert_orthogonal(np.stack([np.eye(2)[None], 1.001 * np.eye(2)[None]]))


def test_default_tolerance_scales_with_the_problem():
    # a float32 matrix accurate to rounding passes at every size; a real loss of 1e-4 fails
    # (the old default, 1e3·n·eps = 7.6e-3 at n = 64, let it through)
    for n in (2, 16, 64, 256):
        assert_orthogonal(haar_orthogonal(n, n).astype(np.float32))
    with pytest.raises(AssertionError):
        assert_orthogonal(nearly_orthogonal(64, 0, 1e-4).astype(np.float32))
    assert orthogonality_tolerance(64, np.float32) == pytest.approx(32 * 8 * 1.1920929e-7)
    assert orthogonality_tolerance(64, np.float32, scale=10) == pytest.approx(
        10 * orthogonality_tolerance(64, np.float32)
    )
    assert_orthogonal(nearly_orthogonal(64, 0, 1e-4).astype(np.float32), scale=100)  # declared work


def test_the_tolerance_is_public():
    assert ot.orthogonality_tolerance is orthogonality_tolerance and "orthogonality_tolerance" in ot.__all__


def test_pytest_hides_the_helpers_frames(tmp_path):
    test = tmp_path / "test_user.py"
    test.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from orthornn.testing import assert_orthogonal

            def test_user():
                assert_orthogonal(1.01 * np.eye(3))
            """
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 1 and "not orthogonal" in out.stdout
    assert "_report(" not in out.stdout and "_asserts.py" not in out.stdout  # no helper source printed


def test_semi_orthogonal_both_orientations():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 3)))[0]
    assert_semi_orthogonal(q)
    assert_semi_orthogonal(q.T)
    assert_semi_orthogonal(torch.from_numpy(q).float().requires_grad_(True))
    with pytest.raises(AssertionError, match="columns not orthonormal"):
        assert_semi_orthogonal(q * np.array([1.0, 1.0, 1.001]))
    with pytest.raises(AssertionError, match="rows not orthonormal"):
        assert_semi_orthogonal(np.ones((2, 5)))
    with pytest.raises(AssertionError, match=r"shape \(3,\)"):
        assert_semi_orthogonal(np.ones(3))


def test_assert_skew():
    a = np.random.default_rng(0).standard_normal((2, 4, 4))
    k = a - np.swapaxes(a, -1, -2)
    assert_skew(k)
    assert_skew(torch.from_numpy(k).float())
    with pytest.raises(AssertionError, match=r"not skew: .* at batch index \(1,\)"):
        assert_skew(k + np.array([0.0, 1e-6])[:, None, None] * np.eye(4))
    assert_skew(k + 1e-12 * np.eye(4), atol=1e-11)
    with pytest.raises(AssertionError, match=r"not skew: ‖A \+ Aᴴ‖"):
        assert_skew(np.array([[1j, 0], [0, 0]]) + 1.0)
    assert_skew(np.array([[1j, 2.0], [-2.0, 0.0]]))  # skew-Hermitian
