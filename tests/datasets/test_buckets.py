"""orthornn.datasets.buckets: length-bucketed epochs and evaluation chunks."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from orthornn.datasets import LengthBuckets, length_chunks, padding_fraction

lengths_st = st.lists(st.integers(1, 1500), min_size=1, max_size=300).map(np.array)


@given(lengths_st, st.integers(1, 40), st.sampled_from([0.0, 0.1, 0.5]), st.integers(0, 3), st.integers(0, 2**32))
def test_every_epoch_serves_each_sequence_once_in_ceil_n_over_b_batches(lengths, batch, jitter, epoch, seed):
    buckets = LengthBuckets(lengths, batch, (seed,), jitter=jitter)
    batches = buckets.epoch(epoch)
    assert len(batches) == buckets.batches_per_epoch == -(-len(lengths) // batch)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert sum(len(b) < batch for b in batches) <= 1  # only the last cut can be short
    bound = np.exp(2 * jitter) * (1 + 1e-12)
    for b in batches:  # an earlier sequence of a batch is at most e^{2a} times longer than a later one
        ls = lengths[b].astype(float)
        assert all(ls[i] <= ls[j] * bound for i in range(len(ls)) for j in range(i + 1, len(ls)))


@given(lengths_st, st.integers(1, 40), st.integers(0, 2**32), st.integers(0, 500))
def test_batch_k_is_a_function_of_seed_and_k(lengths, batch, seed, step):
    a, b = LengthBuckets(lengths, batch, (seed, 6)), LengthBuckets(lengths, batch, (seed, 6))
    for k in range(step):  # one stream walked from the start, the other asked for step directly
        a.indices(k)
    assert np.array_equal(a.indices(step), b.indices(step))


def test_bucketing_pads_far_less_than_random_batches():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 1400, size=900)  # bAbI task 3's range
    buckets = LengthBuckets(lengths, 32, (0,))
    random_batches = np.array_split(rng.permutation(900), 29)
    bucketed = padding_fraction(lengths, buckets.epoch(0))
    assert bucketed < 0.15 < 0.3 < padding_fraction(lengths, random_batches)


def test_the_jitter_changes_batch_contents_from_epoch_to_epoch():
    lengths = np.random.default_rng(1).integers(20, 1400, size=900)

    def contents(jitter: float, epoch: int) -> set:
        return {tuple(sorted(b.tolist())) for b in LengthBuckets(lengths, 32, (0,), jitter=jitter).epoch(epoch)}

    assert contents(0.0, 0) == contents(0.0, 1)  # sorted by the bare length: the same batches
    assert len(contents(0.1, 0) & contents(0.1, 1)) < 3


@given(lengths_st, st.integers(1, 20_000), st.integers(1, 50))
def test_chunks_cover_the_set_once_within_the_budget(lengths, max_tokens, max_size):
    chunks = length_chunks(lengths, max_tokens, max_size)
    assert sorted(np.concatenate(chunks).tolist()) == list(range(len(lengths)))
    for c in chunks:
        assert 1 <= len(c) <= max_size
        assert len(c) == 1 or len(c) * int(lengths[c].max()) <= max_tokens
    flat = np.concatenate(chunks)
    assert (np.diff(lengths[flat]) >= 0).all()  # sorted by length
