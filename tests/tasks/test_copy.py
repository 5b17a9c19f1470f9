"""Copy and variable-length copy tasks: layout, seeding, baselines, accuracy, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orthornn.errors import OrthornnError, ShapeError
from orthornn.tasks import (
    CopyTask,
    VariableCopyTask,
    copy_accuracy,
    copy_task,
    variable_copy_task,
)

params = st.tuples(st.integers(1, 40), st.integers(1, 12), st.integers(2, 12), st.integers(1, 5))


@given(params, st.integers(0, 2**32 - 1))
def test_copy_layout(p, seed):
    T, S, K, batch = p
    task = CopyTask(T, S, K)
    x, y = task.sample(batch, rng=seed)
    assert x.shape == y.shape == (batch, T + 2 * S) and x.dtype == y.dtype == np.int64
    blank, delim = K, K + 1
    assert ((x[:, :S] >= 0) & (x[:, :S] < K)).all()
    assert (x[:, S : S + T - 1] == blank).all()
    assert (x[:, S + T - 1] == delim).all()
    assert (x[:, S + T :] == blank).all()
    assert (y[:, : T + S] == blank).all()
    assert np.array_equal(y[:, T + S :], x[:, :S])
    assert task.vocab_size == K + 2 and task.n_classes == K + 1 and task.length == T + 2 * S


@given(params, st.integers(0, 2**32 - 1))
def test_variable_copy_layout(p, seed):
    T, S, K, batch = p
    task = VariableCopyTask(T, S, K)
    x, y = task.sample(batch, rng=seed)
    assert x.shape == y.shape == (batch, T + 2 * S)
    for b in range(batch):
        (delim,) = np.flatnonzero(x[b] == K + 1)
        assert S <= delim <= S + T - 1  # 1-based position S+1 … S+T
        others = np.delete(np.arange(T + 2 * S), np.r_[np.arange(S), delim])
        assert (x[b, others] == K).all()
        recall = np.flatnonzero(y[b] != K)
        data = x[b, :S]
        # recall steps are exactly the S steps after the delimiter (data may contain no blank)
        assert np.array_equal(y[b, delim + 1 : delim + 1 + S], data)
        assert set(recall) <= set(range(delim + 1, delim + 1 + S))


def test_variable_copy_delimiter_is_uniform_over_its_range():
    T, S = 6, 2
    x, _ = VariableCopyTask(T, S, 3).sample(60000, rng=1)
    pos = np.argmax(x == 4, axis=1)
    counts = np.bincount(pos, minlength=T + 2 * S)
    assert counts[:S].sum() == 0 and counts[S + T :].sum() == 0
    expected = 60000 / T
    assert np.all(np.abs(counts[S : S + T] - expected) < 5 * math.sqrt(expected))


def test_copy_is_fixed_variable_copy_at_the_last_position():
    """The fixed task is the variable one conditioned on the delimiter at S+T."""
    T, S, K = 5, 3, 4
    x, y = VariableCopyTask(T, S, K).sample(4000, rng=2)
    last = x[:, S + T - 1] == K + 1
    fixed_x, fixed_y = CopyTask(T, S, K).encode(x[last, :S])
    assert np.array_equal(fixed_x, x[last]) and np.array_equal(fixed_y, y[last])


def test_seeding_is_reproducible_and_generators_advance():
    a = copy_task(3, 10, rng=5)
    b = copy_task(3, 10, rng=np.random.default_rng(5))
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    gen = np.random.default_rng(5)
    first, second = copy_task(3, 10, rng=gen), copy_task(3, 10, rng=gen)
    assert not np.array_equal(first[0], second[0])


def test_symbols_are_uniform():
    x, _ = copy_task(20000, T=1, S=5, K=7, rng=3)
    counts = np.bincount(x[:, :5].ravel(), minlength=9)
    assert counts[7:].sum() == 0
    expected = 100000 / 7
    assert np.all(np.abs(counts[:7] - expected) < 5 * math.sqrt(expected))


def _marginal_cross_entropy(task, n_fit: int, n_eval: int, seed: int) -> float:
    """Cross-entropy of the per-step empirical target marginal (a time-index-only predictor)."""
    gen = np.random.default_rng(seed)
    _, y_fit = task.sample(n_fit, gen)
    _, y_eval = task.sample(n_eval, gen)
    C = task.n_classes
    counts = np.stack([np.bincount(y_fit[:, t], minlength=C) for t in range(task.length)]) + 0.5
    prob = counts / counts.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(prob[np.arange(task.length), y_eval])))


@pytest.mark.parametrize("T,S,K", [(20, 5, 8), (8, 3, 3)])
def test_copy_baseline_formula_matches_the_memoryless_predictor(T, S, K):
    task = CopyTask(T, S, K)
    assert task.baseline == pytest.approx(S * math.log(K) / (T + 2 * S), rel=1e-15)
    assert _marginal_cross_entropy(task, 40000, 20000, 0) == pytest.approx(task.baseline, rel=0.02)


@pytest.mark.parametrize("T,S,K", [(20, 5, 8), (7, 3, 3), (1, 2, 2)])
def test_variable_copy_baseline(T, S, K):
    task = VariableCopyTask(T, S, K)
    # q_t by enumerating every delimiter position (independent of the closed form)
    q = np.zeros(task.length)
    for delim in range(S, S + T):
        q[delim + 1 : delim + 1 + S] += 1.0 / T
    assert np.allclose(task.recall_probability(), q, atol=1e-15)
    assert _marginal_cross_entropy(task, 40000, 20000, 1) == pytest.approx(task.baseline, rel=0.02)
    assert task.baseline >= CopyTask(T, S, K).baseline - 1e-15


@pytest.mark.parametrize("T,S,K", [(20, 5, 8), (7, 3, 3), (1, 2, 2)])
def test_variable_copy_delimiter_baseline_is_the_loss_of_a_timing_only_predictor(T, S, K):
    # The predictor reads the inputs causally: after the delimiter it spreads over the K
    # symbols for S steps, elsewhere it predicts the blank with certainty. Scored on samples.
    task = VariableCopyTask(T, S, K)
    x, y = task.sample(500, rng=3)
    seen = np.cumsum(x == task.delimiter, axis=1) - (x == task.delimiter)  # delimiter strictly before t
    since = np.cumsum(seen, axis=1)  # 1 at the first step after it, 2 at the next, ...
    recall = (since >= 1) & (since <= S)
    assert np.array_equal(recall, y != task.blank)  # it knows exactly when
    prob = np.where(recall[..., None], np.r_[np.full(K, 1.0 / K), 0.0], np.eye(task.n_classes)[task.blank])
    with np.errstate(divide="ignore"):
        loss = -np.log(np.take_along_axis(prob, y[..., None], axis=-1)[..., 0])
    assert np.isfinite(loss).all()
    assert loss.mean() == pytest.approx(task.delimiter_baseline, rel=1e-12)
    assert task.delimiter_baseline < task.baseline or T == 1


def test_variable_copy_with_T_1_is_the_fixed_task():
    assert VariableCopyTask(1, 4, 5).baseline == pytest.approx(CopyTask(1, 4, 5).baseline, rel=1e-14)


def test_copy_accuracy_counts_recall_and_blank_separately():
    task = CopyTask(4, 2, 3)
    _, y = task.sample(5, rng=0)
    perfect = task.accuracy(y, y)
    assert (perfect.recall, perfect.blank, perfect.success) == (1.0, 1.0, 1.0)
    all_blank = task.accuracy(np.full_like(y, task.blank), y)
    assert (all_blank.recall, all_blank.blank, all_blank.success) == (0.0, 1.0, 0.0)
    scores = np.eye(task.n_classes)[y]  # one-hot scores reduce by argmax
    assert task.accuracy(scores, y) == perfect
    wrong_one = y.copy()
    wrong_one[0, -1] = (y[0, -1] + 1) % 3
    acc = task.accuracy(wrong_one, y)
    assert acc.success == pytest.approx(4 / 5) and acc.recall == pytest.approx(9 / 10)
    with pytest.raises(ShapeError):
        copy_accuracy(y[:, :-1], y, K=3)


def test_render():
    task = CopyTask(5, 3, 4)
    x, y = task.encode(np.array([[2, 1, 3]]))
    assert task.render(x[0]) == "213----:---"
    assert task.render(y[0]) == "--------213"


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"T": 0}, "T"),
        ({"T": 5, "S": 0}, "S"),
        ({"T": 5, "K": 1}, "K"),
        ({"T": 2.5}, "T"),
        ({"T": True}, "T"),
    ],
)
@pytest.mark.parametrize("cls", [CopyTask, VariableCopyTask])
def test_bad_parameters_name_themselves(cls, kwargs, name):
    with pytest.raises(OrthornnError, match=rf"^{name} must"):
        cls(**kwargs)


@pytest.mark.parametrize("fn", [copy_task, variable_copy_task])
def test_bad_batch_and_rng(fn):
    with pytest.raises(OrthornnError, match=r"^batch must"):
        fn(0, 5)
    with pytest.raises(OrthornnError, match=r"^rng must"):
        fn(2, 5, rng="seed")


def test_encode_rejects_bad_symbols():
    task = CopyTask(5, 2, 3)
    with pytest.raises(ShapeError):
        task.encode(np.zeros((1, 3), dtype=int))
    with pytest.raises(OrthornnError, match="symbols must be integers"):
        task.encode(np.array([[0, 3]]))
