"""``orthornn train``: outputs, exact --resume, one-line usage errors with exit 2."""

from __future__ import annotations

import json

import pytest
import torch
from cli.records import timeless_records

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
    a = torch.load(full / "checkpoint.pt", weights_only=True)
    b = torch.load(part / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 6
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert timeless_records(full / "metrics.jsonl") == timeless_records(part / "metrics.jsonl")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["copy", "--model", "rum", "--lr", "-1"], "--lr:"),
        (["copy", "--model", "rum", "--optimizer", "adam", "--lr", "1e38"], "--lr: must be at most 1e+06"),
        (["copy", "--model", "rum", "--hidden", "0"], "--hidden:"),
        (["copy", "--model", "goru", "--eta", "0"], "--eta:"),
        (["copy"], "--model is required"),
        (["recall", "--model", "lstm", "--T", "7"], "--T:"),
        (["copy", "--model", "ltrnn", "--pool", "3"], "--pool:"),
        (["copy", "--model", "rum", "--device", "tpu"], "--device:"),
        (["copy", "--model", "rum", "--optimizer", "sgd"], "--optimizer"),
        (["copy", "--model", "rum", "--steps", "x"], "--steps"),
        (["recall", "--model", "rum", "--stop-accuracy", "1.5"], "--stop-accuracy: must be an accuracy in (0, 1]"),
        (["copy", "--model", "rum", "--lstm-init", "tf"], "--lstm-init: applies to model lstm only, not 'rum'"),
        (["adding", "--model", "lstm", "--stop-accuracy", "0.9"], "--stop-accuracy: task adding reports no accuracy"),
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
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2
    assert json.loads((out / "summary.json").read_text())["stopped"].startswith("non-finite loss at step 3")


def test_the_command_restores_the_denormal_mode(tmp_path):
    """`orthornn train` flushes denormals while it runs, and leaves the process as it found it."""
    import torch

    from orthornn.cli import main

    tiny = torch.tensor([1e-310], dtype=torch.float64)
    torch.set_flush_denormal(False)
    assert (
        main(["train", "copy", "--model", "ltrnn", "--T", "3", "--S", "2", "--steps", "2", "--batch", "4", "--quiet"])
        == 0
    )
    assert (tiny * 1.0).item() != 0.0


def _exit(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return exc.code


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.fixture
def saved_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*SMALL, "--steps", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    return out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "config.json: not JSON (Expecting property name"),
        (b"[1, 2]", "config.json: expected a JSON object of config fields, got an array"),
        (b'"rum"', "config.json: expected a JSON object of config fields, got a string"),
        (b"\xff\xfe{}", "config.json: not UTF-8 text"),
        (b'{"colour": 1}', "config.json: unknown config fields: colour"),
        (b'{"task": "copy", "model": "rum", "lr": "fast"}', "config.json: lr: must be a positive number, got 'fast'"),
        (b'{"task": "copy", "model": "rum", "device": 7}', "config.json: device: must be auto, cpu, cuda or cuda:N"),
    ],
)
def test_resume_with_a_corrupt_config_exits_2_naming_the_file(saved_run, content, needle, capsys):
    (saved_run / "config.json").write_bytes(content)
    assert _exit(["train", "--resume", str(saved_run), "--quiet"]) == 2
    err = _one_line(capsys)
    assert err.startswith(f"orthornn train: error: --resume {saved_run}: {saved_run / 'config.json'}") and needle in err


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_bytes(b"garbage"), "checkpoint.pt: refused by the safe loader"),
        (lambda p: p.write_bytes(b""), "checkpoint.pt: cannot read it as a checkpoint (EOFError"),
        (lambda p: p.write_bytes(p.read_bytes()[:300]), "checkpoint.pt: cannot read it as a checkpoint (RuntimeError"),
        (lambda p: torch.save([1, 2], p), "checkpoint.pt: not an orthornn checkpoint of format 1"),
        (lambda p: torch.save({**torch.load(p), "step": "two"}, p), "checkpoint.pt: its step must be"),
    ],
)
def test_resume_with_a_corrupt_checkpoint_exits_2_naming_the_file(saved_run, make, needle, capsys):
    make(saved_run / "checkpoint.pt")
    assert _exit(["train", "--resume", str(saved_run), "--quiet"]) == 2
    err = _one_line(capsys)
    assert f"--resume {saved_run}: {saved_run / 'checkpoint.pt'}" in err and needle in err


