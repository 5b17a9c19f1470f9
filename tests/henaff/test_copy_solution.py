"""The explicit copy solution: structure, the copy oracle, the counter, the trace, the closed form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tolerances import ATOL, ORTHO_PER_N, ROLLOUT_PER_STEP

from orthornn.errors import OrthornnError, ShapeError
from orthornn.henaff import (
    clock_matrix,
    copy_solution,
    copy_solution_from,
    copy_trials,
    copy_trials_forward,
    ltrnn_forward,
    recall_scores,
    sample_clock,
    sample_sphere_columns,
)
from orthornn.tasks import CopyTask, VariableCopyTask


def test_parameters_are_the_papers():
    K, S, T, d = 5, 3, 11, 4
    sol = copy_solution(K, S, T, d, rng=0)
    U, V, W = sol  # unpacks as the (U, V, W)
    n = 2 * d + 1
    assert U.shape == (n, K + 2) and V.shape == (n, n) and W.shape == (K + 2, n)
    assert np.array_equal(U[: 2 * d, :K], sol.Utilde) and not U[: 2 * d, K:].any()
    assert np.array_equal(U[-1], np.r_[np.full(K, -1 / S), -1.0, T + S + 1])
    assert np.array_equal(W[:K, : 2 * d], sol.Utilde.T) and not W[:K, -1].any()
    assert np.array_equal(W[K], np.r_[np.zeros(2 * d), -(S + 1)]) and not W[K + 1].any()
    assert V[-1, -1] == 1 and not V[-1, :-1].any() and not V[:-1, -1].any()
    assert ((sol.l >= 1) & (sol.l <= T + S)).all()
    assert np.allclose(np.linalg.norm(sol.Utilde, axis=0), 1, atol=ATOL["float64"])
    for j, lj in enumerate(sol.l):
        a = 2 * np.pi * lj / (T + S)
        block = V[2 * j : 2 * j + 2, 2 * j : 2 * j + 2]
        assert np.allclose(block, [[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]], atol=ATOL["float64"])
    assert np.abs(V.T @ V - np.eye(n)).max() <= ORTHO_PER_N["float64"] * n
    assert np.allclose(np.linalg.matrix_power(V, T + S), np.eye(n), atol=ROLLOUT_PER_STEP["float64"] * (T + S))
    assert sol.K == K and sol.d == d


@given(st.integers(1, 40), st.integers(1, 3), st.integers(2, 10), st.integers(0, 2**32 - 1))
def test_the_solution_copies(T, S, K, seed):
    """Large d, few symbols: the construction is an oracle for the task and the forward pass."""
    task = CopyTask(T, S, K)
    x, y = task.sample(8, rng=seed)
    U, V, W = copy_solution(K, S, T, d=256, rng=seed + 1)
    out = ltrnn_forward(x, U, V, W).outputs
    pred = out.argmax(axis=-1)
    acc = task.accuracy(pred, y)
    assert acc.recall == 1.0 and acc.success == 1.0
    assert (pred[:, : T + S - 1] == task.blank).all()  # blank before the delimiter, every draw
    assert (pred[:, T + S - 1] != task.blank).all()  # … and never at the delimiter step
    assert acc.blank == pytest.approx((T + S - 1) / (T + S))


@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_counter_and_trace(T, S, seed):
    """The last unit and the symbol part follow the proofs (proofs/henaff.py) step by step."""
    K, d = 4, 3
    sol = copy_solution(K, S, T, d, rng=seed)
    x, _ = CopyTask(T, S, K).sample(2, rng=seed + 1)
    h = ltrnn_forward(x, sol.U, sol.V, sol.W, return_hidden=True).hidden
    steps = np.arange(1, T + 2 * S + 1)
    counter = np.where(steps <= S, -steps / S, np.where(steps < T + S, -(1 + steps - S), S + 1 - (steps - T - S)))
    tol = ROLLOUT_PER_STEP["float64"] * (T + 2 * S)
    assert np.allclose(h[..., -1], counter, atol=tol, rtol=0)
    Q = clock_matrix(sol.l, T + S)
    u = sol.Utilde[:, x[:, :S]]  # (2d, batch, S)
    for k in range(1, S + 1):
        exact = sum(np.linalg.matrix_power(Q.T, j - k) @ u[:, :, j - 1] for j in range(1, S + 1))  # Q^(k-j)
        assert np.allclose(h[:, T + S + k - 1, :-1], exact.T, atol=tol, rtol=0)
    after_inputs = sum(np.linalg.matrix_power(Q, S - j) @ u[:, :, j - 1] for j in range(1, S + 1))
    assert np.allclose(h[:, S - 1, :-1], after_inputs.T, atol=tol, rtol=0)


@given(st.integers(1, 30), st.integers(1, 8), st.integers(2, 6), st.integers(1, 16), st.integers(0, 2**32 - 1))
def test_closed_form_scores_match_the_step_by_step_forward(T, S, K, d, seed):
    g = np.random.default_rng(seed)
    B = 3
    l = sample_clock(d, T + S, g, size=(B,))
    Ut = sample_sphere_columns(2 * d, K, g, size=(B,))
    sol = copy_solution_from(l, Ut, S, T)
    x, _ = CopyTask(T, S, K).sample(B, rng=g)
    steps = ltrnn_forward(x, sol.U, sol.V, sol.W).outputs[:, T + S :]
    closed = recall_scores(l, Ut, x[:, :S], S, T)
    assert np.allclose(closed, steps, atol=ROLLOUT_PER_STEP["float64"] * (T + 2 * S), rtol=0)


def test_closed_form_trials_are_the_step_by_step_trials():
    """Same seed, same draws: the vectorised success and recall equal the honest ones."""
    args = dict(K=8, S=8, T=60, d=32, trials=60)
    fast = copy_trials(**args, rng=3)
    slow = copy_trials_forward(**args, rng=3, chunk=25)
    assert 0.0 < fast.success < 1.0  # a regime where trials differ, so agreement means something
    assert (fast.success, fast.recall) == (slow.success, slow.recall)
    assert slow.blank_before_delimiter == 1.0 and slow.blank_at_delimiter == 0.0


def test_success_falls_with_S_and_K():
    """The trend of the paper's Figure 1, on settings far enough apart to be certain."""
    easy = copy_trials(K=2, S=5, T=200, d=64, trials=300, rng=0).success
    long_ = copy_trials(K=2, S=30, T=200, d=64, trials=300, rng=1).success
    wide = copy_trials(K=64, S=30, T=200, d=64, trials=300, rng=2).success
    assert easy > long_ > wide


