"""``orthornn train ptb``: a smoke training that lowers the loss, bits per character of the
best-validation parameters in summary.json, the state carried between windows, exact --resume,
the learning-rate schedule, and bad input refused with one line (exit 2).

Every fixture is written here: small PTB-like files (lines of words from a short list, one file
gzipped); a last test reads the real ``../shared/data/ptb`` and skips where it is absent.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

import pytest
import torch
from cli.guard import poison_head
from cli.records import timeless_records

from orthornn.cli import main
from orthornn.train import TrainConfig, Trainer
from orthornn.train.schedule import lr_factor

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
WORDS = "the cat sat on a mat and the dog ran far away <unk> n't N".split()


def _text(r: random.Random, lines: int) -> bytes:
    return "".join(
        " " + " ".join(r.choice(WORDS) for _ in range(r.randint(3, 9))) + " \n" for _ in range(lines)
    ).encode()


def write_ptb(folder: Path, *, seed: int = 0, lines: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed)
    (folder / "ptb.train.txt").write_bytes(_text(r, lines))
    (folder / "ptb.valid.txt").write_bytes(_text(r, lines // 6))
    (folder / "ptb.test.txt.gz").write_bytes(gzip.compress(_text(r, lines // 6)))
    return folder


@pytest.fixture
def data(tmp_path) -> Path:
    root = tmp_path / "data"
    write_ptb(root / "ptb")
    return root


def _argv(data: Path, *extra: str, model: str = "rum") -> list[str]:
    small = ["--hidden", "8", "--embed", "6", "--batch", "4", "--bptt", "16", "--eval-every", "2",
             "--checkpoint-every", "2", "--quiet"]  # fmt: skip
    return ["train", "ptb", "--data", str(data), "--model", model, "--optimizer", "adam", *small, *extra]


def _cfg(data: Path, **kw) -> TrainConfig:
    base = {"task": "ptb", "model": "rum", "data": str(data), "hidden": 8, "embed": 6, "batch": 4, "bptt": 16,
            "optimizer": "adam", "dtype": "float64", "steps": 4, "eval_every": 2}  # fmt: skip
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("model", ["rum", "fsrum", "lstm"])
def test_smoke_training_writes_the_test_bpc_of_the_best_validation(data, tmp_path, capsys, model):
    out = tmp_path / "run"
    extra = ["--fast-hidden", "6", "--zoneout", "0.1", "--cell-zoneout", "0.3"] if model == "fsrum" else []
    assert main([*_argv(data, "--steps", "4", "--dropout", "0.2", "--out", str(out), *extra, model=model)]) == 0
    assert {p.name for p in out.iterdir()} == {"config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["task"] == "ptb" and cfg["bptt"] == 16 and cfg["lr_schedule"] == "constant"
    assert Path(cfg["data"]).is_absolute() and "T" not in cfg and "babi_task" not in cfg
    lines = timeless_records(out / "metrics.jsonl")
    assert [r["step"] for r in lines if r["kind"] == "train"] == [1, 2, 3, 4]
    evals = [r for r in lines if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [2, 4]
    assert all(r["bpc"] == pytest.approx(r["loss"] / math.log(2), rel=1e-12) for r in lines)
    summary = json.loads((out / "summary.json").read_text())
    test, ptb = summary["test"], summary["ptb"]
    assert summary["test_bpc"] == test["bpc"] and test["parameters_of"] == "best validation"
    assert test["step"] == summary["best"]["step"] == min(evals, key=lambda r: r["loss"])["step"]
    n = ptb["characters"]["test"] // 4
    assert test["characters"] == 4 * (n - 1)  # every prediction of the 4 test streams once
    assert ptb["files"]["test"].endswith("ptb.test.txt.gz") and ptb["vocab_size"] == len(set(ptb["vocab"]))
    assert summary["epochs"] == pytest.approx(4 / ptb["windows_per_epoch"])
    assert "bits per character" in capsys.readouterr().out


def test_training_lowers_the_validation_bpc_below_the_unigram_baseline(data):
    trainer = Trainer(_cfg(data, model="lstm", hidden=16, lr=0.02, steps=40, eval_every=40))
    before = trainer.evaluate()
    hist = trainer.run()
    after = hist.evals[-1]
    assert after["bpc"] < before["bpc"] - 0.5
    assert after["beats_baseline"] and after["loss"] < trainer.stream.baseline
    first, last = hist.train[:5], hist.train[-5:]
    assert sum(r["loss"] for r in last) < sum(r["loss"] for r in first)


def test_the_trainer_carries_the_state_across_windows_and_restarts_it_each_epoch(data):
    """With a learning rate too small to move a float64 parameter, the carried state after
    window j is the state of one pass over windows 0..j of the epoch's streams; the first window
    of an epoch starts from zero."""
    trainer = Trainer(_cfg(data, lam=1.0, lr=1e-300, steps=200))
    W, S = trainer.stream.windows_per_epoch, trainer.stream.streams["train"]
    assert W >= 3
    params = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.model.train()  # as in training (no dropout or zoneout here: deterministic)
    for j in range(W + 2):
        assert trainer.train_step() is not None
        start = W if j >= W else 0
        with torch.no_grad():
            _, ref = trainer.model(torch.as_tensor(S[:, : min((j + 1 - start) * 16, S.shape[1] - 1)]))
        for a, b in zip(_tensors(trainer.carry), _tensors(ref), strict=True):
            torch.testing.assert_close(a, b, atol=1e-11, rtol=0)
        assert all(not t.requires_grad for t in _tensors(trainer.carry))
    moved = max(float((params[k] - v).abs().max()) for k, v in trainer.model.state_dict().items())
    assert moved < 1e-250  # (a zero parameter moves to ~1e-300, nothing else moves)


def _tensors(state):
    if isinstance(state, list | tuple):
        return [t for s in state for t in _tensors(s)]
    return [] if state is None else [state]


def test_resume_continues_to_the_uninterrupted_result(data, tmp_path):
    """Crossing an epoch boundary (the state restarts) and resuming mid-epoch (the carried state
    comes from the checkpoint)."""
    full, part = tmp_path / "full", tmp_path / "part"
    extra = ["--dropout", "0.3", "--zoneout", "0.2", "--layer-norm", "--lam", "1"]
    steps = Trainer(_cfg(data)).stream.windows_per_epoch + 3
    assert main([*_argv(data, "--steps", str(steps), "--out", str(full), *extra)]) == 0
    assert main([*_argv(data, "--steps", "2", "--out", str(part), *extra)]) == 0
    assert main(["train", "--resume", str(part), "--steps", str(steps), "--quiet"]) == 0
    a = torch.load(full / "checkpoint.pt", weights_only=True)
    b = torch.load(part / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == steps
    for key in ("model", "best_model"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
    assert all(torch.equal(x, y) for x, y in zip(_tensors(a["carry"]), _tensors(b["carry"]), strict=True))
    assert timeless_records(full / "metrics.jsonl") == timeless_records(part / "metrics.jsonl")
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (full, part))
    assert sa["test"] == sb["test"] and sa["best"] == sb["best"]


def test_a_run_resumed_from_a_mid_run_checkpoint_ends_where_the_uninterrupted_one_does(data):
    """With the paper's schedule (a function of the step and the run's steps) and FS-RUM's
    zoneouts and dropout: the checkpoint of step 5 (mid-epoch, the carried state in it) resumed."""
    cfg = _cfg(data, model="fsrum", fast_hidden=5, zoneout=0.1, cell_zoneout=0.5, dropout=0.2, lr_schedule="paper",
               steps=12, checkpoint_every=5, eval_every=4)  # fmt: skip
    saved: dict[int, dict] = {}
    full = Trainer(cfg)
    assert 5 % full.stream.windows_per_epoch != 0
    hist = full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[5])
    again = resumed.run()
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["loss"] for r in hist.train[5:]] == [r["loss"] for r in again.train]
    assert hist.test == again.test and hist.summary["test_bpc"] == again.summary["test_bpc"]


def test_a_non_finite_loss_stops_the_run_before_it_updates_or_carries_anything(data):
    trainer = Trainer(_cfg(data, steps=6, eval_every=1, checkpoint_every=1))
    before = poison_head(trainer)
    carried = [t.clone() for t in _tensors(trainer.carry)]
    saved: list[int] = []
    hist = trainer.run(on_checkpoint=lambda sd: saved.append(sd["step"]))
    assert hist.stopped == "non-finite loss at step 3; stopped, parameters are those after step 2"
    assert trainer.step == 2 and saved == [] and hist.test is None and hist.summary["test_bpc"] is None
    assert all(torch.equal(a, b) for a, b in zip(carried, _tensors(trainer.carry), strict=True))
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) or k == "head.bias" for k in before)


def test_the_paper_schedule_sets_the_rate_of_each_step(data):
    hist = Trainer(_cfg(data, steps=6, lr=0.002, lr_schedule="paper", eval_every=6)).run()
    assert [r["lr"] for r in hist.train] == pytest.approx([0.002] * 3 + [1e-4] + [1e-5] * 2, rel=1e-12)
    assert [lr_factor("paper", k, 6) for k in range(6)] == pytest.approx([1, 1, 1, 0.05, 0.005, 0.005])


def test_the_cosine_schedule_sets_the_rate_of_each_step_and_resumes_exactly(data):
    """½(1 + cos πk/K) of the rate at 0-based step k (the formula written out here), decreasing and
    never 0; the checkpoint of step 3 resumed takes the same rates and ends at the same parameters."""
    import itertools
    import math

    cfg = _cfg(data, steps=6, lr=0.002, lr_schedule="cosine", eval_every=6, checkpoint_every=3)
    saved: dict[int, dict] = {}
    full = Trainer(cfg)
    hist = full.run(on_checkpoint=lambda sd: saved.setdefault(sd["step"], sd))
    want = [0.002 * 0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(6)]
    rates = [r["lr"] for r in hist.train]
    assert rates == pytest.approx(want, rel=1e-12)
    assert rates[0] == 0.002 and rates[-1] > 0 and all(a > b for a, b in itertools.pairwise(rates))
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved[3])
    again = resumed.run()
    assert [r["lr"] for r in again.train] == [r["lr"] for r in hist.train[3:]]
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_schedule_scales_a_learned_lambdas_own_rate_alike(data):
    tr = Trainer(_cfg(data, steps=6, lr=0.002, lam=0.5, learn_lam=True, lam_lr=1e-3, lr_schedule="paper", eval_every=6))
    hist = tr.run()
    assert [r["lr"] for r in hist.train] == pytest.approx([0.002] * 3 + [1e-4] + [1e-5] * 2, rel=1e-12)
    assert [g["lr"] for g in tr.optimizer.param_groups] == pytest.approx([1e-5, 5e-6], rel=1e-12)


def test_the_data_folder_can_come_from_the_environment(data, tmp_path, monkeypatch):
    monkeypatch.setenv("ORTHORNN_DATA", str(data / "ptb"))
    argv = [a for a in _argv(data, "--steps", "2", "--out", str(tmp_path / "env")) if a not in ("--data", str(data))]
    assert main(argv) == 0
    assert json.loads((tmp_path / "env" / "config.json").read_text())["data"] == str((data / "ptb").resolve())


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            ["--T", "5"],
            "--T: applies to tasks copy, varcopy, adding, recall only, not 'ptb' (the window length is --bptt)",
        ),
        (["--bptt", "0"], "--bptt: must be an integer from 1 to 65536, got 0"),
        (["--dropout", "1.5"], "--dropout: must be a probability in [0, 1), got 1.5"),
        (["--lr-schedule", "linear"], "argument --lr-schedule: invalid choice: 'linear'"),
        (["--fast-hidden", "4"], "--fast-hidden: applies to model fsrum only, not 'rum'"),
        (["--cell-zoneout", "0.1"], "--cell-zoneout: applies to model fsrum only, not 'rum'"),
        (["--babi-task", "2"], "--babi-task: applies to task babi only, not 'ptb'"),
        (["--model", "ltrnn"], "--model: task ptb trains the models rum, fsrum, lstm, gru, not 'ltrnn'"),
        (["--model", "lstm", "--layer-norm"], "--layer-norm: applies to model rum only, not 'lstm'"),
        (["--batch", "4000"], "cannot make 4000 streams of at least 2 characters each (lower --batch)"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(data, tmp_path, capsys, extra, needle):
    out = tmp_path / "never"
    assert _exit_code([*_argv(data, "--steps", "2", "--out", str(out)), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
    assert not out.exists()


def test_options_of_ptb_are_refused_on_other_tasks(capsys):
    assert _exit_code(["train", "copy", "--model", "rum", "--bptt", "5", "--steps", "1"]) == 2
    assert "--bptt: applies to task ptb only, not 'copy'" in capsys.readouterr().err


def test_missing_and_malformed_data_exit_2_naming_the_file(data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ORTHORNN_DATA", raising=False)
    argv = [a for a in _argv(data, "--steps", "2") if a not in ("--data", str(data))]
    assert main(argv) == 2 and "--data: task ptb reads its files from a data folder" in capsys.readouterr().err
    assert main(_argv(tmp_path / "absent", "--steps", "2")) == 2
    assert "--data " + str(tmp_path / "absent") + ": not a folder" in capsys.readouterr().err
    valid = data / "ptb" / "ptb.valid.txt"
    valid.write_bytes(valid.read_bytes() + b" caf\xc3\xa9 \n")
    assert main(_argv(data, "--steps", "2")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{valid}: line " in err and "byte 0xc3" in err and "vocabulary" in err
    valid.unlink()
    assert main(_argv(data, "--steps", "2")) == 2
    assert f"{valid}: no such file (nor ptb.valid.txt.gz); expected DIR/ptb/ptb.{{train,valid,test}}.txt" in (
        capsys.readouterr().err
    )


def test_a_carry_that_does_not_fit_is_refused_on_resume(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*_argv(data, "--steps", "3", "--checkpoint-every", "3", "--out", str(out))]) == 0
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    state["carry"] = [torch.zeros(3, 8), None]  # a batch of 3, not 4
    torch.save(state, out / "checkpoint.pt")
    assert main(["train", "--resume", str(out), "--steps", "4", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "carried state" in err


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code)


needs_shared = pytest.mark.skipif(not (SHARED / "ptb").is_dir(), reason="../shared/data/ptb is absent")


@needs_shared
def test_the_shared_ptb_streams_as_the_paper_s_setting():
    from orthornn.train.data import CharStream

    s = CharStream(TrainConfig(task="ptb", model="rum", data=str(SHARED), batch=128, bptt=150), device="cpu")
    assert s.input_size == s.output_size == 50
    assert s.windows_per_epoch == math.ceil((5_101_618 // 128 - 1) / 150)  # 266 windows of 150
    b = s.batch(0)
    assert tuple(b.x.shape) == (128, 150) and torch.equal(b.x[:, 1:], b.y[:, :-1])
    assert s.characters == {"train": 128 * (5_101_618 // 128 - 1), "valid": 128 * (399_782 // 128 - 1),
                            "test": 128 * (449_945 // 128 - 1)}  # fmt: skip
