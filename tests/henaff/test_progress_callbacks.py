"""The henaff loops report progress through a callback (the command line's bars) without
changing a single number: the counts add up to the trials, the results equal a run without it."""

from orthornn.henaff import copy_trials_forward, crosstalk
from orthornn.henaff import cross_talk as ct


def test_copy_trials_forward_counts_every_trial_once():
    seen = []
    r = copy_trials_forward(K=4, S=3, T=20, d=16, trials=11, rng=5, chunk=4, progress=seen.append)
    assert seen == [4, 4, 3]
    assert r == copy_trials_forward(K=4, S=3, T=20, d=16, trials=11, rng=5, chunk=4)


def test_crosstalk_counts_every_trial_once_on_both_paths(monkeypatch):
    for held in (1 << 24, 0):  # codes held at once, and streamed twice
        monkeypatch.setattr(ct, "_HELD", held)
        monkeypatch.setattr(ct, "_WORK", 2 * 3 * 32)  # two trials a step at S = 3, d = 16
        seen = []
        c = crosstalk(S=3, K=6, T=30, d=16, trials=9, rng=1, progress=seen.append)
        assert sum(seen) == 9 and len(seen) == 5
        assert c == crosstalk(S=3, K=6, T=30, d=16, trials=9, rng=1)
