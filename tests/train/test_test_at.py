"""``test_at``: which parameters a generated task's fixed test set scores — the final ones (the
default) or those of the best validation evaluation (``"best"``, by ``best_by``, as bAbI and PTB
always do) — and a final-tested run resumed to be tested at its best."""

from __future__ import annotations

import pytest

from orthornn.cli import main
from orthornn.errors import OrthornnError
from orthornn.train import TrainConfig, Trainer
from orthornn.train.checkpoint import CheckpointError, check_checkpoint


def _cfg(**kw) -> TrainConfig:
    base = {"task": "recall", "model": "rum", "lam": 1.0, "T": 4, "hidden": 6, "batch": 8, "steps": 12,
            "eval_every": 1, "valid_size": 40, "test_size": 60, "lr": 0.3, "optimizer": "adam",
            "dtype": "float64"}  # fmt: skip
    return TrainConfig(**{**base, **kw})


def _checkpoints(cfg: TrainConfig) -> tuple[object, dict[int, dict]]:
    cps: dict[int, dict] = {}
    hist = Trainer(cfg).run(on_checkpoint=lambda sd: cps.setdefault(sd["step"], sd))
    return hist, cps


def test_best_tests_the_best_validation_parameters_as_a_run_stopped_there_tests_its_final_ones():
    final = Trainer(_cfg()).run()
    best = Trainer(_cfg(test_at="best")).run()
    assert best.evals == final.evals  # the rule chooses what is tested; it does not train
    step = best.summary["best"]["step"]
    assert best.summary["best"] == min(best.evals, key=lambda e: e["loss"])
    assert step < 12 and final.test["step"] == 12  # the seeded run's best is not its last step
    # independently: the same run stopped at that step, tested at its final parameters
    stopped = Trainer(_cfg(steps=step)).run()
    assert best.test == {**stopped.test, "parameters_of": "best validation"}
    assert best.test["loss"] != final.test["loss"]
    assert "best_since" not in best.summary and "best_since" not in best.test


def test_the_default_is_final_and_configs_saved_before_test_at_load_as_final():
    assert _cfg().test_at == "final" and _cfg().to_dict()["test_at"] == "final"
    old = {k: v for k, v in _cfg().to_dict().items() if k != "test_at"}
    assert TrainConfig.from_dict(old) == _cfg()
    assert "test_at" not in _cfg(test_size=None).to_dict()


def test_a_resumed_best_tested_run_ends_as_the_uninterrupted_one():
    full, cps = _checkpoints(_cfg(test_at="best", checkpoint_every=1))
    best = full.summary["best"]["step"]
    assert check_checkpoint(cps[5]).test_at == "best" and cps[5]["best_model"] is not None
    for at in (5, best, 11):  # before the best, at it, and after it (its parameters come from the checkpoint)
        again = Trainer(_cfg(test_at="best"))
        again.load_state_dict(cps[at])
        if at >= best:
            kept = again.best_model
            assert kept is not None and all(kept[k].equal(v) for k, v in cps[best]["model"].items())
        hist = again.run()
        assert hist.test == full.test and hist.summary["best"] == full.summary["best"]


def test_a_final_tested_run_resumed_as_best_chooses_among_the_evaluations_after_the_resume():
    _, cps = _checkpoints(_cfg(steps=9, checkpoint_every=9))
    resumed = Trainer(_cfg(test_at="best"))
    resumed.load_state_dict(cps[9])
    hist = resumed.run()
    uninterrupted = Trainer(_cfg()).run()
    assert hist.evals == uninterrupted.evals  # the switch changes no training
    later = [e for e in hist.evals if e["step"] > 9]
    best = min(later, key=lambda e: e["loss"])
    assert hist.summary["best"] == best and hist.summary["best_since"] == 9
    assert hist.test["step"] == best["step"] and hist.test["best_since"] == 9
    # the overall best came before the resume, so the restriction is visible
    assert min(hist.evals, key=lambda e: e["loss"])["step"] <= 9
    stopped = Trainer(_cfg(steps=best["step"])).run()
    assert hist.test["loss"] == stopped.test["loss"]
    # its checkpoints carry where the choice starts, and a later resume keeps it
    state = resumed.state_dict()
    assert state["best_since"] == 9
    again = Trainer(_cfg(test_at="best", steps=14))
    again.load_state_dict(state)
    assert again.best_since == 9 and again.best == best


