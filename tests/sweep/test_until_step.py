"""``--until-step``: a sweep that trains every run of the tiny grid to an equal step budget and
pauses it there, resumable; the same command skips the paused runs, and a later sweep without it
ends each run where the uninterrupted reference sweep ended."""

from __future__ import annotations

import json

import pytest
from sweep.tiny_grid import TINY, results, steps_done

from orthornn.cli import main
from orthornn.sweep.launch import Launch, run_sweep
from orthornn.sweep.state import read_metrics, run_status
from orthornn.train.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow

UNTIL = 130  # neither an evaluation's step (every 50) nor a checkpoint's (every 25)


def test_paused_at_the_step_skipped_at_it_then_continued_to_the_uninterrupted_end(reference, tmp_path, capsys):
    _, runs, recs = reference
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = tmp_path / "out"
    argv = ["sweep", str(config), "--out", str(out), "--workers", "2"]

    assert main([*argv, "--until-step", str(UNTIL)]) == 0  # every run did what was asked
    printed = capsys.readouterr()
    assert printed.out.count("] pause ") == 2 and "paused at step 130" in printed.out and "2 paused" in printed.out
    assert printed.err == ""
    for run in runs:
        folder = out / "runs" / run.name
        assert not (folder / "summary.json").exists()
        assert load_checkpoint(folder / "checkpoint.pt")["step"] == UNTIL
        assert run_status(folder, run.config).kind == "resumable" and steps_done(folder) == UNTIL
        assert [r["step"] for r in read_metrics(folder / "metrics.jsonl") if r["kind"] == "eval"] == [50, 100]
    summary = (out / "summary.md").read_text()
    assert "each run to step 130 at most (--until-step)" in summary and "--until-step 130" in summary
    assert summary.count(": paused: paused at step 130") == 2

    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")}
    assert main([*argv, "--until-step", str(UNTIL)]) == 0  # the same command again trains nothing
    lines = capsys.readouterr().out.splitlines()
    assert sum("] skip " in ln and "at step 130, not before --until-step 130" in ln for ln in lines) == 2
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")} == before

    assert main([*argv, "--until-step", "200", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("resume from step 130, to step 200 (pause there)") == 2
    assert main([*argv, "--until-step", "100", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("skip (at step 130, not before --until-step 100)") == 2

    assert main(argv) == 0  # without it: on to the config's steps
    assert results(out, runs) == recs  # bitwise the uninterrupted sweep's records


def test_a_run_paused_in_the_library_returns_paused_and_a_larger_budget_continues_it(reference, tmp_path):
    _, runs, recs = reference
    events = []
    first = run_sweep(runs[:1], tmp_path, Launch(until_step=60), on_event=events.append)
    assert first.status == {runs[0].name: "paused"} and not first.ok
    assert first.unfinished() == [(runs[0], "paused", "paused at step 60")]
    assert [e.kind for e in events] == ["start", "pause"] and events[-1].counts.paused == 1
    assert events[-1].counts.waiting == 0 and events[-1].outcome.resumed_from is None
    second = run_sweep(runs[:1], tmp_path, Launch(until_step=250))
    assert second.outcomes[runs[0].name].resumed_from == 60 and second.status[runs[0].name] == "paused"
    third = run_sweep(runs[:1], tmp_path, Launch(until_step=10_000))  # past the config's steps: finishes
    assert third.ok and results(tmp_path, runs[:1]) == {runs[0].name: recs[runs[0].name]}


@pytest.mark.parametrize("value", ["0", "-3", "x", "1.5"])
def test_a_bad_until_step_exits_2_with_one_line(tmp_path, capsys, value):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    try:  # argparse's own refusals (not an integer) exit; the sweep's return
        code = main(["sweep", str(config), "--out", str(tmp_path / "out"), "--until-step", value])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--until-step" in err
    assert not (tmp_path / "out").exists()


def test_until_step_with_summary_only_is_refused(tmp_path, capsys):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    argv = ["sweep", str(config), "--out", str(tmp_path / "out"), "--until-step", "5", "--summary-only"]
    assert main(argv) == 2
    assert "--summary-only trains nothing" in capsys.readouterr().err

