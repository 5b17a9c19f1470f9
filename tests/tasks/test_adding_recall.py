"""Adding problem and associative recall: conventions, baselines, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orthornn.errors import OrthornnError
from orthornn.tasks import AddingTask, RecallTask, adding_task, recall_task


@given(st.integers(2, 60), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_adding_convention(T, batch, seed):
    x, y = adding_task(batch, T, rng=seed)
    assert x.shape == (batch, T, 2) and y.shape == (batch,) and x.dtype == y.dtype == np.float64
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = T // 2
    assert (markers[:, :half].sum(axis=1) == 1).all()  # one marker in each half
    assert (markers[:, half:].sum(axis=1) == 1).all()
    for b in range(batch):
        i, j = np.flatnonzero(markers[b])
        assert y[b] == values[b, i] + values[b, j]


def test_adding_markers_cover_each_half_uniformly():
    x, _ = adding_task(40000, T=5, rng=0)
    pos = np.argwhere(x[..., 1] == 1)[:, 1].reshape(-1, 2)
    first, second = np.bincount(pos[:, 0], minlength=5), np.bincount(pos[:, 1], minlength=5)
    assert list(first[2:]) == [0, 0, 0] and list(second[:2]) == [0, 0]
    assert np.all(np.abs(first[:2] - 20000) < 5 * math.sqrt(20000))
    assert np.all(np.abs(second[2:] - 40000 / 3) < 5 * math.sqrt(40000 / 3))


def test_adding_baseline_is_the_mse_of_predicting_one():
    task = AddingTask(50)
    assert task.baseline == 1 / 6
    _, y = task.sample(200000, rng=1)
    mse = np.mean((y - 1.0) ** 2)
    stderr = np.std((y - 1.0) ** 2) / math.sqrt(y.size)
    assert abs(mse - 1 / 6) < 4 * stderr
    assert abs(y.mean() - 1.0) < 4 * np.std(y) / math.sqrt(y.size)  # 1 is the best constant


@pytest.mark.parametrize("T", [0, 1, -3])
def test_adding_rejects_short_sequences(T):
    with pytest.raises(OrthornnError, match=r"^T must"):
        AddingTask(T)


def test_adding_rejects_bad_batch():
    with pytest.raises(OrthornnError, match=r"^batch must"):
        adding_task(-1, 10)


@given(st.integers(1, 30).map(lambda h: 2 * h), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_recall_convention(T, batch, seed):
    task = RecallTask(T)
    x, y = task.sample(batch, rng=seed)
    n = T // 2
    assert x.shape == (batch, T + 3) and y.shape == (batch,) and x.dtype == y.dtype == np.int64
    assert task.vocab_size == n + 11 and int(x.max()) < task.vocab_size
    for b in range(batch):
        keys, digits = x[b, 0:T:2], x[b, 1:T:2]
        assert sorted(keys) == list(range(1, n + 1))  # every key once: drawn without replacement
        assert ((digits >= n + 1) & (digits <= n + 10)).all()
        assert list(x[b, T : T + 2]) == [0, 0]  # "??"
        query = x[b, T + 2]
        answer = [int(digits[i]) - n - 1 for i in range(n) if keys[i] == query]
        assert answer == [int(y[b])]


def test_recall_digits_and_queries_are_uniform():
    x, y = recall_task(30000, T=10, rng=2)
    counts = np.bincount(y, minlength=10)
    assert np.all(np.abs(counts - 3000) < 5 * math.sqrt(3000))
    q = np.bincount(x[:, -1], minlength=6)[1:]
    assert np.all(np.abs(q - 6000) < 5 * math.sqrt(6000))


def test_recall_baseline_is_the_memoryless_cross_entropy():
    task = RecallTask(30)
    assert task.baseline == math.log(10) and task.baseline_accuracy == 0.1
    _, y_fit = task.sample(50000, rng=3)
    _, y_eval = task.sample(50000, rng=4)
    prob = np.bincount(y_fit, minlength=10) / y_fit.size  # the best input-free predictor, fitted
    assert -np.mean(np.log(prob[y_eval])) == pytest.approx(task.baseline, rel=0.005)


def test_recall_render():
    task = RecallTask(4)
    x = np.array([2, 3 + 4, 1, 3 + 7, 0, 0, 1])
    assert task.render(x) == "b4a7??a"


@pytest.mark.parametrize("T,match", [(7, "^T must be even"), (0, "^T must"), (1, "^T must"), (2.0, "^T must")])
def test_recall_rejects_bad_T(T, match):
    with pytest.raises(OrthornnError, match=match):
        RecallTask(T)
