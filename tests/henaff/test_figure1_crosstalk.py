"""The Figure 1 grid and the cross-talk statistic."""

from __future__ import annotations

import tracemalloc
from dataclasses import astuple

import numpy as np
import pytest

from orthornn.errors import OrthornnError
from orthornn.henaff import (
    cell_seed,
    copy_trials,
    crosstalk,
    crosstalk_expectation,
    figure1,
    sample_clock,
    sample_sphere_columns,
)
from orthornn.henaff import cross_talk as ct
from orthornn.henaff.copy import _recall_states


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
    stream = np.random.SeedSequence(7, spawn_key=(4, 6))
    assert cell_seed(7, 4, 6).spawn_key == stream.spawn_key and cell_seed(7, 4, 6).entropy == 7
    r = copy_trials(4, 6, 50, 16, 80, np.random.default_rng(stream))
    assert (f.success[0, 0], f.recall[0, 0]) == (r.success, r.recall)


def test_figure1_cell_does_not_depend_on_the_grid():
    """A cell's value is the same in grids of different shapes and orders (issue 15: the K = 4,
    S = 10 cell drew from the stream at its grid position, 98.2 % in a 6×6 grid, 99.0 % in 6×7)."""
    kw = dict(T=60, d=8, trials=120, seed=3)
    small = figure1([4], [10], **kw)
    wide = figure1([2, 4, 8], [2, 5, 10, 15], **kw)
    other = figure1([8, 4], [10, 15, 2], **kw)
    for f, (a, b) in [(wide, (1, 2)), (other, (1, 0))]:
        assert (f.success[a, b], f.recall[a, b]) == (small.success[0, 0], small.recall[0, 0])
    assert np.array_equal(wide.recall[[2, 1]][:, [2, 3, 0]], other.recall)
    assert 0 < small.recall[0, 0] < 1  # the cell is random, so equal values are not a coincidence
    assert figure1([4], [10], **{**kw, "seed": 4}).recall[0, 0] != small.recall[0, 0]
    assert len({float(x) for x in wide.recall.ravel()} - {1.0}) > 4  # cells draw different streams


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


def _crosstalk_all_codes(S, K, T, d, trials, gen):
    """The measurement as first written: every trial holds all K codes (memory trials·K·2d)."""
    x2 = np.empty(trials)
    for lo in range(0, trials, 5000):
        n = min(5000, trials - lo)
        l = sample_clock(d, T + S, gen, size=(n,))
        Ut = sample_sphere_columns(2 * d, K, gen, size=(n,))
        symbols = gen.integers(0, K, size=(n, S))
        h1 = _recall_states(l, Ut, symbols, S, T, np.array([1]))[:, 0]
        u1 = np.swapaxes(Ut, -1, -2)[np.arange(n), symbols[:, 0]]
        x2[lo : lo + n] = (np.sum(u1 * h1, axis=1) - 1.0) ** 2
    return x2.mean(), x2.std(ddof=1) / np.sqrt(trials)


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize(
    ("S", "K", "T", "d", "trials"), [(2, 8, 50, 16, 300), (12, 4, 60, 6, 5003), (3, 40, 30, 5, 120)]
)
def test_crosstalk_draws_are_those_of_the_full_construction(monkeypatch, streamed, S, K, T, d, trials):
    """Same seed, same numbers (bit for bit) and the same generator state afterwards, whether a
    block's codes are held or streamed twice in pieces that split trials (and rows) anywhere."""
    if streamed:
        monkeypatch.setattr(ct, "_HELD", 0)
        monkeypatch.setattr(ct, "_PIECE", 7 * 2 * d + 3)
        monkeypatch.setattr(ct, "_WORK", 5 * S * 2 * d)
    g_ref, g = np.random.default_rng(11), np.random.default_rng(11)
    mean, stderr = _crosstalk_all_codes(S, K, T, d, trials, g_ref)
    c = crosstalk(S, K, T, d, trials, g)
    assert (c.measured, c.stderr) == (mean, stderr)
    assert g.bit_generator.state == g_ref.bit_generator.state
    assert astuple(crosstalk(S, K, T, d, trials, 3)) == astuple(crosstalk(S, K, T, d, trials, 3))


def test_crosstalk_memory_does_not_grow_with_K():
    """K = 2048 codes of R^32 per trial would be 157 MiB for 300 trials; a trial uses S = 2 of them."""
    tracemalloc.start()
    try:
        c = crosstalk(2, K=2048, T=30, d=16, trials=300, rng=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20
    assert abs(c.measured - c.exact) < 4 * c.stderr


def test_crosstalk_expectation_domain():
    assert crosstalk_expectation(1, 8, 128, 500) == 0.0
    with pytest.raises(OrthornnError, match="2\\(S-1\\) < T\\+S"):
        crosstalk_expectation(S=12, K=2, d=4, T=10)
    with pytest.raises(OrthornnError, match=r"^trials must"):
        crosstalk(3, trials=1)
