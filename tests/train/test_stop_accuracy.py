"""``stop_accuracy``: a run ends at the first evaluation whose accuracy reaches it (RUM's official
recall script trains "until validation accuracy is 100 %"), is tested there, and resumes there."""

from __future__ import annotations

import pytest
import torch

from orthornn.errors import OrthornnError
from orthornn.train import TrainConfig, Trainer


def _cfg(**kw) -> TrainConfig:
    base = {"task": "recall", "model": "rum", "lam": 1.0, "T": 4, "hidden": 6, "batch": 8, "steps": 12,
            "eval_every": 2, "valid_size": 40, "test_size": 30, "lr": 3e-2, "optimizer": "adam",
            "dtype": "float64"}  # fmt: skip
    return TrainConfig(**{**base, **kw})


def test_the_run_ends_at_the_first_evaluation_that_reaches_the_target_and_tests_there():
    full = Trainer(_cfg(checkpoint_every=2))  # a checkpoint at every evaluation
    saved = {}
    hist = full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    accs = [e["accuracy"] for e in hist.evals]
    target = max(accs)
    first = hist.evals[accs.index(target)]["step"]
    stopped = Trainer(_cfg(stop_accuracy=target))
    got = stopped.run()
    assert stopped.step == first and got.reached == first and got.stopped is None
    assert got.evals == hist.evals[: accs.index(target) + 1]
    assert got.summary["reached_stop_accuracy_at"] == first and got.summary["steps"] == first
    assert got.test is not None and got.test["sequences"] == 30
    # the same parameters as the uninterrupted run had at that step, so the same test evaluation
    at = Trainer(_cfg())
    at.load_state_dict(saved[first])
    for a, b in zip(at.model.parameters(), stopped.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert at.evaluate("test") == got.test
    assert "reached_stop_accuracy_at" not in hist.summary and hist.reached is None


def test_a_checkpoint_is_handed_out_at_the_stop_and_resuming_it_trains_no_further():
    target = 0.01  # reached by every evaluation with a correct answer: the first one
    cps = {}
    first = Trainer(_cfg(stop_accuracy=target, checkpoint_every=5))
    hist = first.run(on_checkpoint=lambda sd: cps.setdefault(sd["step"], sd))
    assert hist.evals[0]["accuracy"] >= target  # seeded: some of the 40 answers are right at step 2
    assert hist.reached == 2 and 2 in cps
    again = Trainer(_cfg(stop_accuracy=target, checkpoint_every=5))
    again.load_state_dict(cps[2])
    h2 = again.run()
    assert again.step == 2 and h2.reached == 2 and h2.test == hist.test


def test_stop_accuracy_is_refused_outside_its_range_and_on_the_adding_task():
    for bad in (0, -0.5, 1.5, float("nan")):
        with pytest.raises(OrthornnError, match=r"^stop_accuracy: must be an accuracy in \(0, 1\]"):
            _cfg(stop_accuracy=bad)
    with pytest.raises(OrthornnError, match=r"^stop_accuracy: task adding reports no accuracy"):
        TrainConfig(task="adding", model="lstm", stop_accuracy=0.9)
    assert _cfg(stop_accuracy=1).stop_accuracy == 1.0 and isinstance(_cfg(stop_accuracy=1).stop_accuracy, float)


def test_a_resumed_run_may_change_its_target():
    cps = {}
    Trainer(_cfg(steps=4, checkpoint_every=2)).run(on_checkpoint=lambda sd: cps.setdefault(sd["step"], sd))
    tr = Trainer(_cfg(steps=4, stop_accuracy=1.0))
    tr.load_state_dict(cps[2])
    assert tr.step == 2


def test_a_set_answered_without_an_error_reaches_100_percent_despite_the_rounding_of_its_mean(monkeypatch):
    # Every answer right (the metric patched to say so): 10,000 sequences in batches of 128 merge
    # to a mean a few ulps below 1, which must still reach stop_accuracy = 1 (the official
    # recall script's "until validation accuracy is 100 %").
    import orthornn.train.loop as loop

    real = loop.task_loss

    def perfect(*args, **kwargs):
        loss, metrics = real(*args, **kwargs)
        return loss, {**metrics, "accuracy": 1.0}

    monkeypatch.setattr(loop, "task_loss", perfect)
    tr = Trainer(_cfg(stop_accuracy=1.0, batch=128, valid_size=10_000, test_size=200))
    ev = tr.evaluate()
    assert ev["sequences"] == 10_000 and 1.0 - 1e-15 < ev["accuracy"] < 1.0  # the rounding is real
    hist = tr.run()
    assert hist.reached == 2 and tr.step == 2 and hist.summary["reached_stop_accuracy_at"] == 2
    # one wrong answer in 10,000 does not reach it
    assert not tr._reaches({"accuracy": 1 - 1 / 10_000}) and tr._reaches({"accuracy": 1.0})
