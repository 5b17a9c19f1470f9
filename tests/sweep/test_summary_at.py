"""``orthornn sweep --summary-only --at-step K``: every run at its validation evaluation at step
K (an equal budget), whether it finished, was paused at ``--until-step`` or trained past K; the
runs short of K listed where they stand. :func:`~orthornn.sweep.aggregate.eval_at` is the rule."""

from __future__ import annotations

import json
import shutil

import pytest
from sweep.tiny_grid import TINY

from orthornn.cli import main
from orthornn.sweep.aggregate import eval_at, spread
from orthornn.sweep.state import read_record

EVALS = [{"step": s, "loss": 1.0 / s, "accuracy": 0.1} for s in (50, 100, 150)]


@pytest.mark.parametrize(
    ("summary", "step", "expected"),
    [
        (None, 100, 100),  # the evaluation at that step
        ({"final": {}}, 100, 100),
        (None, 120, None),  # no evaluation at 120: other steps are not interpolated
        (None, 200, None),  # a paused run short of the step
        ({"final": {}}, 200, 150),  # a finished run that ended before it: its last evaluation
        ({"final": {}}, 20, None),  # before the first evaluation
    ],
)
def test_eval_at_takes_the_evaluation_at_the_step_or_a_finished_runs_last(summary, step, expected):
    got = eval_at({"evals": EVALS, "summary": summary}, step)
    assert (got and got["step"]) == expected
    if got:
        got["loss"] = -1.0  # a copy: the record is not changed
        assert EVALS[[e["step"] for e in EVALS].index(expected)]["loss"] > 0


def test_eval_at_of_a_run_without_evaluations_is_none():
    assert eval_at({"evals": [], "summary": {"final": {}}}, 10) is None


@pytest.mark.slow
def test_at_step_tables_finished_and_paused_runs_at_the_same_step(reference, tmp_path, capsys):
    """Seed 0 finished (the reference's 300 steps), seed 1 paused at step 130 by a real
    ``--until-step`` sweep: at step 100 both are in the table with their own evaluations there;
    at 150 seed 1 is short of it; at 500 seed 0 counts with its last evaluation (ended before)."""
    ref, runs, _ = reference
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--seeds", "2", "--until-step", "130"]) == 0
    shutil.rmtree(out / "runs" / runs[0].name)
    shutil.copytree(ref / "runs" / runs[0].name, out / "runs" / runs[0].name)
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")}

    def at(step):
        assert main(["sweep", str(config), "--out", str(out), "--summary-only", "--at-step", str(step)]) == 0
        return capsys.readouterr().out, (out / "summary.md").read_text()

    printed, summary = at(100)
    assert "2/2 runs at step 100, 0 short of it;" in printed
    evals = [next(e for e in read_record(out / "runs" / run.name)["evals"] if e["step"] == 100) for run in runs]
    assert evals[0]["loss"] != evals[1]["loss"]
    cells = _row(summary)
    assert cells[2] == "2" and cells[3] == spread([e["loss"] for e in evals])
    assert cells[4] == spread([e["accuracy"] for e in evals]) and cells[-1] == "0"
    assert "at step 100" in summary.splitlines()[0] and "--at-step 100" in summary
    assert (out / "figure.png").stat().st_size > 0

    printed, summary = at(150)
    assert "1/2 runs at step 150, 1 short of it;" in printed
    assert f"{runs[1].title}: last evaluation at step 100, checkpoint at step 130" in summary
    assert '| {"T": 5} | orth | 1 |' in summary

    _, summary = at(500)  # beyond the budget of 300: the finished seed at its last evaluation
    last = read_record(out / "runs" / runs[0].name)["evals"][-1]
    assert last["step"] == 300
    cells = _row(summary)
    assert cells[2] == "1" and cells[3] == spread([last["loss"]]) and cells[-1] == "1"
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")} == before  # trained and wrote nothing


def _row(summary: str) -> list[str]:
    """The cells of the one table row of the tiny grid's run."""
    (row,) = [line for line in summary.splitlines() if line.startswith('| {"T": 5} | orth |')]
    return [c.strip() for c in row.split("|")[1:-1]]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--at-step", "100"], "give it with --summary-only"),
        (["--summary-only", "--at-step", "0"], "--at-step must be a step >= 1, not 0"),
        (["--summary-only", "--at-step", "x"], "invalid int value: 'x'"),
    ],
)
def test_bad_at_step_exits_2_with_one_line(tmp_path, capsys, extra, message):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    try:
        code = main(["sweep", str(config), "--out", str(tmp_path / "out"), *extra])
    except SystemExit as exc:  # argparse's own refusal of a value that is not an int
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) <= 2, err  # usage line + error
    assert not (tmp_path / "out").exists()
