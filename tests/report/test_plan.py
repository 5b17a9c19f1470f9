"""The budgets: valid plans, the stage order, clear errors for bad names and bad plans."""

from __future__ import annotations

import dataclasses

import pytest

from orthornn.errors import OrthornnError
from orthornn.report import BUDGETS, budget, stage_plan
from orthornn.report.plan import TrainingRun
from orthornn.train import TrainConfig


def test_every_budget_runs_the_four_trainings_of_the_issue():
    for b in BUDGETS.values():
        tasks = {(r.config.model, r.config.task, r.config.init if r.config.model == "ltrnn" else r.config.lam)
                 for r in b.trainings}  # fmt: skip
        assert tasks == {("ltrnn", "copy", "orthogonal"), ("ltrnn", "adding", "identity"),
                         ("rum", "recall", 1.0), ("rum", "copy", 0.0)}  # fmt: skip
        assert b.training(b.spectrum_run).config.init == "orthogonal"


def test_small_is_smaller_than_full():
    small, full = budget("small"), budget("full")
    for s, f in zip(small.trainings, full.trainings, strict=True):
        assert s.key == f.key
        cost = lambda c: c.steps * c.batch * c.T * c.hidden  # noqa: E731
        assert cost(s.config) < cost(f.config)
        assert s.config.T <= f.config.T
    assert (small.figure1_T, small.figure1_d) == (full.figure1_T, full.figure1_d) == (500, 128)


def test_stage_plan_order():
    keys = [k for k, _ in stage_plan(budget("small"))]
    assert keys == ["proofs", "figure1", "training:ltornn_copy", "training:ltirnn_adding", "training:rum_recall",
                    "training:rum_copy", "spectrum", "memory"]  # fmt: skip
    no_memory = dataclasses.replace(budget("tiny"), memory_run=None)
    assert [k for k, _ in stage_plan(no_memory)][-1] == "spectrum"


def test_unknown_budget_lists_the_names():
    with pytest.raises(OrthornnError, match=r"^budget: unknown 'big'; choose one of small, full, tiny$"):
        budget("big")
    with pytest.raises(OrthornnError, match="has no training 'nope'"):
        budget("tiny").training("nope")


def test_bad_plans_are_refused():
    tiny = budget("tiny")
    with pytest.raises(OrthornnError, match="spectrum_run must be an LT-RNN copy run"):
        dataclasses.replace(tiny, spectrum_run="rum_copy")
    with pytest.raises(OrthornnError, match="memory_run must be a RUM run with fixed λ = 1"):
        dataclasses.replace(tiny, memory_run="rum_copy")
    twice = (*tiny.trainings, TrainingRun("rum_copy", "again", TrainConfig()))
    with pytest.raises(OrthornnError, match="duplicate training keys"):
        dataclasses.replace(tiny, trainings=twice)


@pytest.mark.parametrize("key", [r.key for r in budget("full").trainings])
def test_full_budget_configs_train(key):
    """Each paper-scale config builds and takes a step (shrunk to batch 2; the scale itself needs a GPU)."""
    from orthornn.train import Trainer

    cfg = budget("full").training(key).config.replace(steps=1, batch=2, eval_batches=1, eval_every=1)
    hist = Trainer(cfg).run()
    assert hist.stopped is None and hist.summary["steps"] == 1
    assert hist.summary["final"]["loss"] > 0