def test_resume_refuses_a_checkpoint_whose_tensors_do_not_fit(saved_run, capsys):
    state = torch.load(saved_run / "checkpoint.pt")
    key = next(iter(state["model"]))
    state["model"][key] = torch.zeros(2, 2)
    torch.save(state, saved_run / "checkpoint.pt")
    assert _exit(["train", "--resume", str(saved_run), "--quiet"]) == 2
    err = _one_line(capsys)
    assert f"{saved_run / 'checkpoint.pt'}: its model or optimizer state does not fit a rum" in err


def test_resume_refuses_a_config_json_that_disagrees_with_the_checkpoint(saved_run, capsys):
    cfg = json.loads((saved_run / "config.json").read_text())
    (saved_run / "config.json").write_text(json.dumps({**cfg, "lr": 0.5}))
    assert _exit(["train", "--resume", str(saved_run), "--quiet"]) == 2
    assert "config.json and " in _one_line(capsys)


def test_resume_with_corrupt_metrics_names_the_line(saved_run, capsys):
    with (saved_run / "metrics.jsonl").open("a") as f:
        f.write('{"kind": "train"}\n')
    assert _exit(["train", "--resume", str(saved_run), "--quiet"]) == 2
    assert f"{saved_run / 'metrics.jsonl'}: line 4 is not a metrics record (no step)" in _one_line(capsys)


class _Plant:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):  # unpickling this creates the file
        return (open, (self.path, "w"))


def test_resume_refuses_a_checkpoint_that_would_run_code(saved_run, tmp_path, capsys):
    marker = tmp_path / "planted"
    state = torch.load(saved_run / "checkpoint.pt")
    torch.save({**state, "best": {"loss": 1.0, "x": _Plant(marker)}}, saved_run / "checkpoint.pt")
    assert _exit(["train", "--resume", str(saved_run), "--steps", "4", "--quiet"]) == 2
    err = _one_line(capsys)
    assert "checkpoint.pt: refused" in err and "could run code" in err
    assert not marker.exists()
    assert _exit(["spectrum", str(saved_run)]) == 2  # the other reader of run folders
    assert "refused" in _one_line(capsys) and not marker.exists()


