"""``lr_schedule`` on the generated tasks (it acted on ptb only before): each step's rate, an
exact resume, and configs saved before it acted there."""

from __future__ import annotations

import math

import pytest

from orthornn.train import TrainConfig, Trainer


def _cfg(**kw) -> TrainConfig:
    base = {"task": "recall", "model": "rum", "lam": 1.0, "T": 4, "hidden": 6, "batch": 8, "steps": 8,
            "eval_every": 4, "valid_size": 20, "lr": 0.01, "optimizer": "adam", "dtype": "float64"}  # fmt: skip
    return TrainConfig(**{**base, **kw})


def _timeless(records: list[dict]) -> list[dict]:
    """Records without their wall times (the one field a resumed run changes)."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_cosine_takes_each_steps_rate_and_changes_the_training():
    hist = Trainer(_cfg(lr_schedule="cosine")).run()
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * k / 8)) for k in range(8)]
    assert [r["lr"] for r in hist.train] == pytest.approx(expected, rel=1e-12)
    constant = Trainer(_cfg()).run()
    assert all("lr" not in r for r in constant.train)
    assert constant.train[1]["loss"] == hist.train[1]["loss"]  # step 1 (its loss after step 0) ran at lr either way
    assert constant.train[2]["loss"] != hist.train[2]["loss"]  # step 1 ran below it under cosine
    assert constant.evals[-1]["loss"] != hist.evals[-1]["loss"]


def test_a_resumed_scheduled_run_ends_as_the_uninterrupted_one():
    cps: dict[int, dict] = {}
    full = Trainer(_cfg(lr_schedule="paper", checkpoint_every=3)).run(
        on_checkpoint=lambda sd: cps.setdefault(sd["step"], sd)
    )
    again = Trainer(_cfg(lr_schedule="paper"))
    again.load_state_dict(cps[3])
    hist = again.run()
    assert _timeless(hist.train) == _timeless(full.train[3:]) and _timeless(hist.evals) == _timeless(full.evals)
    assert [r["lr"] for r in full.train] == pytest.approx([0.01] * 4 + [5e-4] * 2 + [5e-5] * 2, rel=1e-12)


def test_the_default_is_constant_everywhere_and_older_configs_read_as_it():
    for task, model in (("copy", "ltrnn"), ("adding", "eunn"), ("recall", "lstm"), ("varcopy", "fsrum")):
        assert TrainConfig(task=task, model=model).to_dict()["lr_schedule"] == "constant"
    old = {k: v for k, v in _cfg().to_dict().items() if k != "lr_schedule"}  # saved before it acted here
    assert TrainConfig.from_dict(old) == _cfg()
