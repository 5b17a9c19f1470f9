"""Progress bars (tqdm, stderr): shown on a terminal with the time left, silent in logs and
with --quiet; the library itself prints nothing."""

from __future__ import annotations

import io
import re
import sys

from orthornn.cli import main
from orthornn.report.data import Stage

TRAIN = ["train", "copy", "--model", "ltrnn", "--T", "3", "--S", "2", "--hidden", "4", "--batch", "2", "--steps", "5",
         "--eval-every", "5"]  # fmt: skip
FIGURE1 = ["henaff", "figure1", "--K", "2", "4", "--S", "2", "3", "--T", "5", "--d", "4", "--trials", "3"]
TIME_LEFT = re.compile(r"\d\d:\d\d<\d\d:\d\d")  # tqdm's [elapsed<remaining]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _on_terminal(monkeypatch) -> _Terminal:
    """stderr becomes a terminal (inside the test: pytest re-installs its capture between phases)."""
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_train_shows_a_bar_with_the_time_left_on_a_terminal(capsys, monkeypatch):
    terminal = _on_terminal(monkeypatch)
    assert main(TRAIN) == 0
    err = terminal.getvalue()
    assert "ltrnn on copy" in err and "5/5" in err and TIME_LEFT.search(err) and "loss=" in err and "acc=" in err
    assert "step/s" in err or "s/step" in err
    assert "held-out loss" in capsys.readouterr().out  # the summary still goes to stdout


def test_train_is_silent_with_quiet_and_in_logs(capsys, monkeypatch):
    terminal = _on_terminal(monkeypatch)
    assert main([*TRAIN, "--quiet"]) == 0
    assert terminal.getvalue() == ""
    log = io.StringIO()  # not a terminal: a CI log
    monkeypatch.setattr(sys, "stderr", log)
    assert main(TRAIN) == 0
    assert log.getvalue() == ""


def test_a_resumed_run_starts_its_bar_at_the_checkpoint(tmp_path, monkeypatch):
    terminal = _on_terminal(monkeypatch)
    out = tmp_path / "run"
    assert main([*TRAIN, "--out", str(out), "--quiet"]) == 0
    assert main(["train", "--resume", str(out), "--steps", "8"]) == 0
    err = terminal.getvalue()
    assert "5/8" in err and "8/8" in err and "1/8" not in err


def test_figure1_shows_its_cells_on_a_terminal_only(tmp_path, monkeypatch):
    terminal = _on_terminal(monkeypatch)
    assert main([*FIGURE1, "--out", str(tmp_path / "f")]) == 0
    err = terminal.getvalue()
    assert "figure1" in err and "4/4" in err and "cell" in err and TIME_LEFT.search(err)
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    assert main([*FIGURE1, "--out", str(tmp_path / "g")]) == 0
    assert log.getvalue() == ""


def test_figure1_cell_by_cell_is_the_library_grid(tmp_path, capsys):
    """The command computes one cell at a time (for its bar): the same numbers as figure1()."""
    from orthornn.henaff import figure1

    assert main([*FIGURE1, "--seed", "3", "--out", str(tmp_path)]) == 0
    rows = [ln.split(",") for ln in (tmp_path / "figure1.csv").read_text().splitlines()[1:]]
    grid = figure1([2, 4], [2, 3], T=5, d=4, trials=3, seed=3)
    expected = [f"{v:.6f}" for v in grid.success.ravel()]
    assert [r[2] for r in rows] == expected
    assert [r[3] for r in rows] == [f"{v:.6f}" for v in grid.recall.ravel()]


def _stages(progress):
    progress(1, 2, Stage("a", "first stage", "running", 0.0))
    progress(1, 2, Stage("a", "first stage", "ok", 1.25, cpu_seconds=1.0))
    progress(2, 2, Stage("b", "second stage", "running", 0.0))
    progress(2, 2, Stage("b", "second stage", "failed", 0.5, error="RuntimeError: boom"))
    progress.close()


def test_report_stages_log_one_line_each_and_add_a_bar_on_a_terminal(monkeypatch):
    terminal = _on_terminal(monkeypatch)
    from orthornn.cli.report import _Progress

    _stages(_Progress())
    err = terminal.getvalue()
    assert (
        "[1/2] first stage … 1.2 s (CPU 1.0 s)" in err
        and "[2/2] second stage … FAILED after 0.5 s: RuntimeError: boom" in err
    )
    assert "2/2" in err and TIME_LEFT.search(err) and "stage" in err
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    _stages(_Progress())
    assert log.getvalue() == (
        "[1/2] first stage … 1.2 s (CPU 1.0 s)\n[2/2] second stage … FAILED after 0.5 s: RuntimeError: boom\n"
    )


def test_the_library_prints_nothing(capsys):
    from orthornn.train import TrainConfig, Trainer

    Trainer(TrainConfig(task="copy", model="ltrnn", T=3, S=2, hidden=4, batch=2, steps=3, eval_every=3)).run()
    assert capsys.readouterr() == ("", "")


def test_copy_and_crosstalk_show_their_trials_on_a_terminal_only(monkeypatch):
    copy = ["henaff", "copy", "--K", "4", "--S", "3", "--T", "20", "--d", "16", "--trials", "7"]
    cross = ["henaff", "crosstalk", "--S", "2", "3", "--K", "4", "--T", "20", "--d", "16", "--trials", "30"]
    terminal = _on_terminal(monkeypatch)
    assert main(copy) == 0
    assert main(cross) == 0
    err = terminal.getvalue()
    assert "copy, step by step" in err and "7/7" in err and TIME_LEFT.search(err)
    assert "crosstalk S=2" in err and "crosstalk S=3" in err and "30/30" in err
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    assert main(copy) == 0 and main(cross) == 0
    assert log.getvalue() == ""


def test_prove_shows_its_theorems_on_a_terminal_and_keeps_its_table_on_stdout(capsys, monkeypatch):
    terminal = _on_terminal(monkeypatch)
    assert main(["prove", "-k", "rotation.orthogonal"]) == 0
    err, out = terminal.getvalue(), capsys.readouterr().out
    assert "prove" in err and "theorem" in err and TIME_LEFT.search(err)
    assert "rotation.orthogonal" in out and "proved" in out and "prove:" not in out
