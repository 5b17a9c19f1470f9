"""``orthornn train babi``: a smoke training on a bAbI fixture, exact --resume, the best-validation
test, the non-finite-loss guard, ``--babi-task all`` and one-line usage errors (exit 2).

Every fixture is written here: small bAbI-format files of stories of random length (task 1's
training file gzipped), in the layout ``DATA/babi/{en,en-10k}/qa{N}_{name}_{train,test}.txt``.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
import torch
from cli.guard import poison_head
from cli.records import timeless_records

from orthornn.cli import main
from orthornn.datasets.babi import TASKS
from orthornn.train import TrainConfig, Trainer
from orthornn.train.metrics import task_loss

PEOPLE = ["Mary", "John", "Sandra", "Daniel"]
PLACES = ["kitchen", "garden", "office", "hallway", "bathroom"]


def _story(r: random.Random, statements: int) -> list[str]:
    """One story: people moving about, a question after every other statement."""
    lines, where, n = [], {}, 0
    for k in range(statements):
        n += 1
        who, place = r.choice(PEOPLE), r.choice(PLACES)
        where[who] = (place, n)
        lines.append(f"{n} {who} moved to the {place}.")
        if k % 2:
            n += 1
            asked = r.choice(sorted(where))
            lines.append(f"{n} Where is {asked}? \t{where[asked][0]}\t{where[asked][1]}")
    return lines


def write_task(folder: Path, task: int, *, stories: int = 12, seed: int = 0, gz_train: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed * 100 + task)
    for split, count in (("train", stories), ("test", max(2, stories // 3))):
        text = "\n".join(ln for _ in range(count) for ln in _story(r, r.choice([2, 4, 10]))) + "\n"
        path = folder / f"qa{task}_{TASKS[task]}_{split}.txt"
        if gz_train and split == "train":
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)


@pytest.fixture
def data(tmp_path) -> Path:
    root = tmp_path / "data"
    write_task(root / "babi" / "en", 1, gz_train=True)
    return root


def _argv(data: Path, *extra: str) -> list[str]:
    small = ["--hidden", "6", "--batch", "8", "--eval-every", "2", "--checkpoint-every", "2", "--quiet"]
    return ["train", "babi", "--data", str(data), "--model", "rum", "--optimizer", "adam", *small, *extra]


def test_smoke_training_writes_summary_with_test_accuracy(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*_argv(data, "--steps", "4", "--out", str(out))]) == 0
    assert {p.name for p in out.iterdir()} == {"config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["task"] == "babi" and cfg["babi_task"] == 1 and cfg["babi_set"] == "en"
    assert Path(cfg["data"]).is_absolute() and "T" not in cfg and "eval_batches" not in cfg
    lines = timeless_records(out / "metrics.jsonl")
    assert [r["step"] for r in lines if r["kind"] == "train"] == [1, 2, 3, 4]
    assert [r["step"] for r in lines if r["kind"] == "eval"] == [2, 4]
    summary = json.loads((out / "summary.json").read_text())
    test, babi = summary["test"], summary["babi"]
    assert 0.0 <= test["accuracy"] <= 1.0 and test["sequences"] == babi["questions"]["test"]
    assert test["parameters_of"] == "best validation" and test["step"] == summary["best"]["step"]
    assert babi["train_file"].endswith("qa1_single-supporting-fact_train.txt.gz")
    assert summary["best"]["sequences"] == babi["questions"]["valid"]
    assert summary["epochs"] == pytest.approx(4 / -(-babi["questions"]["train"] // 8))
    assert "test loss" in capsys.readouterr().out


def test_resume_continues_to_the_uninterrupted_result(data, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main([*_argv(data, "--steps", "6", "--out", str(full))]) == 0
    assert main([*_argv(data, "--steps", "2", "--out", str(part))]) == 0
    assert main(["train", "--resume", str(part), "--steps", "6", "--quiet"]) == 0
    a = torch.load(full / "checkpoint.pt", weights_only=True)
    b = torch.load(part / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 6
    for key in ("model", "best_model"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
    assert timeless_records(full / "metrics.jsonl") == timeless_records(part / "metrics.jsonl")
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (full, part))
    assert sa["test"] == sb["test"] and sa["best"] == sb["best"]


@pytest.mark.parametrize("best_by", ["loss", "accuracy"])
def test_the_test_set_is_scored_with_the_best_validation_parameters(data, best_by):
    cfg = TrainConfig(task="babi", model="lstm", data=str(data), hidden=6, batch=8, steps=8, eval_every=1,
                      optimizer="adam", lr=0.05, dtype="float64", best_by=best_by, checkpoint_every=1)  # fmt: skip
    trainer = Trainer(cfg)
    saved: dict[int, dict] = {}
    hist = trainer.run(on_checkpoint=lambda sd: saved.__setitem__(sd["step"], sd))
    if best_by == "loss":
        best = min(hist.evals, key=lambda e: e["loss"])
    else:  # the highest accuracy, the earliest of the evaluations that reach it
        best = next(e for e in hist.evals if e["accuracy"] == max(e["accuracy"] for e in hist.evals))
    assert hist.test["step"] == best["step"] == trainer.best["step"]
    at_best = saved[best["step"]]["model"]
    assert all(torch.equal(trainer.best_model[k], at_best[k]) for k in at_best)
    trainer.model.load_state_dict(at_best)
    again = trainer.evaluate("test")
    assert {k: v for k, v in hist.test.items() if k not in ("step", "parameters_of")} == {
        k: v for k, v in again.items() if k != "step"
    }


@pytest.mark.parametrize("model", ["rum", "lstm"])
def test_a_non_finite_loss_stops_the_run_before_it_updates_anything(data, model):
    cfg = TrainConfig(task="babi", model=model, data=str(data), hidden=6, batch=8, steps=6, eval_every=1,
                      optimizer="adam", dtype="float64", checkpoint_every=1)  # fmt: skip
    trainer = Trainer(cfg)
    before = poison_head(trainer)
    saved: list[int] = []
    hist = trainer.run(on_checkpoint=lambda sd: saved.append(sd["step"]))
    assert hist.stopped == "non-finite loss at step 3; stopped, parameters are those after step 2"
    assert trainer.step == 2 and saved == [] and hist.test is None
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k != "head.bias")


@pytest.mark.parametrize("model", ["rum", "lstm"])
def test_a_question_scores_alike_in_any_batch(data, model):
    """Blanks after a sequence never reach its last output: padding (and so bucketing) changes
    no prediction."""
    cfg = TrainConfig(task="babi", model=model, data=str(data), hidden=6, batch=4, steps=1, dtype="float64")
    trainer = Trainer(cfg)
    stream, part = trainer.stream, trainer.stream.train_set
    short, long_ = int(part.lengths.argmin()), int(part.lengths.argmax())
    assert part.lengths[long_] > part.lengths[short]
    with torch.no_grad():
        alone = stream.encode(*part.pad([short]))
        mixed = stream.encode(*part.pad([short, long_]))
        s_alone, _ = trainer.model(alone.x)
        s_mixed, _ = trainer.model(mixed.x)
        loss_alone, _ = task_loss("babi", stream.task, s_alone, alone.y, alone.last)
    assert mixed.x.shape[1] > alone.x.shape[1]
    torch.testing.assert_close(s_mixed[0, mixed.last[0]], s_alone[0, alone.last[0]], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(loss_alone, torch.nn.functional.cross_entropy(s_alone[:, -1], alone.y))


def test_the_data_folder_can_come_from_the_environment(data, tmp_path, monkeypatch):
    monkeypatch.setenv("ORTHORNN_DATA", str(data))
    argv = [a for a in _argv(data, "--steps", "2", "--out", str(tmp_path / "env")) if a not in ("--data", str(data))]
    assert main(argv) == 0
    assert json.loads((tmp_path / "env" / "config.json").read_text())["data"] == str(data.resolve())


def test_all_tasks_run_one_by_one_and_summarise_per_task(tmp_path):
    root = tmp_path / "data"
    for n in TASKS:
        write_task(root / "babi" / "en-10k", n, stories=6)
    write_task(root / "babi" / "en", 3, stories=6, seed=1)
    (root / "babi" / "en-10k" / "qa3_three-supporting-facts_train.txt").unlink()  # as the shared copy
    out = tmp_path / "all"
    argv = ["train", "babi", "--data", str(root), "--babi-task", "all", "--babi-set", "en-10k", "--model", "gru",
            "--hidden", "4", "--batch", "4", "--steps", "2", "--eval-every", "2", "--quiet"]  # fmt: skip
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["tasks"]
    assert [r["babi_task"] for r in rows] == list(range(1, 21)) and summary["tasks_tested"] == 20
    assert all(0.0 <= r["test_accuracy"] <= 1.0 and r["steps"] == 2 for r in rows)
    assert summary["mean_test_accuracy"] == pytest.approx(sum(r["test_accuracy"] for r in rows) / 20)
    assert rows[2]["babi_set"] == "en" and "no task-3 training file" in rows[2]["note"]
    assert {r["babi_set"] for i, r in enumerate(rows) if i != 2} == {"en-10k"}
    for r in rows:
        sub = json.loads((out / r["folder"] / "summary.json").read_text())
        assert sub["test"]["accuracy"] == r["test_accuracy"] and sub["babi"]["task"] == r["babi_task"]
    assert json.loads((out / "qa3" / "config.json").read_text())["babi_set"] == "en"
    assert main(["train", "--resume", str(out), "--steps", "3", "--quiet"]) == 0
    again = json.loads((out / "summary.json").read_text())
    assert [r["steps"] for r in again["tasks"]] == [3] * 20


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--babi-task", "21"], "argument --babi-task: expected a task number from 1 to 20 or 'all', got '21'"),
        (["--babi-task", "0"], "argument --babi-task:"),
        (["--babi-task", "x"], "argument --babi-task:"),
        (["--babi-set", "fr"], "argument --babi-set: invalid choice: 'fr'"),
        (["--babi-split", "page"], "argument --babi-split: invalid choice: 'page'"),
        (["--babi-task", "2"], "qa2_two-supporting-facts_train.txt: no such file"),
        (["--babi-set", "en-10k"], "no folder babi/en-10k"),
        (["--T", "5"], "--T: applies to tasks copy, varcopy, adding, recall only, not 'babi'"),
        (["--valid-size", "5"], "--valid-size: applies to tasks copy, varcopy, adding, recall only"),
        (["--S", "5"], "--S: applies to tasks copy, varcopy only, not 'babi'"),
        (["--best-by", "bpc"], "argument --best-by: invalid choice: 'bpc'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(data, tmp_path, capsys, extra, needle):
    out = tmp_path / "never"
    assert _exit_code([*_argv(data, "--steps", "2", "--out", str(out)), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
    assert not out.exists()


def test_missing_and_malformed_data_exit_2_naming_the_file(data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ORTHORNN_DATA", raising=False)
    argv = [a for a in _argv(data, "--steps", "2") if a not in ("--data", str(data))]
    assert main(argv) == 2 and "--data: task babi reads its files from a data folder" in capsys.readouterr().err
    assert main(_argv(tmp_path / "absent", "--steps", "2")) == 2
    assert "--data " + str(tmp_path / "absent") + ": not a folder" in capsys.readouterr().err
    test_file = data / "babi" / "en" / "qa1_single-supporting-fact_test.txt"
    test_file.write_text("1 Mary moved.\nWhere is Mary?\tkitchen\t1\n")
    assert main(_argv(data, "--steps", "2")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{test_file}: line 2: expected 'N sentence'" in err
    test_file.unlink()
    assert main(_argv(data, "--steps", "2")) == 2
    assert f"{test_file}: no such file" in capsys.readouterr().err


def test_en10k_task_3_alone_is_refused_with_the_way_out(tmp_path, capsys):
    root = tmp_path / "data"
    write_task(root / "babi" / "en-10k", 3)
    (root / "babi" / "en-10k" / "qa3_three-supporting-facts_train.txt").unlink()
    assert main(_argv(root, "--babi-task", "3", "--babi-set", "en-10k", "--steps", "2")) == 2
    assert "train task 3 on the 1k set (en)" in capsys.readouterr().err


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code)


def test_babi_split_by_story_is_recorded_and_refused_off_babi(data, tmp_path, capsys):
    out = tmp_path / "story"
    assert main([*_argv(data, "--steps", "2", "--babi-split", "story", "--out", str(out))]) == 0
    assert json.loads((out / "config.json").read_text())["babi_split"] == "story"
    babi = json.loads((out / "summary.json").read_text())["babi"]
    assert babi["split"] == "story" and sum(babi["questions"][k] for k in ("train", "valid")) > 0
    plain = tmp_path / "plain"
    assert main([*_argv(data, "--steps", "2", "--out", str(plain))]) == 0
    assert json.loads((plain / "config.json").read_text())["babi_split"] == "question"
    capsys.readouterr()
    assert _exit_code(["train", "copy", "--model", "rum", "--steps", "2", "--babi-split", "story", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--babi-split: applies to task babi only" in err, err