def test_a_switch_with_no_evaluation_left_is_refused():
    _, cps = _checkpoints(_cfg(steps=6, checkpoint_every=6))
    with pytest.raises(OrthornnError, match=r"^test_at: the checkpoint at step 6 kept no best-validation parameters"):
        Trainer(_cfg(steps=6, test_at="best")).load_state_dict(cps[6])


def test_a_switch_after_the_run_reached_stop_accuracy_is_refused():
    hist, cps = _checkpoints(_cfg(stop_accuracy=0.01, checkpoint_every=100))
    assert hist.reached == 1 and list(cps) == [1]  # it stopped at its first evaluation
    with pytest.raises(OrthornnError, match=r"^test_at: the checkpoint at step 1 .* reached stop_accuracy=0.01 there"):
        Trainer(_cfg(stop_accuracy=0.01, test_at="best")).load_state_dict(cps[1])


def test_a_best_tested_run_switched_back_to_final_keeps_the_best_of_every_evaluation():
    _, cps = _checkpoints(_cfg(steps=3, checkpoint_every=3))
    as_best = Trainer(_cfg(steps=6, test_at="best"))
    as_best.load_state_dict(cps[3])
    as_best.run(until=6)
    back = Trainer(_cfg())
    back.load_state_dict(as_best.state_dict())
    hist = back.run()
    uninterrupted = Trainer(_cfg()).run()
    assert hist.summary["best"] == uninterrupted.summary["best"] and "best_since" not in hist.summary
    assert hist.test == uninterrupted.test and "best_since" not in back.state_dict()


def test_bad_settings_are_refused():
    with pytest.raises(OrthornnError, match=r"^test_at: unknown 'last'; choose one of final, best"):
        _cfg(test_at="last")
    with pytest.raises(OrthornnError, match=r"^test_at: applies with test_size only"):
        _cfg(test_size=None, test_at="best")
    with pytest.raises(OrthornnError, match=r"^test_at: applies to tasks copy, varcopy, adding, recall only"):
        TrainConfig(task="babi", model="lstm", test_at="best")
    _, cps = _checkpoints(_cfg(steps=2, checkpoint_every=2))
    state = {**cps[2], "best_since": 3}
    with pytest.raises(CheckpointError, match="its best_since must be an integer from 0 to its step 2, got 3"):
        check_checkpoint(state)


ARGV = ["train", "recall", "--model", "lstm", "--T", "4", "--hidden", "6", "--batch", "8", "--eval-every", "2",
        "--checkpoint-every", "4", "--valid-size", "30", "--test-size", "20", "--lr", "0.03", "--optimizer", "adam",
        "--quiet"]  # fmt: skip


def test_cli_resumes_a_final_tested_run_as_best_and_says_where_the_choice_starts(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*ARGV, "--steps", "4", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--steps", "8", "--test-at", "best"]) == 0
    printed = capsys.readouterr().out
    assert "parameters of the best validation (step " in printed
    assert "chosen among the evaluations after step 4)" in printed


def test_cli_refuses_to_switch_a_run_that_reached_stop_accuracy(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*ARGV, "--steps", "8", "--stop-accuracy", "0.01", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--test-at", "best"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "reached stop_accuracy=0.01 there" in err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--test-at", "last"], "--test-at: invalid choice"),
        (["--test-size", "0", "--test-at", "best"], "--test-size"),
        (["--test-at", "best"], "--test-at: applies with --test-size only"),
    ],
)
def test_cli_bad_test_at_exits_2_with_one_line(extra, needle, tmp_path, capsys):
    argv = [a for a in ARGV if a not in ("--test-size", "20")]
    try:
        code = main([*argv, "--steps", "2", *extra, "--out", str(tmp_path / "r")])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and needle in err
