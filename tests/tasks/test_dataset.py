"""orthornn.tasks.dataset: fixed sets cycled in epochs, their seeding, and the binomial arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orthornn.errors import OrthornnError
from orthornn.tasks import AddingTask, CopyTask, FixedSet, RecallTask, accuracy_standard_error, sequences_for_accuracy


def _official_next_batch(x, y, step, batch):
    """recall_task.py's next_batch (jingli9111/RUM-Tensorflow), transcribed as its docstring-free
    loop does it: start = step·batch mod N, wrapping past the end to the start."""
    n = x.shape[0]
    start = step * batch % n
    end = start + batch
    if end > n:
        end -= n
        return np.concatenate((x[start:], x[:end])), np.concatenate((y[start:], y[:end]))
    return x[start:end], y[start:end]


@pytest.mark.parametrize(("size", "batch"), [(100, 7), (10, 10), (12, 5)])
def test_unshuffled_order_is_the_official_next_batch(size, batch):
    s = FixedSet(RecallTask(8), size, seed=(3, 0), shuffle=False)
    for step in range(0, 40):
        x, y = s.batch(step, batch)
        xo, yo = _official_next_batch(s.inputs, s.targets, step, batch)
        assert np.array_equal(x, xo) and np.array_equal(y, yo)


def test_each_epoch_is_a_permutation_and_every_element_is_seen_once_per_epoch():
    s = FixedSet(RecallTask(8), 30, seed=(1, 0))
    seen = np.concatenate([s.indices(k, 6) for k in range(5)])  # 5·6 = 30: exactly epoch 0
    assert np.array_equal(np.sort(seen), np.arange(30)) and np.array_equal(seen, s.order(0))
    seen = np.concatenate([s.indices(k, 6) for k in range(5, 10)])
    assert np.array_equal(seen, s.order(1)) and not np.array_equal(s.order(0), s.order(1))
    # a batch that straddles two epochs takes the end of one and the start of the next
    assert np.array_equal(s.indices(4, 7), np.concatenate([s.order(0)[28:], s.order(1)[:5]]))
    assert s.epoch(10, 6) == 2.0


def test_orders_and_batches_are_functions_of_seed_epoch_and_step_only():
    a = FixedSet(RecallTask(8), 50, seed=(5, 0))
    b = FixedSet(RecallTask(8), 50, seed=(5, 0))
    # b is asked in another sequence of steps (a resumed run): the same batches
    for k in [17, 3, 40, 0, 17]:
        assert np.array_equal(a.batch(k, 16)[0], b.batch(k, 16)[0])
    assert np.array_equal(a.order(9), np.random.default_rng([5, 0, 1, 9]).permutation(50))
    assert np.array_equal(a.inputs, RecallTask(8).sample(50, np.random.default_rng([5, 0, 0]))[0])
    # sets of other seeds (validation, test) are other draws
    c = FixedSet(RecallTask(8), 50, seed=(5, 1))
    assert not np.array_equal(a.inputs, c.inputs)
    assert FixedSet(RecallTask(8), 4, seed=7).seed == (7,)


def test_chunks_cover_the_set_once_in_order():
    s = FixedSet(CopyTask(T=5, S=3, K=4), 23, seed=(0, 2))
    parts = list(s.chunks(10))
    assert [len(p[0]) for p in parts] == [10, 10, 3]
    assert np.array_equal(np.concatenate([p[0] for p in parts]), s.inputs)
    x, y = FixedSet(AddingTask(6), 4, seed=0).batch(0, 4)
    assert x.shape == (4, 6, 2) and y.shape == (4,)
    assert len(s) == 23


def test_bad_arguments_name_themselves():
    with pytest.raises(OrthornnError, match="size"):
        FixedSet(RecallTask(8), 0, seed=0)
    s = FixedSet(RecallTask(8), 5, seed=0)
    with pytest.raises(OrthornnError, match="step"):
        s.indices(-1, 2)
    with pytest.raises(OrthornnError, match="batch"):
        s.batch(0, 0)


def test_binomial_arithmetic():
    assert accuracy_standard_error(10_000) == 0.005  # ±0.5 % at one standard error, any accuracy
    assert sequences_for_accuracy(0.005) == 10_000
    assert sequences_for_accuracy(0.005, z=1.96) == 38_416
    assert sequences_for_accuracy(0.005, p=0.9) == 3_600
    assert math.isclose(accuracy_standard_error(20_000, 0.5), 0.5 / math.sqrt(20_000))
    assert accuracy_standard_error(512) > 0.022  # the old 4 × 128 held-out sequences: ±2.2 %
    with pytest.raises(ValueError, match="p must be"):
        accuracy_standard_error(10, 1.5)
