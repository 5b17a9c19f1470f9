"""The Figure 1 grid and the cross-talk statistic."""

from __future__ import annotations

import numpy as np
import pytest

from orthornn.errors import OrthornnError
from orthornn.henaff import copy_trials, crosstalk, crosstalk_expectation, figure1


def test_figure1_grid_shape_range_and_reproducibility():
    f = figure1([2, 8, 32], [2, 10, 30], T=80, d=32, trials=100, seed=4)
    assert f.success.shape == f.recall.shape == (3, 3)
    assert ((0 <= f.success) & (f.success <= f.recall) & (f.recall <= 1)).all()
    assert (f.K_values, f.S_values, f.T, f.d, f.trials) == ((2, 8, 32), (2, 10, 30), 80, 32, 100)
    again = figure1([2, 8, 32], [2, 10, 30], T=80, d=32, trials=100, seed=4)
    assert np.array_equal(f.success, again.success)
    assert f.success[0, 0] == 1.0 and f.success[-1, -1] == 0.0
    assert (np.diff(f.success[:, -1]) <= 0).all() and (np.diff(f.success[-1]) <= 0).all()


def test_figure1_cell_is_copy_trials_on_its_stream():
    f = figure1([4], [6], T=50, d=16, trials=80, seed=7)
    (stream,) = np.random.SeedSequence(7).spawn(1)
    r = copy_trials(4, 6, 50, 16, 80, np.random.default_rng(stream))
    assert (f.success[0, 0], f.recall[0, 0]) == (r.success, r.recall)


@pytest.mark.parametrize("S", [2, 6])
def test_crosstalk_matches_its_exact_mean(S):
    c = crosstalk(S, K=4, T=100, d=32, trials=6000, rng=S)
    assert abs(c.measured - c.exact) < 4 * c.stderr
    assert c.paper == (S - 1) / 32 and c.exact < c.paper


def test_crosstalk_exact_mean_by_an_independent_monte_carlo():
    """Direct dense computation: u_i1 . sum_j Q^(1-j) u_ij with explicit matrix powers."""
    g = np.random.default_rng(0)
    S, K, T, d, n = 4, 3, 20, 6, 4000
    vals = np.empty(n)
    for t in range(n):
        l = g.integers(1, T + S + 1, size=d)
        u = g.normal(size=(2 * d, K))
        u /= np.linalg.norm(u, axis=0)
        sym = g.integers(0, K, size=S)
        a = 2 * np.pi * l / (T + S)
        Q = np.zeros((2 * d, 2 * d))
        for b in range(d):
            Q[2 * b : 2 * b + 2, 2 * b : 2 * b + 2] = [[np.cos(a[b]), np.sin(a[b])], [-np.sin(a[b]), np.cos(a[b])]]
        Qinv = Q.T
        vals[t] = u[:, sym[0]] @ sum(np.linalg.matrix_power(Qinv, j - 1) @ u[:, sym[j - 1]] for j in range(2, S + 1))
    x2 = vals**2
    assert abs(x2.mean() - crosstalk_expectation(S, K, d, T)) < 4 * x2.std() / np.sqrt(n)


def test_crosstalk_expectation_domain():
    assert crosstalk_expectation(1, 8, 128, 500) == 0.0
    with pytest.raises(OrthornnError, match="2\\(S-1\\) < T\\+S"):
        crosstalk_expectation(S=12, K=2, d=4, T=10)
    with pytest.raises(OrthornnError, match=r"^trials must"):
        crosstalk(3, trials=1)