def test_the_fixed_solution_does_not_solve_variable_copy():
    """No bounded LT-RNN solution is known for variable copy; the fixed-time one recalls at chance."""
    T, S, K = 20, 3, 4
    task = VariableCopyTask(T, S, K)
    x, y = task.sample(200, rng=0)
    U, V, W = copy_solution(K, S, T, d=256, rng=1)
    acc = task.accuracy(ltrnn_forward(x, U, V, W).outputs, y)
    assert acc.success < 0.2


def test_clock_matrix_batched_and_errors():
    l = np.array([[1, 2], [3, 7]])
    Q = clock_matrix(l, 7)
    assert Q.shape == (2, 4, 4)
    assert np.allclose(Q[1, 2:, 2:], np.eye(2), atol=ATOL["float64"])  # l = period: a still block
    with pytest.raises(OrthornnError, match="integer"):
        clock_matrix(np.array([1.5]), 7)
    with pytest.raises(ShapeError):
        copy_solution_from([1, 2], np.eye(3), S=1, T=1)
    with pytest.raises(OrthornnError, match=r"^K must"):
        copy_solution(1, 2, 3, 4)
    with pytest.raises(OrthornnError, match=r"^d must"):
        copy_solution(4, 2, 3, 0)
    with pytest.raises(OrthornnError, match="symbols"):
        recall_scores(np.ones((1, 2), dtype=int), np.ones((1, 4, 3)), np.array([[3]]), 1, 5)
    with pytest.raises(OrthornnError, match="integer arrays"):
        recall_scores(np.ones((1, 2)), np.ones((1, 4, 3)), np.array([[0]]), 1, 5)
