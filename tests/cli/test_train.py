"""``orthornn train``: outputs, exact --resume, one-line usage errors with exit 2."""

from __future__ import annotations

import json

import pytest
import torch

from orthornn.cli import main

SMALL = [
    "train",
    "copy",
    "--model",
    "rum",
    "--lam",
    "1",
    "--T",
    "4",
    "--S",
    "2",
    "--K",
    "3",
    "--hidden",
    "5",
    "--batch",
    "4",
    "--eval-every",
    "2",
    "--checkpoint-every",
    "2",
    "--quiet",
]


def test_run_writes_config_metrics_checkpoint_and_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*SMALL, "--steps", "4", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"] == "rum" and cfg["lam"] == 1.0 and cfg["steps"] == 4
    lines = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if r["kind"] == "train"] == [1, 2, 3, 4]
    assert [r["step"] for r in lines if r["kind"] == "eval"] == [2, 4]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["parameters"] > 0 and summary["device"] == "cpu"
    assert summary["final"]["baseline"] == pytest.approx(2 * torch.log(torch.tensor(3.0)).item() / 8)
    assert "held-out loss" in capsys.readouterr().out


def test_resume_continues_to_the_uninterrupted_result(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main([*SMALL, "--steps", "6", "--out", str(full)]) == 0
    assert main([*SMALL, "--steps", "2", "--out", str(part)]) == 0
    assert main(["train", "--resume", str(part), "--steps", "6", "--quiet"]) == 0
    a = torch.load(full / "checkpoint.pt", weights_only=False)
    b = torch.load(part / "checkpoint.pt", weights_only=False)
    assert a["step"] == b["step"] == 6
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    fa = (full / "metrics.jsonl").read_text().splitlines()
    fb = (part / "metrics.jsonl").read_text().splitlines()
    strip = lambda lines: [{k: v for k, v in json.loads(ln).items() if k != "seconds"} for ln in lines]  # noqa: E731
    assert strip(fa) == strip(fb)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["copy", "--model", "rum", "--lr", "-1"], "--lr:"),
        (["copy", "--model", "rum", "--hidden", "0"], "--hidden:"),
        (["copy", "--model", "goru", "--eta", "0"], "--eta:"),
        (["copy"], "--model is required"),
        (["recall", "--model", "lstm", "--T", "7"], "--T:"),
        (["copy", "--model", "ltrnn", "--pool", "3"], "--pool:"),
        (["copy", "--model", "rum", "--device", "tpu"], "--device:"),
        (["copy", "--model", "rum", "--optimizer", "sgd"], "--optimizer"),
        (["copy", "--model", "rum", "--steps", "x"], "--steps"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, needle, capsys):
    try:
        code = main(["train", *argv])
    except SystemExit as exc:  # argparse's own errors (choices, types)
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and needle in err


def test_resume_errors(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "no checkpoint.pt" in capsys.readouterr().err
    out = tmp_path / "r"
    assert main([*SMALL, "--steps", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--lr", "0.5"]) == 2
    assert "--lr: the checkpoint was trained with" in capsys.readouterr().err
    assert main([*SMALL, "--steps", "2", "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_non_finite_loss_exits_1_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    from orthornn.train.loop import Trainer

    real = Trainer.train_step

    def poisoned(self):
        return None if self.step == 2 else real(self)  # step 3 has a non-finite loss

    monkeypatch.setattr(Trainer, "train_step", poisoned)
    out = tmp_path / "nan"
    code = main([*SMALL, "--steps", "5", "--checkpoint-every", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "non-finite loss at step 3" in err and "last good checkpoint" in err
    assert torch.load(out / "checkpoint.pt", weights_only=False)["step"] == 2
    assert json.loads((out / "summary.json").read_text())["stopped"].startswith("non-finite loss at step 3")


def test_the_command_restores_the_denormal_mode(tmp_path):
    """`orthornn train` flushes denormals while it runs, and leaves the process as it found it."""
    import torch

    from orthornn.cli import main

    tiny = torch.tensor([1e-310], dtype=torch.float64)
    torch.set_flush_denormal(False)
    assert main(["train", "copy", "--model", "ltrnn", "--T", "3", "--S", "2", "--steps", "2", "--batch", "4", "--quiet"]) == 0
    assert (tiny * 1.0).item() != 0.0
