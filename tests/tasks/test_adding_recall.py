"""Adding problem and associative recall: conventions, baselines, errors."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orthornn.errors import OrthornnError
from orthornn.tasks import AddingTask, RecallTask, adding_task, expected_max_count, recall_task


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


def _expected_max_by_partitions(n: int, k: int) -> Fraction:
    """E[max cell] of n balls in k uniform cells, exactly: a sum over the partitions of n."""

    def partitions(rest: int, largest: int):
        if rest == 0:
            yield ()
            return
        for part in range(min(rest, largest), 0, -1):
            for tail in partitions(rest - part, part):
                yield (part, *tail)

    total = Fraction(0)
    for parts in partitions(n, n):
        if len(parts) > k:
            continue
        ways = math.factorial(n)  # sequences with these cell sizes, for one assignment of cells
        for part in parts:
            ways //= math.factorial(part)
        cells = math.perm(k, len(parts))  # ordered choice of the occupied cells ...
        for size in set(parts):
            cells //= math.factorial(parts.count(size))  # ... up to equal sizes
        total += Fraction(max(parts) * ways * cells, k**n)
    return total


@pytest.mark.parametrize(("n", "k"), [(1, 10), (2, 10), (7, 3), (10, 10), (15, 10), (25, 10), (12, 1)])
def test_expected_max_count_equals_the_sum_over_partitions(n, k):
    assert expected_max_count(n, k) == pytest.approx(float(_expected_max_by_partitions(n, k)), rel=1e-13)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_recall_key_blind_baselines_by_enumerating_every_digit_sequence(n):
    digits = np.array(list(itertools.product(range(10), repeat=n)))  # every sequence, equally likely
    counts = np.stack([(digits == d).sum(axis=1) for d in range(10)], axis=1)
    task = RecallTask(2 * n)
    assert task.key_blind_accuracy == pytest.approx(counts.max(axis=1).mean() / n, rel=1e-12)
    p = counts / n
    entropy = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)
    assert task.key_blind_loss == pytest.approx(entropy.mean(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("T", [30, 50])
def test_recall_key_blind_baselines_match_sampled_sequences(T):
    """Monte Carlo on the task's own sampler: the counting predictor's accuracy and loss."""
    task = RecallTask(T)
    x, y = task.sample(100000, rng=3)
    n = task.n_keys
    digits = x[:, 1:T:2] - n - 1
    counts = np.stack([(digits == d).sum(axis=1) for d in range(10)], axis=1)
    hit = counts.argmax(axis=1) == y  # ties: argmax picks one of the most frequent digits
    assert abs(hit.mean() - task.key_blind_accuracy) < 4 * hit.std() / math.sqrt(hit.size)
    nll = -np.log(counts[np.arange(y.size), y] / n)
    assert abs(nll.mean() - task.key_blind_loss) < 4 * nll.std() / math.sqrt(nll.size)
    assert task.baseline_accuracy < task.key_blind_accuracy and task.key_blind_loss < task.baseline


def test_recall_key_blind_baselines_limits():
    one = RecallTask(2)  # one pair: the key says nothing
    assert one.key_blind_accuracy == 1.0 and one.key_blind_loss == 0.0
    accs = [RecallTask(T).key_blind_accuracy for T in (10, 30, 100, 400)]
    assert all(a > b for a, b in itertools.pairwise(accs)) and accs[-1] > 0.1


@pytest.mark.parametrize("args", [(0, 10), (5, 0), (2.5, 10), (2.0, 10), (2, 10.0)])
def test_expected_max_count_rejects_bad_sizes(args):
    expected_max_count(2, 10)  # a cached entry whose key equals (2.0, 10) must not answer for it
    with pytest.raises(OrthornnError, match=r"^(n|k) must"):
        expected_max_count(*args)