def test_a_run_that_stops_before_its_first_checkpoint_keeps_the_initial_one(tmp_path, capsys):
    """The issue's command: --lr 1e6 blows up at step 2, long before --checkpoint-every 100."""
    from orthornn.train import TrainConfig, Trainer

    out = tmp_path / "N"
    argv = ["train", "copy", "--model", "ltrnn", "--hidden", "32", "--T", "10", "--steps", "300", "--lr", "1e6"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"last good checkpoint: {out / 'checkpoint.pt'} (step 0), the initial parameters" in err
    state = torch.load(out / "checkpoint.pt")  # it exists, and holds what the message says
    initial = Trainer(TrainConfig.from_dict(json.loads((out / "config.json").read_text()))).model.state_dict()
    assert state["step"] == 0 and all(torch.equal(v, initial[k]) for k, v in state["model"].items())
    stop = err.strip().splitlines()[-1]
    # resuming reruns the same steps and stops at the same place, with the same true message
    assert main(["train", "--resume", str(out), "--quiet"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == stop
    steps = [json.loads(ln)["step"] for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[0] == 1  # no duplicated records


def test_a_fresh_run_does_not_append_to_stale_metrics(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"kind": "train", "step": 99}\n')
    assert main([*SMALL, "--steps", "2", "--out", str(out)]) == 0
    assert [json.loads(ln)["step"] for ln in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["recall", "--model", "rum", "--init", "identity"], "--init: applies to model ltrnn only, not 'rum'"),
        (["copy", "--model", "ltrnn", "--lam", "1"], "--lam: applies to models rum, fsrum only, not 'ltrnn'"),
        (["copy", "--model", "lstm", "--learn-lam"], "--learn-lam: applies to models rum, fsrum only, not 'lstm'"),
        (["copy", "--model", "goru", "--eta", "1"], "--eta: applies to models rum, fsrum only, not 'goru'"),
        (["copy", "--model", "rum", "--pool", "2"], "--pool: applies to model ltrnn only, not 'rum'"),
        (["copy", "--model", "gru", "--act-clip", "5"], "--act-clip: applies to model ltrnn only, not 'gru'"),
        (["copy", "--model", "eunn", "--ortho-lr", "0.1"], "--ortho-lr: applies to model ltrnn only, not 'eunn'"),
        (["copy", "--model", "rum", "--activation", "relu"], "--activation: applies to model ltrnn only, not 'rum'"),
        (["recall", "--model", "rum", "--S", "3"], "--S: applies to tasks copy, varcopy only, not 'recall'"),
        (["adding", "--model", "ltrnn", "--K", "4"], "--K: applies to tasks copy, varcopy only, not 'adding'"),
        # the default value too: an option given is an option that must act
        (["copy", "--model", "rum", "--init", "orthogonal"], "--init: applies to model ltrnn only, not 'rum'"),
        (
            ["copy", "--model", "lstm", "--rum-init", "glorot"],
            "--rum-init: applies to models rum, fsrum only, not 'lstm'",
        ),
        (
            ["copy", "--model", "ltrnn", "--readout-init", "glorot-io"],
            "--readout-init: applies to models rum, eunn, goru, lstm, gru, fsrum only, not 'ltrnn'",
        ),
        (["recall", "--model", "rum", "--train-order", "cycle"], "--train-order: applies with --train-size only"),
        (
            ["recall", "--model", "rum", "--valid-size", "8", "--eval-batches", "4"],
            "--eval-batches: applies without --valid-size only",
        ),
    ],
)
def test_options_that_do_not_act_are_refused(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert _exit(["train", *argv, "--steps", "1", "--out", str(out), "--quiet"]) == 2
    assert _one_line(capsys) == f"orthornn train: error: {message}"
    assert not out.exists()  # refused before anything is written


def test_the_saved_config_holds_only_what_acted(tmp_path):
    rum, lt = tmp_path / "rum", tmp_path / "lt"
    assert main([*SMALL, "--steps", "1", "--out", str(rum)]) == 0
    cfg = json.loads((rum / "config.json").read_text())
    assert {"lam", "learn_lam", "eta", "S", "K"} <= set(cfg)
    assert not {"init", "activation", "pool", "act_clip", "ortho_lr"} & set(cfg)
    argv = ["train", "recall", "--model", "ltrnn", "--T", "4", "--hidden", "4", "--batch", "2", "--steps", "1"]
    assert main([*argv, "--init", "identity", "--out", str(lt), "--quiet"]) == 0
    cfg = json.loads((lt / "config.json").read_text())
    assert cfg["init"] == "identity" and not {"lam", "learn_lam", "eta", "S", "K"} & set(cfg)
    assert _exit(["train", "--resume", str(lt), "--lam", "1", "--quiet"]) == 2  # refused on resume too


def test_out_must_be_a_folder_that_can_be_made(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert _exit([*SMALL, "--out", str(f)]) == 2
    assert _one_line(capsys) == f"orthornn train: error: --out {f}: exists and is not a folder"
    assert _exit([*SMALL, "--out", "/proc/x"]) == 2
    assert (
        _one_line(capsys)
        == "orthornn train: error: --out /proc/x: cannot create a folder there (No such file or directory)"
    )
    assert _exit([*SMALL, "--out", str(f / "run")]) == 2
    assert _one_line(capsys) == f"orthornn train: error: --out {f / 'run'}: {f} is not a folder"
    assert _exit(["train", "--resume", str(f)]) == 2
    assert _one_line(capsys) == f"orthornn train: error: --resume {f}: not a folder"


def test_a_failed_checkpoint_write_is_one_line(tmp_path, capsys, monkeypatch):
    def full(obj, path):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    monkeypatch.setattr(torch, "save", full)
    out = tmp_path / "run"
    assert _exit([*SMALL, "--steps", "2", "--out", str(out)]) == 2
    err = _one_line(capsys)
    assert f"--out {out}: cannot write {out / 'checkpoint.pt'} ([enforce fail" in err
    assert not (out / "checkpoint.pt.tmp").exists()


def test_the_official_setup_flags_act_and_are_saved(tmp_path, capsys):
    """--rum-init, --readout-init, --train-size, --train-order, --valid-size, --test-size: each
    lands in config.json, the evaluations run on the validation set, the test set at the end."""
    out = tmp_path / "run"
    argv = ["train", "recall", "--model", "rum", "--lam", "1", "--T", "6", "--hidden", "5", "--batch", "4",
            "--eval-every", "2", "--checkpoint-every", "2", "--quiet", "--rum-init", "orthogonal",
            "--readout-init", "glorot-io", "--train-size", "6", "--train-order", "cycle", "--valid-size", "7",
            "--test-size", "9", "--optimizer", "adam"]  # fmt: skip
    assert main([*argv, "--steps", "4", "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert {k: cfg[k] for k in ("rum_init", "readout_init", "train_size", "train_order", "valid_size", "test_size")} == {
        "rum_init": "orthogonal", "readout_init": "glorot-io", "train_size": 6, "train_order": "cycle",
        "valid_size": 7, "test_size": 9,
    }  # fmt: skip
    assert "eval_batches" not in cfg  # it did not act
    evals = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines() if '"eval"' in ln]
    assert [e["sequences"] for e in evals] == [7, 7]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test"]["sequences"] == 9 and summary["test"]["step"] == 4
    assert "test loss" in capsys.readouterr().out
    # resumed from the step-2 checkpoint: the same test result, bitwise
    part = tmp_path / "part"
    assert main([*argv, "--steps", "2", "--out", str(part)]) == 0
    assert main(["train", "--resume", str(part), "--steps", "4", "--quiet"]) == 0
    assert json.loads((part / "summary.json").read_text())["test"] == summary["test"]
    # the defaults: none of these in the saved config of a plain LSTM run, eval_batches is
    plain = tmp_path / "plain"
    assert main(["train", "recall", "--model", "lstm", "--T", "4", "--hidden", "4", "--batch", "2", "--steps", "1",
                 "--quiet", "--out", str(plain)]) == 0  # fmt: skip
    cfg = json.loads((plain / "config.json").read_text())
    assert cfg["readout_init"] == "torch" and cfg["eval_batches"] == 4 and cfg["train_size"] is None
    assert not {"rum_init", "train_order"} & set(cfg)


def test_stop_accuracy_ends_the_run_says_so_and_saves_where(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "recall", "--model", "lstm", "--T", "4", "--hidden", "6", "--batch", "8", "--steps", "40",
            "--eval-every", "2", "--valid-size", "30", "--test-size", "20", "--lr", "0.03", "--optimizer", "adam",
            "--stop-accuracy", "0.01", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == summary["reached_stop_accuracy_at"] == 2 and summary["test"]["sequences"] == 20
    assert json.loads((out / "config.json").read_text())["stop_accuracy"] == 0.01
    assert "validation accuracy reached 0.01 at step 2" in capsys.readouterr().out
